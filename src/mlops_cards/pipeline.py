"""extract → merge → render → export, for every deck; then the report, the lock, the outputs.

Everything is computed in memory first and written only when every deck built: a failed build
leaves the previous outputs untouched, and each file is replaced atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from mlops_cards.anki_export import apkg_bytes
from mlops_cards.atomic import write_files
from mlops_cards.cache import Cache, LessonLoader, apkg_key, deck_notes, notes_context
from mlops_cards.checklist import PdfUnavailable, checklist_files, require_pdf
from mlops_cards.deckdata import DeckNote, ExportDeck
from mlops_cards.errors import CardsError
from mlops_cards.identity import stable_id
from mlops_cards.lockfile import Lock, lock_bytes, lock_differences, read_lock, update_lock
from mlops_cards.manifest import CardKinds, DeckManifest
from mlops_cards.models import Diagnostic, LessonContent
from mlops_cards.notes import NoteBuilder, order_lessons
from mlops_cards.notetypes import load_note_types
from mlops_cards.render import CardRenderer

REPORT_NAME = "build-report.json"
NOTES_NAME = "build-report.md"  # release notes: what a learner importing this release gets
SUMS_NAME = "SHA256SUMS"


class BuildError(CardsError):
    """The sources have errors (diagnostics) or the lock would change in a frozen build."""

    def __init__(self, message: str, lines: tuple[str, ...] = ()) -> None:
        self.lines = lines
        super().__init__(message + "".join(f"\n  {line}" for line in lines))


@dataclass(frozen=True)
class DeckTarget:
    """One deck to build: its manifest, where the .apkg goes, and its lock."""

    manifest: DeckManifest
    output: Path
    lock: Path


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


def build_time() -> int:
    """`SOURCE_DATE_EPOCH` when set (reproducible builds), else the clock."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        return int(time.time())
    if not value.strip().isdigit():
        raise CardsError(f"SOURCE_DATE_EPOCH must be whole seconds, got {value!r}")
    return int(value)


def course_root(manifest: DeckManifest) -> Path:
    """The folder no image may leave: the project (above `decks/`) and every lesson folder."""
    folders = [p.resolve().parent for p in manifest.lessons]
    # An ad-hoc deck (`build LESSON -o FILE.apkg`) has no manifest file: its output folder
    # is no part of the course, or `-o /tmp/x.apkg` would open the whole disk to images.
    if manifest.path.is_file():
        base = manifest.path.parent.resolve()
        folders.append(base.parent if base.name == "decks" else base)
    return Path(os.path.commonpath(folders))


def adhoc_manifest(lessons: list[Path], output: Path) -> DeckManifest:
    """A deck built straight from lesson files, named after the output file."""
    name = output.stem
    return DeckManifest(
        path=output.with_suffix(".yaml"),
        name=name,
        deck_id=stable_id(name),
        description="",
        lessons=tuple(lessons),
        cards=CardKinds(),
        templates=None,
        output=name,
        checklists=(),  # a quick deck from lesson files: `mlops-cards checklist` makes one
    )


def load_contents(
    manifest: DeckManifest, loader: LessonLoader | None = None
) -> tuple[list[LessonContent], list[Diagnostic]]:
    """Extract and merge every lesson; errors in any of them stop the build."""
    loader = loader or LessonLoader(Cache(None))
    contents, failures = loader.load([str(p) for p in manifest.lessons])
    if failures:
        raise BuildError(f"{manifest.path}: cannot read every lesson", tuple(failures))
    if not contents:
        raise CardsError(f"{manifest.path}: no lessons found (check `lessons:`)")
    diagnostics = sorted(
        {d for c in contents for d in (*c.lesson.diagnostics, *c.diagnostics)},
        key=Diagnostic.sort_key,
    )
    errors = tuple(d.format() for d in diagnostics if d.level == "error")
    if errors:
        raise BuildError(f"{manifest.name}: the lessons have errors; fix them first", errors)
    seen: dict[str, str] = {}
    for content in contents:
        other = seen.setdefault(content.lesson.id, content.lesson.path)
        if other != content.lesson.path:
            raise CardsError(
                f"{content.lesson.path}: lesson id `{content.lesson.id}` is also used by {other} "
                "(set `id:` in the front matter or the YAML to tell them apart)"
            )
    # "has no answer" warnings are listed as unanswered items already: say them once.
    unanswered = {(c.lesson.path, u.line) for c in contents for u in c.unanswered}
    warnings = [
        d
        for d in diagnostics
        if d.level == "warning"
        and (d.path, d.line) not in unanswered
        and not _UNANSWERED.match(d.message)  # the same, said at its stub in the YAML
    ]
    return contents, warnings


# The warnings of merge.py that stand for an item listed as unanswered.
_UNANSWERED = re.compile(
    r"(question|objective) \S+ (has no answer|is not answered yet)$"
    r"|bell \d+ has no term( yet \(.*\))?$|term .+ has no definition$"
)


def _label(note: DeckNote) -> str:
    return f"{note.lesson_id}/{note.kind}/{note.key}"


def _unanswered(contents: list[LessonContent]) -> tuple[str, ...]:
    return tuple(
        f"{c.lesson.path}:{u.line}: {u.kind} {u.key}: {' '.join(u.text.split())[:80]}"
        for c in contents
        for u in c.unanswered
    )


