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
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from markupsafe import Markup

from mlops_cards import __version__
from mlops_cards.atomic import write_atomic
from mlops_cards.epoch import build_date
from mlops_cards.errors import CardsError, UsageError
from mlops_cards.manifest import CardKinds
from mlops_cards.models import Card, LessonContent
from mlops_cards.pages import html_filter, render
from mlops_cards.parallel import available_jobs, precompute

if TYPE_CHECKING:  # imported when an item text needs it: a cached build never does
    from markdown_it import MarkdownIt

T = TypeVar("T")
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
    cards: int  # Anki's cards and notes of the lesson (a term may make a cloze and a reverse)
    notes: int = 0

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
    notes: int
    cards: int

    def items(self) -> list[tuple[int, str]]:
        """(count, singular noun) in the order the cover shows them."""
        return [
            (self.lessons, "lesson"),
            (self.objectives, "objective"),
            (self.tasks, "task"),
            (self.questions, "question"),
            (self.terms, "term"),
            (self.notes, "note"),
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


def sheet_for(content: LessonContent, anki: tuple[int, int] | None = None) -> Sheet:
    """What one lesson's page shows: objectives, tasks by section, questions and terms to know.
    `anki`: the lesson's (notes, cards) in the deck; without it, one of each per card."""
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
        notes=anki[0] if anki else len(content.cards),
        cards=anki[1] if anki else len(content.cards),
    )


# The sheets to print, and those left out (nothing to tick).
Sheets = tuple[list[Sheet], list[Sheet]]


class Kept(Protocol):
    """Where a deck's per-lesson parts of the checklist are kept from one build to the next
    (`checklist_stage.py`, in the cache): `kind` of part ("sheet", "page"), the lesson's id,
    what else it depends on (a page: its layout)."""

    def get(self, kind: str, lesson_id: str, extra: str, expected: type[T]) -> T | None: ...

    def put(self, kind: str, lesson_id: str, extra: str, value: object) -> None: ...


def sheets_for(
    lessons: Sequence[LessonContent],
    kinds: CardKinds | None = None,
    card_templates: Path | None = None,
    kept: Kept | None = None,
) -> Sheets:
    """The sheets to print, and the lessons left out because they have nothing to tick.

    Index pages and READMEs are lessons too; a page saying "nothing here" would waste paper.
    `kinds` and `card_templates` are the deck's (default: the manifest's defaults), for the
    counts of notes and cards. `kept`: sheets made by an earlier build, and where to keep them.
    """
    found = [kept.get("sheet", c.lesson.id, "", Sheet) if kept else None for c in lessons]
    # A lesson's notes and cards depend on it alone: only the lessons not kept are counted.
    missing = [content for content, sheet in zip(lessons, found, strict=True) if sheet is None]
    counts = deck_counts(missing, kinds or CardKinds(), card_templates) if missing else {}
    sheets = []
    for content, sheet in zip(lessons, found, strict=True):
        if sheet is None:
            sheet = sheet_for(content, counts.get(content.lesson.id))
            if kept:
                kept.put("sheet", content.lesson.id, "", sheet)
        sheets.append(sheet)
    return [s for s in sheets if not s.is_empty], [s for s in sheets if s.is_empty]


def count(sheets: Sequence[Sheet]) -> Counts:
    return Counts(
        lessons=len(sheets),
        objectives=sum(len(s.objectives) for s in sheets),
        tasks=sum(s.task_count for s in sheets),
        questions=sum(len(s.questions) for s in sheets),
        terms=sum(len(s.terms) for s in sheets),
        notes=sum(s.notes for s in sheets),
        cards=sum(s.cards for s in sheets),
    )


