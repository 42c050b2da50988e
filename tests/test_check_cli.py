"""`mlops-cards check`: exit codes, exact `file:line` messages, the summary, the seed lesson."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import HISTORY, SEED, run_cli
from sidecar_fixtures import COMPLETE, LESSON

SEED_ANSWERS = """\
lesson: {id: intro-to-mlops}
questions:
  Q1:
    question: What is MLOps?
    answer: Practices that bring DevOps habits to machine learning systems.
  Q2:
    question: What are the main components of MLOps?
    answer: Versioned data and code, automated training, deployment and monitoring.
    accept: [set-prompt, long-list]
  Q3:
    question: List 3 MLOps Tool for experiment tracking.
    answer: MLflow, Weights & Biases, Neptune.
objectives:
  1: {objective: Define what MLOps is., answer: See Q1.}
  2:
    objective: Understand the importance of MLOps in Machine Learning projects.
    answer: Models that reach production and stay healthy there.
  3:
    objective: Explore the different frameworks and tools for MLOps.
    answer: Trackers, registries, pipelines and serving tools.
    accept: [objective-list]
  4:
    objective: Learn about industry best practices in implementing MLOps.
    answer: Automate, version everything, monitor.
"""


def lesson_dir(tmp_path: Path, sidecar: str | None) -> Path:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "lesson.md").write_text(LESSON, encoding="utf-8")
    if sidecar is not None:
        (tmp_path / "lesson.yaml").write_text(sidecar, encoding="utf-8")
    return tmp_path


def test_complete_sidecar_is_clean_under_strict(tmp_path: Path) -> None:
    result = run_cli("check", "--strict", "lesson.md", cwd=lesson_dir(tmp_path, COMPLETE))
    assert result.returncode == 0, result.stdout
    assert result.stdout == (
        "1 lesson: questions 2/2, objectives 2/2 (1 skipped), terms 2/2 answered, "
        "1 extra card; 0 errors, 0 warnings\n"
    )


def replace(old: str, new: str) -> str:
    assert old in COMPLETE
    return COMPLETE.replace(old, new, 1)


ERROR_CASES = {
    "syntax": (
        replace("  Q2:\n", "  Q2\n"),
        "lesson.yaml:8:3: error: invalid YAML: could not find expected ':' "
        "(a key needs ':' after it; quote text that contains ': ')",
    ),
    "duplicate key": (
        replace("  Q2:\n", "  Q1:\n"),
        "lesson.yaml:8:3: error: duplicate key 'Q1' in questions "
        "(first at line 5, again at line 8)",
    ),
    "unknown key": (
        replace("    skip: true", "    skipp: true"),
        "lesson.yaml:20:5: error: unknown key 'skipp' in objective 3 (did you mean 'skip'?)",
    ),
    "wrong type": (
        replace("    bell: 2", "    bell: two"),
        "lesson.yaml:23:11: error: bell must be a whole number, not text (bell: 1)",
    ),
    "empty answer": (
        replace("    answer: When predictions can wait for the next run.", '    answer: ""'),
        "lesson.yaml:10:13: error: empty answer for question Q2",
    ),
    "answer for a missing item": (  # no snapshot: nothing says which question it answers
        replace("  Q2:\n    question: When is batch serving enough?\n", "  q2:\n"),
        "lesson.yaml:8:3: error: questions: 'q2' is not a question of lesson.md "
        "(did you mean 'Q2'?)",
    ),
    "extra id twice": (
        COMPLETE + "  - {id: canary, front: a, back: b}\n",
        "lesson.yaml:29:10: error: extra card id 'canary' is used twice "
        "(first at line 26, again at line 29)",
    ),
    "python tag": (
        replace("[serving]", "!!python/object/apply:os.system [ls]"),
        "lesson.yaml:3:9: error: YAML tag !!python/object/apply:os.system is not allowed",
    ),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_each_error_exits_1_with_file_and_line(tmp_path: Path, case: str) -> None:
    sidecar, expected = ERROR_CASES[case]
    result = run_cli("check", "lesson.md", cwd=lesson_dir(tmp_path, sidecar))
    assert result.returncode == 1
    assert expected in result.stdout, result.stdout
    assert "Traceback" not in result.stdout + result.stderr


# A YAML file that does not parse: one error, where the author's slip is, and nothing else.
SYNTAX_CASES = {
    "quote never closed": (
        replace("  tags: [serving]", '  tags: ["serving]'),
        'lesson.yaml:3:10: error: invalid YAML: the " opened here is never closed '
        "(end the text with \" on line 3, or write it as a block after '|')",
    ),
    "quote runs on into a backslash": (
        replace("    question: When is batch", '    question: "When is batch').replace(
            "    objective: Explain what", "    objective: Explain $\\mathrm{x}$, what"
        ),
        'lesson.yaml:9:15: error: invalid YAML: the " opened here is not closed on its line, '
        'so the text runs on to line 13 (end the text with " on line 9, or write it as a '
        "block after '|'; in \"double quotes\" a backslash starts an escape: write LaTeX in "
        "'single quotes')",
    ),
    "quote closed by the next quote, far below": (
        replace("    answer: To know which", "    answer: 'To know which")
        .replace("    back: Sending a small", "    back: 'Sending a small")
        .replace("model first.", "model first.'"),
        "lesson.yaml:7:13: error: invalid YAML: the ' opened here is not closed on its line, "
        "so the text runs on to line 28 (end the text with ' on line 7, or write it as a block "
        "after '|')",
    ),
    "answer indented 2 spaces": (
        replace("    answer: When predictions", "  answer: When predictions"),
        "lesson.yaml:10:3: error: 'answer' is indented 2 spaces, so it reads as a question of "
        "its own, not as part of Q2 (indent it 4 spaces, like the lines above it)",
    ),
    "answer indented 3 spaces": (
        replace("    answer: When predictions", "   answer: When predictions"),
        "lesson.yaml:10:4: error: invalid YAML: this line is indented 3 spaces, which lines up "
        "with no key above it (indent it 4 spaces like the key above it, or 2 or 0 for an "
        "outer level)",
    ),
    "answer indented 6 spaces": (
        replace("    answer: When predictions", "      answer: When predictions"),
        "lesson.yaml:10:7: error: invalid YAML: this line is indented 6 spaces, deeper than the "
        "key above it, so YAML reads it as more of that key's text (indent it 4 spaces like the "
        "key above it, or 2 or 0 for an outer level)",
    ),
    "bracket not closed": (
        replace("  tags: [serving]", "  tags: [serving"),
        "lesson.yaml:3:9: error: invalid YAML: the '[' opened here is not closed on its line "
        "(close it with ']' on line 3)",
    ),
    "apostrophe in single quotes": (
        replace("    answer: When predictions can wait", "    answer: 'When it's fine to wait"),
        "lesson.yaml:10:22: error: invalid YAML: the text goes on after its closing ' "
        "(inside 'single quotes' write an apostrophe twice (it''s), or use double quotes)",
    ),
}


@pytest.mark.parametrize("case", list(SYNTAX_CASES))
def test_yaml_syntax_error_is_one_error_where_it_opened(tmp_path: Path, case: str) -> None:
    sidecar, expected = SYNTAX_CASES[case]
    directory = lesson_dir(tmp_path, sidecar)
    result = run_cli("check", "lesson.md", cwd=directory)
    assert result.returncode == 1
    assert result.stdout.splitlines()[:-1] == [expected]  # no "has no answer" warnings
    init = run_cli("init", "lesson.md", cwd=directory)  # init refuses, with the same error
    assert init.returncode == 1
    assert init.stdout + init.stderr == (
        f"{expected}\nerror: lesson.yaml: fix its errors first; init does not edit a broken file\n"
    )
    assert (directory / "lesson.yaml").read_text(encoding="utf-8") == sidecar


def test_warnings_pass_without_strict_and_fail_with_it(tmp_path: Path) -> None:
    directory = lesson_dir(tmp_path, None)
    result = run_cli("check", "lesson.md", cwd=directory)
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == (
        "lesson.md:1:1: warning: no author YAML: lesson.yaml does not exist, so nothing is "
        "answered (run `mlops-cards init lesson.md` to create it with a stub per item)"
    )
    assert result.stdout.splitlines()[-1] == (
        "1 lesson: questions 0/2, objectives 0/3, terms 1/2 answered, 0 extra cards; "
        "0 errors, 7 warnings"
    )
    assert run_cli("check", "--strict", "lesson.md", cwd=directory).returncode == 1


def test_diagnostics_are_sorted_by_file_and_line(tmp_path: Path) -> None:
    result = run_cli("check", "lesson.md", cwd=lesson_dir(tmp_path, "questions:\n  Q1:\n"))
    lines = result.stdout.splitlines()[:-1]
    keys = [(line.split(":")[0], int(line.split(":")[1])) for line in lines]
    assert keys == sorted(keys) and len(keys) == 6


def test_json_format(tmp_path: Path) -> None:
    sidecar = replace("  Q2:\n", "  Q1:\n")
    result = run_cli("check", "--format", "json", "lesson.md", cwd=lesson_dir(tmp_path, sidecar))
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert [d for d in document["diagnostics"] if d["level"] == "error"] == [
        {
            "path": "lesson.yaml",
            "line": 8,
            "col": 3,
            "level": "error",
            "message": "duplicate key 'Q1' in questions (first at line 5, again at line 8)",
            "hint": "YAML would silently keep only the last one: merge them or delete one",
        }
    ]
    assert document["summary"]["errors"] == 1
    assert document["summary"]["questions"] == {"answered": 1, "total": 2, "skipped": 0}


def test_sidecar_path_stands_for_its_lesson(tmp_path: Path) -> None:
    result = run_cli("check", "--strict", "lesson.yaml", cwd=lesson_dir(tmp_path, COMPLETE))
    assert result.returncode == 0, result.stdout


def test_bad_inputs_exit_cleanly(tmp_path: Path) -> None:
    (tmp_path / "lesson.md").write_bytes(b"\xff\xfe not utf-8")
    (tmp_path / "other.yaml").write_text("x: 1\n")
    result = run_cli("check", "lesson.md", "other.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "error: other.yaml: no lesson other.md beside this YAML file" in result.stdout
    assert "error: lesson.md: not UTF-8" in result.stdout
    missing = run_cli("check", "lesson.md", "missing.md", cwd=tmp_path)  # a usage error
    assert missing.returncode == 2
    assert "Path 'missing.md' does not exist." in missing.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run_cli("check", "--format", "xml", cwd=tmp_path).returncode == 2
    result = run_cli("check", cwd=tmp_path)  # no PATH, no decks/, no content/
    assert result.returncode == 2
    assert result.stderr == (
        "error: no PATH given, and neither decks/*.yaml nor content/ is here (name the "
        "lessons, or set up a deck: mlops-cards new-deck LESSONS_DIR)\n"
    )


def test_no_path_checks_content(tmp_path: Path) -> None:
    lesson_dir(tmp_path / "content", COMPLETE)
    result = run_cli("check", "--strict", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("1 lesson: questions 2/2")


def test_seed_fully_answered_is_clean_then_q3_rewording_is_stale(
    tmp_path: Path, corpus: Path
) -> None:
    shutil.copyfile(SEED, tmp_path / "lesson.md")
    (tmp_path / "lesson.yaml").write_text(SEED_ANSWERS, encoding="utf-8")
    result = run_cli("check", "--strict", "lesson.md", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert result.stdout == (
        "1 lesson: questions 3/3, objectives 4/4, terms 0/0 answered, 0 extra cards; "
        "0 errors, 0 warnings\n"
    )
    shutil.copyfile(HISTORY, tmp_path / "lesson.md")  # the later version rewords Q3
    result = run_cli("check", "--strict", "lesson.md", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        "lesson.yaml:11:1: warning: stale answer: question Q3 now reads "
        "'List 3 MLOps Tools for experiment tracking.' but the answer was written for "
        "'List 3 MLOps Tool for experiment tracking.' "
        "(check the answer still fits, then copy the new text into 'question:')"
    )
