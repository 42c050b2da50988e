"""Preview: every card of a deck, front and back, in one self-contained HTML page.

Authors see what learners will see without opening Anki. With the `anki` package the cards are
rendered by the real engine: the deck is built in memory as `build` would, imported into a
scratch collection, and each card's question and answer taken from Anki (cloze and reverse
cards included). Without it, our own small template renderer (`templating.py`) fills the same
templates; the page says which renderer made it.

The page needs no network: images are inlined as data: URIs, MathJax is not loaded (math stays
as `\\(…\\)` text). The cards of one kind sit in a shadow root (declarative shadow DOM) with
their note type's CSS and Anki's `.card` class, so the card style applies as in Anki and the
page's own style cannot leak in.
"""

from __future__ import annotations

import base64
import html
import mimetypes
import re
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal
from urllib.parse import unquote

from mlops_cards.anki_export import apkg_bytes
from mlops_cards.atomic import write_atomic
from mlops_cards.deckdata import DeckNote, ExportDeck
from mlops_cards.errors import CardsError, UsageError
from mlops_cards.identity import stable_id
from mlops_cards.manifest import DeckManifest, find_manifests, load_manifest
from mlops_cards.models import LessonContent
from mlops_cards.notes import LessonDeck, NoteBuilder, order_lessons
from mlops_cards.notetypes import NoteType, load_note_types
from mlops_cards.pipeline import adhoc_manifest, course_root, load_contents
from mlops_cards.render import CardRenderer
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
    "preview_manifests",
    "write_preview",
]

RendererChoice = Literal["auto", "anki", "ours"]

# Kinds in the order an author reads a lesson, with their section titles.
KIND_TITLES = {
    "question": "Questions",
    "extra": "Extra cards",
    "objective": "Learning objectives",
    "term": "Terms",
    "cloze": "Cloze",
}
_SIDECAR_SUFFIXES = (".yaml", ".yml")
ANKI_HINT = "--renderer anki needs the Anki engine: pip install 'mlops-cards[anki]'"


@dataclass(frozen=True)
class PreviewCard:
    kind: str  # question, extra, objective, term, cloze
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


# --- what to preview ---------------------------------------------------------------------------


def preview_manifests(paths: Sequence[str], output: Path) -> list[DeckManifest]:
    """The decks meant by `paths`: manifests as they are, lessons (and directories) as one
    ad-hoc deck named after `output`; a sidecar stands for the lesson beside it. No paths:
    every manifest in decks/. Raises ManifestError (diagnostics) for a broken manifest."""
    if not paths:
        found = find_manifests(Path("decks"))
        if not found:
            raise CardsError("no deck manifests in decks/ (give MANIFEST.yaml or lesson files)")
        return [load_manifest(p) for p in found]
    manifests: list[DeckManifest] = []
    lessons: list[Path] = []
    for path in map(Path, paths):
        if path.suffix not in _SIDECAR_SUFFIXES:
            lessons.append(path)
        elif path.with_suffix(".md").is_file():
            lessons.append(path.with_suffix(".md"))
        else:
            manifests.append(load_manifest(path))
    if lessons:
        manifests.append(adhoc_manifest(lessons, output))
    return manifests


# --- rendering ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _DeckSource:
    """One deck as `build` would make it, before any lock: lessons, note types, notes, media."""

    manifest: DeckManifest
    contents: list[LessonContent]
    warnings: tuple[str, ...]
    lessons: list[LessonDeck]
    notetypes: dict[int, NoteType]  # by model id
    notes: list[DeckNote]
    media: dict[str, Path]


