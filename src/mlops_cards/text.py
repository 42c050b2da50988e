"""Small wording helpers shared by the commands' output."""

from __future__ import annotations


def plural(count: int, word: str) -> str:
    """`1 lesson`, `2 lessons`: the count and the word, with an `s` unless the count is one."""
    return f"{count} {word}{'s' if count != 1 else ''}"
