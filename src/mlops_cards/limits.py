"""Resource limits: what one lesson, YAML file or image may weigh before the tool refuses it.

Every limit is far above what a real course needs (the largest lesson of the course is under
400 kB, its longest line under 1,000 characters) and low enough that a hostile or broken file
is refused in milliseconds instead of eating the machine. Each breach is reported with the file,
the limit and what to do; nothing here reads more bytes than the limit allows.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from mlops_cards.errors import CardsError

MB = 1024 * 1024
# Lessons and YAML: markdown-it-py needs up to ~25 µs for each character that may start
# markup (a run of `![` or of `[`), 20-40 µs a line of headings, table rows or tasks. These
# limits keep any file within them under 10 s to check or build (benchmarks/slow_inputs.py).
MAX_LESSON_BYTES = 1 * MB  # a lesson file (Markdown); the course's largest is 40 kB
MAX_YAML_BYTES = 256 * 1024  # an author YAML file (sidecar) or a deck manifest; largest 6 kB
MAX_MARKUP_CHARS = 50_000  # `[ ] ! * _ ` < & \ $ ~` in one lesson or YAML file; largest 703
MAX_IMAGE_BYTES = 10 * MB  # one image bundled into a deck
MAX_LINE_CHARS = 100_000  # one line of a lesson or of an author YAML file
MAX_YAML_DEPTH = 50  # nested lists/mappings in any YAML (a sidecar needs 4)
MAX_YAML_NODES = 100_000  # values in a YAML document, counting every alias as what it repeats
MAX_HTML_DEPTH = 200  # nested HTML elements in one card field
MAX_TEMPLATE_BYTES = 1 * MB  # one card template or CSS file
MAX_LOCK_BYTES = 256 * MB  # a lock file (20,000 notes make 35 MB)
MAX_CACHE_ENTRY_BYTES = 1024 * MB  # one cache entry (a whole .apkg with its images)
MAX_APKG_UNPACKED_BYTES = 2048 * MB  # everything in one .apkg `verify` unpacks
MAX_ZIP_RATIO = 100  # how much smaller than its content a large .apkg entry may be
MAX_MOD = 2**32 - 1  # a note's `mod`, in seconds (year 2106): ids made from it fit in int64

# Image formats a card may show, by their first bytes. SVG is refused on purpose: it is XML
# that can carry scripts and event handlers, which would run if the media file were opened
# outside the card; convert diagrams to PNG.
IMAGE_SUFFIXES = {
    "PNG": (".png",),
    "JPEG": (".jpg", ".jpeg"),
    "GIF": (".gif",),
    "WebP": (".webp",),
}


_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def has_control_chars(text: str) -> bool:
    """Whether `text` holds a NUL, a newline or another control character: never in a name."""
    return _CONTROL_CHARS.search(text) is not None


def size_text(size: int) -> str:
    """`5 MB`, `52.4 MB`, `900 bytes`: sizes as a person reads them."""
    if size < 1024:
        return f"{size} bytes"
    if size < MB:
        return f"{size / 1024:.1f} kB".replace(".0 kB", " kB")
    return f"{size / MB:.1f} MB".replace(".0 MB", " MB")


class MissingFile(CardsError, FileNotFoundError):
    """`read_limited` found no file: a CardsError, and a FileNotFoundError for callers to whom
    a missing file means something (no lock yet)."""


def read_limited(
    path: Path,
    limit: int,
    name: str,
    what: str,
    advice: str,
    *,
    follow_links: bool = True,
    markup: bool = False,
) -> bytes:
    """The bytes of a regular file no larger than `limit`, else a CardsError naming it.

    The one way the tool reads a file it did not write in this run (lessons, YAML, manifests,
    locks, templates, images, cache entries). The file is opened without blocking (a FIFO
    never waits for a writer) and checked on the open descriptor, so what is checked is what is
    read: a device, pipe or socket is refused (reading `/dev/zero` never ends), and at most
    `limit + 1` bytes are read even if the file grows meanwhile. `follow_links=False` refuses
    a file that is itself a symbolic link. `markup=True` (Markdown to render) also counts the
    characters that may start markup, each costly to parse: at most MAX_MARKUP_CHARS.
    """
    if _SURROGATE.search(str(path)):
        # A name the file system's encoding (ASCII in the POSIX locale) could not decode:
        # opened, it could still not be written into a report, a lock or a deck.
        shown = os.fsencode(str(path)).decode("utf-8", "replace")
        raise CardsError(
            f"{shown}: the file name is not valid {sys.getfilesystemencoding()}, the encoding "
            "file names are read in here (set LC_ALL=C.UTF-8 or PYTHONUTF8=1, or rename it)"
        )
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow_links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise MissingFile(f"{name}: no such file") from None
    except ValueError:  # a NUL byte in the name: no file can be called that
        raise CardsError(f"{name}: the file name contains a NUL byte") from None
    except UnicodeError:  # a name the file system's encoding cannot hold
        raise CardsError(f"{name}: the file name cannot be encoded on this system") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_links:
            raise CardsError(
                f"{name}: is a symbolic link; a {what} must be a regular file (copy the file)"
            ) from None
        raise CardsError(f"{name}: cannot read ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise CardsError(f"{name}: is a directory, not a {what}")
        if not stat.S_ISREG(info.st_mode):
            raise CardsError(f"{name}: not a regular file (a device, pipe or socket), not a {what}")
        if info.st_size > limit:
            raise CardsError(_too_big(name, what, info.st_size, limit, advice))
        # Read what stat says (a buffer of `limit` bytes would be made up front), then on up
        # to the limit if the file grew meanwhile.
        chunks = [_read_fd(fd, info.st_size + 1)]
        if len(chunks[0]) > info.st_size:
            chunks.append(_read_fd(fd, limit + 1 - len(chunks[0])))
        data = b"".join(chunks)
    except OSError as exc:
        raise CardsError(f"{name}: cannot read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise CardsError(_too_big(name, what, len(data), limit, advice))
    if markup:
        count = sum(map(data.count, _MARKUP))
        if count > MAX_MARKUP_CHARS:
            raise CardsError(
                f"{name}: {what} has {count:,} markup characters ({' '.join(_MARKUP_SHOWN)}); "
                f"the limit is {MAX_MARKUP_CHARS:,} ({advice})"
            )
    return data


_MARKUP_SHOWN = tuple("[]!*_`<&\\$~")
_MARKUP = tuple(c.encode() for c in _MARKUP_SHOWN)


def _read_fd(fd: int, size: int) -> bytes:
    """Up to `size` bytes from `fd` (fewer only at the end of the file)."""
    parts = []
    while size > 0:
        part = os.read(fd, min(size, 16 * MB))
        if not part:
            break
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def _too_big(name: str, what: str, size: int, limit: int, advice: str) -> str:
    return f"{name}: {what} is {size_text(size)}; the limit is {size_text(limit)} ({advice})"


@dataclass(frozen=True)
class LongLine:
    line: int  # 1-based
    length: int  # characters

    def message(self) -> str:
        return (
            f"line {self.line} is {self.length:,} characters long; the limit is {MAX_LINE_CHARS:,}"
        )


def long_line(text: str) -> LongLine | None:
    """The first line longer than MAX_LINE_CHARS, if any (found without splitting the text)."""
    if len(text) <= MAX_LINE_CHARS:
        return None
    start = 0
    number = 1
    while start <= len(text):
        end = text.find("\n", start)
        if end < 0:
            end = len(text)
        if end - start > MAX_LINE_CHARS:
            return LongLine(number, end - start)
        start = end + 1
        number += 1
    return None


@dataclass(frozen=True)
class YamlProblem:
    line: int  # 1-based
    col: int
    message: str
    hint: str


# libyaml's parser when PyYAML was built with it (10x faster), else the pure-Python one.
_FastLoader: type[yaml.CSafeLoader] | type[yaml.SafeLoader] = getattr(
    yaml, "CSafeLoader", yaml.SafeLoader
)


def yaml_problem(text: str) -> YamlProblem | None:
    """A YAML document too deep or too big once its aliases are expanded, before it is built.

    Works on the parser's event stream, which needs no recursion and builds nothing: the
    composer (recursive) and any code walking the result never see a "billion laughs" document
    or 10,000 nested brackets. Syntax errors are left for the real loader to report.
    """
    try:
        return _scan_events(text, _FastLoader)
    except yaml.YAMLError:
        pass
    # libyaml refuses some documents the pure-Python loader would still (recursively) build,
    # such as 1,000 nested brackets: scan again with the loader that will read the file.
    try:
        return _scan_events(text, yaml.SafeLoader)
    except yaml.YAMLError:
        return None


def _scan_events(
    text: str, loader: type[yaml.CSafeLoader] | type[yaml.SafeLoader]
) -> YamlProblem | None:
    sizes: dict[str, int] = {}  # anchor -> how many values it stands for
    open_anchors: list[tuple[str | None, int]] = []  # containers being read: (anchor, count then)
    count = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.AliasEvent):
            count += sizes.get(event.anchor or "", 1)
        elif isinstance(event, yaml.ScalarEvent):
            count += 1
            if event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            count += 1
            open_anchors.append((event.anchor, count))
            if len(open_anchors) > MAX_YAML_DEPTH:
                return _yaml_problem(
                    event,
                    f"lists and mappings are nested more than {MAX_YAML_DEPTH} levels deep",
                    "flatten the structure",
                )
        elif isinstance(event, yaml.CollectionEndEvent) and open_anchors:
            anchor, before = open_anchors.pop()
            if anchor:
                sizes[anchor] = count - before + 1
        if count > MAX_YAML_NODES:
            return _yaml_problem(
                event,
                f"more than {MAX_YAML_NODES:,} values once aliases (*name) are expanded",
                "write the values out, or use fewer aliases",
            )
    return None


# Each list or mapping needs one of these characters of its own (`[`, `{`, `-` before its first
# item, `:` or `?` after or before its first key), and so does each item after the first: their
# count bounds both how deep a document nests and (aliases aside) how many values it holds.
_INDICATORS = ("-", ":", "?", ",", "[", "{")
# libyaml composes recursively, and before its version 0.2.6 sets no depth limit of its own:
# text with more indicators than this is never composed before it is scanned.
_QUICK_INDICATORS = 1_000


def compose_within_limits(text: str) -> tuple[yaml.Node | None] | None:
    """`(root,)`, the node tree of `text` composed by libyaml, when `yaml_problem(text)` would
    find no problem; None when the caller must take the careful way (`yaml_problem`, then a
    loader), because the text is over a limit, or broken, or too big to compose unchecked.

    This reads the text once instead of twice. Text with at most `_QUICK_INDICATORS` of the
    characters that introduce values cannot nest deeper than that, nor hold more than twice as
    many values (aliases aside): it is composed first, and the limits are checked on the nodes.
    """
    if _FastLoader is yaml.SafeLoader or sum(map(text.count, _INDICATORS)) > _QUICK_INDICATORS:
        return None
    try:
        root = yaml.compose(text, Loader=_FastLoader)
    except yaml.YAMLError:
        return None
    if root is None:
        return (root,)
    # No `&`: no anchor, so no alias either (an alias to no anchor does not compose).
    over = _tree_over_limits(root) if "&" not in text else _over_limits(root)
    return None if over else (root,)


def _tree_over_limits(root: yaml.Node) -> bool:
    """`_over_limits` for a document without anchors, hence without aliases: a plain tree,
    each node one value, visited a level at a time."""
    count = depth = 0
    level = [root]
    while level:
        count += len(level)
        depth += 1
        sequences = [node for node in level if isinstance(node, yaml.SequenceNode)]
        mappings = [node for node in level if isinstance(node, yaml.MappingNode)]
        if (sequences or mappings) and depth > MAX_YAML_DEPTH:
            return True
        level = [child for node in sequences for child in node.value]
        level += [item for node in mappings for pair in node.value for item in pair]
    return count > MAX_YAML_NODES


def _over_limits(root: yaml.Node) -> bool:
    """Whether `_scan_events` finds a problem in the events `root` was composed from.

    The nodes are visited in the order their events came, each once: a node met again is an
    alias, counted as the values of its anchor (one while the anchor is still open), as the
    scan counts it.
    """
    sizes: dict[int, int] = {}  # id of a closed list or mapping -> values it stands for
    seen: set[int] = set()
    count = 0
    # (node, depth, count when it opened); count -1: the node is still to visit
    stack: list[tuple[yaml.Node, int, int]] = [(root, 1, -1)]
    while stack:
        node, depth, opened = stack.pop()
        if opened >= 0:  # the end of a list or mapping
            sizes[id(node)] = count - opened + 1
            continue
        if id(node) in seen:
            count += sizes.get(id(node), 1)
        else:
            seen.add(id(node))
            count += 1
            if not isinstance(node, yaml.ScalarNode):
                if depth > MAX_YAML_DEPTH:
                    return True
                stack.append((node, depth, count))
                children = node.value
                if isinstance(node, yaml.MappingNode):
                    children = [item for pair in node.value for item in pair]
                stack.extend((child, depth + 1, -1) for child in reversed(children))
        if count > MAX_YAML_NODES:
            return True
    return False


def _yaml_problem(event: yaml.Event, message: str, hint: str) -> YamlProblem:
    mark = event.start_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    return YamlProblem(line, col, message, hint)


# --- HTML -----------------------------------------------------------------------------------

# Elements with no closing tag; they never nest.
_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
# `[^<>]*` (not `[^>]*`): a tag never spans another `<`, so a run of unclosed `<` costs linear time.
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)[^<>]*?(/?)>")


def html_depth(html: str) -> int:
    """How deep elements nest in `html`, counting an unclosed tag as open (an upper bound)."""
    depth = deepest = 0
    for match in _TAG.finditer(html):
        closing, name, self_closing = match.groups()
        if closing:
            depth = max(0, depth - 1)
        elif not self_closing and name.lower() not in _VOID:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


# --- images ---------------------------------------------------------------------------------


def image_kind(data: bytes) -> str | None:
    """PNG, JPEG, GIF or WebP from the file's first bytes; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    return None


