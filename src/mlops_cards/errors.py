"""Domain errors. The library raises these; only `cli.py` turns them into exit codes."""

from __future__ import annotations


class CardsError(Exception):
    """A problem the user can fix (bad input, missing file). The CLI prints it and exits 1."""


class UsageError(CardsError):
    """The command was called wrongly. The CLI prints it and exits 2."""
