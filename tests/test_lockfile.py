import json
from dataclasses import asdict, replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deck_helpers import QUESTION, make_note
from mlops_cards.errors import CardsError
from mlops_cards.lockfile import (
    FORMAT,
    Lock,
    LockedNote,
    LockedNoteType,
    lock_bytes,
    lock_differences,
    lock_json,
    read_lock,
    update_lock,
)

NT = QUESTION


def first_build(now: int = 1000) -> Lock:
    notes = [make_note("Q1", "one"), make_note("Q2", "two")]
    return update_lock(Lock(), notes, [NT], now=now).lock


def test_first_build_marks_everything_new_at_now() -> None:
    update = update_lock(Lock(), [make_note("Q1", "one")], [NT], now=1000)
    assert [n.key for n in update.new] == ["Q1"]
    assert update.notes[0].mod == 1000
    assert update.notetype_mods == {NT.model_id: 1000}
    assert update.notetypes_changed == (NT.name,)


def test_unchanged_note_keeps_its_mod_and_changed_one_moves_forward() -> None:
    lock = first_build(now=1000)
    notes = [make_note("Q1", "one"), make_note("Q2", "two, edited")]
    update = update_lock(lock, notes, [NT], now=5000)
    mods = {n.key: n.mod for n in update.notes}
    assert mods == {"Q1": 1000, "Q2": 5000}
    assert [n.key for n in update.changed] == ["Q2"]
    assert [n.key for n in update.unchanged] == ["Q1"]
    assert update.notetype_mods == {NT.model_id: 1000}
    assert update.notetypes_changed == ()


def test_changed_mod_is_strictly_newer_even_when_the_clock_lags() -> None:
    lock = first_build(now=1000)
    update = update_lock(lock, [make_note("Q1", "one, edited")], [NT], now=10)
    assert update.changed[0].mod == 1001


def test_tag_change_counts_as_a_change() -> None:
    lock = first_build()
    note = replace(make_note("Q1", "one"), tags=("extra", "kind::question", "lesson::lesson-a"))
    update = update_lock(lock, [note, make_note("Q2", "two")], [NT], now=2000)
    assert [n.key for n in update.changed] == ["Q1"]


def test_note_type_change_gets_a_newer_mod() -> None:
    lock = first_build(now=1000)
    changed_type = replace(NT, css=".card { color: navy; }")
    update = update_lock(lock, [make_note("Q1", "one")], [changed_type], now=3000)
    assert update.notetype_mods == {NT.model_id: 3000}
    assert update.notetypes_changed == (NT.name,)


def test_gone_notes_are_retired_kept_in_lock_and_published_only_when_asked() -> None:
    lock = first_build(now=1000)
    kept = update_lock(lock, [make_note("Q1", "one")], [NT], now=2000)
    assert [n.key for n in kept.retired] == ["Q2"]
    assert [n.key for n in kept.notes] == ["Q1"]
    assert kept.lock.notes[make_note("Q2", "").guid].retired

    published = update_lock(lock, [make_note("Q1", "one")], [NT], now=2000, retire=True)
    shown = [n for n in published.notes if n.key == "Q2"]
    assert len(shown) == 1
    assert "retired" in shown[0].tags
    assert shown[0].fields[:2] == ("two", "answer")
    assert shown[0].mod == 2000  # the new tag is a change learners must receive

    again = update_lock(published.lock, [make_note("Q1", "one")], [NT], now=9000, retire=True)
    assert [n.mod for n in again.notes if n.key == "Q2"] == [2000]


def test_lock_round_trips_and_is_sorted_text(tmp_path: Path) -> None:
    lock = first_build()
    path = tmp_path / "deck.lock.json"
    path.write_bytes(lock_bytes(lock))
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    data = json.loads(text)
    assert data["format"] == FORMAT
    assert list(data["notes"]) == sorted(data["notes"])
    entry = data["notes"][make_note("Q1", "").guid]
    assert entry["lesson"] == "lesson-a" and entry["kind"] == "question" and entry["key"] == "Q1"
    assert entry["mod"] == 1000
    assert read_lock(path) == lock
    assert lock_json(read_lock(path)) == text


