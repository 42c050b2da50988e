"""Author YAML ("sidecar": `lesson.md` -> `lesson.yaml`): load it safely, keep every line number.

The file is composed into YAML nodes (never constructed into Python objects, so no tag can run
code) and walked by hand: that is what lets every problem name its line, catch duplicate keys
(PyYAML keeps the last one silently) and suggest the key the author meant. Past this module the
content is typed frozen dataclasses; problems are `Diagnostic`s, never exceptions.

Format (documented for authors in the README and `sidecar.schema.json`):

    lesson:     {id: TEXT, tags: [TAG...], formerly: [OLD-ID...]}
    questions:  {KEY: {question: TEXT, answer: MARKDOWN, skip: BOOL, tags: [TAG...]}}
    objectives: {NUMBER: {objective: TEXT, answer: MARKDOWN, skip: BOOL, tags: [TAG...]}}
    terms:      {NAME: {definition: MARKDOWN, bell: N, cloze: CLOZE, skip: BOOL, tags: [TAG...]}}
    extra:      [{id: TEXT, front: MARKDOWN, back: MARKDOWN, tags: [TAG...]}]

Every entry may also say `formerly: OLD-KEY` (or a list): the key its item had before, for the
lock to keep the item's note when content matching cannot tell.
Every entry may also hold `accept: [RULE...]`: card-quality rules (quality.py) the author
accepts for that card. `cloze:` is Markdown with `{{c1::hidden}}` markers (cloze.py checks them).

`answer:` left empty (null) means "still to write" (a warning later); an answer that is present
but blank (`""`, an empty `|` block) is an error, as it would make a card with an empty back.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

import yaml

from mlops_cards import cloze
from mlops_cards.errors import CardsError
from mlops_cards.limits import (
    MAX_YAML_BYTES,
    compose_within_limits,
    long_line,
    read_limited,
    yaml_problem,
)
from mlops_cards.models import Diagnostic
from mlops_cards.quality import RULES

TOP_LEVEL_FIELDS = ("lesson", "questions", "objectives", "terms", "extra")
LESSON_FIELDS = ("id", "tags", "formerly")
QUESTION_FIELDS = ("question", "answer", "skip", "tags", "formerly", "accept")
OBJECTIVE_FIELDS = ("objective", "answer", "skip", "tags", "formerly", "accept")
TERM_FIELDS = ("definition", "bell", "skip", "tags", "formerly", "cloze", "accept")
EXTRA_FIELDS = ("id", "front", "back", "tags", "formerly", "accept")

_CORE = "tag:yaml.org,2002:"
STR, INT, BOOL, NULL, FLOAT = (_CORE + t for t in ("str", "int", "bool", "null", "float"))
MAP, SEQ = _CORE + "map", _CORE + "seq"
# Tags a plain YAML file can produce by itself; anything else (`!!python/...`, `!custom`) is
# refused before anything looks at its value.
_ALLOWED_TAGS = {STR, INT, BOOL, NULL, FLOAT, MAP, SEQ, _CORE + "timestamp"}
_SPACE = re.compile(r"\s")


@dataclass(frozen=True)
class Answer:
    """An entry under `questions:` or `objectives:`."""

    key: str
    line: int  # of the key
    col: int
    snapshot: str | None = None  # `question:`/`objective:`: the text the answer was written for
    snapshot_line: int = 0
    answer: str | None = None  # None: not written yet
    answer_line: int = 0
    answer_text_line: int = 0  # where the answer's text starts (after `|`), for card errors
    skip: bool = False
    tags: tuple[str, ...] = ()
    valid: bool = True  # False: an error was reported for it; merge makes no card, says no more
    formerly: tuple[str, ...] = ()  # `formerly:`: keys the item had before
    accept: tuple[str, ...] = ()  # card-quality rules the author accepts for this card


@dataclass(frozen=True)
class TermEntry:
    """An entry under `terms:`: names, defines or skips a lesson term, or adds a new one."""

    name: str
    line: int
    col: int
    definition: str | None = None
    bell: int | None = None  # names the term of the lesson's N-th bell
    bell_line: int = 0
    skip: bool = False
    tags: tuple[str, ...] = ()
    valid: bool = True
    formerly: tuple[str, ...] = ()
    cloze: str | None = None  # the author's cloze text, markers checked
    cloze_line: int = 0  # where its text starts
    accept: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExtraCard:
    """An item of `extra:`: a card the lesson does not have."""

    id: str
    front: str
    back: str
    line: int
    col: int
    tags: tuple[str, ...] = ()
    front_line: int = 0  # where each text starts, for errors found when rendering it
    back_line: int = 0
    formerly: tuple[str, ...] = ()
    accept: tuple[str, ...] = ()


class _AnswerFields(TypedDict, total=False):
    """What an entry under `questions:`/`objectives:` said, as `Answer`'s keyword arguments."""

    snapshot: str | None
    snapshot_line: int
    answer: str | None
    answer_line: int
    answer_text_line: int
    skip: bool
    tags: tuple[str, ...]
    formerly: tuple[str, ...]
    accept: tuple[str, ...]


