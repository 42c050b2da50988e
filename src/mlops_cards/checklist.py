"""The printable checklist: one sheet per lesson to tick off, as HTML for print, Markdown and PDF.

The HTML is one self-contained file made for paper (A4 or Letter): CSS inline, no fonts, images or
scripts fetched from anywhere, boxes drawn with CSS borders (no glyphs a font may lack), link
addresses printed after their text, and nothing that relies on colour. PDF is that HTML rendered by
WeasyPrint, an optional extra imported only when a PDF is asked for.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mlops_cards import __version__
from mlops_cards.atomic import write_atomic
from mlops_cards.epoch import build_date
from mlops_cards.errors import CardsError, UsageError
from mlops_cards.models import Card, LessonContent
from mlops_cards.parallel import precompute

if TYPE_CHECKING:  # imported when an item text needs it: a cached build never does
    from markdown_it import MarkdownIt

Paper = Literal["a4", "letter"]
Format = Literal["html", "md", "pdf"]
FORMATS: tuple[Format, ...] = ("html", "md", "pdf")
PAPERS: tuple[Paper, ...] = ("a4", "letter")
PDF_MISSING = "PDF output needs WeasyPrint: pip install 'mlops-cards[pdf]'"


class PdfUnavailable(CardsError):
    """WeasyPrint (the optional `pdf` extra) or its system libraries are not installed."""


SHORT_DEFINITION_CHARS = 200  # a definition longer than this is cut at a word, with an ellipsis
MAX_DEPTH = 6  # deeper task nesting is drawn at this depth: the sheet must stay readable


# --- what a sheet shows (shared by the HTML and Markdown renderers) ----------------------------


@dataclass(frozen=True)
class Item:
    """One line to tick. `text` is Markdown (raw HTML tags already stripped)."""

    text: str
    card: bool = False
    label: str | None = None
    depth: int = 0


@dataclass(frozen=True)
class TaskGroup:
    section: str | None  # heading the tasks sit under, None before any heading
    items: tuple[Item, ...]


@dataclass(frozen=True)
class TermRow:
    name: str
    definition: str  # Markdown: the first sentence of the definition, trimmed
    card: bool


@dataclass(frozen=True)
class Sheet:
    """One lesson's page of the checklist."""

    lesson_id: str
    title: str
    objectives: tuple[Item, ...]
    task_groups: tuple[TaskGroup, ...]
    questions: tuple[Item, ...]
    terms: tuple[TermRow, ...]
    cards: int

    @property
    def task_count(self) -> int:
        return sum(len(group.items) for group in self.task_groups)

    @property
    def is_empty(self) -> bool:
        return not (self.objectives or self.task_groups or self.questions or self.terms)


@dataclass(frozen=True)
class Counts:
    lessons: int
    objectives: int
    tasks: int
    questions: int
    terms: int
    cards: int

    def items(self) -> list[tuple[int, str]]:
        """(count, singular noun) in the order the cover shows them."""
        return [
            (self.lessons, "lesson"),
            (self.objectives, "objective"),
            (self.tasks, "task"),
            (self.questions, "question"),
            (self.terms, "term"),
            (self.cards, "card"),
        ]

    def phrases(self) -> list[str]:
        return [f"{n} {word if n == 1 else word + 's'}" for n, word in self.items()]


