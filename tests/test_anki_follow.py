"""In the real Anki engine (issue 18): a question inserted above reviewed ones. The author keeps
the YAML as it was; every card a learner reviewed must still show its own question with its
own answer, with its reviews, and nothing is duplicated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import build_lesson_deck, run_cli
from test_anki_acceptance import answer_every_card, import_apkg, reopen, scheduling

pytest.importorskip("anki.collection")
from anki.collection import Collection

QUESTIONS = [
    "Why version models?",
    "When is batch serving enough?",
    "What is a canary release?",
    "How do you roll back?",
]
NEW = "What does a model registry hold?"


def lesson(questions: list[str]) -> str:
    lines = [f":pencil: Q{n}. {text}" for n, text in enumerate(questions, start=1)]
    return "# Serving\n\n" + "<br>\n".join(lines) + "\n"


def sidecar() -> str:
    entries = [
        f"  Q{n}:\n    question: {text}\n    answer: Answer {n}, {text.lower()}\n"
        for n, text in enumerate(QUESTIONS, start=1)
    ]
    return "lesson:\n  id: serving\nquestions:\n" + "".join(entries)


def build(root: Path, epoch: str) -> str:
    return build_lesson_deck(root, "dist/deck.apkg", epoch)


def shown(col: Collection) -> dict[int, tuple[str, str]]:
    """Note id -> (question, answer) as the note holds them."""
    return {
        nid: (col.get_note(nid)["Front"], col.get_note(nid)["Back"]) for nid in col.find_notes("")
    }


def revlog(col: Collection) -> list[Any]:
    assert col.db is not None
    return col.db.all("SELECT * FROM revlog ORDER BY id")


def test_question_inserted_above_reviewed_ones(tmp_path: Path, collection: Collection) -> None:
    root = tmp_path / "course"
    root.mkdir()
    (root / "lesson.md").write_text(lesson(QUESTIONS), encoding="utf-8")
    (root / "lesson.yaml").write_text(sidecar(), encoding="utf-8")
    build(root, "1700000000")
    apkg = root / "dist" / "deck.apkg"
    assert len(import_apkg(collection, apkg).new) == 4
    assert answer_every_card(collection, "deck") == 4
    before = shown(collection)
    assert sorted(before.values()) == sorted(
        (f"<p>{text}</p>", f"<p>Answer {n}, {text.lower()}</p>")
        for n, text in enumerate(QUESTIONS, start=1)
    )
    reviews = revlog(collection)
    cards_before = scheduling(collection)

    (root / "lesson.md").write_text(lesson([NEW, *QUESTIONS]), encoding="utf-8")
    report = build(root, "1700086400")  # the YAML is as the author left it
    assert "question Q1 is now Q2: its answer follows it" in report
    log = import_apkg(collection, apkg)
    assert (len(log.new), len(log.duplicate), len(log.conflicting)) == (0, 0, 0)

    collection = reopen(collection)
    assert shown(collection) == before  # every note shows its own question and answer
    assert collection.note_count() == 4
    assert revlog(collection) == reviews
    assert scheduling(collection) == cards_before
    collection.close()


def test_two_readme_lessons_in_different_folders(tmp_path: Path, collection: Collection) -> None:
    root = tmp_path / "course"
    for module, question in (("01-intro", "Why version models?"), ("02-ops", "How to roll back?")):
        (root / module).mkdir(parents=True)
        (root / module / "README.md").write_text(f"# {module}\n\n:pencil: Q1. {question}\n")
        (root / module / "README.yaml").write_text("questions:\n  Q1: {answer: Because.}\n")
    result = run_cli("build", ".", "-o", "deck.apkg", cwd=root, env={"SOURCE_DATE_EPOCH": "1"})
    assert result.returncode == 0, result.stderr
    log = import_apkg(collection, root / "deck.apkg")
    assert (len(log.new), len(log.duplicate), len(log.conflicting)) == (2, 0, 0)
    tags = {tag for nid in collection.find_notes("") for tag in collection.get_note(nid).tags}
    assert {"lesson::intro-readme", "lesson::ops-readme"} <= tags
