"""The stages every command runs, one function each, in this order:

1. `load_lessons`: extract each lesson and merge its author YAML (cached per lesson);
2. `validate_deck`: every diagnostic, the deck-level ones included (`deck_diagnostics`);
   `build` and `preview` stop on errors, `check` prints them all (with the errors rendering
   finds, `rendering_diagnostics`);
3. `make_notes`: order the lessons into subdecks and render every card's note (cached per
   lesson);
4. `export_deck`: the fully decided deck an .apkg is written from; `apkg` writes it (cached).

`build` runs all four (with the lock update between notes and export, `pipeline.py`), `preview`
runs them without a lock, `check` and `checklist` the first two. Heavy modules (extract, merge,
render) are imported inside the stages, so that a `check` served by the cache never loads them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_cards.cache import Cache
from mlops_cards.deckdata import DeckNote, ExportDeck, NoteTypeLike
from mlops_cards.discover import find_lessons, leftover_sidecars, lesson_files
from mlops_cards.errors import CardsError, DiagnosticsError, SourceError
from mlops_cards.identity import stable_id
from mlops_cards.limits import MAX_LESSON_BYTES, MAX_YAML_BYTES, read_limited, read_media
from mlops_cards.models import Diagnostic, Lesson, LessonContent
from mlops_cards.parallel import precompute
from mlops_cards.resolve import sidecar_of

if TYPE_CHECKING:
    from mlops_cards.manifest import DeckManifest
    from mlops_cards.notes import LessonDeck, NoteBuilder
    from mlops_cards.notetypes import NoteType
    from mlops_cards.render import CardRenderer


# --- 1. load lessons ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Loaded:
    """The lessons below some paths, merged with their YAML, in `find_lessons` order."""

    contents: tuple[LessonContent, ...]
    failures: tuple[str, ...]  # one line per path that could not be read
    # Lesson path -> the cache key of its content, for lessons whose content was (or now is)
    # in the cache: later stages key their own entries on it.
    keys: Mapping[str, str]


# `progress(done, total)`: called as a stage gets through its lessons (the CLI's progress line).
Progress = Callable[[int, int], None]


def load_lessons(
    paths: Sequence[str],
    cache: Cache | None = None,
    jobs: int = 1,
    progress: Progress | None = None,
) -> Loaded:
    """Every lesson below `paths`, extracted and merged; `cache` (default: none) serves the
    unchanged ones, `jobs` > 1 does the others in that many processes first."""
    loader = _LessonLoader(cache or Cache(None), jobs)
    contents, failures = loader.load(list(paths), progress) if paths else ([], [])
    return Loaded(tuple(contents), tuple(failures), dict(loader.content_keys))


def _read(path: Path, limit: int) -> bytes | None:
    """The file's bytes, or None for anything unusual (missing, too big, a device or pipe):
    the uncached path then reads it again and says what is wrong."""
    try:
        return read_limited(path, limit, str(path), "file", "")
    except (OSError, CardsError):
        return None


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


class _LessonLoader:
    """`extract` for `find_lessons`, then `content` for each lesson it found: each lesson's
    LessonContent comes from the cache when neither the lesson nor its sidecar changed.

    With `jobs` > 1, `load` first extracts and merges the lessons the cache lacks in worker
    processes; `extract` and `content` then take those results instead of computing them.
    """

    def __init__(self, cache: Cache, jobs: int = 1) -> None:
        self.cache = cache
        self.jobs = jobs
        self._looked_up: set[str] = set()
        self._found: dict[str, LessonContent] = {}  # shown path -> content, from the cache
        self._keys: dict[str, tuple[str, bytes, bytes | None]] = {}  # shown -> (key, bytes...)
        # shown path -> (content, sha256 of the lesson text), made by a worker
        self._computed: dict[str, tuple[LessonContent, bytes]] = {}
        self.content_keys: dict[str, str] = {}  # shown path -> key of its content
        # shown path -> the lesson `extract` gave; `find_lessons` may give it another id
        # (`discover.distinct_ids`, which depends on other files): such content is not kept
        self._read: dict[str, Lesson] = {}

    def _key(self, shown: str, lesson: bytes, sidecar: bytes | None) -> str:
        # The sidecar's path is derived from the lesson's, so `shown` covers both.
        state = b"absent" if sidecar is None else b"present"
        return self.cache.key("lesson", [shown, lesson, state, sidecar or b""])

    def _look_up(self, path: Path, shown: str) -> bool:
        """Whether the cache holds the lesson's content (then kept for `extract`). On a miss,
        the key and the bytes it was made from are kept, for `content` to store the result."""
        if shown in self._looked_up:
            return shown in self._found
        self._looked_up.add(shown)
        data = _read(path, MAX_LESSON_BYTES) if self.cache.enabled else None
        sidecar_file = sidecar_of(Path(shown))
        sidecar = _read(sidecar_file, MAX_YAML_BYTES) if data is not None else None
        if data is None or (sidecar is None and sidecar_file.exists()):
            return False  # not cached; unreadable ones are reported by `extract`
        if sidecar is None and leftover_sidecars(sidecar_file.parent):
            return False  # whether one of them is this lesson's depends on other files
        key = self._key(shown, data, sidecar)
        content = self.cache.get_object(key, LessonContent)
        if content is not None:
            self._found[shown] = content
            self.content_keys[shown] = key
            return True
        self._keys[shown] = (key, data, sidecar)
        return False

    def extract(self, path: Path, shown: str) -> Lesson:
        if self._look_up(path, shown):
            return self._found[shown].lesson
        computed = self._computed.get(shown)
        if computed is not None:
            lesson, digest = computed[0].lesson, computed[1]
        else:
            from mlops_cards.extract import extract_text, read_lesson_text

            text = read_lesson_text(path, shown)
            lesson = extract_text(text, shown)
            digest = _sha(text.encode("utf-8"))
        pending = self._keys.get(shown)
        if pending is not None and _sha(pending[1]) != digest:
            del self._keys[shown]  # edited while we read it: not kept
        self._read[shown] = lesson
        return lesson

    def content(self, lesson: Lesson) -> LessonContent:
        found = self._found.get(lesson.path)
        if found is not None and found.lesson is lesson:
            return found
        computed = self._computed.pop(lesson.path, None)
        if computed is not None and computed[0].lesson is lesson:
            content = computed[0]
        else:
            from mlops_cards.merge import merge_lesson  # on a miss only: the YAML checks

            content = merge_lesson(lesson)
        pending = self._keys.pop(lesson.path, None)
        if pending is not None and self._read.get(lesson.path) is lesson:
            key, _, sidecar = pending
            if _read(sidecar_of(Path(lesson.path)), MAX_YAML_BYTES) == sidecar:
                self.cache.put_object(key, content)
                self.content_keys[lesson.path] = key
        return content

    def load(
        self, paths: list[str], progress: Progress | None = None
    ) -> tuple[list[LessonContent], list[str]]:
        """Every lesson below `paths`, merged, in `find_lessons` order; and the failures."""
        if self.jobs > 1:
            self._precompute(paths)
        lessons, failures = find_lessons(paths, self.extract)
        contents = []
        for lesson in lessons:
            contents.append(self.content(lesson))
            if progress is not None:
                progress(len(contents), len(lessons))
        return contents, failures

    def _precompute(self, paths: list[str]) -> None:
        """Extract and merge the lessons the cache lacks, in worker processes."""
        misses = [
            (path, shown) for path, shown in lesson_files(paths) if not self._look_up(path, shown)
        ]
        results = precompute(_extract_and_merge, misses, self.jobs)
        for (_, shown), result in zip(misses, results, strict=True):
            if result is not None:
                self._computed[shown] = result


def _extract_and_merge(file: tuple[Path, str]) -> tuple[LessonContent, bytes]:
    """A worker's share of `_LessonLoader`: one lesson's content and the digest of its text."""
    from mlops_cards.extract import extract_text, read_lesson_text
    from mlops_cards.merge import merge_lesson

    path, shown = file
    text = read_lesson_text(path, shown)
    return merge_lesson(extract_text(text, shown)), _sha(text.encode("utf-8"))


# --- 2. validate the deck ----------------------------------------------------------------------


def deck_diagnostics(contents: Iterable[LessonContent]) -> list[Diagnostic]:
    """Problems no single lesson has: two lessons sharing an id (their notes would collide)."""
    found = []
    seen: dict[str, str] = {}
    for content in contents:
        other = seen.setdefault(content.lesson.id, content.lesson.path)
        if other != content.lesson.path:
            found.append(
                Diagnostic(
                    content.lesson.path,
                    1,
                    "error",
                    f"lesson id `{content.lesson.id}` is also used by {other}",
                    "set `id:` in the front matter or the YAML to tell them apart",
                )
            )
    return found


def diagnostics(loaded: Loaded) -> list[Diagnostic]:
    """Every diagnostic of the lessons and of the deck they make, sorted, each once."""
    found = {d for c in loaded.contents for d in (*c.lesson.diagnostics, *c.diagnostics)}
    found.update(deck_diagnostics(loaded.contents))
    return sorted(found, key=Diagnostic.sort_key)


def validate_deck(name: str, where: Path, loaded: Loaded) -> tuple[Diagnostic, ...]:
    """Raise DiagnosticsError when the deck's lessons cannot all be read or have errors; else its
    warnings, less the "has no answer" ones (listed as unanswered items already)."""
    if loaded.failures:
        raise DiagnosticsError(f"{where}: cannot read every lesson", loaded.failures)
    if not loaded.contents:
        raise CardsError(f"{where}: no lessons found (check `lessons:`)")
    found = diagnostics(loaded)
    errors = tuple(d.format() for d in found if d.level == "error")
    if errors:
        raise DiagnosticsError(f"{name}: the lessons have errors; fix them first", errors)
    unanswered = {(c.lesson.path, u.line) for c in loaded.contents for u in c.unanswered}
    return tuple(
        d
        for d in found
        if d.level == "warning"
        and (d.path, d.line) not in unanswered
        and not _UNANSWERED.match(d.message)  # the same, said at its stub in the YAML
    )


# The warnings of merge.py that stand for an item listed as unanswered.
_UNANSWERED = re.compile(
    r"(question|objective) \S+ (has no answer|is not answered yet)$"
    r"|bell \d+ has no term( yet \(.*\))?$|term .+ has no definition$"
)


def unanswered_lines(contents: Iterable[LessonContent]) -> tuple[str, ...]:
    """One line per item still without an answer: `path:line: kind key: text`."""
    return tuple(
        f"{c.lesson.path}:{u.line}: {u.kind} {u.key}: {' '.join(u.text.split())[:80]}"
        for c in contents
        for u in c.unanswered
    )


# --- 3. make notes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DeckNotes:
    """A deck's lessons in deck order with their subdecks, its note types, notes and media."""

    lessons: tuple[LessonDeck, ...]
    notetypes: Mapping[str, NoteType]  # by kind
    notes: tuple[DeckNote, ...]
    media: Mapping[str, Path]  # name inside Anki -> file


