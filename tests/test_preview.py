"""`preview`: every card of a deck, front and back, in one self-contained HTML page.

Both renderers are tested: Anki's own engine (skipped without the `anki` package) and our
fallback template renderer. A real headless Chromium screenshot checks that the page shows
cards (skipped without Chromium).
"""

from __future__ import annotations

import base64
import html
import importlib.util
import re
import sys
from pathlib import Path

import pytest

from browser import run_chromium
from conftest import run_cli
from mlops_cards.errors import CardsError
from mlops_cards.preview import (
    Preview,
    PreviewCard,
    card_page,
    make_preview,
    math_html,
    preview_html,
)
from mlops_cards.resolve import deck_manifests

LESSON = """\
---
sort: 1
---
# Feature Stores

## Learning Objectives

- [ ] Say what a feature store keeps.
- [ ] Tell online from offline features.

:bell: **Feature store**: a shared catalogue that serves the same feature values to training \
and to serving.

:pencil: Q1. Which command lists the registered features?

:pencil: Q2. Why must $t_{feature} \\le t_{label}$ hold when joining?

:pencil: Q3. Who owns a feature definition?
"""

SIDECAR = """\
questions:
  Q1:
    answer: "`feast feature-views list` prints them. ![the registry](registry.gif)"
  Q2:
    answer: Otherwise the model sees the future, \\(t_{feature} > t_{label}\\), a leak.
objectives:
  1:
    answer: Feature definitions and their values, offline for training and online for serving.
  2:
    answer: Offline features are historical tables; online ones are the latest values.
terms:
  Feature store:
    cloze: "Training and serving read identical values from one **{{c1::Feature store}}**."
"""

# A 1x1 GIF, written fresh for these tests.
GIF = bytes.fromhex(
    "474946383961010001008000000000ffffff21f90401000000002c00000000010001000002024401003b"
)

ENGINES = [
    "ours",
    pytest.param(
        "anki",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("anki") is None,
            reason="the anki package is not installed",
        ),
    ),
]


def make_course(root: Path, *, reverse: bool = False) -> Path:
    """A course with one lesson (Q3 unanswered), an image, and a deck manifest."""
    content = root / "content"
    content.mkdir(parents=True)
    (content / "stores.md").write_text(LESSON, encoding="utf-8")
    (content / "stores.yaml").write_text(SIDECAR, encoding="utf-8")
    (content / "registry.gif").write_bytes(GIF)
    decks = root / "decks"
    decks.mkdir()
    cards = "cards: {reverse: true}\n" if reverse else ""
    (decks / "stores.yaml").write_text(
        f"name: Stores Deck\nlessons: ['../content/*.md']\noutput: stores\n{cards}",
        encoding="utf-8",
    )
    return root


def preview_of(root: Path, engine: str, *paths: str) -> Preview:
    manifests = deck_manifests(
        [str(root / p) for p in paths or ("decks/stores.yaml",)], root / "out.html"
    )
    return make_preview(manifests, "anki" if engine == "anki" else "ours")


def cards_of(preview: Preview) -> dict[tuple[str, str, str], PreviewCard]:
    return {
        (card.kind, card.key, card.template): card
        for deck in preview.decks
        for lesson in deck.lessons
        for card in lesson.cards
    }


