"""A cache keyed by content, so that `check` and `build` with nothing changed are quick.

Every entry is found by the sha256 of everything its value depends on: the bytes of the lesson
and its sidecar (and, for rendered notes, of every image they show), the note types, the options,
the versions of the libraries that shape the output, and the tool itself (the bytes of its
source files, so even an unreleased edit of the tool invalidates). A changed byte anywhere gives
a new key; nothing is ever looked up by file name or date.

Entries live in `.mlops-cards-cache/` in the current folder (the project root: where `decks/`
is), or in `$MLOPS_CARDS_CACHE_DIR`. Each file is a magic line, the sha256 of its payload, and the
payload; a file that fails that check, or does not unpickle into the expected types, is ignored
(and overwritten by the next run). Writes go to a temporary file renamed into place, and a cache
that cannot be written is silently skipped: the cache only ever saves time.

Payloads are pickles read by an unpickler that refuses every class but the tool's own frozen
dataclasses, so a planted cache file cannot run code.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mlops_cards import __version__
from mlops_cards.deckdata import DeckNote, ExportDeck, NoteTypeLike
from mlops_cards.discover import find_lessons, leftover_sidecars, lesson_files
from mlops_cards.errors import CardsError
from mlops_cards.limits import MAX_LESSON_BYTES, MAX_YAML_BYTES, read_limited
from mlops_cards.models import Lesson, LessonContent
from mlops_cards.parallel import precompute

# Imported where used: a check served by the cache never extracts, merges or renders.
if TYPE_CHECKING:
    from mlops_cards.notes import LessonDeck, NoteBuilder
    from mlops_cards.render import CardRenderer

CACHE_DIR_NAME = ".mlops-cards-cache"
CACHE_DIR_ENV = "MLOPS_CARDS_CACHE_DIR"
_MAGIC = b"mlops-cards-cache 1\n"
_DIGEST = 32
# Libraries whose version can change what the tool reads or writes.
_LIBRARIES = ("markdown-it-py", "mdit-py-plugins", "pyyaml", "pygments", "nh3", "emoji", "genanki")
# The only classes a cache file may contain (module, name).
_ALLOWED = {
    ("mlops_cards.models", name)
    for name in (
        "Diagnostic",
        "Objective",
        "Question",
        "Term",
        "Task",
        "Lesson",
        "Card",
        "Unanswered",
        "LessonContent",
    )
} | {("mlops_cards.deckdata", "DeckNote")}

T = TypeVar("T")


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in the cache")
        return super().find_class(module, name)


_TOOL: str | None = None


def tool_fingerprint() -> str:
    """The tool's version, its source and template bytes, Python's and the libraries' versions."""
    global _TOOL
    if _TOOL is None:
        digest = hashlib.sha256(f"{__version__}\0{sys.version}\0".encode())
        for name in _installed(_LIBRARIES):
            digest.update(name.encode() + b"\0")
        try:
            import yaml

            digest.update(f"libyaml={yaml.__with_libyaml__}\0".encode())
        except ImportError:  # pragma: no cover - pyyaml is a dependency
            pass
        package = Path(__file__).resolve().parent
        # The package, and the default note types: shipped inside it, or beside `src/`.
        for folder in (package, package.parent.parent / "card_templates"):
            if not folder.is_dir():
                continue
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                if "__pycache__" in path.parts:
                    continue
                digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
                digest.update(hashlib.sha256(path.read_bytes()).digest())
        _TOOL = digest.hexdigest()
    return _TOOL


def _normal(project: str) -> str:
    return project.lower().replace("-", "_").replace(".", "_")


def _installed(projects: Iterable[str]) -> list[str]:
    """The `name-version.dist-info` folders of `projects` on sys.path: their versions, without
    the import cost of importlib.metadata (this runs on every cached `check`)."""
    wanted = {_normal(p) for p in projects}
    found = []
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        found += [
            n
            for n in names
            if n.endswith(".dist-info") and _normal(n[:-10].rsplit("-", 1)[0]) in wanted
        ]
    return sorted(found)