def _deck_source(manifest: DeckManifest) -> _DeckSource:
    contents, warnings = load_contents(manifest)
    lessons = order_lessons(manifest.name, contents)
    renderer = CardRenderer(course_root(manifest))
    notetypes = load_note_types(manifest.templates)
    notes = NoteBuilder(notetypes, renderer, manifest.cards).notes(lessons)
    return _DeckSource(
        manifest=manifest,
        contents=contents,
        warnings=tuple(d.format() for d in warnings),
        lessons=lessons,
        notetypes={t.model_id: t for t in notetypes.values()},
        notes=notes,
        media=renderer.media(),
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
    manifest = source.manifest
    deck = ExportDeck(
        name=manifest.name,
        deck_id=manifest.deck_id,
        description=manifest.description,
        subdecks=tuple(
            (name, stable_id(name)) for name in dict.fromkeys(n.deck for n in source.notes)
        ),
        notetypes=tuple((t, 1) for t in source.notetypes.values()),
        notes=tuple(replace(n, mod=1) for n in source.notes),
        media=tuple(sorted(source.media.items())),
    )
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
    for note in source.notes:
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


def _sources(contents: list[LessonContent]) -> dict[tuple[str, str, str], str]:
    """(lesson id, card kind, key) -> "path:line" of the item in the lesson."""
    return {
        (card.lesson_id, card.kind, card.key): f"{c.lesson.path}:{card.line or 1}"
        for c in contents
        for card in c.cards
    }


def _preview_deck(source: _DeckSource, engine: Literal["anki", "ours"]) -> PreviewDeck:
    rendered = _anki_cards(source) if engine == "anki" else _our_cards(source)
    inline = _Inliner(source.media)
    where = _sources(source.contents)
    lessons = []
    for lesson in source.lessons:
        notes = [n for n in source.notes if n.deck == lesson.subdeck]
        notes.sort(key=lambda n: list(KIND_TITLES).index(n.kind) if n.kind in KIND_TITLES else 99)
        cards = []
        for note in notes:
            card_kind = "term" if note.kind == "cloze" else note.kind
            for card in rendered.get(note.guid, []):
                cards.append(
                    PreviewCard(
                        kind=note.kind,
                        key=note.key,
                        template=card.template,
                        ordinal=card.ordinal,
                        source=where.get((note.lesson_id, card_kind, note.key), ""),
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
    unanswered = tuple(
        f"{c.lesson.path}:{u.line}: {u.kind} {u.key}: {' '.join(u.text.split())[:80]}"
        for c in source.contents
        for u in c.unanswered
    )
    return PreviewDeck(source.manifest.name, tuple(lessons), unanswered, source.warnings)


def make_preview(manifests: Sequence[DeckManifest], renderer: RendererChoice = "auto") -> Preview:
    """Render every card of every deck. Errors in the lessons raise (nothing is rendered)."""
    if renderer not in ("auto", "anki", "ours"):
        raise UsageError(f"unknown renderer {renderer!r} (auto, anki or ours)")
    engine = _engine(renderer)
    sources = [_deck_source(m) for m in manifests]  # every deck loads before any renders
    decks = tuple(_preview_deck(s, engine) for s in sources)
    return Preview(decks, engine, _renderer_description(engine))


# --- the page ----------------------------------------------------------------------------------

_PAGE_CSS = """
:root { color-scheme: light; --pv-fg: #1f2328; --pv-muted: #59636e; --pv-bg: #f6f8fa;
  --pv-rule: #d1d9e0; --pv-warn: #9a6700; }
body.pv-night { color-scheme: dark; --pv-fg: #e6edf3; --pv-muted: #9198a1; --pv-bg: #0d1117;
  --pv-rule: #3d444d; --pv-warn: #d29922; }
body { margin: 0; padding: 1.5em clamp(0.5em, 3vw, 2.5em); background: var(--pv-bg);
  color: var(--pv-fg); font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 1.6em; margin: 0 0 0.2em; }
h2 { font-size: 1.35em; margin: 1.6em 0 0.3em; border-bottom: 1px solid var(--pv-rule); }
h3 { font-size: 1.15em; margin: 1.4em 0 0.2em; }
h4 { font-size: 1em; margin: 1.2em 0 0.4em; color: var(--pv-muted); }
.pv-muted, .pv-path { color: var(--pv-muted); font-size: 0.9em; }
.pv-renderer { font-size: 0.9em; }
.pv-problems { border-left: 4px solid var(--pv-warn); padding: 0.3em 1em; margin: 1em 0; }
.pv-problems li { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.85em; }
.pv-toolbar { margin: 0.8em 0; }
nav ul { margin: 0.3em 0; padding-left: 1.2em; }
"""

# Inside each shadow root, before the note type's CSS (which may override it): the layout of
# a card's two sides. The `.card` box stands for Anki's reviewer window.
_SHADOW_CSS = """
:host { display: block; }
.pv-card { margin: 0 0 1.4em; }
.pv-head { font: 13px/1.4 ui-monospace, Menlo, Consolas, monospace; color: #59636e;
  margin: 0 0 0.3em; }
.pv-sides { display: grid; grid-template-columns: repeat(auto-fit, minmax(20em, 1fr));
  gap: 0.8em; align-items: start; }
.pv-side-name { font: 12px/1.4 system-ui, sans-serif; text-transform: uppercase;
  letter-spacing: 0.05em; color: #59636e; margin-bottom: 0.2em; }
.pv-frame { border: 1px solid #d1d9e0; border-radius: 8px; overflow: auto; }
.pv-frame > .card { margin: 0; padding: 1em; min-height: 4em; }
"""

_SCRIPT = """
(function () {
  // Browsers without declarative shadow DOM: attach the card roots by hand.
  document.querySelectorAll("template[shadowrootmode]").forEach(function (t) {
    var root = t.parentNode.attachShadow({ mode: "open" });
    root.appendChild(t.content);
    t.remove();
  });
  var box = document.getElementById("pv-night");
  box.addEventListener("change", function () {
    document.body.classList.toggle("pv-night", box.checked);
    document.querySelectorAll(".pv-host").forEach(function (host) {
      host.shadowRoot.querySelectorAll(".card").forEach(function (card) {
        card.classList.toggle("nightMode", box.checked);
        card.classList.toggle("night_mode", box.checked);
      });
    });
  });
})();
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def _kind_counts(cards: Iterable[PreviewCard]) -> str:
    counts = Counter(card.kind for card in cards)
    return ", ".join(f"{kind} {counts[kind]}" for kind in KIND_TITLES if counts[kind])


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def _card_html(card: PreviewCard) -> str:
    body = f"card card{card.ordinal + 1}"
    head = " · ".join(
        _e(part) for part in (f"{card.kind} {card.key}", card.template, card.source) if part
    )
    sides = "".join(
        f'<div class="pv-side"><div class="pv-side-name">{name}</div>'
        f'<div class="pv-frame"><div class="{body}">{side}</div></div></div>'
        for name, side in (("Front", card.front), ("Back", card.back))
    )
    return (
        f'<article class="pv-card"><div class="pv-head">{head}</div>'
        f'<div class="pv-sides">{sides}</div></article>'
    )


def _kind_section(kind: str, cards: list[PreviewCard]) -> str:
    """One shadow root per kind: its note type's CSS once, then every card of that kind."""
    styles = "\n".join(dict.fromkeys(card.css for card in cards))
    # `</style` or `</template` in a custom template must not close our elements early.
    styles = styles.replace("</", "<\\/")
    body = "\n".join(_card_html(card) for card in cards).replace("</template", "&lt;/template")
    return (
        f"<h4>{_e(KIND_TITLES.get(kind, kind))} ({len(cards)})</h4>\n"
        f'<div class="pv-host"><template shadowrootmode="open">'
        f"<style>{_SHADOW_CSS}\n{styles}</style>\n{body}\n</template></div>"
    )


def _lesson_html(deck: PreviewDeck, lesson: PreviewLesson) -> str:
    parts = [
        f'<section id="{_e(_slug(deck.name + "-" + lesson.subdeck))}">',
        f"<h3>{_e(lesson.subdeck.rsplit('::', 1)[-1])}</h3>",
        f'<p class="pv-path">{_e(lesson.path)} · {_plural(lesson.notes, "note")}, '
        f"{_plural(len(lesson.cards), 'card')}"
        + (f": {_e(_kind_counts(lesson.cards))}" if lesson.cards else "")
        + "</p>",
    ]
    for kind in dict.fromkeys(card.kind for card in lesson.cards):
        parts.append(_kind_section(kind, [c for c in lesson.cards if c.kind == kind]))
    parts.append("</section>")
    return "\n".join(parts)


def _problems_html(preview: Preview) -> str:
    unanswered = [item for deck in preview.decks for item in deck.unanswered]
    warnings = [item for deck in preview.decks for item in deck.warnings]
    if not unanswered and not warnings:
        return '<p class="pv-muted">Every item is answered; no warnings.</p>'
    parts = ['<div class="pv-problems">']
    for title, items in (("Unanswered (no card yet)", unanswered), ("Warnings", warnings)):
        if items:
            parts.append(f"<p><strong>{title}: {len(items)}</strong></p><ul>")
            parts.extend(f"<li>{_e(item)}</li>" for item in items)
            parts.append("</ul>")
    parts.append("</div>")
    return "\n".join(parts)


def preview_html(preview: Preview) -> str:
    """The whole page: one file, no network, works without JavaScript (night mode needs it)."""
    names = ", ".join(deck.name for deck in preview.decks)
    nav = ["<nav><ul>"]
    body = []
    for deck in preview.decks:
        cards = [c for lesson in deck.lessons for c in lesson.cards]
        body.append(f"<h2>{_e(deck.name)}</h2>")
        body.append(
            f'<p class="pv-muted">{_plural(deck.notes, "note")}, {_plural(deck.cards, "card")}'
            + (f": {_e(_kind_counts(cards))}" if cards else "")
            + "</p>"
        )
        nav.append(f"<li>{_e(deck.name)}<ul>")
        for lesson in deck.lessons:
            anchor = _slug(deck.name + "-" + lesson.subdeck)
            title = lesson.subdeck.rsplit("::", 1)[-1]
            nav.append(
                f'<li><a href="#{_e(anchor)}">{_e(title)}</a> '
                f'<span class="pv-muted">({len(lesson.cards)})</span></li>'
            )
            body.append(_lesson_html(deck, lesson))
        nav.append("</ul></li>")
    nav.append("</ul></nav>")
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>Card preview: {_e(names)}</title>",
            f"<style>{_PAGE_CSS}</style>",
            "</head>",
            "<body>",
            f"<h1>Card preview: {_e(names)}</h1>",
            f'<p class="pv-renderer">Rendered by {_e(preview.renderer)}. '
            "Math is shown as written (Anki typesets it with MathJax).</p>",
            '<p class="pv-toolbar"><label><input type="checkbox" id="pv-night"> '
            "Night mode</label></p>",
            _problems_html(preview),
            *nav,
            *body,
            f"<script>{_SCRIPT}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )


def card_page(card: PreviewCard, *, side: Literal["front", "back"] = "back") -> str:
    """One side of one card alone, as Anki's reviewer lays it out (`.card` on the body):
    for screenshots of single cards."""
    content = card.front if side == "front" else card.back
    css = card.css.replace("</", "<\\/")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(card.kind)} {_e(card.key)}</title>\n"
        f"<style>html, body {{ margin: 0; }} body {{ padding: 20px; }}\n{css}</style>\n"
        f'</head>\n<body class="card card{card.ordinal + 1}">\n{content}\n</body>\n</html>\n'
    )


def write_preview(path: Path, preview: Preview) -> None:
    write_atomic(path, preview_html(preview))
