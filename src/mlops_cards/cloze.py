"""Cloze text: `{{cN::…}}` markers read and checked, a term's sentence made into a cloze, and
the two things a cloze must not be: the term card reversed, or a card that shows its answer.

Pure text functions, shared by the author YAML (checking `cloze:`), the notes (the Text field)
and the card-quality check (`cloze-leak`, `duplicate`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mlops_cards.text import plain_text

# A `{` just before a marker is text, as in Anki: `x{{{c1::y}}` hides `y` after "x{".
_MARKER = re.compile(r"\{\{c(\d+)::|\{\{(?!\{)|\}\}")
# A number with its decimals is one word: "0.1" hidden next to "0.25" gives nothing away.
_WORD = re.compile(r"\d+(?:[.,]\d+)+|[^\W_]+")
# Parts of Markdown a learner does not read as text: link targets, raw HTML tags, bare URLs.
# A term inside them is neither hidden nor a leak.
_UNSEEN = re.compile(r"\]\([^()\s]*(?:\([^()]*\)[^()\s]*)*\)|<[^<>\n]+>|https?://\S+")
# Words that carry no answer: a cloze hiding "the" or showing "a" leaks nothing.
STOPWORDS = frozenset(
    {
        "a", "an", "the", "is", "are", "was", "were", "be", "been", "being", "of", "to", "in",
        "on", "at", "by", "for", "with", "from", "as", "and", "or", "nor", "not", "no", "it", "its",
        "this", "that", "these", "those", "which", "who", "whom", "what", "when", "where", "how",
        "why", "than", "then", "so", "such", "into", "onto", "over", "under", "about", "can",
        "could", "may", "might", "must", "shall", "should", "will", "would", "do", "does", "did",
        "has", "have", "had", "you", "your", "we", "our", "they", "their", "there", "here", "also",
        "only", "very", "more", "most", "each", "every",
    }
)  # fmt: skip
# Prefixes that leave a word's stem visible: "retraining" shows "training".
_PREFIXES = ("re", "pre", "un", "non", "sub", "de", "mis", "over", "auto", "multi", "co")
_SUFFIXES = ("ation", "ment", "ing", "ity", "ate", "ize", "ise", "ed", "er", "ly")


@dataclass(frozen=True)
class Part:
    """A run of cloze text: shown (`number` 0) or hidden on card `number`."""

    text: str  # as written, including a `::hint`
    number: int = 0

    @property
    def answer(self) -> str:
        """What the learner must recall: the hidden text without its hint."""
        return self.text.split("::", 1)[0] if self.number else self.text


@dataclass(frozen=True)
class ClozeProblem:
    offset: int  # in the text, for the line an error points at
    message: str
    hint: str


def parse(text: str) -> tuple[tuple[Part, ...], ClozeProblem | None]:
    """The parts of a cloze text, or the first problem with its markers.

    Markers must be balanced (`{{cN::` … `}}`), not nested (older Anki versions cannot show
    nested clozes), not empty, and numbered from c1 without gaps.
    """
    parts: list[Part] = []
    position = 0
    opened: tuple[int, int] | None = None  # (number, offset of the marker)
    for match in _MARKER.finditer(text):
        token = match.group(0)
        if token == "}}":
            if opened is None:
                return (), ClozeProblem(
                    match.start(), "`}}` closes no cloze", "open it with {{c1:: or delete it"
                )
            inner = text[position : match.start()]
            if not inner.split("::", 1)[0].strip():
                return (), ClozeProblem(
                    opened[1], f"empty cloze c{opened[0]}", "write the hidden text after '::'"
                )
            parts.append(Part(inner, opened[0]))
            opened, position = None, match.end()
        elif token == "{{":
            return (), ClozeProblem(
                match.start(),
                "`{{` that starts no cloze",
                "a cloze is written {{c1::hidden text}}",
            )
        elif opened is not None:
            return (), ClozeProblem(
                match.start(),
                f"cloze c{match.group(1)} starts inside c{opened[0]}",
                "close the first with }} before the next; nested clozes are not supported",
            )
        else:
            if match.start() > position:
                parts.append(Part(text[position : match.start()]))
            opened, position = (int(match.group(1)), match.start()), match.end()
    if opened is not None:
        return (), ClozeProblem(opened[1], f"cloze c{opened[0]} is never closed", "end it with }}")
    if position < len(text):
        parts.append(Part(text[position:]))
    numbers = sorted({p.number for p in parts if p.number})
    if not numbers:
        return (), ClozeProblem(0, "no cloze marker", "mark the part to hide: {{c1::hidden text}}")
    if numbers != list(range(1, len(numbers) + 1)):
        found = ", ".join(f"c{n}" for n in numbers)
        return (), ClozeProblem(
            0,
            f"cloze numbers must start at c1 and leave no gap (found {found})",
            "number them c1, c2, c3, ...: one card per number",
        )
    return tuple(parts), None


def numbers(parts: tuple[Part, ...]) -> list[int]:
    return sorted({p.number for p in parts if p.number})


def mark_term(sentence: str, term: str) -> str | None:
    """The sentence with every mention of `term` hidden as c1 (hiding only the first would leave
    the answer in view); None when the sentence never mentions it as text."""
    if not term.strip():
        return None
    unseen = [m.span() for m in _UNSEEN.finditer(sentence)]
    pattern = re.compile(rf"(?<![^\W_]){re.escape(term.strip())}(?![^\W_])", re.IGNORECASE)
    mentions = [
        m
        for m in pattern.finditer(sentence)
        if not any(start <= m.start() < end for start, end in unseen)
    ]
    if not mentions:
        return None
    pieces, position = [], 0
    for m in mentions:
        pieces += [sentence[position : m.start()], f"{{{{c1::{m.group(0)}}}}}"]
        position = m.end()
    return "".join(pieces) + sentence[position:]


_LEAD_IN = re.compile(r"(?:[^,.]{1,30},\s*)?")  # "On the other hand, "
_ARTICLE = re.compile(r"[\W_]*(?:(?:a|an|the)\s+)?", re.IGNORECASE)
_DEFINED = re.compile(r"[\W_]*?(?::|\s+(?:is|are|refers?\s+to|means?)\b)", re.IGNORECASE)


def defines_at_head(sentence: str, term: str) -> bool:
    """`**Term**: …`, `Term: …`, `A term is …`, `'Term' refers to …` (after a short lead-in such
    as "On the other hand,"): the sentence is the term's definition with the term as its
    subject, which the term card already asks."""
    text, wanted = plain_text(sentence), term.strip().casefold()
    lead = _LEAD_IN.match(text)
    for start in {0, lead.end() if lead else 0}:
        article = _ARTICLE.match(text, start)  # always matches: everything in it is optional
        head = article.end() if article else start
        after = head + len(wanted)
        if text[head:after].casefold() == wanted and _DEFINED.match(text, after):
            return True
    return False


def content_words(markdown: str) -> list[str]:
    """The words a learner reads, folded, without the words that carry no meaning."""
    return [w for w in _WORD.findall(plain_text(markdown).casefold()) if w not in STOPWORDS]


def visible_text(parts: tuple[Part, ...], number: int) -> str:
    """What card `number` shows: the other numbers' hidden text is shown on it."""
    return "".join(p.answer if p.number != number else " " for p in parts)


