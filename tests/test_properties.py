"""Property-based tests: for any text, extract, check and build either succeed or report
problems (exit 1), never a traceback or a hang; extraction is deterministic; GUIDs depend on
keys, not texts; identical input builds identical bytes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, reject, settings
from hypothesis import strategies as st

from conftest import in_folder, run_cli
from mlops_cards.check import check_paths
from mlops_cards.errors import CardsError
from mlops_cards.extract import extract_text
from mlops_cards.pipeline import build
from mlops_cards.resolve import DeckTarget, adhoc_manifest
from mlops_cards.text import plural

# Modest budgets so the file runs in well under a minute on two cores; deadline off because a
# shared machine makes single-example timings noisy (a hang would still trip pytest's timeout
# in CI, and the hostile tests check the known slow shapes).
FAST = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SLOW = settings(FAST, max_examples=20)

# The dialect's pieces, to make random lessons that look like real ones.
PIECES = st.sampled_from(
    [
        "---\nsort: 2\nid: rand\n---\n",
        "---\ntitle: [unclosed\n---\n",
        "# Title\n",
        "## Learning Objectives\n",
        "__After this chapter, you will be able to:__\n",
        "- [ ] objective or task\n",
        "  - [x] nested task\n",
        ":pencil: Q1. What is it?\n",
        ":pencil: __2a__ Another question:\n",
        ":pencil: no label<br>:pencil: Q3: second one\n",
        ":bell: **Term**: a definition.\n",
        "(:bell:) a `thing` is a tool.\n",
        ":bell: Career Tip: a tip.\n",
        "```python\n# not a heading\nprint(1)\n```\n",
        '<iframe src="https://example.com/v"></iframe>\n',
        '<img src="missing.png" onerror="x()">\n',
        "<script>alert(1)</script>\n",
        '{:target="_blank"}\n',
        "$$x^2$$ and \\(y\\) :+1:\n",
        "| a | b |\n|---|---|\n| 1 | 2 |\n",
        "> quoted :pencil: Q9. inside\n",
        "\r\n",
        "\ufeff",
        "\n",
    ]
)
WORDS = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
    max_size=30,
)
LESSONS = st.lists(st.one_of(PIECES, WORDS), max_size=25).map("".join)
ANY_TEXT = st.one_of(st.text(max_size=400), LESSONS)


@FAST
@given(ANY_TEXT)
def test_extract_never_crashes_and_is_deterministic(text: str) -> None:
    try:
        first = extract_text(text, "lesson.md")
    except CardsError as exc:
        assert str(exc).startswith("lesson.md")  # a limit, reported with the file
        reject()  # and not counted: a run where every example hit a limit proves nothing
    assert extract_text(text, "lesson.md") == first
    assert all(d.path == "lesson.md" and d.line >= 1 for d in first.diagnostics)


@FAST
@given(LESSONS, st.text(max_size=200))
def test_check_reports_instead_of_crashing(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    lesson: str,
    sidecar: str,
) -> None:
    folder = tmp_path_factory.mktemp("check")
    (folder / "l.md").write_text(lesson, encoding="utf-8")
    (folder / "l.yaml").write_text(sidecar, encoding="utf-8")
    report = check_paths([str(folder / "l.md")])
    # Every problem is a line about one of the two files, and the summary counts them all.
    names = {str(folder / "l.md"), str(folder / "l.yaml")}
    assert not report.failures
    assert all(d.path in names and d.line >= 1 for d in report.diagnostics)
    errors = sum(d.level == "error" for d in report.diagnostics)
    assert report.errors == errors
    assert f"; {plural(errors, 'error')}, " in report.summary_line()


def write_course(folder: Path, lesson: str, answers: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "l.md"
    questions = "".join(f":pencil: Q{n}. Question {n}?\n\n" for n in range(1, len(answers) + 1))
    path.write_text(lesson + "\n\n" + questions, encoding="utf-8")
    entries = "".join(f"  Q{n}:\n    answer: {_yaml_quote(a)}\n" for n, a in enumerate(answers, 1))
    (folder / "l.yaml").write_text(f"questions:\n{entries}" if answers else "", encoding="utf-8")
    return path


def _yaml_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def build_bytes(path: Path, out: Path) -> dict[str, bytes] | None:
    apkg = out / "l.apkg"
    try:
        with in_folder(path.parent):  # an ad-hoc deck's course is the current folder
            build([DeckTarget(adhoc_manifest([path], apkg), apkg, out / "l.lock.json")], out)
    except CardsError as exc:
        assert str(path.parent) in str(exc)  # an author's error: it names the file
        return None
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


ANSWERS = st.lists(st.one_of(WORDS.filter(str.strip), PIECES), min_size=1, max_size=4)


@SLOW
@given(LESSONS, ANSWERS)
def test_build_succeeds_or_reports_and_is_reproducible(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    lesson: str,
    answers: list[str],
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    root = tmp_path_factory.mktemp("build")
    path = write_course(root / "course", lesson, answers)
    first = build_bytes(path, root / "one")
    second = build_bytes(path, root / "two")
    assert (first is None) == (second is None)
    assume(first is not None)  # not counted: if every build failed, this would prove nothing
    assert first is not None and second is not None
    assert first["l.apkg"] == second["l.apkg"]
    assert first["l.lock.json"] == second["l.lock.json"]


def guids(lock: bytes) -> set[str]:
    import json

    return set(json.loads(lock)["notes"])


# Printable text: a control character in YAML is (rightly) an error, which is not the point here.
PRINTABLE = st.text(
    alphabet=st.characters(whitelist_categories=["L", "N", "Zs", "P"]), min_size=1, max_size=30
).filter(str.strip)


@SLOW
@given(st.lists(PRINTABLE, min_size=1, max_size=4), st.lists(PRINTABLE, min_size=4, max_size=4))
def test_guids_survive_edits_of_item_texts(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    answers: list[str],
    edits: list[str],
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    root = tmp_path_factory.mktemp("guid")
    lesson = "# T\n\n## Learning Objectives\n\n- [ ] Objective one.\n\n:bell: **Drift**: change.\n"
    path = write_course(root / "course", lesson, answers)
    sidecar = path.with_suffix(".yaml")
    sidecar.write_text(
        sidecar.read_text(encoding="utf-8")
        + "objectives:\n  1:\n    answer: It is.\nterms:\n  Drift:\n    definition: change\n",
        encoding="utf-8",
    )
    before = build_bytes(path, root / "one")
    assert before is not None
    # Edit every item's text (question, objective, term definition), keep the keys.
    text = path.read_text(encoding="utf-8")
    text = text.replace("Objective one.", edits[0].replace("\n", " ") + " objective.")
    text = text.replace("change.", edits[1].replace("\n", " ") + ".")
    for n in range(1, len(answers) + 1):
        text = text.replace(f"Question {n}?", f"{edits[2].replace(chr(10), ' ')} {n}?")
    path.write_text(text, encoding="utf-8")
    after = build_bytes(path, root / "two")
    if after is not None:  # an edit may make a lesson invalid (then it is reported)
        assert guids(after["l.lock.json"]) == guids(before["l.lock.json"])


@settings(FAST, max_examples=5)
@given(LESSONS)
def test_cli_exits_0_or_1_without_a_traceback(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, lesson: str
) -> None:
    folder = tmp_path_factory.mktemp("cli")
    (folder / "l.md").write_text(lesson, encoding="utf-8")
    for args in (["extract", "l.md"], ["check", "l.md"], ["build", "l.md", "-o", "l.apkg"]):
        result = run_cli(*args, cwd=folder, env={"SOURCE_DATE_EPOCH": "1700000000"})
        assert result.returncode in (0, 1), (args, result.stderr)
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr


# Plain sentences, and every character that could make them Markdown, to compare the checklist's
# shortcut for plain item texts with markdown-it itself.
PLAIN = st.sampled_from(list(" \t\x0b\x0c\xa0\u2003\"'(),.;?/0123456789aZ\u00e9\u00df\U0001f680"))
MARKUP = st.sampled_from(list("\n\r\0!#$%&*+-:<=>@[\\]^_`{}~|"))
ITEM_TEXT = st.one_of(
    st.text(alphabet=PLAIN, max_size=40),
    st.text(alphabet=st.one_of(PLAIN, MARKUP, st.characters(blacklist_categories=["Cs"]))),
)


@FAST
@given(text=ITEM_TEXT)
def test_checklist_plain_text_shortcut_renders_like_markdown_it(text: str) -> None:
    from mlops_cards import checklist

    expected = checklist._markdown().renderInline(checklist.without_emoji(text)).strip()
    assert checklist.inline_html(text) == expected


# Plain words, with at most one piece that could make them more (at the start, in the middle or
# at the end), to compare the card renderer's shortcut for plain fields with its full path.
FIELD_WORDS = st.sampled_from(
    [*"aZ0 19.)(',;?/%@^=!:\u00e9\u00df\U0001f680", "word", ":smile:", ":+1:", ":zero:", "::"]
)
FIELD_MARKUP = st.sampled_from(
    [
        *'\t\n\r\0\xa0\u2003\u200d\ue000\ufe0f\u00ad#+-*_`~$\\[]<>&"{}| ',
        *(":hash:", ":asterisk:", ":white_check_mark:", "{{c1::", "{:.x}", "1. ", "2) ", "- "),
        *("    ", "  \n", "---", "&amp;", "<b>", "![a](b.png)", "[sound:a]", "$x$", "\\(x\\)"),
    ]
)


@st.composite
def field_texts(draw: st.DrawFn) -> str:
    words = draw(st.lists(FIELD_WORDS, min_size=1, max_size=10))
    where = draw(st.sampled_from([None, 0, len(words) // 2, len(words)]))
    if where is not None:
        words.insert(where, draw(FIELD_MARKUP))
    return "".join(words)


FIELD_TEXT = st.one_of(
    field_texts(), field_texts(), field_texts(), st.text(st.characters(blacklist_categories=["Cs"]))
)


def _field_renders_alike(folder: Path, text: str) -> None:
    from mlops_cards import render

    def rendered(how: Callable[[], str]) -> str | None:
        try:
            return how()
        except CardsError:  # an image not found, raw HTML never closed: never plain
            return None

    renderer = render.CardRenderer(folder)
    full = rendered(lambda: renderer._render(renderer._md.parse(text), folder / "l.md", 1))
    shortcut = render._plain_paragraph(text)
    if shortcut is not None:
        assert shortcut == full
    assert rendered(lambda: renderer.html(text, source=folder / "l.md", line=1)) == full


@FAST
@given(text=FIELD_TEXT)
def test_plain_field_shortcut_renders_like_the_full_path(tmp_path: Path, text: str) -> None:
    assume(text.strip())
    _field_renders_alike(tmp_path, text)


# Each shape the shortcut must leave to the parser, so that none is found by luck alone.
@pytest.mark.parametrize(
    "text",
    [
        *("- a", "+ a", "# a", "1. a", "2) a", " a", "a ", "    a", "a\nb", "a\tb", "a\u00a0b"),
        *("*a*", "_a_", "~~a~~", "`a`", "$x$", "\\*a", "a\\\\b", "a{:.x}", "[a](b)"),
        *("<b>a</b>", "&amp;", "a:asterisk:", "a:white_check_mark:", "[sound:a]"),
        *("\ue000a\ue002", "a\u200db", "\n    a", "\n\n- a", "a\n  \n", "a  \n", "\na\n\n"),
    ],
)
def test_plain_field_shortcut_leaves_markup_to_the_parser(tmp_path: Path, text: str) -> None:
    _field_renders_alike(tmp_path, text)
