"""`build`: the stages (`stages.py`) for every deck, the lock update, then the outputs.

Everything is computed in memory first and written only when every deck built: a failed build
leaves the previous outputs untouched, and each file is replaced atomically.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from mlops_cards.atomic import holding, write_files
from mlops_cards.cache import Cache
from mlops_cards.checklist_stage import deck_checklists
from mlops_cards.deckdata import DeckNote
from mlops_cards.epoch import build_time
from mlops_cards.errors import CardsError, DiagnosticsError
from mlops_cards.limits import MAX_CACHE_ENTRY_BYTES, read_limited
from mlops_cards.lockfile import (
    Lock,
    LockUpdate,
    lock_bytes,
    lock_differences,
    lock_digest,
    read_lock,
    update_lock,
)
from mlops_cards.matching import Matched, frozen_message, match_deck
from mlops_cards.quality import card_quality
from mlops_cards.resolve import DeckTarget
from mlops_cards.stages import (
    DeckNotes,
    Progress,
    apkg,
    export_deck,
    load_lessons,
    make_notes,
    media_sha256,
    plan_notes,
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
    data: bytes | None  # None: the output file already holds the deck (`_Outcome`)
    checklists: dict[str, bytes]  # file name in the output folder -> content
    report: DeckReport
    lock_data: bytes = b""  # the lock as written (computed once: 30 MB for 20,000 notes)


@dataclass(frozen=True)
class _Outcome:
    """What the notes and the lock made of a deck: the .apkg's sha256 and the report's parts
    they decide, with the sha256 of each image it packs. Kept in the cache under everything that
    went into it (`_settled`) when the build left the lock as it found it: the next build of
    the same notes against that lock, whose .apkg and images still have those bytes, has no
    matching, lock or .apkg to do or write."""

    sha256: str
    lock_written: bool
    notes_per_kind: tuple[tuple[str, int], ...]
    new: tuple[str, ...]
    changed: tuple[str, ...]
    unchanged: int
    retired: tuple[str, ...]
    notetypes_changed: tuple[str, ...]
    media: int
    images: tuple[tuple[str, str], ...]  # (path, sha256) of each, as packed
    hints: tuple[str, ...]  # `formerly:` suggestions (matching.py)
    identity: tuple[str, ...]
    subdecks_kept: tuple[str, ...]


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
    quality = card_quality(
        loaded.contents, manifest.quality, manifest.cards, cache, loaded.keys, jobs
    )
    warnings += tuple(quality)  # always
    rendering = _stage_progress(progress, f"building {manifest.name}: lessons made into notes")
    plan = plan_notes(manifest, loaded, cache)
    lock = lock_digest(target.lock) if cache.enabled else None
    settled = functools.partial(_settled, cache, target, lock, frozen, retire)
    # Each plan key covers its lesson, subdeck and note types (the images: `_outputs_hold`).
    by_plan = settled("plan", plan.keys) if None not in plan.keys else None
    outcome = by_plan.outcome if by_plan else None
    data: bytes | None = None  # None: the .apkg on disk already has these bytes
    lock_data = b""
    if outcome is None:
        made = make_notes(manifest, loaded, cache, jobs, rendering, plan)
        # The same notes as before from other lesson text (prose edited): settled all the same.
        by_notes = settled("notes", _notes_parts(made))
        outcome = by_notes.outcome if by_notes else None
        if outcome is None:
            outcome, data, lock_data = _identify_and_export(
                target, made, now, frozen, retire, cache
            )
        if not outcome.lock_written:  # the next build with the same notes and lock is settled
            for found in (by_plan, by_notes):
                if found:
                    cache.put_object(found.key, outcome)
    checklists, checklist_warnings = deck_checklists(cache, manifest, loaded, plan, now, jobs)
    report = DeckReport(
        name=manifest.name,
        output=target.output,
        sha256=outcome.sha256,
        lock=target.lock,
        lock_written=outcome.lock_written,
        notes_per_kind=outcome.notes_per_kind,
        new=outcome.new,
        changed=outcome.changed,
        unchanged=outcome.unchanged,
        retired=outcome.retired,
        retired_published=retire,
        notetypes_changed=outcome.notetypes_changed,
        unanswered=unanswered_lines(loaded.contents),
        media=outcome.media,
        warnings=tuple(d.format() for d in warnings) + outcome.hints + checklist_warnings,
        checklists=tuple((name, _sha256(b)) for name, b in checklists.items()),
        identity=outcome.identity,
        subdecks_kept=outcome.subdecks_kept,
    )
    return _Built(target, data, checklists, report, lock_data)


def _identify_and_export(
    target: DeckTarget, made: DeckNotes, now: int, frozen: bool, retire: bool, cache: Cache
) -> tuple[_Outcome, bytes, bytes]:
    """The deck's notes against its lock (matching, then the lock update), then the .apkg:
    what they made of it, the .apkg's bytes and the new lock's."""
    old_lock = read_lock(target.lock)
    # Which published note each item is: GUIDs and subdecks from the lock (matching.py).
    made, matched = match_deck(old_lock, made, target.lock.parent)
    update = lock_notes(target, made, old_lock, now, frozen, retire, matched)
    deck = export_deck(target.manifest, made, update.notes, update.notetype_mods)
    data = apkg(deck, cache)
    lock_data = lock_bytes(update.lock)
    outcome = _Outcome(
        sha256=_sha256(data),
        lock_written=_lock_changes(target.lock, lock_data, old_lock, update.lock),
        notes_per_kind=tuple(sorted(Counter(n.kind for n in update.notes).items())),
        new=tuple(_label(n) for n in update.new),
        changed=tuple(_label(n) for n in update.changed),
        unchanged=len(update.unchanged),
        retired=tuple(_label(n) for n in update.retired),
        notetypes_changed=update.notetypes_changed,
        media=len(deck.media),
        images=tuple((str(path), media_sha256(path)) for _, path in deck.media),
        hints=tuple(d.format() for d in matched.hints),
        identity=matched.events,
        subdecks_kept=matched.kept_subdecks,
    )
    return outcome, data, lock_data


@dataclass(frozen=True)
class _Lookup:
    key: str
    outcome: _Outcome | None  # None: not kept, or the outputs on disk are not its bytes


def _settled(
    cache: Cache,
    target: DeckTarget,
    lock: str | None,
    frozen: bool,
    retire: bool,
    kind: str,
    parts: Iterable[str | None],
) -> _Lookup | None:
    """The deck's `_Outcome` kept under the lock's bytes, the manifest and options, and `parts`
    (what every lesson's notes are made from, or the notes themselves), if the outputs still
    hold it; None without a cache or a lock (the build then writes one)."""
    if lock is None:
        return None
    # Lesson paths are recorded relative to the lock's folder from the working folder's.
    places = (os.getcwd(), str(target.output), str(target.lock))
    head = repr((target.manifest, places, frozen, retire))
    key = cache.key("outcome", [head, lock, kind, *(part or "" for part in parts)])
    outcome = cache.get_object(key, _Outcome)
    return _Lookup(key, outcome if outcome and _outputs_hold(target, outcome) else None)


def _notes_parts(made: DeckNotes) -> Iterator[str]:
    yield from sorted(repr(t) for t in made.notetypes.values())
    yield from (repr((d.content.lesson.path, d.subdeck, d.number)) for d in made.lessons)
    yield from (repr(note) for note in made.notes)


def _outputs_hold(target: DeckTarget, outcome: _Outcome) -> bool:
    """Whether the .apkg on disk, and every image it packs, still have the outcome's bytes."""
    images = ((Path(path), sha) for path, sha in outcome.images)
    return _file_sha256(target.output) == outcome.sha256 and all(
        media_sha256(path) == sha for path, sha in images
    )


def _file_sha256(path: Path) -> str | None:
    """The sha256 of a file this build wrote before; None for anything else there (no file, a
    link to a device, a pipe: read through the bounded reader, which never blocks)."""
    try:
        return _sha256(read_limited(path, MAX_CACHE_ENTRY_BYTES, str(path), "deck", ""))
    except (OSError, CardsError):
        return None


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


def _lock_changes(path: Path, new: bytes, old_lock: Lock, new_lock: Lock) -> bool:
    """Whether the lock file must be written: not when it already holds `new`, nor when it says
    the same in another layout (the lock's text is a function of its content)."""
    return not _holds(path, new) and new_lock != old_lock


def _holds(path: Path, data: bytes) -> bool:
    """Whether the file holds exactly `data`, read by the megabyte (no second copy in memory)."""
    try:
        if path.stat().st_size != len(data):
            return False
        with path.open("rb") as file:
            offset = 0
            while chunk := file.read(1 << 20):
                if chunk != data[offset : offset + len(chunk)]:
                    return False
                offset += len(chunk)
            return offset == len(data)
    except OSError:
        return False


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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
    written = [(b.target.output, b.data) for b in built if b.data is not None]
    written += [
        (b.target.output.parent / n, data) for b in built for n, data in b.checklists.items()
    ]
    written += [(b.target.lock, b.lock_data) for b in built if b.report.lock_written]
    written += [
        (out_dir / SUMS_NAME, sums.encode()),
        (out_dir / REPORT_NAME, report_json(decks).encode()),
        (out_dir / NOTES_NAME, release_notes(decks).encode()),
    ]
    # A file that already holds its bytes is left alone (its date too). The rest in one step:
    # a full disk or Ctrl-C leaves every previous output (and lock) as it was.
    changed = [(path, data) for path, data in written if not _holds(path, data)]
    if changed:
        write_files(changed)
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
