"""`init`: create or complete a lesson's sidecar with a stub for every item still unanswered,
and re-key the entries whose items the lesson renumbered, relabelled or renamed.

Authors' files are edited as text, never re-dumped: stubs are inserted after the last line of the
block they belong to (or a missing block is appended at the end), so values, comments, key order
and blank lines stay byte for byte. The result is parsed again and compared with the original
before anything is written; whatever cannot be done that way is refused, not guessed. Re-keying
replaces the text of a key and nothing else (`Q2:` becomes `Q3:`); which entry belongs to which
item is `merge.match_answers`' decision, the same one `check` reports.

Stub shapes (all count as unanswered, never as errors):

    questions:
      Q1:
        question: What is MLOps?     # the snapshot a stale-answer check compares with
        answer:                      # empty: still to write
    terms:
      bell-3:  # rename to its term, or skip: true. "Career Tip: ..."
        bell: 3
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from mlops_cards.errors import CardsError
from mlops_cards.merge import (
    Move,
    merge_loaded,
    moves,
    normalise_space,
    orphaned_sidecar,
    sidecar_path,
)
from mlops_cards.models import Diagnostic, Lesson, Term
from mlops_cards.sidecar import Sidecar, load_sidecar, parse_sidecar

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_SECTIONS = ("questions", "objectives", "terms")  # the order new blocks are written in


class SidecarHasErrors(CardsError):
    """The existing sidecar has errors: `init` will not edit a file it cannot read for sure."""

    def __init__(self, path: str, diagnostics: tuple[Diagnostic, ...]) -> None:
        super().__init__(f"{path}: fix its errors first; init does not edit a broken file")
        self.diagnostics = diagnostics


@dataclass(frozen=True)
class Scaffold:
    path: Path  # where the sidecar lives
    shown: str  # as shown to the user
    old: str | None  # None: the file does not exist yet
    new: str
    stubs: int
    rekeyed: tuple[Move, ...] = ()  # entries given their item's new key

    def summary(self) -> str:
        """What was done, for the terminal: `re-keyed 2 entries (Q1 -> Q2, ...), added 1 stub`."""
        stubs = f"{self.stubs} stub{'s' if self.stubs != 1 else ''}"
        if self.old is None:
            return f"created with {stubs}"
        if not self.rekeyed:
            return f"added {stubs}"
        count = len(self.rekeyed)
        renames = ", ".join(f"{move.old} -> {move.new}" for move in self.rekeyed)
        done = f"re-keyed {count} entr{'ies' if count != 1 else 'y'} ({renames})"
        return f"{done}, added {stubs}" if self.stubs else done

    @property
    def changed(self) -> bool:
        return self.old != self.new

    def diff(self) -> str:
        old_lines = (self.old or "").splitlines(keepends=True)
        new_lines = self.new.splitlines(keepends=True)
        before = self.shown if self.old is not None else "/dev/null"
        return "".join(difflib.unified_diff(old_lines, new_lines, before, self.shown))


def scaffold(lesson: Lesson) -> Scaffold:
    """The sidecar text `init` would write for `lesson` (nothing is written here)."""
    shown = sidecar_path(lesson.path)
    path = Path(shown)
    old: str | None = None
    sidecar: Sidecar | None = None
    rekeyed: list[Move] = []
    base: str | None = None  # `old` re-keyed: what the stubs are added to
    if path.exists():
        sidecar = load_sidecar(path, shown)
        if sidecar.has_errors:
            errors = tuple(d for d in sidecar.diagnostics if d.level == "error")
            raise SidecarHasErrors(shown, errors)
        old = path.read_bytes().decode("utf-8")
        base, rekeyed = _rekey(old, lesson, sidecar, shown)
        if rekeyed:
            sidecar = parse_sidecar(base, shown)
    else:
        orphan = orphaned_sidecar(lesson)
        if orphan is not None:  # a fresh empty file would hide the answers written there
            raise CardsError(f"{orphan.message} ({orphan.hint}); init creates no second one")
    stubs = _stubs(lesson, sidecar)
    count = sum(len(entries) for entries in stubs.values())
    if base is None:
        new = _new_file(lesson, stubs)
    else:
        # Right after the last entry's content first; if that would change a value (a `|+`
        # block keeps its trailing blank lines), after everything the block holds.
        new = _insert(base, stubs, shown)
        if not _faithful(base, new, shown):
            new = _insert(base, stubs, shown, loose=True)
    _verify(base, new, shown)
    return Scaffold(path, shown, old, new, count, tuple(rekeyed))


# --- re-keying -----------------------------------------------------------------------------


def _rekey(old: str, lesson: Lesson, sidecar: Sidecar, shown: str) -> tuple[str, list[Move]]:
    """`old` with every entry that follows its item under that item's key now."""
    found = moves(lesson, sidecar)
    if not found:
        return old, []
    root = yaml.compose(old, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        return old, []  # cannot happen: the moves came from these very sections
    blocks = {key.value: value for key, value in root.value}
    moving = {(move.section, move.old) for move in found}
    spans: list[tuple[int, int, str]] = []
    for move in found:
        block = blocks[move.section]
        assert isinstance(block, yaml.MappingNode)
        keys = {key.value: key for key, _ in block.value}
        holder = keys.get(move.new)
        if holder is not None and (move.section, move.new) not in moving:
            raise CardsError(
                f"{shown}:{holder.start_mark.line + 1}: init cannot re-key {move.old!r} to "
                f"{move.new!r}: the entry {move.new!r} answers nothing in the lesson any more "
                "(see `mlops-cards check`); delete it or give it another key, then run init again"
            )
        key = keys[move.old]
        spans.append((key.start_mark.index, key.end_mark.index, _key_like(key, move.new)))
    new = old
    for start, end, text in sorted(spans, reverse=True):
        new = new[:start] + text + new[end:]
    if not _renamed_faithfully(old, new, found, lesson, shown):
        raise CardsError(
            f"{shown}: init could not re-key the entries without changing what is written "
            "there; rename them by hand (and please report this)"
        )
    return new, found


def _key_like(node: yaml.ScalarNode, key: str) -> str:
    """`key` written the way the author wrote the key it replaces (plain, "double", 'single')."""
    if node.style == '"':
        return json.dumps(key, ensure_ascii=False)
    if node.style == "'":
        return "'" + key.replace("'", "''") + "'"
    return _key(key)


def _renamed_faithfully(old: str, new: str, found: list[Move], lesson: Lesson, shown: str) -> bool:
    """`new` holds what `old` holds with exactly these keys renamed, and needs no more."""
    sidecar = parse_sidecar(new, shown)
    if sidecar.has_errors or moves(lesson, sidecar):
        return False
    before, after = yaml.safe_load(old), yaml.safe_load(new)
    if not isinstance(before, dict) or not isinstance(after, dict) or set(before) != set(after):
        return False
    for section, value in before.items():
        names = {move.old: move.new for move in found if move.section == section}
        if not names:
            if after[section] != value:
                return False
            continue
        if not isinstance(value, dict) or not isinstance(after[section], dict):
            return False
        expected = {names.get(str(key), str(key)): entry for key, entry in value.items()}
        if {str(key): entry for key, entry in after[section].items()} != expected:
            return False
    return True


# --- what is missing -----------------------------------------------------------------------


def _stubs(lesson: Lesson, sidecar: Sidecar | None) -> dict[str, list[list[str]]]:
    """Per section, the stub entries (lines relative to the entry's indent) to add."""
    content = merge_loaded(lesson, sidecar)
    missing = {(u.kind, u.key) for u in content.unanswered}
    have_questions = {e.key for e in sidecar.questions} if sidecar else set()
    have_objectives = {e.key for e in sidecar.objectives} if sidecar else set()
    have_bells = {e.bell for e in sidecar.terms} if sidecar else set()
    have_terms = {normalise_space(e.name).casefold() for e in sidecar.terms} if sidecar else set()
    stubs: dict[str, list[list[str]]] = {section: [] for section in _SECTIONS}
    for question in lesson.questions:
        if ("question", question.key) in missing and question.key not in have_questions:
            stubs["questions"].append(_answer_stub(question.key, "question", question.text))
    for objective in lesson.objectives:
        if ("objective", objective.key) in missing and objective.key not in have_objectives:
            stubs["objectives"].append(_answer_stub(objective.key, "objective", objective.text))
    for term in lesson.terms:
        known = term.bell in have_bells or normalise_space(term.key).casefold() in have_terms
        if ("term", term.key) in missing and not known:
            stubs["terms"].append(_term_stub(term))
    return stubs


def _answer_stub(key: str, field: str, text: str) -> list[str]:
    return [f"{_key(key)}:", *_field(field, text, "  "), "  answer:"]


def _term_stub(term: Term) -> list[str]:
    if term.term is None:
        about = normalise_space("".join(c if c.isprintable() else " " for c in term.sentence))
        about = about if len(about) <= 40 else about[:39].rstrip() + "…"
        note = f'rename to its term, or skip: true. "{about}"'
        return [f"{_key(term.key)}:  # {note}", f"  bell: {term.bell}"]
    return [f"{_key(term.key)}:", "  definition:"]


def _key(key: str) -> str:
    """A mapping key as plain YAML when that reads back as the same text, else quoted."""
    try:
        node = yaml.compose(f"{key}: x", Loader=yaml.SafeLoader)
        if isinstance(node, yaml.MappingNode) and node.value[0][0].value == key:
            return key
    except yaml.YAMLError:
        pass
    return json.dumps(key, ensure_ascii=False)


def _field(field: str, text: str, indent: str) -> list[str]:
    """`field: text` as YAML lines: plain, a `|-` block for several lines, or double-quoted."""
    candidates: list[list[str]] = []
    if "\n" not in text:
        candidates.append([f"{indent}{field}: {text}"])
    else:
        block = [f"{indent}  {line}" if line else "" for line in text.split("\n")]
        candidates.append([f"{indent}{field}: |-", *block])
    candidates.append([f"{indent}{field}: {json.dumps(text, ensure_ascii=False)}"])
    for lines in candidates:
        try:
            if yaml.safe_load("\n".join(lines)) == {field: text}:
                return lines
        except yaml.YAMLError:
            continue
    raise CardsError(f"cannot write {text!r} as YAML (please report this as a bug)")


# --- writing it in -------------------------------------------------------------------------


def _new_file(lesson: Lesson, stubs: dict[str, list[list[str]]]) -> str:
    name = Path(lesson.path).name
    lines = [
        f"# Author YAML for {name}: answers, term names and definitions, extra cards.",
        "# An empty 'answer:' is still to write; 'skip: true' keeps an item off the cards.",
        f"# Check it with: mlops-cards check {lesson.path}",
        "lesson:",
        f"  id: {_key(lesson.id)}  # pinned, so cards keep their identity if the file is renamed",
    ]
    for section in _ordered(stubs):
        lines.append(f"{section}:")
        lines.extend(_indented(stubs[section], "  "))
    return "\n".join(lines) + "\n"


def _ordered(stubs: dict[str, list[list[str]]]) -> list[str]:
    return [section for section in _SECTIONS if stubs[section]]


def _indented(entries: list[list[str]], indent: str) -> list[str]:
    return [f"{indent}{line}" if line else "" for entry in entries for line in entry]


def _insert(old: str, stubs: dict[str, list[list[str]]], shown: str, loose: bool = False) -> str:
    if not any(stubs.values()):
        return old
    lines = _LINE.findall(old)
    newline = "\r\n" if "\r\n" in old else "\n"
    root = yaml.compose(old, Loader=yaml.SafeLoader)
    blocks = {}
    if isinstance(root, yaml.MappingNode):
        blocks = {key.value: (key, value) for key, value in root.value}
    elif root is not None:
        raise CardsError(f"{shown}: not a mapping; init cannot add to it")
    insertions: list[tuple[int, list[str]]] = []  # (insert before this line index, lines)
    appended: list[str] = []
    for section in _ordered(stubs):
        if section not in blocks:
            if isinstance(root, yaml.MappingNode) and root.flow_style:
                raise CardsError(f"{shown}: written in flow style {{...}}; init cannot add to it")
            indent = " " * (root.value[0][0].start_mark.column if root and root.value else 0)
            appended.append(f"{indent}{section}:")
            appended.extend(_indented(stubs[section], indent + "  "))
            continue
        key, value = blocks[section]
        if isinstance(value, yaml.MappingNode) and not value.flow_style and value.value:
            indent = " " * value.value[0][0].start_mark.column
            after = _block_end(value, lines) if loose else _last_line(value, lines)
        elif isinstance(value, yaml.ScalarNode) and value.value == "" and value.style is None:
            indent = " " * (key.start_mark.column + 2)  # `questions:` with nothing after it
            after = key.start_mark.line
        else:
            raise CardsError(
                f"{shown}:{key.start_mark.line + 1}: init can only add to a '{section}:' block "
                "written one entry per line; add the stubs by hand or rewrite it that way"
            )
        insertions.append((after + 1, _indented(stubs[section], indent)))
    if appended:
        insertions.append((len(lines), appended))
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += newline  # the added lines start on a line of their own
    # Bottom up, so earlier indexes stay valid; at the same index the later block goes in first
    # so that the blocks end up in the order they were planned.
    for _, index, added in sorted(
        ((order, index, added) for order, (index, added) in enumerate(insertions)),
        key=lambda item: (item[1], item[0]),
        reverse=True,
    ):
        lines[index:index] = [line + newline for line in added]
    return "".join(lines)


def _last_line(node: yaml.Node, lines: list[str]) -> int:
    """0-based index of the last line holding `node`'s content (not trailing blanks/comments)."""
    flow = getattr(node, "flow_style", False)
    if isinstance(node, yaml.MappingNode) and node.value and not flow:
        key, value = node.value[-1]
        return max(_last_line(key, lines), _last_line(value, lines))
    if isinstance(node, yaml.SequenceNode) and node.value and not flow:
        return _last_line(node.value[-1], lines)
    start, end = node.start_mark.line, node.end_mark
    line = end.line - 1 if end.column == 0 and end.line > start else end.line
    while line > start and line < len(lines) and not lines[line].strip():
        line -= 1
    return min(line, len(lines) - 1)


def _block_end(node: yaml.Node, lines: list[str]) -> int:
    """0-based index of the last line of `node` including trailing blank and comment lines."""
    end = node.end_mark
    line = end.line - 1 if end.column == 0 else end.line
    return max(node.start_mark.line, min(line, len(lines) - 1))


def _faithful(old: str | None, new: str, shown: str) -> bool:
    """`new` is a valid sidecar that keeps every value the author wrote in `old`."""
    if parse_sidecar(new, shown).has_errors:
        return False
    return old is None or _keeps(yaml.safe_load(new), yaml.safe_load(old))


def _verify(old: str | None, new: str, shown: str) -> None:
    if not _faithful(old, new, shown):
        raise CardsError(
            f"{shown}: init could not add stubs without changing what is written there; "
            "add them by hand (and please report this)"
        )


def _keeps(new: object, old: object) -> bool:
    """Everything in `old` is still in `new` unchanged (new keys may have been added)."""
    if old is None:  # `questions:` with nothing after it may have received entries
        return new is None or isinstance(new, dict)
    if isinstance(old, dict) and isinstance(new, dict):
        return all(key in new and _keeps(new[key], value) for key, value in old.items())
    return new == old