class Cache:
    """Entries by key. `Cache(None)` is a cache that is off: it finds nothing, keeps nothing."""

    def __init__(self, root: Path | None, *, deferred: bool = False) -> None:
        self.root = root
        self.hits = 0
        self.misses = 0
        # Deferred: entries wait in a temporary folder (not in memory: they weigh as much as
        # the deck) until `flush`, so that a build that fails writes nothing in the project.
        self.deferred = deferred
        self._staging: Path | None = None
        self._staged: list[str] = []

    @classmethod
    def default(cls, enabled: bool = True, *, deferred: bool = False) -> Cache:
        if not enabled:
            return cls(None)
        return cls(Path(os.environ.get(CACHE_DIR_ENV) or CACHE_DIR_NAME), deferred=deferred)

    @property
    def enabled(self) -> bool:
        return self.root is not None

    def key(self, kind: str, parts: Iterable[bytes | str]) -> str:
        """sha256 of the tool's fingerprint, the kind of entry and every part, unambiguously."""
        digest = hashlib.sha256(f"{tool_fingerprint()}\0{kind}\0".encode())
        for part in parts:
            data = part.encode("utf-8") if isinstance(part, str) else part
            digest.update(len(data).to_bytes(8, "big"))
            digest.update(data)
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        assert self.root is not None
        return self.root / key[:2] / key[2:]

    def get_bytes(self, key: str) -> bytes | None:
        if self.root is None:
            return None
        try:
            data = self._path(key).read_bytes()
        except OSError:
            self.misses += 1
            return None
        head = len(_MAGIC) + _DIGEST
        payload = data[head:]
        if data[: len(_MAGIC)] != _MAGIC or data[len(_MAGIC) : head] != _sha(payload):
            self.misses += 1
            return None  # torn or tampered: rebuilt and rewritten
        self.hits += 1
        return payload

    def put_bytes(self, key: str, payload: bytes) -> None:
        if self.root is None:
            return
        data = _MAGIC + _sha(payload) + payload
        if not self.deferred:
            _write(self._path(key), data)
            return
        try:
            if self._staging is None:
                self._staging = Path(tempfile.mkdtemp(prefix="mlops-cards-cache-"))
        except OSError:
            return
        _write(self._staging / key, data)
        self._staged.append(key)

    def flush(self) -> None:
        """Move the deferred entries into the cache."""
        for key in self._staged:
            assert self._staging is not None
            try:
                self._path(key).parent.mkdir(parents=True, exist_ok=True)
                os.replace(self._staging / key, self._path(key))
            except OSError:  # another file system: copy to a temporary file there and rename
                try:
                    _write(self._path(key), (self._staging / key).read_bytes())
                except OSError:
                    continue
        self.discard()

    def discard(self) -> None:
        """Drop the deferred entries (a failed build)."""
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
        self._staging = None
        self._staged = []

    def get_object(self, key: str, expected: type[T]) -> T | None:
        payload = self.get_bytes(key)
        if payload is None:
            return None
        try:
            value = _Unpickler(io.BytesIO(payload)).load()
        except Exception:  # any damage the digest did not catch: treat as absent
            return None
        return value if isinstance(value, expected) else None

    def put_object(self, key: str, value: object) -> None:
        if self.root is not None:
            self.put_bytes(key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


def _write(path: Path, data: bytes) -> None:
    """Atomically (a temporary file renamed into place); errors are ignored: no cache, same
    results. No fsync: a torn entry fails its digest check and is rebuilt."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# --- lessons: extract + merge, keyed by the lesson's and its sidecar's bytes -------------------


def _sidecar(shown: str) -> Path:
    """`merge.sidecar_path`, without importing merge (and its YAML checks) on a cached run."""
    return Path(shown).with_suffix(".yaml")


def _read(path: Path, limit: int) -> bytes | None:
    """The file's bytes, or None for anything unusual (missing, too big, a device or pipe):
    the uncached path then reads it again and says what is wrong."""
    try:
        return read_limited(path, limit, str(path), "file", "")
    except (OSError, CardsError):
        return None


class LessonLoader:
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
        sidecar_file = _sidecar(shown)
        sidecar = _read(sidecar_file, MAX_YAML_BYTES) if data is not None else None
        if data is None or (sidecar is None and sidecar_file.exists()):
            return False  # not cached; unreadable ones are reported by `extract`
        if sidecar is None and leftover_sidecars(sidecar_file.parent):
            return False  # whether one of them is this lesson's depends on other files
        key = self._key(shown, data, sidecar)
        content = self.cache.get_object(key, LessonContent)
        if content is not None and content.lesson.path == shown:
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
            if _read(_sidecar(lesson.path), MAX_YAML_BYTES) == sidecar:
                self.cache.put_object(key, content)
                self.content_keys[lesson.path] = key
        return content

    def load(self, paths: list[str]) -> tuple[list[LessonContent], list[str]]:
        """Every lesson below `paths`, merged, in `find_lessons` order; and the failures."""
        if self.jobs > 1:
            self._precompute(paths)
        lessons, failures = find_lessons(paths, self.extract)
        return [self.content(lesson) for lesson in lessons], failures

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
    """A worker's share of `LessonLoader`: one lesson's content and the digest of its text."""
    from mlops_cards.extract import extract_text, read_lesson_text
    from mlops_cards.merge import merge_lesson

    path, shown = file
    text = read_lesson_text(path, shown)
    return merge_lesson(extract_text(text, shown)), _sha(text.encode("utf-8"))


# --- a deck's notes, per lesson, keyed by the lesson's content and everything rendering uses ---


def deck_notes(
    cache: Cache,
    builder: NoteBuilder,
    lessons: list[LessonDeck],
    content_keys: dict[str, str],
    context: str,
    jobs: int = 1,
) -> list[DeckNote]:
    """The notes of every lesson, in order. A lesson's notes come from the cache when its
    content, its place in the deck and `context` (note types, card kinds, course folder) are the
    same and every image it shows still has the same bytes; the others are rendered — by worker
    processes first when `jobs` > 1 — and kept for next time."""
    renderer = builder.renderer
    keys: list[str | None] = [None] * len(lessons)
    entries: list[tuple[Any, ...] | None] = [None] * len(lessons)
    for i, lesson in enumerate(lessons):
        content_key = content_keys.get(lesson.content.lesson.path)
        if content_key is not None and cache.enabled:
            key = cache.key("notes", [content_key, lesson.subdeck, str(lesson.number), context])
            keys[i], entries[i] = key, cache.get_object(key, tuple)
    fresh = [False] * len(lessons)  # made in this run: kept in the cache afterwards
    misses = [i for i, entry in enumerate(entries) if entry is None]
    made_here = precompute(_render_notes(builder), [lessons[i] for i in misses], jobs)
    for i, made in zip(misses, made_here, strict=True):
        entries[i], fresh[i] = made, made is not None

    notes: list[DeckNote] = []
    for lesson, lesson_key, entry, new in zip(lessons, keys, entries, fresh, strict=True):
        # Cached or made by a worker: its images are bundled here, in lesson order, as
        # rendering them here would have.
        if entry is None or not _replay(renderer, entry):
            entry, new = _render_notes(builder)(lesson), True
        notes.extend(entry[0])
        if new and lesson_key is not None:
            cache.put_object(lesson_key, entry)
    return notes


# A lesson's notes and the images they bundled: (source, src, line, bundled name) each.
NotesEntry = tuple[tuple[DeckNote, ...], tuple[tuple[str, str, int, str], ...]]


def _render_notes(builder: NoteBuilder) -> Callable[[LessonDeck], NotesEntry]:
    """Renders one lesson's notes with `builder`."""

    def render(lesson: LessonDeck) -> NotesEntry:
        start = len(builder.renderer.bundled)
        notes = tuple(builder.lesson_notes(lesson))
        return notes, tuple(builder.renderer.bundled[start:])

    return render


def _replay(renderer: CardRenderer, entry: tuple[Any, ...]) -> bool:
    """Bundle a cached lesson's images again: True when each still gets the name its HTML uses."""
    if len(entry) != 2 or not all(isinstance(n, DeckNote) for n in entry[0]):
        return False
    try:
        return all(
            renderer.bundle(src, source=Path(source), line=line) == name
            for source, src, line, name in entry[1]
        )
    except (CardsError, OSError, TypeError, ValueError):
        return False  # rendered again, which reports the problem properly


def notes_context(kinds: object, notetypes: Iterable[NoteTypeLike], course_root: Path) -> str:
    """What every lesson's notes depend on besides the lesson: one string for the cache key."""
    types = sorted(
        (t.kind, t.model_id, t.name, t.fields, t.templates, t.css, t.is_cloze) for t in notetypes
    )
    return repr((kinds, types, str(course_root)))


# --- whole outputs ---------------------------------------------------------------------------


def apkg_key(cache: Cache, deck: ExportDeck) -> str:
    """Everything the .apkg's bytes depend on: the deck, every note, every media file's bytes."""

    import sqlite3
    import zlib

    def parts() -> Iterable[bytes | str]:
        yield f"sqlite {sqlite3.sqlite_version} zlib {zlib.ZLIB_RUNTIME_VERSION}"
        yield repr((deck.name, deck.deck_id, deck.description, deck.subdecks))
        for notetype, mod in deck.notetypes:
            yield repr((notetype, mod))
        for note in deck.notes:
            yield repr(note)
        for name, path in deck.media:
            yield name
            yield hashlib.sha256(path.read_bytes()).digest()

    return cache.key("apkg", parts())
