"""A cache keyed by content, so that `check` and `build` with nothing changed are quick.

Every entry is found by the sha256 of everything its value depends on: the bytes of the lesson
and its sidecar (and, for rendered notes, of every image they show), the note types, the options,
the versions of the libraries that shape the output, and the tool itself (the bytes of its
source files, so even an unreleased edit of the tool invalidates). A changed byte anywhere gives
a new key; nothing is ever looked up by file name or date.

Entries live in `.mlops-cards-cache/` in the current folder (the project root: where `decks/`
is), or in `$MLOPS_CARDS_CACHE_DIR`. Each file is a magic line, an HMAC-SHA256 of its key and
payload made with the user's secret (kept outside the cache, see `cache_secret`), and the
payload; a file that fails that check (one this tool did not write for this user), or does not
unpickle into the expected types, is ignored (and overwritten by the next run). Writes go to a
temporary file renamed into place, and a cache that cannot be written (or whose secret cannot
be made) is silently skipped: the cache only ever saves time.

Payloads are pickles read by an unpickler that refuses every class but the tool's own frozen
dataclasses, so a planted cache file cannot run code. The cache knows nothing of what it keeps:
`memo(kind, parts, compute, EntryType)` gives the entry of that type under that key, computing and
keeping it on a miss; what an entry means and what its key must cover is the caller's business
(`stages.py`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import io
import os
import pickle
import secrets
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from mlops_cards import __version__
from mlops_cards.errors import CardsError
from mlops_cards.limits import MAX_CACHE_ENTRY_BYTES, read_limited

CACHE_DIR_NAME = ".mlops-cards-cache"
CACHE_DIR_ENV = "MLOPS_CARDS_CACHE_DIR"
_MAGIC = b"mlops-cards-cache 2\n"  # 2: an HMAC, not a plain digest
_DIGEST = 32
_PACKAGE = "mlops_cards."
# Libraries whose version can change what the tool reads or writes.
_LIBRARIES = (
    *("markdown-it-py", "mdit-py-plugins", "pyyaml", "pygments", "nh3", "emoji", "genanki"),
    "jinja2",  # renders the checklists the cache keeps
)
T = TypeVar("T")


class _Unpickler(pickle.Unpickler):
    """Refuses every class but the frozen dataclasses of the tool's modules already imported
    (an entry's type is imported by whoever asks for it): nothing is imported, nothing called."""

    def find_class(self, module: str, name: str) -> Any:
        ours = module.startswith(_PACKAGE)
        found = getattr(sys.modules.get(module), name, None) if ours else None
        frozen = getattr(getattr(found, "__dataclass_params__", None), "frozen", False)
        if not (isinstance(found, type) and dataclasses.is_dataclass(found) and frozen):
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in the cache")
        return found


_TOOL: str | None = None


def tool_fingerprint() -> str:
    """The tool's version, its source and template bytes, Python's and the libraries' versions."""
    global _TOOL
    if _TOOL is None:
        digest = hashlib.sha256(f"{__version__}\0{sys.version}\0".encode())
        for name in _installed(_LIBRARIES):
            digest.update(name.encode() + b"\0")
        try:
            import yaml

            digest.update(f"libyaml={yaml.__with_libyaml__}\0".encode())
        except ImportError:  # pragma: no cover - pyyaml is a dependency
            pass
        package = Path(__file__).resolve().parent
        # The package, and the default note types: shipped inside it, or beside `src/`.
        for folder in (package, package.parent.parent / "card_templates"):
            if not folder.is_dir():
                continue
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                if "__pycache__" in path.parts:
                    continue
                digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
                digest.update(hashlib.sha256(path.read_bytes()).digest())
        _TOOL = digest.hexdigest()
    return _TOOL


def _normal(project: str) -> str:
    return project.lower().replace("-", "_").replace(".", "_")


def _installed(projects: Iterable[str]) -> list[str]:
    """The `name-version.dist-info` folders of `projects` on sys.path: their versions, without
    the import cost of importlib.metadata (this runs on every cached `check`)."""
    wanted = {_normal(p) for p in projects}
    found = []
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        found += [
            n
            for n in names
            if n.endswith(".dist-info") and _normal(n[:-10].rsplit("-", 1)[0]) in wanted
        ]
    return sorted(found)


class Cache:
    """Entries by key. `Cache(None)` is a cache that is off: it finds nothing, keeps nothing."""

    def __init__(self, root: Path | None, *, deferred: bool = False) -> None:
        self.root = root
        self.hits = 0
        self.misses = 0
        # Deferred: entries wait in a temporary folder (not in memory: they weigh as much as
        # the deck) until `flush`, so that a build that fails writes nothing in the project.
        self.deferred = deferred
        self._staging: Path | None = None
        self._staged: list[str] = []

    @classmethod
    def default(cls, enabled: bool = True, *, deferred: bool = False) -> Cache:
        if not enabled:
            return cls(None)
        return cls(Path(os.environ.get(CACHE_DIR_ENV) or CACHE_DIR_NAME), deferred=deferred)

    @property
    def enabled(self) -> bool:
        return self.root is not None

    def key(self, kind: str, parts: Iterable[bytes | str]) -> str:
        """sha256 of the tool's fingerprint, the kind of entry and every part, unambiguously."""
        digest = hashlib.sha256(f"{tool_fingerprint()}\0{kind}\0".encode())
        for part in parts:
            data = part.encode("utf-8") if isinstance(part, str) else part
            digest.update(len(data).to_bytes(8, "big"))
            digest.update(data)
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        assert self.root is not None
        return self.root / key[:2] / key[2:]

    def get_bytes(self, key: str) -> bytes | None:
        """The payload stored under `key`, only if this tool wrote it for this user: entries
        carry an HMAC made with the user's cache secret (`cache_secret`), which no cache file
        holds, so an entry copied in, planted or edited is never used."""
        secret = cache_secret() if self.root is not None else None
        if self.root is None or secret is None:
            return None
        try:
            data = read_limited(
                self._path(key), MAX_CACHE_ENTRY_BYTES, key, "cache entry", "", follow_links=False
            )
        except CardsError:
            self.misses += 1
            return None
        head = len(_MAGIC) + _DIGEST
        payload = data[head:]
        mac = _mac(secret, key, payload)
        if data[: len(_MAGIC)] != _MAGIC or not hmac.compare_digest(data[len(_MAGIC) : head], mac):
            self.misses += 1
            return None  # torn, tampered or not ours: rebuilt and rewritten
        self.hits += 1
        return payload

    def put_bytes(self, key: str, payload: bytes) -> None:
        secret = cache_secret() if self.root is not None else None
        if self.root is None or secret is None:
            return
        data = _MAGIC + _mac(secret, key, payload) + payload
        if not self.deferred:
            _write(self._path(key), data)
            return
        try:
            if self._staging is None:
                self._staging = Path(tempfile.mkdtemp(prefix="mlops-cards-cache-"))
        except OSError:
            return
        _write(self._staging / key, data)
        self._staged.append(key)

    def flush(self) -> None:
        """Move the deferred entries into the cache."""
        if self._staged and self.root is not None:
            ignore_in_git(self.root)
        for key in self._staged:
            assert self._staging is not None
            try:
                self._path(key).parent.mkdir(parents=True, exist_ok=True)
                os.replace(self._staging / key, self._path(key))
            except OSError:  # another file system: copy to a temporary file there and rename
                try:
                    _write(self._path(key), (self._staging / key).read_bytes())
                except OSError:
                    continue
        self.discard()

    def discard(self) -> None:
        """Drop the deferred entries (a failed build)."""
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
        self._staging = None
        self._staged = []

    def get_object(self, key: str, expected: type[T]) -> T | None:
        """The entry under `key` if it is an `expected`; None when absent, damaged or another
        type (then recomputed, and overwritten)."""
        payload = self.get_bytes(key)
        if payload is None:
            return None
        if expected is bytes:
            return payload  # type: ignore[return-value]  # bytes are kept as they are
        try:
            value = _Unpickler(io.BytesIO(payload)).load()
        except Exception:  # any damage the digest did not catch: treat as absent
            return None
        return value if isinstance(value, expected) else None

    def put_object(self, key: str, value: object) -> None:
        if self.root is None:
            return
        if not self.deferred:  # deferred entries reach the folder in `flush`
            ignore_in_git(self.root)
        if isinstance(value, bytes):
            self.put_bytes(key, value)
        else:
            self.put_bytes(key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))

    def memo(
        self, kind: str, parts: Iterable[bytes | str], compute: Callable[[], T], expected: type[T]
    ) -> T:
        """The `expected` entry keyed by `kind` and `parts`: from the cache, else `compute()`d
        and kept. With the cache off, just `compute()` (the parts are not even gone through)."""
        if self.root is None:
            return compute()
        key = self.key(kind, parts)
        value = self.get_object(key, expected)
        if value is None:
            value = compute()
            self.put_object(key, value)
        return value


