"""The card-quality check: cards a learner will struggle to remember, reported as warnings.

Each rule is one function over one card (`duplicate` looks at every card at once) and says
what is wrong at the line where the author fixes it, with a hint from the rules of formulating
knowledge. `RULES` is the table; an author accepts a card despite a rule with
`accept: [rule-id]` in its YAML entry, and the deck manifest's `quality:` sets the thresholds.
It always runs: in `check` (so `--strict` fails on it) and in the build's warnings.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlops_cards import cloze
from mlops_cards.cache import Cache
from mlops_cards.manifest import CardKinds, DeckManifest, QualitySettings
from mlops_cards.models import Card, Diagnostic, LessonContent
from mlops_cards.parallel import precompute
from mlops_cards.text import plain_text

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

RULES = ("long-answer", "long-list", "set-prompt", "cloze-leak", "duplicate", "objective-list")

HINTS = {
    "long-answer": "one card, one fact: split the answer over several cards, or keep only what "
    "must be recalled",
    "long-list": "a list is recalled item by item and forgotten the same way: give each item "
    "its own card, or an enumeration cloze (cloze: with c1, c2, ...)",
    "set-prompt": "a prompt that asks for a set is hard to answer the same way twice: ask "
    "about one member, or what tells the members apart",
    "cloze-leak": "a cloze must make the learner recall, not read: reword the rest so it does "
    "not show the answer, or hide another part with `cloze:`",
    "duplicate": "two cards asking the same thing interfere with each other: keep one, or make "
    "each ask something of its own",
    "objective-list": "an objective answered with everything repeats the lesson's other cards: "
    "keep it for the checklist (skip: true) and ask one question per item",
}

_WORD = re.compile(r"[^\W_]+")
_NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_NUMBER_WORDS = {
    **{w: n for n, w in enumerate(_NUMBERS)},
    **{str(n): n for n in range(100)},
}
_COUNTED = r"(?P<count>\d+|two|three|four|five|six|seven|eight|nine|ten)"
_GROUPS = (
    r"(?:stages|steps|phases|types|kinds|parts|components|principles|levels|layers|"
    r"categories|elements|sections|features|benefits|advantages|reasons|ways|tools)"
)
# Prompts that ask for a whole set, and prompts that ask for N things (flagged when N is more
# than max_list_items).
_SET_PROMPT = re.compile(
    r"\b(?:list|name|give|state|enumerate)\s+(?:all|every)\b"
    r"|\benumerate\b"
    rf"|\bwhat\s+are\s+(?:all\s+)?the\s+(?:\w+\s+)?{_GROUPS}\b"
    rf"|\b(?:describe|list|name|outline|give)\s+(?:all\s+)?the\s+(?:\w+\s+)?{_GROUPS}\b",
    re.IGNORECASE,
)
_COUNTED_PROMPT = re.compile(
    rf"\b(?:list|name|give|state|which|what\s+are\s+the|what)\s+(?:the\s+)?{_COUNTED}\b",
    re.IGNORECASE,
)
_ARROW = re.compile(r"\s(?:→|->|⟶|=>)\s")
_PARENTHESES = re.compile(r"\([^()]*\)")
_CLAUSES = re.compile(r"(?<=[.!?:])\s+")
# `What is a fixture?` asks what the term card `Fixture` asks.
_ASKS_FOR_TERM = re.compile(
    r"^(?:what\s+(?:is|are|does)\s+|define\s+|explain\s+what\s+)(?:(?:a|an|the)\s+)?"
    r"(?P<rest>.+?)(?:\s+(?:is|are|mean|means|stand\s+for))?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Finding:
    """A card with its lesson and thresholds, and where its parts were written."""

    content: LessonContent
    card: Card
    settings: QualitySettings
    kinds: CardKinds
    deck: str = ""  # cards of different decks never duplicate each other

    def front_at(self) -> tuple[str, int]:
        card, sidecar = self.card, self.content.sidecar
        if sidecar and card.kind == "extra":
            return sidecar, card.sidecar_front_line or card.line
        if sidecar and card.kind == "term" and not card.context:  # a term only the YAML has
            return sidecar, card.line
        return self.content.lesson.path, card.line or 1

    def back_at(self) -> tuple[str, int]:
        card, sidecar = self.card, self.content.sidecar
        if sidecar and card.sidecar_line:
            return sidecar, card.sidecar_line
        return self.front_at()

    def cloze_text(self) -> str | None:
        card = self.card
        if card.kind != "term" or not self.kinds.cloze:
            return None
        term = card.label or card.key
        return cloze.term_cloze(term, card.back, card.context, card.cloze)

    def cloze_at(self) -> tuple[str, int]:
        if self.card.cloze and self.content.sidecar:
            return self.content.sidecar, self.card.cloze_line or self.card.line
        return self.front_at()

    def warn(self, at: tuple[str, int], rule: str, message: str) -> Diagnostic:
        return Diagnostic(at[0], at[1], "warning", f"{rule}: {message}", HINTS[rule])


Rule = Callable[[Finding], Iterator[Diagnostic]]


def _name(card: Card) -> str:
    return f"{card.kind} {card.key!r}"


# --- text measures --------------------------------------------------------------------------


@functools.cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    # Only the blocks matter here (lists, code, paragraphs): inline parsing is left out.
    return MarkdownIt("commonmark").disable("inline")


@functools.lru_cache(maxsize=1024)  # each rule reads the same answer
def _tokens(markdown: str) -> tuple[Token, ...]:
    return tuple(_markdown().parse(markdown))


# Text with none of these is plain paragraphs: no Markdown parse needed (most answers).
_BLOCKS = re.compile(r"^(?: {4}|\t|\s*(?:[-*+>]|\d+[.)])\s|\s*(?:```|~~~)|\s*#|\s*\|)", re.M)


@functools.lru_cache(maxsize=1024)
def _prose(markdown: str) -> tuple[str, ...]:
    """The text of every paragraph, heading and list item, code blocks left out."""
    if not _BLOCKS.search(markdown):
        return tuple(plain_text(p) for p in re.split(r"\n\s*\n", markdown) if p.strip())
    return tuple(
        plain_text(token.content)
        for token in _tokens(markdown)
        if token.type == "inline" and token.content.strip()
    )


def answer_words(markdown: str) -> int:
    return sum(len(_WORD.findall(text)) for text in _prose(markdown))


def list_items(markdown: str) -> int:
    """The most items any one list of the text has: a Markdown list, a `a → b → c` chain, a
    `a, b, c and d` series, or `a; b; c` clauses."""
    most = 0
    tokens = _tokens(markdown) if _BLOCKS.search(markdown) else ()
    for index, token in enumerate(tokens):
        if token.type in ("bullet_list_open", "ordered_list_open"):
            count = 0
            for inner in tokens[index + 1 :]:
                if inner.level == token.level:  # the list's own close
                    break
                count += inner.type == "list_item_open" and inner.level == token.level + 1
            most = max(most, count)
    for text in _prose(markdown):
        most = max(most, len(_ARROW.split(text)) if _ARROW.search(text) else 0)
        # Examples in parentheses ("levels (DEBUG, INFO, ...)") are not a list to recall.
        for clause in _CLAUSES.split(_PARENTHESES.sub("", text)):
            most = max(most, _series(clause), len([p for p in clause.split(";") if p.strip()]))
    return most


def _series(clause: str) -> int:
    """Items of `x, y, z and w`: the inner items are short (a name, not a sentence). A long
    first chunk is a lead-in ("a test that ..., for example x, y and z"): not counted."""
    chunks = [c.strip() for c in clause.split(",")]
    if len(chunks) < 2:
        return 0
    last = re.split(r"\s+(?:and|or)\s+", chunks[-1], maxsplit=1)
    items = chunks[:-1] + last
    if len(last) < 2:  # no `and`/`or`: a series only if every item is a name (`a, b, c`)
        return len(chunks) if len(chunks) > 2 and all(len(c.split()) <= 3 for c in chunks) else 0
    if any(len(c.split()) > 6 for c in items[1:-1]):
        return 0
    return len(items) - (len(items[0].split()) > 4)


def asked_count(prompt: str) -> int | None:
    """How many things a prompt asks for (`Name the three…`), or None."""
    match = _COUNTED_PROMPT.search(plain_text(prompt))
    return _NUMBER_WORDS.get(match.group("count").casefold()) if match else None


def normalised_front(card: Card) -> str:
    """What a card asks, folded so that `What is a fixture?` and the term `Fixture` match."""
    text = " ".join(_WORD.findall(plain_text(card.front).casefold()))
    if card.kind in ("question", "extra"):
        match = _ASKS_FOR_TERM.match(text)
        if match:
            text = match.group("rest")
    return text


# --- the rules -----------------------------------------------------------------------------


def long_answer(f: Finding) -> Iterator[Diagnostic]:
    words = answer_words(f.card.back)
    limit = f.settings.max_answer_words
    if words > limit:
        what = "definition" if f.card.kind == "term" else "answer"
        yield f.warn(
            f.back_at(),
            "long-answer",
            f"the {what} of {_name(f.card)} has {words} words, more than {limit}",
        )


def long_list(f: Finding) -> Iterator[Diagnostic]:
    if f.card.kind == "objective":  # objective-list says it for objectives
        return
    items, limit = list_items(f.card.back), f.settings.max_list_items
    if items > limit:
        yield f.warn(
            f.back_at(),
            "long-list",
            f"the answer of {_name(f.card)} lists {items} items, more than {limit}",
        )


def set_prompt(f: Finding) -> Iterator[Diagnostic]:
    if f.card.kind == "term":
        return
    prompt = plain_text(f.card.front)
    count = asked_count(prompt)
    if _SET_PROMPT.search(prompt) or (count is not None and count > f.settings.max_list_items):
        yield f.warn(f.front_at(), "set-prompt", f"{_name(f.card)} asks for a set: {prompt!r}")


def cloze_leak(f: Finding) -> Iterator[Diagnostic]:
    text = f.cloze_text()
    if text is None:
        return
    parts, problem = cloze.parse(text)
    if problem is not None:  # the author YAML reported it already
        return
    for number, hidden, visible in cloze.leaks(parts):
        yield f.warn(
            f.cloze_at(),
            "cloze-leak",
            f"cloze c{number} of term {f.card.key!r} shows its answer: {visible!r} gives "
            f"away {hidden!r}",
        )


def objective_list(f: Finding) -> Iterator[Diagnostic]:
    if f.card.kind != "objective":
        return
    items, limit = list_items(f.card.back), f.settings.max_list_items
    if items > limit:
        yield f.warn(
            f.back_at(),
            "objective-list",
            f"objective {f.card.key} is answered with a list of {items} items, more than {limit}",
        )


CARD_RULES: dict[str, Rule] = {
    "long-answer": long_answer,
    "long-list": long_list,
    "set-prompt": set_prompt,
    "cloze-leak": cloze_leak,
    "objective-list": objective_list,
}


@dataclass(frozen=True)
class Front:
    """What one card asks, folded (`normalised_front`), and where: `duplicate` compares the
    fronts of a whole deck."""

    text: str
    path: str
    line: int
    name: str
    accepted: bool  # the author accepts this card as a duplicate


def reversed_cloze(f: Finding) -> Iterator[Diagnostic]:
    """An author cloze that is its term card reversed."""
    if f.card.cloze and f.kinds.cloze:
        parts, problem = cloze.parse(f.card.cloze)
        term = f.card.label or f.card.key
        if problem is None and cloze.reverses_term_card(parts, term, f.card.back):
            yield f.warn(
                f.cloze_at(),
                "duplicate",
                f"the cloze of term {f.card.key!r} is its term card reversed",
            )


def duplicate_fronts(fronts: Iterable[tuple[str, Front]]) -> Iterator[Diagnostic]:
    """Cards that ask what an earlier card of the same deck asks (an index of fronts: one
    pass); `fronts` are (deck, front) in deck order."""
    first: dict[tuple[str, str], Front] = {}
    for deck, front in fronts:
        seen = first.setdefault((deck, front.text), front)
        if seen is not front and not front.accepted:
            message = f"{front.name} asks what {seen.name} asks ({seen.path}:{seen.line})"
            yield Diagnostic(
                front.path, front.line, "warning", f"duplicate: {message}", HINTS["duplicate"]
            )


# --- running it -----------------------------------------------------------------------------


def _makes(card: Card, kinds: CardKinds) -> bool:
    wanted = {
        "question": kinds.questions,
        "extra": kinds.questions,
        "objective": kinds.objectives,
        "term": kinds.terms or kinds.cloze,
    }
    return wanted[card.kind]


@dataclass(frozen=True)
class LessonQuality:
    """One lesson's share of the check, kept in the cache by the lesson's content: what the
    rules find in each of its cards (those the author accepts left out), and their fronts."""

    found: tuple[Diagnostic, ...]
    fronts: tuple[Front, ...]


def lesson_quality(
    content: LessonContent, settings: QualitySettings, kinds: CardKinds
) -> LessonQuality:
    """Every rule on each card the lesson makes, but `duplicate` across lessons."""
    found: list[Diagnostic] = []
    fronts = []
    for card in content.cards:
        if not _makes(card, kinds):
            continue
        f = Finding(content, card, settings, kinds)
        for rule, check in CARD_RULES.items():
            if rule not in card.accept:
                found.extend(check(f))
        accepted = "duplicate" in card.accept
        if not accepted:
            found.extend(reversed_cloze(f))
        text = normalised_front(card)
        if text:
            fronts.append(Front(text, *f.front_at(), _name(card), accepted))
    return LessonQuality(tuple(found), tuple(fronts))


# A deck's lessons as the rules see them: (deck, thresholds, card kinds, lessons).
Group = tuple[str, QualitySettings, CardKinds, Iterable[LessonContent]]
_Job = tuple[LessonContent, QualitySettings, CardKinds]


def _lesson_job(job: _Job) -> LessonQuality:
    return lesson_quality(*job)


def _run(
    groups: Iterable[Group], cache: Cache | None, keys: Mapping[str, str], jobs: int
) -> list[Diagnostic]:
    """Every lesson's findings (from the cache when its content has a key there; the others
    worked out in `jobs` processes), then the duplicates of each deck."""
    cache = cache or Cache(None)
    work = [(deck, (c, s, k)) for deck, s, k, lessons in groups for c in lessons]
    entry_keys: list[str | None] = [
        cache.key("quality", [keys[c.lesson.path], repr(s), repr(k)])
        if cache.enabled and c.lesson.path in keys
        else None
        for _, (c, s, k) in work
    ]
    results = [cache.get_object(key, LessonQuality) if key else None for key in entry_keys]
    misses = [i for i, result in enumerate(results) if result is None]
    computed = precompute(_lesson_job, [work[i][1] for i in misses], jobs)
    for i, result in zip(misses, computed, strict=True):
        results[i] = result if result is not None else _lesson_job(work[i][1])
        key = entry_keys[i]
        if key:
            cache.put_object(key, results[i])
    done = [r for r in results if r is not None]
    found = {d for r in done for d in r.found}
    found.update(
        duplicate_fronts(
            (deck, front) for (deck, _), r in zip(work, done, strict=True) for front in r.fronts
        )
    )
    return sorted(found, key=Diagnostic.sort_key)


def card_quality(
    contents: Iterable[LessonContent],
    settings: QualitySettings | None = None,
    kinds: CardKinds | None = None,
    cache: Cache | None = None,
    keys: Mapping[str, str] | None = None,
    jobs: int = 1,
) -> list[Diagnostic]:
    """Every card-quality warning for the cards of one deck (the build); `keys` are the cache
    keys of the lessons' contents (`Loaded.keys`), under which each lesson's findings are kept."""
    group = ("", settings or QualitySettings(), kinds or CardKinds(), contents)
    return _run([group], cache, keys or {}, jobs)


def deck_quality(
    groups: Iterable[tuple[DeckManifest | None, Iterable[LessonContent]]],
    cache: Cache | None = None,
    keys: Mapping[str, str] | None = None,
    jobs: int = 1,
) -> list[Diagnostic]:
    """`check`: the warnings for lessons grouped by deck (`resolve.lesson_decks`), each group
    under its manifest's thresholds and card kinds (none: the defaults); duplicates are looked
    for within each deck."""
    decks: list[Group] = [
        (str(manifest.path), manifest.quality, manifest.cards, lessons)
        if manifest
        else ("", QualitySettings(), CardKinds(), lessons)
        for manifest, lessons in groups
    ]
    return _run(decks, cache, keys or {}, jobs)
