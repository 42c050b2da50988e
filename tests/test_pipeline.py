from pathlib import Path

import pytest

from mlops_cards.epoch import build_time
from mlops_cards.errors import CardsError
from mlops_cards.manifest import load_manifest
from mlops_cards.resolve import adhoc_manifest
from mlops_cards.stages import course_root


def test_source_date_epoch_wins_over_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert build_time() == 1700000000
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(CardsError) as info:
        build_time()
    assert str(info.value).startswith("SOURCE_DATE_EPOCH='yesterday' is not a Unix timestamp")


def test_course_root_is_the_project_above_decks(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "a.md").write_text("# A\n")
    (tmp_path / "decks").mkdir()
    manifest = tmp_path / "decks" / "d.yaml"
    manifest.write_text("name: D\nlessons: ../content/a.md\n")
    assert course_root(load_manifest(manifest)) == tmp_path.resolve()


def test_adhoc_deck_is_named_after_its_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "l").mkdir()
    monkeypatch.chdir(tmp_path / "l")
    lesson = tmp_path / "l" / "a.md"
    manifest = adhoc_manifest([lesson], tmp_path / "out" / "week1.apkg")
    assert (manifest.name, manifest.output) == ("week1", "week1")
    # The course of an ad-hoc deck is the current folder, never the output's.
    assert course_root(manifest) == (tmp_path / "l").resolve()


def test_an_adhoc_lesson_outside_the_current_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "course").mkdir()
    monkeypatch.chdir(tmp_path / "course")
    with pytest.raises(CardsError, match="lesson lies outside the current folder"):
        adhoc_manifest([tmp_path / "elsewhere.md"], tmp_path / "course" / "d.apkg")