def deck_counts(
    lessons: Sequence[LessonContent], kinds: CardKinds, templates: Path | None = None
) -> dict[str, tuple[int, int]]:
    """(notes, cards) of each lesson (by id) in a deck of `kinds`, counted as Anki counts them:
    the notes `build` makes, and for each the cards Anki generates from its note type (a
    reverse term card, one card per cloze number)."""
    from mlops_cards.notes import NoteBuilder, order_lessons
    from mlops_cards.notetypes import load_note_types
    from mlops_cards.render import CardRenderer
    from mlops_cards.templating import render_cards

    class Unrendered(CardRenderer):  # which cards exist does not depend on the fields' HTML
        def html(self, markdown: str, *, source: Path, line: int) -> str:
            return markdown

    notetypes = load_note_types(templates)
    by_id = {t.model_id: t for t in notetypes.values()}
    builder = NoteBuilder(notetypes, Unrendered(Path.cwd()), kinds)
    counts: dict[str, tuple[int, int]] = {}
    # Which cards a note has depends on which fields are empty, and for a cloze on its numbers.
    known: dict[tuple[object, ...], int] = {}
    for note in builder.notes(order_lessons("deck", list(lessons))):
        notetype = by_id[note.notetype]
        shape: tuple[object, ...] = (note.notetype, *(bool(f.strip()) for f in note.fields))
        if notetype.is_cloze:
            shape += tuple(sorted(set(_CLOZE_NUMBER.findall(" ".join(note.fields)))))
        if shape not in known:
            known[shape] = len(
                render_cards(
                    [(t.name, t.qfmt, t.afmt) for t in notetype.templates],
                    dict(zip(notetype.field_names, note.fields, strict=True)),
                    {},
                    is_cloze=notetype.is_cloze,
                )
            )
        notes_before, cards_before = counts.get(note.lesson_id, (0, 0))
        counts[note.lesson_id] = (notes_before + 1, cards_before + known[shape])
    return counts


_CLOZE_NUMBER = re.compile(r"\{\{c(\d+)::")


def describe(lessons: Sequence[LessonContent], kinds: CardKinds | None = None) -> str:
    """What a checklist of `lessons` holds, in words: "2 lessons, 7 objectives, ..."."""
    sheets, left_out = sheets_for(lessons, kinds)
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
    """The words a reader sees once the Markdown is rendered (`text.plain_text` only strips
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
# The page is made from the Jinja2 templates in `templates/` (checklist.html, checklist-cover.html,
# checklist-lesson.html, checklist.css); a course may override them (`page_templates:`).

html_filter("inline")(inline_html)
html_filter("block")(_block_html)
html_filter("without_emoji")(lambda text: html.escape(without_emoji(text)))

_CARD_MARK = Markup('<span class="card" title="has a flashcard">card</span>')


def _css(paper: Paper, folder: Path | None = None) -> str:
    size = {"a4": "A4", "letter": "letter"}[paper]
    return render("checklist.css", folder, size=size, max_depth=MAX_DEPTH).strip()


def _lesson_html(job: tuple[Sheet, tuple[bool, bool, bool]], folder: Path | None = None) -> str:
    """One sheet; `job` is the sheet and its layout (see `shares_page`)."""
    sheet, (shared, short, dense) = job
    values = {"sheet": sheet, "meta": _lesson_meta(sheet), "card_mark": _CARD_MARK}
    values.update(shared=shared, short=short, dense=dense)
    return render("checklist-lesson.html", folder, **values).removesuffix("\n")


# Page packing. A lesson starts a new page, except a short one, which may follow the sheet
# before it on the same page: a deck of short lessons then prints no near-empty pages. Whether
# it fits is estimated in printed lines (at 9pt, on the narrower, shorter of A4 and Letter);
# a short sheet is never split (CSS), so an estimate that is off moves it to the next page.
PAGE_LINES = 60  # lines of 9pt text on a page, less some slack
SHORT_LINES = PAGE_LINES // 2  # a sheet this long or shorter may share a page
# A sheet estimated a little over a page is printed in smaller type instead of spilling a few
# lines onto a page of their own (estimates run about 10% over the lines printed on A4).
FULL_LINES = 68  # about what one A4 page holds, less some slack
DENSE_LINES = 90  # up to this, smaller type (8.2pt, tighter lines) still fits one page
LINE_CHARS = 95  # characters of item text on a line of the sheet's column


def _item_lines(text: str) -> float:
    lines = text.split("\n")
    return sum(max(1, -(-len(line) // LINE_CHARS)) for line in lines) + 0.15


def sheet_lines(sheet: Sheet) -> float:
    """About how many printed lines `sheet` takes (title, sections, items). Item texts are
    measured as Markdown: about as long as printed, where a link's address is printed too."""
    lines = 3.5  # title, its rule and the counts under it
    for items in (sheet.objectives, sheet.questions):
        if items:
            lines += 1.6 + sum(_item_lines(i.text + "    ") for i in items)
    if sheet.task_groups:
        lines += 1.6
        for group in sheet.task_groups:
            lines += 1.3 if group.section else 0
            lines += sum(_item_lines(i.text + " " * (4 * i.depth)) for i in group.items)
    if sheet.terms:
        lines += 1.6 + sum(_item_lines(f"{t.name} — {t.definition}") for t in sheet.terms)
    return lines