_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>", re.S)
_CODE = re.compile(r"(`+)(?:.|\n)*?\1")  # code spans keep their `<tags>`: they are shown as code
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^ {0,3}\1[`~]*[ \t]*$|\Z)", re.S | re.M)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9`*_\[(\"'])")


def strip_tags(markdown: str) -> str:
    """Remove raw HTML tags (`<mark>`, `<br>`, `<iframe …>`) outside code: paper can't show them."""
    parts: list[str] = []
    pos = 0
    for code in _CODE.finditer(markdown):
        parts.append(_TAG.sub("", markdown[pos : code.start()]))
        parts.append(code.group(0))
        pos = code.end()
    parts.append(_TAG.sub("", markdown[pos:]))
    return "".join(parts)


def _one_line(markdown: str) -> str:
    return " ".join(strip_tags(markdown).split())


def first_sentence(markdown: str, limit: int = SHORT_DEFINITION_CHARS) -> str:
    """The first sentence of a definition, as Markdown; cut at a word when still too long."""
    text = _one_line(_FENCE.sub(" ", markdown))
    sentence = _SENTENCE_END.split(text, maxsplit=1)[0]
    if len(sentence) <= limit:
        return sentence
    # Cutting Markdown could leave half a link; cut its plain text instead, escaped for Markdown.
    plain = visible_text(sentence)
    if len(plain) <= limit:
        return _escape_markdown(plain)
    cut = plain[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:")
    return _escape_markdown(cut) + "…"


def _escape_markdown(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#!|~])", r"\\\1", text)


def _card_index(content: LessonContent) -> dict[tuple[str, str], Card]:
    return {(card.kind, card.key): card for card in content.cards}


def sheet_for(content: LessonContent) -> Sheet:
    """What one lesson's page shows: objectives, tasks by section, questions and terms to know."""
    lesson = content.lesson
    cards = _card_index(content)
    objectives = tuple(
        Item(_one_line(o.text), ("objective", o.key) in cards) for o in lesson.objectives
    )
    # (section, items) while collecting: a tuple grown by one item per task was quadratic.
    groups: list[tuple[str | None, list[Item]]] = []
    for task in lesson.tasks:
        same_group = bool(groups) and groups[-1][0] == task.section
        # Nesting goes one level deeper at a time (a list cannot skip a level), up to MAX_DEPTH.
        parent = groups[-1][1][-1].depth if same_group else -1
        depth = max(0, min(task.depth, parent + 1, MAX_DEPTH))
        item = Item(_one_line(task.text), depth=depth)
        if same_group:
            groups[-1][1].append(item)
        else:
            groups.append((task.section, [item]))
    questions = tuple(
        Item(strip_tags(q.text).strip(), ("question", q.key) in cards, label=q.label)
        for q in lesson.questions
    )
    terms: list[TermRow] = []
    for term in lesson.terms:
        card = cards.get(("term", term.key))
        # A bell that names no term (a tip, a note) only belongs here once the author named it.
        name = term.term or (card.label or card.front if card else None)
        if not name:
            continue
        definition = card.back if card and card.back.strip() else term.definition
        terms.append(TermRow(_one_line(name), first_sentence(definition), card is not None))
    lesson_keys = {term.key for term in lesson.terms}
    for card in content.cards:  # terms the author added in YAML, not in the lesson text
        if card.kind == "term" and card.key not in lesson_keys:
            name = card.label or card.front
            terms.append(TermRow(_one_line(name), first_sentence(card.back), True))
    return Sheet(
        lesson_id=lesson.id,
        title=_one_line(lesson.title or lesson.id),
        objectives=objectives,
        task_groups=tuple(TaskGroup(section, tuple(items)) for section, items in groups),
        questions=questions,
        terms=tuple(terms),
        cards=len(content.cards),
    )


# The sheets to print, and those left out (nothing to tick).
Sheets = tuple[list[Sheet], list[Sheet]]


def sheets_for(lessons: Sequence[LessonContent]) -> Sheets:
    """The sheets to print, and the lessons left out because they have nothing to tick.

    Index pages and READMEs are lessons too; a page saying "nothing here" would waste paper.
    """
    sheets = [sheet_for(content) for content in lessons]
    return [s for s in sheets if not s.is_empty], [s for s in sheets if s.is_empty]


def count(sheets: Sequence[Sheet]) -> Counts:
    return Counts(
        lessons=len(sheets),
        objectives=sum(len(s.objectives) for s in sheets),
        tasks=sum(s.task_count for s in sheets),
        questions=sum(len(s.questions) for s in sheets),
        terms=sum(len(s.terms) for s in sheets),
        cards=sum(s.cards for s in sheets),
    )


def describe(lessons: Sequence[LessonContent]) -> str:
    """What a checklist of `lessons` holds, in words: "2 lessons, 7 objectives, ..."."""
    sheets, left_out = sheets_for(lessons)
    text = ", ".join(count(sheets).phrases())
    return f"{text} ({len(left_out)} left out: nothing to tick)" if left_out else text


# --- Markdown -> HTML for item texts -----------------------------------------------------------


@functools.cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    # Raw HTML off: anything tag-like left after strip_tags is shown escaped, never interpreted.
    md = MarkdownIt("commonmark", {"html": False}).enable("strikethrough")

    def image_as_text(self: Any, tokens: Sequence[Any], idx: int, options: Any, env: Any) -> str:
        # No images on the sheet: they would be fetched from the network. Their alt text stays.
        alt = "".join(child.content for child in tokens[idx].children or [])
        return html.escape(f"[{alt}]" if alt else "[image]")

    md.add_render_rule("image", image_as_text)
    return md


# Pictographic emoji: print fonts often lack them, and the empty box a font draws instead would look
# like one more box to tick. They decorate titles; the words carry the meaning.
_EMOJI = re.compile(
    "[ \t]*(?:[\U0001f000-\U0001faff\U0001fc00-\U0001ffff\u2b50\u2b55\u231a\u231b"
    "\u23e9-\u23fa\ufe0e\ufe0f\u20e3\u200d\U000e0020-\U000e007f])+"
)


def without_emoji(text: str) -> str:
    return _EMOJI.sub("", text).strip() if _EMOJI.search(text) else text


# The characters an inline rule of `_markdown()` starts at (`!&*<[\\]_`~`), and line ends: an
# item text with none of them is one text token, which renders as itself, escaped. Most item
# texts are such plain sentences; skipping the parser for them halves the checklist's time.
_INLINE_MARKUP = re.compile(r"[\n\r\0!&*<\[\\\]_`~]")


def inline_html(markdown: str) -> str:
    """One item text as inline HTML: emphasis, code and links rendered; everything else escaped."""
    text = without_emoji(markdown)
    if _INLINE_MARKUP.search(text) is None:
        # As markdown-it escapes text: `&`, `<`, `>` and `"`, not `'`.
        return html.escape(text).replace("&#x27;", "'").strip()
    rendered: str = _markdown().renderInline(text)
    return rendered.strip()


def visible_text(markdown: str) -> str:
    """The words a reader sees once the Markdown is rendered (`extract.plain_text` only strips
    markup characters, for names found in source)."""
    text = re.sub(r"<[^>]+>", "", inline_html(markdown))
    return " ".join(html.unescape(text).split())


def _block_html(markdown: str) -> str:
    """A question's text: prose inline, paragraphs joined by line breaks, code blocks kept."""
    pieces: list[str] = []
    pos = 0
    for fence in _FENCE.finditer(markdown):
        pieces.extend(_prose_html(markdown[pos : fence.start()]))
        body = fence.group(0).split("\n", 1)[1] if "\n" in fence.group(0) else ""
        body = re.sub(r"\n? {0,3}(`{3,}|~{3,})[`~]*[ \t]*$", "", body)
        pieces.append(f'<pre class="code"><code>{html.escape(body.rstrip())}</code></pre>')
        pos = fence.end()
    pieces.extend(_prose_html(markdown[pos:]))
    out = ""
    for piece in pieces:
        if out and not out.endswith("</pre>") and not piece.startswith("<pre"):
            out += "<br>"
        out += piece
    return out


def _prose_html(markdown: str) -> list[str]:
    paragraphs = [p for p in re.split(r"\n\s*\n", markdown) if p.strip()]
    return [inline_html(" ".join(p.split())) for p in paragraphs]


# --- HTML --------------------------------------------------------------------------------------

_CSS = """
@page { size: %(size)s; margin: 14mm 17mm 15mm; }
@page {
  @bottom-right { content: counter(page); font: 8pt "DejaVu Sans", sans-serif; }
  @top-right { content: string(lesson, first-except); font: 8pt "DejaVu Sans", sans-serif; }
}
.lesson h2 { string-set: lesson content(); }
html {
  font-family: "DejaVu Sans", "Liberation Sans", "Helvetica Neue", Arial, sans-serif;
  font-size: 9.5pt; line-height: 1.35; color: #000; background: #fff;
}
body { margin: 0; overflow-wrap: anywhere; }
.sheet + .sheet { break-before: page; }
h1, h2, h3, h4 { line-height: 1.2; break-after: avoid; font-weight: bold; }
h1 { font-size: 2.5em; margin: 0 0 .2em; }
h2 { font-size: 1.6em; margin: 0 0 .2em; padding-bottom: .25em; border-bottom: 2px solid #000; }
h3 {
  font-size: 1em; margin: 1em 0 .3em; text-transform: uppercase; letter-spacing: .06em;
}
h4 { font-size: 1em; font-style: italic; font-weight: normal; margin: .6em 0 .15em; }
p { margin: .4em 0; }
a { color: inherit; text-decoration: underline; }
code, pre { font-family: "DejaVu Sans Mono", "Liberation Mono", Menlo, monospace; font-size: 88%%; }
pre.code {
  white-space: pre-wrap; overflow-wrap: anywhere; margin: .3em 0 .2em; padding: .1em 0 .1em .7em;
  border-left: 2px solid #000;
}
.lesson-meta, .muted { font-size: .9em; color: #333; margin: 0 0 .6em; }
ul.checks { list-style: none; margin: 0 0 .3em; padding: 0; }
ul.checks > li {
  position: relative; margin: .2em 0; padding-left: 1.75em; break-inside: avoid;
  min-width: 0;
}
ul.checks > li::before {
  content: ""; position: absolute; left: 0; top: .16em; width: .95em; height: .95em;
  border: 1.4px solid #000; border-radius: 1.5px; box-sizing: border-box; background: #fff;
}
%(depths)s
.label { font-weight: bold; margin-right: .35em; }
.term-name { font-weight: bold; }
.card {
  display: inline-block; margin-left: .45em; padding: 0 .35em; border: 1px solid #000;
  border-radius: 3px; font-size: .72em; line-height: 1.35; letter-spacing: .08em;
  text-transform: uppercase; vertical-align: .1em; white-space: nowrap;
}
.cover { padding-top: 8mm; }
.cover .kicker { font-size: 1.05em; letter-spacing: .12em; text-transform: uppercase; margin: 0; }
.cover .built { margin: .2em 0 1.2em; }
.cover dl.counts { display: flex; flex-wrap: wrap; margin: 0 0 1em; padding: 0; }
.cover dl.counts div {
  border: 1px solid #000; padding: .35em .6em; margin: 0 .5em .5em 0; min-width: 4.8em;
}
.cover dt { font-size: .82em; text-transform: uppercase; letter-spacing: .06em; }
.cover dd { margin: 0; font-size: 1.7em; font-weight: bold; }
.legend { margin: 0 0 1.4em; }
.legend p { margin: .25em 0; }
.legend .box {
  display: inline-block; width: .95em; height: .95em; border: 1.4px solid #000;
  box-sizing: border-box; vertical-align: -.12em; margin-right: .3em;
}
table.contents { border-collapse: collapse; width: 100%%; margin: .4em 0 1.4em; font-size: .92em; }
table.contents th, table.contents td {
  text-align: right; padding: .12em .4em; border-bottom: 1px solid #999;
}
table.contents th, table.contents td { overflow-wrap: normal; }
table.contents td + td { white-space: nowrap; }
table.contents th:first-child, table.contents td:first-child { text-align: left; width: 100%%; }
table.contents thead th { border-bottom: 1.5px solid #000; font-size: .88em; }
@media print {
  a[href^="http"]::after {
    content: " (" attr(href) ")"; font-size: 85%%; overflow-wrap: anywhere;
  }
}
@media screen {
  html { background: #e9e7e1; font-size: 15px; line-height: 1.45; }
  body { max-width: 52rem; margin: 2rem auto; padding: 0 1rem; }
  .sheet {
    background: #fff; padding: 2.5rem 3rem; margin: 0 0 2rem; border-radius: 4px;
    box-shadow: 0 1px 3px rgba(0, 0, 0, .18);
  }
  .cover { padding-top: 3rem; }
  a { color: #0b4f9c; }
}
@media screen and (max-width: 40rem) {
  body { margin: 0; padding: 0; }
  .sheet { padding: 1.5rem 1.1rem; border-radius: 0; }
  table.contents { font-size: .72em; }
  table.contents th, table.contents td { padding: .12em .2em; }
}
"""


def _css(paper: Paper) -> str:
    depths = "\n".join(
        f"ul.checks > li.d{n} {{ margin-left: {1.6 * n:.1f}em; }}" for n in range(1, MAX_DEPTH + 1)
    )
    size = {"a4": "A4", "letter": "letter"}[paper]
    return (_CSS % {"size": size, "depths": depths}).strip()


_CARD_MARK = '<span class="card" title="has a flashcard">card</span>'


def _li(body: str, item: Item, extra_class: str = "") -> str:
    classes = " ".join(c for c in (f"d{item.depth}" if item.depth else "", extra_class) if c)
    attr = f' class="{classes}"' if classes else ""
    mark = _CARD_MARK if item.card else ""
    return f"<li{attr}>{body}{mark}</li>"


def _lesson_html(sheet: Sheet) -> str:
    esc = html.escape
    out = [f'<section class="sheet lesson" id="lesson-{esc(sheet.lesson_id)}">']
    out.append(f"<h2>{inline_html(sheet.title)}</h2>")
    out.append(f'<p class="lesson-meta">{esc(_lesson_meta(sheet))}</p>')
    if sheet.objectives:
        out.append('<h3>Objectives</h3>\n<ul class="checks objectives">')
        out.extend(_li(inline_html(item.text), item) for item in sheet.objectives)
        out.append("</ul>")
    if sheet.task_groups:
        out.append("<h3>Tasks</h3>")
        for group in sheet.task_groups:
            if group.section:
                out.append(f"<h4>{inline_html(group.section)}</h4>")
            out.append('<ul class="checks tasks">')
            out.extend(_li(inline_html(item.text), item) for item in group.items)
            out.append("</ul>")
    if sheet.questions:
        out.append('<h3>Questions</h3>\n<ul class="checks questions">')
        for item in sheet.questions:
            label = f'<span class="label">{esc(item.label)}</span>' if item.label else ""
            out.append(_li(label + _block_html(item.text), item))
        out.append("</ul>")
    if sheet.terms:
        out.append('<h3>Terms to know</h3>\n<ul class="checks terms">')
        for term in sheet.terms:
            body = f'<span class="term-name">{inline_html(term.name)}</span>'
            if term.definition:
                body += f" — {inline_html(term.definition)}"
            out.append(_li(body, Item(term.name, term.card)))
        out.append("</ul>")
    out.append("</section>")
    return "\n".join(out)


def _lesson_meta(sheet: Sheet) -> str:
    counts = Counts(
        1,
        len(sheet.objectives),
        sheet.task_count,
        len(sheet.questions),
        len(sheet.terms),
        sheet.cards,
    )
    return " · ".join(counts.phrases()[1:])


def _cover_html(
    title: str, sheets: Sequence[Sheet], left_out: Sequence[Sheet], built: datetime
) -> str:
    esc = html.escape
    counts = count(sheets)
    tiles = "".join(
        f"<div><dt>{esc(word.capitalize())}s</dt><dd>{n}</dd></div>" for n, word in counts.items()
    )
    rows = "\n".join(
        f"<tr><td>{inline_html(s.title)}</td><td>{len(s.objectives)}</td><td>{s.task_count}</td>"
        f"<td>{len(s.questions)}</td><td>{len(s.terms)}</td><td>{s.cards}</td></tr>"
        for s in sheets
    )
    return f"""<header class="sheet cover">
<p class="kicker">Checklist</p>
<h1>{esc(without_emoji(title))}</h1>
<p class="built">Built {built.strftime("%Y-%m-%d")}</p>
<dl class="counts">{tiles}</dl>
<div class="legend">
<p><span class="box"></span>Tick the box when you are done with the item.</p>
<p>{_CARD_MARK} This item has a flashcard in the Anki deck: review it there.</p>
<p>Web links are printed with their address in brackets after the link text.</p>
</div>
<table class="contents">
<thead><tr><th>Lesson</th><th>Objectives</th><th>Tasks</th><th>Questions</th><th>Terms</th>\
<th>Cards</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
{_left_out_html(left_out)}
</header>"""


def _left_out_html(left_out: Sequence[Sheet]) -> str:
    if not left_out:
        return ""
    titles = ", ".join(inline_html(s.title) for s in left_out)
    return f'<p class="muted">Left out, nothing to tick: {titles}.</p>'


def render_html(
    title: str,
    lessons: Sequence[LessonContent],
    build_date: datetime,
    *,
    paper: Paper = "a4",
    jobs: int = 1,
    prepared: Sheets | None = None,
) -> str:
    """The whole checklist as one self-contained HTML page: a cover, then one sheet per lesson.

    `paper` sets the `@page` size ("a4" or "letter"); the margins suit both, so a sheet made for
    one paper prints without clipping on the other. `jobs` > 1 renders the sheets in that many
    processes. `prepared`: `sheets_for(lessons)`, when the caller has it already.
    """
    if paper not in PAPERS:
        raise CardsError(f"unknown paper size {paper!r} (use one of: {', '.join(PAPERS)})")
    sheets, left_out = prepared if prepared is not None else sheets_for(lessons)
    cover = _cover_html(title, sheets, left_out, build_date)
    made = precompute(_lesson_html, sheets, jobs)
    pages = [m if m is not None else _lesson_html(s) for m, s in zip(made, sheets, strict=True)]
    body = "\n".join([cover, *pages])
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="mlops-cards {__version__}">
<title>{html.escape(without_emoji(title))} — checklist</title>
<style>
{_css(paper)}
</style>
</head>
<body>
{body}
</body>
</html>
"""


# --- Markdown ----------------------------------------------------------------------------------


def _md_item(text: str, depth: int = 0, card: bool = False, label: str | None = None) -> str:
    indent = "  " * depth
    mark = " *(card)*" if card else ""
    prefix = f"**{label}** " if label else ""
    first, *rest = (prefix + text + mark).split("\n")
    # Continuation lines (a question's code block) are indented into the list item.
    lines = [f"{indent}- [ ] {first}"] + [f"{indent}  {line}" if line else "" for line in rest]
    return "\n".join(lines)


def render_markdown(
    title: str,
    lessons: Sequence[LessonContent],
    build_date: datetime,
    prepared: Sheets | None = None,
) -> str:
    """The checklist as GitHub task lists: one heading per lesson, nesting by indentation."""
    sheets, left_out = prepared if prepared is not None else sheets_for(lessons)
    counts = count(sheets)
    out = [
        f"# {_one_line(title)}",
        "",
        f"Checklist built {build_date.strftime('%Y-%m-%d')}: {', '.join(counts.phrases())}.",
        "Items marked *(card)* have a flashcard in the Anki deck.",
    ]
    if left_out:
        out.append(f"Left out, nothing to tick: {', '.join(s.title for s in left_out)}.")
    for sheet in sheets:
        out += ["", f"## {sheet.title}"]
        sections: list[tuple[str, list[str]]] = []
        if sheet.objectives:
            items = [_md_item(i.text, card=i.card) for i in sheet.objectives]
            sections.append(("Objectives", items))
        if sheet.task_groups:
            items = []
            for group in sheet.task_groups:
                if group.section:
                    items += ["", f"#### {group.section}", ""]
                items += [_md_item(i.text, i.depth) for i in group.items]
            sections.append(("Tasks", items))
        if sheet.questions:
            items = [
                _md_item(_md_question(i.text), card=i.card, label=i.label) for i in sheet.questions
            ]
            sections.append(("Questions", items))
        if sheet.terms:
            items = [
                _md_item(
                    f"**{t.name}**" + (f" — {t.definition}" if t.definition else ""), card=t.card
                )
                for t in sheet.terms
            ]
            sections.append(("Terms to know", items))
        for heading, items in sections:
            out += ["", f"### {heading}", ""]
            out += items
    return "\n".join(_squeeze_blank_lines(out)) + "\n"


def _md_question(markdown: str) -> str:
    """Prose on one line per paragraph, code blocks kept as they are."""
    pieces: list[str] = []
    pos = 0
    for fence in _FENCE.finditer(markdown):
        pieces += [" ".join(p.split()) for p in re.split(r"\n\s*\n", markdown[pos : fence.start()])]
        pieces.append(fence.group(0).rstrip())
        pos = fence.end()
    pieces += [" ".join(p.split()) for p in re.split(r"\n\s*\n", markdown[pos:])]
    return "\n\n".join(p for p in pieces if p.strip())


def _squeeze_blank_lines(lines: Iterable[str]) -> list[str]:
    out: list[str] = []
    for line in "\n".join(lines).split("\n"):
        if line == "" and (not out or out[-1] == ""):
            continue
        out.append(line)
    return out


# --- PDF ---------------------------------------------------------------------------------------


def _refuse_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"the checklist fetches nothing from the network: {url}")


def require_pdf() -> None:
    """Raise PdfUnavailable unless WeasyPrint (the optional `pdf` extra) can be used."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):  # OSError: installed, but its system libraries (Pango) are not
        raise PdfUnavailable(PDF_MISSING) from None


def pdf_bytes(html_text: str) -> bytes:
    """Render the checklist HTML to PDF with WeasyPrint (the optional `pdf` extra)."""
    require_pdf()
    import weasyprint

    document = weasyprint.HTML(string=html_text, url_fetcher=_refuse_fetch)
    data: bytes = document.write_pdf()
    return data


def write_pdf(html_text: str, out: Path) -> None:
    """Write the checklist HTML as a PDF at `out` (atomically)."""
    write_atomic(out, pdf_bytes(html_text))


# --- files -------------------------------------------------------------------------------------


_EXTENSIONS: dict[str, Format] = {
    "html": "html",
    "htm": "html",
    "md": "md",
    "markdown": "md",
    "pdf": "pdf",
}


def format_of(path: Path) -> Format:
    """The output format named by a file's extension; a UsageError for any other extension."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    shown = f"'.{suffix}'" if suffix else "no extension"
    raise UsageError(
        f"{path}: cannot tell the checklist format from {shown} (use .html, .md or .pdf)"
    )


def write_checklist(
    out: Path,
    title: str,
    lessons: Sequence[LessonContent],
    built: datetime | None = None,
    *,
    paper: Paper = "a4",
) -> Path:
    """Write one checklist, its format taken from `out`'s extension."""
    fmt = format_of(out)
    built = built or build_date()
    renderers: dict[Format, Callable[[], bytes]] = {
        "html": lambda: render_html(title, lessons, built, paper=paper).encode(),
        "md": lambda: render_markdown(title, lessons, built).encode(),
        "pdf": lambda: pdf_bytes(render_html(title, lessons, built, paper=paper)),
    }
    write_atomic(out, renderers[fmt]())
    return out


def checklist_files(
    title: str,
    lessons: Sequence[LessonContent],
    base_name: str,
    formats: Iterable[str] = FORMATS,
    *,
    built: datetime | None = None,
    paper: Paper = "a4",
    jobs: int = 1,
) -> dict[str, bytes]:
    """Every format's checklist in memory, by file name `<base_name>-checklist.<ext>`.

    `build` renders these with the decks and writes them together, so a missing WeasyPrint
    (or any other failure) leaves no half-written set behind.
    """
    built = built or build_date()
    sheets = sheets_for(lessons)
    page = render_html(title, lessons, built, paper=paper, jobs=jobs, prepared=sheets)
    renderers: dict[str, Callable[[], bytes]] = {
        "html": page.encode,
        "md": lambda: render_markdown(title, lessons, built, sheets).encode(),
        "pdf": lambda: pdf_bytes(page),
    }
    files: dict[str, bytes] = {}
    for fmt in formats:
        if fmt not in renderers:
            raise CardsError(f"unknown checklist format {fmt!r} (use: {', '.join(FORMATS)})")
        files[f"{base_name}-checklist.{fmt}"] = renderers[fmt]()
    return files
