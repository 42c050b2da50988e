"""Read a lesson written in the course's Markdown dialect and say what is in it.

The lesson is parsed once with markdown-it-py; each construct (front matter, title, objectives,
tasks, questions, terms) is then found by its own small function walking the token stream. Item
texts are the Markdown source of the item (taken from the parsed block, so container prefixes such
as list indentation and `>` are gone) with the marker, label and noise removed.
"""

from __future__ import annotations

import functools
import re
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from mlops_cards.discover import lesson_id_from_path, slugify
from mlops_cards.errors import CardsError
from mlops_cards.limits import MAX_LESSON_BYTES, long_line, read_limited, yaml_problem
from mlops_cards.models import Diagnostic, Lesson, Objective, Question, Task, Term
from mlops_cards.text import plain_text

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token


@functools.cache
def _parser() -> MarkdownIt:
    """Made on first use: a `check` that finds every lesson in the cache never imports it.

    Only the block structure is needed: items are sliced from each block's source text, so
    the inline pass (half the parse time) is switched off."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.front_matter import front_matter_plugin

    return MarkdownIt("commonmark").enable("table").use(front_matter_plugin).disable("inline")


# --- small text helpers ---------------------------------------------------------------------

# `[^{}\n]` (not `[^}\n]`) here and below: a failed match stops at the next `{`, `[`, `<`, so a
# long line full of openers costs linear time, not quadratic.
_KRAMDOWN_ATTR = re.compile(r"\s*\{:[^{}\n]*\}")
_TRAILING_BR = re.compile(r"(?:\s*<br\s*/?>)+\s*$", re.IGNORECASE)
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_CHECKBOX = re.compile(r"^\[([ xX])\](?:\s+|$)")


# Each substitution below first checks for a character its pattern needs: most texts have
# none, and the check costs far less than running the pattern.


def clean_markdown(text: str) -> str:
    """Drop kramdown attributes, trailing `<br>` and hard-break backslashes; keep the rest."""
    if "{:" in text:
        text = _KRAMDOWN_ATTR.sub("", text)
    lines = []
    for line in text.split("\n"):
        if "<" in line:
            line = _TRAILING_BR.sub("", line)
        line = line.rstrip()
        if line.endswith("\\") and not line.endswith("\\\\"):
            line = line[:-1].rstrip()
        lines.append(line)
    return "\n".join(lines).strip()


__all__ = ["lesson_id_from_path", "slugify"]  # the id rules live in discover, with their use


def _line(token: Token) -> int:
    return token.map[0] + 1 if token.map else 0


# --- the parsed lesson ----------------------------------------------------------------------


_LIST_OPEN = ("bullet_list_open", "ordered_list_open")
_LIST_CLOSE = ("bullet_list_close", "ordered_list_close")
_NOTED = frozenset(
    ("paragraph_open", "heading_open", "list_item_open", "front_matter", *_LIST_OPEN, *_LIST_CLOSE)
)


class _Parsed:
    """What every construct finder needs: the tokens, the path, and a place for diagnostics.

    One pass over the tokens notes where the blocks the finders look at start, so that each
    finder visits only those instead of walking every token again.
    """

    def __init__(self, path: str, tokens: list[Token], text: str) -> None:
        self.path = path
        self.tokens = tokens
        self.text = text  # the normalised source, for slicing blocks by their token map
        self.diagnostics: list[Diagnostic] = []
        self.front_matter: Token | None = None
        self.blocks: list[int] = []  # heading_open and paragraph_open indexes, in order
        self.paragraphs: list[int] = []  # the inline token of every paragraph, nested or not
        # Every list item: its list_item_open index, how deep its list is nested in others,
        # and the last heading before it outside any list (the section its task belongs to).
        self.items: list[tuple[int, int, int | None]] = []
        self._heading_texts: dict[int, str] = {}
        heading: int | None = None
        open_lists = 0
        for index, token in enumerate(tokens):
            kind = token.type
            if kind not in _NOTED:
                continue
            if kind == "paragraph_open":
                self.blocks.append(index)
                if index + 1 < len(tokens) and tokens[index + 1].type == "inline":
                    self.paragraphs.append(index + 1)
            elif kind == "list_item_open":
                self.items.append((index, open_lists - 1, heading))
            elif kind == "heading_open":
                self.blocks.append(index)
                if open_lists == 0:
                    heading = index
            elif kind in _LIST_OPEN:
                open_lists += 1
            elif kind in _LIST_CLOSE:
                open_lists -= 1
            elif kind == "front_matter" and self.front_matter is None:
                self.front_matter = token

    def warn(self, line: int, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(self.path, line, "warning", message, hint))

    def heading_text(self, heading_index: int) -> str:
        """The plain text of the heading opened at heading_index (the title, a section name)."""
        text = self._heading_texts.get(heading_index)
        if text is None:
            text = self._heading_texts[heading_index] = plain_text(
                self.tokens[heading_index + 1].content
            )
        return text


def _normalise(text: str) -> str:
    """One newline style and no BOM, so line numbers match what editors show."""
    text = text.lstrip("\ufeff")
    if "\r" in text:  # `replace` scans the whole text even when there is nothing to replace
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


# --- front matter and title -----------------------------------------------------------------


@dataclass(frozen=True)
class _FrontMatter:
    sort: int | None = None
    title: str | None = None
    id: str | None = None


def _front_matter(parsed: _Parsed, text: str) -> _FrontMatter:
    token = parsed.front_matter
    if token is None:
        if text.startswith("---\n"):
            parsed.warn(1, "front matter is opened with `---` but never closed", "add a `---` line")
        return _FrontMatter()
    problem = yaml_problem(token.content)
    if problem is not None:
        parsed.warn(1 + problem.line, f"front matter ignored: {problem.message}", problem.hint)
        return _FrontMatter()
    try:
        data = _load_front_matter(token.content)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = 2 + (mark.line if mark is not None else 0)
        parsed.warn(line, f"front matter is not valid YAML: {getattr(exc, 'problem', exc)}")
        return _FrontMatter()
    if data is None:
        return _FrontMatter()
    if not isinstance(data, dict):
        parsed.warn(1, "front matter is not a mapping of keys to values", "write `sort: 1`")
        return _FrontMatter()
    return _FrontMatter(
        sort=_front_matter_int(parsed, data, "sort"),
        title=_front_matter_str(parsed, data, "title"),
        id=_front_matter_str(parsed, data, "id"),
    )


# Front matter made only of `key: value` lines of ASCII words and numbers (`sort: 3`, `title:
# Data drift`) reads the same with libyaml as with PyYAML's own parser, which is 20 times slower.
# Anything else goes to the latter, whose error messages the warnings quote. (No part of a line
# can match two ways: the check takes linear time on any line.)
_SIMPLE_LINE = r"(?:[A-Za-z_][A-Za-z0-9_-]*:(?: +(?:[A-Za-z0-9_.(][A-Za-z0-9_.,() -]*)?)?)?"
_SIMPLE_FRONT_MATTER = re.compile(rf"{_SIMPLE_LINE}(?:\n{_SIMPLE_LINE})*")


def _load_front_matter(content: str) -> object:
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None and _SIMPLE_FRONT_MATTER.fullmatch(content):
        try:
            return yaml.load(content, Loader=fast)
        except yaml.YAMLError:  # not expected; if it happens, report what PyYAML says
            pass
    return yaml.safe_load(content)


def _front_matter_int(parsed: _Parsed, data: dict[object, object], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    parsed.warn(
        1, f"front matter `{key}` should be a whole number, not {_shorten(repr(value), 60)}"
    )
    return None


def _front_matter_str(parsed: _Parsed, data: dict[object, object], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value).strip() or None
    parsed.warn(1, f"front matter `{key}` should be text, not {_shorten(repr(value), 60)}")
    return None


def _title(parsed: _Parsed, front: _FrontMatter) -> str | None:
    if front.title:
        return front.title
    for index in parsed.blocks:
        if parsed.tokens[index].type == "heading_open":
            return parsed.heading_text(index) or None
    return None


# --- lists: the items of a list, objectives and tasks ---------------------------------------


@dataclass(frozen=True)
class _Item:
    """One list item: its first paragraph's Markdown, checkbox state and where it sits."""

    text: str
    line: int
    depth: int
    checkbox: str | None  # " " or "x" for task-list items, None for plain items


