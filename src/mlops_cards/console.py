"""What the CLI does on a terminal only: colour for errors and warnings, and a progress line.

Colour is added with click.style and left to click.echo, which strips it again on anything but
a terminal (or with colour turned off: `NO_COLOR`, `--no-color`); `FORCE_COLOR` or `--color`
keeps it in a pipe. The progress line is written only to a terminal's stderr and only once the
work has lasted a second, so CI logs, pipes and quick builds never see it.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Mapping
from typing import TextIO

import click

# The level word of a message line: `error: ...`, `path:3:1: warning: ...`, indented or not.
_LEVEL = re.compile(r"(^\s*|: )(error|warning)(?=:)")
_COLOURS = {"error": "red", "warning": "yellow"}
PROGRESS_DELAY = 1.0  # seconds of silence before a progress line appears
_REDRAW = 0.1  # at most ten redraws a second: a terminal is slower than a cached lesson


def colour_choice(flag: bool | None, env: Mapping[str, str]) -> bool | None:
    """True (always), False (never) or None (on a terminal): `--color/--no-color` first, then
    NO_COLOR (any value, as no-color.org asks), then FORCE_COLOR."""
    if flag is not None:
        return flag
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    return None


def paint(line: str) -> str:
    """`line` with its first `error`/`warning` level word in red/yellow (bold)."""

    def styled(match: re.Match[str]) -> str:
        level = match.group(2)
        return match.group(1) + click.style(level, fg=_COLOURS[level], bold=True)

    return _LEVEL.sub(styled, line, count=1)


def paint_text(text: str) -> str:
    """Every line of `text` painted (a report whose lines include warnings)."""
    return "\n".join(paint(line) for line in text.split("\n"))


def _clock() -> float:
    return time.monotonic()


def _is_terminal(stream: TextIO) -> bool:
    """Whether a progress line may be drawn on `stream`: a terminal, not a dumb one, not CI."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real stream
        return False
    return tty and os.environ.get("TERM") != "dumb" and not os.environ.get("CI")


class Progress:
    """`progress(what, done, total)` redraws `what done/total` in place on stderr, once the
    work has lasted `PROGRESS_DELAY`; `clear()` wipes it before the real output."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = _is_terminal(self.stream)
        self.start = _clock()
        self.drawn = 0.0  # when the line was last drawn
        self.width = 0  # characters of the line now on screen

    def __call__(self, what: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = _clock()
        last = done == total
        if now - self.start < PROGRESS_DELAY or (now - self.drawn < _REDRAW and not last):
            return
        line = f"{what} {done}/{total}"
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.drawn, self.width = now, max(self.width, len(line))

    def clear(self) -> None:
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0
