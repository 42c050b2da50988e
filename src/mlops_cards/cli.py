"""Command-line interface. Thin: parse options, call the library, print, choose the exit code.

Heavy modules are imported inside the commands so that `mlops-cards --version` stays instant.
Exit codes: 0 ok, 1 problems found, 2 usage error.
"""

from __future__ import annotations

import sys

import click

from mlops_cards import __version__
from mlops_cards.errors import CardsError, UsageError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlops-cards")
def cli() -> None:
    """Turn Markdown course lessons into Anki decks and a printable checklist."""


def fail(message: str, code: int = 1) -> None:
    """Print a one-line error and stop with `code`."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


# --- extract -----------------------------------------------------------------------------------


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the lessons as JSON.")
def extract(paths: tuple[str, ...], as_json: bool) -> None:
    """Say what lessons hold: objectives, questions, terms, tasks.

    PATHS are lesson files (any extension) or directories (every *.md below them, ordered by
    front-matter `sort`, then name). Exits 1 when a path cannot be read; the others are still shown.
    """
    import json

    from mlops_cards.extract import find_lessons, lesson_as_dict, lesson_summary

    lessons, errors = find_lessons(paths)
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
        click.echo(f"error: {error}", err=True)
    if errors:
        sys.exit(1)


# --- check / init / schema ---------------------------------------------------------------------


# --- build -------------------------------------------------------------------------------------


# --- checklist ---------------------------------------------------------------------------------


# --- verify / preview --------------------------------------------------------------------------


def main() -> None:
    """Entry point: no traceback ever reaches the user."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if isinstance(exc, click.UsageError) else exc.exit_code)
    except UsageError as exc:
        fail(str(exc), 2)
    except CardsError as exc:
        fail(str(exc), 1)
    except KeyboardInterrupt:
        click.echo("Interrupted; outputs left as they were.", err=True)
        sys.exit(130)
    except OSError as exc:
        fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "), 1)
    except Exception as exc:  # the last line of defence against tracebacks
        fail(f"internal error: {type(exc).__name__}: {exc} (please report this as a bug)", 1)
