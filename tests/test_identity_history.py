"""Identity through the edits course teams make (issue 18), in the real Anki engine.

Each test publishes release 1, lets a learner review every card, then imports release 2 (the
lesson edited one way) over it. `upgrade` checks what must hold after every edit: no item shown
by two notes, every card that existed shows its own item and its own answer, its reviews and
scheduling untouched, every note updated to what the release says, and no card in a subdeck
other than the one its release puts it in. Each release's YAML is keyed for that release.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_cards.errors import DiagnosticsError
from mlops_cards.extract import extract_file
from mlops_cards.lockfile import Lock, read_lock
from mlops_cards.manifest import load_manifest
from mlops_cards.pipeline import DeckReport, build
from mlops_cards.resolve import DeckTarget
from mlops_cards.verify import verify_deck

pytest.importorskip("anki.collection")
from anki.cards import Card as AnkiCard
from anki.collection import (
    Collection,
    ImportAnkiPackageOptions,
    ImportAnkiPackageRequest,
)
from anki.scheduler.v3 import CardAnswer

QUESTIONS = {
    "qa": "Which command lists the installed Python packages?",
    "qb": "Why should a model registry keep every version of a model?",
    "qc": "How does continuous integration catch a broken build early?",
    "qd": "What is the purpose of a Dockerfile in deployment?",
    "qn": "When would you prefer batch scoring over a live endpoint?",
}
OBJECTIVES = {
    "oa": "Explain the difference between training and serving.",
    "ob": "Describe how experiment tracking supports reproducibility.",
    "oc": "Set up a virtual environment for a project.",
    "od": "Write a unit test for a data validation function.",
    "on": "Compare blue-green and canary deployments.",
}
TERMS = {
    "tf": "a named selection of features that a feature store serves together",
    "tg": "a system that records the parameters and metrics of every training run",
}
DECK = "Course"


def lesson(
    title: str,
    sort: int | None = None,
    questions: tuple[tuple[str | None, str], ...] = (),
    objectives: tuple[str, ...] = (),
    terms: tuple[tuple[str, str], ...] = (),
) -> str:
    """A lesson's Markdown: (label or None, item) questions, objective items, (name, item)
    terms; items are keys of the catalogues above."""
    lines = ["---", f"sort: {sort}", "---"] if sort is not None else []
    lines += [f"# {title}", ""]
    if objectives:
        lines += ["## Learning Objectives", ""]
        lines += [f"- [ ] {OBJECTIVES[o]}" for o in objectives] + [""]
    lines += ["## Exercises", ""]
    for label, item in questions:
        lines += [f":pencil: {label + '. ' if label else ''}{QUESTIONS[item]}", ""]
    for name, item in terms:
        lines += [f":bell: **{name}**: {TERMS[item]}", ""]
    return "\n".join(lines)


def sidecar(md: Path) -> str:
    """Answers for every question and objective of the lesson, keyed as it is now."""
    extracted = extract_file(md)
    items = {text: name for name, text in (*QUESTIONS.items(), *OBJECTIVES.items())}
    data: dict[str, Any] = {}
    for group, entries, field in (
        ("questions", extracted.questions, "question"),
        ("objectives", extracted.objectives, "objective"),
    ):
        if entries:
            data[group] = {
                e.key: {field: e.text, "answer": f"The reply is zz{items[e.text]}."}
                for e in entries
            }
    return yaml.safe_dump(data, sort_keys=False)


@dataclass
class Release:
    report: DeckReport
    lock: Lock


class Course:
    """A course folder whose lessons are replaced wholesale for each release."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.monkeypatch = monkeypatch
        (root / "decks").mkdir(parents=True)
        (root / "decks" / "course.yaml").write_text(
            f"name: {DECK}\nlessons: ['../content/**/*.md']\noutput: course\n", encoding="utf-8"
        )
        self.number = 0

    def release(self, lessons: dict[str, str], frozen: bool = False) -> Release:
        content = self.root / "content"
        shutil.rmtree(content, ignore_errors=True)
        for name, text in lessons.items():
            md = content / name
            md.parent.mkdir(parents=True, exist_ok=True)
            md.write_text(text, encoding="utf-8")
            md.with_suffix(".yaml").write_text(sidecar(md), encoding="utf-8")
        self.number += 1
        self.monkeypatch.setenv("SOURCE_DATE_EPOCH", str(1_700_000_000 + 86_400 * self.number))
        manifest = load_manifest(self.root / "decks" / "course.yaml")
        out = self.root / f"v{self.number}"
        target = DeckTarget(manifest, out / "course.apkg", manifest.lock_path)
        (report,) = build([target], out, frozen=frozen).decks
        return Release(report, read_lock(manifest.lock_path))


