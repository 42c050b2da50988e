"""Matching: give each note of this build the GUID of the published note of the same item.

Anki knows a note by its GUID only, so an item that keeps its GUID keeps every learner's history
with it. The lock (`lockfile`) records for every published note its item (lesson, kind, key) and
its recognition texts: front and answer as plain text, whitespace folded, casefolded (a term:
its name and its definition; a cloze: its text without the markers), and the lesson's path.

The rule, in order; each step only sees the notes and published notes no earlier step took, and
always within one kind (question, extra, objective, term, cloze):

0. the author's word: `formerly: OLD-KEY` on an entry (and `formerly: [OLD-ID]` on a lesson);
1. same item: the same (lesson, kind, key) and the same front;
2. the same front (a term: the same definition) under another key, first in a paired lesson
   (the same id, a `formerly` id, or one that already shares a matched note), then anywhere in
   the course (a renamed, split or merged lesson, a moved item);
3. nearly the same, within a paired lesson: the word-sequence similarity (difflib's ratio over
   the words) is at least FUZZY (0.8), or the key is the same and the similarity is at least
   SAME_KEY (0.5) or the answer is the same (a reworded item), or the answer is the same and
   the similarity is at least SAME_ANSWER (0.6); an answer counts only from 3 words on, and
   counts as the same when it is at least FUZZY alike (an answer reworded in passing);
4. across lessons only at CROSS_LESSON (0.9) or more, compared only with published notes that
   share one of the note's rarest words (an inverted index: never all pairs over the course);
5. a cloze follows its term.

Best pairs first (highest similarity, then the same key, then GUID order), one item per note:
the assignment is global, deterministic and conservative. Real lessons hold different questions
that are 0.98 alike ("publish to PyPI" / "publish to PyPI Test"), so a fuzzy match is only ever
made between leftovers, never instead of an exact one. Measured on the corpus history: the one
rewording (seed → 2023-05-05, Q3) scores 0.86. A new note that looks like one about to be
retired (similarity at least HINT, 0.4) but is under the threshold gets a warning suggesting
`formerly:`. Notes never published keep the derived GUID (`identity.note_guid`), or, when that
GUID belongs to another published note, the derived GUID of (key, 2), (key, 3), ...

A published note never changes subdeck (Anki does not move cards on import), and a lesson keeps
the subdeck most of its matched notes were published in, whatever its `sort` or title say now.
"""

from __future__ import annotations

import difflib
import html
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_cards.deckdata import DeckNote, NoteTypeLike
from mlops_cards.identity import note_guid
from mlops_cards.lockfile import Lock, LockedNote
from mlops_cards.models import Card, Diagnostic

if TYPE_CHECKING:
    from mlops_cards.notes import LessonDeck
    from mlops_cards.stages import DeckNotes

FUZZY = 0.8
SAME_KEY = 0.5
SAME_ANSWER = 0.6
CROSS_LESSON = 0.9
HINT = 0.4
_RARE_WORDS = 3  # a note is compared across lessons with notes sharing its 3 rarest words
_MAX_CANDIDATES = 64
_MAX_PAIRED = 512  # published notes a leftover is compared with in its paired lessons, at most

# Which field holds the front and the answer, by note kind, for the built-in note types (and
# any with these field names).
_FRONT = {"question": "Front", "extra": "Front", "objective": "Objective", "term": "Term"}
_BACK = {
    "question": "Back",
    "extra": "Back",
    "objective": "Answer",
    "term": "Definition",
    "cloze": "Back Extra",
}
_DEFAULT_FIELDS = {
    "question": ("Front", "Back", "Label", "Lesson", "Source", "Extra"),
    "extra": ("Front", "Back", "Label", "Lesson", "Source", "Extra"),
    "term": ("Term", "Definition", "Sentence", "Lesson", "Source", "Extra", "Reverse"),
    "cloze": ("Text", "Back Extra", "Lesson", "Source"),
    "objective": ("Objective", "Answer", "Lesson", "Source", "Extra"),
}
_TAG = re.compile(r"<[^>]*>")
_CLOZE = re.compile(r"\{\{c\d+::(.*?)(?:::[^{}]*)?\}\}", re.S)
_WORD = re.compile(r"\w+")
_UNLABELLED = re.compile(r"q\d+(-\d+)?")