class _TermFields(TypedDict, total=False):
    """What an entry under `terms:` said, as `TermEntry`'s keyword arguments."""

    definition: str | None
    bell: int | None
    bell_line: int
    skip: bool
    tags: tuple[str, ...]
    formerly: tuple[str, ...]
    cloze: str | None
    cloze_line: int
    accept: tuple[str, ...]


@dataclass(frozen=True)
class Sidecar:
    path: str  # as shown to the user
    lesson_id: str | None = None
    lesson_id_line: int = 0
    tags: tuple[str, ...] = ()
    questions: tuple[Answer, ...] = ()
    objectives: tuple[Answer, ...] = ()
    terms: tuple[TermEntry, ...] = ()
    extra: tuple[ExtraCard, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    formerly: tuple[str, ...] = ()  # `lesson: formerly:`: ids the lesson had before
    unreadable: bool = False  # not read at all (YAML syntax, encoding, size): one error says it

    @property
    def has_errors(self) -> bool:
        return any(d.level == "error" for d in self.diagnostics)


def closest(word: str, choices: Iterator[str] | list[str] | tuple[str, ...]) -> str | None:
    """The choice an author most likely meant, if any is close enough."""
    options = list(choices)
    found = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not found:  # `q1` for `Q1`: case slips are the commonest
        lowered = {o.lower(): o for o in options}
        hit = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
        return lowered[hit[0]] if hit else None
    return found[0]


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str | None:
    match = closest(word, choices)
    return f"did you mean {match!r}?" if match else None


def load_sidecar(path: Path, shown: str | None = None) -> Sidecar:
    """Read and check one sidecar file. Unreadable files become diagnostics too."""
    name = shown if shown is not None else str(path)
    try:
        data = read_limited(
            path,
            MAX_YAML_BYTES,
            name,
            "YAML file",
            "shorten the answers, or split the lesson",
            markup=True,
        )
    except CardsError as exc:  # the message already names the file: keep the rest
        return _failed(name, 1, str(exc).removeprefix(f"{name}: "), None)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return _failed(name, line, "not UTF-8 text", "save the file as UTF-8")
    return parse_sidecar(text, name)


def _failed(path: str, line: int, message: str, hint: str | None, col: int = 1) -> Sidecar:
    error = Diagnostic(path, line, "error", message, hint, col)
    return Sidecar(path, diagnostics=(error,), unreadable=True)


def parse_sidecar(text: str, path: str) -> Sidecar:
    """Check sidecar text; `path` is only used in messages."""
    too_long = long_line(text)
    if too_long is not None:
        return _failed(path, too_long.line, too_long.message(), "break it into shorter lines")
    composed = compose_within_limits(text)  # the common case: one libyaml pass
    if composed is not None:
        return _Walker(path).sidecar(composed[0])
    problem = yaml_problem(text)
    if problem is not None:
        return _failed(path, problem.line, problem.message, problem.hint, problem.col)
    try:
        root = _compose(text)
    except yaml.MarkedYAMLError as exc:
        return _failed(path, *_syntax_error(exc, text))
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return _failed(
            path,
            line,
            f"invalid YAML: the control character U+{code:04X} is not allowed",
            "delete it; it is often invisible, so retype the line",
        )
    except yaml.YAMLError as exc:  # no position known
        return _failed(path, 1, f"invalid YAML: {exc}", None)
    return _Walker(path).sidecar(root)


def _compose(text: str) -> yaml.Node | None:
    """The node tree, through libyaml when PyYAML has it (about 20x faster). Text libyaml refuses
    is composed again by PyYAML's own parser, so error messages are the same either way."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            node: yaml.Node | None = yaml.compose(text, Loader=fast)
            return node
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


def _syntax_error(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, str, str | None, int]:
    """(line, message, hint, col) for a YAML syntax error, in an author's words where we can.

    PyYAML notices a mistake where the text stops making sense, often lines after the author's
    slip: a quote or bracket left open swallows what follows. The error is moved back to where
    that quote or bracket opened, and a bad indentation says which indentation would fit.
    """
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or exc.context or "cannot parse"
    opened = _left_open(exc, text)
    if opened is not None:
        return opened
    hint = None
    if exc.context and exc.context_mark:
        hint = f"{exc.context} at line {exc.context_mark.line + 1}"
    if "could not find expected ':'" in problem and exc.context_mark:
        mark = exc.context_mark  # the key missing its ':' is where the author must look
        line, col = mark.line + 1, mark.column + 1
        hint = "a key needs ':' after it; quote text that contains ': '"
    elif "unknown escape character" in problem:
        hint = _BACKSLASH
    elif "expected <block end>, but found '<block mapping start>'" in problem and mark:
        return _bad_indent(text, mark.line, "which lines up with no key above it")
    elif "expected <block end>, but found '<scalar>'" in problem and mark:
        before = text[: mark.index].rstrip(" ")
        if before.endswith(("'", '"')):
            problem = f"the text goes on after its closing {before[-1]}"
            hint = _QUOTE_INSIDE[before[-1]]
    elif "mapping values are not allowed" in problem and mark:
        lines = text.splitlines()
        here = lines[mark.line] if mark.line < len(lines) else ""
        above = _line_above(text, mark.line)
        first_colon = ": " not in here[: mark.column] and _KEY_LINE.match(here)
        if first_colon and _VALUE_LINE.match(above) and _indent(here) > _indent(above):
            return _bad_indent(
                text,
                mark.line,
                "deeper than the key above it, so YAML reads it as more of that key's text",
            )
        hint = "check the indentation, and quote text that contains ': '"
    elif "found another document" in problem:
        problem = "a second YAML document ('---') in one file"
        hint = "one sidecar holds one document: remove the extra '---'"
    elif "found character '\\t'" in problem:
        hint = "YAML indents with spaces, not tabs"
    return line, f"invalid YAML: {problem}", hint, col


_BACKSLASH = "in \"double quotes\" a backslash starts an escape: write LaTeX in 'single quotes'"
_CLOSERS = {"[": "]", "{": "}"}
_QUOTE_INSIDE = {
    "'": "inside 'single quotes' write an apostrophe twice (it''s), or use double quotes",
    '"': 'inside "double quotes" write a quote as \\", or use single quotes',
}
_VALUE_LINE = re.compile(r"\s*(- )?[^\s#-][^:]*:\s+[^\s#|>]")  # `key: value`, whose text may go on
_KEY_LINE = re.compile(r"\s*(- )?[^\s#-][^:]*:(\s|$)")  # `key:` or `- key:`, not text in a block


def _left_open(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, str, str | None, int] | None:
    """The error at the quote or bracket that opened on an earlier line and was never closed."""
    end = exc.problem_mark
    if end is None:
        return None
    start = exc.context_mark
    context = exc.context or ""
    if start is None or start.line >= end.line or "quoted scalar" not in context:
        start = _multiline_quote(text, end.index)
    if start is not None and start.line < end.line:
        quote = text[start.index]
        where = (
            "never closed"
            if exc.problem == "found unexpected end of stream"
            else (f"not closed on its line, so the text runs on to line {end.line + 1}")
        )
        hint = (
            f"end the text with {quote} on line {start.line + 1}, or write it as a block after '|'"
        )
        if quote == '"' and "escape" in (exc.problem or ""):
            hint += f"; {_BACKSLASH}"
        return (
            start.line + 1,
            f"invalid YAML: the {quote} opened here is {where}",
            hint,
            start.column + 1,
        )
    start = exc.context_mark
    if start is not None and start.line < end.line and "flow" in context:
        bracket = text[start.index]
        if bracket in _CLOSERS:
            return (
                start.line + 1,
                f"invalid YAML: the '{bracket}' opened here is not closed on its line",
                f"close it with '{_CLOSERS[bracket]}' on line {start.line + 1}",
                start.column + 1,
            )
    return None


def _multiline_quote(text: str, before: int) -> yaml.Mark | None:
    """Where the last quoted text read before `before` opened, when it ran on over lines that
    look like keys (`answer: ...`): a quote left open, closed by the next quote in the file."""
    found = None
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if token.start_mark.index >= before:
                break
            if isinstance(token, yaml.ScalarToken) and token.style in ('"', "'"):
                inside = text[token.start_mark.index : token.end_mark.index].split("\n")[1:]
                swallowed = any(_KEY_LINE.match(line) for line in inside)
                found = token.start_mark if swallowed else None
    except yaml.YAMLError:
        pass
    return found


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _line_above(text: str, index: int) -> str:
    """The nearest line above line `index` (0-based) with something on it besides a comment."""
    lines = text.splitlines()
    for line in reversed(lines[:index]):
        if line.strip() and not line.lstrip().startswith("#"):
            return line
    return ""


def _bad_indent(text: str, index: int, reading: str) -> tuple[int, str, str | None, int]:
    """A line (0-based `index`) indented to match no key above it: say which indentations fit."""
    lines = text.splitlines()
    indent = _indent(lines[index])
    fits: list[int] = []  # the indentation of each key still open above, innermost first
    for line in reversed(lines[:index]):
        if _KEY_LINE.match(line) and (not fits or _indent(line) < fits[-1]):
            fits.append(_indent(line))
    if not fits:
        fits = [0]
    outer = f", or {' or '.join(map(str, fits[1:]))} for an outer level" if fits[1:] else ""
    return (
        index + 1,
        f"invalid YAML: this line is indented {indent} spaces, {reading}",
        f"indent it {fits[0]} spaces like the key above it{outer}",
        indent + 1,
    )


class _Walker:
    """Walks the composed nodes, collecting diagnostics and typed entries."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.diagnostics: list[Diagnostic] = []
        self.bad_nodes: set[int] = set()  # ids of nodes with a refused tag: reported once

    # --- reporting -------------------------------------------------------------------------

    def error(self, node: yaml.Node, message: str, hint: str | None = None) -> None:
        mark = node.start_mark
        self.diagnostics.append(
            Diagnostic(self.path, mark.line + 1, "error", message, hint, mark.column + 1)
        )

    # --- generic shapes --------------------------------------------------------------------

    def check_tags(self, root: yaml.Node) -> None:
        """Report every node with a refused tag, and never look inside one.

        The nodes are visited a level at a time (the errors are sorted later, so the order
        does not matter), each once: aliases share nodes (no "billion laughs"), and a node may
        even contain itself.
        """
        seen = {id(root)}
        level = [root]
        while level:
            for node in [node for node in level if node.tag not in _ALLOWED_TAGS]:
                self.bad_nodes.add(id(node))
                tag = node.tag.replace(_CORE, "!!")
                self.error(
                    node,
                    f"YAML tag {tag} is not allowed",
                    "sidecars hold plain text, numbers, true/false, lists and mappings only",
                )
            inside = [node for node in level if id(node) not in self.bad_nodes]
            children = [
                c for node in inside if isinstance(node, yaml.SequenceNode) for c in node.value
            ]
            children += [
                item
                for node in inside
                if isinstance(node, yaml.MappingNode)
                for pair in node.value
                for item in pair
            ]
            fresh = {id(child): child for child in children if id(child) not in seen}
            seen.update(fresh)
            level = list(fresh.values())

    def entries(
        self, node: yaml.Node, what: str, fields: tuple[str, ...] | None
    ) -> list[tuple[str, yaml.Node, yaml.Node]] | None:
        """The (key text, key node, value node) of a mapping; None when it is not one.

        Keys are taken as written (`1:` is "1"), duplicates and (with `fields`) unknown keys are
        errors and left out. A null value (`questions:` with nothing under it) is an empty mapping.
        """
        if id(node) in self.bad_nodes:
            return None
        if node.tag == NULL:
            return []
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"{what} must be a mapping (key: value lines), not {_kind(node)}")
            return None
        result: list[tuple[str, yaml.Node, yaml.Node]] = []
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if id(key_node) in self.bad_nodes:
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == NULL:
                self.error(key_node, f"a key in {what} must be plain text, not {_kind(key_node)}")
                continue
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in first_line:
                self.error(
                    key_node,
                    f"duplicate key {key!r} in {what} (first at line {first_line[key]}, "
                    f"again at line {line})",
                    "YAML would silently keep only the last one: merge them or delete one",
                )
                continue
            first_line[key] = line
            if fields is not None and key not in fields:
                hint = did_you_mean(key, fields) or f"allowed here: {', '.join(fields)}"
                self.error(key_node, f"unknown key {key!r} in {what}", hint)
                continue
            result.append((key, key_node, value_node))
        return result

    def text(self, node: yaml.Node, field: str) -> str | None:
        """A text value; None for null or on error (reported). Numbers are not silently text."""
        if id(node) in self.bad_nodes or node.tag == NULL:
            return None
        if isinstance(node, yaml.ScalarNode) and node.tag == STR:
            return str(node.value)
        hint = None
        if isinstance(node, yaml.ScalarNode):
            hint = f'quote it: {field}: "{node.value}"'
        elif isinstance(node, yaml.MappingNode):
            hint = "text containing ': ' must be quoted, or written as a block after '|'"
        self.error(node, f"{field} must be text, not {_kind(node)}", hint)
        return None

    def flag(self, node: yaml.Node, field: str) -> bool | None:
        if id(node) in self.bad_nodes:
            return None
        if isinstance(node, yaml.ScalarNode) and node.tag == BOOL:
            value: bool = yaml.SafeLoader.bool_values[node.value.lower()]
            return value
        self.error(node, f"{field} must be true or false, not {_kind(node)}", f"{field}: true")
        return None

    def number(self, node: yaml.Node, field: str) -> int | None:
        if id(node) in self.bad_nodes:
            return None
        if isinstance(node, yaml.ScalarNode) and node.tag == INT:
            value = yaml.SafeLoader(node.value).construct_yaml_int(node)
            if isinstance(value, int) and value >= 1:
                return value
            self.error(node, f"{field} must be 1 or more (bells count from 1), not {value}")
            return None
        self.error(node, f"{field} must be a whole number, not {_kind(node)}", f"{field}: 1")
        return None

    def tag_list(self, node: yaml.Node) -> tuple[str, ...] | None:
        if id(node) in self.bad_nodes:
            return None
        if node.tag == NULL:
            return ()
        if isinstance(node, yaml.ScalarNode) and node.tag == STR:
            self.error(node, "tags must be a list", f"tags: [{node.value}]")
            return None
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, f"tags must be a list of words, not {_kind(node)}")
            return None
        tags: list[str] = []
        ok = True
        for item in node.value:
            if item.tag == NULL:
                self.error(item, "empty tag", "delete the empty list item")
                ok = False
                continue
            tag = self.text(item, "a tag")
            if tag is None:
                ok = False
                continue
            if not tag.strip() or _SPACE.search(tag):
                self.error(
                    item,
                    f"tag {tag!r} contains a space (Anki tags cannot)",
                    f"write {'-'.join(tag.split()) or 'a word'!r}, or use '::' for a hierarchy",
                )
                ok = False
                continue
            if tag not in tags:
                tags.append(tag)
        return tuple(tags) if ok else None

    def formerly(self, node: yaml.Node, what: str) -> tuple[str, ...] | None:
        """`formerly:`: one old key (or lesson id), or a list of them; None on error."""
        if id(node) in self.bad_nodes:
            return None
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        found: list[str] = []
        for item in items:
            if not (isinstance(item, yaml.ScalarNode) and item.tag in (STR, INT, FLOAT)):
                self.error(item, f"formerly must be {what} or a list of them, not {_kind(item)}")
                return None
            if not item.value.strip():
                self.error(item, f"formerly must be {what}, not empty text")
                return None
            found.append(item.value.strip())
        return tuple(dict.fromkeys(found))

    def rule_list(self, node: yaml.Node) -> tuple[str, ...] | None:
        """`accept: [long-answer, ...]`: card-quality rule ids, each one known."""
        if id(node) in self.bad_nodes:
            return None
        if node.tag == NULL:
            return ()
        if isinstance(node, yaml.ScalarNode) and node.tag == STR:
            self.error(node, "accept must be a list of rule ids", f"accept: [{node.value}]")
            return None
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, f"accept must be a list of rule ids, not {_kind(node)}")
            return None
        rules: list[str] = []
        ok = True
        for item in node.value:
            rule = self.text(item, "a rule id")
            if rule is None:
                ok = False
            elif rule not in RULES:
                hint = did_you_mean(rule, RULES) or f"the rules: {', '.join(RULES)}"
                self.error(item, f"unknown card-quality rule {rule!r}", hint)
                ok = False
            elif rule not in rules:
                rules.append(rule)
        return tuple(rules) if ok else None

    def cloze_text(self, node: yaml.Node, owner: str) -> str | None:
        """`cloze:` text whose markers are sound; a problem points at its own line."""
        if isinstance(node, yaml.MappingNode) and node.flow_style:  # `cloze: {{c1::x}}`
            self.error(
                node,
                f"the cloze for {owner} is read as a YAML mapping",
                'YAML reads an unquoted {{ as one: quote the text, cloze: "{{c1::…}} …"',
            )
            return None
        text, _ok = self.answer_text(node, "cloze", owner)
        if text is None:
            if node.tag == NULL and id(node) not in self.bad_nodes:
                self.error(node, f"empty cloze for {owner}", "write {{c1::…}} text, or delete it")
            return None
        _parts, problem = cloze.parse(text)
        if problem is None:
            return text
        line, col = node.start_mark.line + 1, node.start_mark.column + 1
        if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
            before = text[: problem.offset]
            line, col = _text_line(node) + before.count("\n"), 1
        self.diagnostics.append(
            Diagnostic(
                self.path,
                line,
                "error",
                f"{problem.message} in the cloze for {owner}",
                problem.hint,
                col,
            )
        )
        return None

    def answer_text(self, node: yaml.Node, field: str, owner: str) -> tuple[str | None, bool]:
        """(text, ok): a blank but present value is an error; null means "not written yet"."""
        value = self.text(node, field)
        if value is None:
            return None, node.tag == NULL and id(node) not in self.bad_nodes
        if not value.strip():
            self.error(
                node,
                f"empty {field} for {owner}",
                f"write the {field}, leave '{field}:' with nothing after it while it is "
                "still to write, or set skip: true",
            )
            return None, False
        return value, True

    def outdented(
        self,
        key: str,
        key_node: yaml.Node,
        value: yaml.Node,
        fields: tuple[str, ...],
        above: yaml.Node | None,
        kind: str,
        owner: str,
    ) -> bool:
        """`answer:` indented like the entries instead of under the one above it: one error that
        says so (rather than "not a question" and "not answered yet"); the caller makes the
        entry above it invalid."""
        if key not in fields or not isinstance(above, yaml.MappingNode):
            return False
        if isinstance(value, yaml.MappingNode):
            return False
        want = above.start_mark.column
        self.error(
            key_node,
            f"{key!r} is indented {key_node.start_mark.column} spaces, so it reads as a {kind} "
            f"of its own, not as part of {owner}",
            f"indent it {want} spaces, like the lines above it",
        )
        return True

    # --- the format ------------------------------------------------------------------------

    def sidecar(self, root: yaml.Node | None) -> Sidecar:
        if root is None:  # an empty file, or only comments
            return Sidecar(self.path)
        self.check_tags(root)
        if not isinstance(root, yaml.MappingNode) and id(root) not in self.bad_nodes:
            if root.tag != NULL:
                self.error(
                    root,
                    f"the file must be a mapping with {', '.join(TOP_LEVEL_FIELDS)}, "
                    f"not {_kind(root)}",
                    "see `mlops-cards schema`",
                )
            return self.result()
        top = self.entries(root, "the file", TOP_LEVEL_FIELDS) or []
        parts = {key: value for key, _, value in top}
        lesson_id, lesson_id_line, tags, formerly = self.lesson(parts.get("lesson"))
        questions = self.answers(parts.get("questions"), "questions", "question", QUESTION_FIELDS)
        objectives = self.answers(
            parts.get("objectives"), "objectives", "objective", OBJECTIVE_FIELDS
        )
        terms = self.terms(parts.get("terms"))
        extra = self.extra(parts.get("extra"))
        return self.result(
            Sidecar(
                self.path,
                lesson_id=lesson_id,
                lesson_id_line=lesson_id_line,
                tags=tags,
                questions=questions,
                objectives=objectives,
                terms=terms,
                extra=extra,
                formerly=formerly,
            )
        )

    def result(self, sidecar: Sidecar | None = None) -> Sidecar:
        """`sidecar` (default: an empty one) with every diagnostic found, each once."""
        unique = sorted(set(self.diagnostics), key=Diagnostic.sort_key)  # aliases repeat nodes
        return dataclasses.replace(sidecar or Sidecar(self.path), diagnostics=tuple(unique))

    def lesson(
        self, node: yaml.Node | None
    ) -> tuple[str | None, int, tuple[str, ...], tuple[str, ...]]:
        if node is None:
            return None, 0, (), ()
        fields = self.entries(node, "lesson", LESSON_FIELDS) or []
        lesson_id: str | None = None
        line = 0
        tags: tuple[str, ...] = ()
        formerly: tuple[str, ...] = ()
        for key, _, value in fields:
            if key == "id":
                lesson_id, _ok = self.answer_text(value, "id", "the lesson")
                line = value.start_mark.line + 1
                if lesson_id is not None and _SPACE.search(lesson_id.strip()):
                    self.error(
                        value,
                        f"lesson id {lesson_id!r} contains a space",
                        f"write {'-'.join(lesson_id.lower().split())!r}",
                    )
                    lesson_id = None
                elif lesson_id is not None:
                    lesson_id = lesson_id.strip()
            elif key == "tags":
                tags = self.tag_list(value) or ()
            elif key == "formerly":
                formerly = self.formerly(value, "a lesson id") or ()
                spaced = [old for old in formerly if _SPACE.search(old)]
                if spaced:
                    self.error(value, f"lesson id {spaced[0]!r} contains a space")
                    formerly = ()
        return lesson_id, line, tags, formerly

    def answers(
        self, node: yaml.Node | None, section: str, kind: str, fields: tuple[str, ...]
    ) -> tuple[Answer, ...]:
        if node is None:
            return ()
        result: list[Answer] = []
        above: yaml.Node | None = None  # the entry before, to catch its field indented too little
        for key, key_node, value in self.entries(node, section, None) or []:
            if result and self.outdented(key, key_node, value, fields, above, kind, result[-1].key):
                result[-1] = dataclasses.replace(result[-1], valid=False)  # no card, no warning
                continue
            above = value
            owner = f"{kind} {key}"
            line, col = key_node.start_mark.line + 1, key_node.start_mark.column + 1
            items = self.entries(value, owner, fields)
            if items is None:
                result.append(Answer(key, line, col, valid=False))
                continue
            entry: _AnswerFields = {}
            valid = True
            for field, _, field_node in items:
                field_line = field_node.start_mark.line + 1
                if field == kind:  # the snapshot: `question:` / `objective:`
                    entry["snapshot"] = self.text(field_node, field)
                    entry["snapshot_line"] = field_line
                    valid = valid and (entry["snapshot"] is not None or field_node.tag == NULL)
                elif field == "answer":
                    entry["answer"], ok = self.answer_text(field_node, "answer", owner)
                    entry["answer_line"] = field_line
                    entry["answer_text_line"] = _text_line(field_node)
                    valid = valid and ok
                elif field == "skip":
                    skip = self.flag(field_node, "skip")
                    entry["skip"] = bool(skip)
                    valid = valid and skip is not None
                elif field == "tags":
                    tags = self.tag_list(field_node)
                    entry["tags"] = tags or ()
                    valid = valid and tags is not None
                elif field == "formerly":
                    formerly = self.formerly(field_node, "a key")
                    entry["formerly"] = formerly or ()
                    valid = valid and formerly is not None
                elif field == "accept":
                    accept = self.rule_list(field_node)
                    entry["accept"] = accept or ()
                    valid = valid and accept is not None
            valid = valid and len(items) == _len(value)
            result.append(Answer(key, line, col, valid=valid, **entry))
        return tuple(result)

    def terms(self, node: yaml.Node | None) -> tuple[TermEntry, ...]:
        if node is None:
            return ()
        result: list[TermEntry] = []
        above: yaml.Node | None = None
        for name, key_node, value in self.entries(node, "terms", None) or []:
            if result and self.outdented(
                name, key_node, value, TERM_FIELDS, above, "term", result[-1].name
            ):
                result[-1] = dataclasses.replace(result[-1], valid=False)
                continue
            above = value
            owner = f"term {name!r}"
            line, col = key_node.start_mark.line + 1, key_node.start_mark.column + 1
            if not name.strip():
                self.error(key_node, "a term name must not be empty")
                continue
            items = self.entries(value, owner, TERM_FIELDS)
            if items is None:
                result.append(TermEntry(name, line, col, valid=False))
                continue
            entry: _TermFields = {}
            valid = len(items) == _len(value)
            for field, _, field_node in items:
                if field == "definition":
                    entry["definition"], ok = self.answer_text(field_node, "definition", owner)
                elif field == "bell":
                    entry["bell"] = self.number(field_node, "bell")
                    entry["bell_line"] = field_node.start_mark.line + 1
                    ok = entry["bell"] is not None
                elif field == "skip":
                    skip = self.flag(field_node, "skip")
                    entry["skip"], ok = bool(skip), skip is not None
                elif field == "formerly":
                    formerly = self.formerly(field_node, "a term name")
                    entry["formerly"], ok = formerly or (), formerly is not None
                elif field == "cloze":
                    entry["cloze"] = self.cloze_text(field_node, owner)
                    entry["cloze_line"] = _text_line(field_node)
                    ok = entry["cloze"] is not None
                elif field == "accept":
                    accept = self.rule_list(field_node)
                    entry["accept"], ok = accept or (), accept is not None
                else:
                    tags = self.tag_list(field_node)
                    entry["tags"], ok = tags or (), tags is not None
                valid = valid and ok
            result.append(TermEntry(name, line, col, valid=valid, **entry))
        return tuple(result)

    def extra(self, node: yaml.Node | None) -> tuple[ExtraCard, ...]:
        if node is None or id(node) in self.bad_nodes or node.tag == NULL:
            return ()
        if not isinstance(node, yaml.SequenceNode):
            self.error(
                node,
                f"extra must be a list of cards, not {_kind(node)}",
                "start each card with '- id: ...'",
            )
            return ()
        cards: list[ExtraCard] = []
        first_line: dict[str, int] = {}
        for item in node.value:
            line, col = item.start_mark.line + 1, item.start_mark.column + 1
            fields = self.entries(item, "an extra card", EXTRA_FIELDS)
            if fields is None:
                continue
            values: dict[str, yaml.Node] = {key: value for key, _, value in fields}
            ok = len(fields) == _len(item)
            card: dict[str, str | None] = {}
            for field in ("id", "front", "back"):
                if field not in values:
                    self.error(item, f"extra card has no {field!r}", f"add '{field}: ...'")
                    ok = False
                    continue
                owner = f"extra card {card.get('id') or f'at line {line}'}"
                card[field], field_ok = self.answer_text(values[field], field, owner)
                if card[field] is None and field_ok:  # null: nothing written
                    self.error(values[field], f"empty {field} for {owner}", f"write the {field}")
                ok = ok and card[field] is not None
            tags = self.tag_list(values["tags"]) if "tags" in values else ()
            formerly = self.formerly(values["formerly"], "an id") if "formerly" in values else ()
            accept = self.rule_list(values["accept"]) if "accept" in values else ()
            card_id = card.get("id")
            if card_id is not None:
                card_id = card_id.strip()
                if card_id in first_line:
                    self.error(
                        values["id"],
                        f"extra card id {card_id!r} is used twice (first at line "
                        f"{first_line[card_id]}, again at line {values['id'].start_mark.line + 1})",
                        "ids keep cards stable in Anki: give each card its own",
                    )
                    continue
                first_line[card_id] = values["id"].start_mark.line + 1
            front, back = card.get("front"), card.get("back")
            known = formerly is not None and accept is not None
            if ok and tags is not None and known and card_id and front and back:
                text_lines = _text_line(values["front"]), _text_line(values["back"])
                cards.append(
                    ExtraCard(
                        card_id,
                        front,
                        back,
                        line,
                        col,
                        tags,
                        *text_lines,
                        formerly=formerly or (),
                        accept=accept or (),
                    )
                )
        return tuple(cards)


def _len(node: yaml.Node) -> int:
    return len(node.value) if isinstance(node, yaml.MappingNode) else 0


def _kind(node: yaml.Node) -> str:
    """How an author would call what they wrote."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return {
        STR: "text",
        INT: f"the number {node.value}",
        FLOAT: f"the number {node.value}",
        BOOL: f"{node.value} (true/false)",
        NULL: "nothing",
        _CORE + "timestamp": f"the date {node.value}",
    }.get(node.tag, node.tag)


def _text_line(node: yaml.Node) -> int:
    """The line a value's text starts on: the line after the indicator of a `|`/`>` block."""
    line: int = node.start_mark.line + 1
    block = isinstance(node, yaml.ScalarNode) and node.style in ("|", ">")
    return line + 1 if block else line
