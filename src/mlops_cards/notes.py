"""Cards → Anki notes: field HTML, GUID, tags and subdeck for every card a deck holds.

Which note type a card uses and which card kinds are on come from the manifest. Field values are
given by name, in each note type's field order.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mlops_cards import cloze as clozes
from mlops_cards.deckdata import DeckNote, NoteTypeLike
from mlops_cards.errors import CardsError
from mlops_cards.identity import note_guid, note_tags, subdeck_name
from mlops_cards.manifest import CardKinds
from mlops_cards.models import Card, LessonContent, NoteKind
from mlops_cards.render import CardRenderer, anki_inert

# Card kind -> note type kind. Extra cards from YAML are questions the lesson did not ask.
NOTETYPE_OF = {"question": "question", "extra": "question", "objective": "objective"}


@dataclass(frozen=True)
class LessonDeck:
    """A lesson with its place in the deck."""

    content: LessonContent
    number: int  # NN in the subdeck name: front-matter sort, else position
    subdeck: str


def order_lessons(deck: str, contents: list[LessonContent]) -> list[LessonDeck]:
    """Lessons by front-matter sort (unsorted last, by path), each with its subdeck name.

    NN is the lesson's `sort`, so adding a lesson never renames the others' subdecks; unsorted
    lessons are numbered after the largest sort.
    """
    ordered = sorted(
        contents, key=lambda c: (c.lesson.sort is None, c.lesson.sort or 0, c.lesson.path)
    )
    next_number = max([c.lesson.sort or 0 for c in contents] + [0]) + 1
    result = []
    for content in ordered:
        lesson = content.lesson
        number = lesson.sort
        if number is None:
            number, next_number = next_number, next_number + 1
        title = lesson.title or lesson.id
        result.append(LessonDeck(content, number, subdeck_name(deck, number, title)))
    return result


def _text(plain: str) -> str:
    """A plain-text field: escaped HTML, and no Anki syntax (`[sound:...]`, `{{...}}`)."""
    return anki_inert(html.escape(plain))


def _squeezed(markdown: str) -> str:
    return " ".join(markdown.split()).casefold()


def cloze_markdown(sentence: str, term: str) -> str | None:
    """The sentence with every mention of `term` as cloze c1; None when it is not there."""
    return clozes.mark_term(sentence, term)


def term_cloze(card: Card) -> str | None:
    """A term card's cloze text: the author's `cloze:`, else one from the bell sentence where the
    sentence gives context (cloze.sentence_cloze); None: no cloze card for this term."""
    return clozes.term_cloze(card.label or card.key, card.back, card.context, card.cloze)


# The cloze markers go through Markdown rendering as private-use characters, which neither
# Markdown nor the sanitiser touches, and become `{{cN::` / `}}` in the HTML afterwards: a
# renderer that escapes `{{`/`}}` written in the lesson then leaves the tool's own markers alone.
_OPEN, _NUMBERED, _CLOSE = "\ue000", "\ue001", "\ue002"
_PLACEHOLDERS = re.compile(f"[{_OPEN}{_NUMBERED}{_CLOSE}]")
_OPENED = re.compile(f"{_OPEN}(\\d+){_NUMBERED}")


def cloze_placeholders(text: str) -> str:
    """The cloze text with its markers as placeholders, for rendering (markers checked)."""
    parts, problem = clozes.parse(_PLACEHOLDERS.sub("", text))
    if problem is not None:
        raise CardsError(f"cloze text with bad markers: {problem.message}")
    return "".join(
        f"{_OPEN}{part.number}{_NUMBERED}{part.text}{_CLOSE}" if part.number else part.text
        for part in parts
    )


def cloze_field(html_text: str) -> str:
    """Rendered placeholders back to Anki's cloze markers; a lesson's own braces as entities,
    which Anki shows as braces and never reads as a marker."""
    text = _OPENED.sub(r"{{c\1::", html_text).replace(_CLOSE, "}}")
    return text.replace(clozes.LITERAL_OPEN, "&#123;&#123;").replace(
        clozes.LITERAL_CLOSE, "&#125;&#125;"
    )


class NoteBuilder:
    """Builds the notes of one deck; the renderer collects the media they use."""

    def __init__(
        self,
        notetypes: Mapping[str, NoteTypeLike],
        renderer: CardRenderer,
        kinds: CardKinds,
    ) -> None:
        self.notetypes = notetypes
        self.renderer = renderer
        self.kinds = kinds
        self._rendered: dict[str, str] = {}
        self._parts: tuple[LessonDeck, Path, Path | None, dict[str, str]] | None = None

    def notes(self, lessons: list[LessonDeck]) -> list[DeckNote]:
        return [note for lesson in lessons for note in self.lesson_notes(lesson)]

    def lesson_notes(self, lesson: LessonDeck) -> list[DeckNote]:
        return [note for card in lesson.content.cards for note in self._card_notes(lesson, card)]

    def _card_notes(self, lesson: LessonDeck, card: Card) -> list[DeckNote]:
        self._rendered = {}  # this card's Markdown -> HTML: a cloze shows the definition too
        kinds = self.kinds
        if card.kind == "term":
            notes = [self._note(lesson, card, "term", "term")] if kinds.terms else []
            cloze = term_cloze(card) if kinds.cloze else None
            if cloze is not None:
                notes.append(self._note(lesson, card, "cloze", "cloze", cloze))
            return notes
        wanted = {"question": kinds.questions, "extra": kinds.questions}.get(card.kind)
        if card.kind == "objective":
            wanted = kinds.objectives
        if not wanted:
            return []
        return [self._note(lesson, card, card.kind, NOTETYPE_OF[card.kind])]

    def _note(
        self, lesson: LessonDeck, card: Card, kind: NoteKind, notetype_kind: str, cloze: str = ""
    ) -> DeckNote:
        notetype = self.notetypes.get(notetype_kind)
        if notetype is None:
            raise CardsError(f"no `{notetype_kind}` note type in the templates folder")
        values = self._values(lesson, card, kind, cloze)
        names = [name for name, _ in notetype.fields]
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise CardsError(f"note type {notetype.name} lacks the field(s) {', '.join(unknown)}")
        fields = tuple(values.get(name, "") for name in names)
        lesson_id = card.lesson_id
        tags = note_tags(lesson_id, kind, (*lesson.content.tags, *card.tags))
        return DeckNote(
            guid=note_guid(lesson_id, kind, card.key),
            lesson_id=lesson_id,
            kind=kind,
            key=card.key,
            notetype=notetype.model_id,
            fields=fields,
            tags=tags,
            deck=lesson.subdeck,
        )

    def _values(self, lesson: LessonDeck, card: Card, kind: NoteKind, cloze: str) -> dict[str, str]:
        """Field name -> HTML for the note types in `card_templates/` (see notetypes.py)."""
        source, sidecar, common = self._lesson_parts(lesson)
        line = card.line or 1
        # Errors (a missing image) point at the file and line the text was written in.
        front_at = (source, line)
        if sidecar and card.sidecar_front_line:
            front_at = (sidecar, card.sidecar_front_line)
        back_at = (sidecar, card.sidecar_line) if sidecar and card.sidecar_line else (source, line)
        front = self._html(card.front, *front_at)
        back = self._html(card.back, *back_at)
        # A definition taken from the bell sentence itself would show the same words twice.
        repeats = _squeezed(card.back) in _squeezed(card.context)
        if kind == "term":
            return {
                "Term": _text(card.front),  # the term is plain text
                "Definition": back,
                "Sentence": "" if repeats else self._html(card.context, source, line),
                "Reverse": "y" if self.kinds.reverse else "",
                **common,
            }
        if kind == "cloze":  # the definition, unless the cloze text holds it already
            extra = "" if _squeezed(card.back) in _squeezed(card.cloze or card.context) else back
            cloze_at = (sidecar, card.cloze_line) if sidecar and card.cloze else (source, line)
            text = cloze_field(self._html(cloze_placeholders(cloze), *cloze_at))
            return {"Text": text, "Back Extra": extra, **common}
        if kind == "objective":
            return {"Objective": front, "Answer": back, **common}
        return {"Front": front, "Back": back, "Label": _text(card.label or ""), **common}

    def _lesson_parts(self, lesson: LessonDeck) -> tuple[Path, Path | None, dict[str, str]]:
        """The lesson's and sidecar's paths and the fields every note of the lesson shares,
        worked out once for all its notes."""
        parts = self._parts
        if parts is None or parts[0] is not lesson:
            content = lesson.content
            source = Path(content.lesson.path)
            common = {
                "Lesson": _text(content.lesson.title or content.lesson.id),
                "Source": _text(source.name),
            }
            sidecar = Path(content.sidecar) if content.sidecar else None
            parts = self._parts = (lesson, source, sidecar, common)
        return parts[1], parts[2], parts[3]

    def _html(self, markdown: str, source: Path, line: int) -> str:
        if not markdown:
            return ""
        html = self._rendered.get(markdown)
        if html is None:
            html = self._rendered[markdown] = self.renderer.html(markdown, source=source, line=line)
        return html