def _build_deck(
    target: DeckTarget, now: int, frozen: bool, retire: bool, cache: Cache, jobs: int
) -> _Built:
    manifest = target.manifest
    loader = LessonLoader(cache, jobs)
    contents, warnings = load_contents(manifest, loader)
    lessons = order_lessons(manifest.name, contents)
    # Read before the notes exist: parsing a large lock briefly takes more memory than it keeps.
    old_lock = read_lock(target.lock)
    root = course_root(manifest)
    renderer = CardRenderer(root)
    notetypes = load_note_types(manifest.templates)
    builder = NoteBuilder(notetypes, renderer, manifest.cards)
    context = notes_context(manifest.cards, notetypes.values(), root)
    notes = deck_notes(cache, builder, lessons, loader.content_keys, context, jobs)

    update = update_lock(old_lock, notes, list(notetypes.values()), now, retire)
    if frozen:
        differences = lock_differences(old_lock, update.lock)
        if differences:
            raise BuildError(
                f"{target.lock}: the lock would change (--frozen); build without --frozen "
                "and commit the lock",
                tuple(differences),
            )
    published_types = {n.notetype for n in update.notes}
    types = [t for t in notetypes.values() if t.model_id in published_types]
    deck = ExportDeck(
        name=manifest.name,
        deck_id=manifest.deck_id,
        description=manifest.description,
        subdecks=tuple(
            (name, stable_id(name))
            for name in dict.fromkeys(
                [lesson.subdeck for lesson in lessons] + [n.deck for n in update.notes]
            )
        ),
        notetypes=tuple((t, update.notetype_mods[t.model_id]) for t in types),
        notes=update.notes,
        media=tuple(sorted(renderer.media().items())),
    )
    data = _apkg(cache, deck)
    ordered = [lesson.content for lesson in lessons]
    keys = [loader.content_keys.get(c.lesson.path) for c in ordered]
    checklists, checklist_warnings = _cached_checklists(cache, manifest, ordered, keys, now, jobs)
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
        unanswered=_unanswered(contents),
        media=len(deck.media),
        warnings=tuple(d.format() for d in warnings) + checklist_warnings,
        checklists=tuple((name, hashlib.sha256(b).hexdigest()) for name, b in checklists.items()),
    )
    return _Built(target, data, checklists, old_lock, update.lock, report, lock_data)


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


def _apkg(cache: Cache, deck: ExportDeck) -> bytes:
    if not cache.enabled:
        return apkg_bytes(deck)
    key = apkg_key(cache, deck)
    data = cache.get_bytes(key)
    if data is None:
        data = apkg_bytes(deck)
        cache.put_bytes(key, data)
    return data


def _cached_checklists(
    cache: Cache,
    manifest: DeckManifest,
    contents: list[LessonContent],
    keys: list[str | None],
    now: int,
    jobs: int,
) -> tuple[dict[str, bytes], tuple[str, ...]]:
    """`_checklists`, kept in the cache when every lesson's content came with a key."""
    if not cache.enabled or None in keys or manifest.page_templates:  # a course's own templates
        return _checklists(manifest, contents, now, jobs)
    formats = list(manifest.checklists)
    pdf = ""
    if "pdf" in formats:  # the PDF, or the warning instead of it, depends on WeasyPrint
        pdf = repr(_weasyprint_version())
    head = repr((manifest.name, manifest.output, formats, now, pdf, manifest.cards))
    key = cache.key("checklists", [head, *(k or "" for k in keys)])
    entry = cache.get_object(key, tuple)
    if (
        entry is not None
        and len(entry) == 2
        and isinstance(entry[0], dict)
        and all(isinstance(v, bytes) for v in entry[0].values())
    ):
        return entry[0], tuple(entry[1])
    result = _checklists(manifest, contents, now, jobs)
    cache.put_object(key, result)
    return result


def _weasyprint_version() -> str | None:
    from importlib import metadata

    try:
        return metadata.version("weasyprint")
    except metadata.PackageNotFoundError:
        return None


def _checklists(
    manifest: DeckManifest, contents: list[LessonContent], now: int, jobs: int
) -> tuple[dict[str, bytes], tuple[str, ...]]:
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
    )
    return files, skipped


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
        for title, items in (("Changed", d.changed), ("New", d.new), ("Retired", d.retired)):
            if items:
                lines += ["", f"### {title}", "", *(f"- `{item}`" for item in items)]
        lines.append("")
    return "\n".join(lines)


def build(
    targets: list[DeckTarget],
    out_dir: Path,
    frozen: bool = False,
    retire: bool = False,
    cache: Cache | None = None,
    jobs: int = 1,
) -> BuildReport:
    """Build every deck, then write the .apkg files, locks, SHA256SUMS and the JSON report.

    `cache` (default: none) keeps each lesson's content and notes, the .apkg and the checklists
    by content, so a build with nothing changed skips the work; the output is the same.
    `jobs` > 1 spreads lessons that are not cached over that many processes."""
    now = build_time()
    cache = cache or Cache(None)
    built = [_build_deck(t, now, frozen, retire, cache, jobs) for t in targets]
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
