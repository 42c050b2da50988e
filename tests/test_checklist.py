"""The checklist renderers: what each sheet shows, how text is made safe, files and formats."""

from __future__ import annotations

import re
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.tasklists import tasklists_plugin

from checklist_samples import bare_lesson, empty_objectives_lesson, packaging_lesson
from conftest import run_cli
from mlops_cards import checklist
from mlops_cards.checklist import (
    PDF_MISSING,
    checklist_files,
    first_sentence,
    format_of,
    render_html,
    render_markdown,
    sheet_for,
    write_pdf,
)
from mlops_cards.epoch import build_date
from mlops_cards.errors import CardsError, UsageError
from mlops_cards.models import Card, Lesson, LessonContent, Question, Task, Term

BUILT = datetime(2024, 5, 1, 12, 30, tzinfo=timezone.utc)


def lesson_with(**parts: object) -> LessonContent:
    cards = parts.pop("cards", ())
    lesson = Lesson(path="x.md", id="x", title="X", sort=None, **parts)  # type: ignore[arg-type]
    return LessonContent(lesson=lesson, sidecar=None, cards=cards)  # type: ignore[arg-type]


# --- build date --------------------------------------------------------------------------------


def test_build_date_comes_from_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1714566600")
    assert build_date() == datetime(2024, 5, 1, 12, 30, tzinfo=timezone.utc)


def test_build_date_is_now_without_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    before = datetime.now(timezone.utc)
    assert before <= build_date() <= datetime.now(timezone.utc)


def test_bad_source_date_epoch_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(CardsError) as caught:
        build_date()
    assert str(caught.value) == (
        "SOURCE_DATE_EPOCH='yesterday' is not a Unix timestamp (set it to whole seconds, "
        "e.g. the last commit's: git log -1 --format=%ct)"
    )


# --- what a sheet holds ------------------------------------------------------------------------


def test_sheet_groups_tasks_by_section_and_keeps_nesting() -> None:
    sheet = sheet_for(packaging_lesson())
    assert [g.section for g in sheet.task_groups] == ["Reading", "Hands-on"]
    assert [i.depth for i in sheet.task_groups[0].items] == [0, 1, 2, 0]
    assert sheet.task_count == 6


def test_nesting_never_skips_a_level() -> None:
    tasks = (
        Task("a", 1, "S", depth=2),  # first in its section: drawn at the top level
        Task("b", 2, "S", depth=4),
        Task("c", 3, "S", depth=1),
        Task("d", 4, "S", depth=9),
    )
    sheet = sheet_for(lesson_with(tasks=tasks))
    assert [i.depth for i in sheet.task_groups[0].items] == [0, 1, 1, 2]


def test_sheet_marks_items_with_a_flashcard() -> None:
    sheet = sheet_for(packaging_lesson())
    assert [o.card for o in sheet.objectives] == [True, False, False]
    assert [q.card for q in sheet.questions] == [True, False, False]
    assert [q.label for q in sheet.questions] == ["Q1", "Q2", None]


def test_terms_to_know() -> None:
    sheet = sheet_for(packaging_lesson())
    # The unnamed tip is left out; the term added in YAML comes after the lesson's terms.
    assert [(t.name, t.card) for t in sheet.terms] == [
        ("wheel", True),
        ("build backend", False),
        ("entry point", True),
    ]
    # A card's definition (written by the author) wins; the short form is the first sentence.
    assert sheet.terms[0].definition == "A built distribution format."
    assert sheet.terms[2].definition == "A named hook that a tool looks up at run time."


def test_a_tip_named_in_yaml_becomes_a_term() -> None:
    tip = Term("bell-1", None, "Tip: commit often.", 5, 1)
    card = Card("x", "term", "bell-1", "commit", "Record a change in history.", label="commit")
    sheet = sheet_for(lesson_with(terms=(tip,), cards=(card,)))
    assert [(t.name, t.definition, t.card) for t in sheet.terms] == [
        ("commit", "Record a change in history.", True)
    ]


