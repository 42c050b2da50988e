"""Hand-built decks for the decks tests: a small note type and notes, no renderer needed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from mlops_cards.deckdata import DeckNote, ExportDeck
from mlops_cards.identity import note_guid, stable_id

MODEL_ID = 1607392319001


@dataclass(frozen=True)
class SimpleNoteType:
    """Satisfies deckdata.NoteTypeLike with two fields and one template."""

    kind: str = "question"
    model_id: int = MODEL_ID
    name: str = "Test Question"
    fields: tuple[tuple[str, int], ...] = (("Front", 7001), ("Back", 7002))
    templates: tuple[tuple[str, int, str, str], ...] = (
        ("Card 1", 8001, "{{Front}}", "{{FrontSide}}<hr id=answer>{{Back}}"),
    )
    css: str = ".card { font-family: sans-serif; }"
    is_cloze: bool = False

    def content_hash(self) -> str:
        return hashlib.sha256(repr(self).encode("utf-8")).hexdigest()


def make_note(key: str, front: str, back: str = "answer", mod: int = 0) -> DeckNote:
    return DeckNote(
        guid=note_guid("lesson-a", "question", key),
        lesson_id="lesson-a",
        kind="question",
        key=key,
        notetype=MODEL_ID,
        fields=(front, back),
        tags=("kind::question", "lesson::lesson-a"),
        deck="Test Deck::01 Lesson A",
        mod=mod,
    )


def make_deck(
    notes: list[DeckNote], notetype: SimpleNoteType | None = None, notetype_mod: int = 1000
) -> ExportDeck:
    return ExportDeck(
        name="Test Deck",
        deck_id=stable_id("Test Deck"),
        description="A deck for tests",
        subdecks=(("Test Deck::01 Lesson A", stable_id("Test Deck::01 Lesson A")),),
        notetypes=((notetype or SimpleNoteType(), notetype_mod),),
        notes=tuple(notes),
        media=(),
    )
