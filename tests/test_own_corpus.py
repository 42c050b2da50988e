"""The project's own small corpus (`tests/corpus/`), in the course dialect: front matter,
objectives headings of two forms, `:pencil:` questions with several label forms, `:bell:` terms
of several shapes, tasks, kramdown attributes and HTML noise. Unlike the real corpus beside the
repository, it is always here: a plain clone tests the dialect end to end.

Each `tests/corpus/golden/<name>.json` was checked by reading its lesson. After a deliberate
extractor change: `UPDATE_GOLDEN=1 python -m pytest tests/test_own_corpus.py`, then read the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import run_cli
from mlops_cards.extract import extract_file
from test_golden import golden_name, summary

OWN = Path(__file__).resolve().parent / "corpus"
LESSONS = sorted(OWN.glob("*.md"))


def test_the_own_corpus_has_a_golden_file_per_lesson() -> None:
    assert len(LESSONS) >= 2
    expected = {golden_name(p.relative_to(OWN)) for p in LESSONS}
    assert {p.name for p in (OWN / "golden").glob("*.json")} == expected


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_own_golden(lesson: Path) -> None:
    relative = lesson.relative_to(OWN)
    actual = json.dumps(summary(extract_file(lesson), relative), indent=2, ensure_ascii=False)
    golden = OWN / "golden" / golden_name(relative)
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(actual + "\n", encoding="utf-8")
    assert golden.read_text(encoding="utf-8") == actual + "\n"


def test_the_own_corpus_checks_and_builds(tmp_path: Path) -> None:
    check = run_cli("check", "--no-cache", str(OWN))
    assert check.returncode == 0, check.stdout + check.stderr
    assert "2 lessons: questions 2/" in check.stdout  # two answered; the others unanswered
    apkg = tmp_path / "own.apkg"
    env = {"SOURCE_DATE_EPOCH": "1700000000", "MLOPS_CARDS_CACHE_DIR": str(tmp_path / "c")}
    build = run_cli("build", str(OWN), "-o", str(apkg), env=env)
    assert build.returncode == 0, build.stderr
    assert apkg.stat().st_size > 0
