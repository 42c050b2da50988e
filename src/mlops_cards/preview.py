"""Preview: every card of a deck, front and back, in one self-contained HTML page.

Authors see what learners will see without opening Anki. With the `anki` package the cards are
rendered by the real engine: the deck is built in memory as `build` would, imported into a
scratch collection, and each card's question and answer taken from Anki (cloze and reverse
cards included). Without it, our own small template renderer (`templating.py`) fills the same
templates; the page says which renderer made it.

The page needs no network: images are inlined as data: URIs, and math (`\\(…\\)`, `\\[…\\]`, what
Anki's MathJax typesets) is converted to MathML by latex2mathml, which browsers draw
themselves. The cards of one kind sit in a shadow root (declarative shadow DOM) with their
note type's CSS and Anki's `.card` class, so the card style applies as in Anki and the
page's own style cannot leak in.
"""

from __future__ import annotations

import base64
import html
import mimetypes
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal
from urllib.parse import unquote

from mlops_cards.anki_export import apkg_bytes
from mlops_cards.atomic import write_atomic
from mlops_cards.errors import CardsError, UsageError
from mlops_cards.manifest import DeckManifest
from mlops_cards.models import LessonContent, NoteKind, card_kind_of
from mlops_cards.notetypes import NoteType
from mlops_cards.pages import html_filter, render
from mlops_cards.stages import (
    DeckNotes,
    export_deck,
    load_lessons,
    make_notes,
    unanswered_lines,
    validate_deck,
)
from mlops_cards.templating import RenderedCard, render_cards
from mlops_cards.verify import imported_collection

__all__ = [
    "Preview",
    "PreviewCard",
    "PreviewDeck",
    "PreviewLesson",
    "RendererChoice",
    "card_page",
    "make_preview",
    "preview_html",
    "write_preview",
]

RendererChoice = Literal["auto", "anki", "ours"]

# Kinds in the order an author reads a lesson, with their section titles.
KIND_TITLES: dict[NoteKind, str] = {
    "question": "Questions",
    "extra": "Extra cards",
    "objective": "Learning objectives",
    "term": "Terms",
    "cloze": "Cloze",
}
ANKI_HINT = "--renderer anki needs the Anki engine: pip install 'mlops-cards[anki]'"


@dataclass(frozen=True)
class PreviewCard:
    kind: NoteKind
    key: str
    template: str  # the card template's name ("Definition to Term", "Cloze", ...)
    ordinal: int  # Anki's card ord: the body gets class `card{ordinal + 1}`
    source: str  # "lesson.md:12"
    front: str  # HTML, images inlined
    back: str
    css: str  # the note type's CSS


@dataclass(frozen=True)
class PreviewLesson:
    title: str
    path: str
    subdeck: str
    notes: int
    cards: tuple[PreviewCard, ...]


@dataclass(frozen=True)
class PreviewDeck:
    name: str
    lessons: tuple[PreviewLesson, ...]
    unanswered: tuple[str, ...]  # "path:line: kind key: text"
    warnings: tuple[str, ...]

    @property
    def cards(self) -> int:
        return sum(len(lesson.cards) for lesson in self.lessons)

    @property
    def notes(self) -> int:
        return sum(lesson.notes for lesson in self.lessons)


@dataclass(frozen=True)
class Preview:
    decks: tuple[PreviewDeck, ...]
    engine: Literal["anki", "ours"]
    renderer: str  # what the page says about the renderer
    page_templates: Path | None = None  # a manifest's `page_templates:`, for preview.html

    def summary(self) -> str:
        cards = sum(d.cards for d in self.decks)
        notes = sum(d.notes for d in self.decks)
        lessons = sum(len(d.lessons) for d in self.decks)
        unanswered = sum(len(d.unanswered) for d in self.decks)
        engine = "Anki engine" if self.engine == "anki" else "own renderer"
        return (
            f"{cards} cards from {notes} notes in {lessons} lesson{'s' if lessons != 1 else ''}"
            f" ({engine}); unanswered: {unanswered}"
        )


# --- rendering ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _DeckSource:
    """One deck as `build` would make it, before any lock: its lessons and notes."""

    manifest: DeckManifest
    contents: tuple[LessonContent, ...]
    warnings: tuple[str, ...]
    made: DeckNotes
    notetypes: dict[int, NoteType]  # by model id


def _deck_source(manifest: DeckManifest) -> _DeckSource:
    loaded = load_lessons([str(p) for p in manifest.lessons])
    warnings = validate_deck(manifest.name, manifest.path, loaded)
    made = make_notes(manifest, loaded)
    return _DeckSource(
        manifest=manifest,
        contents=loaded.contents,
        warnings=tuple(d.format() for d in warnings),
        made=made,
        notetypes={t.model_id: t for t in made.notetypes.values()},
    )


