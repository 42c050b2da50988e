"""The stages every command shares: `check` sees every error `build` stops on; `.yml` refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli
from mlops_cards.errors import DiagnosticsError
from mlops_cards.stages import deck_diagnostics, load_lessons, validate_deck

LESSON = "---\nid: {id}\n---\n# {title}\n\n:pencil: Q1. Why?\n"


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