def _looks_like_svg(data: bytes) -> bool:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<svg", b"<?xml")) and b"<svg" in data[:4096].lower()


_IMAGE_ADVICE = "shrink or compress it, or link it from the web"


def read_media(path: Path) -> bytes:
    """An image already checked by `read_image` (`path` resolved), read again to be bundled:
    bounded and without blocking still, in case the file was swapped meanwhile."""
    return read_limited(
        path, MAX_IMAGE_BYTES, str(path), "image", _IMAGE_ADVICE, follow_links=False
    )


def read_image(path: Path, src: str) -> bytes:
    """The bytes of an image to bundle: a real PNG/JPEG/GIF/WebP, under MAX_IMAGE_BYTES, whose
    name ends as its format does. `src` is the path as written (the caller adds where)."""
    name = f"image {src!r}"
    data = read_limited(path, MAX_IMAGE_BYTES, name, "image", _IMAGE_ADVICE, follow_links=False)
    kind = image_kind(data)
    if kind is None:
        if _looks_like_svg(data):
            raise CardsError(
                f"{name} is an SVG; SVG images are not bundled because they can carry scripts "
                "(export it as PNG)"
            )
        raise CardsError(
            f"{name} is not an image (not PNG, JPEG, GIF or WebP by its content); "
            "link the picture itself"
        )
    suffix = os.path.splitext(path.name)[1].lower()
    if suffix not in IMAGE_SUFFIXES[kind]:
        raise CardsError(
            f"{name} holds a {kind} image but its name ends in {suffix or 'nothing'!r} "
            f"(rename it to end in {IMAGE_SUFFIXES[kind][0]})"
        )
    return data
