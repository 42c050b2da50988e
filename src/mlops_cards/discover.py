"""Which lesson files a command works on, and in which order.

`find_lessons` expands files and directories (every `*.md` below, by front-matter sort then
name). What a command reads when the user names no path is `resolve.defaults`.
"""

from __future__ import annotations

import dataclasses
import os
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from mlops_cards.errors import CardsError
from mlops_cards.models import Lesson
from mlops_cards.resolve import LESSON_SUFFIX, SIDECAR_SUFFIX

ReadLesson = Callable[[Path, str], Lesson]

# A number prefix in a file or folder name orders lessons; it is no part of their identity:
# `1. X`, `1.X`, `1.1. X`, `01-x`, `3) x` and `2_x` all give `x` (`000_30ce` gives `30ce`).
_NUMBER_PREFIX = re.compile(r"^\d+(?:\.\d+)*\s*[.)_-]?\s*")


def slugify(text: str) -> str:
    """`Introduction to MLOps` -> `introduction-to-mlops` (ASCII, dashes, never empty)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug or "lesson"


def _name_id(name: str) -> str:
    return slugify(_NUMBER_PREFIX.sub("", name) or name)


def lesson_id_from_path(path: str) -> str:
    """The file stem without its number prefix (`1.1. Foo.md` -> `foo`), slugified."""
    return _name_id(Path(path).stem)


def distinct_ids(lessons: list[Lesson]) -> list[Lesson]:
    """Lessons whose file names give the same id get their folders' names in front.

    `m1/README.md` and `m2/README.md` become `m1-readme` and `m2-readme` (a folder's number
    prefix left out like a file's, so renumbering modules changes nothing), adding folders
    upwards until the ids differ. Only ids taken from the file name change: one set by hand
    (front matter, else the YAML's `lesson: id:`, which wins later) is the author's. The result
    depends on nothing but the colliding files' own paths, not on their order; `init` pins it
    in the YAML it creates, so it also survives the other lesson's removal.
    """
    groups: dict[str, list[Lesson]] = {}
    for lesson in lessons:
        groups.setdefault(lesson.id, []).append(lesson)
    new_ids: dict[str, str] = {}
    for same in groups.values():
        named = [lesson for lesson in same if lesson.id == lesson_id_from_path(lesson.path)]
        if len(same) < 2 or not named:
            continue
        folders = {lesson.path: Path(lesson.path).resolve().parent.parts[1:] for lesson in named}
        depth = 1
        while True:
            ids = {
                path: "-".join([*(_name_id(p) for p in parts[-depth:]), lesson_id_from_path(path)])
                for path, parts in folders.items()
            }
            distinct = len(set(ids.values())) == len(ids)
            if distinct or depth >= max(len(parts) for parts in folders.values()):
                break
            depth += 1
        if distinct:
            new_ids.update(ids)
    return [
        dataclasses.replace(lesson, id=new_ids[lesson.path]) if lesson.path in new_ids else lesson
        for lesson in lessons
    ]


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
    return distinct_ids(lessons), errors


def _directory_files(directory: Path, shown: str) -> list[tuple[Path, str]]:
    """Every `*.md` file below directory, skipping hidden folders (`.git`, `.venv`) and links."""
    found = []
    for folder, subfolders, names in os.walk(directory):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        found += [Path(folder, name) for name in names if name.endswith(".md")]
    return [
        (path, os.path.join(shown, str(path.relative_to(directory))))
        for path in found
        if path.is_file() and not path.is_symlink()  # a link may lead out of the course
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
    lessons = {name for name in names if name.endswith(LESSON_SUFFIX)}
    return [
        folder / name
        for name in names
        if name.endswith(SIDECAR_SUFFIX)
        and name.removesuffix(SIDECAR_SUFFIX) + LESSON_SUFFIX not in lessons
    ]
