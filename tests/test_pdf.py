"""The PDF checklist rendered in pieces and joined (pdf.py) has the pages of the one-document PDF.

"The same pages": the same number of pages, the same text on each, the same outline (titles,
nesting, page and place), named destinations, links and metadata; and, where poppler's
`pdftoppm` is installed, the same pixels. Pieces are forced small here (one per lesson that
starts a page) so that every kind of boundary is crossed: after the cover, lessons sharing a
page, a lesson printed dense, a lesson running over several pages.
"""

from __future__ import annotations

import dataclasses
import io
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from checklist_samples import empty_objectives_lesson, packaging_lesson
from mlops_cards import checklist, pdf
from mlops_cards.models import LessonContent, Objective, Task

pytest.importorskip("weasyprint", reason="WeasyPrint (the pdf extra) is not installed")
pypdf = pytest.importorskip("pypdf")

BUILT = datetime(2024, 5, 1, tzinfo=timezone.utc)


def variant(content: LessonContent, n: int, **parts: Any) -> LessonContent:
    lesson = dataclasses.replace(
        content.lesson,
        id=f"{content.lesson.id}-{n}",
        title=f"Lesson {n}",
        path=f"l/{n}.md",
        **parts,
    )
    cards = tuple(dataclasses.replace(c, lesson_id=lesson.id) for c in content.cards)
    return LessonContent(lesson, content.sidecar, cards)


def short(n: int) -> LessonContent:
    objectives = (Objective("1", f"Say what step {n} is for.", 3),)
    tasks = (Task(f"Do step {n}, check it [here](https://example.org/)", 5, "Work"),)
    made = variant(
        packaging_lesson(), n, objectives=objectives, tasks=tasks, questions=(), terms=()
    )
    return LessonContent(made.lesson, None, ())  # no cards: no terms from YAML either


def dense(n: int) -> LessonContent:
    tasks = tuple(Task(f"Exercise {k} of lesson {n}", 10 + k, "Drill") for k in range(62))
    return variant(packaging_lesson(), n, tasks=tasks, questions=(), terms=())


def course() -> list[LessonContent]:
    """Short lessons on the cover's page and each other's, full ones, dense, long (4+ pages)."""
    return [
        short(1),
        short(2),
        variant(packaging_lesson(), 3),
        short(4),
        short(5),
        dense(6),
        variant(empty_objectives_lesson(), 7),
        short(8),
        variant(packaging_lesson(), 9),
        short(10),
    ]