def course_root(manifest: DeckManifest) -> Path:
    """The folder nothing is read outside of: the project (above `decks/`) of a manifest, the
    current folder for an ad-hoc deck (`build LESSON -o FILE.apkg`)."""
    from mlops_cards.manifest import outside_course, project_root

    root = project_root(manifest.path) if manifest.path.is_file() else Path.cwd().resolve()
    outside = outside_course(manifest.lessons, root)
    if outside is not None:
        raise CardsError(
            f"{outside}: lesson lies outside the course folder {root} "
            "(run mlops-cards in the folder that holds the course)"
        )
    return root


@dataclass(frozen=True)
class NotesPlan:
    """A deck's notes before any is rendered: its lessons in deck order with their subdecks,
    its note types and course folder, and the cache key of each lesson's notes (None: not
    kept), which covers everything they depend on but the bytes of the images they show."""

    lessons: tuple[LessonDeck, ...]
    notetypes: Mapping[str, NoteType]  # by kind
    root: Path
    keys: tuple[str | None, ...]


def plan_notes(manifest: DeckManifest, loaded: Loaded, cache: Cache | None = None) -> NotesPlan:
    """What `make_notes` will make, decided without rendering (see `NotesPlan`)."""
    from mlops_cards.notes import order_lessons
    from mlops_cards.notetypes import load_note_types

    cache = cache or Cache(None)
    lessons = order_lessons(manifest.name, list(loaded.contents))
    root = course_root(manifest)
    notetypes = load_note_types(manifest.templates)
    context = _notes_context(manifest.cards, notetypes.values(), root)
    keys = []
    for lesson in lessons:
        content_key = loaded.keys.get(lesson.content.lesson.path)
        parts = [content_key or "", lesson.subdeck, str(lesson.number), context]
        keys.append(cache.key("notes", parts) if content_key and cache.enabled else None)
    return NotesPlan(tuple(lessons), notetypes, root, tuple(keys))