def normalise(text: str) -> str:
    """Plain text of a field: tags dropped, entities decoded, whitespace folded, casefolded."""
    return " ".join(html.unescape(_TAG.sub(" ", text)).split()).casefold()


def recognise(kind: str, fields: tuple[str, ...], names: tuple[str, ...] = ()) -> tuple[str, str]:
    """(front, back) recognition texts of a note from its fields (HTML)."""
    values = dict(zip(names or _DEFAULT_FIELDS.get(kind, ()), fields, strict=False))
    back = normalise(values.get(_BACK.get(kind, ""), ""))
    if kind == "cloze":
        return normalise(_CLOZE.sub(r"\1", values.get("Text", ""))), back
    return normalise(values.get(_FRONT.get(kind, ""), "")), back


def similarity(a: str, b: str, floor: float = 0.0) -> float:
    """difflib's ratio over the words of two recognition texts; 0.0 as soon as its cheap upper
    bounds show it is under `floor`."""
    if a == b:
        return 1.0
    matcher = difflib.SequenceMatcher(None, _words(a), _words(b), False)
    if matcher.real_quick_ratio() < floor or matcher.quick_ratio() < floor:
        return 0.0
    return matcher.ratio()


@lru_cache(maxsize=1 << 16)
def _words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text))


@dataclass
class _New:
    index: int
    note: DeckNote
    front: str
    back: str
    source: str
    formerly: tuple[str, ...]
    guid: str | None = None

    @property
    def text(self) -> str:  # what similarity compares: a term is recognised by its definition
        return self.back if self.note.kind == "term" else self.front


@dataclass(frozen=True)
class Matched:
    """This build's notes with their GUIDs and subdecks decided, and what happened."""

    notes: list[DeckNote]
    texts: dict[str, tuple[str, str, str]]  # GUID -> (front, back, source), for the lock
    old_lock: Lock  # the lock read, with recognition texts filled in (a format-1 lock)
    subdecks: tuple[str, ...]  # the lessons' subdecks, in lesson order, once each
    lesson_subdecks: tuple[str, ...]  # one per lesson, in lesson order
    events: tuple[str, ...] = ()  # "renamed: a → b", ...
    kept_subdecks: tuple[str, ...] = ()  # "lesson: kept 'Deck::03 X' (sort/title say ...)"
    hints: tuple[Diagnostic, ...] = field(default_factory=tuple)


def migrate(old: Lock, notetypes: Iterable[NoteTypeLike]) -> Lock:
    """`old` with every note's front and back filled in from its fields where it has none."""
    names = {t.model_id: tuple(n for n, _ in t.fields) for t in notetypes}
    notes = {}
    for guid, entry in old.notes.items():
        if not (entry.front or entry.back):
            front, back = recognise(entry.kind, entry.fields, names.get(entry.notetype, ()))
            entry = replace(entry, front=front, back=back)
        notes[guid] = entry
    return Lock(notes=notes, notetypes=old.notetypes)


