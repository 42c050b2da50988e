import io
import json
import sqlite3
import zipfile
from dataclasses import replace
from pathlib import Path

from deck_helpers import MODEL_ID, QUESTION, make_deck, make_note
from mlops_cards.anki_export import apkg_bytes


def collection(data: bytes, tmp_path: Path) -> sqlite3.Connection:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        (tmp_path / "c.anki2").write_bytes(archive.read("collection.anki2"))
    return sqlite3.connect(tmp_path / "c.anki2")


def test_same_deck_gives_same_bytes() -> None:
    deck = make_deck([make_note("Q1", "one", mod=1000), make_note("Q2", "two", mod=2000)])
    assert apkg_bytes(deck) == apkg_bytes(deck)


def test_each_note_keeps_its_own_mod_and_guid(tmp_path: Path) -> None:
    notes = [make_note("Q1", "one", mod=1000), make_note("Q2", "two", mod=2000)]
    db = collection(apkg_bytes(make_deck(notes, notetype_mod=1500)), tmp_path)
    rows = dict(db.execute("SELECT guid, mod FROM notes").fetchall())
    assert rows == {notes[0].guid: 1000, notes[1].guid: 2000}
    card_mods = sorted(m for (m,) in db.execute("SELECT mod FROM cards"))
    assert card_mods == [1000, 2000]
    models = json.loads(db.execute("SELECT models FROM col").fetchone()[0])
    model = models[str(MODEL_ID)]
    assert model["mod"] == 1500
    assert [(f["name"], f["id"]) for f in model["flds"]] == list(QUESTION.fields)
    assert [(t["name"], t["id"]) for t in model["tmpls"]] == [t[:2] for t in QUESTION.templates]


def test_zip_entries_are_fixed_and_media_sorted(tmp_path: Path) -> None:
    (tmp_path / "b.png").write_bytes(b"bee")
    (tmp_path / "a.png").write_bytes(b"ay")
    deck = make_deck([make_note("Q1", "<img src='a.png'>", mod=1000)])
    media = (("b.png", tmp_path / "b.png"), ("a.png", tmp_path / "a.png"))
    deck = replace(deck, media=media)
    with zipfile.ZipFile(io.BytesIO(apkg_bytes(deck))) as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == ["collection.anki2", "media", "0", "1"]
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert {i.external_attr >> 16 for i in infos} == {0o100644}
        assert json.loads(archive.read("media")) == {"0": "a.png", "1": "b.png"}
        assert archive.read("0") == b"ay"
