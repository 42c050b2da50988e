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
