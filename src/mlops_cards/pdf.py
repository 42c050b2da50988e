"""The checklist's PDF: WeasyPrint renders the page in pieces, pypdf joins them into one file.

WeasyPrint lays out a whole document at once and keeps every page's boxes until it is written:
a course of 1000 lessons took 3 GB and three minutes. A lesson starts a new page anyway (unless
it shares the page of the one before, `checklist.shares_page`), so the page can be cut before
any such lesson into documents of a bounded size that lay out to the same pages: each piece is
the same page (head, CSS) holding some of the lessons, the first one the cover too, and its page
numbers continue from the pieces before (`counter-reset` on its first page). pypdf then joins
the pieces' pages, their links and named destinations, and rebuilds the outline as one tree:
every piece's top level (its lessons) under the cover's title, as WeasyPrint nests the headings
of a single document.

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
# longer: about 40 pages, some 120 MB of WeasyPrint's memory; fewer, larger pieces are no faster.
PIECE_LINES = 2400

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
    limit: float | None = None,
) -> bytes:
    """The checklist PDF made piece by piece. `page(extra_css, lessons)`: the HTML of one piece
    (the cover with the first); `render(html)`: one document's PDF bytes."""
    parts: list[bytes] = []
    first_page = 1
    chosen = PIECE_LINES if limit is None else limit
    for number, lessons in enumerate(pieces(weights, starts_page, chosen)):
        css = PDF_CSS
        if number:  # WeasyPrint shows the number a page counter is reset to on that very page
            css += f"\n@page :first {{ counter-reset: page {first_page}; }}"
        data = render(page(css, lessons))
        parts.append(data)
        first_page += _page_count(data)
    return parts[0] if len(parts) == 1 else join(parts)


def _page_count(data: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(data)).pages)


def join(parts: Sequence[bytes]) -> bytes:
    """One PDF of the pieces' pages, in order, with their links and named destinations, the first
    piece's metadata, and one outline: each later piece's top-level entries under the last
    top-level entry of the first (the cover's title)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    writer = PdfWriter()
    readers = [PdfReader(io.BytesIO(data)) for data in parts]
    first = readers[0]
    writer.pdf_header = first.pdf_header
    offset = 0
    top: Any = None  # the entry later pieces' top level goes under
    for number, reader in enumerate(readers):
        writer.append(reader, import_outline=False)  # pages, annotations, named destinations
        parent = top if number else None
        made = _copy_outline(writer, reader, reader.outline, offset, parent)
        if number == 0 and made:
            top = made[-1]
        offset += len(reader.pages)
    writer.metadata = first.metadata
    for key in ("/Lang", "/PageMode", "/ViewerPreferences"):  # what the catalog says of the file
        if key in first.root_object:
            writer.root_object[NameObject(key)] = first.root_object[key].clone(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


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
