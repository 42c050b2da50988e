"""`build`: the stages (`stages.py`) for every deck, the lock update, then the outputs.

Everything is computed in memory first and written only when every deck built: a failed build
leaves the previous outputs untouched, and each file is replaced atomically.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

from mlops_cards.atomic import holding, write_files
from mlops_cards.cache import Cache
from mlops_cards.checklist import PdfUnavailable, Sheet, checklist_files, require_pdf
from mlops_cards.deckdata import DeckNote
from mlops_cards.epoch import build_time
from mlops_cards.errors import CardsError, DiagnosticsError
from mlops_cards.lockfile import (
    Lock,
    LockUpdate,
    lock_bytes,
    lock_differences,
    read_lock,
    update_lock,
)
from mlops_cards.manifest import DeckManifest
from mlops_cards.matching import Matched, frozen_message, match_deck
from mlops_cards.models import LessonContent
from mlops_cards.quality import card_quality
from mlops_cards.resolve import DeckTarget
from mlops_cards.stages import (
    DeckNotes,
    Loaded,
    Progress,
    apkg,
    export_deck,
    load_lessons,
    make_notes,
    unanswered_lines,
    validate_deck,
)

T = TypeVar("T")
REPORT_NAME = "build-report.json"
NOTES_NAME = "build-report.md"  # release notes: what a learner importing this release gets
SUMS_NAME = "SHA256SUMS"


@dataclass(frozen=True)
class DeckReport:
    name: str
    output: Path
    sha256: str
    lock: Path
    lock_written: bool
    notes_per_kind: tuple[tuple[str, int], ...]
    new: tuple[str, ...]  # "lesson/kind/key"
    changed: tuple[str, ...]
    unchanged: int
    retired: tuple[str, ...]
    retired_published: bool
    notetypes_changed: tuple[str, ...]
    unanswered: tuple[str, ...]  # "path:line: kind key: text"
    media: int
    warnings: tuple[str, ...]
    checklists: tuple[tuple[str, str], ...] = ()  # (file name, sha256)
    identity: tuple[str, ...] = ()  # identity events: "renamed lesson: a → b", ... (matching)
    subdecks_kept: tuple[str, ...] = ()  # lessons whose published subdeck name was kept


@dataclass(frozen=True)
class BuildReport:
    decks: tuple[DeckReport, ...]
    sums: Path
    report: Path


@dataclass(frozen=True)
class _Built:
    target: DeckTarget
    data: bytes
    checklists: dict[str, bytes]  # file name in the output folder -> content
    old_lock: Lock
    new_lock: Lock
    report: DeckReport
    lock_data: bytes = b""  # new_lock as written (computed once: 30 MB for 20,000 notes)


def _label(note: DeckNote) -> str:
    return f"{note.lesson_id}/{note.kind}/{note.key}"


# `progress(what, done, total)`: how far the build got, for the CLI's progress line.
BuildProgress = Callable[[str, int, int], None]


def _stage_progress(progress: BuildProgress | None, what: str) -> Progress | None:
    if progress is None:
        return None
    return lambda done, total: progress(what, done, total)


def _build_deck(
    target: DeckTarget,
    now: int,
    frozen: bool,
    retire: bool,
    cache: Cache,
    jobs: int,
    progress: BuildProgress | None = None,
) -> _Built:
    manifest = target.manifest
    reading = _stage_progress(progress, f"building {manifest.name}: lessons read")
    loaded = load_lessons([str(p) for p in manifest.lessons], cache, jobs, reading)
    warnings = validate_deck(manifest.name, manifest.path, loaded)
    warnings += tuple(card_quality(loaded.contents, manifest.quality, manifest.cards))  # always
    # Read before the notes exist: parsing a large lock briefly takes more memory than it keeps.
    old_lock = read_lock(target.lock)
    rendering = _stage_progress(progress, f"building {manifest.name}: lessons made into notes")
    made = make_notes(manifest, loaded, cache, jobs, rendering)
    # Which published note each item is: GUIDs and subdecks from the lock (matching.py).
    made, matched = match_deck(old_lock, made, target.lock.parent)
    update = lock_notes(target, made, old_lock, now, frozen, retire, matched)
    deck = export_deck(manifest, made, update.notes, update.notetype_mods)
    data = apkg(deck, cache)
    checklists, checklist_warnings = _checklists(cache, manifest, loaded, made, now, jobs)
    lock_data = lock_bytes(update.lock)
    report = DeckReport(
        name=manifest.name,
        output=target.output,
        sha256=hashlib.sha256(data).hexdigest(),
        lock=target.lock,
        lock_written=_lock_changes(target.lock, lock_data, old_lock),
        notes_per_kind=tuple(sorted(Counter(n.kind for n in update.notes).items())),
        new=tuple(_label(n) for n in update.new),
        changed=tuple(_label(n) for n in update.changed),
        unchanged=len(update.unchanged),
        retired=tuple(_label(n) for n in update.retired),
        retired_published=retire,
        notetypes_changed=update.notetypes_changed,
        unanswered=unanswered_lines(loaded.contents),
        media=len(deck.media),
        warnings=tuple(d.format() for d in (*warnings, *matched.hints)) + checklist_warnings,
        checklists=tuple((name, hashlib.sha256(b).hexdigest()) for name, b in checklists.items()),
        identity=matched.events,
        subdecks_kept=matched.kept_subdecks,
    )
    return _Built(target, data, checklists, old_lock, update.lock, report, lock_data)


def lock_notes(
    target: DeckTarget,
    made: DeckNotes,
    old_lock: Lock,
    now: int,
    frozen: bool,
    retire: bool,
    matched: Matched | None = None,
) -> LockUpdate:
    """The identity stage: this build's notes (their GUIDs from `matched`) against the lock,
    each note's `mod` decided (and the retired ones kept with --retire); with --frozen, any
    change to the lock is an error that says what moved."""
    base, texts = (matched.old_lock, matched.texts) if matched else (old_lock, None)
    notetypes = list(made.notetypes.values())
    update = update_lock(base, list(made.notes), notetypes, now, retire, texts)
    if frozen:
        differences = lock_differences(old_lock, update.lock)
        if differences:
            raise DiagnosticsError(frozen_message(target.lock, matched), tuple(differences))
    return update


def _lock_changes(path: Path, new: bytes, old_lock: Lock) -> bool:
    """Whether the lock file must be written: the common case, a file already holding `new`,
    is seen without writing out the old lock again (30 MB for 20,000 notes)."""
    try:
        if path.stat().st_size == len(new):
            with path.open("rb") as file:  # by the megabyte: no second copy in memory
                offset, same = 0, True
                while same and (chunk := file.read(1 << 20)):
                    same = chunk == new[offset : offset + len(chunk)]
                    offset += len(chunk)
                if same and offset == len(new):
                    return False
    except OSError:
        pass
    return new != lock_bytes(old_lock)


@dataclass(frozen=True)
class _Checklists:
    """A deck's checklist files (file name -> content, in order) and the warnings made."""

    files: tuple[tuple[str, bytes], ...]
    warnings: tuple[str, ...]


