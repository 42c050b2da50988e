"""Write an .apkg with genanki — the only module that imports it — byte-reproducibly.

genanki gives every note and note type one build timestamp and writes zip entries with the
current time. We let it fill an SQLite collection, then set each note's and note type's `mod`
from the lock, and zip the result ourselves with fixed entry dates, permissions and order.
"""

from __future__ import annotations

import io
import json
import sqlite3
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_cards.deckdata import DeckNote, ExportDeck, NoteTypeLike
from mlops_cards.limits import read_media
from mlops_cards.render import clean_field, plain_name, plain_tag

if TYPE_CHECKING:  # imported where used: a build whose .apkg is cached never loads genanki
    import genanki

# 1980-01-01 is the earliest date a zip entry can hold; any fixed value would do.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o100644 << 16  # a regular file, rw-r--r--


def _model(notetype: NoteTypeLike) -> genanki.Model:
    import genanki

    # Field and template ids let Anki (>= 2.1.67) merge a changed note type instead of copying it.
    fields = [{"name": name, "id": fid} for name, fid in notetype.fields]
    templates = [
        {"name": name, "id": tid, "qfmt": qfmt, "afmt": afmt}
        for name, tid, qfmt, afmt in notetype.templates
    ]
    return genanki.Model(
        model_id=notetype.model_id,
        name=notetype.name,
        fields=fields,
        templates=templates,
        css=notetype.css,
        model_type=genanki.Model.CLOZE if notetype.is_cloze else genanki.Model.FRONT_BACK,
    )


def _note(model: genanki.Model, note: DeckNote, media: set[str]) -> genanki.Note:
    import genanki

    fields = list(note.fields)
    if note.retired:  # republished from the lock file, which anyone may have edited
        fields = [clean_field(text, media) for text in fields]
    tags = [tag for tag in map(plain_tag, note.tags) if tag]
    return genanki.Note(model=model, fields=fields, tags=tags, guid=note.guid)


def _fill_collection(deck: ExportDeck, db_path: Path) -> None:
    import genanki

    models = {nt.model_id: _model(nt) for nt, _ in deck.notetypes}
    # Names and the description come from titles and the manifest: plain text, sanitised HTML.
    description = clean_field(deck.description)
    decks = {deck.name: genanki.Deck(deck.deck_id, plain_name(deck.name), description)}
    for name, deck_id in deck.subdecks:
        decks[name] = genanki.Deck(deck_id, plain_name(name))
    media = {name for name, _ in deck.media}
    for note in deck.notes:
        decks[note.deck].add_note(_note(models[note.notetype], note, media))
    for model in models.values():
        decks[deck.name].add_model(model)

    # Note and card ids come from this timestamp; the newest mod makes them reproducible.
    timestamp = max([n.mod for n in deck.notes] + [mod for _, mod in deck.notetypes] + [0])
    conn = sqlite3.connect(db_path)
    try:
        # A scratch file, read once: no syncing to disk, no rollback journal on disk (neither
        # changes the file's bytes).
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA journal_mode = MEMORY")
        cursor = conn.cursor()
        with warnings.catch_warnings():
            # genanki warns about HTML it does not know; our HTML comes from the renderer.
            warnings.simplefilter("ignore")
            written = _write_package(
                cursor, list(decks.values()), timestamp, count(timestamp * 1000)
            )
        _set_mods(cursor, deck, written)
        conn.commit()
    finally:
        conn.close()


def _write_package(
    cursor: sqlite3.Cursor, decks: list[genanki.Deck], timestamp: int, id_gen: Iterator[int]
) -> dict[str, Any]:
    """What `genanki.Package.write_to_db` leaves in the collection, row for row and value for
    value, without its quadratic cost: genanki rewrites the collection's whole decks and models
    JSON after each deck (a lesson is a deck), seconds of work for a thousand lessons. Here notes
    and cards are inserted in genanki's order and the decks JSON is written once, with its final
    value; the models are returned for `_set_mods`, which writes them once."""
    from genanki.apkg_col import APKG_COL
    from genanki.apkg_schema import APKG_SCHEMA

    cursor.executescript(APKG_SCHEMA)
    cursor.executescript(APKG_COL)
    (decks_json,) = cursor.execute("SELECT decks FROM col").fetchone()
    deck_items = {k: _json_item(k, v) for k, v in json.loads(decks_json).items()}
    (models_json,) = cursor.execute("SELECT models FROM col").fetchone()
    models: dict[str, Any] = json.loads(models_json)
    for deck in decks:
        key = str(deck.deck_id)
        deck_items[key] = _json_item(key, deck.to_json())
        for note in deck.notes:
            deck.add_model(note.model)
        # A model ends up naming the last deck that holds it, as after genanki's last rewrite.
        for model in deck.models.values():
            models[str(model.model_id)] = model.to_json(timestamp, deck.deck_id)
        for note in deck.notes:
            note.write_to_db(cursor, timestamp, deck.deck_id, id_gen)
    cursor.execute("UPDATE col SET decks = ?", ("{" + ", ".join(deck_items.values()) + "}",))
    # Through JSON and back, as genanki's stored text was read back.
    return dict(json.loads(json.dumps(models)))


def _json_item(key: str, value: object) -> str:
    return f"{json.dumps(key)}: {json.dumps(value)}"


def _set_mods(cursor: sqlite3.Cursor, deck: ExportDeck, models: dict[str, Any]) -> None:
    # By rowid and the nid index: a lookup by guid would scan the notes table once per note.
    note_ids = dict(cursor.execute("SELECT guid, id FROM notes").fetchall())
    updates = [(note.mod, note_ids[note.guid]) for note in deck.notes]
    cursor.executemany("UPDATE notes SET mod = ? WHERE id = ?", updates)
    cursor.executemany("UPDATE cards SET mod = ? WHERE nid = ?", updates)
    for notetype, mod in deck.notetypes:
        models[str(notetype.model_id)]["mod"] = mod
    cursor.execute("UPDATE col SET models = ?", (json.dumps(models, sort_keys=True),))


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # unix, so the permission bits below mean the same everywhere
    info.external_attr = _FILE_MODE
    return info


def apkg_bytes(deck: ExportDeck) -> bytes:
    """The .apkg for `deck`: same input, same bytes (no clock, no hash seed, no timezone)."""
    with tempfile.TemporaryDirectory(prefix="mlops-cards-") as tmp:
        db_path = Path(tmp) / "collection.anki2"
        _fill_collection(deck, db_path)
        collection = db_path.read_bytes()

    media = sorted(deck.media)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(_entry("collection.anki2"), collection, compresslevel=6)
        index = {str(i): name for i, (name, _) in enumerate(media)}
        archive.writestr(_entry("media"), json.dumps(index, ensure_ascii=False), compresslevel=6)
        for i, (_, path) in enumerate(media):
            archive.writestr(_entry(str(i)), read_media(path), compresslevel=6)
    return buffer.getvalue()
