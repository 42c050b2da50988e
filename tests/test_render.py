"""Markdown -> card HTML: math, code, emoji, kramdown noise, sanitising, images."""

from __future__ import annotations

import hashlib
import html
import os
import re
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT
from mlops_cards.errors import CardsError
from mlops_cards.render import ALLOWED_TAGS, CardRenderer, media_name, pygments_css

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


@pytest.fixture
def course(tmp_path: Path) -> Path:
    root = tmp_path / "course"
    (root / "lessons" / "images").mkdir(parents=True)
    (root / "other" / "images").mkdir(parents=True)
    (root / "lessons" / "lesson.md").write_text("# Lesson\n", encoding="utf-8")
    (root / "lessons" / "images" / "diagram.png").write_bytes(PNG + b"diagram")
    (root / "lessons" / "images" / "img.png").write_bytes(PNG + b"lessons")
    (root / "other" / "images" / "img.png").write_bytes(PNG + b"other")
    (root / "other" / "page.md").write_text("# Other\n", encoding="utf-8")
    return root


def render(course: Path, markdown: str, line: int = 1) -> str:
    return CardRenderer(course).html(markdown, source=course / "lessons" / "lesson.md", line=line)


def text_of(fragment: str) -> str:
    """What a reader (or MathJax) sees: tags removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


# --- math ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        (r"Loss $L = \sum_i w_i * x_i^2$ here", r"\(L = \sum_i w_i * x_i^2\)"),
        (r"Inline \(a_1 * b_2\) kept", r"\(a_1 * b_2\)"),
        (r"Display \[\frac{a_b}{c_d}\] kept", r"\[\frac{a_b}{c_d}\]"),
        (r"Double $$\int_0^1 f(x)\,dx$$ inline", r"\[\int_0^1 f(x)\,dx\]"),
        ("$$\n\\alpha_1 * \\beta_2 \\\\ x < y\n$$", "\\[\\alpha_1 * \\beta_2 \\\\ x < y\\]"),
    ],
)
def test_math_survives_exactly(course: Path, markdown: str, expected: str) -> None:
    out = render(course, markdown)
    assert expected in text_of(out)
    assert "<em>" not in out and "<strong>" not in out


def test_dollar_amounts_are_not_math(course: Path) -> None:
    out = render(course, "It costs $5 and $10 a month.")
    assert out == "<p>It costs $5 and $10 a month.</p>"


def test_dollar_inside_code_is_literal(course: Path) -> None:
    out = render(course, "Run `echo $HOME and $PATH`\n\n```bash\necho $a $b\n```")
    assert r"\(" not in out
    assert "$HOME and $PATH" in out
    assert "$a" in text_of(out) and "$b" in text_of(out)


# --- code ---------------------------------------------------------------------------------


def test_code_is_highlighted_with_css_classes(course: Path) -> None:
    out = render(course, "```python\ndef f(x):\n    return x  # done\n```")
    assert out.startswith('<pre class="highlight"><code class="language-python">')
    assert '<span class="k">def</span>' in out
    assert '<span class="c1"># done</span>' in out
    assert "style=" not in out
    assert text_of(out) == "def f(x):\n    return x  # done\n"


def test_unknown_language_is_plain_escaped_code(course: Path) -> None:
    out = render(course, "```no-such-language\n<b>bold?</b> & more\n```")
    assert out == "<pre><code>&lt;b&gt;bold?&lt;/b&gt; &amp; more\n</code></pre>"


def test_pygments_css_has_light_and_night_rules() -> None:
    css = pygments_css()
    assert re.search(r"^\.highlight \.k \{", css, re.M)
    assert re.search(r"^\.nightMode \.highlight \.k \{", css, re.M)
    assert "pre {" not in css  # no global rules leaking out of the code blocks


# --- emoji --------------------------------------------------------------------------------


def test_emoji_shortcodes_become_emoji(course: Path) -> None:
    out = render(course, ":+1: :rocket: :warning: :pencil: :bell: :books:")
    assert out == "<p>👍 🚀 ⚠️ 📝 🔔 📚</p>"


def test_unknown_shortcodes_and_times_stay(course: Path) -> None:
    out = render(course, "Meet at 10:00:00, see test.py:19: and :not_an_emoji_at_all:")
    assert out == "<p>Meet at 10:00:00, see test.py:19: and :not_an_emoji_at_all:</p>"


def test_no_emoji_inside_code(course: Path) -> None:
    out = render(course, "`:rocket:` :rocket:\n\n```\n:rocket:\n```")
    assert "<code>:rocket:</code> 🚀" in out
    assert "<pre><code>:rocket:\n</code></pre>" in out


# --- kramdown and links -------------------------------------------------------------------


def test_kramdown_attributes_are_dropped(course: Path) -> None:
    out = render(course, '[Docs](https://example.org/docs){:target="_blank"} and *more*\n{: .note}')
    assert out == '<p><a href="https://example.org/docs">Docs</a> and <em>more</em></p>'


def test_paragraph_of_only_a_kramdown_attribute_vanishes(course: Path) -> None:
    assert render(course, "Text\n\n{: .class}") == "<p>Text</p>"


def test_tables_and_strikethrough(course: Path) -> None:
    out = render(course, "| a | b |\n|:--|--:|\n| ~~x~~ | y |")
    assert "<table>" in out and '<th style="text-align:left">a</th>' in out
    assert '<td style="text-align:left"><s>x</s></td>' in out


# --- sanitising ---------------------------------------------------------------------------


def test_script_and_style_are_removed_with_their_content(course: Path) -> None:
    out = render(course, "Hi <script>alert('x')</script>\n\n<style>p{color:red}</style>\n\nend")
    assert "script" not in out and "alert" not in out
    assert "style" not in out and "color" not in out
    assert "Hi" in out and "end" in out


def test_event_handlers_and_javascript_links_are_removed(course: Path) -> None:
    out = render(
        course,
        '<img src="https://example.org/a.png" onerror="alert(1)"> '
        '<a href="javascript:alert(1)">x</a> <a href="JaVaScRiPt:alert(2)">y</a> '
        '<a href="vbscript:msgbox(1)">z</a> <div onclick="alert(3)">d</div>',
    )
    assert "onerror" not in out and "onclick" not in out and "alert" not in out
    assert "javascript" not in out.lower() and "vbscript" not in out
    assert '<img src="https://example.org/a.png">' in out


def test_dangerous_containers_and_inline_styles_are_removed(course: Path) -> None:
    out = render(
        course,
        '<form action="https://evil.example"><input name="p"></form>'
        '<object data="x.swf"></object><embed src="x.swf">'
        '<span style="position:fixed" class="tip">tip</span>',
    )
    assert "form" not in out and "input" not in out
    assert "object" not in out and "embed" not in out
    assert out == '<span class="tip">tip</span>'


def test_kept_html(course: Path) -> None:
    markdown = "<mark>m</mark> H<sub>2</sub>O x<sup>2</sup> <kbd>Ctrl</kbd><br>next"
    assert render(course, markdown) == f"<p>{markdown}</p>"


def test_iframe_becomes_a_link(course: Path) -> None:
    out = render(
        course,
        '<iframe width="560" height="315" src="https://www.youtube.com/embed/abc?x=1&amp;y=2" '
        "allowfullscreen></iframe>",
    )
    url = "https://www.youtube.com/embed/abc?x=1&amp;y=2"
    assert out == f'<a href="{url}">{url}</a>'


def test_iframe_inside_a_paragraph_becomes_a_link(course: Path) -> None:
    out = render(course, 'Watch <iframe src="https://example.org/v"></iframe> now')
    assert out == '<p>Watch <a href="https://example.org/v">https://example.org/v</a> now</p>'


def test_cloze_markers_written_in_a_field_are_inert(course: Path) -> None:
    # Only the tool's own markers become Anki's (notes.cloze_field, after rendering).
    out = render(course, "A {{c2::virtual environment}} isolates Wid}}get")
    assert out == "<p>A &#123;{c2::virtual environment}&#125; isolates Wid}&#125;get</p>"


@pytest.mark.parametrize(
    "text",
    ["[sound:../../etc/passwd]", "[latex]\\input{/etc/passwd}[/latex]", "`[$]x[/$]`",
     "`[$$]y[/$$]`", "[anki:tts lang=en]hi[/anki:tts]", "[SOUND:x.mp3]"],
)  # fmt: skip
def test_anki_media_and_latex_tags_are_inert(course: Path, text: str) -> None:
    out = render(course, text)
    assert "&#91;" in out
    assert not re.search(r"\[(sound:|/?latex\]|/?\$\$?\]|/?anki:)", out, re.IGNORECASE)


def test_inline_html_has_no_paragraph_and_no_blocks(course: Path) -> None:
    renderer = CardRenderer(course)
    lesson = course / "lessons" / "lesson.md"
    assert renderer.inline_html("`venv` :+1: $x_1$", source=lesson, line=1) == (
        r"<code>venv</code> 👍 \(x_1\)"
    )
    assert renderer.inline_html("# not a heading", source=lesson, line=1) == "# not a heading"
    assert renderer.inline_html("  ", source=lesson, line=1) == ""


def test_output_is_nfc(course: Path) -> None:
    assert render(course, "Cafe\u0301") == "<p>Caf\u00e9</p>"


# --- images -------------------------------------------------------------------------------


def test_images_are_bundled_under_stable_names(course: Path) -> None:
    renderer = CardRenderer(course)
    lesson = course / "lessons" / "lesson.md"
    out = renderer.html(
        '![A diagram](images/diagram.png) <img src="./images/diagram.png" width="300"/>',
        source=lesson,
        line=3,
    )
    digest = hashlib.sha256(PNG + b"diagram").hexdigest()[:12]
    name = f"diagram-{digest}.png"
    assert out == f'<p><img src="{name}" alt="A diagram"> <img src="{name}" width="300"></p>'
    assert renderer.media() == {name: (course / "lessons" / "images" / "diagram.png").resolve()}
    # A second build names it the same.
    again = CardRenderer(course)
    again.html("![x](images/diagram.png)", source=lesson, line=1)
    assert list(again.media()) == [name]


def test_same_file_name_in_two_folders_does_not_clash(course: Path) -> None:
    renderer = CardRenderer(course)
    renderer.html("![](images/img.png)", source=course / "lessons" / "lesson.md", line=1)
    renderer.html("![](images/img.png)", source=course / "other" / "page.md", line=1)
    media = renderer.media()
    assert len(media) == 2
    assert all(re.fullmatch(r"img-[0-9a-f]{12}\.png", name) for name in media)
    assert sorted(media.values()) == sorted(
        [(course / "lessons/images/img.png").resolve(), (course / "other/images/img.png").resolve()]
    )


def test_media_name_is_safe_and_keeps_the_extension() -> None:
    name = media_name(Path("Schéma de données (v2).PNG"), b"abc")
    assert name == f"Schema-de-donnees-v2-{hashlib.sha256(b'abc').hexdigest()[:12]}.png"


def test_remote_images_stay_remote(course: Path) -> None:
    renderer = CardRenderer(course)
    out = renderer.html(
        "![x](https://example.org/x.png)", source=course / "lessons" / "lesson.md", line=1
    )
    assert out == '<p><img src="https://example.org/x.png" alt="x"></p>'
    assert renderer.media() == {}


def test_missing_image_is_an_error_with_file_and_line(course: Path) -> None:
    lesson = course / "lessons" / "lesson.md"
    with pytest.raises(CardsError) as error:
        render(course, "Intro\n\nSee this:\n![gone](images/nope.png)", line=10)
    assert str(error.value).startswith(f"{lesson}:13: image 'images/nope.png' not found")


def test_missing_raw_html_image_reports_its_own_line(course: Path) -> None:
    lesson = course / "lessons" / "lesson.md"
    with pytest.raises(CardsError) as error:
        render(course, 'Intro\n\n<div>\n<img src="images/gone.png">\n</div>', line=20)
    assert str(error.value).startswith(f"{lesson}:23: image 'images/gone.png' not found")


def test_parent_escape_is_an_error(course: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.png").write_bytes(PNG)
    with pytest.raises(CardsError, match=r"lesson\.md:1: image '\.\./\.\./secret\.png' lies out"):
        render(course, "![s](../../secret.png)")


def test_absolute_path_is_an_error(course: Path) -> None:
    target = course / "lessons" / "images" / "diagram.png"
    with pytest.raises(CardsError, match="is absolute"):
        render(course, f'<img src="{target}">')


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_symlink_leaving_the_course_is_an_error(course: Path, tmp_path: Path) -> None:
    (tmp_path / "outside.png").write_bytes(PNG)
    os.symlink(tmp_path / "outside.png", course / "lessons" / "images" / "link.png")
    with pytest.raises(CardsError, match="lies outside the course folder"):
        render(course, "![l](images/link.png)")


def test_unbundled_relative_src_never_reaches_the_card(course: Path) -> None:
    # html.parser and a browser may disagree on broken markup; the sanitiser drops any src
    # that is neither bundled nor remote.
    out = render(course, '<img src="data:text/html,<script>alert(1)</script>">')
    assert "data:" not in out and "alert" not in out


# --- determinism --------------------------------------------------------------------------

SAMPLE = """\
Intro with $x_1$ and :rocket: and <mark>a</mark>{:target="_blank"}

