"""The checklist stage of a build: the deck's checklist files, kept in the cache for the deck
(every lesson's content key, the formats, the date the pages show) and for each lesson (its
sheet and HTML), so that after one lesson's edit only that lesson's sheet is made again.

`checklist.py` (and Jinja2, WeasyPrint) are imported only when something must be made: a
build served by the cache does not load them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, TypeVar

from mlops_cards.cache import Cache
from mlops_cards.manifest import DeckManifest
from mlops_cards.models import LessonContent
from mlops_cards.stages import Loaded, NotesPlan

if TYPE_CHECKING:
    from mlops_cards.checklist import Sheet

T = TypeVar("T")


@dataclass(frozen=True)
class _Checklists:
    """A deck's checklist files (file name -> content, in order) and the warnings made."""

    files: tuple[tuple[str, bytes], ...]
    warnings: tuple[str, ...]


def deck_checklists(
    cache: Cache, manifest: DeckManifest, loaded: Loaded, plan: NotesPlan, now: int, jobs: int
) -> tuple[dict[str, bytes], tuple[str, ...]]:
    """The deck's checklists (file name -> bytes) and the warnings made, lessons in deck order;
    from the cache when every lesson's content came with a key and the formats, the date and
    the versions of WeasyPrint and pypdf are the same."""
    contents = [lesson.content for lesson in plan.lessons]
    keys = [loaded.keys.get(c.lesson.path) for c in contents]
    formats = list(manifest.checklists)
    pdf = ""
    if "pdf" in formats:  # the PDF, or the warning instead of it, depends on WeasyPrint, pypdf
        pdf = repr((_version("weasyprint"), _version("pypdf")))
    # The package's pages show the build's date, not its time (the PDF embeds no time either):
    # a build later the same day finds them in the cache.
    day = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%d")
    # The note types decide how many cards a note makes: the counts the sheets show.
    notetypes = hashlib.sha256(repr(sorted(plan.notetypes.items())).encode()).hexdigest()
    head = repr((manifest.name, manifest.output, formats, day, pdf, manifest.cards, notetypes))
    # A course's own page templates are not in the tool's fingerprint: not kept.
    store = cache if not manifest.page_templates else Cache(None)
    by_id = {c.lesson.id: k for c, k in zip(contents, keys, strict=True) if k is not None}
    kept = _KeptParts(store, by_id, repr((manifest.cards, notetypes)))
    entry = (store if None not in keys else Cache(None)).memo(
        "checklists",
        [head, *(k or "" for k in keys)],
        lambda: _make_checklists(manifest, contents, now, jobs, kept),
        _Checklists,
    )
    return dict(entry.files), entry.warnings


@dataclass(frozen=True)
class _LessonEntry:
    """A lesson's sheet and its HTML (for its layout) in the cache: one entry, read and written
    once per build."""

    sheet: Sheet
    layout: str
    html: str


@dataclass
class _KeptParts:
    """Each lesson's sheet and its HTML in the cache, by the lesson's content key: after one
    lesson's edit, the checklists are joined from the others' parts (`checklist.Kept`)."""

    cache: Cache
    keys: dict[str, str]  # lesson id -> content key
    context: str  # card kinds and note types (the counts)
    _read: dict[str, _LessonEntry | None] = field(default_factory=dict)
    _sheets: dict[str, Sheet] = field(default_factory=dict)  # made, waiting for their HTML

    def get(self, kind: str, lesson_id: str, extra: str, expected: type[T]) -> T | None:
        entry = self._entry(lesson_id)
        if entry is None:
            return None
        value = entry.sheet if kind == "sheet" else entry.html if entry.layout == extra else None
        return value if isinstance(value, expected) else None

    def put(self, kind: str, lesson_id: str, extra: str, value: object) -> None:
        key = self._key(lesson_id)
        if key is None:
            return
        from mlops_cards.checklist import Sheet  # only ever put while a checklist is made

        if isinstance(value, Sheet):
            self._sheets[lesson_id] = value
            if value.is_empty:  # not printed: no HTML follows
                self.cache.put_object(key, _LessonEntry(value, "", ""))
            return
        entry = self._entry(lesson_id)
        sheet = self._sheets.get(lesson_id) or (entry.sheet if entry else None)
        if sheet is not None and isinstance(value, str):
            self.cache.put_object(key, _LessonEntry(sheet, extra, value))

    def _entry(self, lesson_id: str) -> _LessonEntry | None:
        if lesson_id not in self._read:
            key = self._key(lesson_id)
            self._read[lesson_id] = (
                None if key is None else self.cache.get_object(key, _LessonEntry)
            )
        return self._read[lesson_id]

    def _key(self, lesson_id: str) -> str | None:
        content = self.keys.get(lesson_id)
        if content is None or not self.cache.enabled:
            return None
        return self.cache.key("checklist-lesson", [content, self.context])


def _version(project: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(project)
    except metadata.PackageNotFoundError:
        return None


def _make_checklists(
    manifest: DeckManifest,
    contents: list[LessonContent],
    now: int,
    jobs: int,
    kept: _KeptParts | None = None,
) -> _Checklists:
    """The deck's checklists; a PDF is skipped with a warning when WeasyPrint is not installed
    (found out first: the other formats are then rendered once, not twice)."""
    from mlops_cards.checklist import PdfUnavailable, checklist_files, require_pdf

    formats = list(manifest.checklists)
    skipped: tuple[str, ...] = ()
    if "pdf" in formats:
        try:
            require_pdf()
        except PdfUnavailable as exc:
            formats.remove("pdf")
            skipped = (f"checklist PDF skipped: {exc}",)
    built = datetime.fromtimestamp(now, timezone.utc)
    files = checklist_files(
        manifest.name,
        contents,
        manifest.output,
        formats,
        built=built,
        jobs=jobs,
        templates=manifest.page_templates,
        kinds=manifest.cards,  # the checklist counts the deck's notes and cards as Anki does
        card_templates=manifest.templates,
        kept=kept,
    )
    return _Checklists(tuple(files.items()), skipped)