def test_first_sentence_trims_long_definitions() -> None:
    assert first_sentence("A wheel is an archive. It ends in `.whl`.") == "A wheel is an archive."
    assert first_sentence("Use e.g. pip here. Then more.") == "Use e.g. pip here."
    long = "An archive " + "that holds files " * 30 + "for [pip](https://x.org)."
    short = first_sentence(long)
    assert short.endswith("…")
    assert len(short) <= 200
    assert "[" not in short  # cut as plain text: no half link left behind


# --- HTML --------------------------------------------------------------------------------------


def test_html_is_self_contained_and_made_for_paper() -> None:
    page = render_html("MLOps Fundamentals", [packaging_lesson()], BUILT)
    assert page.startswith("<!DOCTYPE html>")
    for fetches in ("<link", "<script", "<img", "src=", "url(", "@import", "@font-face"):
        assert fetches not in page
    assert "@page { size: A4; margin: 11mm 13mm 12mm; }" in page
    assert ".sheet + .sheet { break-before: page; }" in page
    assert 'a[href^="http"]::after' in page
    assert re.search(r'content: " \(" attr\(href\) "\)"', page)
    assert page.count('<section class="sheet lesson') == 1
    assert "Built 2024-05-01" in page
    assert "<title>MLOps Fundamentals — checklist</title>" in page


def test_letter_paper() -> None:
    page = render_html("D", [packaging_lesson()], BUILT, paper="letter")
    assert "@page { size: letter; margin: 11mm 13mm 12mm; }" in page
    with pytest.raises(CardsError, match="unknown paper size 'a5'"):
        render_html("D", [], BUILT, paper="a5")  # type: ignore[arg-type]


def test_html_cover_counts_and_legend() -> None:
    page = render_html("Deck", [packaging_lesson(), empty_objectives_lesson()], BUILT)
    tiles = dict(re.findall(r"<dt>(\w+)</dt><dd>(\d+)</dd>", page))
    assert tiles == {
        "Lessons": "2",
        "Objectives": "3",
        "Tasks": "208",
        "Questions": "4",
        "Terms": "3",
        "Notes": "4",
        "Cards": "4",
    }
    assert "This item has a flashcard in the Anki deck" in page


def test_html_card_markers_match_cards() -> None:
    page = render_html("Deck", [packaging_lesson()], BUILT)
    lesson_part = page.split('<section class="sheet lesson', 1)[1]
    # objective 1, question Q1, terms wheel and entry point
    assert lesson_part.count('<span class="card"') == 4


def test_html_nesting_and_labels() -> None:
    page = render_html("Deck", [packaging_lesson()], BUILT)
    assert '<li class="d1">Skim the section on entry points</li>' in page
    assert '<li class="d2">Note the difference between <code>sdist</code> and wheel</li>' in page
    assert "<h4>Reading</h4>" in page
    assert '<span class="label">Q2</span>What does this command print?' in page
    assert '<pre class="code"><code>python -m pip --version</code></pre>' in page


def test_raw_html_never_passes_through() -> None:
    task_texts = [
        "Run <script>alert(1)</script> now",
        'Look <img src="https://tracker.example/x.png"> here',
        "Mark <mark>this</mark> and <b onclick='x()'>that</b>",
        "Show `<b>` as code",
        "Picture ![a diagram](https://example.org/d.png)",
        "Unsafe [link](javascript:alert(1))",
    ]
    tasks = tuple(Task(text, n, None) for n, text in enumerate(task_texts))
    questions = (Question("Q1", "Q1", "Why <iframe src='https://e.org'></iframe>?", 9),)
    page = render_html("D", [lesson_with(tasks=tasks, questions=questions)], BUILT)
    body = page.split("<body>", 1)[1]
    for forbidden in ("<script", "<img", "<iframe", "<mark", "onclick", 'javascript:alert(1)"'):
        assert forbidden not in body
    assert "<li>Mark this and that</li>" in body
    assert "<code>&lt;b&gt;</code>" in body
    assert "Picture [a diagram]" in body
    assert 'href="javascript' not in body


