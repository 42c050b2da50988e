"""Command-line interface. Thin: parse options, call the library, print, choose the exit code.

Heavy modules are imported inside the commands so that `mlops-cards --version` stays instant.
Exit codes: 0 ok, 1 problems found, 2 usage error (a path that does not exist included: the
path arguments are `click.Path`s, which also gives shells file completion). The library's errors
become click exceptions inside the group (`_Group`), so `cli` called by click's test runner
prints the same words and exits with the same code as the installed command; `main` adds only
Ctrl-C handling. Error and warning lines go through `say`, which colours them on a terminal.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NoReturn

import click

from mlops_cards import __version__
from mlops_cards.console import colour_choice, paint, paint_text
from mlops_cards.errors import CardsError, DiagnosticsError, UsageError

if TYPE_CHECKING:
    from mlops_cards.models import Lesson

# Every path argument: must exist (else a usage error, exit 2), and shells complete file names.
PATHS = click.Path(exists=True)


def say(line: str, err: bool = False, color: bool | None = None) -> None:
    """Print a message line, its `error`/`warning` word coloured on a terminal."""
    click.echo(paint(line), err=err, color=color)


def _note(line: str) -> None:
    """What resolve.py says about the paths it chose (the content/ fallback): on stderr."""
    click.echo(line, err=True)


class Failed(click.ClickException):
    """A library error as click shows it: `error: message` (and its lines), on stderr."""

    exit_code = 1

    def __init__(self, message: str, lines: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.lines = lines
        # Shown after the command's context is gone: its colour choice is kept from here.
        ctx = click.get_current_context(silent=True)
        self.color = ctx.color if ctx is not None else colour_choice(None, os.environ)

    def show(self, file: object = None) -> None:
        if self.message:
            say(f"error: {self.message}", err=True, color=self.color)
        for line in self.lines:
            say(f"  {line}" if self.message else line, err=True, color=self.color)


class FailedUsage(Failed):
    """A command called wrongly, in the library's words (`UsageError`)."""

    exit_code = 2


def failure(exc: Exception) -> Failed:
    """What the user sees for a library error, and the exit code."""
    if isinstance(exc, DiagnosticsError):
        return Failed(exc.message, exc.lines)
    if isinstance(exc, UsageError):
        return FailedUsage(str(exc))
    if isinstance(exc, OSError):
        return Failed(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
    return Failed(str(exc))


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (CardsError, OSError) as exc:
            raise failure(exc) from exc


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlops-cards")
@click.option(
    "--color/--no-color",
    default=None,
    help="Errors red, warnings yellow (default: on a terminal, unless NO_COLOR is set; "
    "FORCE_COLOR: always).",
)
@click.pass_context
def cli(ctx: click.Context, color: bool | None) -> None:
    """Turn Markdown course lessons into Anki decks and a printable checklist."""
    ctx.color = colour_choice(color, os.environ)


# `check` and `build`: how many processes do the lessons the cache does not hold.
jobs_option = click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    envvar="MLOPS_CARDS_JOBS",
    show_envvar=True,
    help="Processes for lessons not in the cache (default: one per CPU; 1: none extra).",
)


def fail(message: str, code: int = 1) -> NoReturn:
    """Stop with a one-line error and `code` (1, or 2 for a usage error)."""
    raise FailedUsage(message) if code == 2 else Failed(message)


