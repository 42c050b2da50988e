"""The stages every command shares: `check` sees every error `build` stops on; `.yml` refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli
from mlops_cards.errors import DiagnosticsError
from mlops_cards.stages import deck_diagnostics, load_lessons, validate_deck

LESSON = "---\nid: {id}\n---\n# {title}\n\n:pencil: Q1. Why?\n"
# The smallest PNG: one transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def two_lessons_one_id(root: Path) -> Path:
    course = root / "course"
    course.mkdir()
    for name in ("a", "b"):
        (course / f"{name}.md").write_text(LESSON.format(id="same", title=name), encoding="utf-8")
    return course


def test_two_lessons_sharing_an_id_are_a_deck_diagnostic(tmp_path: Path) -> None:
    loaded = load_lessons([str(two_lessons_one_id(tmp_path))])
    [found] = deck_diagnostics(loaded.contents)
    assert found.level == "error"
    assert found.path.endswith("b.md")
    assert "lesson id `same` is also used by" in found.message
    with pytest.raises(DiagnosticsError) as info:
        validate_deck("deck", tmp_path, loaded)
    assert found.format() in info.value.lines


def test_check_exits_1_on_a_shared_id_with_the_line_build_stops_on(tmp_path: Path) -> None:
    two_lessons_one_id(tmp_path)
    check = run_cli("check", "--no-cache", "course", cwd=tmp_path)
    build = run_cli("build", "--no-cache", "course", "-o", "out/x.apkg", cwd=tmp_path)
    assert check.returncode == 1 and build.returncode == 1, (check, build)
    line = (
        "course/b.md:1:1: error: lesson id `same` is also used by course/a.md "
        "(set `id:` in the front matter or the YAML to tell them apart)"
    )
    assert line in check.stdout.splitlines()
    assert f"  {line}" in build.stderr.splitlines()
    assert not (tmp_path / "out").exists()


ANSWERED = (
    "questions:\n  Q1:\n    question: Why?\n    answer: |\n      Because ![it](img/{name}.png)\n"
)


@pytest.mark.parametrize("cached", [False, True])
def test_check_reports_what_rendering_stops_a_build_on(tmp_path: Path, cached: bool) -> None:
    # Two lessons with a missing image each (one in the YAML answer), one sound: check names
    # both images where build would stop, and the sound lesson is not blamed.
    course = tmp_path / "course"
    course.mkdir()
    for name in ("a", "b", "c"):
        (course / f"{name}.md").write_text(LESSON.format(id=name, title=name), encoding="utf-8")
        (course / f"{name}.yaml").write_text(ANSWERED.format(name=name), encoding="utf-8")
    (course / "img").mkdir()
    (course / "img" / "c.png").write_bytes(PNG)
    cache = () if cached else ("--no-cache",)
    check = run_cli("check", *cache, "course", cwd=tmp_path)
    build = run_cli("build", *cache, "course", "-o", "out/x.apkg", cwd=tmp_path)
    assert check.returncode == 1 and build.returncode == 1, (check, build)
    missing = [line for line in check.stdout.splitlines() if ": error: " in line]
    assert missing == [
        f"course/{name}.yaml:5:1: error: image 'img/{name}.png' not found (looked for "
        f"{(course / 'img' / f'{name}.png').resolve()}; fix the path or add the file)"
        for name in ("a", "b")
    ]
    # build stops on the first, with the same words
    assert build.stderr.startswith("error: " + missing[0].replace(":5:1: error: ", ":5: "))


@pytest.mark.parametrize(
    "command",
    [("check", "--no-cache"), ("init",), ("extract",), ("checklist", "-o", "c.md")],
)
def test_a_yml_sidecar_is_refused_with_the_name_to_give_it(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    (tmp_path / "l.md").write_text(LESSON.format(id="l", title="L"), encoding="utf-8")
    (tmp_path / "l.yml").write_text("questions: {}\n", encoding="utf-8")
    result = run_cli(*command, "l.yml", cwd=tmp_path)
    assert result.returncode == 1, result
    message = "l.yml: YAML files are read only as `.yaml`: rename it to l.yaml"
    assert message in result.stdout + result.stderr
    assert "does not exist" not in result.stdout + result.stderr


def test_check_warns_of_a_yml_file_beside_a_lesson(tmp_path: Path) -> None:
    (tmp_path / "l.md").write_text(LESSON.format(id="l", title="L"), encoding="utf-8")
    (tmp_path / "l.yml").write_text("questions: {}\n", encoding="utf-8")
    result = run_cli("check", "--no-cache", ".", cwd=tmp_path)
    assert (
        "l.yml:1:1: warning: not read: author YAML is read only from l.yaml (rename it to l.yaml)"
    ) in result.stdout.splitlines()
