"""Which lesson files a command works on, and in which order.

`find_lessons` expands files and directories (every `*.md` below, by front-matter sort then
name); `default_lesson_paths` is what a command reads when the user names no path: every lesson
of every deck manifest in `decks/`, with no manifest everything under `content/`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from mlops_cards.errors import CardsError, UsageError
from mlops_cards.manifest import find_manifests, load_manifest
from mlops_cards.models import Lesson

ReadLesson = Callable[[Path, str], Lesson]


def default_lesson_paths(root: Path) -> list[str]:
    """Lesson paths (files or directories) of every deck in `root`, shown relative to `root`."""
    manifests = find_manifests(root / "decks")
    if not manifests:
        if (root / "content").is_dir():
            return ["content"]
        raise UsageError("no PATH given, and neither decks/*.yaml nor content/ is here")
    paths: dict[str, None] = {}  # ordered and without repeats
    for manifest in manifests:
        for lesson in load_manifest(manifest).lessons:
            paths.setdefault(os.path.relpath(lesson, root))
    return list(paths)


def lesson_files(paths: Sequence[str]) -> Iterator[tuple[Path, str]]:
    """(file, path as shown) for every lesson file `find_lessons` reads, directories expanded."""
    for shown in paths:
        path = Path(shown)
        if path.is_dir():
            yield from _directory_files(path, shown)
        elif path.exists():
            yield path, shown


def find_lessons(paths: Sequence[str], read: ReadLesson) -> tuple[list[Lesson], list[str]]:
    """Lessons for files and directories, each read by `read(path, shown)`.

    Returns the lessons that could be read and one error line per path that could not.
    """
    lessons: list[Lesson] = []
    errors: list[str] = []
    for shown in paths:
        path = Path(shown)
        if path.is_dir():
            found, failed = _directory_lessons(path, shown, read)
            lessons.extend(found)
            errors.extend(failed)
        elif not path.exists():
            errors.append(f"{shown}: no such file or directory")
        else:
            try:
                lessons.append(read(path, shown))
            except CardsError as exc:
                errors.append(str(exc))
    return lessons, errors


def _directory_files(directory: Path, shown: str) -> list[tuple[Path, str]]:
    """Every `*.md` file below directory, skipping hidden folders (`.git`, `.venv`) and links."""
    found = []
    for folder, subfolders, names in os.walk(directory):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        found += [Path(folder, name) for name in names if name.endswith(".md")]
    return [
        (path, os.path.join(shown, str(path.relative_to(directory))))
        for path in found
        if path.is_file()
    ]


def _directory_lessons(
    directory: Path, shown: str, read: ReadLesson
) -> tuple[list[Lesson], list[str]]:
    lessons: list[Lesson] = []
    errors: list[str] = []
    files = _directory_files(directory, shown)
    if not files:
        return [], [f"{shown}: no lessons (*.md files) in this directory"]
    for file, file_shown in files:
        try:
            lessons.append(read(file, file_shown))
        except CardsError as exc:
            errors.append(str(exc))
    lessons.sort(
        key=lambda lesson: (
            lesson.sort is None,
            lesson.sort if lesson.sort is not None else 0,
            _natural_key(Path(lesson.path).relative_to(shown).as_posix()),
        )
    )
    return lessons, sorted(errors)


def _natural_key(name: str) -> list[tuple[int, int | str]]:
    """`2. b` before `10. a`: numbers inside names compare as numbers."""
    return [
        (0, int(part)) if part.isdigit() else (1, part.lower())
        for part in re.split(r"(\d+)", name)
        if part
    ]


def leftover_sidecars(folder: Path) -> list[Path]:
    """Author YAML files in `folder` with no lesson beside them (`x.yaml` without `x.md`)."""
    try:
        names = sorted(entry.name for entry in os.scandir(folder) if entry.is_file())
    except OSError:
        return []
    lessons = {name for name in names if name.endswith(".md")}
    return [
        folder / name
        for name in names
        if name.endswith(".yaml") and name.removesuffix(".yaml") + ".md" not in lessons
    ]