# --- extract -----------------------------------------------------------------------------------


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, allow_dash=True))
@click.option("--json", "as_json", is_flag=True, help="Print the lessons as JSON.")
def extract(paths: tuple[str, ...], as_json: bool) -> None:
    """Say what lessons hold: objectives, questions, terms, tasks.

    PATHS are lesson files (any extension) or directories (every *.md below them, ordered by
    front-matter `sort`, then name); `-` reads one lesson from standard input (shown as
    <stdin>, listed first). Exits 1 when a lesson cannot be read; the others are still shown.
    """
    import json

    from mlops_cards.extract import find_lessons, lesson_as_dict, lesson_summary
    from mlops_cards.resolve import lesson_arguments

    files = [p for p in paths if p != "-"]
    lesson_paths, failures = lesson_arguments(files)
    lessons, found_errors = find_lessons(lesson_paths) if lesson_paths else ([], [])
    if len(files) < len(paths):
        try:
            lessons.insert(0, _stdin_lesson())
        except CardsError as exc:
            failures.insert(0, str(exc))
    errors = failures + found_errors
    if as_json:
        click.echo(
            json.dumps(
                {"lessons": [lesson_as_dict(x) for x in lessons]}, indent=2, ensure_ascii=False
            )
        )
    else:
        for lesson in lessons:
            click.echo(lesson_summary(lesson))
    for error in errors:
        say(f"error: {error}", err=True)
    if errors:
        sys.exit(1)


STDIN_NAME = "<stdin>"


def _stdin_lesson() -> Lesson:
    """The lesson on standard input, read as a lesson file is (same limits and checks)."""
    import tempfile

    from mlops_cards.extract import extract_text, read_lesson_text
    from mlops_cards.limits import MAX_LESSON_BYTES

    data = sys.stdin.buffer.read(MAX_LESSON_BYTES + 1)  # a byte over the limit: refused
    with tempfile.TemporaryDirectory(prefix="mlops-cards-stdin-") as folder:
        copy = Path(folder, "stdin.md")
        copy.write_bytes(data)
        return extract_text(read_lesson_text(copy, STDIN_NAME), STDIN_NAME)


# --- check / init / schema ---------------------------------------------------------------------


@cli.command()
@click.argument("paths", nargs=-1, type=PATHS)
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="How to print the diagnostics and the summary.",
)
@click.option(
    "--no-cache", is_flag=True, help="Read every lesson again; neither use nor fill the cache."
)
@jobs_option
def check(
    paths: tuple[str, ...], strict: bool, output_format: str, no_cache: bool, jobs: int | None
) -> None:
    """Check lessons against their author YAML: what is missing, stale or wrong.

    PATHS are lessons, their sidecars (lesson.yaml) or directories. With none: every lesson of
    every deck manifest in decks/, or, with none there, the lessons in content/ (one deck). Prints
    `path:line:col: error|warning: message (hint)` sorted by file and line, then a summary.
    Exits 0 when clean, 1 on errors (or on warnings with --strict). Unchanged lessons come from
    the cache in .mlops-cards-cache/ (or $MLOPS_CARDS_CACHE_DIR).
    """
    import json
    from dataclasses import asdict

    from mlops_cards.cache import Cache
    from mlops_cards.check import check_paths
    from mlops_cards.parallel import available_jobs
    from mlops_cards.resolve import lessons_or_default

    lesson_paths = lessons_or_default(paths, _note)
    cache = Cache.default(enabled=not no_cache)
    report = check_paths(lesson_paths, cache, jobs or available_jobs())
    if output_format == "json":
        document = {
            "diagnostics": [asdict(d) for d in report.diagnostics]
            + [
                {"path": None, "line": None, "level": "error", "message": f, "hint": None}
                for f in report.failures
            ],
            "summary": report.summary(),
        }
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        for failure in report.failures:
            say(f"error: {failure}")
        for diagnostic in report.diagnostics:
            say(diagnostic.format())
        click.echo(report.summary_line())
    if report.errors or (strict and report.warnings):
        sys.exit(1)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=PATHS)