def test_emoji_are_dropped_from_print_but_words_stay() -> None:
    content = lesson_with(tasks=(Task("Deploy 🚀 the model (work in progress 🚧)", 1, None),))
    page = render_html("Deck ☁️🌟", [content], BUILT)
    assert "<li>Deploy the model (work in progress)</li>" in page
    assert "🚀" not in page and "🌟" not in page


def test_lessons_with_nothing_to_tick_are_named_on_the_cover_only() -> None:
    page = render_html("Deck", [packaging_lesson(), bare_lesson()], BUILT)
    assert page.count('<section class="sheet lesson') == 1
    assert "Left out, nothing to tick: empty-notes." in page


def test_html_is_reproducible() -> None:
    lessons = [packaging_lesson(), empty_objectives_lesson()]
    assert render_html("D", lessons, BUILT) == render_html("D", lessons, BUILT)


# --- Markdown ----------------------------------------------------------------------------------


def test_markdown_task_lists() -> None:
    text = render_markdown("Deck", [packaging_lesson()], BUILT)
    assert text.startswith("# Deck\n\nChecklist built 2024-05-01: 1 lesson, 3 objectives, ")
    assert "- [ ] Explain what a **wheel** is and when to build one. *(card)*\n" in text
    assert (
        "- [ ] Read [the packaging tutorial](https://packaging.example.org/tutorial)\n"
        "  - [ ] Skim the section on entry points\n"
        "    - [ ] Note the difference between `sdist` and wheel\n"
        "- [ ] Watch the talk on versioning (20 min)\n"
    ) in text
    assert (
        "- [ ] **Q2** What does this command print?\n\n"
        "  ```bash\n  python -m pip --version\n  ```\n"
    ) in text
    assert "- [ ] **wheel** — A built distribution format. *(card)*\n" in text
    assert "## Packaging a Python project\n" in text
    assert "#### Hands-on\n" in text


def test_markdown_parses_as_one_task_per_item() -> None:
    lessons = [packaging_lesson(), empty_objectives_lesson()]
    text = render_markdown("Deck", lessons, BUILT)
    tokens = MarkdownIt("commonmark").use(tasklists_plugin).parse(text)
    items = [t for t in tokens if t.type == "list_item_open"]
    assert all(t.attrGet("class") == "task-list-item" for t in items)
    sheets = [sheet_for(c) for c in lessons]
    expected = sum(
        len(s.objectives) + s.task_count + len(s.questions) + len(s.terms) for s in sheets
    )
    assert len(items) == expected
    # The deepest task is a list inside a list inside a list.
    depth = max(t.level for t in tokens if t.type == "bullet_list_open") // 2
    assert depth == 2
    assert not any(t.type == "code_block" for t in tokens)  # no item fell into indented code


# --- files -------------------------------------------------------------------------------------


def test_format_from_the_extension() -> None:
    assert format_of(Path("a.HTML")) == "html"
    assert format_of(Path("a.md")) == "md"
    assert format_of(Path("out/a.pdf")) == "pdf"
    with pytest.raises(UsageError) as caught:
        format_of(Path("a.txt"))
    assert str(caught.value) == (
        "a.txt: cannot tell the checklist format from '.txt' (use .html, .md or .pdf)"
    )


def test_checklist_files_renders_each_format() -> None:
    files = checklist_files("Deck", [packaging_lesson()], "mlops", ["html", "md"], built=BUILT)
    assert list(files) == ["mlops-checklist.html", "mlops-checklist.md"]
    assert files["mlops-checklist.html"].decode() == render_html(
        "Deck", [packaging_lesson()], BUILT
    )
    assert files["mlops-checklist.md"].decode() == render_markdown(
        "Deck", [packaging_lesson()], BUILT
    )


def test_pdf_without_weasyprint_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # makes `import weasyprint` fail
    out = tmp_path / "c.pdf"
    with pytest.raises(CardsError) as caught:
        write_pdf("<html></html>", out)
    assert (
        str(caught.value)
        == PDF_MISSING
        == ("PDF output needs WeasyPrint: pip install 'mlops-cards[pdf]'")
    )
    with pytest.raises(CardsError):
        checklist_files("D", [packaging_lesson()], "m", ["html", "pdf"], built=BUILT)
    assert list(tmp_path.iterdir()) == []


