"""Issue 18 from the command line: `init` re-keys the YAML, a deleted item is a warning, a YAML
left behind by a rename is an error, and lesson ids that would collide are told apart."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import CORPUS, run_cli
from mlops_cards.discover import distinct_ids, lesson_id_from_path
from mlops_cards.models import Lesson

BEFORE = """\
# Serving

:pencil: Q1. Why version models?<br>
:pencil: Q2. When is batch serving enough?<br>
:pencil: Q3. What is a canary release?
"""
INSERTED = """\
# Serving

:pencil: Q1. What does a model registry hold?<br>
:pencil: Q2. Why version models?<br>
:pencil: Q3. When is batch serving enough?<br>
:pencil: Q4. What is a canary release?
"""
AUTHORED = """\
# Answers for the serving lesson.
questions:
  Q1:  # the first one
    question: Why version models?
    answer: To know which model made which prediction.

  Q2:
    question: When is batch serving enough?
    answer: When predictions can wait.   # checked in class
  'Q3':
    question: What is a canary release?
    answer: |
      A small first release.
# the end
"""


def course(tmp_path: Path, lesson: str, sidecar: str | None, name: str = "lesson") -> Path:
    (tmp_path / f"{name}.md").write_text(lesson, encoding="utf-8")
    if sidecar is not None:
        (tmp_path / f"{name}.yaml").write_text(sidecar, encoding="utf-8", newline="")
    return tmp_path


def test_init_rekeys_in_place_keeping_every_comment_and_word(tmp_path: Path) -> None:
    root = course(tmp_path, INSERTED, AUTHORED)
    dry = run_cli("init", "--dry-run", "lesson.md", cwd=root)
    assert dry.returncode == 0
    assert "-  Q1:  # the first one\n+  Q2:  # the first one\n" in dry.stdout
    assert (root / "lesson.yaml").read_text(encoding="utf-8") == AUTHORED  # dry: unchanged
    result = run_cli("init", "lesson.md", cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "lesson.yaml: re-keyed 3 entries (Q1 -> Q2, Q2 -> Q3, Q3 -> Q4), added 1 stub\n"
    )
    expected = (
        AUTHORED.replace("  Q2:\n", "  Q3:\n")
        .replace("  Q1:  #", "  Q2:  #")
        .replace("  'Q3':", "  'Q4':")
        .replace(
            "      A small first release.\n",
            "      A small first release.\n"
            "  Q1:\n    question: What does a model registry hold?\n    answer:\n",
        )
    )
    assert (root / "lesson.yaml").read_text(encoding="utf-8") == expected
    check = run_cli("check", "--strict", "lesson.md", cwd=root)
    assert "is now" not in check.stdout  # nothing moves any more
    assert "question Q1 is not answered yet" in check.stdout
    again = run_cli("init", "lesson.md", cwd=root)
    assert again.stdout == "lesson.yaml: up to date\n"
    assert (root / "lesson.yaml").read_text(encoding="utf-8") == expected


def test_check_says_what_moved_and_build_ships_the_answers_where_they_belong(
    tmp_path: Path,
) -> None:
    root = course(tmp_path, INSERTED, AUTHORED)
    check = run_cli("check", "lesson.md", cwd=root)
    assert check.returncode == 0
    assert (
        "lesson.yaml:3:3: warning: question Q1 is now Q2: its answer follows it "
        "(run `mlops-cards init lesson.md` to re-key the YAML)"
    ) in check.stdout
    assert run_cli("check", "--strict", "lesson.md", cwd=root).returncode == 1


def test_a_deleted_question_is_a_warning_that_fails_only_under_strict(tmp_path: Path) -> None:
    root = course(
        tmp_path, BEFORE.replace("<br>\n:pencil: Q3. What is a canary release?", ""), AUTHORED
    )
    check = run_cli("check", "lesson.md", cwd=root)
    assert check.returncode == 0, check.stdout
    assert (
        "lesson.yaml:10:3: warning: question Q3 is not in lesson.md any more: its entry makes "
        "no card (delete the entry, or restore the question in lesson.md)"
    ) in check.stdout
    assert run_cli("check", "--strict", "lesson.md", cwd=root).returncode == 1
    build = run_cli("build", "lesson.md", "-o", "out/deck.apkg", cwd=root)
    assert build.returncode == 0, build.stderr
    assert "2 new" in build.stdout
    assert (root / "lesson.yaml").read_text(encoding="utf-8") == AUTHORED  # nothing dropped


def test_init_will_not_rekey_onto_the_entry_of_a_deleted_question(tmp_path: Path) -> None:
    deleted = BEFORE.replace(":pencil: Q2. When is batch serving enough?<br>\n", "").replace(
        "Q3.", "Q2."
    )
    root = course(tmp_path, deleted, AUTHORED)
    result = run_cli("init", "lesson.md", cwd=root)
    assert result.returncode == 1
    assert result.stderr == (
        "error: lesson.yaml:7: init cannot re-key 'Q3' to 'Q2': the entry 'Q2' answers nothing "
        "in the lesson any more (see `mlops-cards check`); delete it or give it another key, "
        "then run init again\n"
    )
    assert (root / "lesson.yaml").read_text(encoding="utf-8") == AUTHORED
    # Following that advice: delete the entry, run init again.
    (root / "lesson.yaml").write_text(
        AUTHORED.replace(
            "  Q2:\n    question: When is batch serving enough?\n"
            "    answer: When predictions can wait.   # checked in class\n",
            "",
        ),
        encoding="utf-8",
    )
    assert run_cli("init", "lesson.md", cwd=root).returncode == 0
    assert run_cli("check", "--strict", "lesson.md", cwd=root).returncode == 0


# --- a YAML left behind by a rename -------------------------------------------------------------

ORPHAN_ERROR = (
    "error: no author YAML 6. Serving.yaml for this lesson, but Serving.yaml has no lesson "
    "(Serving.md is gone) and answers 3 of this lesson's items: the lesson was renamed without "
    "its YAML (rename the YAML with it: `git mv Serving.yaml '6. Serving.yaml'`)"
)


def test_a_lesson_renamed_without_its_yaml_is_an_error_naming_both_files(tmp_path: Path) -> None:
    root = course(tmp_path, BEFORE, AUTHORED, name="Serving")
    (root / "Serving.md").rename(root / "6. Serving.md")
    message = ORPHAN_ERROR
    check = run_cli("check", "6. Serving.md", cwd=root)
    assert check.returncode == 1
    assert f"6. Serving.md:1:1: {message}" in check.stdout
    assert "no author YAML: " not in check.stdout  # not the advice to start again with init
    build = run_cli("build", "6. Serving.md", "-o", "deck.apkg", cwd=root)
    assert build.returncode == 1
    assert f"6. Serving.md:1:1: {message}" in build.stderr
    assert not (root / "deck.apkg").exists()
    init = run_cli("init", "6. Serving.md", cwd=root)
    assert init.returncode == 1
    assert init.stderr == f"{message}; init creates no second one\n"
    assert not (root / "6. Serving.yaml").exists()
    # The fix it names works.
    (root / "Serving.yaml").rename(root / "6. Serving.yaml")
    assert run_cli("check", "--strict", "6. Serving.md", cwd=root).returncode == 0


def test_a_leftover_yaml_is_only_claimed_when_it_fits(tmp_path: Path) -> None:
    root = course(tmp_path, BEFORE, AUTHORED, name="Serving")
    (root / "Serving.md").rename(root / "6. Serving.md")
    (root / "Other.md").write_text("# Other\n\n:pencil: Q1. Something else?\n", encoding="utf-8")
    # Other.md answers none of its items and is not the only lesson without YAML: no claim.
    other = run_cli("check", "Other.md", cwd=root)
    assert other.returncode == 0, other.stdout
    assert "git mv" not in other.stdout
    # Alone beside a lone lesson without YAML, but its snapshots are another lesson's: no claim.
    (root / "Other.md").unlink()
    (root / "6. Serving.md").write_text("# New\n\n:pencil: Q1. Something new?\n")
    assert "git mv" not in run_cli("check", "6. Serving.md", cwd=root).stdout
    # Without snapshots, a lone leftover beside a lone lesson without YAML is claimed.
    (root / "Serving.yaml").write_text("questions:\n  Q1: {answer: x}\n", encoding="utf-8")
    check = run_cli("check", "6. Serving.md", cwd=root)
    assert check.returncode == 1
    assert "is the only YAML without a lesson here" in check.stdout


# --- lesson ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["1.1. Introduction.md", "1. Introduction.md", "1.Introduction.md", "01-introduction.md"],
)
def test_every_number_prefix_form_gives_the_same_id(name: str) -> None:
    assert lesson_id_from_path(f"module/{name}") == "introduction"


def test_same_file_names_in_different_folders_get_their_folders_in_front(tmp_path: Path) -> None:
    lessons = [
        Lesson(str(tmp_path / "02-ops" / "README.md"), "readme", None, None),
        Lesson(str(tmp_path / "01-intro" / "README.md"), "readme", None, None),
        Lesson(str(tmp_path / "x" / "Testing.md"), "testing", None, None),
        Lesson(str(tmp_path / "y" / "Testing.md"), "tests", None, None),  # set by hand
    ]
    assert [lesson.id for lesson in distinct_ids(lessons)] == [
        "ops-readme",
        "intro-readme",
        "testing",
        "tests",
    ]
    assert [lesson.id for lesson in distinct_ids(lessons[::-1])] == [
        "tests",
        "testing",
        "intro-readme",
        "ops-readme",
    ]


def test_two_readme_lessons_build_without_hand_set_ids(tmp_path: Path, corpus: Path) -> None:
    root = tmp_path / "course"
    shutil.copytree(CORPUS / "mlops-ii", root)
    assert (root / "README.md").exists() and (root / "Examples" / "README.md").exists()
    result = run_cli("build", ".", "-o", str(tmp_path / "deck.apkg"), cwd=root)
    assert result.returncode == 0, result.stderr
    assert "is also used by" not in result.stdout + result.stderr


FEATURES = """\
# Features

