"""The extractor: every construct of the lesson dialect, on fixture lessons and the seed."""

from __future__ import annotations

from pathlib import Path

from conftest import SEED
from mlops_cards.extract import extract_file


def test_seed_lesson(corpus: Path) -> None:
    lesson = extract_file(SEED)
    assert lesson.title == "Introduction to MLOps"
    assert lesson.sort == 1
    assert [(o.key, o.line) for o in lesson.objectives] == [
        ("1", 13),
        ("2", 14),
        ("3", 15),
        ("4", 16),
    ]
    assert lesson.objectives[0].text == "Define what MLOps is."
    assert [(q.key, q.label, q.text, q.line) for q in lesson.questions] == [
        ("Q1", "Q1", "What is MLOps?", 41),
        ("Q2", "Q2", "What are the main components of MLOps?", 42),
        ("Q3", "Q3", "List 3 MLOps Tool for experiment tracking.", 43),
    ]
    assert lesson.terms == ()
    assert [t.line for t in lesson.tasks] == [33, 34, 38, 39]
    assert lesson.tasks[0].text.startswith("[MLOps: What It Is")
    assert lesson.tasks[2].text.endswith("on DataCamp")
    assert lesson.diagnostics == ()