def hidden_text(parts: tuple[Part, ...], number: int) -> str:
    return " ".join(p.answer for p in parts if p.number == number)


def reverses_term_card(parts: tuple[Part, ...], term: str, definition: str) -> bool:
    """Whether card c1 only hides the term and shows nothing the term card's back does not:
    then it asks definition -> term, the term card reversed."""
    if numbers(parts) != [1]:
        return False
    if set(content_words(hidden_text(parts, 1))) - set(content_words(term)):
        return False
    known = set(content_words(definition)) | set(content_words(term))
    return set(content_words(visible_text(parts, 1))) <= known


# `{{` and `}}` a lesson sentence holds are text, not markers: in a generated cloze they stand
# as these characters, which the Text field turns into HTML entities (notes.cloze_field).
LITERAL_OPEN, LITERAL_CLOSE = "\ue003", "\ue004"


def sentence_cloze(sentence: str, term: str, definition: str) -> str | None:
    """A cloze from a term's bell sentence, only where the sentence gives context the term card
    does not: not `Term: definition` or `Term is …`, and not its definition with the term hidden."""
    if defines_at_head(sentence, term):
        return None
    sentence = sentence.replace("{{", LITERAL_OPEN).replace("}}", LITERAL_CLOSE)
    marked = mark_term(sentence, term)
    if marked is None:
        return None
    parts, problem = parse(marked)
    if problem is not None or reverses_term_card(parts, term, definition):
        return None
    return marked


def stem(word: str) -> str:
    """A crude English stem: enough to see "workflows" in "workflow", "tests" in "testing"."""
    word = word.casefold()
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        word = word[:-1]
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


def _shows(visible: str, hidden: str) -> bool:
    if visible == hidden:
        return True
    if len(hidden) < 4:  # short words and acronyms: only the word itself gives them away
        return False
    if visible.endswith(hidden) and visible[: -len(hidden)] in _PREFIXES:
        return True
    return len(hidden) >= 5 and hidden in visible


def leaks(parts: tuple[Part, ...]) -> list[tuple[int, str, str]]:
    """(card number, hidden word, visible word) for every card that shows its answer's stem."""
    found = []
    for number in numbers(parts):
        shown = {stem(w): w for w in content_words(visible_text(parts, number))}
        for word in content_words(hidden_text(parts, number)):
            hidden = stem(word)
            visible = next((w for s, w in shown.items() if _shows(s, hidden)), None)
            if visible is not None:
                found.append((number, word, visible))
                break
    return found


def term_cloze(term: str, definition: str, sentence: str, authored: str = "") -> str | None:
    """The cloze text of a term: the author's `cloze:` when given, else one made from the bell
    sentence where it gives context (`sentence_cloze`); None when the term has no cloze card."""
    if authored:
        return authored
    return sentence_cloze(sentence, term, definition) if sentence else None