def _checklists(
    cache: Cache, manifest: DeckManifest, loaded: Loaded, made: DeckNotes, now: int, jobs: int
) -> tuple[dict[str, bytes], tuple[str, ...]]:
    """The deck's checklists, lessons in deck order; from the cache when every lesson's content
    came with a key and the formats, the date and the versions of WeasyPrint and pypdf are the
    same."""
    contents = [lesson.content for lesson in made.lessons]
    keys = [loaded.keys.get(c.lesson.path) for c in contents]
    formats = list(manifest.checklists)
    pdf = ""
    if "pdf" in formats:  # the PDF, or the warning instead of it, depends on WeasyPrint, pypdf
        pdf = repr((_version("weasyprint"), _version("pypdf")))
    # The package's pages show the build's date, not its time (the PDF embeds no time either):
    # a build later the same day finds them in the cache. A course's own templates are not kept.
    day = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%d")
    # The note types decide how many cards a note makes: the counts the sheets show.
    notetypes = hashlib.sha256(repr(sorted(made.notetypes.items())).encode()).hexdigest()
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


def report_json(decks: tuple[DeckReport, ...]) -> str:
    """The build report as JSON: nothing volatile, so it is reproducible too."""
    data = [
        {
            "deck": d.name,
            "output": d.output.name,
            "sha256": d.sha256,
            "lock": str(d.lock),
            "notes": dict(d.notes_per_kind),
            "new": list(d.new),
            "changed": list(d.changed),
            "unchanged": d.unchanged,
            "retired": list(d.retired),
            "retired_published": d.retired_published,
            "notetypes_changed": list(d.notetypes_changed),
            "unanswered": list(d.unanswered),
            "media": d.media,
            "checklists": [name for name, _ in d.checklists],
            "identity": list(d.identity),
            "subdecks_kept": list(d.subdecks_kept),
        }
        for d in decks
    ]
    return json.dumps({"decks": data}, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def release_notes(decks: tuple[DeckReport, ...]) -> str:
    """The build report as Markdown for a release page, written for learners."""
    lines = []
    for d in decks:
        total = sum(n for _, n in d.notes_per_kind)
        kinds = ", ".join(f"{n} {kind}" for kind, n in d.notes_per_kind)
        lines += [
            f"## {d.name}",
            "",
            f"- `{d.output.name}`: {total} notes ({kinds})",
            f"- Since the last release: {len(d.new)} new, {len(d.changed)} changed, "
            f"{d.unchanged} unchanged, {len(d.retired)} retired",
            "- Import it over the previous release: changed cards update in place and keep "
            "their review history.",
        ]
        sections = (
            ("Kept with their history", d.identity),
            ("Subdecks kept", d.subdecks_kept),
            ("Changed", d.changed),
            ("New", d.new),
            ("Retired", d.retired),
        )
        for title, items in sections:
            if items:
                lines += ["", f"### {title}", "", *(f"- `{item}`" for item in items)]
        lines.append("")
    return "\n".join(lines)


def _written_folders(
    targets: list[DeckTarget], out_dir: Path, *_: object, **__: object
) -> list[Path]:
    """Where `build` writes: one build at a time there (atomic.holding)."""
    return [out_dir, *(t.output.parent for t in targets), *(t.lock.parent for t in targets)]


@holding(_written_folders)
def build(
    targets: list[DeckTarget],
    out_dir: Path,
    frozen: bool = False,
    retire: bool = False,
    cache: Cache | None = None,
    jobs: int = 1,
    progress: BuildProgress | None = None,
) -> BuildReport:
    """Build every deck, then write the .apkg files, locks, SHA256SUMS and the JSON report.

    `cache` (default: none) keeps each lesson's content and notes, the .apkg and the checklists
    by content, so a build with nothing changed skips the work; the output is the same.
    `jobs` > 1 spreads lessons that are not cached over that many processes; `progress` hears
    how far each deck got."""
    now = build_time()
    cache = cache or Cache(None)
    built = [_build_deck(t, now, frozen, retire, cache, jobs, progress) for t in targets]
    outputs = [b.target.output for b in built]
    if len(set(outputs)) != len(outputs):
        raise CardsError("two decks would write the same output file (set `output:` apart)")

    decks = tuple(b.report for b in built)
    files = sorted(
        {(d.output.name, d.sha256) for d in decks} | {c for d in decks for c in d.checklists}
    )
    sums = "".join(f"{sha}  {name}\n" for name, sha in files)
    # One step: a full disk or Ctrl-C leaves every previous output (and lock) as it was.
    write_files(
        [(b.target.output, b.data) for b in built]
        + [
            (b.target.output.parent / name, data)
            for b in built
            for name, data in b.checklists.items()
        ]
        + [(b.target.lock, b.lock_data) for b in built if b.report.lock_written]
        + [
            (out_dir / SUMS_NAME, sums),
            (out_dir / REPORT_NAME, report_json(decks)),
            (out_dir / NOTES_NAME, release_notes(decks)),
        ]
    )
    return BuildReport(decks, out_dir / SUMS_NAME, out_dir / REPORT_NAME)


def report_text(report: BuildReport) -> str:
    """What the CLI prints: per deck, what changed for learners and what is still missing."""
    lines = []
    for d in report.decks:
        kinds = ", ".join(f"{kind} {n}" for kind, n in d.notes_per_kind) or "none"
        lines.append(f"{d.name} -> {d.output}")
        lines.append(f"  notes: {sum(n for _, n in d.notes_per_kind)} ({kinds}); media: {d.media}")
        retired_word = "retired (published, tagged retired)" if d.retired_published else "retired"
        lines.append(
            f"  against {d.lock}: {len(d.new)} new, {len(d.changed)} changed, "
            f"{d.unchanged} unchanged, {len(d.retired)} {retired_word}"
        )
        for title, items in (("changed", d.changed), ("retired", d.retired)):
            lines.extend(f"    {title}: {item}" for item in items)
        lines.extend(f"  identity: {event}" for event in d.identity)
        lines.extend(f"  subdeck: {kept}" for kept in d.subdecks_kept)
        if d.notetypes_changed:
            lines.append(f"  note types new or changed: {', '.join(d.notetypes_changed)}")
        lines.append(f"  unanswered: {len(d.unanswered)}")
        lines.extend(f"    {item}" for item in d.unanswered)
        lines.extend(f"  {w}" for w in d.warnings)
        lines.append(f"  sha256 {d.sha256}")
        if d.checklists:
            lines.append(f"  checklists: {', '.join(name for name, _ in d.checklists)}")
    notes = report.report.with_name(NOTES_NAME)
    lines.append(f"wrote {report.sums}, {report.report} and {notes}")
    return "\n".join(lines)
