"""The checklists a build keeps in the cache: found again when only the time of day changed,
and, after one lesson's edit, made again from the other lessons' kept pages (checklist_stage.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_cards import checklist, checklist_stage, pipeline
from mlops_cards.cache import Cache
from mlops_cards.manifest import load_manifest
from mlops_cards.resolve import DeckTarget

LESSON = """\
---
sort: {n}
---
# Lesson {n}

## Learning Objectives

- [ ] Say what step {n} is for, with `code` and **bold**.

## Tasks

- [ ] Do step {n}

:bell: **Term {n}**: what step {n} means.

:pencil: Q1. Why step {n}?
"""

SIDECAR = """\
questions:
  Q1:
    answer: Because of *step {n}*.
objectives:
  1:
    answer: It is for step {n}.
"""


def course(root: Path, lessons: int = 3) -> DeckTarget:
    (root / "course").mkdir(parents=True)
    for n in range(1, lessons + 1):
        (root / "course" / f"{n}. Lesson {n}.md").write_text(LESSON.format(n=n), encoding="utf-8")
        (root / "course" / f"{n}. Lesson {n}.yaml").write_text(
            SIDECAR.format(n=n), encoding="utf-8"
        )
    (root / "decks").mkdir()
    (root / "decks" / "c.yaml").write_text(
        "name: C\nlessons: [../course/*.md]\noutput: c\nchecklists: [html, md]\n", encoding="utf-8"
    )
    manifest = load_manifest(root / "decks" / "c.yaml")
    return DeckTarget(manifest, root / "dist" / "c.apkg", manifest.lock_path)


def counting(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[object]:
    calls: list[object] = []
    real = getattr(module, name)

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(args[0] if args else None)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def outputs(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "dist").iterdir())}


def test_a_build_later_the_same_day_finds_the_checklists_in_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = course(tmp_path)
    cache = Cache(tmp_path / "cache")
    made = counting(monkeypatch, checklist_stage, "_make_checklists")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14 22:13:20 UTC
    pipeline.build([target], tmp_path / "dist", cache=cache)
    first = outputs(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700001000")  # 17 minutes later, the same date
    pipeline.build([target], tmp_path / "dist", cache=cache)
    assert len(made) == 1
    assert outputs(tmp_path)["c-checklist.html"] == first["c-checklist.html"]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700100000")  # the next day: a new cover date
    pipeline.build([target], tmp_path / "dist", cache=cache)
    assert len(made) == 2
    assert b"Built 2023-11-16" in outputs(tmp_path)["c-checklist.html"]


def test_after_one_lesson_is_edited_only_its_sheet_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = course(tmp_path, lessons=4)
    cache = Cache(tmp_path / "cache")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    pipeline.build([target], tmp_path / "dist", cache=cache)
    sheets = counting(monkeypatch, checklist, "sheet_for")
    pages = counting(monkeypatch, checklist, "_lesson_html")
    edited = tmp_path / "course" / "3. Lesson 3.md"
    edited.write_text(edited.read_text().replace("Do step 3", "Do step 3 twice"))
    pipeline.build([target], tmp_path / "dist", cache=cache)
    assert [s.lesson.id for s in sheets] == ["lesson-3"]  # type: ignore[attr-defined]
    assert [job[0].lesson_id for job in pages] == ["lesson-3"]  # type: ignore[index]
    warm = outputs(tmp_path)
    assert b"Do step 3 twice" in warm["c-checklist.html"]
    pipeline.build([target], tmp_path / "dist", cache=Cache(None))  # every part made afresh
    assert outputs(tmp_path) == warm
    assert len(sheets) == 5
