"""What a command's path arguments mean, for every command: lessons, sidecars, decks.

A lesson `x/lesson.md` has its author YAML (sidecar) beside it, `x/lesson.yaml`: this module is
the one place that spelling lives. A sidecar given as an argument stands for its lesson. Only
`.yaml` is read: a `.yml` file is refused wherever it is given, with the name it should have,
because silently reading or ignoring it would hide the author's answers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_cards.errors import CardsError, UsageError

if TYPE_CHECKING:
    from mlops_cards.manifest import DeckManifest
    from mlops_cards.models import Diagnostic, LessonContent

SIDECAR_SUFFIX = ".yaml"
MANIFEST_SUFFIX = SIDECAR_SUFFIX  # decks/NAME.yaml
LESSON_SUFFIX = ".md"
REFUSED_SUFFIX = ".yml"
# With no path, every command means every deck in decks/; without one, the lessons in content/
# as one ad-hoc deck (a new course repository works at once, and says how to make it a deck).
DECKS_DIR = "decks"
FALLBACK_DIR = "content"
FALLBACK_DECK = "content"  # the ad-hoc deck's name: fixed, so its deck id never changes
FALLBACK_NOTE = (
    f"note: no deck manifest in {DECKS_DIR}/: using the lessons in {FALLBACK_DIR}/ as one deck "
    f"(`mlops-cards new-deck {FALLBACK_DIR}` writes a manifest)"
)
NOTHING_HERE = (
    f"no PATH given, and neither {DECKS_DIR}/*.yaml nor {FALLBACK_DIR}/ is here "
    "(name the lessons, or set up a deck: mlops-cards new-deck LESSONS_DIR)"
)
Note = Callable[[str], None]


def _quiet(line: str) -> None:
    """The default `note`: the library says nothing; the CLI passes a printer."""


def sidecar_of(lesson: Path) -> Path:
    """`x/lesson.md` -> `x/lesson.yaml`, in the same form (relative or not) as given."""
    return lesson.with_suffix(SIDECAR_SUFFIX)


def lesson_of(sidecar: Path) -> Path:
    return sidecar.with_suffix(LESSON_SUFFIX)


def is_yaml(path: str | Path) -> bool:
    """Whether `path` names a YAML file (a sidecar or a manifest), `.yml` included."""
    return Path(path).suffix.lower() in (SIDECAR_SUFFIX, REFUSED_SUFFIX)


def refused_yaml(path: str | Path) -> str | None:
    """The message for a `.yml` file, None for any other path."""
    if Path(path).suffix.lower() != REFUSED_SUFFIX:
        return None
    return f"{path}: YAML files are read only as `{SIDECAR_SUFFIX}`: rename it to " + str(
        Path(path).with_suffix(SIDECAR_SUFFIX)
    )


def lesson_arguments(paths: Sequence[str]) -> tuple[list[str], list[str]]:
    """The lessons meant by `paths` (files or directories) and one error line per argument that
    means none: a sidecar stands for the lesson beside it."""
    lessons: list[str] = []
    failures: list[str] = []
    for path in paths:
        refused = refused_yaml(path)
        if refused:
            failures.append(refused)
        elif is_yaml(path):
            lesson = str(lesson_of(Path(path)))
            if Path(lesson).is_file():
                lessons.append(lesson)
            else:
                failures.append(f"{path}: no lesson {lesson} beside this YAML file")
        else:
            lessons.append(path)
    return lessons, failures


def adhoc_manifest(lessons: list[Path], output: Path) -> DeckManifest:
    """A deck built straight from lesson files, named after the output file."""
    from mlops_cards.identity import stable_id
    from mlops_cards.manifest import CardKinds, DeckManifest, outside_course

    name = output.stem
    here = Path.cwd().resolve()
    outside = outside_course(lessons, here)
    if outside is not None:  # never read, not even to report its errors
        raise CardsError(
            f"{outside}: lesson lies outside the current folder {here} "
            "(run mlops-cards in the folder that holds the course)"
        )
    return DeckManifest(
        path=output.with_suffix(SIDECAR_SUFFIX),
        name=name,
        deck_id=stable_id(name),
        description="",
        lessons=tuple(lessons),
        cards=CardKinds(),
        templates=None,
        output=name,
        checklists=(),  # a quick deck from lesson files: `mlops-cards checklist` makes one
    )


@dataclass(frozen=True)
class Defaults:
    """What a command given no path works on: every manifest in decks/ or, with none, the
    lessons of content/ (`lessons`, one ad-hoc deck)."""

    manifests: tuple[Path, ...]
    lessons: tuple[Path, ...] = ()


def lesson_decks(
    contents: Sequence[LessonContent], root: Path | None = None
) -> tuple[list[tuple[DeckManifest | None, list[LessonContent]]], list[Diagnostic]]:
    """`check`'s lessons by the deck they belong to: the first manifest in `root/decks` that
    lists each, else none (None, last); and the problems of manifests that cannot be read."""
    from mlops_cards.manifest import ManifestError, find_manifests, load_manifest
    from mlops_cards.models import Diagnostic

    manifests: list[DeckManifest] = []
    problems: list[Diagnostic] = []
    folder = (root or Path()) / DECKS_DIR
    for path in find_manifests(folder) if folder.is_dir() else []:
        try:
            manifests.append(load_manifest(path))
        except ManifestError as exc:
            problems.extend(exc.diagnostics)
        except CardsError as exc:
            problems.append(Diagnostic(str(path), 1, "error", str(exc)))
    # Sets: a manifest's glob lists every lesson, and a scan per lesson was quadratic.
    listed = [{Path(os.path.abspath(p)) for p in m.lessons} for m in manifests]

    def lists(paths: set[Path], lesson: Path) -> bool:  # the lesson, or a folder above it
        return lesson in paths or any(parent in paths for parent in lesson.parents)

    groups: dict[int, list[LessonContent]] = {}
    for content in contents:
        full = Path(os.path.abspath(content.lesson.path))
        deck = next((i for i, paths in enumerate(listed) if lists(paths, full)), len(manifests))
        groups.setdefault(deck, []).append(content)
    decks: list[DeckManifest | None] = [*manifests, None]
    return [(decks[i], groups[i]) for i in sorted(groups)], problems


def defaults(root: Path | None = None, note: Note = _quiet) -> Defaults:
    """The one rule for every command given no path (see `Defaults`); `note` hears the one
    line saying so when the lessons of content/ stand in for the decks. UsageError when there
    is neither."""
    from mlops_cards.manifest import find_manifests

    base = root or Path()
    manifests = find_manifests(base / DECKS_DIR)
    if manifests:
        return Defaults(tuple(Path(os.path.relpath(m, base)) for m in manifests))
    if (base / FALLBACK_DIR).is_dir():
        note(FALLBACK_NOTE)
        return Defaults((), (Path(FALLBACK_DIR),))
    raise UsageError(NOTHING_HERE)


def default_lesson_paths(root: Path | None = None, note: Note = _quiet) -> list[str]:
    """`check`'s and `checklist`'s lessons when given no path: those of every deck (in deck
    order, each once), shown relative to `root`, else content/ (`defaults`)."""
    from mlops_cards.manifest import load_manifest

    base = root or Path()
    found = defaults(base, note)
    paths: dict[str, None] = {str(p): None for p in found.lessons}  # ordered, no repeats
    for manifest in found.manifests:
        for lesson in load_manifest(base / manifest).lessons:
            paths.setdefault(os.path.relpath(lesson, base))
    return list(paths)


def lessons_or_default(paths: Sequence[str], note: Note = _quiet) -> list[str]:
    """The paths given, or with none `default_lesson_paths` of the current folder."""
    return list(paths) or default_lesson_paths(None, note)


def _manifest_paths(paths: Sequence[Path]) -> list[Path]:
    """The manifests named; `.yml` ones refused."""
    for path in paths:
        refused = refused_yaml(path)
        if refused:
            raise CardsError(refused)
    return list(paths)


def _manifests(paths: Sequence[Path]) -> list[DeckManifest]:
    """Every manifest loaded (ManifestError for a broken one)."""
    from mlops_cards.manifest import load_manifest

    return [load_manifest(p) for p in _manifest_paths(paths)]


def deck_manifests(paths: Sequence[str], output: Path, note: Note = _quiet) -> list[DeckManifest]:
    """`preview`'s decks: manifests as they are, lessons (and directories) as one ad-hoc deck
    named after `output`; a sidecar stands for the lesson beside it. No paths: `defaults`.
    Raises ManifestError (diagnostics) for a broken manifest."""
    if not paths:
        found = defaults(None, note)
        if found.lessons:
            return [adhoc_manifest(list(found.lessons), Path(FALLBACK_DECK + ".apkg"))]
        return _manifests(found.manifests)
    manifest_paths: list[Path] = []
    lessons: list[Path] = []
    for path in map(Path, paths):
        if not is_yaml(path):
            lessons.append(path)
        elif lesson_of(path).is_file() and not refused_yaml(path):
            lessons.append(lesson_of(path))
        else:
            manifest_paths.append(path)
    manifests = _manifests(manifest_paths) if manifest_paths else []
    if lessons:
        manifests.append(adhoc_manifest(lessons, output))
    return manifests


@dataclass(frozen=True)
class DeckTarget:
    """One deck to build: its manifest, where the .apkg goes, and its lock."""

    manifest: DeckManifest
    output: Path
    lock: Path


def build_targets(
    sources: Sequence[str], output: Path | None, lock: Path | None, note: Note = _quiet
) -> tuple[list[DeckTarget], Path]:
    """`build`'s decks and output folder: manifests (default: `defaults`) into -o DIR, or
    lesson files into one ad-hoc deck, -o FILE.apkg, whose SHA256SUMS and reports go beside it
    (with its lock, unless --lock says otherwise)."""
    manifest_like = [s for s in sources if is_yaml(s)]
    if manifest_like and len(manifest_like) != len(sources):
        raise UsageError("give either deck manifests (.yaml) or lesson files, not both")
    if sources and not manifest_like:
        if output is None or output.suffix != ".apkg":
            raise UsageError("building from lesson files needs `-o FILE.apkg`")
        lock_path = lock or output.with_name(output.stem + ".lock.json")
        manifest = adhoc_manifest([Path(s) for s in sources], output)
        return [DeckTarget(manifest, output, lock_path)], output.parent
    if lock is not None:
        raise UsageError("--lock is for ad-hoc decks; a manifest's lock sits beside it")
    out_dir = output or Path("dist")
    if out_dir.suffix == ".apkg":
        raise UsageError("-o is a folder when building from manifests")
    paths = _manifest_paths([Path(s) for s in sources])
    if not paths:
        found = defaults(None, note)
        if found.lessons:  # the lessons of content/: one ad-hoc deck, its lock beside it
            deck = out_dir / (FALLBACK_DECK + ".apkg")
            manifest = adhoc_manifest(list(found.lessons), deck)
            return [DeckTarget(manifest, deck, deck.with_suffix(".lock.json"))], out_dir
        paths = list(found.manifests)
    from mlops_cards.manifest import load_manifest

    manifests = [load_manifest(p) for p in paths]
    return [DeckTarget(m, out_dir / f"{m.output}.apkg", m.lock_path) for m in manifests], out_dir
