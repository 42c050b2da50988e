"""The checklist as a browser and WeasyPrint print it: pages, text on each page, no overflow.

Chromium (Debian's `chromium`) renders the HTML to PDF and PNG; pypdf reads the text back. These
tests skip, saying why, when Chromium or WeasyPrint is not installed.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from browser import run_chromium
from checklist_samples import (
    LONG_URL,
    empty_objectives_lesson,
    packaging_lesson,
    printed_text,
    squash,
)
from conftest import SEED
from mlops_cards.checklist import pdf_bytes, render_html
from mlops_cards.extract import find_lessons
from mlops_cards.merge import merge_lesson
from mlops_cards.models import LessonContent

pypdf = pytest.importorskip("pypdf")

BUILT = datetime(2024, 5, 1, tzinfo=timezone.utc)
A4_POINTS = (595, 842)
LETTER_POINTS = (612, 792)
# Width of the printed column on A4 (210 mm minus 2 x 13 mm margins) in CSS pixels (96 per inch).
A4_COLUMN_PX = round((210 - 2 * 13) / 25.4 * 96)


def print_to_pdf(chromium: str, page: str, tmp: Path, name: str = "checklist") -> Path:
    source = tmp / f"{name}.html"
    source.write_text(page, encoding="utf-8")
    pdf = tmp / f"{name}.pdf"
    run_chromium(chromium, tmp, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", source.as_uri())
    assert pdf.stat().st_size > 0
    return pdf


def page_texts(pdf: Path | bytes) -> list[str]:
    import io

    reader = pypdf.PdfReader(io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf)
    return [squash(page.extract_text() or "") for page in reader.pages]


def expected_texts(content: LessonContent) -> list[str]:
    """What print must show of every objective, task and question (squashed for comparison)."""
    lesson = content.lesson
    texts = [printed_text(o.text) for o in lesson.objectives]
    texts += [printed_text(t.text) for t in lesson.tasks]
    for question in lesson.questions:
        prose, *code = re.split(r"\n```[a-z]*\n", question.text, maxsplit=1)
        texts.append(f"{question.label or ''} {printed_text(prose)}")
        if code:  # the code block is printed as written
            texts += [line for line in code[0].splitlines() if line.strip("`").strip()]
    return [squash(text) for text in texts]


@pytest.fixture
def seed_content(corpus: Path) -> LessonContent:
    lessons, errors = find_lessons([str(SEED)])
    assert errors == []
    return merge_lesson(lessons[0], None)


def test_chromium_prints_every_item_and_short_lessons_share_a_page(
    chromium: str, seed_content: LessonContent, tmp_path: Path
) -> None:
    lessons = [seed_content, packaging_lesson()]
    pdf = print_to_pdf(chromium, render_html("MLOps Fundamentals", lessons, BUILT), tmp_path)

    pages = page_texts(pdf)
    assert len(pages) < 1 + len(lessons)  # short lessons share pages: none nearly empty
    assert squash("MLOps Fundamentals") in pages[0]
    assert squash("Built 2024-05-01") in pages[0]
    for content in lessons:  # a short lesson is never split: all of it on one page
        first = expected_texts(content)[0]
        [page] = [page for page in pages if first in page]
        for text in expected_texts(content):
            assert text in page, f"missing on the page of {content.lesson.id}: {text}"
    width, height = pypdf.PdfReader(pdf).pages[0].mediabox.upper_right
    assert (round(width), round(height)) == A4_POINTS

    png = tmp_path / "first-lesson.png"
    run_chromium(
        chromium,
        tmp_path,
        f"--screenshot={png}",
        "--window-size=900,1200",
        (tmp_path / "checklist.html").as_uri(),
    )
    from PIL import Image

    with Image.open(png) as image:
        assert image.size == (900, 1200)
        # Something is drawn: a blank page would have a single colour.
        colours = image.convert("L").getcolors(maxcolors=256 * 256)
        assert colours is not None and len(colours) > 10


def test_letter_paper_prints_letter_pages(chromium: str, tmp_path: Path) -> None:
    page = render_html("Deck", [packaging_lesson()], BUILT, paper="letter")
    pdf = print_to_pdf(chromium, page, tmp_path)
    reader = pypdf.PdfReader(pdf)
    assert 1 <= len(reader.pages) <= 2
    for sheet in reader.pages:
        width, height = sheet.mediabox.upper_right
        assert (round(width), round(height)) == LETTER_POINTS


def test_weasyprint_pdf_has_the_same_text(seed_content: LessonContent) -> None:
    pytest.importorskip("weasyprint", reason="WeasyPrint (the pdf extra) is not installed")
    lessons = [seed_content, packaging_lesson()]
    pages = page_texts(pdf_bytes(render_html("MLOps Fundamentals", lessons, BUILT)))

    assert len(pages) < 1 + len(lessons)
    for content in lessons:
        [page] = [page for page in pages if expected_texts(content)[0] in page]
        for text in expected_texts(content):
            assert text in page, f"missing on the page of {content.lesson.id}: {text}"


def test_stress_lesson_prints_every_task(chromium: str, tmp_path: Path) -> None:
    stress = empty_objectives_lesson()
    pdf = print_to_pdf(chromium, render_html("Deck", [stress], BUILT), tmp_path)

    pages = page_texts(pdf)
    assert len(pages) > 2  # 200 tasks span pages, and that is fine
    everything = "".join(pages[1:])
    for text in expected_texts(stress):
        assert text in everything
    assert squash(f"({LONG_URL})") in everything  # the address, whole, after the link text


# Runs in the page: make the print rules apply on screen (Chromium cannot dump the DOM in print
# mode), then record how wide the content really is and every box that sticks out of the column.
OVERFLOW_PROBE = """<script>
for (const sheet of document.styleSheets) for (const rule of sheet.cssRules) {
  if (!rule.media) continue;
  const media = rule.media.mediaText;
  rule.media.mediaText = media === "print" ? "all" : media.startsWith("screen") ? "not all" : media;
}
const root = document.documentElement, outside = [];
for (const el of document.body.querySelectorAll("*"))
  for (const box of el.getClientRects())
    if (box.right > root.clientWidth + 0.5 || box.left < -0.5)
      outside.push(el.tagName + ": " + el.textContent.slice(0, 60));
