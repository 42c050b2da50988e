"""The data model shared by every step: what a lesson says, and what a deck teaches.

Frozen dataclasses only; plain dicts live at the YAML/JSON boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

Level = Literal["error", "warning"]
ItemKind = Literal["objective", "question", "term"]  # what a lesson asks for
CardKind = Literal["question", "objective", "term", "extra"]  # what a lesson + its YAML teach
# What a deck's note is: a card's kind, or the cloze note a term's card also makes.
NoteKind = Literal["question", "objective", "term", "cloze", "extra"]
NOTE_KINDS: tuple[NoteKind, ...] = get_args(NoteKind)


def note_kind(value: str) -> NoteKind:
    """`value` as a NoteKind (read from a file); ValueError for any other string."""
    for kind in NOTE_KINDS:
        if value == kind:
            return kind
    raise ValueError(f"unknown note kind {value!r}")


def card_kind_of(kind: NoteKind) -> CardKind:
    """The kind of the card a note is made from: a cloze note comes from a term."""
    return "term" if kind == "cloze" else kind


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in an author's file, reported as `path:line:col: level: message (hint)`."""

    path: str
    line: int
    level: Level
    message: str
    hint: str | None = None
    col: int = 1

    def format(self) -> str:
        text = f"{self.path}:{self.line}:{self.col}: {self.level}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.col, self.message)


@dataclass(frozen=True)
class Objective:
    key: str  # "1", "2", ... in lesson order
    text: str  # Markdown, checkbox and noise removed
    line: int


@dataclass(frozen=True)
class Question:
    key: str  # the label, or "q<n>" when unlabelled; a repeated label gets "-2", "-3", ...
    label: str | None  # as written: "Q1", "2a", "3.1a"
    text: str  # Markdown, marker/label/<br>/kramdown attributes removed; may end in a code block
    line: int


@dataclass(frozen=True)
class Term:
    key: str  # the term as plain text, or "bell-<n>" when the bell names none
    term: str | None  # plain text, None for tips and notes
    definition: str  # Markdown: the part that defines the term (the whole paragraph if no split)
    line: int
    bell: int  # 1-based position among the lesson's bells, for `bell: N` in author YAML
    sentence: str = ""  # the whole bell paragraph as Markdown, for cloze cards


@dataclass(frozen=True)
class Task:
    text: str  # Markdown of the task item (first paragraph)
    line: int
    section: str | None  # text of the nearest heading above, None before any heading
    depth: int = 0  # nesting level, 0 = top-level list
    checked: bool = False


@dataclass(frozen=True)
class Lesson:
    path: str  # as given by the user
    id: str
    title: str | None
    sort: int | None
    objectives: tuple[Objective, ...] = ()
    questions: tuple[Question, ...] = ()
    terms: tuple[Term, ...] = ()
    tasks: tuple[Task, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()


@dataclass(frozen=True)
class Card:
    """One note of a deck: what the learner sees, with the identity that keeps it stable.

    `front`/`back` are Markdown; rendering to HTML happens later. Identity is
    (lesson_id, kind, key) and nothing else, so text edits update the note in place.
    """

    lesson_id: str
    kind: CardKind
    key: str
    front: str
    back: str
    label: str | None = None  # "Q1" for questions, the term name for terms, None otherwise
    context: str = ""  # term: its sentence (for cloze); question: nothing yet
    tags: tuple[str, ...] = ()  # author tags, without the generated lesson::/kind:: ones
    line: int = 0  # source line, for error messages only: never written to a note
    # Lines in the lesson's author YAML where the back's and (extra cards) the front's text
    # start, 0 when that text comes from the lesson: rendering errors point there.
    sidecar_line: int = 0
    sidecar_front_line: int = 0
    # Keys this item had before, newest first: the author's `formerly:`, then the YAML key
    # when the entry followed its item to a new key. The lock's matcher reads them.
    formerly: tuple[str, ...] = ()
    # Author YAML: the card-quality rules accepted for this card, and a term's own cloze text
    # (Markdown with {{cN::}} markers) with the YAML line it starts on.
    accept: tuple[str, ...] = ()
    cloze: str = ""
    cloze_line: int = 0


@dataclass(frozen=True)
class Unanswered:
    kind: ItemKind
    key: str
    text: str
    line: int


@dataclass(frozen=True)
class LessonContent:
    """A lesson merged with its author YAML: the cards it yields and what is still missing."""

    lesson: Lesson
    sidecar: str | None  # path of the YAML file, None when there is none
    cards: tuple[Card, ...]
    unanswered: tuple[Unanswered, ...] = ()
    skipped: tuple[tuple[ItemKind, str], ...] = ()  # (kind, key) marked `skip: true`
    tags: tuple[str, ...] = ()  # lesson-wide author tags
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)
    formerly: tuple[str, ...] = ()  # `lesson: formerly:` in the YAML: ids the lesson had before

    def has_card(self, kind: CardKind, key: str) -> bool:
        return any(c.kind == kind and c.key == key for c in self.cards)
