"""Domain errors. The library raises these; only `cli.py` turns them into output and exit codes."""

from __future__ import annotations

from collections.abc import Iterable


class CardsError(Exception):
    """A problem the user can fix (bad input, missing file). The CLI prints it and exits 1."""


class SourceError(CardsError):
    """A problem at one line of an author's file, found after loading (rendering a card): `check`
    reports it as a diagnostic there, `build` stops on it with the same words."""

    def __init__(self, path: str, line: int, message: str) -> None:
        self.path, self.line, self.message = path, line, message
        super().__init__(f"{path}:{line}: {message}")


class UsageError(CardsError):
    """The command was called wrongly. The CLI prints it and exits 2."""


class DiagnosticsError(CardsError):
    """A problem that comes with lines saying where: diagnostics, lock differences.

    The CLI prints `error: MESSAGE` and the lines below it, indented; with no message (the lines
    say it all, as a broken manifest's diagnostics do), just the lines.
    """

    def __init__(self, message: str, lines: Iterable[str] = ()) -> None:
        self.message = message
        self.lines = tuple(lines)
        if message:
            super().__init__(message + "".join(f"\n  {line}" for line in self.lines))
        else:
            super().__init__("\n".join(self.lines))