class _Matcher:
    def __init__(self, old: Lock, items: list[_New], formerly: Mapping[str, tuple[str, ...]]):
        self.old = old.notes
        self.items = items
        self.taken: dict[str, int] = {}  # old GUID -> item index
        self.pairs: set[tuple[str, str]] = set()  # (new lesson, old lesson)
        self.paired: dict[str, set[str]] = defaultdict(set)  # new lesson -> old lessons
        old_lessons = {e.lesson for e in self.old.values()}
        for item in items:
            lesson = item.note.lesson_id
            if lesson in old_lessons:
                self.pair(lesson, lesson)
            for old_lesson in formerly.get(lesson, ()):
                self.pair(lesson, old_lesson)

    def pair(self, new_lesson: str, old_lesson: str) -> None:
        self.pairs.add((new_lesson, old_lesson))
        self.paired[new_lesson].add(old_lesson)

    def take(self, item: _New, guid: str) -> None:
        item.guid = guid
        self.taken[guid] = item.index
        self.pair(item.note.lesson_id, self.old[guid].lesson)

    def leftovers(self, kinds: set[str]) -> tuple[list[_New], dict[str, LockedNote]]:
        items = [i for i in self.items if i.guid is None and i.note.kind in kinds]
        old = {g: e for g, e in self.old.items() if g not in self.taken and e.kind in kinds}
        return items, old

    def by_author(self) -> None:
        by_item: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        for guid, e in sorted(self.old.items()):
            by_item[(e.lesson, e.kind, e.key)].append(guid)
        for item in self.items:
            lid = item.note.lesson_id
            lessons = [lid, *sorted(self.paired.get(lid, set()) - {lid})]
            for key in item.formerly:
                free = [
                    g
                    for lesson in lessons
                    for g in by_item.get((lesson, item.note.kind, key), [])
                    if g not in self.taken
                ]
                if item.guid is None and free:
                    self.take(item, free[0])

    def same_item(self) -> None:
        by_item: dict[tuple[str, str, str, str], list[str]] = defaultdict(list)
        for guid, e in sorted(self.old.items()):
            by_item[(e.lesson, e.kind, e.key, e.front)].append(guid)
        for item in self.items:
            n = item.note
            free = [
                g
                for g in by_item.get((n.lesson_id, n.kind, n.key, item.front), [])
                if g not in self.taken
            ]
            if item.guid is None and free:
                self.take(item, free[0])

    def same_text(self, kinds: set[str], paired_only: bool) -> None:
        items, old = self.leftovers(kinds)
        index: dict[tuple[str, str], list[str]] = defaultdict(list)
        for guid, e in sorted(old.items()):
            text = e.back if e.kind == "term" else e.front
            if text:
                index[(e.kind, text)].append(guid)
        for item in items:
            n = item.note
            candidates = [
                g
                for g in index.get((n.kind, item.text), [])
                if g not in self.taken
                and (not paired_only or (n.lesson_id, self.old[g].lesson) in self.pairs)
            ]
            if not candidates:
                continue

            def rank(g: str, n: DeckNote = n, item: _New = item) -> tuple[bool, bool, bool, str]:
                e = self.old[g]
                return (e.lesson != n.lesson_id, e.key != n.key, e.back != item.back, g)

            self.take(item, min(candidates, key=rank))

    def nearly(self, kinds: set[str]) -> None:
        items, old = self.leftovers(kinds)
        old_by: dict[tuple[str, str], list[str]] = defaultdict(list)
        for guid, e in sorted(old.items()):
            old_by[(e.lesson, e.kind)].append(guid)
        edges = []
        for item in items:
            n = item.note
            paired = [
                guid
                for old_lesson in sorted(self.paired.get(n.lesson_id, ()))
                for guid in old_by.get((old_lesson, n.kind), [])
            ]
            paired = [g for g in paired if self.old[g].key == n.key] + [
                g for g in paired if self.old[g].key != n.key
            ]  # the same key first
            for guid in paired[:_MAX_PAIRED]:
                e = self.old[guid]
                same_key = e.key == n.key
                # An answer of a few words ("Yes.") says nothing about the question; one
                # reworded as little as a question may be (FUZZY) is still the same answer.
                same_answer = (
                    len(_words(e.back)) >= 3 and similarity(item.back, e.back, FUZZY) >= FUZZY
                )
                floor = SAME_KEY if same_key else SAME_ANSWER if same_answer else FUZZY
                score = similarity(item.text, e.back if e.kind == "term" else e.front, floor)
                if (
                    score >= FUZZY
                    or (same_key and (score >= SAME_KEY or same_answer))
                    or (same_answer and score >= SAME_ANSWER)
                ):
                    edges.append((-score, not same_key, guid, item.index))
        self._greedy(edges)

    def across_lessons(self, kinds: set[str]) -> None:
        items, old = self.leftovers(kinds)
        if not old:  # every published note is taken (or none was ever published)
            return
        index: dict[tuple[str, str], list[str]] = defaultdict(list)
        for guid, e in sorted(old.items()):
            for word in set(_WORD.findall(e.back if e.kind == "term" else e.front)):
                index[(e.kind, word)].append(guid)
        edges = []
        for item in items:
            kind = item.note.kind
            words = sorted(
                set(_WORD.findall(item.text)), key=lambda w: (len(index.get((kind, w), ())), w)
            )
            candidates: set[str] = set()
            for word in [w for w in words if index.get((kind, w))][:_RARE_WORDS]:
                candidates.update(index[(kind, word)][:_MAX_CANDIDATES])
            for guid in sorted(candidates):
                e = self.old[guid]
                score = similarity(item.text, e.back if e.kind == "term" else e.front, CROSS_LESSON)
                if score >= CROSS_LESSON:
                    edges.append((-score, e.key != item.note.key, guid, item.index))
        self._greedy(edges)

    def cloze_follows_term(self) -> None:
        items, old = self.leftovers({"cloze"})
        clozes = {(e.lesson, e.key): g for g, e in sorted(old.items(), reverse=True)}
        terms = {
            (i.note.lesson_id, i.note.key): i.guid
            for i in self.items
            if i.note.kind == "term" and i.guid is not None and i.guid in self.old
        }
        for item in items:
            term_guid = terms.get((item.note.lesson_id, item.note.key))
            if term_guid is None:
                continue
            term = self.old[term_guid]
            guid = clozes.get((term.lesson, term.key))
            if guid is not None and guid not in self.taken:
                self.take(item, guid)

    def _greedy(self, edges: list[tuple[float, bool, str, int]]) -> None:
        for _, _, guid, index in sorted(edges):
            item = self.items[index]
            if item.guid is None and guid not in self.taken:
                self.take(item, guid)

    def run(self) -> None:
        kinds = {"question", "extra", "objective", "term"}
        self.by_author()
        self.same_item()
        for group in (kinds, {"cloze"}):
            if group == {"cloze"}:
                self.cloze_follows_term()
            self.same_text(group, paired_only=True)
            self.nearly(group)
            self.same_text(group, paired_only=False)
            self.nearly(group)
            self.across_lessons(group)