def make_notes(
    manifest: DeckManifest,
    loaded: Loaded,
    cache: Cache | None = None,
    jobs: int = 1,
    progress: Progress | None = None,
    plan: NotesPlan | None = None,
) -> DeckNotes:
    """Every note of the deck, lesson by lesson in deck order (see `_lesson_notes`), as
    `plan` (default: `plan_notes`) says."""
    from mlops_cards.notes import NoteBuilder
    from mlops_cards.render import CardRenderer

    cache = cache or Cache(None)
    plan = plan or plan_notes(manifest, loaded, cache)
    renderer = CardRenderer(plan.root)
    builder = NoteBuilder(plan.notetypes, renderer, manifest.cards)
    notes = _lesson_notes(cache, builder, plan, jobs, progress)
    return DeckNotes(plan.lessons, plan.notetypes, tuple(notes), renderer.media())


@dataclass(frozen=True)
class _RenderedCleanly:
    """A deck's lessons rendered without an error, and the images their cards show (path,
    sha256): while those have the same bytes, rendering the same lessons again finds nothing."""

    images: tuple[tuple[str, str], ...]


def rendering_diagnostics(
    manifest: DeckManifest, loaded: Loaded, cache: Cache | None = None, jobs: int = 1
) -> list[Diagnostic]:
    """The errors `make_notes` stops a build on (an image not found, raw HTML never closed), as
    diagnostics, one per lesson that has one: for `check`, which then reports every error
    `build` would. Rendered notes go into the cache, where the next build finds them; a deck
    that rendered cleanly is remembered, so an unchanged check does not unpack its notes."""
    cache = cache or Cache(None)
    key = _rendering_key(cache, manifest, loaded)
    clean = cache.get_object(key, _RenderedCleanly) if key else None
    if clean is not None and all(media_sha256(Path(p)) == sha for p, sha in clean.images):
        return []
    found: list[Diagnostic] = []
    remaining = list(loaded.contents)
    while remaining:
        try:
            made = make_notes(
                manifest, dataclasses.replace(loaded, contents=tuple(remaining)), cache, jobs
            )
        except SourceError as exc:
            found.append(Diagnostic(exc.path, exc.line, "error", exc.message))
            # Its lesson is done (build stops at its first error); the others are rendered on.
            left = [c for c in remaining if exc.path not in (c.lesson.path, c.sidecar)]
            if len(left) == len(remaining):
                break
            remaining = left
            continue
        images = tuple((str(path), media_sha256(path)) for path in made.media.values())
        if key and not found and all(sha for _, sha in images):
            cache.put_object(key, _RenderedCleanly(images))
        break
    return found