document.body.setAttribute("data-probe", JSON.stringify(
  {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, outside: outside}));
</script>"""


def measure_overflow(chromium: str, page: str, tmp: Path) -> dict[str, object]:
    source = tmp / "probe.html"
    source.write_text(page.replace("</body>", OVERFLOW_PROBE + "</body>"), encoding="utf-8")
    result = run_chromium(
        chromium, tmp, f"--window-size={A4_COLUMN_PX},1000", "--dump-dom", source.as_uri()
    )
    found = re.search(r'data-probe="([^"]*)"', result.stdout)
    assert found, "the probe script did not run"
    probe: dict[str, object] = json.loads(found.group(1).replace("&quot;", '"'))
    assert probe["clientWidth"] == A4_COLUMN_PX
    return probe


def test_no_lesson_overflows_the_printed_column(chromium: str, tmp_path: Path) -> None:
    page = render_html("Deck", [empty_objectives_lesson(), packaging_lesson()], BUILT)
    probe = measure_overflow(chromium, page, tmp_path)
    assert probe["outside"] == []
    assert probe["scrollWidth"] == probe["clientWidth"]


def test_the_overflow_probe_catches_an_unwrapped_url(chromium: str, tmp_path: Path) -> None:
    # Same page with long words allowed to stick out: the probe must see it, or it proves nothing.
    page = render_html("Deck", [empty_objectives_lesson()], BUILT)
    probe = measure_overflow(
        chromium, page.replace("overflow-wrap: anywhere", "overflow-wrap: normal"), tmp_path
    )
    assert isinstance(probe["scrollWidth"], int) and probe["scrollWidth"] > A4_COLUMN_PX
    assert probe["outside"] != []


# --- pages: each says whose it is, none is nearly empty ------------------------------------------


def page_fill(pdf: Path | bytes) -> list[float]:
    """How far down each page its text reaches, as a share of the page's text area."""
    import io

    reader = pypdf.PdfReader(io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf)
    fills = []
    for page in reader.pages:
        heights: list[float] = []

        def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
            if text.strip():
                heights.append(tm[4] * cm[1] + tm[5] * cm[3] + cm[5])  # noqa: B023

        page.extract_text(visitor_text=visit)
        top = float(page.mediabox.top)
        area = top * (297 - 11 - 12) / 297  # A4 less the top and bottom margins (mm)
        low = min(y for y in heights if y > top * 12 / 297 + 12)  # above the page number
        fills.append(round((top * (297 - 11) / 297 - low) / area, 2))
    return fills