def identify(note: Any) -> tuple[str, str]:
    """(item, answer) a note shows: the catalogue item whose text it holds, the zz marker."""
    text = " ".join(note.fields)
    found = [
        name
        for name, item in (*QUESTIONS.items(), *OBJECTIVES.items(), *TERMS.items())
        if item in text
    ]
    assert len(found) == 1, text
    marker = re.search(r"zz(\w+)", text)
    return found[0], marker.group(1) if marker else found[0]


def import_apkg(col: Collection, apkg: Path) -> None:
    request = ImportAnkiPackageRequest(package_path=str(apkg), options=ImportAnkiPackageOptions())
    col.import_anki_package(request)


def review_everything(col: Collection) -> int:
    deck_id = col.decks.id_for_name(DECK)
    assert deck_id is not None
    col.decks.set_current(deck_id)
    sched: Any = col.sched  # typed optional by Anki; a real collection has one
    answered = 0
    while queued := sched.get_queued_cards().cards:
        card = AnkiCard(col)
        card._load_from_backend_card(queued[0].card)
        card.start_timer()
        sched.answer_card(
            sched.build_answer(card=card, states=queued[0].states, rating=CardAnswer.EASY)
        )
        answered += 1
    return answered


def shown(col: Collection) -> dict[int, tuple[str, str, str]]:
    """Card id -> (item, answer, subdeck) for every card of the collection."""
    result: dict[int, tuple[str, str, str]] = {}
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        item, answer = identify(card.note())
        result[cid] = (item, answer, col.decks.name(card.did))
    return result


def check_collection(col: Collection, release: Release) -> None:
    notes = [col.get_note(nid) for nid in col.find_notes("")]
    kinds = Counter((identify(n)[0], n.note_type()["name"]) for n in notes)  # type: ignore[index]
    assert [k for k, n in kinds.items() if n > 1] == []  # no item shown by two notes
    by_guid = {n.guid: n for n in notes}
    for guid, entry in release.lock.notes.items():
        note = by_guid[guid]
        if not entry.retired:
            assert tuple(note.fields) == entry.fields  # updated to what the release says
        for card in note.cards():
            assert col.decks.name(card.did) == entry.deck  # where the release puts it


def upgrade(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    collection: Collection,
    first: dict[str, str],
    second: dict[str, str],
) -> tuple[Release, Release]:
    """Release 1, every card reviewed, release 2 imported over it; checks what must hold."""
    course = Course(tmp_path / "course", monkeypatch)
    v1 = course.release(first)
    import_apkg(collection, v1.report.output)
    check_collection(collection, v1)
    assert review_everything(collection) == collection.card_count()
    before = shown(collection)
    db: Any = collection.db  # typed optional by Anki; an open collection has one
    revlog = db.all("SELECT * FROM revlog ORDER BY id")
    scheduling = db.all(
        "SELECT id, nid, type, queue, due, ivl, factor, reps, lapses FROM cards ORDER BY id"
    )

    v2 = course.release(second)
    import_apkg(collection, v2.report.output)
    after = shown(collection)
    for cid, (item, answer, _) in before.items():
        assert after[cid][:2] == (item, answer), f"card of {item} now shows {after[cid]}"
    assert db.all("SELECT * FROM revlog ORDER BY id") == revlog
    kept = db.all(
        "SELECT id, nid, type, queue, due, ivl, factor, reps, lapses FROM cards ORDER BY id"
    )
    assert [row for row in kept if row[0] in before] == scheduling
    check_collection(collection, v2)
    return v1, v2


def items(release: Release) -> Counter[str]:
    return Counter(f"{e.kind}:{e.key}" for e in release.lock.notes.values() if not e.retired)


