"""`verify` against decks made directly with genanki, imported by the real Anki engine."""

from __future__ import annotations

import json
from pathlib import Path

import genanki

from conftest import run_cli
from mlops_cards.verify import verify_deck

MODEL_ID = 1_607_392_319


def model(fields: tuple[str, ...] = ("Front", "Back")) -> genanki.Model:
    return genanki.Model(
        MODEL_ID,
        "verify-test Basic",
        fields=[{"name": f} for f in fields],
        templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{FrontSide}}<hr>{{Back}}"}],
    )


def write_deck(
    path: Path,
    notes: list[tuple[str, str, str]],
    *,
    mod: int,
    fields: tuple[str, ...] = ("Front", "Back"),
) -> Path:
    deck = genanki.Deck(2_059_400_110, "Verify test")
    m = model(fields)
    for guid, front, back in notes:
        values = [front, back] + [""] * (len(fields) - 2)
        deck.add_note(genanki.Note(model=m, fields=values, guid=guid))
    genanki.Package(deck).write_to_file(str(path), timestamp=mod)
    return path


def test_fresh_deck_counts(tmp_path: Path) -> None:
    deck = write_deck(
        tmp_path / "d.apkg", [("a", "1", "one"), ("b", "2", "two")], mod=1_700_000_000
    )
    result = verify_deck(deck)
    assert (result.notes, result.cards, result.empty_cards) == (2, 2, 0)
    assert result.missing_media == ()
    assert result.upgrade is None and result.ok


def test_upgrade_counts_updated_new_and_unchanged(tmp_path: Path) -> None:
    old = write_deck(
        tmp_path / "old.apkg", [("a", "1", "one"), ("b", "2", "two")], mod=1_700_000_000
    )
    # genanki gives every note the package timestamp, so Anki updates `b` too although its
    # content is the same: the reason mlops-cards keeps unchanged notes' mod in a lock file.
    new = write_deck(
        tmp_path / "new.apkg",
        [("a", "1", "ONE"), ("b", "2", "two"), ("c", "3", "three")],
        mod=1_700_000_100,
    )
    upgrade = verify_deck(new, previous=old).upgrade
    assert upgrade is not None
    assert (upgrade.new, upgrade.updated, upgrade.unchanged) == (1, 2, 0)
    assert (upgrade.conflicting, upgrade.notetypes_copied) == (0, 0)


def test_changed_field_list_is_a_copied_note_type(tmp_path: Path) -> None:
    old = write_deck(tmp_path / "old.apkg", [("a", "1", "one")], mod=1_700_000_000)
    new = write_deck(
        tmp_path / "new.apkg",
        [("a", "1", "one")],
        mod=1_700_000_100,
        fields=("Front", "Back", "Extra"),
    )
    result = verify_deck(new, previous=old)
    assert result.upgrade is not None
    assert (result.upgrade.conflicting, result.upgrade.notetypes_copied) == (1, 1)
    assert not result.ok


def test_cli_json_shape_and_exit_codes(tmp_path: Path) -> None:
    deck = write_deck(tmp_path / "d.apkg", [("a", "1", "one")], mod=1_700_000_000)
    result = run_cli("verify", str(deck), "--previous", str(deck), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["notes"] == 1 and data["cards"] == 1 and data["empty_cards"] == 0
    assert data["missing_media"] == []
    assert data["upgrade"] == {
        "new": 0,
        "updated": 0,
        "unchanged": 1,
        "conflicting": 0,
        "notetypes_copied": 0,
        "identity": [],
    }


def test_cli_missing_deck_is_one_line_error(tmp_path: Path) -> None:
    result = run_cli("verify", str(tmp_path / "nope.apkg"))
    assert result.returncode == 1
    assert result.stderr == f"error: {tmp_path / 'nope.apkg'}: no such deck file\n"
