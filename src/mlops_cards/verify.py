"""Check a built deck with the real Anki engine, as a learner's Anki would see it.

A fresh scratch collection imports the deck to count notes, cards, empty cards and missing
media. With a previous release, a second scratch collection imports the old deck first and the
new one over it with Anki's default options, which is exactly what a learner upgrading does.
Needs the optional `anki` package (`pip install 'mlops-cards[anki]'`).
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mlops_cards.atomic import recover_if_idle
from mlops_cards.errors import CardsError
from mlops_cards.identity import upgrade_events
from mlops_cards.limits import MAX_APKG_UNPACKED_BYTES, MAX_ZIP_RATIO, MB, size_text

INSTALL_HINT = "verifying a deck needs the Anki engine: pip install 'mlops-cards[anki]'"


@dataclass(frozen=True)
class Upgrade:
    """What importing the new deck over the previous one does to a learner's collection."""

    new: int
    updated: int
    unchanged: int
    conflicting: int
    notetypes_copied: int
    identity: tuple[str, ...] = ()  # notes that moved lesson or changed label (identity.py)


@dataclass(frozen=True)
class Verification:
    notes: int
    cards: int
    empty_cards: int
    missing_media: tuple[str, ...]
    upgrade: Upgrade | None = None
    cloze_problems: tuple[str, ...] = ()  # "guid: what is wrong", per cloze note

    @property
    def ok(self) -> bool:
        clean = self.empty_cards == 0 and not self.missing_media and not self.cloze_problems
        if self.upgrade is None:
            return clean
        return clean and self.upgrade.conflicting == 0 and self.upgrade.notetypes_copied == 0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["missing_media"] = list(self.missing_media)
        data["cloze_problems"] = list(self.cloze_problems)
        return data


def _open(collection_class: Any, folder: Path) -> Any:
    folder.mkdir(parents=True)
    return collection_class(str(folder / "collection.anki2"))


def _collection_class() -> Any:
    try:
        from anki.collection import Collection
    except ImportError as exc:
        raise CardsError(INSTALL_HINT) from exc
    return Collection


def _import(col: Any, apkg: Path) -> Any:
    """Import with the options Anki's import dialog starts with; returns Anki's import log."""
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    request = ImportAnkiPackageRequest(
        package_path=str(apkg.resolve()), options=ImportAnkiPackageOptions()
    )
    try:
        return col.import_anki_package(request).log
    except Exception as exc:  # the engine raises its own error types for unreadable packages
        raise CardsError(f"{apkg}: Anki cannot import this file: {exc}") from exc


def _check_file(apkg: Path) -> None:
    recover_if_idle(apkg.parent)  # a build killed during its renames: finish them first
    if not apkg.is_file():
        raise CardsError(f"{apkg}: no such deck file")
    _check_archive(apkg)


def _check_archive(apkg: Path) -> None:
    """Refuse a zip bomb before Anki unpacks it: the entries' sizes must add up to at most
    MAX_APKG_UNPACKED_BYTES, none above 1 MB may be compressed more than MAX_ZIP_RATIO times,
    and each entry's content must be the size and CRC its header says (read here, bounded by
    those sizes), so the header cannot lie to the importer."""
    try:
        with zipfile.ZipFile(apkg) as archive:
            entries = archive.infolist()
            total = sum(entry.file_size for entry in entries)
            if total > MAX_APKG_UNPACKED_BYTES:
                raise CardsError(
                    f"{apkg}: unpacks to {size_text(total)}, more than the "
                    f"{size_text(MAX_APKG_UNPACKED_BYTES)} a deck may hold (a zip bomb?)"
                )
            for entry in entries:
                ratio = entry.file_size / max(entry.compress_size, 1)
                if entry.file_size > MB and ratio > MAX_ZIP_RATIO:
                    raise CardsError(
                        f"{apkg}: {entry.filename!r} is compressed {ratio:,.0f} times; no deck "
                        f"file is more than {MAX_ZIP_RATIO} (a zip bomb?)"
                    )
            for entry in entries:
                with archive.open(entry) as handle:
                    while handle.read(MB):
                        pass
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        ValueError,
        NotImplementedError,
    ) as exc:
        raise CardsError(f"{apkg}: not a readable .apkg (zip) file: {exc}") from None


def verify_deck(apkg: Path, previous: Path | None = None) -> Verification:
    """Import `apkg` into scratch collections and report what a learner gets."""
    collection_class = _collection_class()
    _check_file(apkg)
    if previous is not None:
        _check_file(previous)
    with tempfile.TemporaryDirectory(prefix="mlops-cards-verify-") as scratch:
        col = _open(collection_class, Path(scratch) / "fresh")
        try:
            _import(col, apkg)
            notes = col.note_count()
            cards = col.card_count()
            empty = sum(len(n.card_ords) for n in col.get_empty_cards().notes)
            missing = tuple(sorted(col.media.check().missing))
            clozes = _cloze_problems(col)
        finally:
            col.close()
        upgrade = (
            None if previous is None else _upgrade(collection_class, Path(scratch), apkg, previous)
        )
    return Verification(notes, cards, empty, missing, upgrade, clozes)