def _first_inline(tokens: list[Token], item_index: int) -> Token | None:
    """The inline token of a list item's first paragraph, if the item starts with one."""
    nxt = tokens[item_index + 1] if item_index + 1 < len(tokens) else None
    if nxt is not None and nxt.type == "paragraph_open":
        return tokens[item_index + 2]
    return None


def _list_item(tokens: list[Token], index: int, depth: int, task_only: bool) -> _Item | None:
    """The list item opened at token index; with `task_only`, None unless it has a checkbox
    (the text of other items is not even cleaned then)."""
    inline = _first_inline(tokens, index)
    content = inline.content if inline is not None else ""
    match = _CHECKBOX.match(content) if content.startswith("[") else None
    if match is None and task_only:
        return None
    checkbox = match.group(1).lower() if match else None
    text = clean_markdown(content[match.end() :] if match else content)
    return _Item(text, _line(tokens[index]), max(depth, 0), checkbox)


def _list_items(tokens: list[Token], start: int, stop: int) -> Iterator[_Item]:
    """Every list item between token indexes start and stop, nested ones with their depth."""
    depth = -1
    for index in range(start, stop):
        kind = tokens[index].type
        if kind == "list_item_open":
            item = _list_item(tokens, index, depth, task_only=False)
            assert item is not None
            yield item
        elif kind in _LIST_OPEN:
            depth += 1
        elif kind in _LIST_CLOSE:
            depth -= 1


