"""The checklist's PDF: WeasyPrint renders the page in pieces, pypdf joins them into one file.

WeasyPrint lays out a whole document at once and keeps every page's boxes until it is written:
a course of 1000 lessons took 3 GB and three minutes. A lesson starts a new page anyway (unless
it shares the page of the one before, `checklist.shares_page`), so the page can be cut before
any such lesson into documents of a bounded size that lay out to the same pages: each piece is
the same page (head, CSS) holding some of the lessons, the first one the cover too. pypdf joins
the pieces' pages, their links and named destinations, and rebuilds the outline as one tree:
every piece's top level (its lessons) under the cover's title, as WeasyPrint nests the headings
of a single document.

Page numbers: in one process, each piece's numbers continue from the pieces before
(`counter-reset` on its first page). With worker processes the pieces are rendered at once and
none knows where it starts, so they are rendered without numbers; documents of empty pages in
the same page style, numbered 1 to the last page, are rendered too, and each of their pages is
drawn over the joined page of the same number (a form XObject: the same glyphs at the same
place, as the tests compare in text and in pixels).

Only the package's own page templates are cut this way: a course's own templates or CSS may
count pages (`counter(pages)`) or style a first page, and are rendered in one piece as before.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import IndirectObject

# Estimated printed lines (`checklist.sheet_lines`) a piece holds at most, unless one lesson is
# longer: about 10 pages, some 50 MB of WeasyPrint's memory. A document costs WeasyPrint about
# 20 ms more, and small pieces keep two workers equally busy.
PIECE_LINES = 600

# Up to this many estimated lines (about 50 pages, 150 MB), the page is rendered in one piece:
# the PDF is then the very file WeasyPrint always made (joined pieces are the same pages in a
# larger file: pypdf writes no object streams), and the shipped deck's PDF keeps its bytes.
ONE_PIECE_LINES = 3000

# A table's automatic layout measures every line of its cells before laying them out; the frame
# table (one column, 100 % wide, cells that wrap anywhere) gets the same column width either way,
# and a fixed layout skips that measure: a quarter of the time, the same pages (tests/test_pdf.py).
PDF_CSS = "table.frame { table-layout: fixed; }"


def pieces(weights: Sequence[float], starts_page: Sequence[bool], limit: float) -> list[range]:
    """The lessons (indexes) of each piece, in order: a piece starts only at a lesson that starts
    a page, and holds lessons up to `limit` estimated lines (or one lesson, if longer)."""
    result: list[range] = []
    first, total = 0, 0.0
    for index, (weight, starts) in enumerate(zip(weights, starts_page, strict=True)):
        if index > first and starts and total + weight > limit:
            result.append(range(first, index))
            first, total = index, 0.0
        total += weight
    result.append(range(first, len(weights)))
    return result


def render_pieces(
    page: Callable[[str, Sequence[int]], str],
    weights: Sequence[float],
    starts_page: Sequence[bool],
    render: Callable[[str], bytes],
    *,
    limit: float | None = None,
    jobs: int = 1,
    numbers_css: str = "",
) -> bytes:
    """The checklist PDF made piece by piece. `page(extra_css, lessons)`: the HTML of one piece
    (the cover with the first); `render(html)`: one document's PDF bytes.

    In one process each piece's page numbers continue from the pieces before. With `jobs` > 1
    the pieces are rendered at once in worker processes, so none knows where it starts: they are
    rendered without page numbers, and the numbers are drawn onto the joined pages from one
    document of as many empty pages with the same page style (`numbers_css`: the page's CSS)."""
    chosen = pieces(weights, starts_page, PIECE_LINES if limit is None else limit)
    if sum(weights) <= ONE_PIECE_LINES:  # a short course: the same bytes as ever
        chosen = [range(len(weights))]
    if jobs > 1 and len(chosen) > 1:
        htmls = [page(f"{PDF_CSS}\n{_NO_NUMBERS}", lessons) for lessons in chosen]
        parts = _render_all(render, htmls, jobs, _numbers_html(numbers_css, 1, 1))
        total = sum(_page_count(part) for part in parts)
        numbers = [
            _numbers_html(numbers_css, first, min(NUMBER_PAGES, total - first + 1))
            for first in range(1, total + 1, NUMBER_PAGES)
        ]
        return join(parts, _render_all(render, numbers, jobs, numbers[0]))
    if len(chosen) == 1:
        return render(page(PDF_CSS, chosen[0]))
    parts = []
    first_page = 1
    for number, lessons in enumerate(chosen):
        parts.append(render(page(PDF_CSS + _first_page(number, first_page), lessons)))
        first_page += _page_count(parts[-1])
    return join(parts)


def _render_all(
    render: Callable[[str], bytes], htmls: list[str], jobs: int, small: str
) -> list[bytes]:
    """Each document rendered, in worker processes as far as they go (`parallel.py`). The main
    process renders the first item itself before the workers start (they inherit what it
    loaded): `small`, a document of one page, so that its memory holds no piece's layout."""
    from mlops_cards.parallel import precompute

    made = precompute(render, [small, *htmls], jobs, min_items=2)[1:]
    return [data if data is not None else render(h) for data, h in zip(made, htmls, strict=True)]


def _first_page(number: int, first_page: int) -> str:
    """CSS numbering the pages of the `number`th piece from `first_page` (WeasyPrint shows the
    number a page counter is reset to on that very page)."""
    return f"\n@page :first {{ counter-reset: page {first_page}; }}" if number else ""


# The package's page style prints the page number at the bottom right, and nothing else in the
# page margins.
_NO_NUMBERS = "@page { @bottom-right { content: none; } }"


# Pages of numbers rendered in one document: their layout is kept until written, as any other's.
NUMBER_PAGES = 200


def _numbers_html(css: str, first: int, pages: int) -> str:
    """`pages` empty pages in the checklist's page style, numbered from `first`: only their page
    numbers show (no background: they are drawn over the pages)."""
    body = "<div></div>" * pages
    style = f"{css}\nhtml {{ background: none; }} body > div + div {{ break-before: page; }}"
    style += _first_page(first > 1, first)
    head = f'<meta charset="utf-8"><style>{style}</style>'
    return f'<!DOCTYPE html><html lang="en"><head>{head}</head><body>{body}</body></html>'


def _page_count(data: bytes) -> int:
    return len(_read(data).pages)


def _read(data: bytes) -> PdfReader:
    from pypdf import PdfReader

    return PdfReader(io.BytesIO(data))


def join(parts: Sequence[bytes], numbers: Sequence[bytes] = ()) -> bytes:
    """One PDF of the pieces' pages, in order, with their links and named destinations, the first
    piece's metadata, and one outline: each later piece's top-level entries under the last
    top-level entry of the first (the cover's title). `numbers`: PDFs of as many pages in all,
    drawn over them (the page numbers). Each piece is read when it is copied, then let go."""
    from pypdf import PdfWriter
    from pypdf.generic import NameObject

    writer = PdfWriter()
    first = _read(parts[0])
    writer.pdf_header = first.pdf_header
    offset = 0
    top: Any = None  # the entry later pieces' top level goes under
    for number in range(len(parts)):
        reader = first if number == 0 else _read(parts[number])
        writer.append(reader, import_outline=False)  # pages, annotations, named destinations
        parent = top if number else None
        made = _copy_outline(writer, reader, reader.outline, offset, parent)
        if number == 0 and made:
            top = made[-1]
        _let_go(writer, reader, writer.pages[offset:])
        offset += len(reader.pages)
    page = 0
    for data in numbers:
        page = _draw_over(writer, _read(data), page)
    if numbers and page != len(writer.pages):
        raise ValueError(f"{page} pages of numbers for {len(writer.pages)} pages")
    writer.metadata = first.metadata
    for key in ("/Lang", "/PageMode", "/ViewerPreferences"):  # what the catalog says of the file
        if key in first.root_object:
            writer.root_object[NameObject(key)] = first.root_object[key].clone(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _let_go(writer: PdfWriter, reader: PdfReader, copied: Sequence[Any]) -> None:
    """Drop what pypdf's writer keeps of a reader whose pages it copied: it keeps them all to
    the end (for links between documents, which the pieces have none of: `checklist._Page.pdf`
    renders a page with anchor links in one piece), and 1000 lessons' pieces take 300 MB."""
    translated = getattr(writer, "_id_translated", None)
    if isinstance(translated, dict):
        translated.pop(id(reader), None)
    merged = getattr(writer, "_merged_in_pages", None)
    if isinstance(merged, dict) and not getattr(writer, "_unresolved_links", None):
        for key in [k for k in merged if getattr(k, "pdf", None) is reader]:
            del merged[key]
    for page in copied:
        page.original_page = None


def _draw_over(writer: PdfWriter, over: PdfReader, start: int) -> int:
    """Draw each page of `over` on the writer's pages from index `start` on, as a form XObject
    after the page's own content (kept in its own graphics state; no content is parsed); the
    index of the page after the last one drawn on."""
    from pypdf.generic import (
        ArrayObject,
        DecodedStreamObject,
        DictionaryObject,
        NameObject,
    )

    def stream(data: bytes) -> Any:
        made = DecodedStreamObject()
        made.set_data(data)
        return writer._add_object(made)

    if start + len(over.pages) > len(writer.pages):
        raise ValueError(f"{start + len(over.pages)} pages of numbers for {len(writer.pages)}")
    save = stream(b"q\n")
    tops: list[Any] = list(over.pages)
    for number, top in enumerate(tops, start + 1):
        page: Any = writer.pages[number - 1]
        form = top["/Contents"].get_object().clone(writer)  # its filter kept
        form.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Form"),
                NameObject("/BBox"): ArrayObject(top.mediabox),
                # Cloned once when the pages share them (an indirect object is cloned once).
                NameObject("/Resources"): top.raw_get("/Resources").clone(writer),
            }
        )
        # A piece's pages share their resources: each page's form gets a name of its own there.
        name = f"/McPageNumber{number}"
        resources = page["/Resources"].get_object()
        if "/XObject" not in resources:
            resources[NameObject("/XObject")] = DictionaryObject()
        resources["/XObject"].get_object()[NameObject(name)] = writer._add_object(form)
        draw = stream(f"Q\nq {name} Do Q\n".encode())
        own = page.raw_get("/Contents")  # a stream is referred to, never inlined
        own_list = list(own.get_object()) if isinstance(own.get_object(), ArrayObject) else [own]
        page[NameObject("/Contents")] = ArrayObject([save, *own_list, draw])
    return start + len(over.pages)


def _copy_outline(
    writer: PdfWriter,
    reader: PdfReader,
    entries: list[Any],
    offset: int,
    parent: IndirectObject | None,
) -> list[IndirectObject]:
    """Add `entries` (pypdf's nested outline: an entry, then a list of its children) under
    `parent`, each pointing at the same place of the same page; the entries made, in order."""
    from pypdf.generic import Fit

    made: list[IndirectObject] = []
    for entry in entries:
        if isinstance(entry, list):
            _copy_outline(writer, reader, entry, offset, made[-1])
            continue
        page = reader.get_destination_page_number(entry)
        fit = Fit.xyz(entry.left, entry.top, entry.zoom)
        where = None if page is None else page + offset
        made.append(
            writer.add_outline_item(title=entry.title, page_number=where, parent=parent, fit=fit)
        )
    return made