def test_format_1_lock_reads_with_no_recognition_texts_and_writes_format_2(
    tmp_path: Path,
) -> None:
    lock = first_build()
    data = json.loads(lock_bytes(lock))
    data["format"] = 1
    for entry in data["notes"].values():
        for name in ("front", "back", "source"):
            del entry[name]
    path = tmp_path / "deck.lock.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    old = read_lock(path)
    assert old == lock and all(n.recognition() == ("", "", "") for n in old.notes.values())
    assert json.loads(lock_bytes(old))["format"] == 2 == FORMAT


def test_missing_lock_is_empty(tmp_path: Path) -> None:
    assert read_lock(tmp_path / "none.lock.json") == Lock()


def test_corrupt_lock_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "deck.lock.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CardsError) as info:
        read_lock(path)
    assert str(info.value).startswith(f"{path}: lock file is not valid JSON (line 1:")
    assert "restore it from version control" in str(info.value)


def test_damaged_entry_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "deck.lock.json"
    path.write_text(json.dumps({"format": 1, "notes": {"x": {"hash": 1}}, "notetypes": {}}))
    with pytest.raises(CardsError, match="lock file is damaged"):
        read_lock(path)


def test_newer_lock_format_asks_for_an_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "deck.lock.json"
    path.write_text(json.dumps({"format": FORMAT + 1, "notes": {}, "notetypes": {}}))
    with pytest.raises(CardsError) as info:
        read_lock(path)
    assert str(info.value) == (
        f"{path}: lock file format {FORMAT + 1} is newer than this mlops-cards understands "
        f"({FORMAT}); upgrade mlops-cards"
    )


def test_differences_name_each_note() -> None:
    lock = first_build()
    update = update_lock(lock, [make_note("Q1", "uno"), make_note("Q3", "three")], [NT], 2000)
    lines = lock_differences(lock, update.lock)
    guid = {k: make_note(k, "").guid for k in ("Q1", "Q2", "Q3")}
    assert sorted(lines) == sorted(
        [
            f"changed note lesson-a/question/Q1 ({guid['Q1']})",
            f"retired note lesson-a/question/Q2 ({guid['Q2']})",
            f"new note lesson-a/question/Q3 ({guid['Q3']})",
        ]
    )
    assert lock_differences(update.lock, update.lock) == []


TEXT = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    notes=st.dictionaries(
        TEXT,
        st.builds(
            LockedNote,
            hash=TEXT,
            mod=st.integers(0, 2**40),
            lesson=TEXT,
            kind=TEXT,
            key=TEXT,
            notetype=st.integers(1, 2**40),
            deck=TEXT,
            fields=st.lists(TEXT, max_size=3).map(tuple),
            tags=st.lists(TEXT, max_size=3).map(tuple),
            retired=st.booleans(),
            front=TEXT,
            back=TEXT,
            source=TEXT,
        ),
        max_size=4,
    )
)
def test_lock_text_is_what_json_dumps_writes(notes: dict[str, LockedNote]) -> None:
    """The lock is written note by note without `json.dumps(indent=2)` (too slow for 20,000
    notes); it must be the very text that call gives."""
    lock = Lock(notes=notes, notetypes={"7": LockedNoteType("Basic", "h", 5)})
    expected = {
        "format": FORMAT,
        "notes": {
            guid: {
                **{k: v for k, v in asdict(n).items() if k != "retired"},
                **({"retired": True} if n.retired else {}),
            }
            for guid, n in notes.items()
        },
        "notetypes": {"7": {"name": "Basic", "hash": "h", "mod": 5}},
    }
    text = json.dumps(expected, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert lock_bytes(lock) == text.encode()