def _block_end(tokens: list[Token], open_index: int) -> int:
    """Index just past the close token matching the open token at open_index."""
    level = tokens[open_index].level
    for index in range(open_index + 1, len(tokens)):
        if tokens[index].level == level and tokens[index].nesting == -1:
            return index + 1
    return len(tokens)


_OBJECTIVES_HEADING = re.compile(
    r"^(?:\d+[.)]?\s*)?(?:today['’]?s\s+)?learning\s+objectives\s*:?$", re.I
)
_OBJECTIVES_INTRO = re.compile(r"(?:able to|learn to|learning objectives)\s*:$", re.I)


def _objectives_range(parsed: _Parsed) -> tuple[int, int, bool] | None:
    """Token range of the objectives, and whether only its first list counts.

    A heading such as `## Learning Objectives` opens a section that ends at the next heading of
    the same or higher level; a paragraph ending in "able to:" introduces the list right after it.
    """
    tokens = parsed.tokens
    for index in parsed.blocks:
        if tokens[index].type == "heading_open":
            if _OBJECTIVES_HEADING.match(parsed.heading_text(index)):
                return index + 3, _section_end(tokens, index), False
        # plain_text only removes characters: a paragraph without ':' cannot end in one.
        elif ":" in tokens[index + 1].content:
            text = plain_text(tokens[index + 1].content)
            if _OBJECTIVES_INTRO.search(text):
                after = index + 3
                if after < len(tokens) and tokens[after].type.endswith("list_open"):
                    return after, _block_end(tokens, after), True
    return None


def _section_end(tokens: list[Token], heading_index: int) -> int:
    level = int(tokens[heading_index].tag[1:])
    for index in range(heading_index + 1, len(tokens)):
        token = tokens[index]
        if token.type == "heading_open" and int(token.tag[1:]) <= level:
            return index
    return len(tokens)


def _objective_items(parsed: _Parsed) -> list[_Item]:
    tokens = parsed.tokens
    found = _objectives_range(parsed)
    if found is None:
        return []
    start, stop, whole_list = found
    items = list(_list_items(tokens, start, stop))
    if whole_list:
        return items
    tasks = [item for item in items if item.checkbox is not None]
    if tasks:
        return tasks
    # A heading section without task items: the first list in it holds the objectives.
    first = next((i for i in range(start, stop) if tokens[i].type.endswith("list_open")), None)
    if first is None:
        parsed.warn(
            _line(tokens[start - 3]),
            "the learning objectives section has no list of objectives",
            "list them as `- [ ] ...` items",
        )
        return []
    return list(_list_items(tokens, first, _block_end(tokens, first)))


def _objectives(items: list[_Item]) -> tuple[Objective, ...]:
    return tuple(Objective(str(n), item.text, item.line) for n, item in enumerate(items, 1))