def match_notes(
    old: Lock,
    notes: list[DeckNote],
    lessons: list[LessonDeck],
    notetypes: Iterable[NoteTypeLike],
    base: Path | None = None,
) -> Matched:
    """Assign every note its GUID and subdeck against the lock (see the module docstring).
    Lesson paths are recorded relative to `base` (the lock's folder), whatever the working
    folder of the build."""
    notetypes = list(notetypes)
    old = migrate(old, notetypes)
    names = {t.model_id: tuple(n for n, _ in t.fields) for t in notetypes}
    by_lesson = {lesson.content.lesson.id: lesson for lesson in lessons}
    cards: dict[tuple[str, str], Card] = {
        (c.lesson_id, c.key + "\x1f" + c.kind): c
        for lesson in lessons
        for c in lesson.content.cards
    }

    def card_of(note: DeckNote) -> Card | None:
        kind = "term" if note.kind == "cloze" else note.kind
        return cards.get((note.lesson_id, note.key + "\x1f" + kind))

    sources = {
        lid: _relative(lesson.content.lesson.path, base) for lid, lesson in by_lesson.items()
    }
    items = []
    for i, note in enumerate(notes):
        front, back = recognise(note.kind, note.fields, names.get(note.notetype, ()))
        card = card_of(note)
        source = sources.get(note.lesson_id, "")
        items.append(_New(i, note, front, back, source, card.formerly if card else ()))
    formerly = {lid: lesson.content.formerly for lid, lesson in by_lesson.items()}
    matcher = _Matcher(old, items, formerly)
    matcher.run()

    # Never published: the derived GUID, unless a published note (or another item) has it.
    used = set(old.notes) | set(matcher.taken)
    for item in items:
        if item.guid is None:
            n = item.note
            guid, number = n.guid, 1  # the derived GUID (notes.py made it)
            while guid in used:
                number += 1
                guid = note_guid(n.lesson_id, n.kind, f"{n.key}\x1f{number}")
            item.guid = guid
            used.add(guid)

    subdecks, kept = _subdecks(old, items, lessons)
    result = []
    texts = {}
    for item in items:
        assert item.guid is not None
        entry = old.notes.get(item.guid) if item.guid in matcher.taken else None
        deck = entry.deck if entry else subdecks[item.note.lesson_id]
        same = item.guid == item.note.guid and deck == item.note.deck
        result.append(item.note if same else replace(item.note, guid=item.guid, deck=deck))
        texts[item.guid] = (item.front, item.back, item.source)
    return Matched(
        notes=result,
        texts=texts,
        old_lock=old,
        subdecks=tuple(dict.fromkeys(subdecks[lesson.content.lesson.id] for lesson in lessons)),
        lesson_subdecks=tuple(subdecks[lesson.content.lesson.id] for lesson in lessons),
        events=_events(old, items, matcher.taken),
        kept_subdecks=kept,
        hints=_hints(old, items, matcher, by_lesson, card_of),
    )


