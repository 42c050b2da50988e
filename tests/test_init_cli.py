"""`mlops-cards init`: stubs are added as text; what the author wrote survives byte for byte."""

from __future__ import annotations

import difflib
from pathlib import Path

from conftest import run_cli
from sidecar_fixtures import LESSON

AUTHORED = """\
# Notes for the shipping lesson.
terms:   # terms first, on purpose
  Model registry:
    definition: |
      A store of trained models.

      With versions and metadata.

questions:
  # Q2 before Q1
  Q2:
    question: When is batch serving enough?
    answer: >-
      When predictions
      can wait.
extra:
  - id: canary   # inline comment
    front: "What is a canary?"
    back: A small first release.

# trailing comment
"""

TERM_STUB = (
    '  bell-2:  # rename to its term, or skip: true. "Career Tip: write down what you deploy…"\n'
    "    bell: 2\n"
)
Q1_STUB = """\
  Q1:
    question: Why version models?
    answer:
"""
OBJECTIVES_STUB = """\
objectives:
  1:
    objective: Explain what a model registry is.
    answer:
  2:
    objective: Compare batch and online serving.
    answer:
  3:
    objective: Roll back a bad release.
    answer:
"""


def setup(tmp_path: Path, sidecar: str | bytes | None) -> Path:
    (tmp_path / "lesson.md").write_text(LESSON, encoding="utf-8")
    if isinstance(sidecar, str):
        (tmp_path / "lesson.yaml").write_text(sidecar, encoding="utf-8", newline="")
    elif isinstance(sidecar, bytes):
        (tmp_path / "lesson.yaml").write_bytes(sidecar)
    return tmp_path / "lesson.yaml"


def inserted(old: str, new: str) -> list[str]:
    """The blocks added to `old` to make `new`; fails if anything else changed."""
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    added = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for op, _, _, j1, j2 in matcher.get_opcodes():
        assert op in ("equal", "insert"), (op, new)
        if op == "insert":
            added.append("".join(new_lines[j1:j2]))
    return added


