"""The matching stage: which published note each item of a build is (no Anki needed here;
tests/test_identity_history.py imports the results into the real engine)."""

from __future__ import annotations

import random
from dataclasses import replace

from deck_helpers import MODEL_ID, QUESTION
from mlops_cards.deckdata import DeckNote
from mlops_cards.identity import note_guid
from mlops_cards.lockfile import Lock, lock_differences, update_lock
from mlops_cards.matching import (
    CROSS_LESSON,
    FUZZY,
    Matched,
    frozen_message,
    match_notes,
    normalise,
    similarity,
)
from mlops_cards.models import Card, Lesson, LessonContent
from mlops_cards.notes import LessonDeck

# (key, front, answer, formerly) questions by lesson id
Items = dict[str, list[tuple[str, str, str] | tuple[str, str, str, tuple[str, ...]]]]

PYPI = "Publish your project to PyPI and share it with the class."
PYPI_TEST = "Publish your project to PyPI Test and share it with the class."
TRACKING = "List 3 MLOps Tool for experiment tracking."
TRACKING_REWORDED = "List 3 MLOps Tools for experiment tracking."
LONG = "Name three tools that track experiments and say what each one records about a run."
LONG_REWORDED = "Name three tools that track experiments and say what each one stores about a run."


def release(
    items: Items, old: Lock, lesson_formerly: dict[str, tuple[str, ...]] | None = None
) -> tuple[Matched, Lock]:
    lessons, notes = [], []
    for number, (lesson_id, questions) in enumerate(items.items(), 1):
        cards = tuple(
            Card(lesson_id, "question", q[0], q[1], q[2], formerly=q[3] if len(q) > 3 else ())
            for q in questions
        )
        content = LessonContent(
            Lesson(f"{lesson_id}.md", lesson_id, lesson_id.title(), number),
            None,
            cards,
            formerly=(lesson_formerly or {}).get(lesson_id, ()),
        )
        subdeck = f"Deck::{number:02d} {lesson_id.title()}"
        lessons.append(LessonDeck(content, number, subdeck))
        for card in cards:
            notes.append(
                DeckNote(
                    guid=note_guid(lesson_id, "question", card.key),
                    lesson_id=lesson_id,
                    kind="question",
                    key=card.key,
                    notetype=MODEL_ID,
                    fields=(f"<p>{card.front}</p>", f"<p>{card.back}</p>", card.key, "", "", ""),
                    tags=(),
                    deck=subdeck,
                )
            )
    matched = match_notes(old, notes, lessons, [QUESTION])
    lock = update_lock(matched.old_lock, matched.notes, [QUESTION], 1000, texts=matched.texts).lock
    return matched, lock


def guids(matched: Matched) -> dict[str, str]:
    return {f"{n.lesson_id}/{n.key}": n.guid for n in matched.notes}


def test_normalise_and_similarity() -> None:
    assert normalise("<p>Use <code>black&nbsp;--check</code>\n  NOW</p>") == "use black --check now"
    assert similarity(normalise(TRACKING), normalise(TRACKING_REWORDED)) >= FUZZY
    assert similarity("explain ci", "set up a virtual environment") < 0.2


def test_renumbered_question_takes_its_own_note_not_the_old_key() -> None:
    first, lock = release({"one": [("Q1", "alpha?", "a"), ("Q2", "beta?", "b")]}, Lock())
    second, _ = release(
        {"one": [("Q1", "new?", "n"), ("Q2", "alpha?", "a"), ("Q3", "beta?", "b")]}, lock
    )
    before, after = guids(first), guids(second)
    assert after["one/Q2"] == before["one/Q1"] and after["one/Q3"] == before["one/Q2"]
    # The new Q1 is a new note, with a GUID nobody had (its derived one is Q1's).
    assert after["one/Q1"] not in before.values()
    assert after["one/Q1"] == note_guid("one", "question", "Q1\x1f2")
    assert second.events == (
        "renumbered: one/question/Q1 → one/question/Q2",
        "renumbered: one/question/Q2 → one/question/Q3",
    )


def test_reworded_in_place_keeps_its_note_and_unrelated_text_does_not() -> None:
    first, lock = release({"one": [("Q1", TRACKING, "a"), ("Q2", PYPI, "b")]}, Lock())
    second, _ = release(
        {"one": [("Q1", TRACKING_REWORDED, "a"), ("Q2", "Explain CI to a colleague.", "c")]},
        lock,
    )
    assert guids(second)["one/Q1"] == guids(first)["one/Q1"]
    assert guids(second)["one/Q2"] != guids(first)["one/Q2"]  # a different question


def test_moved_and_reworded_within_a_lesson() -> None:
    first, lock = release({"one": [("Q1", PYPI, "a"), ("Q2", TRACKING, "b")]}, Lock())
    second, _ = release(
        {"one": [("Q1", PYPI, "a"), ("Q2", "Explain CI.", "c"), ("Q3", TRACKING_REWORDED, "b")]},
        lock,
    )
    assert guids(second)["one/Q3"] == guids(first)["one/Q2"]
    assert guids(second)["one/Q2"] not in guids(first).values()


def test_never_joins_near_twins_when_one_was_deleted() -> None:
    # Real lessons hold different questions 0.98 alike: the survivor matches exactly; the
    # deleted twin is not given to an unrelated new question.
    first, lock = release({"one": [("Q1", PYPI, "a"), ("Q2", PYPI_TEST, "b")]}, Lock())
    second, _ = release({"one": [("Q1", PYPI_TEST, "b"), ("Q2", "Explain CI.", "c")]}, lock)
    assert guids(second)["one/Q1"] == guids(first)["one/Q2"]
    assert guids(second)["one/Q2"] not in guids(first).values()


