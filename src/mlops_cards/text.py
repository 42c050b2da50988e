"""Small text helpers: the commands' wording, and Markdown inline source as plain text (for
the extractor, the card-quality rules and clozes alike)."""

from __future__ import annotations

import re


def plural(count: int, word: str) -> str:
    """`1 lesson`, `2 lessons`: the count and the word, with an `s` unless the count is one."""
    return f"{count} {word}{'s' if count != 1 else ''}"


_LINK = re.compile(r"!?\[([^\[\]]*)\]\([^()]*(?:\([^()]*\)[^()]*)*\)")
_HTML_TAG = re.compile(r"<[^<>\n]+>")
_EMPHASIS = re.compile(r"\*\*|__|\*|~~")
_ATTRIBUTE = re.compile(r"\s*\{[:#][^{}\n]*\}")


def plain_text(markdown: str) -> str:
    """Markdown inline source to plain text: no emphasis, backticks, links or HTML tags."""
    text = _LINK.sub(r"\1", markdown) if "](" in markdown else markdown
    if "<" in text:
        text = _HTML_TAG.sub("", text)
    text = text.replace("`", "")
    if "*" in text or "__" in text or "~~" in text:
        text = _EMPHASIS.sub("", text)
    if "{" in text:
        text = _ATTRIBUTE.sub("", text)
    return " ".join(text.split())  # `str.split()` splits on exactly what `\s` matches
