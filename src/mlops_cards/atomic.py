"""Atomic file writes: a reader (or a crash, a full disk, or Ctrl-C) never sees half a file.

`write_atomic` replaces one file; `write_files` replaces several as one step: every new content
is written and flushed to a temp file first, and only when all of them are safely on disk are
they renamed over the old files. A full disk therefore leaves every old file as it was, and
Ctrl-C during the renames (a few milliseconds) is held back until they are done.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from mlops_cards.errors import CardsError


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write a temp file beside `path`, flush it to disk, then rename it over `path`.

    An existing file keeps its permissions; a new one gets the usual umask-respecting mode.
    """
    write_files([(path, data)])


def write_files(files: Sequence[tuple[Path, bytes | str]]) -> None:
    """Replace every file, or (on an error before the renames) none of them.

    Errors are CardsErrors naming the file or folder; no temp file is left behind.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files:
            staged.append((_stage(path, data), path))
        with _interrupts_held():
            for tmp, path in staged:
                try:
                    os.replace(tmp, path)
                except OSError as exc:
                    raise _cannot_write(path, exc) from None
    finally:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)  # renamed ones are gone already


def _cannot_write(path: Path, exc: OSError) -> CardsError:
    return CardsError(
        f"{path}: cannot write ({exc.strerror or exc}); the previous outputs are unchanged"
    )


def _stage(path: Path, data: bytes | str) -> str:
    """Write `data` to a flushed temp file beside `path`; return the temp file's name."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CardsError(
            f"{folder}: cannot create the output folder ({exc.strerror or exc})"
        ) from None
    try:
        mode = path.stat().st_mode & 0o777 if path.exists() else _default_mode()
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _cannot_write(path, exc) from None
        raise
    return tmp


@contextmanager
def _interrupts_held() -> Iterator[None]:
    """Hold back Ctrl-C while the renames run, so the outputs are all old or all new.

    A Ctrl-C that arrives then is ignored: the work it would interrupt is already finished.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def note(signum: int, frame: FrameType | None) -> None:
        return

    previous = signal.signal(signal.SIGINT, note)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _default_mode() -> int:
    # mkstemp creates 0600 files; a new output should get 0666 minus the umask like any other.
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
