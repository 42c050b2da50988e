"""`check`: every lesson merged with its author YAML, every problem, and how complete it all is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_cards.cache import Cache
from mlops_cards.errors import CardsError
from mlops_cards.models import CardKind, Diagnostic, LessonContent
from mlops_cards.quality import deck_quality
from mlops_cards.resolve import (
    REFUSED_SUFFIX,
    SIDECAR_SUFFIX,
    lesson_arguments,
    lesson_decks,
    lesson_of,
)
from mlops_cards.stages import Loaded, diagnostics, load_lessons, rendering_diagnostics
from mlops_cards.text import plural

if TYPE_CHECKING:
    from mlops_cards.manifest import DeckManifest

KINDS: tuple[CardKind, ...] = ("question", "objective", "term", "extra")


@dataclass(frozen=True)
class KindCount:
    answered: int  # cards made
    total: int  # answered + unanswered; skipped items are not counted
    skipped: int


@dataclass(frozen=True)
class CheckReport:
    contents: tuple[LessonContent, ...]
    diagnostics: tuple[Diagnostic, ...]  # sorted by file, line, column
    failures: tuple[str, ...] = ()  # whole paths that could not be read, one line each

    @property
    def errors(self) -> int:
        return len(self.failures) + sum(d.level == "error" for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return sum(d.level == "warning" for d in self.diagnostics)

    def count(self, kind: CardKind) -> KindCount:
        answered = sum(card.kind == kind for c in self.contents for card in c.cards)
        missing = sum(u.kind == kind for c in self.contents for u in c.unanswered)
        skipped = sum(k == kind for c in self.contents for k, _ in c.skipped)
        return KindCount(answered, answered + missing, skipped)

    def summary(self) -> dict[str, object]:
        result: dict[str, object] = {"lessons": len(self.contents)}
        for kind in KINDS:
            count = self.count(kind)
            result[kind + "s"] = {
                "answered": count.answered,
                "total": count.total,
                "skipped": count.skipped,
            }
        result["errors"] = self.errors
        result["warnings"] = self.warnings
        return result

    def summary_line(self) -> str:
        lessons = len(self.contents)
        parts = []
        for kind in KINDS[:3]:
            count = self.count(kind)
            skipped = f" ({count.skipped} skipped)" if count.skipped else ""
            parts.append(f"{kind}s {count.answered}/{count.total}{skipped}")
        extra = self.count("extra").answered
        return (
            f"{plural(lessons, 'lesson')}: {', '.join(parts)} answered, "
            f"{plural(extra, 'extra card')}; "
            f"{plural(self.errors, 'error')}, {plural(self.warnings, 'warning')}"
        )


def orphan_sidecars(paths: Sequence[str]) -> list[Diagnostic]:
    """Sidecars in the given directories with no lesson beside them: answers nobody reads."""
    found: list[Diagnostic] = []
    for path in paths:
        directory = Path(path)
        if not directory.is_dir():
            continue
        for sidecar in sorted(directory.rglob("*" + SIDECAR_SUFFIX)):
            if not lesson_of(sidecar).exists():
                shown = str(Path(path) / sidecar.relative_to(directory))
                found.append(
                    Diagnostic(
                        shown,
                        1,
                        "warning",
                        f"no lesson {lesson_of(sidecar).name} beside this YAML file",
                        "rename it after its lesson, or delete it",
                    )
                )
        for wrong in sorted(directory.rglob("*" + REFUSED_SUFFIX)):
            if lesson_of(wrong).exists():
                shown = str(Path(path) / wrong.relative_to(directory))
                right = wrong.with_suffix(SIDECAR_SUFFIX).name
                message = f"not read: author YAML is read only from {right}"
                found.append(Diagnostic(shown, 1, "warning", message, f"rename it to {right}"))
    return found


def check_paths(paths: Sequence[str], cache: Cache | None = None, jobs: int = 1) -> CheckReport:
    """Check every lesson meant by `paths`, and the deck they make together; `cache` (default:
    none) skips unchanged lessons, `jobs` > 1 spreads the others over that many processes."""
    lesson_paths, failures = lesson_arguments(paths)
    loaded = load_lessons(lesson_paths, cache, jobs)
    found = diagnostics(loaded) + orphan_sidecars(lesson_paths)
    # Each lesson's deck (manifests that cannot be read are reported, their lessons get none).
    groups, problems = lesson_decks(loaded.contents)
    found += problems + deck_quality(groups, cache, loaded.keys, jobs)  # always on
    found += _rendering_errors(loaded, groups, found, cache, jobs)
    return CheckReport(
        loaded.contents,
        tuple(sorted(set(found), key=Diagnostic.sort_key)),
        tuple(failures) + loaded.failures,
    )


def _rendering_errors(
    loaded: Loaded,
    groups: list[tuple[DeckManifest | None, list[LessonContent]]],
    found: list[Diagnostic],
    cache: Cache | None,
    jobs: int,
) -> list[Diagnostic]:
    """What rendering the cards finds (an image that is not there, ...), deck by deck as
    `build` renders them; lessons that already have errors are left to those."""
    from mlops_cards.resolve import adhoc_manifest

    broken = {d.path for d in found if d.level == "error"}
    result: list[Diagnostic] = []
    for manifest, contents in groups:
        sound = tuple(c for c in contents if not {c.lesson.path, c.sidecar} & broken)
        if not sound:
            continue
        if manifest is None:
            try:
                manifest = adhoc_manifest([Path(c.lesson.path) for c in sound], Path("check.apkg"))
            except CardsError:  # lessons outside this folder: no build here would render them
                continue
        result += rendering_diagnostics(manifest, replace(loaded, contents=sound), cache, jobs)
    return result