def cover_lines(sheets: Sequence[Sheet]) -> float:
    return 17 + 1.1 * len(sheets)


def shares_page(sheets: Sequence[Sheet]) -> list[tuple[bool, bool, bool]]:
    """For each sheet: whether it follows the one before on the same page (the cover first),
    whether it is short (never split), and whether it is printed dense (to fit one page)."""
    used = cover_lines(sheets)
    result = []
    for sheet in sheets:
        lines = sheet_lines(sheet)
        short = lines <= SHORT_LINES
        fits = short and used + 2 + lines <= PAGE_LINES
        result.append((fits, short, FULL_LINES < lines <= DENSE_LINES))
        used = used + 2 + lines if fits else lines
    return result


def _lesson_meta(sheet: Sheet) -> str:
    counts = Counts(
        1,
        len(sheet.objectives),
        sheet.task_count,
        len(sheet.questions),
        len(sheet.terms),
        sheet.notes,
        sheet.cards,
    )
    return " · ".join(counts.phrases()[1:])


def _cover_html(
    title: str,
    sheets: Sequence[Sheet],
    left_out: Sequence[Sheet],
    built: datetime,
    folder: Path | None = None,
) -> str:
    values = {"title": title, "built": built, "counts": count(sheets), "sheets": sheets}
    values.update(left_out=left_out, card_mark=_CARD_MARK)
    return render("checklist-cover.html", folder, **values).removesuffix("\n")


def render_html(
    title: str,
    lessons: Sequence[LessonContent],
    build_date: datetime,
    *,
    paper: Paper = "a4",
    jobs: int = 1,
    prepared: Sheets | None = None,
    templates: Path | None = None,
) -> str:
    """The whole checklist as one self-contained HTML page: a cover, then one sheet per lesson.

    `paper` sets the `@page` size ("a4" or "letter"); the margins suit both, so a sheet made for
    one paper prints without clipping on the other. `jobs` > 1 renders the sheets in that many
    processes. `prepared`: `sheets_for(lessons)`, when the caller has it already. `templates`:
    a folder whose page templates replace the package's own (same file names).
    """
    return _parts(title, lessons, build_date, paper, jobs, prepared, templates).page()