def _tasks(parsed: _Parsed, objective_lines: set[int]) -> tuple[Task, ...]:
    """Every task-list item that is not an objective, with the heading it sits under."""
    tasks: list[Task] = []
    for index, depth, heading in parsed.items:
        item = _list_item(parsed.tokens, index, depth, task_only=True)
        if item is not None and item.line not in objective_lines:
            section = None if heading is None else parsed.heading_text(heading) or None
            tasks.append(Task(item.text, item.line, section, item.depth, item.checkbox == "x"))
    return tuple(tasks)


# --- questions ------------------------------------------------------------------------------

_PENCIL = ":pencil:"
_LABEL_FORMS = (
    # **Exercise** 3a:   **Exercise 3a:**   **Exercise:** (no label)
    re.compile(r"^\*\*Exercise\*\*\s*(?P<label>[\w.]+)\s*[:.]\s*", re.I),
    re.compile(r"^\*\*Exercise\s+(?P<label>[\w.]+)\s*[:.]?\*\*\s*[:.]?\s*", re.I),
    re.compile(r"^\*\*Exercise\s*:?\*\*\s*:?\s*", re.I),
    # __2a__   **2a**   __Q1.__
    re.compile(r"^(?:__|\*\*)(?P<label>Q?\d+(?:\.\d+)*[a-z]?)[.:]?(?:__|\*\*)\s*[.:]?\s*", re.I),
    # Q1.  Q1:  Q3 (space)
    re.compile(r"^(?P<label>Q\d+(?:\.\d+)*[a-z]?)(?:[.:)]\s*|\s+|$)", re.I),
    # 3.1a   2.1a   1:   3)
    re.compile(r"^(?P<label>\d+(?:\.\d+)*[a-z]?)(?:[.:)]\s+|[:)]|\s+|$)", re.I),
)


def split_label(text: str) -> tuple[str | None, str]:
    """`Q1. What is MLOps?` -> ("Q1", "What is MLOps?"); unlabelled text -> (None, text)."""
    for form in _LABEL_FORMS:
        match = form.match(text)
        if match:
            label = match.groupdict().get("label")
            return label, text[match.end() :].strip()
    return None, text.strip()


@dataclass
class _RawQuestion:
    line: int
    parts: list[str]


def _questions_in_paragraph(inline: Token) -> list[_RawQuestion]:
    """Split one paragraph into questions: each `:pencil:` (after a line start or `<br>`) opens one.

    Text after a question on a following line (a soft break) continues it.
    """
    questions: list[_RawQuestion] = []
    first_line = _line(inline)
    for offset, line in enumerate(inline.content.split("\n")):
        for segment in _BR.split(line):
            stripped = segment.strip()
            if stripped.startswith(_PENCIL):
                body = stripped[len(_PENCIL) :]
                questions.append(_RawQuestion(first_line + offset, [body]))
            elif stripped and questions:
                questions[-1].parts.append(stripped)
    return questions


def _fence_markdown(token: Token) -> str:
    if token.type == "code_block":
        return "\n".join("    " + line for line in token.content.rstrip("\n").split("\n"))
    return f"{token.markup}{token.info}\n{token.content}{token.markup}"


def _following_block(parsed: _Parsed, close_index: int, ends_with_colon: bool) -> str | None:
    """What a question continues into: the code block right after its paragraph, or the list
    right after it when the question ends with a colon ("install the following packages:")."""
    nxt = close_index + 1
    tokens = parsed.tokens
    if nxt >= len(tokens) or tokens[nxt].level != tokens[close_index].level:
        return None
    token = tokens[nxt]
    if token.type in ("fence", "code_block"):
        return _fence_markdown(token)
    if ends_with_colon and token.type.endswith("list_open") and token.map:
        source = "\n".join(parsed.text.split("\n")[token.map[0] : token.map[1]])
        return clean_markdown(textwrap.dedent(source))
    return None


def _questions(parsed: _Parsed) -> tuple[Question, ...]:
    raw: list[tuple[_RawQuestion, str | None]] = []  # each question and what follows it
    tokens = parsed.tokens
    for index in [i for i in parsed.paragraphs if _PENCIL in tokens[i].content]:
        found = _questions_in_paragraph(tokens[index])
        if not found:
            continue
        ends_with_colon = clean_markdown(found[-1].parts[-1]).endswith(":")
        code = _following_block(parsed, index + 1, ends_with_colon)
        for position, question in enumerate(found):
            raw.append((question, code if position == len(found) - 1 else None))
    return _key_questions(parsed, raw)