@click.option("--dry-run", is_flag=True, help="Print the changes as a diff; write nothing.")
def init(paths: tuple[str, ...], dry_run: bool) -> None:
    """Create or complete sidecars (lesson.yaml) with a stub for every unanswered item.

    Never changes what is already written (values, comments, order, blank lines): stubs are
    inserted as text. Entries whose items the lesson renumbered or renamed get the new key
    (Q2: becomes Q3:). Running it again changes nothing. Refuses a sidecar that has errors.
    """
    from mlops_cards.atomic import write_atomic
    from mlops_cards.extract import find_lessons
    from mlops_cards.resolve import lesson_arguments
    from mlops_cards.scaffold import SidecarHasErrors, scaffold

    lesson_paths, failures = lesson_arguments(paths)
    lessons, errors = find_lessons(lesson_paths) if lesson_paths else ([], [])
    failed = bool(failures or errors)
    for failure in failures + errors:
        say(f"error: {failure}", err=True)
    for lesson in lessons:
        try:
            result = scaffold(lesson)
        except SidecarHasErrors as exc:
            for diagnostic in exc.diagnostics:
                say(diagnostic.format(), err=True)
            say(f"error: {exc}", err=True)
            failed = True
            continue
        except CardsError as exc:
            say(f"error: {exc}", err=True)
            failed = True
            continue
        if not result.changed:
            click.echo(f"{result.shown}: up to date", err=dry_run)
        elif dry_run:
            click.echo(result.diff(), nl=False)
        else:
            write_atomic(result.path, result.new)
            click.echo(f"{result.shown}: {result.summary()}")
    if failed:
        sys.exit(1)


@cli.command("new-deck")
@click.argument("lessons_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--name", help="The deck's name in Anki (default: the folder's name).")
def new_deck(lessons_dir: Path, name: str | None) -> None:
    """Set up a course repository: write decks/NAME.yaml, a deck of the lessons in LESSONS_DIR.

    Every setting is written out with a comment saying what it does; edit them there. Refuses
    to replace a manifest that exists. Next: `mlops-cards init LESSONS_DIR`, write the answers,
    `mlops-cards build`.
    """
    from mlops_cards.newdeck import new_deck as make_manifest
    from mlops_cards.newdeck import write_new

    made = make_manifest(lessons_dir, name)
    write_new(made.path, made.text)
    lessons = f"{made.lessons} lesson{'s' if made.lessons != 1 else ''}"
    click.echo(f"wrote {made.path}: a deck of {lessons} in {lessons_dir}")
    click.echo(f"next: mlops-cards init {lessons_dir}, write the answers, then mlops-cards build")


@cli.command()
def schema() -> None:
    """Print the JSON Schema of the author YAML, for editors.

    Save it (mlops-cards schema > sidecar.schema.json) and start each lesson.yaml with
    `# yaml-language-server: $schema=sidecar.schema.json` for completion and checks as you type.
    """
    from importlib.resources import files

    click.echo(files("mlops_cards").joinpath("sidecar.schema.json").read_text("utf-8"), nl=False)


# --- build -------------------------------------------------------------------------------------


@cli.command()
@click.argument("sources", nargs=-1, type=PATHS)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Output folder (decks) or FILE.apkg (lessons). Default: dist/",
)
@click.option(
    "--lock",
    "lock",
    type=click.Path(path_type=Path),
    help="Lock file of an ad-hoc deck (default: beside the output).",
)
@click.option("--frozen", is_flag=True, help="Fail, writing nothing, if the lock would change.")
@click.option(
    "--retire", is_flag=True, help="Keep publishing notes gone from the source, tagged `retired`."
)
@click.option(
    "--no-cache", is_flag=True, help="Build everything afresh; neither use nor fill the cache."
)
@jobs_option
def build(
    sources: tuple[str, ...],
    output: Path | None,
    lock: Path | None,
    frozen: bool,
    retire: bool,
    no_cache: bool,
    jobs: int | None,
) -> None:
    """Build Anki decks (.apkg) that update in place on re-import.

    SOURCES are deck manifests (decks/*.yaml, the default: every one; with none there, the
    lessons in content/ as one deck, dist/content.apkg) built into -o DIR, or lesson files built
    into one ad-hoc deck: `build LESSON... -o FILE.apkg`. A manifest deck also gets its
    checklists (<output>-checklist.html/.md/.pdf). Writes SHA256SUMS, build-report.json and
    build-report.md (release notes) beside the decks (an ad-hoc deck's folder), and updates each
    deck's lock file. SOURCE_DATE_EPOCH fixes the time given to changed notes. What did not
    change since the last build comes from the cache in .mlops-cards-cache/ (or
    $MLOPS_CARDS_CACHE_DIR); the outputs are the same bytes either way. On a terminal, a build
    that lasts over a second shows how far it got.
    """
    from mlops_cards.cache import Cache
    from mlops_cards.console import Progress
    from mlops_cards.parallel import available_jobs
    from mlops_cards.pipeline import build as build_decks
    from mlops_cards.pipeline import report_text
    from mlops_cards.resolve import build_targets

    targets, out_dir = build_targets(sources, output, lock, _note)
    cache = Cache.default(enabled=not no_cache, deferred=True)
    progress = Progress()
    try:
        report = build_decks(
            targets,
            out_dir,
            frozen=frozen,
            retire=retire,
            cache=cache,
            jobs=jobs or available_jobs(),
            progress=progress,
        )
        cache.flush()  # only after a successful build: a failed one writes nothing
    finally:
        progress.clear()
        cache.discard()
    click.echo(paint_text(report_text(report)))


