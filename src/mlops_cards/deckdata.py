"""What a built deck holds, independent of genanki: notes with their identity, and note types.

The exporter turns these into an .apkg; the lock file compares them with what was published.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from mlops_cards.models import NoteKind


class NoteTypeLike(Protocol):
    """What the exporter needs of a note type (`mlops_cards.notetypes.NoteType` fits)."""

    @property
    def kind(self) -> str: ...
    @property
    def model_id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def fields(self) -> tuple[tuple[str, int], ...]: ...
    @property
    def templates(self) -> tuple[tuple[str, int, str, str], ...]: ...
    @property
    def css(self) -> str: ...
    @property
    def is_cloze(self) -> bool: ...
    def content_hash(self) -> str: ...


@dataclass(frozen=True)
class DeckNote:
    """One Anki note as the learner will see it. `mod` is filled in from the lock."""

    guid: str
    lesson_id: str
    kind: NoteKind
    key: str
    notetype: int  # model id of its note type
    fields: tuple[str, ...]  # HTML, in the note type's field order
    tags: tuple[str, ...]  # sorted, Anki-safe
    deck: str  # full subdeck name
    mod: int = 0
    retired: bool = False

    def content_hash(self) -> str:
        """Hash of what the learner sees and the tags: nothing volatile, no deck, no mod."""
        payload = json.dumps(
            {"notetype": self.notetype, "fields": list(self.fields), "tags": list(self.tags)},
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ExportDeck:
    """Everything written into one .apkg, fully decided: ids, mods, media names."""

    name: str
    deck_id: int
    description: str
    subdecks: tuple[tuple[str, int], ...]  # (full name, id), in lesson order
    notetypes: tuple[tuple[NoteTypeLike, int], ...]  # (note type, mod)
    notes: tuple[DeckNote, ...]
    media: tuple[tuple[str, Path], ...]  # (name inside Anki, file on disk)