## Learning Objectives

- [ ] Define a feature store.
- [ ] Explain point-in-time joins.

:bell: **Feature views** are named sets of features.
"""
FEATURES_YAML = """\
objectives:
  2:
    objective: Define a feature store.
    answer: A shared place for features.
  3: {objective: Explain point-in-time joins., answer: Join on time.}
terms:
  Feature view:   # renamed in the lesson
    definition: A named set of features.
"""


def test_init_rekeys_objectives_and_renamed_terms(tmp_path: Path) -> None:
    root = course(tmp_path, FEATURES, FEATURES_YAML)
    result = run_cli("init", "lesson.md", cwd=root)
    assert result.stdout == (
        "lesson.yaml: re-keyed 3 entries (2 -> 1, 3 -> 2, Feature view -> Feature views)\n"
    )
    assert (root / "lesson.yaml").read_text(encoding="utf-8") == (
        FEATURES_YAML.replace("  2:\n", "  1:\n")
        .replace("  3: {", "  2: {")
        .replace("Feature view:", "Feature views:")
    )
    assert run_cli("check", "--strict", "lesson.md", cwd=root).returncode == 0


def test_init_swaps_the_keys_of_swapped_questions(tmp_path: Path) -> None:
    swapped = BEFORE.replace("Q1. Why", "Q9. Why").replace("Q2. When", "Q1. When")
    root = course(tmp_path, swapped.replace("Q9. Why", "Q2. Why"), AUTHORED)
    result = run_cli("init", "lesson.md", cwd=root)
    assert result.stdout == "lesson.yaml: re-keyed 2 entries (Q1 -> Q2, Q2 -> Q1)\n"
    text = (root / "lesson.yaml").read_text(encoding="utf-8")
    assert text == AUTHORED.replace("  Q1:  #", "  Q@:  #").replace("  Q2:\n", "  Q1:\n").replace(
        "Q@", "Q2"
    )
    assert run_cli("init", "lesson.md", cwd=root).stdout == "lesson.yaml: up to date\n"