# --- checklist ---------------------------------------------------------------------------------


@cli.command()
@click.argument("paths", nargs=-1, type=PATHS)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(allow_dash=True),
    metavar="FILE",
    help="Where to write it; the extension picks the format: .html, .md or .pdf. "
    "`-`: standard output.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["html", "md", "pdf"]),
    help="The format, for -o - (default there: md); with a file, its extension says it.",
)
@click.option("--title", default="Checklist", show_default=True, help="Title on the cover.")
@click.option(
    "--paper",
    type=click.Choice(["a4", "letter"]),
    default="a4",
    show_default=True,
    help="Page size of the HTML and PDF (the margins suit both).",
)
def checklist(
    paths: tuple[str, ...], output: str, output_format: str | None, title: str, paper: str
) -> None:
    """Write a printable checklist of lessons: objectives, tasks, questions, terms to tick off.

    PATHS are lessons or directories of lessons (default: those of every deck in decks/, else
    content/); each lesson's author YAML (lesson.yaml) says which items have a flashcard. .html
    is one self-contained page for print (A4 or Letter, each lesson on a new page unless short),
    .md a GitHub task list, .pdf needs WeasyPrint (pip install 'mlops-cards[pdf]'). `-o -`
    writes it to standard output (Markdown unless --format says otherwise). SOURCE_DATE_EPOCH
    sets the build date.
    Exits 1 on errors in the lessons or their YAML (nothing is written), 2 on an unknown output
    format.
    """

    from mlops_cards.cache import Cache
    from mlops_cards.checklist import checklist_files, describe, format_of, write_checklist
    from mlops_cards.resolve import lesson_arguments, lessons_or_default
    from mlops_cards.stages import diagnostics, load_lessons

    out = Path(output)
    to_stdout = output == "-"
    # An unknown or contradicted extension is a usage error, before any lesson is read.
    fmt = (output_format or "md") if to_stdout else format_of(out)
    if output_format is not None and output_format != fmt:
        raise UsageError(f"{out}: --format {output_format} contradicts the extension (.{fmt})")
    lesson_paths, failures = lesson_arguments(lessons_or_default(paths, _note))
    loaded = load_lessons(lesson_paths, Cache.default())
    contents = list(loaded.contents)
    for failure in failures + list(loaded.failures):
        say(f"error: {failure}", err=True)
    # Only errors stop the checklist; warnings (unanswered items, ...) are `check`'s business.
    problems = [d for d in diagnostics(loaded) if d.level == "error"]
    for diagnostic in problems:
        say(diagnostic.format(), err=True)
    if failures or loaded.failures or problems:
        fail(f"no checklist written: fix the errors above, then run again ({out})")
    sheet: Literal["a4", "letter"] = "letter" if paper == "letter" else "a4"
    if to_stdout:
        (data,) = checklist_files(title, contents, "stdout", [fmt], paper=sheet).values()
        click.echo(data, nl=False)  # bytes: to the binary stream, as they are
    else:
        write_checklist(out, title, contents, paper=sheet)
    click.echo(f"{out}: {describe(contents)}", err=to_stdout)


