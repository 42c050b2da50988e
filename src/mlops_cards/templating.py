"""A small renderer of Anki card templates, for previews made without the Anki engine.

It knows the template syntax our note types use, with Anki's meaning:
`{{Field}}`, `{{#Field}}…{{/Field}}` (shown when the field is not empty), `{{^Field}}…{{/Field}}`
(shown when it is empty), `{{FrontSide}}` on the back, the filters `{{cloze:Field}}` and
`{{text:Field}}` (chained right to left, as Anki applies them), and the special fields Tags,
Deck, Subdeck, Card and Type. Like Anki, a card exists only when its front shows a non-empty
field, and a cloze note has one card per cloze number. Anything fancier (hints, `type:`, nested
clozes) is Anki's business: with the `anki` package installed, previews use the real engine.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
# {{c1::text}} or {{c1::text::hint}}; clozes do not nest here.
_CLOZE = re.compile(r"\{\{c(\d+)::(.*?)(?:::(.*?))?\}\}", re.DOTALL)
_HTML_TAG = re.compile(r"<[^>]*>")
# What Anki still counts as an empty field: whitespace, line breaks and empty divs.
_EMPTY_FIELD = re.compile(r"^(?:\s|&nbsp;|<br\s*/?>|</?div>)*$", re.IGNORECASE)


@dataclass(frozen=True)
class RenderedCard:
    ordinal: int  # 0-based: the template's index, or the cloze number - 1
    template: str  # the card template's name
    question: str
    answer: str


@dataclass(frozen=True)
class _Text:
    text: str


@dataclass(frozen=True)
class _Field:
    name: str
    filters: tuple[str, ...]  # as written, left to right


@dataclass(frozen=True)
class _Section:
    name: str
    inverted: bool  # {{^F}}: shown when F is empty
    body: tuple[_Node, ...]


_Node = _Text | _Field | _Section


def field_is_empty(value: str) -> bool:
    return _EMPTY_FIELD.match(value) is not None


def parse(template: str) -> tuple[_Node, ...]:
    """The template as a tree; an unclosed or stray section tag is kept as text."""
    stack: list[tuple[str, bool, list[_Node]]] = [("", False, [])]
    position = 0
    for match in _TAG.finditer(template):
        stack[-1][2].append(_Text(template[position : match.start()]))
        position = match.end()
        inner = match.group(1).strip()
        if inner[:1] in ("#", "^"):
            stack.append((inner[1:].strip(), inner[0] == "^", []))
        elif inner[:1] == "/":
            name = inner[1:].strip()
            if len(stack) > 1 and stack[-1][0] == name:
                section_name, inverted, body = stack.pop()
                stack[-1][2].append(_Section(section_name, inverted, tuple(body)))
            else:
                stack[-1][2].append(_Text(match.group(0)))
        else:
            *filters, name = (part.strip() for part in inner.split(":"))
            stack[-1][2].append(_Field(name, tuple(filters)))
    stack[-1][2].append(_Text(template[position:]))
    while len(stack) > 1:  # never closed: show what was written
        name, inverted, body = stack.pop()
        stack[-1][2].extend([_Text("{{" + ("^" if inverted else "#") + name + "}}"), *body])
    return tuple(stack[0][2])


class _Context:
    """One side of one card being rendered."""

    def __init__(
        self,
        fields: Mapping[str, str],
        special: Mapping[str, str],
        cloze_ordinal: int,
        answer: bool,
        front_side: str = "",
    ) -> None:
        self.fields = fields
        self.special = special
        self.cloze_ordinal = cloze_ordinal  # 1-based cloze number of this card
        self.answer = answer
        self.front_side = front_side
        self.shows_a_field = False  # a non-empty note field was shown: Anki's card rule

    def render(self, nodes: tuple[_Node, ...]) -> str:
        parts: list[str] = []
        for node in nodes:
            if isinstance(node, _Text):
                parts.append(node.text)
            elif isinstance(node, _Field):
                parts.append(self._field(node))
            elif field_is_empty(self.fields.get(node.name, self.special.get(node.name, ""))) == (
                node.inverted
            ):
                parts.append(self.render(node.body))
        return "".join(parts)

    def _field(self, node: _Field) -> str:
        if node.name == "FrontSide":
            return self.front_side
        if node.name in self.fields:
            text = self.fields[node.name]
            if not field_is_empty(text):
                self.shows_a_field = True
        elif node.name in self.special:
            text = self.special[node.name]
        else:
            return f"{{unknown field {html.escape(node.name)}}}"
        for name in reversed(node.filters):
            text = self._filter(name, text)
        return text

    def _filter(self, name: str, text: str) -> str:
        if name == "text":
            return html.unescape(_HTML_TAG.sub("", text))
        if name == "cloze":
            return cloze_side(text, self.cloze_ordinal, answer=self.answer)
        return text  # Anki's other filters (hint, tts, furigana, ...) are not previewed


def cloze_side(text: str, ordinal: int, *, answer: bool = False) -> str:
    """The cloze field for card `ordinal` (1-based): a blank on the question, the term shown
    on the answer, other clozes as plain text."""

    def replace(match: re.Match[str]) -> str:
        number, content, hint = int(match.group(1)), match.group(2), match.group(3)
        if number != ordinal:
            return f'<span class="cloze-inactive" data-ordinal="{number}">{content}</span>'
        if answer:
            return f'<span class="cloze" data-ordinal="{number}">{content}</span>'
        blank = f"[{hint}]" if hint else "[...]"
        data = html.escape(content, quote=True)
        return f'<span class="cloze" data-cloze="{data}" data-ordinal="{number}">{blank}</span>'

    return _CLOZE.sub(replace, text)


def _cloze_fields(nodes: tuple[_Node, ...]) -> set[str]:
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, _Field) and "cloze" in node.filters:
            found.add(node.name)
        elif isinstance(node, _Section):
            found |= _cloze_fields(node.body)
    return found


def render_cards(
    templates: Sequence[tuple[str, str, str]],
    fields: Mapping[str, str],
    special: Mapping[str, str],
    *,
    is_cloze: bool,
) -> list[RenderedCard]:
    """Every card of one note: `templates` are (name, front, back), `fields` the note's field
    values (HTML) by name, `special` the values of Tags, Deck, ... for this note."""
    if is_cloze:
        name, front, back = templates[0]
        front_nodes, back_nodes = parse(front), parse(back)
        numbers = sorted(
            {
                int(m.group(1))
                for field in _cloze_fields(front_nodes)
                for m in _CLOZE.finditer(fields.get(field, ""))
            }
        )
        found = [
            _card(number - 1, name, front_nodes, back_nodes, fields, special, number)
            for number in numbers
        ]
    else:
        found = [
            _card(ordinal, name, parse(front), parse(back), fields, special, 0)
            for ordinal, (name, front, back) in enumerate(templates)
        ]
    return [card for card in found if card is not None]


def _card(
    ordinal: int,
    name: str,
    front: tuple[_Node, ...],
    back: tuple[_Node, ...],
    fields: Mapping[str, str],
    special: Mapping[str, str],
    cloze_number: int,
) -> RenderedCard | None:
    special = {**special, "Card": name}
    question_side = _Context(fields, special, cloze_number, answer=False)
    question = question_side.render(front)
    if not question_side.shows_a_field and not cloze_number:
        return None  # Anki makes no card whose front would show no field
    answer = _Context(fields, special, cloze_number, answer=True, front_side=question).render(back)
    return RenderedCard(ordinal, name, question, answer)