def _rendering_key(cache: Cache, manifest: DeckManifest, loaded: Loaded) -> str | None:
    """What rendering a deck's lessons depends on besides images: the manifest, the note types
    and course folder, every lesson's content; None when some content has no key."""
    paths = [c.lesson.path for c in loaded.contents]
    if not cache.enabled or not all(p in loaded.keys for p in paths):
        return None
    context = str(course_root(manifest))
    if manifest.templates is not None:  # the tool's own are in its fingerprint
        from mlops_cards.notetypes import load_note_types

        notetypes = load_note_types(manifest.templates).values()
        context = _notes_context(manifest.cards, notetypes, course_root(manifest))
    return cache.key("rendered", [repr(manifest), context, *(loaded.keys[p] for p in paths)])


def media_sha256(path: Path) -> str:
    """The sha256 of an image's bytes (hex); empty when it cannot be read."""
    try:
        return hashlib.sha256(read_media(path)).hexdigest()
    except (OSError, CardsError):
        return ""


@dataclass(frozen=True)
class _NotesEntry:
    """A lesson's notes and the images they bundled: (source, src, line, bundled name) each."""

    notes: tuple[DeckNote, ...]
    images: tuple[tuple[str, str, int, str], ...]


def _lesson_notes(
    cache: Cache,
    builder: NoteBuilder,
    plan: NotesPlan,
    jobs: int = 1,
    progress: Progress | None = None,
) -> list[DeckNote]:
    """The notes of every lesson, in order. A lesson's notes come from the cache under its key
    in `plan` when every image it shows still has the same bytes; the others are rendered — by
    worker processes first when `jobs` > 1 — and kept for next time."""
    lessons, keys = list(plan.lessons), plan.keys
    entries = [cache.get_object(key, _NotesEntry) if key else None for key in keys]
    fresh = [False] * len(lessons)  # made in this run: kept in the cache afterwards
    misses = [i for i, entry in enumerate(entries) if entry is None]
    made_here = precompute(_render_notes(builder), [lessons[i] for i in misses], jobs)
    for i, made in zip(misses, made_here, strict=True):
        entries[i], fresh[i] = made, made is not None

    notes: list[DeckNote] = []
    together = zip(lessons, keys, entries, fresh, strict=True)
    for done, (lesson, lesson_key, entry, new) in enumerate(together, 1):
        # Cached or made by a worker: its images are bundled here, in lesson order, as
        # rendering them here would have.
        if entry is None or not _replay(builder.renderer, entry):
            entry, new = _render_notes(builder)(lesson), True
        notes.extend(entry.notes)
        if new and lesson_key is not None:
            cache.put_object(lesson_key, entry)
        if progress is not None:
            progress(done, len(lessons))
    return notes


