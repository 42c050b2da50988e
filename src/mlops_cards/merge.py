"""Merge a lesson with its author YAML into what the lesson teaches: cards, and what is missing.

Entries follow their items: an answer belongs to the text it was written for, so when the lesson
renumbers, relabels, swaps or renames items, the answer goes with its item (`match_answers`) and
`check` says what moved. Every other mismatch becomes a diagnostic: an entry whose item is gone
is a warning (it makes no card, the YAML keeps it); an error only where an answer would be lost
and cannot be a deletion; what is merely unfinished (unanswered, stale, an unnamed bell, no
YAML at all) is a warning.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import shlex
from collections.abc import Sequence
from pathlib import Path

from mlops_cards.models import (
    Card,
    CardKind,
    Diagnostic,
    ItemKind,
    Lesson,
    LessonContent,
    Level,
    Term,
    Unanswered,
)
from mlops_cards.resolve import LESSON_SUFFIX, sidecar_of
from mlops_cards.sidecar import Answer, Sidecar, TermEntry, closest, load_sidecar

_SECTION: dict[ItemKind, str] = {
    "question": "questions",
    "objective": "objectives",
    "term": "terms",
}


# An entry left over whose snapshot reads this much like an unanswered item is suggested as
# that item reworded (difflib ratio); only a hint, never a match.
_REWORDED = 0.6


@dataclasses.dataclass(frozen=True)
class Move:
    """An entry that follows its item to another key: `check` says so, `init` re-keys it."""

    section: str  # "questions", "objectives" or "terms"
    old: str  # its key in the YAML
    new: str  # its item's key in the lesson now
    line: int  # of the entry's key in the YAML


def match_answers(
    items: Sequence[tuple[str, str]], entries: Sequence[Answer]
) -> tuple[dict[int, Answer], list[Answer]]:
    """Which entry answers which item (`items`: (key, text) in lesson order), and the entries
    no item takes.

    An answer belongs to the text it was written for (its `question:`/`objective:` snapshot),
    so that renumbering, relabelling or swapping items never hands it to another one:
    1. entries whose key and snapshot both agree with an item;
    2. entries whose snapshot is exactly (spaces aside) another item's text take that item;
    3. the rest by key alone: a reworded snapshot (a stale answer), or none written.
    One entry per item; ties go to the first in lesson order, so the result is deterministic.
    """
    texts = [normalise_space(text) for _, text in items]
    index = {key: number for number, (key, _) in enumerate(items)}
    matched: dict[int, Answer] = {}
    rest: list[Answer] = []
    for entry in entries:
        number = index.get(entry.key)
        if number is not None and _snapshot(entry) == texts[number]:
            matched[number] = entry
        else:
            rest.append(entry)
    by_text: dict[str, list[int]] = {}
    for number, text in enumerate(texts):
        by_text.setdefault(text, []).append(number)
    by_key: list[Answer] = []
    for entry in rest:
        free = [n for n in by_text.get(_snapshot(entry) or "", []) if n not in matched]
        if entry.snapshot is not None and free:
            matched[free[0]] = entry
        else:
            by_key.append(entry)
    leftover: list[Answer] = []
    for entry in by_key:
        number = index.get(entry.key)
        if number is not None and number not in matched:
            matched[number] = entry
        else:
            leftover.append(entry)
    return matched, leftover


def _snapshot(entry: Answer) -> str | None:
    return normalise_space(entry.snapshot) if entry.snapshot is not None else None


def moves(lesson: Lesson, sidecar: Sidecar) -> list[Move]:
    """The entries of `sidecar` that follow their items to other keys (what `init` re-keys)."""
    merger = _Merger(lesson, sidecar, sidecar.path)
    merger.run()
    return merger.moves


def sidecar_path(lesson_path: str) -> str:
    """`x/lesson.md` -> `x/lesson.yaml`, in the same form (relative or not) as given."""
    return str(sidecar_of(Path(lesson_path)))


def merge_lesson(lesson: Lesson, sidecar: Path | None = None) -> LessonContent:
    """Merge `lesson` with its sidecar (`sidecar` None: the `.yaml` next to the lesson)."""
    shown = str(sidecar) if sidecar is not None else sidecar_path(lesson.path)
    path = sidecar if sidecar is not None else Path(shown)
    loaded = load_sidecar(path, shown) if path.exists() else None
    content = merge_loaded(lesson, loaded, missing=shown)
    orphan = orphaned_sidecar(lesson) if loaded is None and sidecar is None else None
    if orphan is None:
        return content
    # Instead of "no author YAML, run init", which would start the answers again from nothing.
    kept = tuple(d for d in content.diagnostics if not d.message.startswith("no author YAML"))
    diagnostics = tuple(sorted((*kept, orphan), key=Diagnostic.sort_key))
    return dataclasses.replace(content, diagnostics=diagnostics)


def orphaned_sidecar(lesson: Lesson) -> Diagnostic | None:
    """The error for a lesson with no YAML whose YAML was left behind by a rename.

    A YAML file with no lesson beside it, in the lesson's folder, is taken for this lesson's
    when (conservatively) its `lesson: id:` is this lesson's id, or at least half of its
    `question:`/`objective:` snapshots (and one at least) are this lesson's items' texts, or
    it records no snapshot to compare (snapshots that all differ say it is another lesson's),
    is a valid author YAML, and is the only one without a lesson there while this is the only
    lesson without a YAML there.
    """
    from mlops_cards.discover import leftover_sidecars

    folder = Path(lesson.path).parent
    leftovers = leftover_sidecars(folder)
    if not leftovers:
        return None
    alone = len(leftovers) == 1 and [
        md.name for md in folder.glob("*" + LESSON_SUFFIX) if not sidecar_of(md).exists()
    ] == [Path(lesson.path).name]
    texts = {normalise_space(q.text) for q in lesson.questions}
    texts.update(normalise_space(o.text) for o in lesson.objectives)
    for found in leftovers:
        shown = str(folder / found.name)
        old = load_sidecar(found, shown)
        snapshots = [e.snapshot for e in (*old.questions, *old.objectives) if e.snapshot]
        same = sum(normalise_space(snapshot) in texts for snapshot in snapshots)
        entries = (*old.questions, *old.objectives, *old.terms, *old.extra)
        if old.lesson_id == lesson.id and old.lesson_id is not None:
            why = f"has this lesson's id {lesson.id!r}"
        elif same and 2 * same >= len(snapshots):
            why = f"answers {same} of this lesson's items"
        elif alone and not old.has_errors and entries and not snapshots:
            why = "is the only YAML without a lesson here"
        else:
            continue
        new = sidecar_path(lesson.path)
        return Diagnostic(
            lesson.path,
            1,
            "error",
            f"no author YAML {new} for this lesson, but {shown} has no lesson "
            f"({Path(shown).with_suffix('.md').name} is gone) and {why}: the lesson was "
            "renamed without its YAML",
            f"rename the YAML with it: `git mv {shlex.quote(shown)} {shlex.quote(new)}`",
        )
    return None


def merge_loaded(lesson: Lesson, sidecar: Sidecar | None, missing: str = "") -> LessonContent:
    """Merge with an already loaded sidecar; `missing` names the file when there is none."""
    return _Merger(lesson, sidecar, missing or sidecar_path(lesson.path)).run()


def normalise_space(text: str) -> str:
    return " ".join(text.split())


class _Merger:
    def __init__(self, lesson: Lesson, sidecar: Sidecar | None, yaml_name: str) -> None:
        self.lesson = lesson
        self.sidecar = sidecar
        self.yaml_name = sidecar.path if sidecar else yaml_name
        self.lesson_id = (sidecar.lesson_id if sidecar else None) or lesson.id
        self.cards: list[Card] = []
        self.card_origin: dict[tuple[CardKind, str], str] = {}
        self.unanswered: list[Unanswered] = []
        self.skipped: list[tuple[ItemKind, str]] = []
        self.diagnostics: list[Diagnostic] = list(lesson.diagnostics)
        self.moves: list[Move] = []
        self.renamed: set[int] = set()  # ids of term entries that followed a renamed term

    def say(
        self,
        level: Level,
        line: int,
        message: str,
        hint: str | None = None,
        *,
        in_yaml: bool = True,
        col: int = 1,
    ) -> None:
        path = self.yaml_name if in_yaml else self.lesson.path
        self.diagnostics.append(Diagnostic(path, line, level, message, hint, col))

    def add_card(self, card: Card, origin: str) -> bool:
        """Add `card` unless another card already has its identity (kind, key)."""
        identity = (card.kind, card.key)
        if identity in self.card_origin:
            where = self.card_origin[identity]
            self.say(
                "warning",
                card.line,
                f"{card.kind} {card.key!r} would be a second card with the same key "
                f"(the first comes from {where}); it is left out",
                "give one of them another name in the YAML: terms: {NAME: {bell: N}}",
                in_yaml=origin.startswith(self.yaml_name + ":"),
            )
            return False
        self.card_origin[identity] = origin
        self.cards.append(card)
        return True

    def run(self) -> LessonContent:
        if self.sidecar is None:
            self.say(
                "warning",
                1,
                f"no author YAML: {self.yaml_name} does not exist, so nothing is answered",
                f"run `mlops-cards init {self.lesson.path}` to create it with a stub per item",
                in_yaml=False,
            )
        else:
            self.diagnostics.extend(self.sidecar.diagnostics)
        sidecar = self.sidecar or Sidecar(self.yaml_name)
        self.answerables(
            "objective", [(o.key, o.text, o.line, None) for o in self.lesson.objectives]
        )
        self.answerables(
            "question", [(q.key, q.text, q.line, q.label) for q in self.lesson.questions]
        )
        self.terms()
        for extra in sidecar.extra:
            card = Card(
                self.lesson_id,
                "extra",
                extra.id,
                extra.front,
                extra.back,
                None,
                "",
                extra.tags,
                line=extra.line,
                sidecar_line=extra.back_line,
                sidecar_front_line=extra.front_line,
                formerly=extra.formerly,
                accept=extra.accept,
            )
            self.add_card(card, self.at(extra.line))
        if sidecar.unreadable:  # its one error is what to fix; item warnings would bury it
            self.diagnostics = [*self.lesson.diagnostics, *sidecar.diagnostics]
        lesson = self.lesson
        if lesson.id != self.lesson_id:
            lesson = dataclasses.replace(lesson, id=self.lesson_id)
        return LessonContent(
            lesson=lesson,
            sidecar=self.sidecar.path if self.sidecar else None,
            cards=tuple(self.cards),
            unanswered=tuple(self.unanswered),
            skipped=tuple(self.skipped),
            tags=sidecar.tags,
            diagnostics=tuple(sorted(set(self.diagnostics), key=Diagnostic.sort_key)),
            formerly=sidecar.formerly,
        )

    def at(self, line: int, in_yaml: bool = True) -> str:
        return f"{self.yaml_name if in_yaml else self.lesson.path}:{line}"

    # --- questions and objectives -----------------------------------------------------------

    def answerables(self, kind: ItemKind, items: list[tuple[str, str, int, str | None]]) -> None:
        section = _SECTION[kind]
        entries: tuple[Answer, ...] = ()
        if self.sidecar is not None:
            entries = self.sidecar.questions if kind == "question" else self.sidecar.objectives
        matched, leftover = match_answers([(key, text) for key, text, *_ in items], entries)
        for index, (key, text, line, label) in enumerate(items):
            entry = matched.get(index)
            if entry is not None and entry.key != key:
                self.moved(section, kind, entry.key, key, entry.line, entry.col, "answer")
            if entry is None:
                self.unanswered.append(Unanswered(kind, key, text, line))
                hint = f"add it under {section}: in {self.yaml_name}, or run `mlops-cards init`"
                self.say(
                    "warning",
                    line,
                    f"{kind} {key} has no answer",
                    hint if self.sidecar else None,
                    in_yaml=False,
                )
            elif not entry.valid:  # its error is reported already
                self.unanswered.append(Unanswered(kind, key, text, line))
            elif entry.skip:
                self.skipped.append((kind, key))
            elif entry.answer is None:
                self.unanswered.append(Unanswered(kind, key, text, line))
                at_answer = entry.answer_line > 0  # point where the answer goes
                self.say(
                    "warning",
                    entry.answer_line if at_answer else entry.line,
                    f"{kind} {key} is not answered yet",
                    "write the answer after 'answer:', or set skip: true",
                    col=1 if at_answer else entry.col,
                )
            else:
                self.stale_check(kind, key, text, entry, items, matched)
                card = Card(
                    self.lesson_id,
                    kind,
                    key,
                    text,
                    entry.answer,
                    label,
                    "",
                    entry.tags,
                    line=line,
                    sidecar_line=entry.answer_text_line,
                    formerly=_formerly(entry.formerly, entry.key, key),
                    accept=entry.accept,
                )
                self.add_card(card, self.at(line, False))
        taken = {items[index][0]: entry for index, entry in matched.items()}
        for entry in leftover:
            self.left_over(kind, entry, items, matched, taken.get(entry.key))

    def moved(
        self, section: str, kind: str, old: str, new: str, line: int, col: int, what: str
    ) -> None:
        """The entry for `old` now belongs to the item `new` (matched by its text)."""
        self.moves.append(Move(section, old, new, line))
        shown = (repr(old), repr(new)) if kind == "term" else (old, new)
        self.say(
            "warning",
            line,
            f"{kind} {shown[0]} is now {shown[1]}: its {what} follows it",
            f"run `mlops-cards init {self.lesson.path}` to re-key the YAML",
            col=col,
        )

    def left_over(
        self,
        kind: ItemKind,
        entry: Answer,
        items: list[tuple[str, str, int, str | None]],
        matched: dict[int, Answer],
        holder: Answer | None,
    ) -> None:
        """An entry no item of the lesson takes: most often its item was deleted.

        A warning (it makes no card, and the YAML keeps it), except when the lesson has an
        unanswered item whose key differs only in case or punctuation (`q2` for `Q2`): that
        cannot be a deletion, and the answer would be lost, so it is an error.
        """
        section = _SECTION[kind]
        free = [key for index, (key, *_) in enumerate(items) if index not in matched]
        same = [key for key in free if _loose_key(key) == _loose_key(entry.key)]
        if same and entry.answer is not None:
            self.say(
                "error",
                entry.line,
                f"{section}: {entry.key!r} is not {_article(kind)} {kind} of {self.lesson.path}",
                f"did you mean {same[0]!r}?",
                col=entry.col,
            )
            return
        reworded = self.reworded_item(entry, items, matched)
        fix = f"delete the entry, or restore the {kind} in {self.lesson.path}"
        if reworded is not None:
            fix = f"if it is {kind} {reworded} now (reworded), rename it {reworded}; else {fix}"
        gone = f"{kind} {entry.key} is not in {self.lesson.path} any more"
        if holder is not None:  # the key is there, but the text of another entry took it
            gone = (
                f"the {kind} written for this entry is not in {self.lesson.path} any more "
                f"({kind} {entry.key} now is the one entry {holder.key!r} was written for)"
            )
        if holder is not None and entry.snapshot is None:  # nothing says what it answers
            gone = (
                f"{kind} {entry.key} now is the one entry {holder.key!r} was written for, and "
                f"this entry does not say which {kind} it answers"
            )
            fix = f"write that {kind}'s text after '{kind}:' (the answer then follows it), or {fix}"
        message = f"{gone}: its entry makes no card"
        self.say("warning", entry.line, message, fix, col=entry.col)

    def reworded_item(
        self,
        entry: Answer,
        items: list[tuple[str, str, int, str | None]],
        matched: dict[int, Answer],
    ) -> str | None:
        """The unanswered item whose text is closest to the entry's snapshot, if close."""
        if entry.snapshot is None:
            return None
        then = normalise_space(entry.snapshot)
        best: tuple[float, str] | None = None
        for index, (key, text, *_) in enumerate(items):
            if index in matched:
                continue
            ratio = difflib.SequenceMatcher(None, then, normalise_space(text)).ratio()
            if ratio >= _REWORDED and (best is None or ratio > best[0]):
                best = (ratio, key)
        return best[1] if best else None

    def stale_check(
        self,
        kind: ItemKind,
        key: str,
        text: str,
        entry: Answer,
        items: list[tuple[str, str, int, str | None]],
        matched: dict[int, Answer],
    ) -> None:
        if entry.snapshot is None:
            return
        now, then = normalise_space(text), normalise_space(entry.snapshot)
        if now == then:
            return
        # The text it was written for is another item's, which has its own entry: copying the
        # new text over would make this answer the answer of a question it was not written for.
        owner = next(
            (
                other
                for index, (other, other_text, *_) in enumerate(items)
                if other != key and index in matched and normalise_space(other_text) == then
            ),
            None,
        )
        if owner is not None:
            self.say(
                "warning",
                entry.snapshot_line,
                f"stale answer: {kind} {key} now reads {now!r} but the answer was written "
                f"for {then!r}, which is {kind} {owner} now (answered by its own entry)",
                f"write the answer to {kind} {key} here and copy its text into '{kind}:', "
                "or delete this entry",
            )
            return
        self.say(
            "warning",
            entry.snapshot_line,
            f"stale answer: {kind} {key} now reads {now!r} but the answer was written for {then!r}",
            f"check the answer still fits, then copy the new text into '{kind}:'",
        )

    # --- terms ----------------------------------------------------------------------------

    def terms(self) -> None:
        entries = self.sidecar.terms if self.sidecar else ()
        by_bell: dict[int, TermEntry] = {}
        by_name: dict[str, TermEntry] = {}
        used: set[int] = set()  # entries dealt with (ids: TermEntry equality is by value)
        for entry in entries:
            if entry.bell is not None:
                if entry.bell in by_bell:
                    first = by_bell[entry.bell]
                    self.say(
                        "error",
                        entry.bell_line,
                        f"bell {entry.bell} is named twice: {first.name!r} (line {first.line}) "
                        f"and {entry.name!r} (line {entry.line})",
                        "keep one of them",
                    )
                    used.add(id(entry))
                    continue
                by_bell[entry.bell] = entry
            else:
                by_name[entry.name] = entry
        by_folded = {_fold(name): entry for name, entry in by_name.items()}
        found: list[tuple[TermEntry | None, bool]] = []
        for term in self.lesson.terms:
            hit = by_bell.get(term.bell)
            named_by_yaml = hit is not None
            if hit is None:
                hit = by_name.get(term.key) or by_folded.get(_fold(term.key))
            if hit is not None and id(hit) in used:
                hit = None
            if hit is not None:
                used.add(id(hit))
            found.append((hit, named_by_yaml))
        # A renamed term (`Feature view` -> `Feature views`) keeps its entry: the same name but
        # for plural and punctuation, or the same definition as the lesson's.
        for entry in entries:
            if id(entry) in used or entry.bell is not None or not entry.valid:
                continue
            index = self.renamed_term(entry, found)
            if index is not None:
                used.add(id(entry))
                self.renamed.add(id(entry))
                found[index] = (entry, False)
                term = self.lesson.terms[index]
                self.moved("terms", "term", entry.name, term.key, entry.line, entry.col, "entry")
        for term, (hit, named_by_yaml) in zip(self.lesson.terms, found, strict=True):
            self.lesson_term(term, hit, named_by_yaml)
        lesson_keys = [t.key for t in self.lesson.terms]
        bells = len(self.lesson.terms)
        for entry in entries:
            if id(entry) in used or not entry.valid:
                continue
            match = closest(entry.name, lesson_keys)
            gone = "delete the entry, or restore the term in the lesson"
            if entry.bell is not None:
                self.say(
                    "warning",
                    entry.bell_line,
                    f"term {entry.name!r} names bell {entry.bell}, but the lesson has "
                    f"{bells} bell{'s' if bells != 1 else ''}: it makes no card",
                    f"bells count from 1, the :bell: paragraphs in lesson order; {gone}",
                )
            elif entry.skip:
                self.say(
                    "warning",
                    entry.line,
                    f"terms: {entry.name!r} is skipped but the lesson has no such term",
                    f"did you mean {match!r}?" if match else gone,
                    col=entry.col,
                )
            elif entry.definition is None:
                self.say(
                    "warning",
                    entry.line,
                    f"term {entry.name!r} is not in the lesson and has no definition: "
                    "it makes no card",
                    f"did you mean {match!r}?"
                    if match
                    else f"add 'definition:' for a new term; else {gone}",
                    col=entry.col,
                )
            else:
                card = Card(
                    self.lesson_id,
                    "term",
                    entry.name,
                    entry.name,
                    entry.definition,
                    entry.name,
                    "",
                    entry.tags,
                    line=entry.line,
                    sidecar_line=entry.line,
                    formerly=entry.formerly,
                    accept=entry.accept,
                    cloze=entry.cloze or "",
                    cloze_line=entry.cloze_line,
                )
                self.add_card(card, self.at(entry.line))

    def renamed_term(
        self, entry: TermEntry, found: list[tuple[TermEntry | None, bool]]
    ) -> int | None:
        free = [
            index
            for index, (term, (taken, _)) in enumerate(zip(self.lesson.terms, found, strict=True))
            if taken is None and term.term is not None
        ]
        for index in free:
            if _stem(self.lesson.terms[index].key) == _stem(entry.name):
                return index
        if entry.definition is not None:
            mine = normalise_space(entry.definition)
            for index in free:
                if normalise_space(self.lesson.terms[index].definition) == mine:
                    return index
        return None

    def lesson_term(self, term: Term, entry: TermEntry | None, named_by_yaml: bool) -> None:
        if entry is not None and not entry.valid:
            self.unanswered.append(Unanswered("term", term.key, term.sentence, term.line))
            return
        if entry is not None and entry.skip:
            self.skipped.append(("term", term.key))
            return
        name = entry.name if entry is not None and named_by_yaml else term.term
        if name is None or _is_placeholder(name):
            self.unanswered.append(Unanswered("term", term.key, term.sentence, term.line))
            fix = (
                f"name it in {self.yaml_name}: terms: {{NAME: {{bell: {term.bell}}}}}, "
                f"or skip it: terms: {{bell-{term.bell}: {{skip: true}}}}"
            )
            if entry is None:
                self.say("warning", term.line, f"bell {term.bell} has no term", fix, in_yaml=False)
            else:
                self.say(
                    "warning",
                    entry.line,
                    f"bell {term.bell} has no term yet ({entry.name!r} is a placeholder)",
                    f"rename {entry.name!r} to the term the bell teaches, or set skip: true",
                    col=entry.col,
                )
            return
        from_yaml = entry is not None and bool(entry.definition)
        definition = entry.definition if entry is not None and entry.definition else None
        definition = definition or term.definition
        if not definition.strip():
            self.unanswered.append(Unanswered("term", term.key, term.sentence, term.line))
            self.say(
                "warning",
                term.line,
                f"term {name!r} has no definition",
                f"add one in {self.yaml_name}: terms: {{{name}: {{definition: ...}}}}",
                in_yaml=False,
            )
            return
        tags = entry.tags if entry is not None else ()
        yaml_line = entry.line if entry is not None and from_yaml else 0
        card = Card(
            self.lesson_id,
            "term",
            name,
            name,
            definition,
            name,
            term.sentence,
            tags,
            line=term.line,
            sidecar_line=yaml_line,
            formerly=_formerly(
                entry.formerly if entry else (),
                entry.name if entry is not None and id(entry) in self.renamed else name,
                name,
            ),
            accept=entry.accept if entry is not None else (),
            cloze=(entry.cloze or "") if entry is not None else "",
            cloze_line=entry.cloze_line if entry is not None else 0,
        )
        self.add_card(card, self.at(term.line, False))


def _formerly(written: tuple[str, ...], yaml_key: str, key: str) -> tuple[str, ...]:
    """The keys an item had before: the YAML's key when the entry followed it, then the
    author's `formerly:`."""
    found = ((yaml_key,) if yaml_key != key else ()) + written
    return tuple(dict.fromkeys(k for k in found if k != key))


def _loose_key(key: str) -> str:
    """`q2`, `Q2` and `Q.2` are one key written three ways."""
    return re.sub(r"[^0-9a-z]", "", key.casefold())


def _stem(name: str) -> str:
    """A term name with case, punctuation and a plural left out: `Feature views`, `Registries`."""
    loose = _loose_key(name)
    return loose[:-3] + "y" if loose.endswith("ies") else loose.removesuffix("s")


def _fold(name: str) -> str:
    """Term names match regardless of case and spacing: `Training  Set` is `training set`."""
    return normalise_space(name).casefold()


def _is_placeholder(name: str) -> bool:
    """`bell-3` is what `extract` calls a bell with no term: not a name a card should show."""
    head, _, number = name.partition("-")
    return head == "bell" and number.isdigit()


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"