def test_insert_a_question_above_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collection: Collection
) -> None:
    first = {"one.md": lesson("One", 1, (("Q1", "qa"), ("Q2", "qb"), ("Q3", "qc")))}
    second = {"one.md": lesson("One", 1, (("Q1", "qn"), ("Q2", "qa"), ("Q3", "qb"), ("Q4", "qc")))}
    _, v2 = upgrade(tmp_path, monkeypatch, collection, first, second)
    assert len(v2.report.new) == 1 and v2.report.retired == ()
    assert "renumbered: one/question/Q3 → one/question/Q4" in v2.report.identity


def test_delete_a_question(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collection: Collection
) -> None:
    first = {"one.md": lesson("One", 1, (("Q1", "qa"), ("Q2", "qb"), ("Q3", "qc")))}
    second = {"one.md": lesson("One", 1, (("Q1", "qa"), ("Q2", "qc")))}
    _, v2 = upgrade(tmp_path, monkeypatch, collection, first, second)
    assert v2.report.new == () and v2.report.retired == ("one/question/Q2",)
    assert v2.report.identity == ("renumbered: one/question/Q3 → one/question/Q2",)


def test_swap_two_questions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collection: Collection
) -> None:
    first = {"one.md": lesson("One", 1, (("Q1", "qa"), ("Q2", "qb")))}
    second = {"one.md": lesson("One", 1, (("Q1", "qb"), ("Q2", "qa")))}
    _, v2 = upgrade(tmp_path, monkeypatch, collection, first, second)
    assert v2.report.new == () and v2.report.retired == ()
    assert v2.report.identity == ("swapped: one/question/Q1 ↔ Q2",)


def test_delete_insert_and_reorder_objectives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collection: Collection
) -> None:
    first = {"one.md": lesson("One", 1, objectives=("oa", "ob", "oc", "od"))}
    second = {"one.md": lesson("One", 1, objectives=("ob", "on", "od", "oc"))}
    _, v2 = upgrade(tmp_path, monkeypatch, collection, first, second)
    assert v2.report.new == ("one/objective/2",) and v2.report.retired == ("one/objective/1",)


def test_label_questions_that_had_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collection: Collection
) -> None:
    first = {"one.md": lesson("One", 1, ((None, "qa"), (None, "qb")))}
    second = {"one.md": lesson("One", 1, (("Q1", "qa"), ("2a", "qb")))}
    v1, v2 = upgrade(tmp_path, monkeypatch, collection, first, second)
    assert v2.report.new == () and v2.report.retired == ()
    assert set(v1.lock.notes) == set(v2.lock.notes)
    assert v2.report.identity == (
        "relabelled: one/question/q1 → one/question/Q1",
        "relabelled: one/question/q2 → one/question/2a",
    )
    upgrade_seen = verify_deck(v2.report.output, previous=v1.report.output).upgrade
    assert upgrade_seen is not None and upgrade_seen.identity == (
        "relabelled: one/question/(no label) → one/question/2a",
        "relabelled: one/question/(no label) → one/question/Q1",
    )


def test_rename_a_lesson_file_with_its_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collection: Collection
) -> None:
    text = lesson("Testing", 4, (("Q1", "qa"), ("Q2", "qb")), ("oa",), (("Feature view", "tf"),))
    first = {"04-testing.md": text}
    second = {"04-testing-ml-code.md": text}
    v1, v2 = upgrade(tmp_path, monkeypatch, collection, first, second)
    assert set(v1.lock.notes) == set(v2.lock.notes)
    assert v2.report.new == () and v2.report.retired == ()
    assert v2.report.identity == ("renamed lesson: testing → testing-ml-code",)
    upgrade_seen = verify_deck(v2.report.output, previous=v1.report.output).upgrade
    assert upgrade_seen is not None and upgrade_seen.new == 0
    moved = f"moved: {len(v1.lock.notes)} note(s) from lesson testing → testing-ml-code"
    assert upgrade_seen.identity == (moved,)


def test_move_a_lesson_to_another_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collection: Collection
) -> None:
    text = lesson("Testing", 4, (("Q1", "qa"), ("Q2", "qb")), ("oa",))
    v1, v2 = upgrade(
        tmp_path, monkeypatch, collection, {"testing.md": text}, {"module-2/testing.md": text}
    )
    assert set(v1.lock.notes) == set(v2.lock.notes) and v2.report.new == ()
    (event,) = v2.report.identity
    assert event.startswith("moved lesson file: testing: ") and "module-2" in event


