from __future__ import annotations

from pathlib import Path

import pytest

from mlops_cards.errors import CardsError, UsageError
from mlops_cards.resolve import default_lesson_paths


def test_content_when_there_are_no_manifests(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    assert default_lesson_paths(tmp_path) == ["content"]


def test_nothing_to_check_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        default_lesson_paths(tmp_path)


def test_manifest_globs_relative_to_the_manifest(tmp_path: Path) -> None:
    (tmp_path / "content" / "mlops").mkdir(parents=True)
    for name in ("2. b.md", "1. a.md"):
        (tmp_path / "content" / "mlops" / name).write_text("# x\n")
    (tmp_path / "decks").mkdir()
    (tmp_path / "decks" / "mlops.yaml").write_text(
        "name: MLOps\nlessons: [../content/mlops/*.md]\n"
    )
    assert default_lesson_paths(tmp_path) == ["content/mlops/1. a.md", "content/mlops/2. b.md"]


def test_manifest_mistakes_are_reported_with_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "decks").mkdir()
    (tmp_path / "decks" / "d.yaml").write_text("name: D\nlessons: [../content/missing.md]\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CardsError) as caught:
        default_lesson_paths(Path())
    assert str(caught.value) == (
        "decks/d.yaml:2:11: error: no lessons match `../content/missing.md` "
        "(paths are relative to the manifest)"
    )


def test_broken_manifest_is_a_cards_error(tmp_path: Path) -> None:
    (tmp_path / "decks").mkdir()
    (tmp_path / "decks" / "d.yaml").write_text("lessons: 3\n")
    with pytest.raises(CardsError, match=r"decks/d.yaml:1:10: error: `lessons` must be a path"):
        default_lesson_paths(tmp_path)
