"""`mlops-cards extract`: run as a user would, exit codes and exact messages."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import FIXTURES, SEED, run_cli

EVERY = FIXTURES / "lessons" / "every-construct.md"


def test_json_shape_for_the_seed(corpus: Path) -> None:
    result = run_cli("extract", str(SEED), "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    [lesson] = json.loads(result.stdout)["lessons"]
    assert lesson["path"] == str(SEED)
    assert lesson["id"] == "30ce5da4deb3b667"
    assert (lesson["title"], lesson["sort"]) == ("Introduction to MLOps", 1)
    assert lesson["objectives"][0] == {"key": "1", "text": "Define what MLOps is.", "line": 13}
    assert lesson["questions"][0] == {
        "key": "Q1",
        "label": "Q1",
        "text": "What is MLOps?",
        "line": 41,
    }
    assert lesson["terms"] == []
    assert [t["line"] for t in lesson["tasks"]] == [33, 34, 38, 39]
    assert set(lesson["tasks"][0]) >= {"text", "line", "section"}
    assert lesson["diagnostics"] == []


def test_json_terms_and_diagnostics(tmp_path: Path) -> None:
    result = run_cli("extract", "every-construct.md", "--json", cwd=EVERY.parent)
    assert result.returncode == 0, result.stderr
    [lesson] = json.loads(result.stdout)["lessons"]
    assert lesson["path"] == "every-construct.md"  # as given
    assert lesson["terms"][0] == {
        "key": "Feature store",
        "term": "Feature store",
        "definition": "a shared service that serves features for training and inference.",
        "line": 62,
        "bell": 1,
    }
    assert lesson["terms"][8]["term"] is None
    [diagnostic] = lesson["diagnostics"]
    assert (diagnostic["line"], diagnostic["level"]) == (58, "warning")


def test_summary_without_json() -> None:
    result = run_cli("extract", str(EVERY))
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == f"{EVERY}: Feature Pipelines [id feature-pipelines, sort 3]"
    assert lines[1] == "  4 objectives, 9 questions, 12 terms, 4 tasks"
    assert "  question Q1 (line 41): What does a feature pipeline produce?" in lines
    assert (
        "  term Feature store (line 62): a shared service that serves features for trainin…"
        in lines
    )
    assert lines[-1] == (
        f"{EVERY}:58:1: warning: question label Q1 is used again (first on line 41, again on "
        "line 58); this one is keyed Q1-2 (give each question its own label)"
    )


def test_bad_paths_fail_one_line_each_and_the_rest_is_reported(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "image.md").write_bytes(b"GIF89a\x00\x01\x00")
    (tmp_path / "latin.md").write_bytes("# Résumé\n".encode("latin-1"))
    result = run_cli(
        "extract",
        "empty",
        "image.md",
        "latin.md",
        str(EVERY),
        "--json",
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: empty: no lessons (*.md files) in this directory",
        "error: image.md: not a text file (it contains NUL bytes)",
        "error: latin.md: not UTF-8 (byte 0xe9 at offset 3); save it as UTF-8",
    ]
    assert [lesson["id"] for lesson in json.loads(result.stdout)["lessons"]] == [
        "feature-pipelines"
    ]


def test_bad_file_in_a_directory_does_not_hide_the_others(tmp_path: Path) -> None:
    (tmp_path / "1. good.md").write_text(":pencil: Q1. Fine?\n")
    (tmp_path / "2. bad.md").write_bytes(b"\xff\xfe# x\n")
    result = run_cli("extract", ".", cwd=tmp_path)
    assert result.returncode == 1
    assert (
        result.stderr == "error: ./2. bad.md: not UTF-8 (byte 0xff at offset 0); save it as UTF-8\n"
    )
    assert result.stdout.splitlines()[:2] == [  # no "sort None", and "1 question"
        "./1. good.md: (no title) [id good]",
        "  0 objectives, 1 question, 0 terms, 0 tasks",
    ]


def test_crlf_bom_and_empty_files_work(tmp_path: Path) -> None:
    (tmp_path / "crlf.md").write_bytes(
        b"\xef\xbb\xbf---\r\nsort: 4\r\n---\r\n# Win\r\n\r\n:pencil: Q1. Ok?<br>\r\n"
    )
    (tmp_path / "empty.md").write_bytes(b"")
    result = run_cli("extract", "crlf.md", "empty.md", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    crlf, empty = json.loads(result.stdout)["lessons"]
    assert (crlf["title"], crlf["sort"]) == ("Win", 4)
    assert crlf["questions"] == [{"key": "Q1", "label": "Q1", "text": "Ok?", "line": 6}]
    assert (empty["id"], empty["title"], empty["questions"]) == ("empty", None, [])


def test_a_lesson_just_under_the_size_limit(tmp_path: Path) -> None:
    chunk = (
        "## Part {n}\n\n- [ ] Read part {n}\n\n:pencil: Q{n}. What happens in part {n}?\n\n"
        ":bell: **Term {n}**: the thing introduced in part {n}.\n\n"
        + "Filler text. " * 300
        + "\n\n"
    )
    parts = []
    size, n = 0, 0
    while size < 1_000_000:  # the limit is 1 MB (1,048,576 bytes)
        n += 1
        parts.append(chunk.format(n=n))
        size += len(parts[-1])
    (tmp_path / "big.md").write_text("".join(parts))
    result = run_cli("extract", "big.md", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    [lesson] = json.loads(result.stdout)["lessons"]
    assert len(lesson["questions"]) == len(lesson["terms"]) == len(lesson["tasks"]) == n
    assert lesson["questions"][-1]["key"] == f"Q{n}"
    assert lesson["diagnostics"] == []


def test_no_path_is_a_usage_error() -> None:
    result = run_cli("extract")
    assert result.returncode == 2
    assert "Missing argument 'PATHS...'" in result.stderr
