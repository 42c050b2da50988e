"""`new-deck`: set up a course repository, a deck manifest for a folder of lessons.

The manifest explains every setting in a comment, so it is the documentation an adopter reads
first; the settings left at their defaults are written out (or commented out) to be changed in
place. An existing manifest is never replaced, and the file appears whole or not at all.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from mlops_cards.atomic import _stage
from mlops_cards.discover import slugify
from mlops_cards.errors import CardsError
from mlops_cards.resolve import DECKS_DIR, LESSON_SUFFIX, MANIFEST_SUFFIX

_PLAIN = re.compile(r"[A-Za-z0-9_.(][\w .,()/+-]*")  # safe unquoted in YAML, flow lists included


@dataclass(frozen=True)
class NewDeck:
    path: Path  # decks/<slug>.yaml
    text: str
    lessons: int  # lesson files the glob matches today
    lessons_dir: Path


def _scalar(value: str) -> str:
    """`value` as a YAML scalar: plain when that reads back the same, else double-quoted."""
    if _PLAIN.fullmatch(value) and yaml.safe_load(value) == value:
        return value
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML double-quoted one


def _lesson_files(folder: Path) -> tuple[int, bool]:
    """How many lessons are below `folder`, and whether any is in a subfolder."""
    count, nested = 0, False
    for here, subfolders, names in os.walk(folder):
        subfolders[:] = [n for n in subfolders if not n.startswith(".")]
        found = sum(1 for n in names if n.endswith(LESSON_SUFFIX))
        count += found
        nested = nested or (found > 0 and Path(here) != folder)
    return count, nested


def manifest_text(name: str, lessons: str, output: str, shown_dir: str) -> str:
    """The manifest: every setting with the comment that explains it."""
    return f"""\
# Deck manifest, written by `mlops-cards new-deck {shown_dir}`. Paths are relative to this
# file's folder ({DECKS_DIR}/). Build with `mlops-cards build` (every manifest in {DECKS_DIR}/).

# The deck's name in Anki; each lesson becomes a subdeck below it. The deck's id is made from
# the name, so before renaming a published deck add `id:` with its old id (learners keep it).
name: {_scalar(name)}

# Shown on the deck's overview screen in Anki.
description: {_scalar(f"Flashcards for the lessons in {shown_dir}.")}

# The lessons: a path or glob, or a list of them (`**/*.md` takes every folder below).
lessons: [{_scalar(lessons)}]

# Which cards to make: a question card per answered question, one per learning objective, a
# term card per term (reverse: also definition -> term), and cloze cards where a term's
# sentence says more than its definition or its YAML entry gives `cloze:`.
cards: {{questions: true, objectives: true, terms: true, reverse: false, cloze: true}}

# Card-quality rules `check` warns about: answers over this many words, lists over this many
# items (the defaults shown). Uncomment to change them.
# quality: {{max_answer_words: 25, max_list_items: 3}}

# Your own copy of the note types (front and back HTML per card kind, style.css) to restyle the
# cards; without it, the ones shipped with mlops-cards. Copy them, then uncomment:
# templates: ../card_templates

# Printable checklists written beside the deck by `build`: html, md, pdf (pdf needs
# `pip install 'mlops-cards[pdf]'`); [] for none.
checklists: [html, md]

# The outputs' base name: dist/{output}.apkg, dist/{output}-checklist.html, ... The lock file,
# {DECKS_DIR}/{output}.lock.json, keeps unchanged cards unchanged for learners: commit it.
output: {_scalar(output)}
"""


def new_deck(lessons_dir: Path, name: str | None = None, root: Path | None = None) -> NewDeck:
    """The manifest for the lessons below `lessons_dir`, named `name` (default: the folder's
    name), at `decks/<slug>.yaml` under `root`. CardsError when there are no lessons."""
    base = root or Path()
    count, nested = _lesson_files(lessons_dir)
    if not count:
        raise CardsError(
            f"{lessons_dir}: no lessons (*{LESSON_SUFFIX} files) below this folder "
            "(give the folder that holds the lessons)"
        )
    folder = lessons_dir.resolve()
    deck_name = (name or folder.name).strip()
    if not deck_name or "::" in deck_name:
        raise CardsError(f"{deck_name!r}: not a deck name (give --name, without `::`)")
    slug = slugify(deck_name)
    decks = base / DECKS_DIR
    relative = Path(os.path.relpath(folder, decks.resolve())).as_posix()
    pattern = f"{relative}/{'**/' if nested else ''}*{LESSON_SUFFIX}"
    shown_dir = Path(os.path.relpath(folder, base.resolve())).as_posix()
    text = manifest_text(deck_name, pattern, slug, shown_dir)
    return NewDeck(decks / (slug + MANIFEST_SUFFIX), text, count, lessons_dir)


def write_new(path: Path, text: str) -> None:
    """Write `path` whole (a flushed temporary file linked into place), refusing to replace a
    file already there, even one made a moment ago."""
    exists = f"{path}: already exists; edit it, or give another --name for a second deck"
    if path.exists():
        raise CardsError(exists)
    tmp = _stage(path, text)  # `write_atomic`'s own staging: flushed, with the usual mode
    try:
        try:
            os.link(tmp, path)  # fails if the file exists: never replaces it
        except FileExistsError:
            raise CardsError(exists) from None
        except OSError:  # no hard links on this file system: rename, having looked first
            if path.exists():
                raise CardsError(exists) from None
            os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