@dataclass(frozen=True)
class _Page:
    """The checklist page's parts: the PDF is made of pieces of it (`pdf.py`)."""

    title: str
    css: str
    cover: str
    lessons: list[str]
    sheets: list[Sheet]
    layouts: list[tuple[bool, bool, bool]]  # `shares_page`
    templates: Path | None

    def page(self, extra_css: str = "", lessons: Iterable[int] | None = None) -> str:
        """The page; with `lessons` (indexes), only those sheets (and the cover with the
        first); `extra_css` after the page's own."""
        chosen = range(len(self.lessons)) if lessons is None else lessons
        picked = list(chosen)
        cover = self.cover if not picked or picked[0] == 0 or lessons is None else ""
        css = self.css + ("\n" + extra_css if extra_css else "")
        return render(
            "checklist.html",
            self.templates,
            title=self.title,
            version=__version__,
            css=Markup(css),
            cover=Markup(cover),
            lessons=[Markup(self.lessons[i]) for i in picked],
        )

    def pdf(self, jobs: int = 1) -> bytes:
        """The page as PDF: in pieces joined into one with the package's templates (`pdf.py`),
        rendered in up to `jobs` processes; in one piece with a course's own templates."""
        require_pdf()
        if self.templates is not None or any('href="#' in page for page in self.lessons):
            # A course's templates may count pages; a link to an anchor may point into another
            # piece: one document, as WeasyPrint always made it.
            return pdf_bytes(self.page())
        from mlops_cards.pdf import render_pieces

        starts = [not shared for shared, _, _ in self.layouts]
        weights = [sheet_lines(sheet) for sheet in self.sheets]
        if weights:
            weights[0] += cover_lines(self.sheets)
        return render_pieces(self.page, weights, starts, pdf_bytes, jobs=jobs, numbers_css=self.css)


def _parts(
    title: str,
    lessons: Sequence[LessonContent],
    build_date: datetime,
    paper: Paper = "a4",
    jobs: int = 1,
    prepared: Sheets | None = None,
    templates: Path | None = None,
    kept: Kept | None = None,
) -> _Page:
    if paper not in PAPERS:
        raise CardsError(f"unknown paper size {paper!r} (use one of: {', '.join(PAPERS)})")
    sheets, left_out = prepared if prepared is not None else sheets_for(lessons)
    cover = _cover_html(title, sheets, left_out, build_date, templates)
    one = functools.partial(_lesson_html, folder=templates)
    layouts = shares_page(sheets)
    jobs_list = list(zip(sheets, layouts, strict=True))
    # A sheet's HTML depends on the sheet and its layout only: kept ones are taken as they are.
    pages = [
        kept.get("page", sheet.lesson_id, repr(layout), str) if kept else None
        for sheet, layout in jobs_list
    ]
    misses = [i for i, page in enumerate(pages) if page is None]
    made = precompute(one, [jobs_list[i] for i in misses], jobs)
    for i, page in zip(misses, made, strict=True):
        pages[i] = page if page is not None else one(jobs_list[i])
        if kept:
            kept.put("page", sheets[i].lesson_id, repr(layouts[i]), pages[i])
    done = [page for page in pages if page is not None]
    return _Page(title, _css(paper, templates), cover, done, list(sheets), layouts, templates)


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
        import pypdf  # noqa: F401  # joins the pieces WeasyPrint renders (pdf.py)
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
        "pdf": lambda: _parts(title, lessons, built, paper).pdf(available_jobs()),
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
    templates: Path | None = None,
    kinds: CardKinds | None = None,
    card_templates: Path | None = None,
    kept: Kept | None = None,
) -> dict[str, bytes]:
    """Every format's checklist in memory, by file name `<base_name>-checklist.<ext>`.

    `build` renders these with the decks and writes them together, so a missing WeasyPrint
    (or any other failure) leaves no half-written set behind. `templates`: the page templates'
    folder; `kinds`, `card_templates`: the deck's, for its counts of notes and cards. `kept`:
    each lesson's sheet and HTML from an earlier build, and where to keep them (with the
    package's templates only: a course's own may show anything of a sheet).
    """
    built = built or build_date()
    sheets = sheets_for(lessons, kinds, card_templates, kept)
    parts = _parts(title, lessons, built, paper, jobs, sheets, templates, kept)
    page = parts.page()
    renderers: dict[str, Callable[[], bytes]] = {
        "html": page.encode,
        "md": lambda: render_markdown(title, lessons, built, sheets).encode(),
        "pdf": lambda: parts.pdf(jobs),
    }
    files: dict[str, bytes] = {}
    for fmt in formats:
        if fmt not in renderers:
            raise CardsError(f"unknown checklist format {fmt!r} (use: {', '.join(FORMATS)})")
        files[f"{base_name}-checklist.{fmt}"] = renderers[fmt]()
    return files