def _relative(path: str, base: Path | None) -> str:
    if base is None:
        return Path(path).as_posix()
    return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(base))).as_posix()


def _subdecks(
    old: Lock, items: list[_New], lessons: list[LessonDeck]
) -> tuple[dict[str, str], tuple[str, ...]]:
    """Each lesson's subdeck: the one most of its published notes are in, else its own."""
    published: dict[str, Counter[str]] = defaultdict(Counter)
    for item in items:
        entry = old.notes.get(item.guid or "")
        if entry is not None:
            published[item.note.lesson_id][entry.deck] += 1
    subdecks, kept = {}, []
    for lesson in lessons:
        lid = lesson.content.lesson.id
        counts = published.get(lid)
        name = lesson.subdeck
        if counts:
            name = min(counts, key=lambda deck: (-counts[deck], deck))
        if name != lesson.subdeck:
            kept.append(
                f"{lid}: kept subdeck '{name}' (its sort and title now make '{lesson.subdeck}')"
            )
        subdecks[lid] = name
    return subdecks, tuple(kept)


def _label(lesson: str, kind: str, key: str) -> str:
    return f"{lesson}/{kind}/{key}"


def _events(old: Lock, items: list[_New], taken: Mapping[str, int]) -> tuple[str, ...]:
    """What happened to published items: lessons renamed, moved, split, merged; items moved,
    renumbered, relabelled, swapped; terms renamed. Old → new."""
    new_lessons = {i.note.lesson_id for i in items}
    old_lessons = {e.lesson for e in old.notes.values()}
    dests: dict[str, set[str]] = defaultdict(set)
    origins: dict[str, set[str]] = defaultdict(set)
    moves: list[tuple[LockedNote, _New]] = []
    paths: dict[str, tuple[str, str]] = {}
    for guid, index in taken.items():
        e, item = old.notes[guid], items[index]
        n = item.note
        dests[e.lesson].add(n.lesson_id)
        origins[n.lesson_id].add(e.lesson)
        if e.source and item.source and e.source != item.source and e.lesson == n.lesson_id:
            paths[n.lesson_id] = (e.source, item.source)
        if (e.lesson, e.key) != (n.lesson_id, n.key):
            moves.append((e, item))
    events = set()
    lesson_level: set[tuple[str, str]] = set()  # (old, new) lessons explained by a lesson event
    renamed: set[tuple[str, str]] = set()  # within these, keys that changed are still told
    for lo, targets in dests.items():
        others = targets - {lo}
        if not others or (lo in new_lessons and not (others - old_lessons)):
            continue  # items moved between lessons that exist before and after: item events
        if len(targets) >= 2:
            events.add(f"split: {lo} → {', '.join(sorted(targets))}")
        elif len(origins[next(iter(others))]) >= 2:
            ln = next(iter(others))
            events.add(f"merged: {', '.join(sorted(origins[ln]))} → {ln}")
        elif lo not in new_lessons:
            events.add(f"renamed lesson: {lo} → {next(iter(others))}")
            renamed.add((lo, next(iter(others))))
        else:
            continue  # items moved out of a lesson that stays: item events
        lesson_level.update((lo, t) for t in others)
    for lid, (before, after) in sorted(paths.items()):
        events.add(f"moved lesson file: {lid}: {before} → {after}")

    def same_lesson(e: LockedNote, n: DeckNote) -> bool:
        return e.lesson == n.lesson_id or (e.lesson, n.lesson_id) in renamed

    # (new lesson, kind, old key) -> new key, to tell a swap
    renumbered = {
        (item.note.lesson_id, e.kind, e.key): item.note.key
        for e, item in moves
        if same_lesson(e, item.note)
    }
    for e, item in moves:
        n = item.note
        old_label, new_label = _label(e.lesson, e.kind, e.key), _label(n.lesson_id, n.kind, n.key)
        if not same_lesson(e, n):
            if (e.lesson, n.lesson_id) not in lesson_level:  # else said by the lesson event
                events.add(f"moved: {old_label} → {new_label}")
        elif e.key == n.key:
            continue  # only the lesson's name changed: said above
        elif n.kind in ("term", "cloze"):
            if n.kind == "term":
                events.add(f"renamed term: {old_label} → {new_label}")
        elif renumbered.get((n.lesson_id, e.kind, n.key)) == e.key:
            pair = sorted([e.key, n.key])
            events.add(f"swapped: {_label(n.lesson_id, n.kind, pair[0])} ↔ {pair[1]}")
        elif _UNLABELLED.fullmatch(e.key) and not _UNLABELLED.fullmatch(n.key):
            events.add(f"relabelled: {old_label} → {new_label}")
        else:
            events.add(f"renumbered: {old_label} → {new_label}")
    return tuple(sorted(events))