@pytest.fixture(scope="module")
def shipped_checklist() -> tuple[str, list[LessonContent]]:
    from conftest import ROOT
    from mlops_cards.checklist import checklist_files
    from mlops_cards.manifest import load_manifest

    manifest = load_manifest(ROOT / "decks" / "mlops.yaml")
    lessons, errors = find_lessons([str(p) for p in manifest.lessons])
    assert errors == []
    contents = [merge_lesson(lesson) for lesson in lessons]
    files = checklist_files(
        manifest.name,
        contents,
        "mlops",
        ["html"],
        built=BUILT,
        kinds=manifest.cards,
        card_templates=manifest.templates,
    )
    return files["mlops-checklist.html"].decode(), contents


def assert_titled_and_full(
    pages: list[str], fills: list[float], lessons: list[LessonContent]
) -> None:
    titles = {c.lesson.id: squash(c.lesson.title or "") for c in lessons}
    for number, page in enumerate(pages[1:], start=2):
        assert any(title in page for title in titles.values()), f"page {number} has no title"
    texts = {c.lesson.id: expected_texts(c) for c in lessons}
    shared = {
        t for i, ts in texts.items() for t in ts if any(t in texts[j] for j in texts if j != i)
    }
    for content in lessons:
        for text in set(texts[content.lesson.id]) - shared:  # a text of this lesson only
            holding = [page for page in pages if text in page]
            assert holding, f"{text} is printed nowhere"
            assert all(titles[content.lesson.id] in page for page in holding), text
    assert min(fills) >= 1 / 3, fills


def test_shipped_checklist_pages_in_chromium(
    chromium: str, shipped_checklist: tuple[str, list[LessonContent]], tmp_path: Path
) -> None:
    page, lessons = shipped_checklist
    pdf = print_to_pdf(chromium, page, tmp_path)
    pages = page_texts(pdf)
    assert len(pages) <= len(lessons) + 2
    assert_titled_and_full(pages, page_fill(pdf), lessons)


def test_shipped_checklist_pages_in_weasyprint(
    shipped_checklist: tuple[str, list[LessonContent]],
) -> None:
    pytest.importorskip("weasyprint", reason="WeasyPrint (the pdf extra) is not installed")
    page, lessons = shipped_checklist
    pdf = pdf_bytes(page)
    pages = page_texts(pdf)
    assert len(pages) <= len(lessons) + 2
    assert_titled_and_full(pages, page_fill(pdf), lessons)


def test_a_lesson_that_runs_over_pages_names_itself_on_each(chromium: str, tmp_path: Path) -> None:
    stress = empty_objectives_lesson()  # 200 tasks: several pages
    page = render_html("Deck", [packaging_lesson(), stress], BUILT)
    title = squash(stress.lesson.title or "")
    for pdf in (print_to_pdf(chromium, page, tmp_path), pdf_bytes(page)):
        pages = page_texts(pdf)
        assert len(pages) > 3
        spread = [p for p in pages if squash(stress.lesson.tasks[-1].text[:20]) in p or title in p]
        assert all(title in p for p in pages[-3:]), [p[:80] for p in pages]
        assert spread