def test_write_pdf(tmp_path: Path) -> None:
    pytest.importorskip("weasyprint", reason="WeasyPrint (the pdf extra) is not installed")
    out = tmp_path / "c.pdf"
    write_pdf(render_html("Deck", [packaging_lesson()], BUILT), out)
    assert out.read_bytes().startswith(b"%PDF-")
    assert [p.name for p in tmp_path.iterdir()] == ["c.pdf"]  # no temp file left behind
    again = tmp_path / "again.pdf"
    write_pdf(render_html("Deck", [packaging_lesson()], BUILT), again)
    assert again.read_bytes() == out.read_bytes()  # release assets are reproducible


def test_module_does_not_import_weasyprint_eagerly() -> None:
    assert "weasyprint" not in checklist.__dict__


# --- the `checklist` command -------------------------------------------------------------------

LESSON = """\
---
sort: 2
---
# Experiment tracking

## Learning Objectives

- [ ] Log a run with its parameters.
- [ ] Compare two runs side by side.

## Reading

- [ ] Read [the tracking guide](https://tracking.example.org/guide)
  - [ ] Try the quick start

:pencil: Q1. Why record the random seed of a run?

:bell: **Run**: one execution of a training script, with its inputs and results.
"""

ANSWERS = """\
questions:
  Q1:
    question: Why record the random seed of a run?
    answer: So that the run can be repeated exactly.
"""


@pytest.fixture
def course(tmp_path: Path) -> Path:
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    (lessons / "2. Tracking.md").write_text(LESSON, encoding="utf-8")
    (lessons / "2. Tracking.yaml").write_text(ANSWERS, encoding="utf-8")
    return tmp_path


EPOCH = {"SOURCE_DATE_EPOCH": "1714566600"}


def test_cli_writes_markdown(course: Path) -> None:
    result = run_cli(
        "checklist", "lessons", "-o", "out/list.md", "--title", "Tracking", cwd=course, env=EPOCH
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "out/list.md: 1 lesson, 2 objectives, 2 tasks, 1 question, 1 term, 2 notes, 2 cards\n"
    )
    text = (course / "out" / "list.md").read_text(encoding="utf-8")
    assert text.startswith("# Tracking\n\nChecklist built 2024-05-01: 1 lesson, ")
    assert "- [ ] **Q1** Why record the random seed of a run? *(card)*\n" in text
    assert (
        "- [ ] Read [the tracking guide](https://tracking.example.org/guide)\n"
        "  - [ ] Try the quick start\n"
    ) in text


def test_cli_writes_html_for_letter_paper(course: Path) -> None:
    result = run_cli(
        "checklist",
        "lessons/2. Tracking.md",
        "-o",
        "c.html",
        "--paper",
        "letter",
        cwd=course,
        env=EPOCH,
    )
    assert result.returncode == 0, result.stderr
    page = (course / "c.html").read_text(encoding="utf-8")
    assert "@page { size: letter;" in page
    assert "<h1>Checklist</h1>" in page
    assert page.count('<span class="card"') == 3  # Q1, the term Run, and the legend's sample


def test_cli_rejects_an_unknown_format(course: Path) -> None:
    result = run_cli("checklist", "lessons", "-o", "c.docx", cwd=course)
    assert result.returncode == 2
    assert result.stderr == (
        "error: c.docx: cannot tell the checklist format from '.docx' (use .html, .md or .pdf)\n"
    )
    assert not (course / "c.docx").exists()


def test_cli_reports_yaml_errors_and_writes_nothing(course: Path) -> None:
    (course / "lessons" / "2. Tracking.yaml").write_text(
        ANSWERS.replace("Q1:", "q1:").replace(
            "    question: Why record the random seed of a run?\n", ""
        ),
        encoding="utf-8",
    )
    result = run_cli("checklist", "lessons", "-o", "c.html", cwd=course)
    assert result.returncode == 1
    assert result.stderr == (
        "lessons/2. Tracking.yaml:2:3: error: questions: 'q1' is not a question of "
        "lessons/2. Tracking.md (did you mean 'Q1'?)\n"
        "error: no checklist written: fix the errors above, then run again (c.html)\n"
    )
    assert not (course / "c.html").exists()