_GITIGNORE = b"# Written by mlops-cards: its cache is never committed.\n*\n"
_IGNORED: set[Path] = set()  # cache folders given their .gitignore in this process


def ignore_in_git(root: Path) -> None:
    """Give the cache folder its own `.gitignore` (`*`), as pytest does for `.pytest_cache`, so
    it never shows up as untracked in a course repository; one already there is left alone."""
    where = root.absolute()  # the same relative name is another folder after a chdir
    if where in _IGNORED:
        return
    _IGNORED.add(where)
    if not (root / ".gitignore").exists():
        _write(root / ".gitignore", _GITIGNORE)


def _write(path: Path, data: bytes) -> None:
    """Atomically (a temporary file renamed into place); errors are ignored: no cache, same
    results. No fsync: a torn entry fails its digest check and is rebuilt."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _mac(secret: bytes, key: str, payload: bytes) -> bytes:
    """HMAC-SHA256 of the entry's key and payload: an entry cannot be moved to another key."""
    mac = hmac.new(secret, key.encode("ascii", "replace") + b"\0", hashlib.sha256)
    mac.update(payload)
    return mac.digest()


# --- the cache secret: one per user, outside every cache folder ------------------------------

CACHE_KEY_ENV = "MLOPS_CARDS_CACHE_KEY"  # path of the secret file (tests use their own)
_SECRET_BYTES = 32
_SECRETS: dict[str, bytes | None] = {}


