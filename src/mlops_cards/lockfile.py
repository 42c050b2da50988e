"""The lock file: what was published, so that a rebuild keeps every note's GUID and `mod`.

The lock is the identity registry (format 2): for every note ever published it records the item
the note belongs to (lesson, kind, key) and what recognises that item again when keys, files or
lessons change: its front and answer as normalised plain text and the lesson's source path.
`mlops_cards.matching` reads them to give each item of a build its published GUID. A format-1
lock has no such texts; they are derived from the published fields when it is read for
matching (`matching.recognise`), so no GUID changes.

Anki updates a note on re-import only when the incoming `mod` is strictly newer. So a note whose
content changed gets a new, later `mod`; an unchanged one keeps its old `mod` (a learner's own edit
survives, and the build is reproducible). Notes stay in the lock after they leave the source, so
their content can still be published (tagged `retired`) and a revived note keeps its history.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mlops_cards.deckdata import DeckNote, NoteTypeLike
from mlops_cards.errors import CardsError
from mlops_cards.limits import MAX_LOCK_BYTES, MAX_MOD, read_limited
from mlops_cards.models import NoteKind, note_kind

FORMAT = 2
RETIRED_TAG = "retired"


@dataclass(frozen=True)
class LockedNote:
    hash: str
    mod: int
    lesson: str
    kind: NoteKind
    key: str
    notetype: int
    deck: str
    fields: tuple[str, ...]  # as published, so a retired note can still be published
    tags: tuple[str, ...]
    retired: bool = False
    # Recognition (format 2): normalised plain text of the front (a term: its name) and of
    # the answer (a term: its definition), and the lesson's source path; "" when unknown.
    front: str = ""
    back: str = ""
    source: str = ""

    def recognition(self) -> tuple[str, str, str]:
        return (self.front, self.back, self.source)


@dataclass(frozen=True)
class LockedNoteType:
    name: str
    hash: str
    mod: int


@dataclass(frozen=True)
class Lock:
    notes: dict[str, LockedNote] = field(default_factory=dict)  # by GUID
    notetypes: dict[str, LockedNoteType] = field(default_factory=dict)  # by model id


@dataclass(frozen=True)
class LockUpdate:
    """The lock after this build and how each note compares with the old one."""

    lock: Lock
    notes: tuple[DeckNote, ...]  # to publish, with their mods (retired ones included if asked)
    notetype_mods: dict[int, int]
    new: tuple[DeckNote, ...]
    changed: tuple[DeckNote, ...]
    unchanged: tuple[DeckNote, ...]
    retired: tuple[DeckNote, ...]  # gone from the source (published only with retire=True)
    notetypes_changed: tuple[str, ...]  # names of note types new or changed


def _bad(path: Path, what: str) -> CardsError:
    return CardsError(
        f"{path}: {what} (restore it from version control, or delete it to start a new lock: "
        "every note then counts as new)"
    )


def lock_digest(path: Path) -> str | None:
    """The sha256 of the lock file's bytes; None when there is none or it cannot be read (then
    `read_lock` says why)."""
    try:
        raw = read_limited(path, MAX_LOCK_BYTES, str(path), "lock file", "")
    except (OSError, CardsError):
        return None
    return hashlib.sha256(raw).hexdigest()


def read_lock(path: Path) -> Lock:
    """Read a lock file; a missing file is an empty lock."""
    try:
        text = _ascii_json(path)
    except FileNotFoundError:
        return Lock()
    except UnicodeDecodeError:
        raise _bad(path, "lock file is not UTF-8") from None
    except OSError as exc:
        raise CardsError(f"{path}: cannot read the lock file ({exc.strerror or exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _bad(path, f"lock file is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except RecursionError:  # thousands of nested brackets: no lock file looks like that
        raise _bad(path, "lock file is not valid JSON (nested too deeply)") from None
    if not isinstance(data, dict) or not isinstance(data.get("format"), int):
        raise _bad(path, "not a mlops-cards lock file (no format version)")
    if data["format"] > FORMAT:
        raise CardsError(
            f"{path}: lock file format {data['format']} is newer than this mlops-cards "
            f"understands ({FORMAT}); upgrade mlops-cards"
        )
    try:
        return Lock(
            notes={g: _note_from_json(v) for g, v in sorted(data["notes"].items())},
            notetypes={m: _notetype_from_json(v) for m, v in sorted(data["notetypes"].items())},
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _bad(path, f"lock file is damaged ({type(exc).__name__}: {exc})") from None


_NON_ASCII = re.compile(rb"[\x80-\xff]+")


def _ascii_json(path: Path) -> str:
    """The JSON text with every non-ASCII character written as a `\\u` escape: the same values
    once parsed, but a string of one byte a character. Decoded as is, one emoji would make
    Python hold the whole lock at 4 bytes a character (140 MB for a 35 MB lock). Every byte
    that is not ASCII is in some run decoded here, so a file that is not UTF-8 still fails."""

    def escape(match: re.Match[bytes]) -> bytes:
        return json.dumps(match.group().decode("utf-8")).strip('"').encode("ascii")

    raw = read_limited(path, MAX_LOCK_BYTES, str(path), "lock file", "it cannot be this big")
    escaped = _NON_ASCII.sub(escape, raw)
    del raw  # a large lock: never hold three copies of it at once
    return escaped.decode("ascii")


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def _mod(value: Any) -> int:
    """A `mod` (seconds since 1970) Anki and SQLite can store: genanki derives ids from it."""
    mod = _int(value)
    if not 0 <= mod <= MAX_MOD:
        raise ValueError(f"mod {mod} is not a time between 1970 and 2106")
    return mod


def _note_from_json(v: dict[str, Any]) -> LockedNote:
    return LockedNote(
        hash=_str(v["hash"]),
        mod=_mod(v["mod"]),
        lesson=_str(v["lesson"]),
        kind=note_kind(_str(v["kind"])),
        key=_str(v["key"]),
        notetype=_int(v["notetype"]),
        deck=_str(v["deck"]),
        fields=tuple(_str(f) for f in v["fields"]),
        tags=tuple(_str(t) for t in v["tags"]),
        retired=bool(v.get("retired", False)),
        front=_str(v.get("front", "")),
        back=_str(v.get("back", "")),
        source=_str(v.get("source", "")),
    )


def _notetype_from_json(v: dict[str, Any]) -> LockedNoteType:
    return LockedNoteType(name=_str(v["name"]), hash=_str(v["hash"]), mod=_mod(v["mod"]))


def lock_json(lock: Lock) -> str:
    """Diff-friendly text: sorted keys, one value per line, trailing newline."""
    return lock_bytes(lock).decode("utf-8")


def lock_bytes(lock: Lock) -> bytes:
    """`lock_json` as UTF-8, built note by note: one emoji in a field makes a Python string of
    the whole lock take 4 bytes a character, and `json.dumps(indent=2)` of it all at once holds
    every fragment too (over 500 MB for a 35 MB lock of 20,000 notes)."""
    notetypes = {
        mid: {"name": t.name, "hash": t.hash, "mod": t.mod} for mid, t in lock.notetypes.items()
    }
    if not lock.notes:
        data = {"format": FORMAT, "notes": {}, "notetypes": notetypes}
        return (json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()
    # The text of one json.dumps(data, sort_keys=True, indent=2), with the notes spliced in
    # where a placeholder stands; each note is indented two levels deeper than on its own.
    placeholder = "\0notes\0"
    data = {"format": FORMAT, "notes": placeholder, "notetypes": notetypes}
    before, after = json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False).split(
        json.dumps(placeholder), 1
    )
    out = io.BytesIO()  # one growing buffer, returned without a copy
    out.write(before.encode() + b"{\n")
    for i, guid in enumerate(sorted(lock.notes)):
        separator = ",\n" if i else ""
        out.write(f"{separator}    {_string(guid)}: {_note_text(lock.notes[guid])}".encode())
    out.write(b"\n  }" + after.encode() + b"\n")
    return out.getvalue()


# Strings as `json.dumps(ensure_ascii=False)` writes them, by the C encoder.
_string = json.JSONEncoder(ensure_ascii=False).encode


def _note_text(n: LockedNote) -> str:
    """`json.dumps(note, sort_keys=True, indent=2, ensure_ascii=False)`, each line indented two
    levels more, written out directly: indent=2 makes json use its pure-Python encoder, which
    took a second for 20,000 notes. (tests/test_lockfile.py compares the two.)"""

    def strings(values: tuple[str, ...]) -> str:
        if not values:
            return "[]"
        items = ",\n        ".join(_string(v) for v in values)
        return f"[\n        {items}\n      ]"

    retired = '\n      "retired": true,' if n.retired else ""
    return (
        f'{{\n      "back": {_string(n.back)},'
        f'\n      "deck": {_string(n.deck)},\n      "fields": {strings(n.fields)},'
        f'\n      "front": {_string(n.front)},'
        f'\n      "hash": {_string(n.hash)},\n      "key": {_string(n.key)},'
        f'\n      "kind": {_string(n.kind)},\n      "lesson": {_string(n.lesson)},'
        f'\n      "mod": {int(n.mod)},\n      "notetype": {int(n.notetype)},{retired}'
        f'\n      "source": {_string(n.source)},'
        f'\n      "tags": {strings(n.tags)}\n    }}'
    )


def _next_mod(old: int, now: int) -> int:
    # Strictly newer than what learners have, even when the clock (or SOURCE_DATE_EPOCH) lags.
    return max(old + 1, now)


def _locked(note: DeckNote, texts: tuple[str, str, str] = ("", "", "")) -> LockedNote:
    return LockedNote(
        hash=note.content_hash(),
        mod=note.mod,
        lesson=note.lesson_id,
        kind=note.kind,
        key=note.key,
        notetype=note.notetype,
        deck=note.deck,
        fields=note.fields,
        tags=note.tags,
        retired=note.retired,
        front=texts[0],
        back=texts[1],
        source=texts[2],
    )


def _from_locked(guid: str, entry: LockedNote) -> DeckNote:
    return DeckNote(
        guid=guid,
        lesson_id=entry.lesson,
        kind=entry.kind,
        key=entry.key,
        notetype=entry.notetype,
        fields=entry.fields,
        tags=entry.tags,
        deck=entry.deck,
        mod=entry.mod,
        retired=entry.retired,
    )


def update_lock(
    old: Lock,
    notes: list[DeckNote],
    notetypes: Sequence[NoteTypeLike],
    now: int,
    retire: bool = False,
    texts: Mapping[str, tuple[str, str, str]] | None = None,
) -> LockUpdate:
    """Compare this build's notes with the lock and decide every `mod`. `texts` (front,
    back, source by GUID, from `matching`) are recorded for recognising the notes again;
    a retired note keeps the ones it has in `old`."""
    texts = texts or {}
    new, changed, unchanged, retired, publish = [], [], [], [], []
    entries: dict[str, LockedNote] = {}
    for note in notes:
        before = old.notes.get(note.guid)
        if before is None:
            note = replace(note, mod=now)
            new.append(note)
        elif before.hash == note.content_hash():
            note = replace(note, mod=before.mod)
            unchanged.append(note)
        else:
            note = replace(note, mod=_next_mod(before.mod, now))
            changed.append(note)
        entries[note.guid] = _locked(note, texts.get(note.guid, ("", "", "")))
        publish.append(note)

    known_types = {t.model_id for t in notetypes}
    for guid, entry in old.notes.items():
        if guid in entries:
            continue
        gone = _from_locked(guid, entry)
        if retire and gone.notetype in known_types:
            tags = tuple(sorted({*gone.tags, RETIRED_TAG}))
            shown = replace(gone, tags=tags, retired=True)
            if shown.content_hash() != entry.hash:
                shown = replace(shown, mod=_next_mod(entry.mod, now))
            publish.append(shown)
            entries[guid] = _locked(shown, entry.recognition())
            retired.append(shown)
        else:
            entries[guid] = replace(entry, retired=True)
            retired.append(replace(gone, retired=True))

    types: dict[str, LockedNoteType] = {}
    mods: dict[int, int] = {}
    types_changed = []
    for nt in notetypes:
        mid = str(nt.model_id)
        digest = nt.content_hash()
        before_type = old.notetypes.get(mid)
        if before_type is None:
            mod = now
        elif before_type.hash == digest and before_type.name == nt.name:
            mod = before_type.mod
        else:
            mod = _next_mod(before_type.mod, now)
        if before_type is None or mod != before_type.mod:
            types_changed.append(nt.name)
        types[mid] = LockedNoteType(name=nt.name, hash=digest, mod=mod)
        mods[nt.model_id] = mod
    # Note types no longer used stay in the lock: dropping them would lose their mod.
    for mid, t in old.notetypes.items():
        types.setdefault(mid, t)

    return LockUpdate(
        lock=Lock(notes=dict(sorted(entries.items())), notetypes=dict(sorted(types.items()))),
        notes=tuple(publish),
        notetype_mods=mods,
        new=tuple(new),
        changed=tuple(changed),
        unchanged=tuple(unchanged),
        retired=tuple(retired),
        notetypes_changed=tuple(types_changed),
    )


def lock_differences(old: Lock, new: Lock) -> list[str]:
    """One line per note or note type whose lock entry would change, for `--frozen`."""
    notes = []
    for guid in old.notes.keys() | new.notes.keys():
        before, after = old.notes.get(guid), new.notes.get(guid)
        if before is not None and after is not None and not any(before.recognition()):
            after = replace(after, front="", back="", source="")  # a format-1 lock migrating
        if before == after:
            continue
        entry = after or before
        assert entry is not None
        what = "new" if before is None else "retired" if entry.retired else "changed"
        label = f"{entry.lesson}/{entry.kind}/{entry.key}"
        notes.append((label, f"{what} note {label} ({guid})"))
    types = []
    for mid in old.notetypes.keys() | new.notetypes.keys():
        if old.notetypes.get(mid) != new.notetypes.get(mid):
            name = (new.notetypes.get(mid) or old.notetypes[mid]).name
            what = "changed" if mid in old.notetypes else "new"
            types.append((name, f"{what} note type {name} ({mid})"))
    return [line for _, line in sorted(notes)] + [line for _, line in sorted(types)]