def test_cli_reports_missing_paths(course: Path) -> None:
    result = run_cli("checklist", "lessons", "nowhere.md", "-o", "c.md", cwd=course)
    assert result.returncode == 2  # a usage error, before any lesson is read
    assert result.stderr.endswith(
        "Error: Invalid value for '[PATHS]...': Path 'nowhere.md' does not exist.\n"
    )
    assert not (course / "c.md").exists()


def test_cli_pdf_without_weasyprint(course: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "blocked" / "weasyprint"
    blocked.mkdir(parents=True)
    (blocked / "__init__.py").write_text('raise ImportError("hidden for this test")\n')
    result = run_cli(
        "checklist", "lessons", "-o", "c.pdf", cwd=course, env={"PYTHONPATH": str(blocked.parent)}
    )
    assert result.returncode == 1
    assert result.stderr == "error: PDF output needs WeasyPrint: pip install 'mlops-cards[pdf]'\n"
    assert not (course / "c.pdf").exists()


def test_cli_writes_pdf(course: Path) -> None:
    pytest.importorskip("weasyprint", reason="WeasyPrint (the pdf extra) is not installed")
    result = run_cli("checklist", "lessons", "-o", "c.pdf", cwd=course, env=EPOCH)
    assert result.returncode == 0, result.stderr
    assert (course / "c.pdf").read_bytes().startswith(b"%PDF-")


# --- page templates ------------------------------------------------------------------------------


def test_a_course_overrides_one_page_template_and_keeps_the_others(tmp_path: Path) -> None:
    (tmp_path / "checklist-lesson.html").write_text(
        '<section class="sheet lesson mine">{{ sheet.title }} / {{ meta }}</section>\n'
    )
    page = render_html("Deck", [packaging_lesson()], BUILT, templates=tmp_path)
    assert '<section class="sheet lesson mine">Packaging a Python project / 3 objectives' in page
    assert '<header class="sheet cover">' in page  # the package's cover, not overridden
    assert page == render_html("Deck", [packaging_lesson()], BUILT, templates=tmp_path)


def test_template_values_are_escaped(tmp_path: Path) -> None:
    (tmp_path / "checklist-lesson.html").write_text("<p>{{ sheet.lesson_id }}</p>\n")
    content = packaging_lesson()
    lesson = content.lesson.__class__(**{**content.lesson.__dict__, "id": "<script>x</script>"})
    page = render_html("D", [LessonContent(lesson, None, content.cards)], BUILT, templates=tmp_path)
    assert "<p>&lt;script&gt;x&lt;/script&gt;</p>" in page


def test_build_uses_the_manifest_page_templates(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "lesson.md").write_text("# Shipping\n\n- [ ] Read the guide\n", encoding="utf-8")
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "checklist.css").write_text("h2 { color: #123456; }\n")
    decks = tmp_path / "decks"
    decks.mkdir()
    (decks / "d.yaml").write_text(
        "name: D\nlessons: [../content/*.md]\npage_templates: ../pages\nchecklists: [html]\n"
    )
    result = run_cli("build", "-o", "out", cwd=tmp_path, env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert result.returncode == 0, result.stdout + result.stderr
    page = (tmp_path / "out" / "d-checklist.html").read_text(encoding="utf-8")
    assert "<style>\nh2 { color: #123456; }\n</style>" in page
    (decks / "d.yaml").write_text("name: D\nlessons: [../content/*.md]\npage_templates: nowhere\n")
    result = run_cli("build", "-o", "out", cwd=tmp_path)
    assert result.returncode == 1
    assert (
        "decks/d.yaml:3:17: error: page templates folder `nowhere` not found"
        in result.stdout + result.stderr
    )