def _key_questions(
    parsed: _Parsed, raw: list[tuple[_RawQuestion, str | None]]
) -> tuple[Question, ...]:
    questions: list[Question] = []
    first_seen: dict[str, int] = {}
    next_suffix: dict[str, int] = {}
    for position, (question, code) in enumerate(raw, 1):
        label, first = split_label(clean_markdown(question.parts[0]))
        text = "\n".join([first, *(clean_markdown(p) for p in question.parts[1:])]).strip()
        if code is not None:
            text = f"{text}\n\n{code}" if text else code
        key = label if label is not None else f"q{position}"
        key = _unique_key(parsed, key, question.line, first_seen, next_suffix)
        questions.append(Question(key, label, text, question.line))
    return tuple(questions)


def _unique_key(
    parsed: _Parsed,
    key: str,
    line: int,
    first_seen: dict[str, int],
    next_suffix: dict[str, int],
) -> str:
    """A repeated label gets `-2`, `-3`, ... and a warning naming both lines."""
    if key not in first_seen:
        first_seen[key] = line
        return key
    # Start after the last suffix given to this key: 10,000 repeats cost linear time.
    suffix = next_suffix.get(key, 2)
    while f"{key}-{suffix}" in first_seen:
        suffix += 1
    next_suffix[key] = suffix + 1
    unique = f"{key}-{suffix}"
    first_seen[unique] = line
    parsed.warn(
        line,
        f"question label {key} is used again (first on line {first_seen[key]}, again on line "
        f"{line}); this one is keyed {unique}",
        "give each question its own label",
    )
    return unique


# --- terms ----------------------------------------------------------------------------------

_BELL = re.compile(r"^\(?:bell:\)?\s*")
_BELL_STARTS = (":bell:", "(:bell:")
# A tip is labelled by a tip word, optionally after a qualifier from a short list: "Career Tip:",
# "Pro tip:". Any other word before it makes a real term ("Type hint: ...").
_TIP = re.compile(
    r"^(?:\*\*|__)?(?:(?:career|pro|quick|study|exam|friendly|side|useful|helpful|final)\s+)?"
    r"(?:note|tip|hint|warning|caution|important|reminder|remember)"
    r"\s*(?::\s*(?:\*\*|__)|(?:\*\*|__)\s*:|:)",
    re.I,
)
_BOLD_TERM = re.compile(
    r"^(?:\*\*|__)(?P<term>[^*_\n]{1,80}?)\s*(?::\s*(?:\*\*|__)|(?:\*\*|__)\s*:)\s*"
)
_COLON_TERM = re.compile(r"^(?P<term>[^:.!?\n]{1,60}?):\s+")
_REFERS_TO = re.compile(r"^['\"‘“]?(?P<term>[^'\"’”.!?\n]{1,60}?)['\"’”]?\s+refers?\s+to\b", re.I)
_IS_ARE = re.compile(r"^(?P<subject>[^.!?\n]{1,80}?)\s+(?:is|are)\b", re.I)
_CODE_TERM = re.compile(r"(?<!`)(`+)(?P<term>[^`\n]{1,60}?)\1")
_CALLED = re.compile(
    r"\b(?:called|known as|named)\s+(?P<term>\[[^\]]+\]|\*\*[^*]+\*\*|'[^']+'|\"[^\"]+\")"
)
_NOT_A_SUBJECT = {
    *("this", "that", "it", "there", "these", "those", "they", "here", "which", "what", "you"),
    *("we", "and", "but", "or", "so", "if", "when", "why", "how", "in", "on", "for", "to"),
    *("also", "not", "remember", "note", "please", "make", "sure", "always", "never", "one"),
}


@dataclass(frozen=True)
class _TermShape:
    term: str | None
    definition: str


def find_term(sentence: str) -> _TermShape:
    """Find the term a bell paragraph names, by the shape of its first sentence."""
    if _TIP.match(sentence):
        return _TermShape(None, sentence)
    for shape in (_bold_term, _refers_to_term, _colon_term, _is_are_term, _code_term, _called_term):
        found = shape(sentence)
        if found is not None:
            return found
    return _TermShape(None, sentence)