_CLOZE_OPEN = re.compile(r"\{\{c(\d+)::")


def _cloze_problems(col: Any) -> tuple[str, ...]:
    """Cloze notes whose cards are not the ones their text asks for: markers that do not pair
    up (a `}}` in the text closes one early), numbers that skip (`c2` without `c1`), or a card
    count that differs from the numbers written. The tool writes `c1` only, and more only
    where the author wrote them; any other `{{`/`}}` in a field is made inert."""
    problems = []
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        if note.note_type()["type"] != 1:  # 1: a cloze note type
            continue
        text = note.fields[0]
        numbers = sorted({int(n) for n in _CLOZE_OPEN.findall(text)})
        opened, closed = len(_CLOZE_OPEN.findall(text)), text.count("}}")
        if opened != closed:
            problems.append(f"{note.guid}: {opened} cloze markers opened, {closed} `}}}}` closing")
        elif numbers != list(range(1, len(numbers) + 1)):
            problems.append(f"{note.guid}: cloze numbers {numbers} do not run from c1")
        elif len(note.card_ids()) != len(numbers):
            problems.append(
                f"{note.guid}: {len(note.card_ids())} cards for cloze numbers {numbers}"
            )
    return tuple(problems)


@contextmanager
def imported_collection(apkg: Path) -> Iterator[Any]:
    """A scratch collection holding `apkg` as a learner's fresh import (the preview renders
    its cards); removed on exit."""
    collection_class = _collection_class()
    _check_file(apkg)
    with tempfile.TemporaryDirectory(prefix="mlops-cards-scratch-") as scratch:
        col = _open(collection_class, Path(scratch) / "collection")
        try:
            _import(col, apkg)
            yield col
        finally:
            col.close()


def _upgrade(collection_class: Any, scratch: Path, apkg: Path, previous: Path) -> Upgrade:
    col = _open(collection_class, scratch / "upgrade")
    try:
        _import(col, previous)
        before = {nt.id: nt.name for nt in col.models.all_names_and_ids()}
        items = _items(col)
        log = _import(col, apkg)
        after = {nt.id: nt.name for nt in col.models.all_names_and_ids()}
        events = upgrade_events(items, _items(col))
    finally:
        col.close()
    # A note type the learner already has, under a new id and a "+"-suffixed name, is a copy:
    # Anki made it because the incoming one could not be merged, and its notes stop updating.
    known = set(before.values())
    copied = [name for i, name in after.items() if i not in before and name.rstrip("+") in known]
    return Upgrade(
        new=len(log.new),
        updated=len(log.updated),
        unchanged=len(log.duplicate),
        conflicting=len(log.conflicting),
        notetypes_copied=len(copied),
        identity=events,
    )


def _items(col: Any) -> dict[str, tuple[str, str, str]]:
    """(lesson, kind, label or term name) of every note, by GUID, from its tags and fields."""
    label_at = {}
    for model in col.models.all():
        names = [f["name"] for f in model["flds"]]
        label_at[model["id"]] = next((names.index(n) for n in ("Label", "Term") if n in names), -1)
    items = {}
    for guid, mid, tags, flds in col.db.all("SELECT guid, mid, tags, flds FROM notes"):
        tagged = dict(
            t.split("::", 1) for t in tags.split() if t.startswith(("lesson::", "kind::"))
        )
        fields = flds.split("\x1f")
        at = label_at.get(mid, -1)
        label = fields[at] if 0 <= at < len(fields) else ""
        items[guid] = (tagged.get("lesson", ""), tagged.get("kind", ""), label)
    return items


def format_verification(apkg: Path, result: Verification) -> str:
    lines = [
        f"{apkg}: {result.notes} notes, {result.cards} cards",
        f"  empty cards: {result.empty_cards}",
        f"  missing media: {', '.join(result.missing_media) or 'none'}",
        *(f"  cloze: {problem}" for problem in result.cloze_problems),
    ]
    if result.upgrade is not None:
        u = result.upgrade
        lines.append(
            f"  upgrade: {u.new} new, {u.updated} updated, {u.unchanged} unchanged, "
            f"{u.conflicting} conflicting, {u.notetypes_copied} note types copied"
        )
        lines.extend(f"  identity: {event}" for event in u.identity)
    lines.append("  OK" if result.ok else "  PROBLEMS: see above")
    return "\n".join(lines)