def _engine(choice: RendererChoice) -> Literal["anki", "ours"]:
    if choice == "ours":
        return "ours"
    try:
        import anki.collection  # noqa: F401
    except ImportError:
        if choice == "anki":
            raise CardsError(ANKI_HINT) from None
        return "ours"
    return "anki"


def _renderer_description(engine: Literal["anki", "ours"]) -> str:
    if engine == "ours":
        try:
            import anki.collection  # noqa: F401
        except ImportError:
            return (
                "mlops-cards' own template renderer (install the Anki engine, "
                "pip install 'mlops-cards[anki]', to render through Anki itself)"
            )
        return "mlops-cards' own template renderer"  # chosen with --renderer ours
    from importlib.metadata import PackageNotFoundError, version

    try:
        anki_version = version("anki")
    except PackageNotFoundError:  # pragma: no cover - anki importable but not installed
        anki_version = "unknown version"
    return f"Anki's own engine (anki {anki_version}), from a scratch collection"


def _anki_cards(source: _DeckSource) -> dict[str, list[RenderedCard]]:
    """Import the deck into a scratch collection; each note's cards as Anki renders them."""
    notes = [replace(n, mod=1) for n in source.made.notes]
    deck = export_deck(source.manifest, source.made, notes, dict.fromkeys(source.notetypes, 1))
    result: dict[str, list[RenderedCard]] = {}
    with tempfile.TemporaryDirectory(prefix="mlops-cards-preview-") as tmp:
        apkg = Path(tmp) / "preview.apkg"
        apkg.write_bytes(apkg_bytes(deck))
        with imported_collection(apkg) as col:
            for nid in col.find_notes(""):
                note = col.get_note(nid)
                cards = []
                for card in sorted(note.cards(), key=lambda c: c.ord):
                    output = card.render_output()
                    name = str(card.template()["name"])
                    cards.append(
                        RenderedCard(card.ord, name, output.question_text, output.answer_text)
                    )
                result[note.guid] = cards
    return result


def _our_cards(source: _DeckSource) -> dict[str, list[RenderedCard]]:
    result: dict[str, list[RenderedCard]] = {}
    for note in source.made.notes:
        notetype = source.notetypes[note.notetype]
        special = {
            "Tags": " ".join(note.tags),
            "Deck": note.deck,
            "Subdeck": note.deck.rsplit("::", 1)[-1],
            "Type": notetype.name,
            "CardFlag": "",
            "CardID": "",
        }
        result[note.guid] = render_cards(
            [(t.name, t.qfmt, t.afmt) for t in notetype.templates],
            dict(zip(notetype.field_names, note.fields, strict=True)),
            special,
            is_cloze=notetype.is_cloze,
        )
    return result


