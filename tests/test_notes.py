import dataclasses
from pathlib import Path

import pytest

from mlops_cards.errors import CardsError
from mlops_cards.identity import note_guid
from mlops_cards.manifest import CardKinds
from mlops_cards.models import Card, Lesson, LessonContent
from mlops_cards.notes import NoteBuilder, cloze_markdown, order_lessons
from mlops_cards.notetypes import load_note_types
from mlops_cards.render import CardRenderer

TYPES = load_note_types()


def content(path: str = "lesson.md", sort: int | None = 1, title: str = "Intro") -> LessonContent:
    lesson = Lesson(path=path, id="intro", title=title, sort=sort)
    cards = (
        Card("intro", "question", "Q1", "What is *MLOps*?", "Ops for ML.", "Q1", line=3),
        Card("intro", "objective", "1", "Define MLOps.", "Ops for ML.", line=2),
        Card(
            "intro",
            "term",
            "training set",
            "training set",
            "Data a model learns from.",
            "training set",
            context="The **training set** feeds the model.",
            tags=("data",),
            line=5,
        ),
    )
    return LessonContent(lesson=lesson, sidecar=None, cards=cards, tags=("course",))


def build(tmp_path: Path, kinds: CardKinds) -> list:  # type: ignore[type-arg]
    lessons = order_lessons("Deck", [content(str(tmp_path / "lesson.md"))])
    return NoteBuilder(TYPES, CardRenderer(tmp_path), kinds).notes(lessons)


def test_every_kind_becomes_a_note_with_stable_identity(tmp_path: Path) -> None:
    notes = build(tmp_path, CardKinds())
    assert [(n.kind, n.key) for n in notes] == [
        ("question", "Q1"),
        ("objective", "1"),
        ("term", "training set"),
        ("cloze", "training set"),
    ]
    question = notes[0]
    assert question.guid == note_guid("intro", "question", "Q1")
    assert question.fields == (
        "<p>What is <em>MLOps</em>?</p>",
        "<p>Ops for ML.</p>",
        "Q1",
        "Intro",
        "lesson.md",
        "",
    )
    assert question.tags == ("course", "kind::question", "lesson::intro")
    assert question.deck == "Deck::01 Intro"
    term = notes[2]
    assert term.fields == (
        "training set",
        "<p>Data a model learns from.</p>",
        "<p>The <strong>training set</strong> feeds the model.</p>",
        "Intro",
        "lesson.md",
        "",
        "",  # Reverse: off by default
    )
    assert term.tags == ("course", "data", "kind::term", "lesson::intro")
    assert notes[3].fields[0] == "<p>The <strong>{{c1::training set}}</strong> feeds the model.</p>"


def test_card_kinds_switch_off_and_reverse_on(tmp_path: Path) -> None:
    notes = build(tmp_path, CardKinds(objectives=False, cloze=False, reverse=True))
    assert [n.kind for n in notes] == ["question", "term"]
    assert notes[1].fields[6] == "y"
    assert build(tmp_path, CardKinds(questions=False, terms=False, objectives=False)) == [
        n for n in build(tmp_path, CardKinds()) if n.kind == "cloze"
    ]


def test_missing_note_type_is_an_error(tmp_path: Path) -> None:
    lessons = order_lessons("Deck", [content(str(tmp_path / "lesson.md"))])
    builder = NoteBuilder({"question": TYPES["question"]}, CardRenderer(tmp_path), CardKinds())
    with pytest.raises(CardsError, match="no `objective` note type"):
        builder.notes(lessons)


def test_lessons_ordered_by_sort_then_path() -> None:
    ordered = order_lessons(
        "Deck",
        [content("b.md", None, "B"), content("c.md", 2, "C"), content("a.md", None, "A")],
    )
    assert [x.subdeck for x in ordered] == ["Deck::02 C", "Deck::03 A", "Deck::04 B"]


def test_cloze_finds_the_term_whatever_its_case() -> None:
    assert cloze_markdown("A Pipeline runs.", "pipeline") == "A {{c1::Pipeline}} runs."
    assert cloze_markdown("Nothing here.", "pipeline") is None


def test_a_definition_taken_from_its_sentence_is_not_shown_twice(tmp_path: Path) -> None:
    sentence = "**Feature store**: a shared service that serves features."
    card = Card(
        "intro",
        "term",
        "Feature store",
        "Feature store",
        "a shared service that serves features.",
        "Feature store",
        context=sentence,
        line=5,
    )
    lesson = Lesson(path=str(tmp_path / "lesson.md"), id="intro", title="Intro", sort=1)

    def notes(card: Card) -> list:  # type: ignore[type-arg]
        content = LessonContent(lesson=lesson, sidecar=None, cards=(card,))
        builder = NoteBuilder(TYPES, CardRenderer(tmp_path), CardKinds())
        return builder.notes(order_lessons("Deck", [content]))

    # `**Term**: definition` makes no cloze: it would be the term card reversed.
    (term,) = notes(card)
    names = [name for name, _ in TYPES["term"].fields]
    assert term.fields[names.index("Definition")] == "<p>a shared service that serves features.</p>"
    assert term.fields[names.index("Sentence")] == ""
    cloze_names = [name for name, _ in TYPES["cloze"].fields]
    # The author's own cloze does not hold the definition: it is shown after the answer.
    authored = dataclasses.replace(card, cloze="Models read {{c1::features}} from it.")
    _, cloze = notes(authored)
    assert cloze.fields[cloze_names.index("Text")] == "<p>Models read {{c1::features}} from it.</p>"
    assert cloze.fields[cloze_names.index("Back Extra")] == (
        "<p>a shared service that serves features.</p>"
    )
    # The lesson's own definition (not contained in the sentence) is kept on both.
    assert build(tmp_path, CardKinds())[3].fields[cloze_names.index("Back Extra")] == (
        "<p>Data a model learns from.</p>"
    )