def test_init_keeps_the_author_text_and_adds_exactly_the_stubs(tmp_path: Path) -> None:
    path = setup(tmp_path, AUTHORED)
    result = run_cli("init", "lesson.md", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "lesson.yaml: added 5 stubs\n"
    new = path.read_text(encoding="utf-8")
    assert inserted(AUTHORED, new) == [TERM_STUB, Q1_STUB, OBJECTIVES_STUB]
    # and where: the term stub right after the block scalar, Q1 after Q2, objectives at the end
    assert (
        new
        == AUTHORED.replace(
            "      With versions and metadata.\n", "      With versions and metadata.\n" + TERM_STUB
        ).replace("      can wait.\n", "      can wait.\n" + Q1_STUB)
        + OBJECTIVES_STUB
    )
    check = run_cli("check", "lesson.md", cwd=tmp_path)
    assert check.returncode == 0, check.stdout
    assert "0 errors, 5 warnings" in check.stdout  # one "not answered yet" per stub


def test_init_twice_changes_nothing(tmp_path: Path) -> None:
    path = setup(tmp_path, AUTHORED)
    assert run_cli("init", "lesson.md", cwd=tmp_path).returncode == 0
    first = path.read_bytes()
    again = run_cli("init", "lesson.md", cwd=tmp_path)
    assert again.returncode == 0
    assert again.stdout == "lesson.yaml: up to date\n"
    assert path.read_bytes() == first


def test_init_creates_a_new_sidecar_that_check_accepts(tmp_path: Path) -> None:
    path = setup(tmp_path, None)
    result = run_cli("init", "lesson.md", cwd=tmp_path)
    assert result.stdout == "lesson.yaml: created with 6 stubs\n"
    text = path.read_text(encoding="utf-8")
    assert "lesson:\n  id: lesson  # pinned" in text
    assert "questions:\n" + Q1_STUB in text
    check = run_cli("check", "lesson.md", cwd=tmp_path)
    assert check.returncode == 0
    assert "0 errors" in check.stdout and "no author YAML" not in check.stdout
    assert run_cli("init", "lesson.md", cwd=tmp_path).stdout == "lesson.yaml: up to date\n"


def test_dry_run_prints_the_diff_and_writes_nothing(tmp_path: Path) -> None:
    path = setup(tmp_path, AUTHORED)
    result = run_cli("init", "--dry-run", "lesson.md", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("--- lesson.yaml\n+++ lesson.yaml\n@@ ")
    assert "+  Q1:\n+    question: Why version models?\n+    answer:\n" in result.stdout
    assert path.read_text(encoding="utf-8") == AUTHORED
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lesson.md", "lesson.yaml"]
    (tmp_path / "lesson.yaml").unlink()
    result = run_cli("init", "--dry-run", "lesson.md", cwd=tmp_path)
    assert result.stdout.startswith("--- /dev/null\n+++ lesson.yaml\n")
    assert not path.exists()


def test_crlf_and_missing_final_newline_are_respected(tmp_path: Path) -> None:
    old = b"# crlf\r\nquestions:\r\n  Q2:\r\n    answer: Sometimes."
    path = setup(tmp_path, old)
    assert run_cli("init", "lesson.md", cwd=tmp_path).returncode == 0
    new = path.read_bytes()
    assert new.startswith(old + b"\r\n  Q1:\r\n    question: Why version models?\r\n")
    assert b"\n" not in new.replace(b"\r\n", b"")


def test_empty_section_gets_its_entries(tmp_path: Path) -> None:
    path = setup(tmp_path, "questions:   # to do\nobjectives:\n")
    assert run_cli("init", "lesson.md", cwd=tmp_path).returncode == 0
    new = path.read_text(encoding="utf-8")
    assert new.startswith("questions:   # to do\n  Q1:\n    question: Why version models?\n")
    assert "objectives:\n  1:\n    objective: Explain what a model registry is.\n" in new


def test_a_broken_sidecar_is_refused_with_its_diagnostics(tmp_path: Path) -> None:
    broken = "questions:\n  Q2:\n    answer: a\n  Q2:\n    answer: b\n"
    path = setup(tmp_path, broken)
    result = run_cli("init", "lesson.md", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "lesson.yaml:4:3: error: duplicate key 'Q2' in questions (first at line 2, again at "
        "line 4) (YAML would silently keep only the last one: merge them or delete one)",
        "error: lesson.yaml: fix its errors first; init does not edit a broken file",
    ]
    assert path.read_text(encoding="utf-8") == broken


def test_flow_style_block_is_refused_not_rewritten(tmp_path: Path) -> None:
    flow = "questions: {Q2: {answer: a}}\n"
    path = setup(tmp_path, flow)
    result = run_cli("init", "lesson.md", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        "error: lesson.yaml:1: init can only add to a 'questions:' block written one entry "
        "per line; add the stubs by hand or rewrite it that way\n"
    )
    assert path.read_text(encoding="utf-8") == flow


def test_awkward_texts_are_quoted_so_they_read_back(tmp_path: Path) -> None:
    lesson = (
        "# T\n\n:pencil: Q1. yes\n\n:pencil: Q2. What does `a: b` mean? # not a comment\n\n"
        ":pencil: Q3. Run this:\n\n```\n  indented: code\n```\n"
    )
    (tmp_path / "lesson.md").write_text(lesson, encoding="utf-8")
    assert run_cli("init", "lesson.md", cwd=tmp_path).returncode == 0
    check = run_cli("check", "lesson.md", cwd=tmp_path)
    assert "stale" not in check.stdout and "0 errors" in check.stdout, check.stdout


def test_init_needs_a_path_and_survives_bad_ones(tmp_path: Path) -> None:
    assert run_cli("init", cwd=tmp_path).returncode == 2
    (tmp_path / "bin.md").write_bytes(b"\x00\x01")
    result = run_cli("init", "bin.md", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "bin.yaml").exists()
    assert run_cli("init", "bin.md", "nope.md", cwd=tmp_path).returncode == 2  # a usage error


def test_keep_chomped_block_keeps_its_trailing_blank_lines(tmp_path: Path) -> None:
    old = "questions:\n  Q2:\n    answer: |+\n      keep\n\n\nobjectives:\n  1: {answer: a}\n"
    path = setup(tmp_path, old)
    assert run_cli("init", "lesson.md", cwd=tmp_path).returncode == 0
    new = path.read_text(encoding="utf-8")
    assert new.startswith("questions:\n  Q2:\n    answer: |+\n      keep\n\n\n  Q1:\n")
    assert all(block.startswith(("  Q1:", "  2:", "terms:")) for block in inserted(old, new))
