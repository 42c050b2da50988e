"""Stable identity for what Anki matches on: note GUIDs, deck and subdeck ids, tags.

Everything here is a pure function of names and keys (sha256, never Python's `hash()`), so the
same lesson gives the same GUID on every machine, whatever PYTHONHASHSEED says.
"""

from __future__ import annotations

import hashlib
import re

# Anki's own GUID alphabet (base91 without the characters that need escaping in its text formats).
_BASE91 = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"
)

# Deck ids are Anki timestamps in milliseconds in spirit; anything in [2**30, 2**52) is safe for
# JavaScript and SQLite and never collides with the Default deck (id 1).
_ID_LOW = 1 << 30
_ID_SPAN = (1 << 52) - _ID_LOW


def _digest(*parts: str) -> bytes:
    # A separator that cannot appear in keys keeps ("a b", "c") apart from ("a", "b c").
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()


def note_guid(lesson_id: str, kind: str, key: str) -> str:
    """The GUID of a note: depends on (lesson id, kind, key) only, so text edits keep it."""
    number = int.from_bytes(_digest("mlops-cards-note", lesson_id, kind, key)[:8], "big")
    chars = []
    while number:
        number, digit = divmod(number, len(_BASE91))
        chars.append(_BASE91[digit])
    return "".join(reversed(chars)) or _BASE91[0]


def stable_id(name: str, namespace: str = "deck") -> int:
    """An Anki id derived from a name: same name, same id; never 1 (Anki's Default deck)."""
    number = int.from_bytes(_digest("mlops-cards-" + namespace, name)[:8], "big")
    return _ID_LOW + number % _ID_SPAN


def safe_tag(tag: str) -> str:
    """Anki tags cannot hold whitespace: runs of it become `_`."""
    return re.sub(r"\s+", "_", tag.strip())


def note_tags(lesson_id: str, kind: str, author_tags: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Generated `lesson::`/`kind::` tags plus the author's, sorted and without duplicates."""
    tags = {f"lesson::{safe_tag(lesson_id)}", f"kind::{safe_tag(kind)}"}
    tags.update(safe_tag(t) for t in author_tags if t.strip())
    return tuple(sorted(tags))


def subdeck_name(deck: str, number: int, title: str) -> str:
    """`Deck::NN Title`; `::` inside the title would nest decks, so it is flattened."""
    clean = re.sub(r"\s+", " ", title.replace("::", ":")).strip()
    return f"{deck}::{number:02d} {clean}"


def upgrade_events(
    before: dict[str, tuple[str, str, str]], after: dict[str, tuple[str, str, str]]
) -> tuple[str, ...]:
    """What an import did to notes the learner had, from (lesson, kind, label) by GUID before
    and after it: lessons their notes moved between, labels and term names that changed."""
    moved: dict[tuple[str, str], int] = {}
    events = set()
    for guid, (lesson, kind, label) in before.items():
        new = after.get(guid)
        if new is None or new == (lesson, kind, label):
            continue
        if new[0] != lesson:
            moved[(lesson, new[0])] = moved.get((lesson, new[0]), 0) + 1
        elif new[2] != label:
            what = "renamed term" if kind == "term" else "relabelled"
            old_label = label or "(no label)"
            events.add(f"{what}: {lesson}/{kind}/{old_label} → {new[0]}/{kind}/{new[2]}")
    for (old, new_lesson), count in moved.items():
        events.add(f"moved: {count} note(s) from lesson {old} → {new_lesson}")
    return tuple(sorted(events))