def _hints(
    old: Lock,
    items: list[_New],
    matcher: _Matcher,
    lessons: Mapping[str, LessonDeck],
    card_of: Callable[[DeckNote], Card | None],
) -> tuple[Diagnostic, ...]:
    """A new note that looks like a published one about to be retired: suggest `formerly:`."""
    new_ids = set(old.notes) - set(matcher.taken)
    hints = []
    by_lesson: dict[tuple[str, str], list[str]] = defaultdict(list)
    for guid in sorted(new_ids):
        e = old.notes[guid]
        if not e.retired:
            by_lesson[(e.lesson, e.kind)].append(guid)
    for item in items:
        n = item.note
        if item.guid in matcher.taken or n.kind == "cloze":
            continue
        best: tuple[float, str] | None = None
        for old_lesson in sorted(matcher.paired.get(n.lesson_id, ())):
            for guid in by_lesson.get((old_lesson, n.kind), []):
                e = old.notes[guid]
                score = similarity(item.text, e.back if e.kind == "term" else e.front, HINT)
                if score >= HINT and (best is None or score > best[0]):
                    best = (score, guid)
        if best is None:
            continue
        e = old.notes[best[1]]
        lesson = lessons[n.lesson_id].content
        card = card_of(n)
        path, line = lesson.lesson.path, (card.line if card else 0) or 1
        if lesson.sidecar and card and card.sidecar_line:
            path, line = lesson.sidecar, card.sidecar_line
        where = "" if e.lesson == n.lesson_id else f" and `formerly: [{e.lesson}]` on the lesson"
        hints.append(
            Diagnostic(
                path=path,
                line=line,
                level="warning",
                message=(
                    f"{_label(n.lesson_id, n.kind, n.key)} is new and "
                    f"{_label(e.lesson, e.kind, e.key)} would be retired, but they look alike "
                    f"(similarity {best[0]:.2f}, under {FUZZY})"
                ),
                hint=f"if it is the same item, add `formerly: {e.key}` to its entry{where}",
            )
        )
    return tuple(sorted(hints, key=Diagnostic.sort_key))


def match_deck(old: Lock, made: DeckNotes, base: Path | None = None) -> tuple[DeckNotes, Matched]:
    """The matching stage: the deck's notes with their GUIDs and subdecks decided, each lesson
    with the subdeck it keeps, and what happened."""
    matched = match_notes(old, list(made.notes), list(made.lessons), made.notetypes.values(), base)
    lessons = tuple(
        replace(lesson, subdeck=subdeck)
        for lesson, subdeck in zip(made.lessons, matched.lesson_subdecks, strict=True)
    )
    return replace(made, lessons=lessons, notes=tuple(matched.notes)), matched


def frozen_message(lock: object, matched: Matched | None) -> str:
    """Why a frozen build fails, and what to do, when the lock would change."""
    message = f"{lock}: the lock would change (--frozen)"
    if matched is None:
        return message + "; build without --frozen and commit the lock"
    if matched.events:
        shown = "; ".join(matched.events[:3]) + ("; ..." if len(matched.events) > 3 else "")
        message += (
            f": published notes now belong to items that moved ({shown}); learners keep their "
            "cards and history. Build without --frozen, check the identity events in the "
            "report and commit the lock"
        )
    if matched.hints:
        message += (
            f"{';' if matched.events else ':'} {len(matched.hints)} new note(s) look like "
            "notes that would be retired: if they are the same items, add `formerly:` to "
            "their YAML entries (see the warnings of `build`) before committing the lock"
        )
    if not (matched.events or matched.hints):
        message += "; build without --frozen and commit the lock"
    return message
