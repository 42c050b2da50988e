"""Deck manifests, `decks/<deck>.yaml`: which lessons make a deck, which card kinds, where it goes.

Paths in a manifest are relative to the manifest's folder. Loading is safe (no Python objects)
and every mistake is a Diagnostic with file:line, collected and raised together.
"""

from __future__ import annotations

import difflib
import glob
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlops_cards.errors import CardsError, DiagnosticsError
from mlops_cards.identity import stable_id
from mlops_cards.limits import MAX_YAML_BYTES, has_control_chars, read_limited, yaml_problem
from mlops_cards.models import Diagnostic
from mlops_cards.resolve import MANIFEST_SUFFIX

CARD_KINDS = ("questions", "objectives", "terms", "reverse", "cloze")
_KEYS = (
    *("name", "description", "lessons", "cards", "templates", "output", "id", "checklists"),
    "quality",
    "page_templates",
)
QUALITY_KEYS = ("max_answer_words", "max_list_items")
CHECKLIST_FORMATS = ("html", "md", "pdf")
_GLOB_CHARS = frozenset("*?[")


class ManifestError(DiagnosticsError):
    """A manifest with mistakes; `diagnostics` says where and what to do."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = tuple(sorted(diagnostics, key=Diagnostic.sort_key))
        super().__init__("", (d.format() for d in self.diagnostics))


@dataclass(frozen=True)
class CardKinds:
    """Which cards a deck holds. Reverse (definition → term) is off unless asked for."""

    questions: bool = True
    objectives: bool = True
    terms: bool = True
    reverse: bool = False
    cloze: bool = True


@dataclass(frozen=True)
class QualitySettings:
    """Thresholds of the card-quality check (quality.py), from the manifest's `quality:`."""

    max_answer_words: int = 25  # code blocks not counted
    max_list_items: int = 3


@dataclass(frozen=True)
class DeckManifest:
    path: Path  # the manifest file; None-free: ad-hoc decks get a virtual one
    name: str
    deck_id: int
    description: str
    lessons: tuple[Path, ...]  # files and directories, globs expanded, as found
    cards: CardKinds
    templates: Path | None  # None: the note types shipped in the package
    output: str  # base name of the outputs
    checklists: tuple[str, ...] = CHECKLIST_FORMATS  # formats of `<output>-checklist.<ext>`
    quality: QualitySettings = QualitySettings()
    page_templates: Path | None = None  # overrides of the checklist's page templates (pages.py)

    @property
    def lock_path(self) -> Path:
        """`decks/<deck>.lock.json` beside the manifest."""
        return self.path.with_name(self.path.stem + ".lock.json")


def project_root(manifest: Path) -> Path:
    """The course folder of a manifest: the project above `decks/`, else the manifest's folder.
    Nothing outside it is read: no lesson, no image."""
    base = manifest.parent.resolve()
    return base.parent if base.name == "decks" else base


def outside_course(lessons: tuple[Path, ...] | list[Path], root: Path) -> Path | None:
    """The first lesson path (a link is followed) that lies outside `root`, if any."""
    for lesson in lessons:
        try:
            if not lesson.resolve().is_relative_to(root):
                return lesson
        except (OSError, RuntimeError, ValueError):  # a link loop, a NUL byte
            return lesson
    return None


def find_manifests(root: Path) -> list[Path]:
    """Every `*.yaml` manifest in `root` (not below), sorted by name."""
    return sorted(p for p in root.glob("*" + MANIFEST_SUFFIX) if p.is_file())


