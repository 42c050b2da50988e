"""CLI habits (issue 17, item 7): file completion, `-` for stdin/stdout, exit 2 for a missing
path, colour on a terminal only, a progress line for long builds on a terminal only."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import click
import pytest
from click.shell_completion import ShellComplete
from click.testing import CliRunner

from conftest import run_cli, run_process
from mlops_cards import console
from mlops_cards.cli import cli
from mlops_cards.console import Progress

LESSON = (
    "# Wheels\n\n## Learning Objectives\n- [ ] Build a wheel.\n\n"
    ":bell: **Wheel**: a built distribution format for Python packages.\n\n"
    ":pencil: Q1. Which command builds a wheel?\n"
)
# A misspelt section (an error), so the lesson's question is unanswered (a warning).
BROKEN_YAML = "questons:\n  Q1:\n    answer: pip wheel\n"
RED = click.style("error", fg="red", bold=True)
YELLOW = click.style("warning", fg="yellow", bold=True)


def lessons(root: Path, count: int = 1) -> Path:
    (root / "content").mkdir(parents=True)
    for i in range(1, count + 1):
        (root / "content" / f"{i:02}-wheels-{i}.md").write_text(
            LESSON.replace("# Wheels", f"# Wheels {i}"), encoding="utf-8"
        )
    return root


# --- completion --------------------------------------------------------------------------------


def completions(args: list[str], incomplete: str = "") -> list[tuple[str, str]]:
    found = ShellComplete(cli, {}, "mlops-cards", "_MLOPS_CARDS_COMPLETE").get_completions(
        args, incomplete
    )
    return [(item.type, item.value) for item in found]


@pytest.mark.parametrize("command", ["check", "extract", "build", "preview", "checklist", "init"])
def test_path_arguments_complete_file_names(command: str) -> None:
    assert completions([command], "con") == [("file", "con")]  # the shell lists the files


def test_output_options_complete_file_names_too() -> None:
    assert completions(["checklist", "-o"], "she") == [("file", "she")]
    assert completions(["build", "-o"], "di") == [("file", "di")]
    assert completions(["new-deck"], "con") == [("dir", "con")]  # a folder of lessons


def test_bash_completion_as_the_shell_asks_for_it(tmp_path: Path) -> None:
    env = {"_MLOPS_CARDS_COMPLETE": "bash_complete", "COMP_WORDS": "mlops-cards check co"}
    result = run_process("check", cwd=tmp_path, env={**env, "COMP_CWORD": "2"})
    assert result.returncode == 0, result.stderr
    assert result.stdout == "file,co\n"


# --- - for standard input and output -----------------------------------------------------------


def test_extract_reads_a_lesson_from_stdin(tmp_path: Path) -> None:
    result = run_cli("extract", "-", "--json", cwd=tmp_path, input=LESSON)
    assert result.returncode == 0, result.stderr
    [lesson] = json.loads(result.stdout)["lessons"]
    assert (lesson["path"], lesson["id"], lesson["title"]) == ("<stdin>", "stdin", "Wheels")
    assert [q["key"] for q in lesson["questions"]] == ["Q1"]


def test_stdin_comes_first_and_is_checked_like_a_file(tmp_path: Path) -> None:
    lessons(tmp_path)
    both = run_cli("extract", "content", "-", "--json", cwd=tmp_path, input=LESSON)
    assert [x["path"] for x in json.loads(both.stdout)["lessons"]] == [
        "<stdin>",
        "content/01-wheels-1.md",
    ]
    binary = run_cli("extract", "-", cwd=tmp_path, input="\x00\x01")
    assert binary.returncode == 1
    assert binary.stderr == "error: <stdin>: not a text file (it contains NUL bytes)\n"


def test_checklist_to_stdout_is_markdown_unless_told(tmp_path: Path) -> None:
    root = lessons(tmp_path)
    md = run_cli("checklist", "content", "-o", "-", cwd=root)
    assert md.returncode == 0, md.stderr
    assert md.stdout.startswith("# Checklist\n")
    assert "- [ ] Build a wheel." in md.stdout
    assert md.stderr.startswith("-: 1 lesson, ")  # the summary on stderr, out of the way
    html = run_cli("checklist", "content", "-o", "-", "--format", "html", cwd=root)
    assert html.returncode == 0 and html.stdout.lstrip().lower().startswith("<!doctype html>")
    assert sorted(p.name for p in root.iterdir()) == [".mlops-cards-cache", "content"]


def test_format_must_agree_with_the_file_name(tmp_path: Path) -> None:
    root = lessons(tmp_path)
    result = run_cli("checklist", "content", "-o", "sheet.md", "--format", "html", cwd=root)
    assert result.returncode == 2
    assert result.stderr == "error: sheet.md: --format html contradicts the extension (.md)\n"


# --- a missing path is a usage error -----------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["check", "nowhere.md"],
        ["extract", "nowhere.md"],
        ["init", "nowhere.md"],
        ["build", "nowhere.md", "-o", "x.apkg"],
        ["preview", "nowhere.md", "-o", "x.html"],
        ["checklist", "nowhere.md", "-o", "x.md"],
    ],
)
def test_a_missing_path_exits_2(tmp_path: Path, args: list[str]) -> None:
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.endswith("Path 'nowhere.md' does not exist.\n")
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


# --- colour ------------------------------------------------------------------------------------


def broken(root: Path) -> Path:
    lessons(root)
    (root / "content" / "01-wheels-1.yaml").write_text(BROKEN_YAML)
    return root


def invoke(root: Path, args: list[str], color: bool, env: dict[str, str] | None = None) -> str:
    """stdout + stderr of `args` run by click's runner, as on a terminal when `color`."""
    runner = CliRunner(env={"NO_COLOR": "", "FORCE_COLOR": "", **(env or {})})
    before = Path.cwd()
    try:
        os.chdir(root)
        result = runner.invoke(cli, args, color=color)
    finally:
        os.chdir(before)
    return result.stdout + result.stderr