# --- verify / preview --------------------------------------------------------------------------


@cli.command()
@click.argument("deck", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--previous",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The previous release of the same deck: report what a learner upgrading sees.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify(deck: Path, previous: Path | None, as_json: bool) -> None:
    """Import DECK into a scratch collection with the real Anki engine and report problems.

    Exit 1 on empty cards, missing media, conflicting notes or copied note types.
    Needs the optional Anki engine: pip install 'mlops-cards[anki]'.
    """
    import json

    from mlops_cards.verify import format_verification, verify_deck

    result = verify_deck(deck, previous)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, sort_keys=True))
    else:
        click.echo(format_verification(deck, result))
    if not result.ok:
        sys.exit(1)


@cli.command()
@click.argument("paths", nargs=-1, type=PATHS)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE.html",
    help="Where to write the page.",
)
@click.option(
    "--renderer",
    type=click.Choice(["auto", "anki", "ours"]),
    default="auto",
    show_default=True,
    help="anki: Anki's own engine (needs the [anki] extra); ours: the built-in one; "
    "auto: Anki's when installed.",
)
def preview(paths: tuple[str, ...], output: Path, renderer: str) -> None:
    """Write every card, front and back, as one HTML page: see the deck without Anki.

    PATHS are deck manifests (decks/*.yaml, the default: every one; with none there, the
    lessons in content/), lessons or directories (one ad-hoc deck). Cards are grouped by lesson
    and kind, styled with the note types' CSS; unanswered items are listed at the top. The page
    is self-contained (images inlined, no network). Exits 1, writing nothing, when the lessons
    have errors.
    """
    from mlops_cards.preview import RendererChoice, make_preview, write_preview
    from mlops_cards.resolve import deck_manifests

    if output.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"{output}: the preview is an HTML page (-o FILE.html)")
    manifests = deck_manifests(paths, output, _note)
    choice: RendererChoice = (
        "anki" if renderer == "anki" else "ours" if renderer == "ours" else "auto"
    )
    result = make_preview(manifests, choice)
    write_preview(output, result)
    for deck in result.decks:
        for item in deck.unanswered:
            click.echo(f"unanswered: {item}")
        for warning in deck.warnings:
            say(warning)
    click.echo(f"wrote {output}: {result.summary()}")


class _Interrupted(BaseException):
    """Ctrl-C, raised past click (which would turn KeyboardInterrupt into a bare "Aborted.")."""


def _interrupt(signum: int, frame: object) -> None:
    raise _Interrupted


def _interrupted() -> NoReturn:
    click.echo("Interrupted; outputs left as they were.", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    # At once: everything was cleaned up on the way here, and worker processes stopped
    # mid-result could leave a thread that Python would wait for at exit (parallel._stop).
    os._exit(130)


def main() -> None:
    """Entry point: Ctrl-C ends with one line, and no traceback ever reaches the user."""
    signal.signal(signal.SIGINT, _interrupt)
    try:
        # One name however it was started (`python -m mlops_cards` too): in usage lines, and
        # in the variable shell completion sets (_MLOPS_CARDS_COMPLETE).
        cli.main(prog_name="mlops-cards", standalone_mode=False)
    except (_Interrupted, KeyboardInterrupt):
        _interrupted()
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (CardsError, OSError) as exc:  # raised outside a command (while parsing options)
        failure(exc).show()
        sys.exit(failure(exc).exit_code)
    except Exception as exc:  # the last line of defence against tracebacks
        click.echo(
            f"error: internal error: {type(exc).__name__}: {exc} (please report this as a bug)",
            err=True,
        )
        sys.exit(1)