def load_manifest(path: Path) -> DeckManifest:
    """Read and check one manifest; raise ManifestError listing every problem."""
    data = read_limited(path, MAX_YAML_BYTES, str(path), "deck manifest", "list fewer things in it")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CardsError(f"{path}: not UTF-8 (save the manifest as UTF-8)") from None
    problem = yaml_problem(text)
    if problem is not None:
        raise ManifestError(
            [
                Diagnostic(
                    str(path), problem.line, "error", problem.message, problem.hint, problem.col
                )
            ]
        )
    return _Reader(path).read(text)


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.shown = str(path)
        self.diagnostics: list[Diagnostic] = []

    def error(self, node: yaml.Node | None, message: str, hint: str | None = None) -> None:
        line, col = (node.start_mark.line + 1, node.start_mark.column + 1) if node else (1, 1)
        self.diagnostics.append(Diagnostic(self.shown, line, "error", message, hint, col))

    def read(self, text: str) -> DeckManifest:
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            values = self._top_level(root, loader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            problem = exc.problem or exc.context or "invalid YAML"
            raise ManifestError(
                [Diagnostic(self.shown, line, "error", f"invalid YAML: {problem}", None, col)]
            ) from None
        finally:
            loader.dispose()
        manifest = self._build(values, root)
        if self.diagnostics:
            raise ManifestError(self.diagnostics)
        assert manifest is not None
        return manifest

    def _top_level(
        self, root: yaml.Node | None, loader: yaml.SafeLoader
    ) -> dict[str, tuple[yaml.Node, Any]]:
        if not isinstance(root, yaml.MappingNode):
            self.error(root, "a deck manifest is a mapping", "start with `name: My Deck`")
            return {}
        values: dict[str, tuple[yaml.Node, Any]] = {}
        for key_node, value_node in root.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str) or key not in _KEYS:
                close = difflib.get_close_matches(str(key), _KEYS, n=1)
                hint = f"did you mean `{close[0]}`?" if close else f"known: {', '.join(_KEYS)}"
                self.error(key_node, f"unknown key `{key}`", hint)
            elif key in values:
                self.error(key_node, f"duplicate key `{key}`", "keep only one")
            else:
                value = loader.construct_object(value_node, deep=True)
                values[key] = (value_node, value)
        return values

    def _string(self, values: dict[str, tuple[yaml.Node, Any]], key: str) -> str | None:
        if key not in values:
            return None
        node, value = values[key]
        if not isinstance(value, str) or not value.strip():
            self.error(node, f"`{key}` must be a non-empty string")
            return None
        return value.strip()

    def _build(
        self, values: dict[str, tuple[yaml.Node, Any]], root: yaml.Node | None
    ) -> DeckManifest | None:
        name = self._string(values, "name")
        if "name" not in values and isinstance(root, yaml.MappingNode):
            self.error(
                root, "missing `name`", "the Anki deck name, e.g. `name: MLOps Fundamentals`"
            )
        if name is not None and "::" in name:
            self.error(
                values["name"][0], "`name` must not contain `::`", "subdecks are made per lesson"
            )
        description = self._string(values, "description") or ""
        output = self._string(values, "output") or self.path.stem
        if "/" in output or "\\" in output:
            self.error(values["output"][0], "`output` is a base name, not a path", "use `-o DIR`")
        elif has_control_chars(output) or output in (".", ".."):
            # A newline would forge lines of SHA256SUMS; a NUL names no file.
            self.error(
                values["output"][0],
                "`output` must be a plain file name, without control characters",
                "e.g. `output: mlops`",
            )
        templates_text = self._string(values, "templates")
        templates = self.path.parent / templates_text if templates_text else None
        if templates is not None and not templates.is_dir():
            self.error(values["templates"][0], f"templates folder `{templates_text}` not found")
        pages_text = self._string(values, "page_templates")
        page_templates = self.path.parent / pages_text if pages_text else None
        if page_templates is not None and not page_templates.is_dir():
            self.error(
                values["page_templates"][0], f"page templates folder `{pages_text}` not found"
            )
        deck_id = self._deck_id(values, name)
        lessons = self._lessons(values, root)
        cards = self._cards(values)
        checklists = self._checklists(values)
        quality = self._quality(values)
        if self.diagnostics or name is None:
            return None
        return DeckManifest(
            self.path,
            name,
            deck_id,
            description,
            lessons,
            cards,
            templates,
            output,
            checklists,
            quality,
            page_templates,
        )

    def _quality(self, values: dict[str, tuple[yaml.Node, Any]]) -> QualitySettings:
        if "quality" not in values:
            return QualitySettings()
        node, value = values["quality"]
        if not isinstance(value, dict) or not isinstance(node, yaml.MappingNode):
            self.error(
                node, "`quality` must be a mapping", "e.g. `quality: {max_answer_words: 30}`"
            )
            return QualitySettings()
        chosen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key, number = key_node.value, value.get(key_node.value)
            if key not in QUALITY_KEYS:
                close = difflib.get_close_matches(str(key), QUALITY_KEYS, n=1)
                hint = (
                    f"did you mean `{close[0]}`?" if close else f"known: {', '.join(QUALITY_KEYS)}"
                )
                self.error(key_node, f"unknown quality setting `{key}`", hint)
            elif isinstance(number, bool) or not isinstance(number, int) or number < 1:
                self.error(
                    value_node,
                    f"`quality.{key}` must be a whole number of 1 or more",
                    f"the default is {getattr(QualitySettings, key)}",
                )
            else:
                chosen[key] = number
        return QualitySettings(**chosen)

    def _checklists(self, values: dict[str, tuple[yaml.Node, Any]]) -> tuple[str, ...]:
        if "checklists" not in values:
            return CHECKLIST_FORMATS
        node, value = values["checklists"]
        formats = value or []
        if not isinstance(formats, list) or not all(f in CHECKLIST_FORMATS for f in formats):
            self.error(
                node,
                "`checklists` must be a list of formats",
                f"choose from {', '.join(CHECKLIST_FORMATS)}, or [] for none",
            )
            return ()
        return tuple(dict.fromkeys(formats))

    def _deck_id(self, values: dict[str, tuple[yaml.Node, Any]], name: str | None) -> int:
        if "id" in values:
            node, value = values["id"]
            if isinstance(value, bool) or not isinstance(value, int) or not 1 < value < 2**53:
                self.error(node, "`id` must be an integer above 1", "or leave it out")
                return 0
            return value
        return stable_id(name or "")

    def _lessons(
        self, values: dict[str, tuple[yaml.Node, Any]], root: yaml.Node | None
    ) -> tuple[Path, ...]:
        if "lessons" not in values:
            if isinstance(root, yaml.MappingNode):
                self.error(root, "missing `lessons`", "e.g. `lessons: [../content/*.md]`")
            return ()
        node, value = values["lessons"]
        entries = [value] if isinstance(value, str) else value
        if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
            self.error(node, "`lessons` must be a path, a glob or a list of them")
            return ()
        items = node.value if isinstance(node, yaml.SequenceNode) else [node] * len(entries)
        found: dict[Path, None] = {}  # ordered, and a set: `in` on a list was quadratic
        course = project_root(self.path)
        for entry, item in zip(entries, items, strict=True):
            if os.path.isabs(entry) or os.path.splitdrive(entry)[0]:
                self.error(
                    item, f"`{entry}` is an absolute path", "write it relative to the manifest"
                )
                continue
            # The folder a glob starts from must lie in the course: `../../**/*.md` does not.
            start = re.split(r"[*?\[]", entry, maxsplit=1)[0]
            if outside_course([Path(os.path.normpath(self.path.parent / start))], course):
                self.error(
                    item,
                    f"`{entry}` lies outside the course folder {course}",
                    "lessons live in the project that holds decks/",
                )
                continue
            # Nothing outside the course is a lesson, nor is a link a glob meets (as in folders).
            matches = [
                m
                for m in self._expand(entry)
                if outside_course([m], course) is None
                and not (m.is_symlink() and not _GLOB_CHARS.isdisjoint(entry))
            ]
            if not matches:
                self.error(
                    item, f"no lessons match `{entry}`", "paths are relative to the manifest"
                )
            found.update(dict.fromkeys(matches))
        return tuple(found)

    def _expand(self, entry: str) -> list[Path]:
        # normpath keeps messages short (`content/a.md`, not `decks/../content/a.md`).
        full = os.path.normpath(self.path.parent / entry)
        if _GLOB_CHARS.isdisjoint(entry):
            return [Path(full)] if os.path.exists(full) else []
        return [Path(p) for p in sorted(glob.glob(full, recursive=True))]

    def _cards(self, values: dict[str, tuple[yaml.Node, Any]]) -> CardKinds:
        if "cards" not in values:
            return CardKinds()
        node, value = values["cards"]
        if not isinstance(value, dict) or not isinstance(node, yaml.MappingNode):
            self.error(node, "`cards` must be a mapping", "e.g. `cards: {reverse: true}`")
            return CardKinds()
        chosen: dict[str, bool] = {}
        for key_node, value_node in node.value:
            key, flag = key_node.value, value.get(key_node.value)
            if key not in CARD_KINDS:
                close = difflib.get_close_matches(str(key), CARD_KINDS, n=1)
                hint = f"did you mean `{close[0]}`?" if close else f"known: {', '.join(CARD_KINDS)}"
                self.error(key_node, f"unknown card kind `{key}`", hint)
            elif not isinstance(flag, bool):
                self.error(value_node, f"`cards.{key}` must be true or false")
            else:
                chosen[key] = flag
        return CardKinds(**chosen)