def test_across_lessons_only_exact_or_very_close() -> None:
    first, lock = release({"one": [("Q1", TRACKING, "a"), ("Q2", LONG, "l")]}, Lock())
    assert similarity(normalise(TRACKING), normalise(TRACKING_REWORDED)) < CROSS_LESSON
    assert similarity(normalise(LONG), normalise(LONG_REWORDED)) >= CROSS_LESSON
    second, _ = release(
        {"one": [("Q1", "Other?", "x")], "two": [("Q1", TRACKING_REWORDED, "a")]}, lock
    )
    assert guids(second)["two/Q1"] not in guids(first).values()  # close, but not enough
    third, _ = release(
        {
            "one": [("Q1", "Other?", "x")],
            "two": [("Q1", TRACKING, "a"), ("Q2", LONG_REWORDED, "l")],
        },
        lock,
    )
    assert guids(third)["two/Q1"] == guids(first)["one/Q1"]  # exact text
    assert guids(third)["two/Q2"] == guids(first)["one/Q2"]  # very close
    assert guids(third)["one/Q1"] not in guids(first).values()
    assert third.events == (
        "moved: one/question/Q1 → two/question/Q1",
        "moved: one/question/Q2 → two/question/Q2",
    )


def test_formerly_on_an_entry_and_on_a_lesson() -> None:
    first, lock = release({"one": [("Q1", "What is drift?", "a")]}, Lock())
    rewritten = "Name two kinds of drift a deployed model suffers from."
    second, _ = release({"one": [("Q1", rewritten, "c", ("Q1",))]}, lock)
    assert guids(second)["one/Q1"] == guids(first)["one/Q1"]
    third, _ = release({"two": [("Q5", rewritten, "c", ("Q1",))]}, lock, {"two": ("one",)})
    assert guids(third)["two/Q5"] == guids(first)["one/Q1"]


def test_lookalike_under_the_threshold_suggests_formerly() -> None:
    old_text = "Which three things does a model registry store for every model?"
    new_text = "Which things does a registry keep for a trained model, and why?"
    assert 0.4 <= similarity(normalise(old_text), normalise(new_text)) < FUZZY
    _, lock = release({"one": [("Q1", "Keep?", "k"), ("Q2", old_text, "a")]}, Lock())
    second, _ = release({"one": [("Q1", "Keep?", "k"), ("Q3", new_text, "b")]}, lock)
    (hint,) = second.hints
    assert hint.path == "one.md" and hint.level == "warning"
    assert "one/question/Q3 is new and one/question/Q2 would be retired" in hint.message
    assert hint.hint == "if it is the same item, add `formerly: Q2` to its entry"
    assert "formerly" in frozen_message("deck.lock.json", second)


def test_deterministic_whatever_the_order_of_the_lock() -> None:
    items: Items = {
        "one": [(f"Q{i}", f"Question number {i} about topic {i}?", "a") for i in range(8)]
    }
    _, lock = release(items, Lock())
    shuffled = list(lock.notes.items())
    random.Random(4).shuffle(shuffled)
    edited: Items = {
        "one": [
            ("Q0", "Brand new?", "n"),
            *[(f"Q{int(q[0][1:]) + 1}", q[1], q[2]) for q in items["one"]],
        ]
    }
    a, lock_a = release(edited, lock)
    b, lock_b = release(edited, replace(lock, notes=dict(shuffled)))
    assert guids(a) == guids(b) and lock_a == lock_b


def test_format_1_lock_migrates_without_changing_a_guid() -> None:
    first, lock = release({"one": [("Q1", "alpha?", "a"), ("Q2", "beta?", "b")]}, Lock())
    # A format-1 lock: no recognition texts.
    old = replace(
        lock, notes={g: replace(e, front="", back="", source="") for g, e in lock.notes.items()}
    )
    second, new_lock = release({"one": [("Q1", "alpha?", "a"), ("Q2", "beta?", "b")]}, old)
    assert guids(second) == guids(first)
    assert new_lock == lock  # the texts filled in from the published fields, and the path
    assert lock_differences(old, new_lock) == []  # --frozen passes on a migration alone


def test_renamed_lesson_still_tells_what_was_renumbered() -> None:
    first, lock = release({"testing": [("Q1", "alpha?", "a"), ("Q2", "beta?", "b")]}, Lock())
    second, _ = release(
        {"testing-ml-code": [("Q1", "new?", "n"), ("Q2", "alpha?", "a"), ("Q3", "beta?", "b")]},
        lock,
    )
    assert set(guids(first).values()) < set(guids(second).values())
    assert second.events == (
        "renamed lesson: testing → testing-ml-code",
        "renumbered: testing/question/Q1 → testing-ml-code/question/Q2",
        "renumbered: testing/question/Q2 → testing-ml-code/question/Q3",
    )


def test_a_same_answer_counts_only_when_it_says_something() -> None:
    first, lock = release(
        {"one": [("Q1", "Is CI worth it?", "Yes."), ("Q2", "beta?", "b")]}, Lock()
    )
    second, _ = release(
        {"one": [("Q1", "Do you deploy on Fridays?", "Yes."), ("Q2", "beta?", "b")]}, lock
    )
    assert guids(second)["one/Q1"] != guids(first)["one/Q1"]
    answer = "A known state that every test starts from."
    first, lock = release({"one": [("Q1", "What does a fixture give a test?", answer)]}, Lock())
    second, _ = release({"one": [("Q1", "Fixtures: why use them?", answer)]}, lock)
    assert guids(second)["one/Q1"] == guids(first)["one/Q1"]  # reworded, same key and answer