```python
print("hi")
```

| a | b |
|---|---|
| 1 | 2 |

![d](images/diagram.png)
"""


def test_same_input_same_html(course: Path) -> None:
    first = render(course, SAMPLE)
    assert render(course, SAMPLE) == first


def test_output_does_not_depend_on_hash_seed(course: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from mlops_cards.render import CardRenderer;"
        "r = CardRenderer(Path(sys.argv[1]));"
        "print(r.html(sys.stdin.read(), source=Path(sys.argv[1]) / 'lessons/lesson.md', line=1));"
        "print(sorted(r.media()))"
    )
    outputs = set()
    for seed in ("1", "2", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT / "src")}
        result = subprocess.run(
            [sys.executable, "-c", script, str(course)],
            input=SAMPLE,
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        outputs.add(result.stdout)
    assert len(outputs) == 1


# --- invariants -----------------------------------------------------------------------------

FRAGMENTS = [
    "text ", "*em* ", "__strong__ ", "`code $x$` ", "$a_1*b_2$ ", r"\(c_d\) ", ":rocket: ",
    '{:target="_blank"} ', "<script>alert(1)</script>", '<img src="https://e.org/i.png" '
    'onerror="alert(2)">', '<a href="javascript:alert(3)">j</a>', "<b onclick='alert(4)'>b</b>",
    '<iframe src="https://e.org/v"></iframe>', "<style>*{}</style>", "\n", "\n\n", "- item\n",
    "```python\nx = 1\n```\n", "| a |\n|---|\n| b |\n", "<div>", "</div>", "<", ">", "&", '"',
    "<svg onload=alert(5)>", "<math><mi>x</mi></math>", "<!-- c -->", "<a href='vbscript:x'>v</a>",
]  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=12))
def test_no_active_content_ever_survives(parts: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        markdown = "".join(parts)
        renderer = CardRenderer(root)
        try:
            out = renderer.html(markdown, source=root / "x.md", line=1)
        except CardsError as error:  # a tag never closed by `>`: refused, with where and why
            assert str(error).startswith(f"{root / 'x.md'}:") and "never closed" in str(error)
            return
        assert renderer.html(markdown, source=root / "x.md", line=1) == out
        for tag, attributes in _tags(out):
            assert tag in ALLOWED_TAGS
            for name, value in attributes:
                assert not name.startswith("on")
                if name in ("href", "src"):
                    assert re.match(r"(https?:|mailto:|[^:]*$)", value or ""), value


def _tags(fragment: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Every start tag of an HTML fragment, as a browser-like parser reads it."""
    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, attrs))

    parser = Collect()
    parser.feed(fragment)
    parser.close()
    return found


@pytest.mark.parametrize(("depth", "refused"), [(200, False), (201, True)])
def test_html_nested_past_the_limit_is_refused_and_up_to_it_rendered(
    course: Path, depth: int, refused: bool
) -> None:
    markdown = "<div>" * depth + "x" + "</div>" * depth
    if refused:
        with pytest.raises(CardsError, match="nested more than 200 levels deep"):
            render(course, markdown)
    else:
        assert render(course, markdown).count("<div>") == depth
