"""`check`: every lesson merged with its author YAML, every problem, and how complete it all is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mlops_cards.cache import Cache, LessonLoader
from mlops_cards.models import CardKind, Diagnostic, LessonContent
from mlops_cards.quality import check_quality

KINDS: tuple[CardKind, ...] = ("question", "objective", "term", "extra")
_SIDECAR_SUFFIXES = (".yaml", ".yml")


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
            f"{lessons} lesson{'s' if lessons != 1 else ''}: {', '.join(parts)} answered, "
            f"{extra} extra card{'s' if extra != 1 else ''}; "
            f"{_plural(self.errors, 'error')}, {_plural(self.warnings, 'warning')}"
        )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def lesson_arguments(paths: Sequence[str]) -> tuple[list[str], list[str]]:
    """The lessons meant by `paths`: a sidecar path stands for the lesson beside it."""
    lessons: list[str] = []
    failures: list[str] = []
    for path in paths:
        if path.endswith(_SIDECAR_SUFFIXES):
            lesson = str(Path(path).with_suffix(".md"))
            if Path(lesson).is_file():
                lessons.append(lesson)
            else:
                failures.append(f"{path}: no lesson {lesson} beside this YAML file")
        else:
            lessons.append(path)
    return lessons, failures


def orphan_sidecars(paths: Sequence[str]) -> list[Diagnostic]:
    """Sidecars in the given directories with no lesson beside them: answers nobody reads."""
    found: list[Diagnostic] = []
    for path in paths:
        directory = Path(path)
        if not directory.is_dir():
            continue
        for sidecar in sorted(directory.rglob("*.yaml")):
            if not sidecar.with_suffix(".md").exists():
                shown = str(Path(path) / sidecar.relative_to(directory))
                found.append(
                    Diagnostic(
                        shown,
                        1,
                        "warning",
                        f"no lesson {sidecar.with_suffix('.md').name} beside this YAML file",
                        "rename it after its lesson, or delete it",
                    )
                )
    return found


def check_paths(paths: Sequence[str], cache: Cache | None = None, jobs: int = 1) -> CheckReport:
    """Check every lesson meant by `paths`; `cache` (default: none) skips unchanged lessons,
    `jobs` > 1 spreads the others over that many processes."""
    lesson_paths, failures = lesson_arguments(paths)
    loader = LessonLoader(cache or Cache(None), jobs)
    found, errors = loader.load(lesson_paths) if lesson_paths else ([], [])
    contents = tuple(found)
    diagnostics = [d for c in contents for d in c.diagnostics]
    diagnostics.extend(orphan_sidecars(lesson_paths))
    diagnostics.extend(check_quality(contents))  # card-quality warnings, always on
    return CheckReport(
        contents,
        tuple(sorted(set(diagnostics), key=Diagnostic.sort_key)),
        tuple(failures + errors),
    )
