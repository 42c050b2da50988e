"""The extractor: every construct of the lesson dialect, on fixture lessons and the seed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, SEED
from mlops_cards import extract
from mlops_cards.errors import CardsError
from mlops_cards.extract import (
    extract_file,
    extract_text,
    find_lessons,
    find_term,
    lesson_id_from_path,
    split_label,
)
from mlops_cards.models import Lesson, Objective, Question, Task, Term

LESSONS = FIXTURES / "lessons"
EVERY = LESSONS / "every-construct.md"


def line_of(path: Path, needle: str) -> int:
    """1-based line of the only line holding `needle`: tests never hard-code line numbers."""
    lines = [n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line]
    assert len(lines) == 1, f"{needle!r} is on lines {lines}"
    return lines[0]


@pytest.fixture(scope="module")
def every() -> Lesson:
    return extract_file(EVERY)


# --- the seed lesson ----------------------------------------------------------------------


def test_seed_lesson(corpus: Path) -> None:
    lesson = extract_file(SEED)
    assert lesson.title == "Introduction to MLOps"
    assert lesson.sort == 1
    assert [(o.key, o.line) for o in lesson.objectives] == [
        ("1", 13),
        ("2", 14),
        ("3", 15),
        ("4", 16),
    ]
    assert lesson.objectives[0].text == "Define what MLOps is."
    assert [(q.key, q.label, q.text, q.line) for q in lesson.questions] == [
        ("Q1", "Q1", "What is MLOps?", 41),
        ("Q2", "Q2", "What are the main components of MLOps?", 42),
        ("Q3", "Q3", "List 3 MLOps Tool for experiment tracking.", 43),
    ]
    assert lesson.terms == ()  # "(:bell:)" is only named in prose
    assert [t.line for t in lesson.tasks] == [33, 34, 38, 39]
    assert lesson.tasks[0].text.startswith("[MLOps: What It Is")
    assert lesson.tasks[1].text.startswith("[Machine learning operations - Microsoft]")
    assert lesson.tasks[2].text.endswith("on DataCamp")
    assert lesson.tasks[3].text.endswith("on LinkedIn Learning")
    assert {t.section for t in lesson.tasks} == {"What is Machine Learning Operations (MLOps)?"}
    assert lesson.diagnostics == ()


# --- front matter, title, id --------------------------------------------------------------


def test_front_matter_gives_sort_title_and_id(every: Lesson) -> None:
    assert (every.sort, every.title, every.id) == (3, "Feature Pipelines", "feature-pipelines")


def test_title_falls_back_to_first_heading_of_any_level() -> None:
    lesson = extract_file(LESSONS / "bold-objectives.md")
    assert lesson.title == "Packaging with Poetry"  # an h2: the lesson has no h1
    assert lesson.id == "bold-objectives"


def test_no_heading_no_title() -> None:
    assert extract_text("Just a paragraph.\n", "x.md").title is None


@pytest.mark.parametrize(
    ("path", "lesson_id"),
    [
        ("2. VirtualEnvironmentPackageManagement.md", "virtualenvironmentpackagemanagement"),
        ("1. Introduction to MLOps.md", "introduction-to-mlops"),
        ("content/10) Déploiement Rapide.md", "deploiement-rapide"),
        ("notes.txt", "notes"),
    ],
)
def test_lesson_id_from_file_name(path: str, lesson_id: str) -> None:
    assert lesson_id_from_path(path) == lesson_id


def test_malformed_front_matter_is_a_warning_not_a_crash() -> None:
    path = LESSONS / "malformed-front-matter.md"
    lesson = extract_file(path)
    assert lesson.sort is None
    assert lesson.title == "Still a lesson"
    [diagnostic] = lesson.diagnostics
    assert diagnostic.level == "warning"
    assert diagnostic.line == line_of(path, "title: broken")
    assert diagnostic.message.startswith("front matter is not valid YAML: ")
    assert [q.key for q in lesson.questions] == ["Q1"]


def test_unclosed_front_matter_is_a_warning() -> None:
    lesson = extract_file(LESSONS / "unclosed-front-matter.md")
    assert [(d.line, d.message) for d in lesson.diagnostics] == [
        (1, "front matter is opened with `---` but never closed")
    ]
    assert [q.text for q in lesson.questions] == ["Is the front matter closed?"]


@pytest.mark.parametrize(
    ("front", "message"),
    [
        ("sort: first", "front matter `sort` should be a whole number, not 'first'"),
        ("- 1\n- 2", "front matter is not a mapping of keys to values"),
        ("title: [a, b]", "front matter `title` should be text, not ['a', 'b']"),
    ],
)
def test_front_matter_with_wrong_types(front: str, message: str) -> None:
    lesson = extract_text(f"---\n{front}\n---\n# T\n", "x.md")
    assert [d.message for d in lesson.diagnostics] == [message]
    assert lesson.title == "T"


SIMPLE_KEY = st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,8}", fullmatch=True)
SIMPLE_VALUE = st.from_regex(r"[A-Za-z0-9_.(][A-Za-z0-9_.,() -]{0,14}", fullmatch=True)


@pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="needs libyaml")
@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(SIMPLE_KEY, st.sampled_from(["", " ", "  "]), SIMPLE_VALUE | st.just("")),
        max_size=6,
    )
)
def test_simple_front_matter_reads_the_same_with_libyaml(
    lines: list[tuple[str, str, str]],
) -> None:
    # Such front matter is read by libyaml: it must give what PyYAML's own parser gives.
    text = "\n".join(f"{key}:{space}{value}" if space else f"{key}:" for key, space, value in lines)
    assert extract._SIMPLE_FRONT_MATTER.fullmatch(text)
    assert repr(yaml.load(text, Loader=yaml.CSafeLoader)) == repr(yaml.safe_load(text))


@pytest.mark.parametrize(
    ("front", "simple"),
    [
        ("sort: 3\ntitle: Data drift (part 2)", True),
        ("sort: 3\n\nid: drift-1", True),
        ("title: Drift: the sequel", False),  # a colon
        ("title: 'Drift'", False),  # quotes
        ("title: Drift # a comment", False),
        ("sort: 1\n  title: x", False),  # indentation
        ("title: café", False),  # not ASCII
        ("title: [a, b]", False),
        ("title: - a", False),
    ],
)
def test_which_front_matter_is_simple(
    front: str, simple: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert bool(extract._SIMPLE_FRONT_MATTER.fullmatch(front)) is simple
    text = f"---\n{front}\n---\n# T\n"
    lesson = extract_text(text, "x.md")
    monkeypatch.setattr(extract, "_SIMPLE_FRONT_MATTER", re.compile(r"(?!)"))  # never simple
    assert extract_text(text, "x.md") == lesson


# --- objectives ---------------------------------------------------------------------------


def test_numbered_heading_objectives_with_nested_items(every: Lesson) -> None:
    assert [o.text for o in every.objectives] == [
        "Describe what a feature pipeline does",  # trailing <br> removed
        "Compare batch and streaming features",  # kramdown attribute removed
        "Name one streaming engine",  # nested
        "Explain <mark>why</mark> features are versioned",  # inline HTML kept
    ]
    assert [o.key for o in every.objectives] == ["1", "2", "3", "4"]
    assert every.objectives[0].line == line_of(EVERY, "Describe what a feature")


def test_bold_paragraph_objectives_in_a_loose_ordered_list() -> None:
    path = LESSONS / "bold-objectives.md"
    lesson = extract_file(path)
    assert [o.text for o in lesson.objectives] == [
        "🧠 **Remember** the steps to build a wheel.",
        "💡 **Understand** why projects are packaged.",
        "⚙️ **Apply** Poetry to publish a package.",
    ]
    assert lesson.objectives[2].line == line_of(path, "Apply")
    assert [t.text for t in lesson.tasks] == ["Install Poetry"]  # after the objectives list


def test_plain_paragraph_introduces_a_list_without_checkboxes() -> None:
    lesson = extract_file(LESSONS / "plain-objectives.md")
    assert [o.text for o in lesson.objectives] == [
        "🎯 Explain what a container image is.",
        "🎯 Run a container locally.",
    ]
    # Only the first objectives section counts; a later one is ordinary tasks.
    assert [t.text for t in lesson.tasks] == ["This second list is not an objectives list."]


def test_todays_objectives_section_runs_to_the_next_heading_of_its_level() -> None:
    lesson = extract_file(LESSONS / "todays-objectives.md")
    assert [o.text for o in lesson.objectives] == [
        "Define model drift.",
        "Set up an alert.",
        "Read a drift report.",  # under an h3 inside the h2 section
    ]
    assert [(t.text, t.section) for t in lesson.tasks] == [
        ("Run the monitoring notebook.", "Next steps")
    ]


def test_objectives_heading_without_task_items_takes_its_first_list() -> None:
    text = "## Learning objectives\n\n- Plan a release\n- Ship it\n\nThen:\n\n- Not this list\n"
    lesson = extract_text(text, "x.md")
    assert [(o.text, o.line) for o in lesson.objectives] == [("Plan a release", 3), ("Ship it", 4)]


def test_objectives_intro_not_followed_by_a_list_gives_none() -> None:
    lesson = extract_text("You will be able to:\n\nNothing here.\n\n- [ ] a task\n", "x.md")
    assert lesson.objectives == ()
    assert [t.text for t in lesson.tasks] == ["a task"]


# --- tasks ----------------------------------------------------------------------------------


def test_tasks_nested_checked_with_section(every: Lesson) -> None:
    assert [(t.text, t.section, t.depth, t.checked) for t in every.tasks] == [
        ("[Feature stores explained](https://example.org/feature-stores)", "Readings", 0, False),
        ("[Streaming primer](https://example.org/streaming)", "Readings", 1, True),
        ("A tab-indented video", "Readings", 1, False),
        ("Watch the talk :tv:", "Readings", 0, False),
    ]
    assert every.tasks[1].line == line_of(EVERY, "Streaming primer")


def test_task_before_any_heading_has_no_section() -> None:
    [task] = extract_text("- [ ] Early task\n\n# Later\n", "x.md").tasks
    assert (task.text, task.line, task.section) == ("Early task", 1, None)


def test_a_heading_inside_a_list_item_does_not_start_a_section() -> None:
    text = "# T\n\n- # In an item\n  - [ ] nested task\n- [x] done\n\n## After\n\n- [ ] later\n"
    lesson = extract_text(text, "x.md")
    assert [(t.text, t.line, t.section, t.depth, t.checked) for t in lesson.tasks] == [
        ("nested task", 4, "T", 1, False),
        ("done", 5, "T", 0, True),
        ("later", 9, "After", 0, False),
    ]


def test_a_list_in_a_blockquote_in_a_list_item_is_nested() -> None:
    text = "# T\n\n- item\n  > - [ ] quoted task\n  > # quoted heading\n  > - [x] more\n- [ ] top\n"
    lesson = extract_text(text, "x.md")
    assert [(t.text, t.section, t.depth) for t in lesson.tasks] == [
        ("quoted task", "T", 1),
        ("more", "T", 1),
        ("top", "T", 0),
    ]


def test_tasks_in_a_blockquote_and_plain_items_are_not_tasks() -> None:
    lesson = extract_text("# S\n\n- plain item\n\n> - [x] quoted task\n", "x.md")
    assert [(t.text, t.line, t.checked) for t in lesson.tasks] == [("quoted task", 5, True)]


# --- questions ------------------------------------------------------------------------------


def test_every_question_label_form(every: Lesson) -> None:
    assert [(q.key, q.label) for q in every.questions] == [
        ("Q1", "Q1"),
        ("Q2", "Q2"),
        ("Q3", "Q3"),
        ("2a", "2a"),
        ("3a", "3a"),
        ("3.1a", "3.1a"),
        ("1", "1"),
        ("q8", None),
        ("Q1-2", "Q1"),
    ]


def test_questions_split_on_br_and_line_breaks_with_their_own_lines(every: Lesson) -> None:
    by_key = {q.key: q for q in every.questions}
    assert by_key["Q1"].text == "What does a feature pipeline produce?"
    assert by_key["Q2"].text == "Why version features?"
    assert by_key["Q3"].text == "Name two feature stores."
    assert by_key["3.1a"].text == "Add a data check."  # hard break (two spaces) removed
    assert by_key["1"].text == "Describe a backfill."
    for key, needle in [("Q1", "Q1. What"), ("Q2", "Q2:"), ("Q3", "Q3 Name"), ("1", "1: Desc")]:
        assert by_key[key].line == line_of(EVERY, needle)


def test_code_block_after_a_question_belongs_to_it(every: Lesson) -> None:
    by_key = {q.key: q for q in every.questions}
    assert (
        by_key["2a"].text == "Build the pipeline with this command:\n\n```bash\nmake features\n```"
    )
    assert "```" not in by_key["3a"].text


def test_question_inside_fenced_code_is_not_a_question(every: Lesson) -> None:
    assert all("Q99" not in q.text for q in every.questions)
    assert "Q99" not in {q.key for q in every.questions}


def test_repeated_label_warns_naming_both_lines(every: Lesson) -> None:
    first, again = line_of(EVERY, "Q1. What"), line_of(EVERY, "Q1. Which")
    [warning] = every.diagnostics
    assert (warning.level, warning.line) == ("warning", again)
    assert warning.message == (
        f"question label Q1 is used again (first on line {first}, again on line {again}); "
        "this one is keyed Q1-2"
    )


def test_several_repeats_get_increasing_suffixes() -> None:
    text = ":pencil: Q4. a\n\n:pencil: Q4. b\n\n:pencil: Q4. c\n"
    lesson = extract_text(text, "x.md")
    assert [q.key for q in lesson.questions] == ["Q4", "Q4-2", "Q4-3"]
    assert [d.line for d in lesson.diagnostics] == [3, 5]


def test_question_continues_on_the_next_line() -> None:
    [question] = extract_text(":pencil: Q1. First part\nsecond part <br>\n", "x.md").questions
    assert (question.text, question.line) == ("First part\nsecond part", 1)


def test_question_kramdown_link_attribute_removed_link_kept() -> None:
    text = ':pencil: __2b__ Read [the guide](https://example.org){:target="_blank"} first.\n'
    [question] = extract_text(text, "x.md").questions
    assert question.text == "Read [the guide](https://example.org) first."


@pytest.mark.parametrize(
    ("text", "label", "rest"),
    [
        ("Q1. What?", "Q1", "What?"),
        ("Q1: What?", "Q1", "What?"),
        ("Q3 What?", "Q3", "What?"),
        ("__2a__ Do it.", "2a", "Do it."),
        ("**2b** Do it.", "2b", "Do it."),
        ("**Exercise** 3a: Do it.", "3a", "Do it."),
        ("**Exercise 4b:** Do it.", "4b", "Do it."),
        ("**Exercise:** Do it.", None, "Do it."),
        ("3.1a Create a wheel.", "3.1a", "Create a wheel."),
        ("__2.1a__ Save it.", "2.1a", "Save it."),
        ("1: Ask.", "1", "Ask."),
        ("__3__ Add a CLI.", "3", "Add a CLI."),
        ("Why is this?", None, "Why is this?"),
    ],
)
def test_split_label(text: str, label: str | None, rest: str) -> None:
    assert split_label(text) == (label, rest)


# --- terms ----------------------------------------------------------------------------------


def test_every_term_shape(every: Lesson) -> None:
    assert [(t.bell, t.key, t.term) for t in every.terms] == [
        (1, "Feature store", "Feature store"),  # **Term**: definition
        (2, "Backfill", "Backfill"),  # **Term:** definition
        (3, "Point-in-time join", "Point-in-time join"),  # Term: definition
        (4, "Training-serving skew", "Training-serving skew"),  # 'Term' refers to
        (5, "Feature pipelines", "Feature pipelines"),  # Term are
        (6, "streaming feature", "streaming feature"),  # ..., a term is a
        (7, "lookback window", "lookback window"),  # ```term``` in the sentence
        (8, "sched", "sched"),  # called [term](link)
        (9, "bell-9", None),  # Career Tip:
        (10, "bell-10", None),  # **Note:**
        (11, "Entity keys", "Entity keys"),  # (:bell:) form
        (12, "Lag features", "Lag features"),  # X are variables that
    ]


def test_term_definition_and_sentence(every: Lesson) -> None:
    store, backfill = every.terms[0], every.terms[1]
    assert store.definition == "a shared service that serves features for training and inference."
    assert store.sentence.startswith("**Feature store**: a shared")
    assert backfill.definition == "recomputing features for a past period."
    assert every.terms[4].definition == (
        "Feature pipelines are programs that turn raw data into features."
    )
    assert every.terms[0].line == line_of(EVERY, "**Feature store**")
    assert every.terms[10].line == line_of(EVERY, "(:bell:) Entity")


def test_bell_named_in_prose_is_no_item(every: Lesson) -> None:
    assert all("marked with a bell" not in t.sentence for t in every.terms)
    assert len(every.terms) == 12


@pytest.mark.parametrize(
    ("sentence", "term"),
    [
        ("This means the code is shorter.", None),
        ("It is a common mistake to skip tests.", None),
        (
            "A `container image` bundles code and what it needs, and it is portable.",
            "container image",
        ),
        ("Remember: commit often.", None),
        ("**Hint**: use the cache.", None),
        ("A model registry is a catalogue of model versions.", "model registry"),
        ("Nothing special here at all.", None),
        ("Remember that testing is cheap.", None),
        ("Docker also is popular.", None),
    ],
)
def test_find_term(sentence: str, term: str | None) -> None:
    assert find_term(sentence).term == term


def test_repeated_term_gets_a_suffix_and_a_warning() -> None:
    text = ":bell: **Drift**: one.\n\n:bell: **Drift**: two.\n"
    lesson = extract_text(text, "x.md")
    assert [t.key for t in lesson.terms] == ["Drift", "Drift-2"]
    assert [(d.line, d.level) for d in lesson.diagnostics] == [(3, "warning")]
    assert "first on line 1, again on line 3" in lesson.diagnostics[0].message


# --- noise ----------------------------------------------------------------------------------


def test_crlf_and_bom_give_the_same_lesson() -> None:
    text = EVERY.read_text()
    plain = extract_text(text, "x.md")
    noisy = extract_text("\ufeff" + text.replace("\n", "\r\n"), "x.md")
    assert noisy == plain


def test_empty_text_is_an_empty_lesson() -> None:
    lesson = extract_text("", "empty.md")
    assert (lesson.title, lesson.sort, lesson.id) == (None, None, "empty")
    assert (lesson.objectives, lesson.questions, lesson.terms, lesson.tasks) == ((), (), (), ())


def test_hash_lines_in_code_are_not_headings() -> None:
    text = "```\n# not a title\n```\n\n## Real title\n"
    assert extract_text(text, "x.md").title == "Real title"


# --- files and directories ----------------------------------------------------------------


def test_extract_file_keeps_the_path_as_shown() -> None:
    assert extract_file(EVERY, "shown/as.md").path == "shown/as.md"


def test_binary_and_non_utf8_files_raise_naming_the_path(tmp_path: Path) -> None:
    binary = tmp_path / "img.md"
    binary.write_bytes(b"\x89PNG\r\n\x00\x00")
    latin = tmp_path / "latin.md"
    latin.write_bytes("# Caf\xe9\n".encode("latin-1"))
    with pytest.raises(CardsError, match=r"^b\.md: not a text file \(it contains NUL bytes\)$"):
        extract_file(binary, "b.md")
    with pytest.raises(CardsError, match=r"^l\.md: not UTF-8 \(byte 0xe9 at offset 5\)"):
        extract_file(latin, "l.md")


def test_directory_lessons_sorted_by_sort_then_name(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "10. b.md").write_text("---\nsort: 1\n---\n# B\n")
    (tmp_path / "2. a.md").write_text("---\nsort: 1\n---\n# A\n")
    (tmp_path / "sub" / "z.md").write_text("---\nsort: 0\n---\n# Z\n")
    (tmp_path / "no-sort.md").write_text("# N\n")
    (tmp_path / "notes.txt").write_text("# not a lesson: only *.md in directories\n")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "README.md").write_text("# hidden folders are skipped\n")
    lessons, errors = find_lessons([str(tmp_path)])
    assert errors == []
    assert [lesson.title for lesson in lessons] == ["Z", "A", "B", "N"]
    assert lessons[0].path == str(tmp_path / "sub" / "z.md")


def test_find_lessons_reports_bad_paths_and_keeps_the_good(tmp_path: Path) -> None:
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    binary = tmp_path / "bin.md"
    binary.write_bytes(b"\x00\x01")
    lessons, errors = find_lessons(
        [str(tmp_path / "missing.md"), str(empty_dir), str(binary), str(EVERY)]
    )
    assert [lesson.id for lesson in lessons] == ["feature-pipelines"]
    assert errors == [
        f"{tmp_path / 'missing.md'}: no such file or directory",
        f"{empty_dir}: no lessons (*.md files) in this directory",
        f"{binary}: not a text file (it contains NUL bytes)",
    ]


def test_question_ending_with_colon_continues_into_the_list_after_it() -> None:
    text = ":pencil: __4b__ Install these packages:\n\n- [ ] `pandas`\n- [ ] `numpy`\n\nDone.\n"
    lesson = extract_text(text, "x.md")
    [question] = lesson.questions
    assert question.text == "Install these packages:\n\n- [ ] `pandas`\n- [ ] `numpy`"
    assert [t.text for t in lesson.tasks] == ["`pandas`", "`numpy`"]  # still checklist items


def test_question_not_ending_with_colon_keeps_its_text() -> None:
    text = ":pencil: Q1. Why test?\n\n- [ ] a reading\n"
    assert extract_text(text, "x.md").questions[0].text == "Why test?"


def test_objectives_heading_without_a_list_warns() -> None:
    lesson = extract_text("# T\n\n## Learning Objectives\n\nTo be written.\n\n## Next\n", "x.md")
    assert lesson.objectives == ()
    assert [(d.line, d.message) for d in lesson.diagnostics] == [
        (3, "the learning objectives section has no list of objectives")
    ]


# --- invariants on any text ---------------------------------------------------------------

PIECES = [
    "---\n",
    "sort: 2\n",
    "# Title\n",
    "## Learning Objectives\n",
    "- [ ] item\n",
    "  - [x] nested\n",
    ":pencil: Q1. Why?<br>\n",
    ":pencil: __2a__ Do.\n",
    ":bell: **Term**: def.\n",
    "(:bell:) X is Y.\n",
    "```\n",
    "# in code?\n",
    "\n",
    "\r\n",
    "\t- [ ] tab\n",
    "<div>\n",
    'text {:target="_blank"}\n',
    "\ufeff",
    "> quote\n",
    "1. [ ] ordered\n",
    "You will be able to:\n",
]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(PIECES) | st.text(max_size=20), max_size=40))
def test_any_text_extracts_with_unique_keys_and_lines_in_range(pieces: list[str]) -> None:
    text = "".join(pieces)
    lesson = extract_text(text, "any.md")
    line_count = len(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    for kind in (lesson.objectives, lesson.questions, lesson.terms):
        keys = [item.key for item in kind]
        assert len(keys) == len(set(keys))
    items: list[Objective | Question | Term | Task] = [
        *lesson.objectives,
        *lesson.questions,
        *lesson.terms,
        *lesson.tasks,
    ]
    assert all(1 <= item.line <= line_count for item in items)


@pytest.mark.parametrize(
    ("sentence", "term"),
    [
        ("**Type hint**: an annotation of the expected type.", "Type hint"),
        ("**Pro tip:** keep commits small.", None),
        ("Hint: read the docs first.", None),
        ("**Release note**: a summary of the changes in a version.", "Release note"),
    ],
)
def test_tip_words_end_a_term_only_after_a_tip_qualifier(sentence: str, term: str | None) -> None:
    assert find_term(sentence).term == term
