"""Golden files: what the extractor finds in every lesson of the real course corpus.

Each `tests/golden/<name>.json` was checked by reading the lesson it describes (its objectives,
`:pencil:`, `:bell:` and task lines). After a deliberate extractor change, refresh them with
`UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py`, then read the diff before committing.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from conftest import CORPUS
from mlops_cards.extract import extract_file
from mlops_cards.models import Lesson

GOLDEN = Path(__file__).resolve().parent / "golden"


def corpus_lessons(corpus: Path) -> list[Path]:
    """Every lesson file of the corpus: the seed, the history and every Markdown file."""
    return sorted(
        [*corpus.glob("seed/*.txt"), *corpus.glob("history/*.md"), *corpus.glob("mlops-ii/**/*.md")]
    )


def golden_name(relative: Path) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", relative.with_suffix("").as_posix().lower()).strip("-")
    return f"{slug}.json"


def _short(text: str, width: int = 60) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= width else one_line[: width - 1] + "…"


def summary(lesson: Lesson, relative: Path) -> dict[str, object]:
    """What a golden file holds: counts, keys, labels, lines, terms, shortened texts."""
    return {
        "file": relative.as_posix(),
        "id": lesson.id,
        "title": lesson.title,
        "sort": lesson.sort,
        "counts": {
            "objectives": len(lesson.objectives),
            "questions": len(lesson.questions),
            "terms": len(lesson.terms),
            "tasks": len(lesson.tasks),
            "diagnostics": len(lesson.diagnostics),
        },
        "objectives": [f"{o.key} @{o.line}: {_short(o.text)}" for o in lesson.objectives],
        "questions": [
            {"key": q.key, "label": q.label, "line": q.line, "text": _short(q.text)}
            for q in lesson.questions
        ],
        "terms": [
            {"bell": t.bell, "key": t.key, "term": t.term, "line": t.line} for t in lesson.terms
        ],
        "tasks": [
            f"@{t.line} depth {t.depth} in {t.section!r}: {_short(t.text, 40)}"
            for t in lesson.tasks
        ],
        "diagnostics": [d.format().replace(str(CORPUS), "<corpus>") for d in lesson.diagnostics],
    }


def test_every_corpus_file_has_a_golden_file(corpus: Path) -> None:
    expected = {golden_name(p.relative_to(corpus)) for p in corpus_lessons(corpus)}
    assert len(expected) == len(corpus_lessons(corpus)) >= 30
    if os.environ.get("UPDATE_GOLDEN"):
        for stale in {p.name for p in GOLDEN.glob("*.json")} - expected:
            (GOLDEN / stale).unlink()
        pytest.skip("golden files are being rewritten")
    assert {p.name for p in GOLDEN.glob("*.json")} == expected


@pytest.mark.parametrize(
    "relative",
    [p.relative_to(CORPUS) for p in corpus_lessons(CORPUS)] if CORPUS.is_dir() else [],
    ids=str,
)
def test_golden(corpus: Path, relative: Path) -> None:
    lesson = extract_file(corpus / relative)
    actual = json.dumps(summary(lesson, relative), indent=2, ensure_ascii=False) + "\n"
    golden = GOLDEN / golden_name(relative)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
    assert golden.read_text(encoding="utf-8") == actual


# Bells that name a term, judged by reading each one in the corpus: (file, line, term).
# Not listed: the Note in Examples/logging_example.md, a tip that names no term.
BELLS_NAMING_A_TERM = [
    ("mlops-ii/2. VirtualEnvironmentPackageManagement.md", 44, "ML code"),
    ("mlops-ii/3. CodeFormatting.md", 24, "Production-level"),
    ("mlops-ii/3. CodeFormatting.md", 189, "Code review"),
    ("mlops-ii/3. CodeFormatting.md", 241, "Global variables"),
    ("mlops-ii/3. CodeFormatting.md", 243, "local variable"),
    ("mlops-ii/6. Testing.md", 221, "pdb"),
    ("mlops-ii/7. Documenting.md", 158, "Sphinx"),
]


def test_term_detection_finds_nine_in_ten_named_terms(corpus: Path) -> None:
    found = []
    for file, line, term in BELLS_NAMING_A_TERM:
        terms = {t.line: t.term for t in extract_file(corpus / file).terms}
        assert line in terms, f"{file}:{line} is not a bell item"
        found.append(terms[line] == term)
    assert sum(found) / len(found) >= 0.9, found


def test_every_bell_in_the_corpus_is_judged(corpus: Path) -> None:
    """The list above covers every bell with a term: a new corpus bell must be judged too."""
    judged = {(file, line) for file, line, _ in BELLS_NAMING_A_TERM}
    for path in corpus_lessons(corpus):
        relative = path.relative_to(corpus).as_posix()
        for term in extract_file(path).terms:
            if term.term is not None:
                assert (relative, term.line) in judged, f"{relative}:{term.line} not judged"
