"""Atomic file writes: a reader (or a crash, or Ctrl-C) never sees half a file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write a temp file beside `path`, flush it to disk, then rename it over `path`.

    An existing file keeps its permissions; a new one gets the usual umask-respecting mode.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else _default_mode()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _default_mode() -> int:
    # mkstemp creates 0600 files; a new output should get 0666 minus the umask like any other.
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