def text_of(card_html: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", card_html)).split())


@pytest.mark.parametrize("engine", ENGINES)
def test_every_card_has_its_prompt_in_front_and_its_answer_in_back(
    tmp_path: Path, engine: str
) -> None:
    preview = preview_of(make_course(tmp_path), engine)
    assert preview.engine == engine
    cards = cards_of(preview)
    assert sorted(cards) == [
        ("cloze", "Feature store", "Cloze"),
        ("objective", "1", "Objective"),
        ("objective", "2", "Objective"),
        ("question", "Q1", "Question"),
        ("question", "Q2", "Question"),
        ("term", "Feature store", "Term to Definition"),
    ]
    expected = {
        ("question", "Q1"): ("Which command lists the registered features?", "prints them."),
        ("question", "Q2"): ("Why must \\(t_{feature} \\le t_{label}\\) hold", "a leak."),
        ("objective", "1"): ("Say what a feature store keeps.", "offline for training"),
        ("objective", "2"): ("Tell online from offline features.", "historical tables"),
        ("term", "Feature store"): ("Feature store", "a shared catalogue that serves"),
    }
    for (kind, key, _), card in cards.items():
        if kind == "cloze":
            continue
        prompt, answer = expected[(kind, key)]
        front, back = text_of(card.front), text_of(card.back)
        assert prompt in front and answer not in front
        assert prompt in back and answer in back  # the back repeats the front, as in Anki
        assert card.source.startswith(str(tmp_path / "content" / "stores.md") + ":")
    # The cards keep math as written for Anki's MathJax; only the page typesets it.
    assert "\\(t_{feature} &gt; t_{label}\\)" in cards[("question", "Q2", "Question")].back
    assert ".mc-prompt" in cards[("question", "Q1", "Question")].css

    page = preview_html(preview)
    for card in cards.values():
        assert math_html(card.front) in page and math_html(card.back) in page
    renderer = "Anki's own engine" if engine == "anki" else "mlops-cards' own template renderer"
    assert f"Rendered by {renderer}" in html.unescape(page)


@pytest.mark.parametrize("engine", ENGINES)
def test_cloze_shows_the_blank_in_front_and_the_term_on_the_back(
    tmp_path: Path, engine: str
) -> None:
    card = cards_of(preview_of(make_course(tmp_path), engine))[("cloze", "Feature store", "Cloze")]
    front, back = text_of(card.front), text_of(card.back)
    assert "read identical values from one [...]" in front
    assert "Feature store" not in front
    assert re.search(r'<span class="cloze"[^>]*>\[\.\.\.\]</span>', card.front)
    assert "read identical values from one Feature store" in back
    assert re.search(r'<span class="cloze"[^>]*>Feature store</span>', card.back)


@pytest.mark.parametrize("engine", ENGINES)
def test_reverse_card_only_when_the_deck_asks_for_it(tmp_path: Path, engine: str) -> None:
    plain = cards_of(preview_of(make_course(tmp_path / "plain"), engine))
    assert not any(template == "Definition to Term" for _, _, template in plain)

    cards = cards_of(preview_of(make_course(tmp_path / "reverse", reverse=True), engine))
    reverse = cards[("term", "Feature store", "Definition to Term")]
    assert reverse.ordinal == 1
    assert "a shared catalogue that serves" in text_of(reverse.front)
    assert "Feature store" not in text_of(reverse.front)
    assert "Feature store" in text_of(reverse.back)
    page = preview_html(preview_of(tmp_path / "reverse", engine))
    assert page.count('<div class="card card2">') == 2  # its front and its back, like Anki


def test_both_renderers_agree_card_for_card(tmp_path: Path) -> None:
    pytest.importorskip("anki.collection")
    root = make_course(tmp_path, reverse=True)
    ours, anki = preview_of(root, "ours"), preview_of(root, "anki")
    ours_cards, anki_cards = cards_of(ours), cards_of(anki)
    assert list(ours_cards) == list(anki_cards)
    for key, card in ours_cards.items():
        # Anki writes some attribute characters as entities (`&#x20;`); the text is the same.
        assert html.unescape(card.front) == html.unescape(anki_cards[key].front), key
        assert html.unescape(card.back) == html.unescape(anki_cards[key].back), key


@pytest.mark.parametrize("engine", ENGINES)
def test_images_are_inlined_as_data_uris(tmp_path: Path, engine: str) -> None:
    preview = preview_of(make_course(tmp_path), engine)
    back = cards_of(preview)[("question", "Q1", "Question")].back
    data = base64.b64encode(GIF).decode("ascii")
    assert f'src="data:image/gif;base64,{data}"' in back
    page = preview_html(preview)
    assert "registry-" not in page  # no reference to the bundled media name survives
    assert not re.search(r"""(src|href)=["'](?!data:|#|https?:)""", page)


def test_without_anki_auto_falls_back_to_our_renderer_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_course(tmp_path)
    manifests = deck_manifests([str(root / "decks" / "stores.yaml")], root / "out.html")
    monkeypatch.setitem(sys.modules, "anki.collection", None)  # importing it now fails
    preview = make_preview(manifests, "auto")
    assert preview.engine == "ours"
    assert "pip install 'mlops-cards[anki]'" in html.unescape(preview_html(preview))
    with pytest.raises(CardsError) as error:
        make_preview(manifests, "anki")
    assert (
        str(error.value) == "--renderer anki needs the Anki engine: pip install 'mlops-cards[anki]'"
    )


def test_cli_writes_the_page_lists_unanswered_first(tmp_path: Path) -> None:
    root = make_course(tmp_path)
    out = tmp_path / "site" / "cards.html"
    result = run_cli("preview", "decks/stores.yaml", "-o", str(out), "--renderer", "ours", cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "unanswered: content/stores.md:17: question Q3: Who owns a feature definition?",
        f"wrote {out}: 6 cards from 6 notes in 1 lesson (own renderer); unanswered: 1",
    ]
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    unanswered = page.index("Unanswered (no card yet): 1")
    assert unanswered < page.index('<template shadowrootmode="open">')
    assert "Who owns a feature definition?" in page[unanswered : page.index("<nav>")]
    assert "<h4>Questions (2)</h4>" in page and "<h4>Cloze (1)</h4>" in page
    assert "01 Feature Stores" in page
    assert "mathjax" not in page.lower().replace("anki typesets it with mathjax", "")


def test_cli_lists_a_stub_once_and_asks_for_anki_only_without_it(tmp_path: Path) -> None:
    root = make_course(tmp_path)
    stub = "  Q3:\n    question: Who owns a feature definition?\n    answer:\n"
    sidecar = root / "content" / "stores.yaml"
    sidecar.write_text(SIDECAR.replace("objectives:\n", stub + "objectives:\n"), encoding="utf-8")
    out = tmp_path / "cards.html"
    result = run_cli("preview", "decks/stores.yaml", "-o", str(out), "--renderer", "ours", cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [  # not again as "Q3 is not answered yet"
        "unanswered: content/stores.md:17: question Q3: Who owns a feature definition?",
        f"wrote {out}: 6 cards from 6 notes in 1 lesson (own renderer); unanswered: 1",
    ]
    build = run_cli("build", "-o", "out", cwd=root, env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert build.returncode == 0, build.stderr
    assert "not answered yet" not in build.stdout
    assert "    content/stores.md:17: question Q3: Who owns a feature definition?" in build.stdout
    page = out.read_text(encoding="utf-8")
    installed = importlib.util.find_spec("anki") is not None
    assert ("pip install 'mlops-cards[anki]'" in page) is not installed
    if installed:
        assert '<p class="pv-renderer">Rendered by mlops-cards&#39; own template renderer. ' in page


def test_cli_lessons_and_sidecars_make_one_adhoc_deck(tmp_path: Path) -> None:
    root = make_course(tmp_path)
    out = tmp_path / "one.html"
    result = run_cli(
        "preview", "content/stores.yaml", "-o", str(out), "--renderer", "ours", cwd=root
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        f"wrote {out}: 6 cards from 6 notes in 1 lesson (own renderer); unanswered: 1"
    )
    assert "<h2>one</h2>" in out.read_text(encoding="utf-8")


def test_cli_errors_print_diagnostics_and_write_nothing(tmp_path: Path) -> None:
    root = make_course(tmp_path)
    (root / "content" / "stores.yaml").write_text(
        "questions:\n  Q1:\n    answr: x\n", encoding="utf-8"
    )
    out = tmp_path / "cards.html"
    result = run_cli("preview", "content/stores.md", "-o", str(out), cwd=root)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "error: cards: the lessons have errors; fix them first\n"
        "  content/stores.yaml:3:5: error: unknown key 'answr' in question Q1 "
        "(did you mean 'answer'?)\n"
    )
    assert not out.exists()
    assert list(tmp_path.glob("*.tmp")) == [] and list(tmp_path.glob(".cards.html.*")) == []


def test_cli_usage_errors(tmp_path: Path) -> None:
    root = make_course(tmp_path)
    result = run_cli("preview", "decks/stores.yaml", "-o", "cards.pdf", cwd=root)
    assert (result.returncode, result.stderr) == (
        2,
        "error: cards.pdf: the preview is an HTML page (-o FILE.html)\n",
    )
    result = run_cli("preview", "decks/stores.yaml", "-o", "x.html", "--renderer", "mine", cwd=root)
    assert result.returncode == 2
    assert "Invalid value for '--renderer': 'mine' is not one of 'auto', 'anki', 'ours'." in (
        result.stderr
    )
    assert not (root / "cards.pdf").exists() and not (root / "x.html").exists()


def test_cli_broken_manifest_is_reported_with_its_line(tmp_path: Path) -> None:
    root = make_course(tmp_path)
    (root / "decks" / "stores.yaml").write_text(
        "name: Stores Deck\nlessons: ['../content/*.md']\nlesons: []\n", encoding="utf-8"
    )
    result = run_cli("preview", "-o", "x.html", cwd=root)
    assert result.returncode == 1
    assert result.stderr == (
        "decks/stores.yaml:3:1: error: unknown key `lesons` (did you mean `lessons`?)\n"
    )
    assert not (root / "x.html").exists()


def screenshot(chromium: str, page: Path, png: Path, size: str) -> None:
    """A real headless Chromium screenshot of `page`, offline."""
    run_chromium(
        chromium, png.parent, f"--screenshot={png}", f"--window-size={size}", page.as_uri()
    )


def test_chromium_shows_the_cards(tmp_path: Path, chromium: str) -> None:
    image_module = pytest.importorskip("PIL.Image")
    root = make_course(tmp_path)
    out = tmp_path / "cards.html"
    assert run_cli("preview", "-o", str(out), cwd=root).returncode == 0
    png = tmp_path / "cards.png"
    screenshot(chromium, out, png, "1000,1400")
    with image_module.open(png) as image:
        rgb = image.convert("RGB")
        assert rgb.size == (1000, 1400)
        colours = rgb.getcolors(maxcolors=1 << 20)
    assert colours is not None
    # A blank page is one colour; page text, card frames and card text give many.
    assert len(colours) > 50
    # The cards' own background (white, from the note type CSS) covers a real area: the
    # shadow roots were attached and styled, not left as inert <template>s.
    white = sum(count for count, colour in colours if colour == (255, 255, 255))
    assert white > 1000 * 1400 // 10


def test_card_page_shows_one_side_as_anki_lays_it_out(tmp_path: Path) -> None:
    preview = preview_of(make_course(tmp_path, reverse=True), "ours")
    reverse = cards_of(preview)[("term", "Feature store", "Definition to Term")]
    page = card_page(reverse, side="front")
    assert '<body class="card card2">' in page
    assert reverse.front in page and reverse.back not in page
    assert reverse.css.strip() in page
    assert reverse.back in card_page(reverse)  # the back by default


def test_the_page_template_can_be_overridden(tmp_path: Path) -> None:
    preview = preview_of(make_course(tmp_path / "course"), "ours")
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "preview.html").write_text(
        "{% for deck in preview.decks %}<h1>{{ deck.name }}: {{ deck.cards }}</h1>{% endfor %}"
    )
    assert preview_html(preview, tmp_path / "pages") == "<h1>Stores Deck: 6</h1>"
    manifest = tmp_path / "course" / "decks" / "stores.yaml"
    manifest.write_text(manifest.read_text() + "page_templates: ../../pages\n")
    assert preview_html(preview_of(tmp_path / "course", "ours")) == "<h1>Stores Deck: 6</h1>"


# --- math --------------------------------------------------------------------------------------


def test_math_becomes_mathml_outside_code_only() -> None:
    card = r"<p>Keep \(t_{f} \le t_{l}\) and</p>\[a &lt; b\]<code>\(raw\)</code>"
    out = math_html(card)
    assert out.startswith('<p>Keep <math xmlns="http://www.w3.org/1998/Math/MathML" display="in')
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">' in out
    assert "<mo>&#x0003C;</mo>" in out  # the escaped `<` is the operator, not a tag
    assert out.endswith(r"<code>\(raw\)</code>")  # code is shown as written, as MathJax does
    assert math_html("no math here") == "no math here"


def test_text_in_math_cannot_become_a_tag() -> None:
    out = math_html(r"\(\text{&lt;img src=x onerror=alert(1)&gt;}\)")
    assert out.startswith("<math") and "<img" not in out  # the words are text in <mtext>


# Runs in the page: every formula inside the cards' shadow roots, its size, and any TeX left.
MATH_PROBE = """<script>
const found = [];
let raw = 0;
for (const host of document.querySelectorAll(".pv-host")) {
  for (const math of host.shadowRoot.querySelectorAll("math")) {
    const box = math.getBoundingClientRect();
    found.push([Math.round(box.width), Math.round(box.height)]);
  }
  raw += host.shadowRoot.textContent.split("\\\\(").length - 1;
}
document.body.setAttribute("data-math", JSON.stringify({found: found, raw: raw}));
</script>"""


def test_chromium_lays_out_the_formulas(tmp_path: Path, chromium: str) -> None:
    import json

    root = make_course(tmp_path)
    out = tmp_path / "cards.html"
    assert run_cli("preview", "-o", str(out), cwd=root).returncode == 0
    page = out.read_text(encoding="utf-8").replace("</body>", MATH_PROBE + "</body>")
    out.write_text(page, encoding="utf-8")
    result = run_chromium(chromium, tmp_path, "--window-size=1000,1400", "--dump-dom", out.as_uri())
    found = re.search(r'data-math="([^"]*)"', result.stdout)
    assert found, "the probe did not run"
    probe = json.loads(html.unescape(found.group(1)))
    # Q2's prompt (front, and again on the back) and its answer: each a formula with a size.
    assert len(probe["found"]) >= 3
    assert all(width > 10 and height > 5 for width, height in probe["found"]), probe
    assert probe["raw"] == 0  # no `\(` left as text
