"""Hand-built decks for the decks tests: notes of the real Question note type, no renderer."""

from __future__ import annotations

from mlops_cards.deckdata import DeckNote, ExportDeck
from mlops_cards.identity import note_guid, stable_id
from mlops_cards.notetypes import NoteType, load_note_types

QUESTION = load_note_types()["question"]
MODEL_ID = QUESTION.model_id


def make_note(key: str, front: str, back: str = "answer", mod: int = 0) -> DeckNote:
    return DeckNote(
        guid=note_guid("lesson-a", "question", key),
        lesson_id="lesson-a",
        kind="question",
        key=key,
        notetype=MODEL_ID,
        fields=(front, back, key, "Lesson A", "a.md", ""),
        tags=("kind::question", "lesson::lesson-a"),
        deck="Test Deck::01 Lesson A",
        mod=mod,
    )


def make_deck(
    notes: list[DeckNote], notetype: NoteType = QUESTION, notetype_mod: int = 1000
) -> ExportDeck:
    return ExportDeck(
        name="Test Deck",
        deck_id=stable_id("Test Deck"),
        description="A deck for tests",
        subdecks=(("Test Deck::01 Lesson A", stable_id("Test Deck::01 Lesson A")),),
        notetypes=((notetype, notetype_mod),),
        notes=tuple(notes),
        media=(),
    )