_SRC = re.compile(r"""(\bsrc\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)


class _Inliner:
    """Replaces `src="name"` of bundled images with data: URIs, reading each file once."""

    def __init__(self, media: dict[str, Path]) -> None:
        self.media = media
        self.uris: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        return _SRC.sub(self._replace, text)

    def _replace(self, match: re.Match[str]) -> str:
        name = html.unescape(match.group(3))
        name = name if name in self.media else unquote(name)
        if name not in self.media:
            return match.group(0)  # a web image, or not ours
        if name not in self.uris:
            mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
            data = base64.b64encode(self.media[name].read_bytes()).decode("ascii")
            self.uris[name] = f"data:{mime};base64,{data}"
        return f'{match.group(1)}"{self.uris[name]}"'


def _sources(contents: Iterable[LessonContent]) -> dict[tuple[str, str, str], str]:
    """(lesson id, card kind, key) -> "path:line" of the item in the lesson."""
    return {
        (card.lesson_id, card.kind, card.key): f"{c.lesson.path}:{card.line or 1}"
        for c in contents
        for card in c.cards
    }


def _preview_deck(source: _DeckSource, engine: Literal["anki", "ours"]) -> PreviewDeck:
    rendered = _anki_cards(source) if engine == "anki" else _our_cards(source)
    inline = _Inliner(dict(source.made.media))
    where = _sources(source.contents)
    lessons = []
    for lesson in source.made.lessons:
        notes = [n for n in source.made.notes if n.deck == lesson.subdeck]
        notes.sort(key=lambda n: list(KIND_TITLES).index(n.kind) if n.kind in KIND_TITLES else 99)
        cards = []
        for note in notes:
            for card in rendered.get(note.guid, []):
                cards.append(
                    PreviewCard(
                        kind=note.kind,
                        key=note.key,
                        template=card.template,
                        ordinal=card.ordinal,
                        source=where.get((note.lesson_id, card_kind_of(note.kind), note.key), ""),
                        front=inline(card.question),
                        back=inline(card.answer),
                        css=source.notetypes[note.notetype].css,
                    )
                )
        content = lesson.content
        lessons.append(
            PreviewLesson(
                title=content.lesson.title or content.lesson.id,
                path=content.lesson.path,
                subdeck=lesson.subdeck,
                notes=len(notes),
                cards=tuple(cards),
            )
        )
    unanswered = unanswered_lines(source.contents)
    return PreviewDeck(source.manifest.name, tuple(lessons), unanswered, source.warnings)


def make_preview(manifests: Sequence[DeckManifest], renderer: RendererChoice = "auto") -> Preview:
    """Render every card of every deck. Errors in the lessons raise (nothing is rendered)."""
    if renderer not in ("auto", "anki", "ours"):
        raise UsageError(f"unknown renderer {renderer!r} (auto, anki or ours)")
    engine = _engine(renderer)
    sources = [_deck_source(m) for m in manifests]  # every deck loads before any renders
    decks = tuple(_preview_deck(s, engine) for s in sources)
    folder = next((m.page_templates for m in manifests if m.page_templates), None)
    return Preview(decks, engine, _renderer_description(engine), folder)


# --- the page ----------------------------------------------------------------------------------
# Made from the Jinja2 templates `templates/preview.html` (with preview.css, preview-card.css and
# preview.js); pages.py says how a course overrides them.


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


# --- math: what Anki's MathJax typesets, shown as MathML (Chromium, Firefox, Safari draw it)

# Anki's delimiters: \(..\) inline, \[..\] display; MathJax leaves code and pre alone.
_CODE_BLOCK = re.compile(r"<(pre|code)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_MATH = re.compile(r"\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
_TAG_NAME = re.compile(r"</?([A-Za-z][\w:-]*)")
_MATHML_TAGS = frozenset(
    [
        "math",
        "mrow",
        "mi",
        "mo",
        "mn",
        "ms",
        "msub",
        "msup",
        "msubsup",
        "mfrac",
        "mtext",
        "mtable",
        "mtr",
        "mtd",
        "msqrt",
        "mroot",
        "mover",
        "munder",
        "munderover",
        "mspace",
        "mstyle",
        "mpadded",
        "mphantom",
        "menclose",
        "merror",
        "semantics",
    ]
)


def _mathml(match: re.Match[str]) -> str:
    """One formula as MathML; left as written when latex2mathml cannot read it."""
    from latex2mathml.converter import convert

    inline, display = match.group(1), match.group(2)
    tex = html.unescape(inline if inline is not None else display)
    # `<` and `>` as commands: text in \text{} is copied into the MathML as it is.
    tex = tex.replace("<", "\\lt ").replace(">", "\\gt ")
    try:
        mathml = convert(tex, display="inline" if inline is not None else "block")
    except Exception:  # latex2mathml raises many kinds; the formula then stays as text
        return match.group(0)
    names = {name.lower() for name in _TAG_NAME.findall(mathml)}
    if not names <= _MATHML_TAGS or re.search(r"\son\w*\s*=|javascript:", mathml, re.I):
        return match.group(0)  # not the MathML we expect: show the TeX instead
    return mathml


def math_html(card_html: str) -> str:
    """`card_html` with its formulas typeset as MathML, outside code blocks."""
    if "\\(" not in card_html and "\\[" not in card_html:
        return card_html
    parts: list[str] = []
    pos = 0
    for code in _CODE_BLOCK.finditer(card_html):
        parts += [_MATH.sub(_mathml, card_html[pos : code.start()]), code.group(0)]
        pos = code.end()
    parts.append(_MATH.sub(_mathml, card_html[pos:]))
    return "".join(parts)


# Card HTML is the note type's own and shown as it is (math typeset); `</style` or
# `</template` in a custom template must not close the page's elements early.
html_filter("html")(math_html)
html_filter("style_text")(lambda styles: "\n".join(styles).replace("</", "<\\/"))
html_filter("inside_template")(lambda body: str(body).replace("</template", "&lt;/template"))
html_filter("slug")(lambda text: _e(_slug(text)))


def preview_html(preview: Preview, templates: Path | None = None) -> str:
    """The whole page: one file, no network, works without JavaScript (night mode needs it).
    `templates`: a folder whose page templates replace the package's own (same names);
    by default the first manifest's `page_templates:`."""
    names = ", ".join(deck.name for deck in preview.decks)
    folder = templates or preview.page_templates
    return render("preview.html", folder, preview=preview, names=names, kind_titles=KIND_TITLES)


def card_page(card: PreviewCard, *, side: Literal["front", "back"] = "back") -> str:
    """One side of one card alone, as Anki's reviewer lays it out (`.card` on the body):
    for screenshots of single cards."""
    content = math_html(card.front if side == "front" else card.back)
    css = card.css.replace("</", "<\\/")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(card.kind)} {_e(card.key)}</title>\n"
        f"<style>html, body {{ margin: 0; }} body {{ padding: 20px; }}\n{css}</style>\n"
        f'</head>\n<body class="card card{card.ordinal + 1}">\n{content}\n</body>\n</html>\n'
    )


def write_preview(path: Path, preview: Preview) -> None:
    write_atomic(path, preview_html(preview))
