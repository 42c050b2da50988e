"""Markdown -> the HTML shown on a card.

One `CardRenderer` per deck build: it renders every field of every note and collects the
local images those fields use, under collision-free names that stay the same from build to
build (so Anki's media folder never fills with copies of one picture).

The pipeline for one field:
1. markdown-it parses the lesson dialect: GFM tables and strikethrough, raw HTML, math in
   `$…$`, `$$…$$`, `\\(…\\)`, `\\[…\\]` (kept whole for Anki's MathJax), kramdown attributes
   `{:…}` (consumed, so they never reach the card).
2. A walk over the tokens turns emoji shortcodes into emoji (never in code or math), bundles
   local images (markdown and raw `<img>`) and turns `<iframe>`s into plain links. The walk
   knows each token's line, so a missing image is reported at its own line.
3. markdown-it renders, with pygments highlighting fenced code by CSS class.
4. nh3 (the Rust `ammonia` sanitiser) cleans the whole result against an allowlist. It parses
   like a browser (html5ever) and re-serialises, so what survives is exactly what Anki shows.
5. Anki's own syntax in the text (`{{c1::}}`, `[sound:]`, `[latex]`...) is made inert
   (`anki_inert`); only the tool's own cloze markers become Anki's, after rendering.

A field of plain words (one line, no character any rule starts at) skips steps 1-5: what they
would make of it is known, `<p>text</p>` with its shortcodes as emoji (`_plain_paragraph`).
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Callable, Container, Sequence
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import nh3
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from mlops_cards.errors import CardsError, SourceError
from mlops_cards.limits import MAX_HTML_DEPTH, has_control_chars, html_depth, read_image

# markdown-it and emoji are imported when first needed: a build served by the cache only
# bundles images again and never parses Markdown.
if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_inline import StateInline
    from markdown_it.token import Token

    RenderRule = Callable[[Any, Sequence[Token], int, Any, Any], str]

__all__ = [
    "PYGMENTS_DARK_STYLE",
    "PYGMENTS_LIGHT_STYLE",
    "CardRenderer",
    "anki_inert",
    "clean_field",
    "plain_name",
    "plain_tag",
    "pygments_css",
    "sanitise_html",
]

PYGMENTS_LIGHT_STYLE = "default"
PYGMENTS_DARK_STYLE = "github-dark"

# --- sanitiser allowlist ------------------------------------------------------------------
# What a card may contain. Everything else is dropped (its text kept, except script/style).
ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "center", "code", "col", "colgroup",
        "dd", "del", "details", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2",
        "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre",
        "q", "s", "samp", "small", "span", "strike", "strong", "sub", "summary", "sup", "table",
        "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"class", "title", "lang", "dir"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height", "align"},
    "ol": {"start", "type"},
    "li": {"value"},
    "td": {"align", "colspan", "rowspan", "style"},
    "th": {"align", "colspan", "rowspan", "style"},
    "details": {"open"},
}
# markdown-it writes table alignment as `style="text-align:…"`; that is the only CSS kept.
ALLOWED_STYLE_PROPERTIES = {"text-align"}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
DROPPED_WITH_CONTENT = {"script", "style", "noscript", "template", "object", "embed"}

_REMOTE = re.compile(r"^(?:https?:)?//", re.IGNORECASE)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
# GitHub-style shortcode, not glued to letters or digits on either side (so `10:00:00` and
# `file.py:19:` stay as they are).
_SHORTCODE = re.compile(r"(?<![A-Za-z0-9]):([a-z0-9_+-]+):(?![A-Za-z0-9])")
# `[^{}\n]`: a failed match stops at the next `{`, so a line of `{:{:{:` costs linear time.
_KRAMDOWN_ATTRIBUTE = re.compile(r"\{:[^{}\n]*\}")
_MEDIA_STEM_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
# Raw HTML is only rewritten for these tags; a tag opened but never closed by `>`.
_REWRITTEN_TAG = re.compile(r"<(?:img|iframe)\b", re.IGNORECASE)
_UNCLOSED_TAG = re.compile(r"<[A-Za-z!/?](?:[^<>\"']|\"[^\"]*\"|'[^']*')*(?:<|$|[\"'][^\"']*$)")


class CardRenderer:
    """Renders Markdown fields to card HTML and collects the images they use.

    No file outside `course_root` is ever read: image paths that leave it (`../`, absolute
    paths, symlinks pointing out) are errors, as are images that do not exist.
    """

    def __init__(self, course_root: Path) -> None:
        self._root = course_root.resolve()
        self._media: dict[str, Path] = {}
        self._names: dict[Path, str] = {}  # resolved image path -> bundled name
        # (source, src, line, bundled name) of every local image, in order: the cache keeps a
        # lesson's list with its notes and replays it through `bundle` to check and collect them.
        self.bundled: list[tuple[str, str, int, str]] = []

    @functools.cached_property
    def _md(self) -> MarkdownIt:
        return _markdown_parser()

    @property
    def course_root(self) -> Path:
        return self._root

    def media(self) -> dict[str, Path]:
        """Bundled file name -> source file, for every local image rendered so far (sorted)."""
        return dict(sorted(self._media.items()))

    def html(self, markdown: str, *, source: Path, line: int) -> str:
        """Render one field. `source`/`line` locate the Markdown, for error messages and for
        resolving relative image paths (relative to `source`'s folder). Any `{{` or `}}` in it
        is shown, never read by Anki (`anki_inert`): the tool's own cloze markers go through as
        placeholders and become Anki's afterwards (notes.cloze_placeholders, cloze_field)."""
        if not markdown.strip():
            return ""
        plain = _plain_paragraph(markdown)
        if plain is not None:
            return plain
        return self._render(self._md.parse(markdown), source, line)

    def inline_html(self, markdown: str, *, source: Path, line: int) -> str:
        """Render a one-line field (a term, a title) without the `<p>` around it: inline
        Markdown only, so `# x` or `- x` stay text."""
        if not markdown.strip():
            return ""
        return self._render(self._md.parseInline(markdown.strip()), source, line)

    def bundle(self, src: str, *, source: Path, line: int) -> str:
        """Bundle one local image as a field showing it would; returns its name in the deck."""
        return self._bundle(src, source, line)

    def _render(self, tokens: list[Token], source: Path, line: int) -> str:
        self._rewrite(tokens, source, line)
        rendered = str(self._md.renderer.render(tokens, self._md.options, {}))
        # Only a `<` not followed by `/` can open an element: most fields have too few of
        # them to nest that deep, and counting is far cheaper than `html_depth`.
        opened = rendered.count("<") - rendered.count("</")
        if opened > MAX_HTML_DEPTH and html_depth(rendered) > MAX_HTML_DEPTH:
            # The sanitiser's time grows with the square of the depth; no card needs this.
            raise SourceError(
                str(source),
                line,
                f"HTML elements nested more than {MAX_HTML_DEPTH} levels deep "
                "(close the tags you open, e.g. every <div> with </div>)",
            )
        # NFC, as Anki stores field text: a checkout with decomposed accents (macOS) must give
        # the same note content, hence the same lock hash.
        clean = anki_inert(self._sanitise(rendered).strip())
        return unicodedata.normalize("NFC", clean)

    # --- token walk ---------------------------------------------------------------------

    def _rewrite(self, tokens: list[Token], source: Path, base_line: int) -> None:
        for token in tokens:
            line = base_line + (token.map[0] if token.map else 0)
            if token.type == "inline" and token.children:
                self._rewrite_inline(token.children, source, line)
                # A kramdown attribute on the paragraph's last line leaves a dangling break.
                while token.children and token.children[-1].type == "softbreak":
                    token.children.pop()
            elif token.type == "html_block":
                token.content = self._rewrite_raw_html(token.content, source, line)
        _drop_empty_paragraphs(tokens)

    def _rewrite_inline(self, children: list[Token], source: Path, line: int) -> None:
        for child in children:
            if child.type in ("softbreak", "hardbreak"):
                line += 1
            elif child.type == "text":
                child.content = emojize(child.content)
            elif child.type == "image":
                src = str(child.attrGet("src") or "")
                child.attrSet("src", self._bundle(src, source, line))
                if child.children:
                    self._rewrite_inline(child.children, source, line)
            elif child.type == "html_inline":
                child.content = self._rewrite_raw_html(child.content, source, line)

    def _rewrite_raw_html(self, html: str, source: Path, line: int) -> str:
        if not _REWRITTEN_TAG.search(html):
            return html  # nothing to rewrite; the sanitiser drops comments and the like
        unclosed = _UNCLOSED_TAG.search(html)
        if unclosed is not None:
            # Python's HTMLParser takes quadratic time over tags that never close.
            where = line + html.count("\n", 0, unclosed.start())
            raise SourceError(
                str(source),
                where,
                "raw HTML has a tag that is never closed by '>' "
                f"({unclosed.group(0)[:30].strip()!r}); close it, or write &lt; for a plain '<'",
            )
        rewriter = _RawHtmlRewriter(lambda src, offset: self._bundle(src, source, line + offset))
        rewriter.feed(html)
        rewriter.close()
        return rewriter.result()

    # --- images -------------------------------------------------------------------------

    def _bundle(self, src: str, source: Path, line: int) -> str:
        """The `src` to write for an image: remote URLs unchanged, local files bundled."""
        src = src.strip()
        if not src or _REMOTE.match(src) or src.lower().startswith("data:"):
            return src  # remote images stay remote; data: URLs are left to the sanitiser

        def problem(message: str) -> SourceError:
            return SourceError(str(source), line, message)

        if _SCHEME.match(src) and not re.match(r"^[A-Za-z]:[\\/]", src):
            raise problem(
                f"image {src!r} is neither a web address nor a file in the course "
                "(use a relative path such as images/picture.png)"
            )
        relative = unquote(urlsplit(src).path)
        if relative.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:[\\/]", relative):
            raise problem(
                f"image path {src!r} is absolute "
                "(write it relative to the lesson, such as images/picture.png)"
            )
        if has_control_chars(relative):  # `%00`, `%0a`: no file in a course is named so
            raise problem(f"image path {src!r} holds a control character (rename the file)")
        try:
            target = (source.resolve().parent / relative).resolve()
            inside = target.is_relative_to(self._root)
            found = inside and target.is_file()
        except (OSError, ValueError) as exc:  # a name too long for the file system, a loop
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise problem(f"image {src!r} cannot be opened ({reason})") from None
        if not inside:
            raise problem(
                f"image {src!r} lies outside the course folder {self._root} "
                "(copy the image into the course and link it from there)"
            )
        if not found:
            raise problem(
                f"image {src!r} not found (looked for {target}; fix the path or add the file)"
            )
        name = self._names.get(target)
        if name is None:
            try:
                data = read_image(target, src)
            except CardsError as exc:  # too big, not an image, a pipe: said at the line
                raise problem(str(exc)) from None
            name = media_name(target, data)
            self._names[target] = name
            known = self._media.get(name)
            # The same picture under the same name in two folders: one copy, chosen by path
            # so the choice does not depend on rendering order.
            if known is None or str(target) < str(known):
                self._media[name] = target
        self.bundled.append((str(source), src, line, name))
        return name

    # --- sanitiser ----------------------------------------------------------------------

    def _sanitise(self, html: str) -> str:
        return sanitise_html(html, self._media.keys())


# --- fields of plain words ---------------------------------------------------------------------
# A field of one line (empty lines around it aside) holding none of the characters any block or
# inline rule of the dialect needs is one paragraph with one text token: markdown-it renders it
# as `<p>text</p>`, the token walk only turns its shortcodes into emoji, and nh3, which
# re-serialises text escaping only `&`, `<`, `>` and no-break spaces, leaves it as it is. Two
# fields in five are such sentences (questions, objectives, terms); they skip the parser, the
# walk and nh3.
# (tests/test_properties.py compares this with the full path on random text.)
_MARKUP_CHARACTER = re.compile(r'[\\`*_~$\[\]<>&"{}|]')
# What starts a block on a line of its own: a heading, a list item, an ordered list's number.
_BLOCK_START = frozenset("#+-0123456789")
# What markdown-it or nh3 would write as an entity (no emoji holds one; checked all the same).
_SERIALISED_ESCAPED = re.compile('[&<>"\u00a0]')


def _plain_paragraph(markdown: str) -> str | None:
    """The HTML of a field of plain words, or None when `markdown` may be more than that.

    Not plain: a character some rule starts at, anything but a space among the whitespace
    (line ends, tabs, indentation), leading or trailing spaces, a character Python does not
    print (controls, format and private-use characters: the cloze placeholders among them).
    Empty lines before and after it (a YAML block scalar ends with one) are no blocks."""
    line = markdown.strip("\n")
    if (
        line[0] in _BLOCK_START
        or line[0] == " "
        or line[-1] == " "
        or _MARKUP_CHARACTER.search(line) is not None
    ):
        return None
    # The walk turns shortcodes into emoji after parsing, so markup they bring is text.
    text = emojize(line) if ":" in line else line
    if not text.isprintable() or _SERIALISED_ESCAPED.search(text) is not None:
        return None
    return unicodedata.normalize("NFC", f"<p>{text}</p>")


def sanitise_html(html: str, media: Container[str] = frozenset()) -> str:
    """`html` with only the allowlisted tags, attributes and URL schemes; `<img src>` must be
    one of the bundled `media` names or a web address."""
    return _sanitiser().clean(html, media)


class _Sanitiser:
    """One nh3 `Cleaner` for every field: making one (the allowlists handed to Rust) took twice
    as long as cleaning a typical field with it. Its attribute filter reads the `media` of the
    call under way, so calls must not overlap: the tool renders in one thread per process."""

    def __init__(self) -> None:
        self._media: Container[str] = frozenset()
        self._cleaner = nh3.Cleaner(
            tags=set(ALLOWED_TAGS),
            clean_content_tags=set(DROPPED_WITH_CONTENT),
            attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
            attribute_filter=self._keep_attribute,
            url_schemes=set(ALLOWED_URL_SCHEMES),
            filter_style_properties=set(ALLOWED_STYLE_PROPERTIES),
            link_rel=None,
            strip_comments=True,
        )

    def clean(self, html: str, media: Container[str]) -> str:
        self._media = media
        try:
            return str(self._cleaner.clean(html))
        finally:
            self._media = frozenset()

    def _keep_attribute(self, tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src":
            # Only bundled files and web images: a path that was not bundled would point
            # into the learner's media folder at random.
            return value if value in self._media or _REMOTE.match(value) else None
        return value


@functools.cache
def _sanitiser() -> _Sanitiser:
    return _Sanitiser()


# --- Anki's own syntax in field text ----------------------------------------------------------
# Anki reads some text in a field as instructions, not as text: `{{c1::...}}` makes cloze cards,
# `[sound:file]` plays a media file, `[latex]`, `[$]` and `[$$]` run LaTeX on the learner's
# machine, `[anki:tts]` speaks. In text from a lesson or YAML these are shown as written: an
# entity for their first character (after the sanitiser, which would decode it again).
#
# The tool's own cloze markers are private-use placeholders while the field is rendered
# (notes.cloze_placeholders), and become `{{cN::` and `}}` only afterwards (notes.cloze_field).
_ANKI_TAG = re.compile(r"\[(?=sound:|/?latex\]|/?\$\$?\]|/?anki:)", re.IGNORECASE)
_BRACES = re.compile(r"\{\{|\}\}")


def anki_inert(html: str) -> str:
    """Sanitised HTML in which Anki finds no cloze, sound, LaTeX or TTS syntax."""
    html = _ANKI_TAG.sub("&#91;", html)
    return _BRACES.sub(lambda m: "&#123;{" if m.group() == "{{" else "}&#125;", html)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]+")
_ANY_TAG = re.compile(r"<[^<>]*>|[<>]")


def _plain(text: str) -> str:
    return " ".join(_CONTROL.sub(" ", _ANY_TAG.sub("", text)).split())


def plain_name(name: str) -> str:
    """A deck name as plain text: no HTML tags, no control or text-direction characters."""
    return _plain(name) or "Deck"


def plain_tag(tag: str) -> str:
    """A tag as plain text (templates may show `{{Tags}}` unescaped): no HTML, no control
    characters, no whitespace (Anki separates tags by it). Empty when nothing is left."""
    return "_".join(_plain(tag).split())


def clean_field(html: str, media: Container[str] = frozenset()) -> str:
    """A field or description from outside this build (a lock file, a manifest) made as safe
    as a rendered one: sanitised, Anki syntax inert."""
    return anki_inert(sanitise_html(html, media).strip())


def media_name(path: Path, content: bytes) -> str:
    """`<stem>-<12 hex of sha256>.<ext>`: the same picture always gets the same name, two
    different pictures never share one, and the name is safe on every file system."""
    stem = unicodedata.normalize("NFKD", path.stem).encode("ascii", "ignore").decode("ascii")
    stem = _MEDIA_STEM_UNSAFE.sub("-", stem).strip("-_")[:40] or "image"
    suffix = re.sub(r"[^a-z0-9]", "", path.suffix.lower())
    digest = hashlib.sha256(content).hexdigest()[:12]
    return f"{stem}-{digest}.{suffix}" if suffix else f"{stem}-{digest}"


def emojize(text: str) -> str:
    """Replace known GitHub emoji shortcodes; unknown ones stay as written."""

    def replace(match: re.Match[str]) -> str:
        import emoji

        return str(emoji.emojize(match.group(0), language="alias"))

    return _SHORTCODE.sub(replace, text)


def pygments_css() -> str:
    """CSS for highlighted code, light by default and dark under Anki's `.nightMode`."""
    light = _token_rules(PYGMENTS_LIGHT_STYLE, ".highlight")
    dark = _token_rules(PYGMENTS_DARK_STYLE, ".nightMode .highlight")
    # In night mode, first undo every light colour, so a token the dark style leaves alone
    # does not keep a colour made for a white background.
    reset = ".nightMode .highlight span { color: inherit; background: none; }"
    return "\n".join(["/* pygments: code highlighting */", light, reset, dark, ""])


def _token_rules(style: str, scope: str) -> str:
    """Only the per-token colour rules: backgrounds and spacing come from the note type CSS."""
    rules: str = HtmlFormatter(style=style).get_style_defs(scope)  # type: ignore[no-untyped-call]
    return "\n".join(line for line in rules.splitlines() if line.startswith(f"{scope} ."))


# --- markdown-it setup ---------------------------------------------------------------------


def _markdown_parser() -> MarkdownIt:
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    md = MarkdownIt("commonmark", {"html": True, "breaks": False, "linkify": False})
    md.enable(["table", "strikethrough"])
    dollarmath_plugin(md, allow_labels=False, allow_space=False, allow_digits=False,
                      allow_blank_lines=False, double_inline=True)  # fmt: skip
    md.inline.ruler.before("escape", "math_bracket", _math_bracket)
    md.inline.ruler.before("emphasis", "kramdown_attribute", _kramdown_attribute)
    md.add_render_rule("math_inline", _render_math(r"\(", r"\)"))
    md.add_render_rule("math_inline_double", _render_math(r"\[", r"\]"))
    md.add_render_rule("math_bracket_inline", _render_math(r"\(", r"\)"))
    md.add_render_rule("math_bracket_display", _render_math(r"\[", r"\]"))
    md.add_render_rule("math_block", _render_math(r"\[", r"\]", block=True))
    md.add_render_rule("fence", _render_code)
    md.add_render_rule("code_block", _render_code)
    return md


def _math_bracket(state: StateInline, silent: bool) -> bool:
    r"""`\(…\)` and `\[…\]`: kept whole, before CommonMark's escapes turn `\(` into `(`."""
    src, pos = state.src, state.pos
    if not src.startswith(("\\(", "\\["), pos):
        return False
    closing = "\\)" if src[pos + 1] == "(" else "\\]"
    # Remember from where on a closing bracket is missing in this source, so a line full of
    # `\(` is searched once (linear time), not once per `\(` (quadratic).
    missing = state.env.setdefault("math_bracket_missing", {})
    known = missing.get(closing)
    if known is not None and known[0] is src and pos >= known[1]:
        return False
    end = src.find(closing, pos + 2)
    if end < 0:
        missing[closing] = (src, pos)
        return False
    if not silent:
        kind = "math_bracket_inline" if closing == "\\)" else "math_bracket_display"
        token = state.push(kind, "math", 0)
        token.content = src[pos + 2 : end]
        token.markup = src[pos : pos + 2]
    state.pos = end + 2
    return True


def _kramdown_attribute(state: StateInline, silent: bool) -> bool:
    """`{:target="_blank"}` / `{: .class}`: consumed without output (kramdown-only syntax)."""
    if not state.src.startswith("{:", state.pos):
        return False
    match = _KRAMDOWN_ATTRIBUTE.match(state.src, state.pos)
    if match is None:
        return False
    state.pos = match.end()
    return True


def _render_math(opening: str, closing: str, *, block: bool = False) -> RenderRule:
    def render(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        text = f"{opening}{escape(tokens[idx].content.strip(), quote=False)}{closing}"
        return f'<div class="math">{text}</div>\n' if block else text

    return render


def _render_code(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    language = token.info.strip().split(maxsplit=1)[0] if token.info.strip() else ""
    lexer = _lexer(language)
    if lexer is None:
        return f"<pre><code>{escape(token.content, quote=False)}</code></pre>\n"
    code = highlight(token.content, lexer, _code_formatter())
    css_language = re.sub(r"[^A-Za-z0-9_+-]", "", language)
    return f'<pre class="highlight"><code class="language-{css_language}">{code}</code></pre>\n'


# Both are reused: building a formatter computes its style tables, and finding a lexer by name
# walks pygments' whole registry; each took longer than highlighting a typical snippet.
@functools.cache
def _code_formatter() -> HtmlFormatter[str]:
    return HtmlFormatter(nowrap=True)


@functools.cache
def _lexer(language: str) -> Lexer | None:
    if not language:
        return None
    try:
        return get_lexer_by_name(language, stripnl=False, ensurenl=True)
    except ClassNotFound:
        return None


def _drop_empty_paragraphs(tokens: list[Token]) -> None:
    """A paragraph that held only a kramdown attribute line renders as nothing at all."""
    i = 0
    while i + 2 < len(tokens):
        opening, inline, closing = tokens[i : i + 3]
        if (
            opening.type == "paragraph_open"
            and inline.type == "inline"
            and closing.type == "paragraph_close"
            and all(child.type == "softbreak" for child in inline.children or [])
        ):
            del tokens[i : i + 3]
        else:
            i += 1


class _RawHtmlRewriter(HTMLParser):
    """Re-emits a raw HTML fragment with two changes: `<img src>` goes through `bundle`, and an
    `<iframe src=…>` (a video, usually) becomes a link to its address. Everything else is
    passed through untouched; the sanitiser decides later what may stay."""

    def __init__(self, bundle: Callable[[str, int], str]) -> None:
        super().__init__(convert_charrefs=False)
        self._bundle = bundle
        self._out: list[str] = []
        self._in_iframe = 0

    def result(self) -> str:
        return "".join(self._out)

    def _emit(self, text: str) -> None:
        if not self._in_iframe:
            self._out.append(text)

    def _tag(self, tag: str, attrs: list[tuple[str, str | None]], closed: bool) -> None:
        if tag == "iframe":
            src = next((v for k, v in attrs if k == "src" and v), None)
            if src and _REMOTE.match(src.strip()):  # a web video; never `javascript:` text
                self._emit(f'<a href="{escape(src)}">{escape(src, quote=False)}</a>')
            if not closed:
                self._in_iframe += 1
            return
        if tag == "img":
            rewritten = []
            for name, value in attrs:
                if name == "src" and value is not None:
                    value = self._bundle(value, self.getpos()[0] - 1)
                rewritten.append((name, value))
            parts = "".join(
                f" {name}" if value is None else f' {name}="{escape(value)}"'
                for name, value in rewritten
            )
            self._emit(f"<img{parts}>")
            return
        self._emit(self.get_starttag_text() or "")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs, closed=tag == "img")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs, closed=True)

    def handle_endtag(self, tag: str) -> None:
        if tag == "iframe":
            self._in_iframe = max(0, self._in_iframe - 1)
        elif tag != "img":
            self._emit(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self._emit(data)

    def handle_entityref(self, name: str) -> None:
        self._emit(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self._emit(f"&#{name};")

    # Comments, declarations and processing instructions never reach a card.
    def handle_comment(self, data: str) -> None:
        return

    def handle_decl(self, decl: str) -> None:
        return

    def unknown_decl(self, data: str) -> None:
        return
