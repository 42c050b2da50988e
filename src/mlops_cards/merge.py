"""Merge a lesson with its author YAML into what the lesson teaches: cards, and what is missing.

Every mismatch between the two becomes a diagnostic: an entry for an item the lesson does not
have is an error (the author's answer would be lost); what is merely unfinished (unanswered,
stale, an unnamed bell, no YAML at all) is a warning.
"""

from __future__ import annotations

import dataclasses
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
from mlops_cards.resolve import sidecar_of
from mlops_cards.sidecar import Answer, Sidecar, TermEntry, closest, load_sidecar

_SECTION: dict[ItemKind, str] = {
    "question": "questions",
    "objective": "objectives",
    "term": "terms",
}


def sidecar_path(lesson_path: str) -> str:
    """`x/lesson.md` -> `x/lesson.yaml`, in the same form (relative or not) as given."""
    return str(sidecar_of(Path(lesson_path)))


def merge_lesson(lesson: Lesson, sidecar: Path | None = None) -> LessonContent:
    """Merge `lesson` with its sidecar (`sidecar` None: the `.yaml` next to the lesson)."""
    shown = str(sidecar) if sidecar is not None else sidecar_path(lesson.path)
    path = sidecar if sidecar is not None else Path(shown)
    loaded = load_sidecar(path, shown) if path.exists() else None
    return merge_loaded(lesson, loaded, missing=shown)


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
        )

    def at(self, line: int, in_yaml: bool = True) -> str:
        return f"{self.yaml_name if in_yaml else self.lesson.path}:{line}"

    # --- questions and objectives -----------------------------------------------------------

    def answerables(self, kind: ItemKind, items: list[tuple[str, str, int, str | None]]) -> None:
        section = _SECTION[kind]
        entries: tuple[Answer, ...] = ()
        if self.sidecar is not None:
            entries = self.sidecar.questions if kind == "question" else self.sidecar.objectives
        by_key = {entry.key: entry for entry in entries}
        for key, text, line, label in items:
            entry = by_key.pop(key, None)
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
                self.stale_check(kind, key, text, entry)
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
                )
                self.add_card(card, self.at(line, False))
        for entry in by_key.values():  # left over: the lesson has no such item
            keys = [key for key, *_ in items]
            match = closest(entry.key, keys)
            if match:
                hint = f"did you mean {match!r}?"
            elif keys:
                hint = f"the lesson's {section}: {', '.join(keys)}"
            else:
                hint = f"the lesson has no {section}: delete the entry"
            self.say(
                "error",
                entry.line,
                f"{section}: {entry.key!r} is not {_article(kind)} {kind} of {self.lesson.path}",
                hint,
                col=entry.col,
            )

    def stale_check(self, kind: ItemKind, key: str, text: str, entry: Answer) -> None:
        if entry.snapshot is None:
            return
        now, then = normalise_space(text), normalise_space(entry.snapshot)
        if now != then:
            self.say(
                "warning",
                entry.snapshot_line,
                f"stale answer: {kind} {key} now reads {now!r} but the answer was written "
                f"for {then!r}",
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
        for term in self.lesson.terms:
            found = by_bell.get(term.bell)
            named_by_yaml = found is not None
            if found is None:
                found = by_name.get(term.key) or by_folded.get(_fold(term.key))
            if found is not None:
                used.add(id(found))
            self.lesson_term(term, found, named_by_yaml)
        lesson_keys = [t.key for t in self.lesson.terms]
        bells = len(self.lesson.terms)
        for entry in entries:
            if id(entry) in used or not entry.valid:
                continue
            if entry.bell is not None:
                self.say(
                    "error",
                    entry.bell_line,
                    f"term {entry.name!r} names bell {entry.bell}, but the lesson has "
                    f"{bells} bell{'s' if bells != 1 else ''}",
                    "bells count from 1: the :bell: paragraphs in lesson order",
                )
            elif entry.skip:
                match = closest(entry.name, lesson_keys)
                self.say(
                    "error",
                    entry.line,
                    f"terms: {entry.name!r} is skipped but the lesson has no such term",
                    f"did you mean {match!r}?" if match else "delete the entry",
                    col=entry.col,
                )
            elif entry.definition is None:
                match = closest(entry.name, lesson_keys)
                self.say(
                    "error",
                    entry.line,
                    f"term {entry.name!r} is not in the lesson and has no definition",
                    f"did you mean {match!r}?" if match else "add 'definition:' for a new term",
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
                )
                self.add_card(card, self.at(entry.line))

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
        )
        self.add_card(card, self.at(term.line, False))


def _fold(name: str) -> str:
    """Term names match regardless of case and spacing: `Training  Set` is `training set`."""
    return normalise_space(name).casefold()


def _is_placeholder(name: str) -> bool:
    """`bell-3` is what `extract` calls a bell with no term: not a name a card should show."""
    head, _, number = name.partition("-")
    return head == "bell" and number.isdigit()


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"