def counting_renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The HTML of every document WeasyPrint is given from now on (in this process)."""
    rendered: list[str] = []
    render = checklist.pdf_bytes

    def counted(html: str) -> bytes:
        rendered.append(html)
        return render(html)

    monkeypatch.setattr(checklist, "pdf_bytes", counted)
    return rendered


def one_document(lessons: list[LessonContent]) -> bytes:
    """The PDF as WeasyPrint made it before pdf.py: the whole page at once."""
    return checklist.pdf_bytes(checklist.render_html("Deck", lessons, BUILT))


def joined(lessons: list[LessonContent], jobs: int, monkeypatch: pytest.MonkeyPatch) -> bytes:
    monkeypatch.setattr(pdf, "PIECE_LINES", 1)  # a piece for every lesson that starts a page
    monkeypatch.setattr(pdf, "ONE_PIECE_LINES", 0)  # however short the course
    monkeypatch.setattr(pdf, "NUMBER_PAGES", 3)  # page numbers in documents of 3 pages (jobs > 1)
    return checklist.checklist_files("Deck", lessons, "d", ["pdf"], built=BUILT, jobs=jobs)[
        "d-checklist.pdf"
    ]


def structure(data: bytes) -> dict[str, Any]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    outline: list[tuple[Any, ...]] = []

    def walk(entries: list[Any], depth: int) -> None:
        for entry in entries:
            if isinstance(entry, list):
                walk(entry, depth + 1)
            else:
                page = reader.get_destination_page_number(entry)
                outline.append((depth, entry.title, page, float(entry.left), float(entry.top)))

    walk(reader.outline, 0)
    links = [
        (number, a["/A"].get("/URI"), [round(float(x), 2) for x in a["/Rect"]])
        for number, page in enumerate(reader.pages)
        for a in (annotation.get_object() for annotation in page.get("/Annots", []))
    ]
    destinations = {
        name: (reader.get_destination_page_number(d), float(d.left), float(d.top))
        for name, d in reader.named_destinations.items()
    }
    return {
        "texts": [page.extract_text() for page in reader.pages],
        "boxes": [list(page.mediabox) for page in reader.pages],
        "outline": outline,
        "destinations": destinations,
        "links": links,
        "metadata": dict(reader.metadata or {}),
        "lang": reader.root_object.get("/Lang"),
    }


def test_pieces_start_only_where_a_lesson_starts_a_page() -> None:
    weights = [10, 10, 10, 50, 10, 200, 10]
    starts = [True, False, False, True, True, True, False]
    assert pdf.pieces(weights, starts, 60) == [range(0, 3), range(3, 5), range(5, 7)]
    assert pdf.pieces(weights, [True] + [False] * 6, 60) == [range(0, 7)]  # one shared page
    assert pdf.pieces([], [], 60) == [range(0, 0)]  # the cover alone


def test_the_sample_course_crosses_every_kind_of_boundary() -> None:
    sheets, _ = checklist.sheets_for(course())
    layouts = checklist.shares_page(sheets)
    shared = [True, True, False, True, True, False, False, False, False, True]
    assert [s for s, _, _ in layouts] == shared
    assert layouts[5][2]  # printed dense
    assert len(pypdf.PdfReader(io.BytesIO(one_document(course()))).pages) >= 10


@pytest.mark.parametrize("jobs", [1, 2])
def test_joined_pdf_has_the_pages_of_the_one_document_pdf(
    jobs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered = counting_renders(monkeypatch)
    data = joined(course(), jobs, monkeypatch)
    if jobs == 1:
        assert len(rendered) == 6  # the cover and the lessons on its page, then five pieces
    expected = structure(one_document(course()))
    assert expected["texts"][0].rstrip().endswith("1")  # page numbers are in the text
    assert expected["outline"][0][:3] == (0, "Deck", 0)
    assert structure(data) == expected


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler's pdftoppm is not installed")
@pytest.mark.parametrize("jobs", [1, 2])
def test_joined_pdf_looks_the_same(
    jobs: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def pixels(data: bytes, name: str) -> list[bytes]:
        (tmp_path / f"{name}.pdf").write_bytes(data)
        subprocess.run(
            ["pdftoppm", "-r", "50", "-gray", tmp_path / f"{name}.pdf", tmp_path / name], check=True
        )
        return [p.read_bytes() for p in sorted(tmp_path.glob(f"{name}-*.pgm"))]

    expected = pixels(one_document(course()), "one")
    assert len(expected) >= 10
    assert pixels(joined(course(), jobs, monkeypatch), "joined") == expected


def test_joined_pdf_is_reproducible(monkeypatch: pytest.MonkeyPatch) -> None:
    first = joined(course(), 2, monkeypatch)
    assert joined(course(), 2, monkeypatch) == first
    assert joined(course(), 1, monkeypatch) == joined(course(), 1, monkeypatch)


def test_a_course_with_its_own_templates_is_rendered_in_one_piece(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "checklist.css").write_text(
        "@page { size: A5; }\n.sheet + .sheet { break-before: page; }\n"
    )
    rendered = counting_renders(monkeypatch)
    monkeypatch.setattr(pdf, "PIECE_LINES", 1)
    files = checklist.checklist_files(
        "Deck", course(), "d", ["pdf"], built=BUILT, templates=tmp_path
    )
    assert len(rendered) == 1
    assert len(pypdf.PdfReader(io.BytesIO(files["d-checklist.pdf"])).pages) >= 10


def test_a_short_course_is_the_one_document_pdf_byte_for_byte(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lessons = course() + [variant(empty_objectives_lesson(), n) for n in (11, 12, 13)]
    sheets, _ = checklist.sheets_for(lessons)
    assert sum(map(checklist.sheet_lines, sheets)) > pdf.PIECE_LINES  # more than one piece's
    rendered = counting_renders(monkeypatch)
    files = checklist.checklist_files("Deck", lessons, "d", ["pdf"], built=BUILT, jobs=2)
    assert len(rendered) == 1
    # The fixed table layout (pdf.PDF_CSS) changes no byte either.
    assert files["d-checklist.pdf"] == one_document(lessons)