def _bold_term(sentence: str) -> _TermShape | None:
    match = _BOLD_TERM.match(sentence)
    if match is None:
        return None
    return _TermShape(plain_text(match.group("term")), sentence[match.end() :].strip())


def _refers_to_term(sentence: str) -> _TermShape | None:
    match = _REFERS_TO.match(sentence)
    return None if match is None else _TermShape(plain_text(match.group("term")), sentence)


def _colon_term(sentence: str) -> _TermShape | None:
    """`Term: definition`, where the term is a short name rather than a clause."""
    match = _COLON_TERM.match(sentence)
    if match is None:
        return None
    words = match.group("term").split()
    if len(words) > 4 or "](" in match.group("term") or {"is", "are"} & {w.lower() for w in words}:
        return None
    return _TermShape(plain_text(match.group("term")), sentence[match.end() :].strip())


def _is_are_term(sentence: str) -> _TermShape | None:
    """`Term is ...`, `a term is a ...`, `On the other hand, a term is ...`."""
    match = _IS_ARE.match(sentence)
    if match is None:
        return None
    subject = match.group("subject")
    lead, comma, rest = subject.partition(",")
    if comma and len(lead.split()) <= 4:  # a short lead-in such as "On the other hand,"
        subject = rest
    subject = re.sub(r"^\s*(?:a|an|the)\s+", "", subject, flags=re.I)
    words = plain_text(subject).split()
    if not words or len(words) > 4 or {w.lower() for w in words} & _NOT_A_SUBJECT:
        return None
    return _TermShape(" ".join(words).strip("'\"‘’“”"), sentence)


def _code_term(sentence: str) -> _TermShape | None:
    match = _CODE_TERM.search(_first_sentence(sentence))
    return None if match is None else _TermShape(match.group("term").strip(), sentence)


def _called_term(sentence: str) -> _TermShape | None:
    match = _CALLED.search(_first_sentence(sentence))
    if match is None:
        return None
    return _TermShape(plain_text(match.group("term")).strip("[]'\""), sentence)


def _first_sentence(text: str) -> str:
    """Up to the first full stop followed by a space (links and code may hold dots)."""
    match = re.search(r"[.!?](?:\s|$)", text)
    return text if match is None else text[: match.end()]


def _terms(parsed: _Parsed) -> tuple[Term, ...]:
    terms: list[Term] = []
    seen: dict[str, int] = {}
    next_suffix: dict[str, int] = {}
    tokens = parsed.tokens
    # Only paragraphs that start as _BELL needs are tried: most paragraphs are not bells.
    bells = [tokens[i] for i in parsed.paragraphs if tokens[i].content.startswith(_BELL_STARTS)]
    for token in bells:
        match = _BELL.match(token.content)
        if match is None or ":bell:" not in token.content[: match.end()]:
            continue
        bell = len(terms) + 1
        sentence = clean_markdown(token.content[match.end() :])
        shape = find_term(sentence)
        key = shape.term if shape.term else f"bell-{bell}"
        key = _unique_term_key(parsed, key, _line(token), seen, next_suffix)
        terms.append(Term(key, shape.term, shape.definition, _line(token), bell, sentence))
    return tuple(terms)


def _unique_term_key(
    parsed: _Parsed, key: str, line: int, seen: dict[str, int], next_suffix: dict[str, int]
) -> str:
    if key not in seen:
        seen[key] = line
        return key
    suffix = next_suffix.get(key, 2)  # as in _unique_key: linear in the number of repeats
    while f"{key}-{suffix}" in seen:
        suffix += 1
    next_suffix[key] = suffix + 1
    parsed.warn(
        line,
        f"term {key!r} is defined again (first on line {seen[key]}, again on line {line}); "
        f"this one is keyed {key}-{suffix}",
    )
    seen[f"{key}-{suffix}"] = line
    return f"{key}-{suffix}"


# --- public API -----------------------------------------------------------------------------


