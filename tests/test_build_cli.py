"""The `build` command as a user runs it: exit codes, exact messages, files written."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from conftest import run_cli

LESSON = """\
---
sort: 3
---
# Feature Stores

## Learning Objectives

- [ ] Say what a feature store keeps.

:pencil: Q1. Why share features between training and serving?
"""

SIDECAR = """\
questions:
  Q1:
    answer: So both see the same values, computed the same way.
objectives:
  1:
    answer: Versioned, reusable features with their history.
"""

ENV = {"SOURCE_DATE_EPOCH": "1700000000"}


def lesson(tmp_path: Path) -> Path:
    path = tmp_path / "features.md"
    path.write_text(LESSON, encoding="utf-8")
    path.with_suffix(".yaml").write_text(SIDECAR, encoding="utf-8")
    return path


def test_adhoc_build_writes_deck_lock_sums_and_report(tmp_path: Path) -> None:
    lesson(tmp_path)
    result = run_cli("build", "features.md", "-o", "out/features.apkg", cwd=tmp_path, env=ENV)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "SHA256SUMS",
        "build-report.json",
        "build-report.md",
        "features.apkg",
        "features.lock.json",
    ]
    lines = result.stdout.splitlines()
    assert lines[0] == "features -> out/features.apkg"
    assert lines[1] == "  notes: 2 (objective 1, question 1); media: 0"
    assert lines[2] == "  against out/features.lock.json: 2 new, 0 changed, 0 unchanged, 0 retired"
    assert lines[3] == (
        "  note types new or changed: mlops-cards Question, mlops-cards Term, "
        "mlops-cards Cloze, mlops-cards Objective"
    )
    assert lines[4] == "  unanswered: 0"
    assert lines[-1] == "wrote out/SHA256SUMS, out/build-report.json and out/build-report.md"
    lock = json.loads((out / "features.lock.json").read_text(encoding="utf-8"))
    assert sorted((n["kind"], n["key"], n["mod"]) for n in lock["notes"].values()) == [
        ("objective", "1", 1700000000),
        ("question", "Q1", 1700000000),
    ]
    report = json.loads((out / "build-report.json").read_text(encoding="utf-8"))
    assert report["decks"][0]["new"] == ["features/objective/1", "features/question/Q1"]


def test_adhoc_build_with_explicit_lock(tmp_path: Path) -> None:
    lesson(tmp_path)
    args = ("build", "features.md", "-o", "f.apkg", "--lock", "locks/f.json")
    assert run_cli(*args, cwd=tmp_path, env=ENV).returncode == 0
    assert (tmp_path / "locks" / "f.json").is_file()
    again = run_cli(*args, "--frozen", cwd=tmp_path, env={"SOURCE_DATE_EPOCH": "1800000000"})
    assert again.returncode == 0, again.stderr
    assert "0 new, 0 changed, 2 unchanged, 0 retired" in again.stdout


def test_lessons_need_an_apkg_output(tmp_path: Path) -> None:
    lesson(tmp_path)
    result = run_cli("build", "features.md", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "error: building from lesson files needs `-o FILE.apkg`\n"


def test_manifests_and_lessons_do_not_mix(tmp_path: Path) -> None:
    lesson(tmp_path)
    (tmp_path / "decks").mkdir()
    (tmp_path / "decks" / "a.yaml").write_text("name: A\nlessons: [../features.md]\n")
    result = run_cli("build", "decks/a.yaml", "features.md", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "error: give either deck manifests (.yaml) or lesson files, not both\n"
    )


def test_no_manifests(tmp_path: Path) -> None:
    result = run_cli("build", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "error: no PATH given, and neither decks/*.yaml nor content/ is here (name the "
        "lessons, or set up a deck: mlops-cards new-deck LESSONS_DIR)\n"
    )


def test_lock_option_is_for_adhoc_decks(tmp_path: Path) -> None:
    (tmp_path / "decks").mkdir()
    (tmp_path / "decks" / "a.yaml").write_text("name: A\nlessons: [../features.md]\n")
    result = run_cli("build", "decks/a.yaml", "--lock", "x.json", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "error: --lock is for ad-hoc decks; a manifest's lock sits beside it\n"
    )


def test_manifest_mistakes_are_listed_with_lines(tmp_path: Path) -> None:
    (tmp_path / "decks").mkdir()
    (tmp_path / "decks" / "a.yaml").write_text("name: A\nlessons: ../none/*.md\nnmae: B\n")
    result = run_cli("build", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        "decks/a.yaml:2:10: error: no lessons match `../none/*.md` "
        "(paths are relative to the manifest)\n"
        "decks/a.yaml:3:1: error: unknown key `nmae` (did you mean `name`?)\n"
    )
    assert not (tmp_path / "dist").exists()


def test_corrupt_lock_stops_the_build(tmp_path: Path) -> None:
    lesson(tmp_path)
    (tmp_path / "f.lock.json").write_text("[]")
    result = run_cli("build", "features.md", "-o", "f.apkg", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        "error: f.lock.json: not a mlops-cards lock file (no format version) (restore it from "
        "version control, or delete it to start a new lock: every note then counts as new)\n"
    )
    assert not (tmp_path / "f.apkg").exists()


def test_frozen_without_a_lock_lists_every_note(tmp_path: Path) -> None:
    lesson(tmp_path)
    result = run_cli("build", "features.md", "-o", "f.apkg", "--frozen", cwd=tmp_path, env=ENV)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == (
        "error: f.lock.json: the lock would change (--frozen); build without --frozen and "
        "commit the lock"
    )
    assert [line.split(" (")[0] for line in lines[1:]] == [
        "  new note features/objective/1",
        "  new note features/question/Q1",
        "  new note type mlops-cards Cloze",
        "  new note type mlops-cards Objective",
        "  new note type mlops-cards Question",
        "  new note type mlops-cards Term",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["features.md", "features.yaml"]


def test_every_manifest_is_built_and_summed(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    lesson(tmp_path / "content")
    (tmp_path / "decks").mkdir()
    for name in ("b", "a"):
        (tmp_path / "decks" / f"{name}.yaml").write_text(
            f"name: Deck {name.upper()}\nlessons: ../content\n", encoding="utf-8"
        )
    result = run_cli("build", cwd=tmp_path, env=ENV)
    assert result.returncode == 0, result.stderr
    sums = (tmp_path / "dist" / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    checklists = ["checklist.html", "checklist.md", "checklist.pdf"]
    assert [line.split("  ")[1] for line in sums] == [
        *(f"a-{c}" for c in checklists),
        "a.apkg",
        *(f"b-{c}" for c in checklists),
        "b.apkg",
    ]
    for line in sums:
        sha, name = line.split("  ")
        assert hashlib.sha256((tmp_path / "dist" / name).read_bytes()).hexdigest() == sha
    notes = (tmp_path / "dist" / "build-report.md").read_text(encoding="utf-8")
    assert notes.startswith("## Deck A\n") and "\n## Deck B\n" in notes
    assert sorted(p.name for p in (tmp_path / "decks").iterdir()) == [
        "a.lock.json",
        "a.yaml",
        "b.lock.json",
        "b.yaml",
    ]
    assert "Deck A -> dist/a.apkg" in result.stdout and "Deck B -> dist/b.apkg" in result.stdout


def test_manifest_chooses_checklist_formats(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    lesson(tmp_path / "content")
    (tmp_path / "decks").mkdir()
    (tmp_path / "decks" / "a.yaml").write_text(
        "name: A\nlessons: ../content\nchecklists: [md]\n", encoding="utf-8"
    )
    result = run_cli("build", cwd=tmp_path, env=ENV)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "dist").glob("a*")) == ["a-checklist.md", "a.apkg"]


def test_missing_weasyprint_skips_only_the_pdf_checklist(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    lesson(tmp_path / "content")
    (tmp_path / "decks").mkdir()
    (tmp_path / "decks" / "a.yaml").write_text("name: A\nlessons: ../content\n", encoding="utf-8")
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    # A `weasyprint` package that fails to import stands for "the pdf extra is not installed".
    (blocker / "weasyprint.py").write_text("raise ImportError('not installed')\n", "utf-8")
    result = run_cli("build", cwd=tmp_path, env={**ENV, "PYTHONPATH": str(blocker)})
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "dist").glob("a*")) == [
        "a-checklist.html",
        "a-checklist.md",
        "a.apkg",
    ]
    assert (
        "  checklist PDF skipped: PDF output needs WeasyPrint: pip install 'mlops-cards[pdf]'"
        in (result.stdout.splitlines())
    )


def test_two_decks_cannot_share_an_output(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    lesson(tmp_path / "content")
    (tmp_path / "decks").mkdir()
    for name in ("a", "b"):
        (tmp_path / "decks" / f"{name}.yaml").write_text(
            f"name: {name}\nlessons: ../content\noutput: same\n", encoding="utf-8"
        )
    result = run_cli("build", cwd=tmp_path, env=ENV)
    assert result.returncode == 1
    assert result.stderr == (
        "error: two decks would write the same output file (set `output:` apart)\n"
    )
    assert not (tmp_path / "dist").exists()


def test_missing_image_in_an_answer_points_at_the_yaml_line(tmp_path: Path) -> None:
    lesson(tmp_path)
    (tmp_path / "features.yaml").write_text(
        SIDECAR.replace("history.", "history.\nextra:\n  - id: diagram\n    front: Which?\n")
        + "    back: |\n      See the diagram:\n      ![store](img/store.png)\n",
        encoding="utf-8",
    )
    result = run_cli("build", "features.md", "-o", "out/f.apkg", cwd=tmp_path, env=ENV)
    assert result.returncode == 1
    assert result.stderr == (
        "error: features.yaml:13: image 'img/store.png' not found "
        f"(looked for {tmp_path / 'img' / 'store.png'}; fix the path or add the file)\n"
    )
    assert not (tmp_path / "out").exists()


def test_missing_image_in_a_question_answer_points_at_its_line(tmp_path: Path) -> None:
    lesson(tmp_path)
    (tmp_path / "features.yaml").write_text(
        SIDECAR.replace(
            "    answer: So both see the same values, computed the same way.\n",
            "    answer: |\n      Same values:\n\n      ![same](same.png)\n",
        ),
        encoding="utf-8",
    )
    result = run_cli("build", "features.md", "-o", "out/f.apkg", cwd=tmp_path, env=ENV)
    assert result.returncode == 1
    assert result.stderr.startswith("error: features.yaml:6: image 'same.png' not found")