def test_rename_a_term(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collection: Collection
) -> None:
    first = {"one.md": lesson("One", 1, terms=(("Feature view", "tf"), ("Tracker", "tg")))}
    second = {"one.md": lesson("One", 1, terms=(("Feature views", "tf"), ("Tracker", "tg")))}
    v1, v2 = upgrade(tmp_path, monkeypatch, collection, first, second)
    assert set(v1.lock.notes) == set(v2.lock.notes) and v2.report.new == ()
    assert v2.report.identity == ("renamed term: one/term/Feature view → one/term/Feature views",)


def test_split_a_lesson_in_two(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collection: Collection
) -> None:
    all_four = (("Q1", "qa"), ("Q2", "qb"), ("Q3", "qc"), ("Q4", "qd"))
    first = {"one.md": lesson("One", 1, all_four)}
    second = {
        "one.md": lesson("One", 1, all_four[:2]),
        "two.md": lesson("Two", 2, (("Q1", "qc"), ("Q2", "qd"), ("Q3", "qn"))),
    }
    _, v2 = upgrade(tmp_path, monkeypatch, collection, first, second)
    assert v2.report.new == ("two/question/Q3",) and v2.report.retired == ()
    assert "split: one → one, two" in v2.report.identity
    # Lesson two's new question goes where its other cards are: one subdeck for the lesson.
    decks = {e.deck for e in v2.lock.notes.values() if e.lesson == "two"}
    assert decks == {f"{DECK}::01 One"}


def test_merge_two_lessons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collection: Collection
) -> None:
    first = {
        "one.md": lesson("One", 1, (("Q1", "qa"), ("Q2", "qb"))),
        "two.md": lesson("Two", 2, (("Q1", "qc"), ("Q2", "qd"))),
    }
    second = {"one.md": lesson("One", 1, (("Q1", "qa"), ("Q2", "qb"), ("Q3", "qc"), ("Q4", "qd")))}
    _, v2 = upgrade(tmp_path, monkeypatch, collection, first, second)
    assert v2.report.new == () and v2.report.retired == ()
    assert v2.report.identity == ("merged: one, two → one",)


def test_move_a_question_to_another_lesson(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collection: Collection
) -> None:
    first = {
        "one.md": lesson("One", 1, (("Q1", "qa"), ("Q2", "qb"))),
        "two.md": lesson("Two", 2, (("Q1", "qc"),)),
    }
    second = {
        "one.md": lesson("One", 1, (("Q1", "qa"),)),
        "two.md": lesson("Two", 2, (("Q1", "qc"), ("Q2", "qb"))),
    }
    _, v2 = upgrade(tmp_path, monkeypatch, collection, first, second)
    assert v2.report.new == () and v2.report.retired == ()
    assert v2.report.identity == ("moved: one/question/Q2 → two/question/Q2",)


def test_change_sort_and_title(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collection: Collection
) -> None:
    first = {"one.md": lesson("One", 1, (("Q1", "qa"),), ("oa",))}
    second = {"one.md": lesson("First Steps", 3, (("Q1", "qa"), ("Q2", "qb")), ("oa",))}
    _, v2 = upgrade(tmp_path, monkeypatch, collection, first, second)
    assert v2.report.new == ("one/question/Q2",)
    assert {e.deck for e in v2.lock.notes.values()} == {f"{DECK}::01 One"}
    assert v2.report.subdecks_kept == (
        f"one: kept subdeck '{DECK}::01 One' (its sort and title now make "
        f"'{DECK}::03 First Steps')",
    )
    assert collection.decks.id_for_name(f"{DECK}::03 First Steps") is None


def test_frozen_build_says_what_moved_and_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    course = Course(tmp_path / "course", monkeypatch)
    text = lesson("Testing", 4, (("Q1", "qa"), ("Q2", "qb")))
    course.release({"04-testing.md": text})
    with pytest.raises(DiagnosticsError) as failed:
        course.release({"04-testing-ml-code.md": text}, frozen=True)
    message = str(failed.value).splitlines()[0]
    assert message.endswith(
        "the lock would change (--frozen): published notes now belong to items that moved "
        "(renamed lesson: testing → testing-ml-code); learners keep their cards and history. "
        "Build without --frozen, check the identity events in the report and commit the lock"
    )