def test_errors_red_and_warnings_yellow_on_a_terminal(tmp_path: Path) -> None:
    out = invoke(broken(tmp_path), ["check", "content"], color=True)
    assert f"content/01-wheels-1.yaml:1:1: {RED}: unknown key 'questons' in the file" in out
    assert f"content/01-wheels-1.md:8:1: {YELLOW}: question Q1 has no answer" in out
    assert "1 error, 2 warnings" in out  # the summary's words are not level words


def test_errors_on_stderr_are_red_too(tmp_path: Path) -> None:
    out = invoke(lessons(tmp_path), ["build", "content"], color=True)
    assert out == f"{RED}: building from lesson files needs `-o FILE.apkg`\n"


def test_no_colour_in_a_pipe_with_no_color_or_no_color_flag(tmp_path: Path) -> None:
    root = broken(tmp_path)
    assert "\x1b[" not in invoke(root, ["check", "content"], color=False)  # not a terminal
    assert "\x1b[" not in invoke(root, ["check", "content"], color=True, env={"NO_COLOR": "1"})
    assert "\x1b[" not in invoke(root, ["--no-color", "check", "content"], color=True)
    assert RED in invoke(root, ["check", "content"], color=False, env={"FORCE_COLOR": "1"})
    assert RED in invoke(root, ["--color", "check", "content"], color=False)


def test_json_is_never_coloured(tmp_path: Path) -> None:
    out = invoke(broken(tmp_path), ["check", "content", "--format", "json"], color=True)
    assert "\x1b[" not in out
    json.loads(out)


# --- progress ----------------------------------------------------------------------------------


class Clock:
    """A clock that moves on a second each time it is read: every step 'takes' a second."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_a_build_on_a_terminal_shows_how_far_it_got(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(console, "_is_terminal", lambda stream: True)
    monkeypatch.setattr(console, "_clock", Clock())
    result = run_cli("build", cwd=lessons(tmp_path, 3))
    assert result.returncode == 0, result.stderr
    drawn = result.stderr.split("\r")
    assert [x.strip() for x in drawn if x.strip().startswith("building")] == [
        "building content: lessons read 1/3",
        "building content: lessons read 2/3",
        "building content: lessons read 3/3",
        "building content: lessons made into notes 1/3",
        "building content: lessons made into notes 2/3",
        "building content: lessons made into notes 3/3",
    ]
    wiped = "\r" + " " * len("building content: lessons made into notes 3/3") + "\r"
    assert result.stderr.endswith(wiped)  # gone before the report is printed
    assert "\r" not in result.stdout


def test_no_progress_when_not_a_terminal_or_quick(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = lessons(tmp_path, 3)
    assert "\r" not in run_cli("build", cwd=root).stderr  # click's runner: not a terminal
    monkeypatch.setattr(console, "_is_terminal", lambda stream: True)
    monkeypatch.setattr(console, "_clock", lambda: 5.0)  # the whole build within a second
    assert "\r" not in run_cli("build", "--no-cache", cwd=root).stderr


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_stays_out_of_ci_logs_and_dumb_terminals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "_clock", Clock())
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    shown = Terminal()
    Progress(shown)("building d", 1, 2)
    assert shown.getvalue() == "\rbuilding d 1/2"
    for name, value in (("CI", "true"), ("TERM", "dumb")):
        with monkeypatch.context() as patched:
            patched.setenv(name, value)
            quiet = Terminal()
            Progress(quiet)("building d", 1, 2)
            assert quiet.getvalue() == ""
    piped = io.StringIO()
    Progress(piped)("building d", 1, 2)
    assert piped.getvalue() == ""