def cache_key_path() -> Path:
    """`$MLOPS_CARDS_CACHE_KEY`, else `$XDG_STATE_HOME/mlops-cards/cache.key`, else
    `~/.local/state/mlops-cards/cache.key`."""
    chosen = os.environ.get(CACHE_KEY_ENV)
    if chosen:
        return Path(chosen)
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return Path(state, "mlops-cards", "cache.key")


def cache_secret() -> bytes | None:
    """The user's cache secret, made (0600, atomically) on first use; None when it cannot be
    made or read, or is not the user's own private file: the cache is then off."""
    path = cache_key_path()
    if str(path) not in _SECRETS:
        secret = _read_secret(path)
        if secret is None and not path.exists() and not path.is_symlink():
            _make_secret(path)
            secret = _read_secret(path)
        _SECRETS[str(path)] = secret
    return _SECRETS[str(path)]


def _read_secret(path: Path) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except (OSError, ValueError):
        return None
    try:
        info = os.fstat(fd)
        mine = not hasattr(os, "getuid") or info.st_uid == os.getuid()
        if not stat.S_ISREG(info.st_mode) or not mine or info.st_mode & 0o077:
            return None  # another user's, or readable by others: not a secret
        data = os.read(fd, _SECRET_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    return data if len(data) == _SECRET_BYTES else None


def _make_secret(path: Path) -> None:
    """A random secret written to a 0600 temp file, then linked into place: two processes
    making it at once end up with the same one (the loser's link fails; it reads the winner's)."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".cache.key.", dir=path.parent)
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(_SECRET_BYTES))
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, path)
    except OSError:
        pass
    finally:
        Path(tmp).unlink(missing_ok=True)
