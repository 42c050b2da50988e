"""Atomic file writes: a reader (or a crash, a full disk, or Ctrl-C) never sees half a file.

`write_atomic` replaces one file; `write_files` replaces several as one step: every new content
is written and flushed to a temp file first, and only when all of them are safely on disk are
they renamed over the old files. A full disk therefore leaves every old file as it was, and
Ctrl-C during the renames (a few milliseconds) is held back until they are done.

A crash (kill -9, power loss) during the renames cannot be held back: before them, a journal
listing every (temp file, file) pair is written beside the first file, and the next run
(`recover`, which every build and `verify` call) finishes the renames it lists. So a mix of a
new `.apkg` with the old lock and checksums lasts only until the next command.

`exclusive` keeps two builds from writing the same folders at once (an `flock` on a
`.mlops-cards.lock` file in each): the second one stops with a message naming the first.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar, cast

from mlops_cards.errors import CardsError
from mlops_cards.limits import MB, MissingFile, read_limited


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
    journal = _journal_path(files[0][0]) if len(files) > 1 else None
    try:
        for path, data in files:
            staged.append((_stage(path, data), path))
        if journal is not None:
            pairs = [[os.path.abspath(tmp), os.path.abspath(path)] for tmp, path in staged]
            _write_journal(journal, json.dumps(pairs))
        with _interrupts_held():
            for tmp, path in staged:
                try:
                    os.replace(tmp, path)
                except OSError as exc:
                    raise _cannot_write(path, exc) from None
    finally:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)  # renamed ones are gone already
        if journal is not None:
            with suppress(OSError):  # done, or failed before any rename
                journal.unlink(missing_ok=True)


JOURNAL_NAME = ".mlops-cards-journal.json"


def _journal_path(first: Path) -> Path:
    return first.parent / JOURNAL_NAME


def _write_journal(journal: Path, text: str) -> None:
    tmp = _stage(journal, text)
    try:
        os.replace(tmp, journal)
        _sync_folder(journal.parent)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise _cannot_write(journal, exc) from None


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (where the system allows opening a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def recover(folder: Path) -> bool:
    """Finish the renames of a `write_files` that a crash interrupted in `folder`: every temp
    file its journal lists that is still there replaces its file. True if there was one."""
    journal = folder / JOURNAL_NAME
    try:
        data = read_limited(journal, MB, str(journal), "journal", "", follow_links=False)
    except MissingFile:
        return False
    except CardsError:
        return False  # not ours to touch (a folder, a link): left as it is
    try:
        pairs = json.loads(data)
        moves = [(Path(tmp), Path(path)) for tmp, path in pairs]
    except (ValueError, TypeError):
        journal.unlink(missing_ok=True)  # torn before it was complete: no rename had begun
        return True
    with _interrupts_held():
        for tmp, path in moves:
            # Only the temp files write_files makes, beside their file: a journal cannot be
            # used to move anything else.
            if tmp.parent != path.parent or not tmp.name.startswith(f".{path.name}."):
                continue
            if tmp.is_file() and not tmp.is_symlink():
                try:
                    os.replace(tmp, path)
                except OSError as exc:
                    raise _cannot_write(path, exc) from None
        journal.unlink(missing_ok=True)
    return True


LOCK_NAME = ".mlops-cards.lock"


@contextmanager
def exclusive(folders: Iterable[Path]) -> Iterator[None]:
    """Hold an exclusive lock on each folder (made if need be) while the block runs, then
    finish any write a crash interrupted there (`recover`). Another process holding one is a
    CardsError naming it; nothing waits. The lock files are removed when the block ends."""
    chosen = sorted({Path(os.path.abspath(folder)) for folder in folders})
    made = [folder for folder in chosen if not folder.exists()]
    held: list[tuple[Path, int]] = []
    try:
        for folder in chosen:
            fd = _lock_folder(folder)
            if fd is not None:
                held.append((folder / LOCK_NAME, fd))
        for folder in chosen:
            recover(folder)
        yield
    finally:
        for path, fd in held:
            # Removed while still held: a process that opened it meanwhile sees, once it has
            # the lock, that the name no longer leads to its file, and starts again.
            path.unlink(missing_ok=True)
            os.close(fd)
        for folder in reversed(made):  # a failed first build leaves no empty folder behind
            with suppress(OSError):  # not empty after all
                folder.rmdir()


def _lock_folder(folder: Path) -> int | None:
    """The locked `.mlops-cards.lock` of `folder`; None when the folder cannot be made or
    written (the build then fails there with its own message, writing nothing)."""
    import fcntl

    path = folder / LOCK_NAME
    while True:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise CardsError(
                f"another build is writing {folder} (pid {holder}); wait for it or stop it, "
                "then build again"
            ) from None
        try:
            same = os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
        except OSError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            return fd
        os.close(fd)  # the holder removed it as we opened it: lock the new one


def recover_if_idle(folder: Path) -> None:
    """`recover` for a command that only reads (`verify`): skipped while a build holds the
    folder (its renames are under way, not interrupted)."""
    if not (folder / JOURNAL_NAME).exists():
        return
    with suppress(CardsError), exclusive([folder]):
        pass


F = TypeVar("F", bound=Callable[..., Any])


def holding(folders_of: Callable[..., Iterable[Path]]) -> Callable[[F], F]:
    """Decorate a function that writes outputs: it runs under `exclusive(folders_of(*args))`,
    `folders_of` taking the same arguments as the function."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with exclusive(folders_of(*args, **kwargs)):
                return function(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


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