def extract_text(text: str, path: str) -> Lesson:
    """Everything a lesson holds, from its Markdown text. `path` is used for ids and messages.

    A line over the length limit is a CardsError: no lesson needs one, and the parsers' cost
    grows with line length.
    """
    text = _normalise(text)
    too_long = long_line(text)
    if too_long is not None:
        raise CardsError(
            f"{path}:{too_long.line}: {too_long.message()} (break it into shorter lines)"
        )
    parsed = _Parsed(path, _parser().parse(text), text)
    front = _front_matter(parsed, text)
    objective_items = _objective_items(parsed)
    objectives = _objectives(objective_items)
    questions = _questions(parsed)
    terms = _terms(parsed)
    tasks = _tasks(parsed, {item.line for item in objective_items})
    return Lesson(
        path=path,
        id=slugify(front.id) if front.id else lesson_id_from_path(path),
        title=_title(parsed, front),
        sort=front.sort,
        objectives=objectives,
        questions=questions,
        terms=terms,
        tasks=tasks,
        diagnostics=tuple(sorted(parsed.diagnostics, key=Diagnostic.sort_key)),
    )


def read_lesson_text(path: Path, shown: str | None = None) -> str:
    """The text of a lesson file, or a CardsError naming the path for binary/non-UTF-8 files
    and files over the size limit."""
    name = shown if shown is not None else str(path)
    data = read_limited(
        path, MAX_LESSON_BYTES, name, "lesson file", "split it into several lessons", markup=True
    )
    if b"\x00" in data:
        raise CardsError(f"{name}: not a text file (it contains NUL bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CardsError(
            f"{name}: not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8"
        ) from None


def extract_file(path: Path, shown: str | None = None) -> Lesson:
    """Extract one lesson file; `shown` is the path as the user wrote it (default: `path`)."""
    name = shown if shown is not None else str(path)
    return extract_text(read_lesson_text(path, name), name)


def find_lessons(paths: Sequence[str]) -> tuple[list[Lesson], list[str]]:
    """`discover.find_lessons` reading each file with `extract_file`."""
    from mlops_cards.discover import find_lessons as find

    return find(paths, extract_file)


# --- output ---------------------------------------------------------------------------------


def lesson_as_dict(lesson: Lesson) -> dict[str, object]:
    """The lesson as plain data, in the shape `mlops-cards extract --json` prints."""
    return {
        "path": lesson.path,
        "id": lesson.id,
        "title": lesson.title,
        "sort": lesson.sort,
        "objectives": [{"key": o.key, "text": o.text, "line": o.line} for o in lesson.objectives],
        "questions": [
            {"key": q.key, "label": q.label, "text": q.text, "line": q.line}
            for q in lesson.questions
        ],
        "terms": [
            {
                "key": t.key,
                "term": t.term,
                "definition": t.definition,
                "line": t.line,
                "bell": t.bell,
            }
            for t in lesson.terms
        ],
        "tasks": [
            {
                "text": t.text,
                "line": t.line,
                "section": t.section,
                "depth": t.depth,
                "checked": t.checked,
            }
            for t in lesson.tasks
        ],
        "diagnostics": [
            {"line": d.line, "level": d.level, "message": d.message, "hint": d.hint}
            for d in lesson.diagnostics
        ],
    }


def _shorten(text: str, width: int = 70) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= width else one_line[: width - 1] + "…"


def lesson_summary(lesson: Lesson) -> str:
    """A readable summary: counts, then each objective, question and term with its line."""
    sort = f", sort {lesson.sort}" if lesson.sort is not None else ""
    counts = (
        (len(lesson.objectives), "objective"),
        (len(lesson.questions), "question"),
        (len(lesson.terms), "term"),
        (len(lesson.tasks), "task"),
    )
    lines = [
        f"{lesson.path}: {lesson.title or '(no title)'} [id {lesson.id}{sort}]",
        "  " + ", ".join(f"{n} {word}{'' if n == 1 else 's'}" for n, word in counts),
    ]
    lines += [f"  objective {o.key} (line {o.line}): {_shorten(o.text)}" for o in lesson.objectives]
    lines += [f"  question {q.key} (line {q.line}): {_shorten(q.text)}" for q in lesson.questions]
    lines += [f"  term {t.key} (line {t.line}): {_shorten(t.definition, 50)}" for t in lesson.terms]
    lines += [d.format() for d in lesson.diagnostics]
    return "\n".join(lines)