def _render_notes(builder: NoteBuilder) -> Callable[[LessonDeck], _NotesEntry]:
    """Renders one lesson's notes with `builder`."""

    def render(lesson: LessonDeck) -> _NotesEntry:
        start = len(builder.renderer.bundled)
        notes = tuple(builder.lesson_notes(lesson))
        return _NotesEntry(notes, tuple(builder.renderer.bundled[start:]))

    return render


def _replay(renderer: CardRenderer, entry: _NotesEntry) -> bool:
    """Bundle a cached lesson's images again: True when each still gets the name its HTML uses."""
    if not isinstance(entry.notes, tuple) or not all(_well_typed(n) for n in entry.notes):
        return False
    try:
        return all(
            renderer.bundle(src, source=Path(source), line=line) == name
            for source, src, line, name in entry.images
        )
    except (CardsError, OSError, TypeError, ValueError):
        return False  # rendered again, which reports the problem properly


def _well_typed(note: object) -> bool:
    """A DeckNote whose every field has its declared type (strings, not nested tuples): the
    .apkg's cache key `repr`s notes, which must take time in proportion to their text."""
    if not isinstance(note, DeckNote):
        return False
    texts = (note.guid, note.lesson_id, note.kind, note.key, note.deck, *note.fields, *note.tags)
    return (
        isinstance(note.fields, tuple)
        and isinstance(note.tags, tuple)
        and all(type(text) is str for text in texts)
        and all(type(n) is int for n in (note.notetype, note.mod))
        and type(note.retired) is bool
    )


def _notes_context(kinds: object, notetypes: Iterable[NoteTypeLike], course_root: Path) -> str:
    """What every lesson's notes depend on besides the lesson: one string for the cache key."""
    types = sorted(
        (t.kind, t.model_id, t.name, t.fields, t.templates, t.css, t.is_cloze) for t in notetypes
    )
    return repr((kinds, types, str(course_root)))


# --- 4. export ---------------------------------------------------------------------------------


def export_deck(
    manifest: DeckManifest,
    made: DeckNotes,
    notes: Sequence[DeckNote],
    notetype_mods: Mapping[int, int],
) -> ExportDeck:
    """The deck as written into an .apkg: `notes` (with their mods decided), the note types
    they use (with `notetype_mods`), a subdeck per lesson and per note, every image."""
    used = {n.notetype for n in notes}
    types = [t for t in made.notetypes.values() if t.model_id in used]
    names = [lesson.subdeck for lesson in made.lessons] + [n.deck for n in notes]
    return ExportDeck(
        name=manifest.name,
        deck_id=manifest.deck_id,
        description=manifest.description,
        subdecks=tuple((name, stable_id(name)) for name in dict.fromkeys(names)),
        notetypes=tuple((t, notetype_mods[t.model_id]) for t in types),
        notes=tuple(notes),
        media=tuple(sorted(made.media.items())),
    )


def apkg(deck: ExportDeck, cache: Cache | None = None) -> bytes:
    """The .apkg's bytes; from the cache when the deck, every note and every media file's bytes
    are the same."""
    from mlops_cards.anki_export import apkg_bytes

    return (cache or Cache(None)).memo("apkg", _apkg_parts(deck), lambda: apkg_bytes(deck), bytes)


def _apkg_parts(deck: ExportDeck) -> Iterable[bytes | str]:
    import sqlite3
    import zlib

    yield f"sqlite {sqlite3.sqlite_version} zlib {zlib.ZLIB_RUNTIME_VERSION}"
    yield repr((deck.name, deck.deck_id, deck.description, deck.subdecks))
    for notetype, mod in deck.notetypes:
        yield repr((notetype, mod))
    for note in deck.notes:
        yield repr(note)
    for name, path in deck.media:
        yield name
        yield hashlib.sha256(read_media(path)).digest()
