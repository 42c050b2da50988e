"""Clozes: the author's `cloze:` checked, which bell sentences still make one, that none is
the term card reversed, that leaks are found, and that the markers reach Anki intact."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from conftest import ROOT, run_cli
from mlops_cards import cloze
from mlops_cards.extract import extract_file, find_lessons
from mlops_cards.manifest import CardKinds
from mlops_cards.merge import merge_loaded
from mlops_cards.models import Card, Lesson, LessonContent
from mlops_cards.notes import NoteBuilder, cloze_field, cloze_placeholders, order_lessons
from mlops_cards.notetypes import load_note_types
from mlops_cards.quality import card_quality
from mlops_cards.render import CardRenderer
from mlops_cards.sidecar import Sidecar, parse_sidecar

TYPES = load_note_types()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no marker at all", "no cloze marker"),
        ("{{c1::fit}} then {{c3::predict}}", "cloze numbers must start at c1 and leave no gap"),
        ("{{c2::fit}}", "cloze numbers must start at c1 and leave no gap (found c2)"),
        ("{{c1::fit then predict", "cloze c1 is never closed"),
        ("fit}} then", "`}}` closes no cloze"),
        ("{{c1::fit {{c2::then}} predict}}", "cloze c2 starts inside c1"),
        ("{{c1::  }} and {{c2::b}}", "empty cloze c1"),
        ("{{ c1::fit}}", "`{{` that starts no cloze"),
    ],
)
def test_bad_markers(text: str, message: str) -> None:
    parts, problem = cloze.parse(text)
    assert parts == () and problem is not None and problem.message.startswith(message)


def test_markers_numbered_for_an_enumeration() -> None:
    parts, problem = cloze.parse("{{c1::Scope}} → {{c2::data}} → {{c3::train::a verb}}")
    assert problem is None
    assert cloze.numbers(parts) == [1, 2, 3]
    assert [p.answer for p in parts if p.number] == ["Scope", "data", "train"]
    # card c2 shows the other stages, hides only its own
    assert cloze.visible_text(parts, 2).split() == ["Scope", "→", "→", "train"]


def errors(text: str) -> list[str]:
    return [d.format() for d in parse_sidecar(text, "l.yaml").diagnostics]


def test_author_cloze_errors_point_at_their_line() -> None:
    assert errors('terms:\n  Fit:\n    cloze: "{{c1::fit}} then {{c3::predict}}"\n') == [
        "l.yaml:3:12: error: cloze numbers must start at c1 and leave no gap (found c1, c3) in "
        "the cloze for term 'Fit' (number them c1, c2, c3, ...: one card per number)"
    ]
    block = "terms:\n  Fit:\n    cloze: |\n      Steps run in order:\n      {{c1::fit then\n"
    assert errors(block) == [
        "l.yaml:5:1: error: cloze c1 is never closed in the cloze for term 'Fit' (end it with }})"
    ]
    assert errors("terms:\n  Fit:\n    cloze: {{c1::fit}}\n") == [
        "l.yaml:3:12: error: the cloze for term 'Fit' is read as a YAML mapping (YAML reads an "
        'unquoted {{ as one: quote the text, cloze: "{{c1::…}} …")'
    ]
    assert errors("terms:\n  Fit:\n    cloze:\n") == [
        "l.yaml:3:11: error: empty cloze for term 'Fit' (write {{c1::…}} text, or delete it)"
    ]
    assert errors("terms:\n  Fit:\n    cloze: [a]\n")[0].startswith(
        "l.yaml:3:12: error: cloze must be text, not a list"
    )
    sidecar = parse_sidecar('terms:\n  Fit:\n    cloze: "{{c1::fit}} first"\n', "l.yaml")
    assert sidecar.terms[0].cloze == "{{c1::fit}} first" and sidecar.terms[0].cloze_line == 3


@pytest.mark.parametrize(
    "sentence",
    [
        "**Feature store**: a shared service that serves features.",
        "Feature store: a shared service that serves features.",
        "A feature store is a shared service that serves features.",
        "'Feature store' refers to a shared service that serves features.",
        "On the other hand, a feature store is a shared service that serves features.",
    ],
)
def test_no_cloze_from_a_sentence_that_defines_the_term(sentence: str) -> None:
    # even with a definition of the author's own: it would still ask definition -> term
    assert cloze.sentence_cloze(sentence, "Feature store", "Serves features.") is None
    assert cloze.sentence_cloze(sentence, "Feature store", sentence) is None


def test_a_sentence_that_gives_context_makes_a_cloze_of_every_mention() -> None:
    sentence = (
        "Both jobs read the [feature store](https://example.org/feature-store), so the Feature "
        "Store must answer fast."
    )
    made = cloze.sentence_cloze(sentence, "feature store", "A shared service for features.")
    assert made == (
        "Both jobs read the [{{c1::feature store}}](https://example.org/feature-store), so the "
        "{{c1::Feature Store}} must answer fast."
    )
    # the same sentence, when it is the definition: nothing the term card does not ask
    assert cloze.sentence_cloze(sentence, "feature store", sentence) is None
    assert cloze.sentence_cloze("Nothing about it.", "feature store", "x") is None


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("{{c1::Workflow}}: a process defined in .github/workflows/", ("workflow", "workflows")),
        ("{{c1::Unit test}}: a test of a single small unit", ("unit", "unit")),
        ("{{c1::Continuous training}}: automatic retraining", ("training", "retraining")),
        ("{{c1::Loading}} a model twice is a reload", ("loading", "reload")),
        ("{{c1::Scope}} → {{c2::data}} → the data is versioned", ("data", "data")),
        ("A PSI below {{c1::0.1}} is no change; 0.1 to 0.25 is moderate", ("0.1", "0.1")),
    ],
)
def test_leaks_are_found(text: str, leak: tuple[str, str]) -> None:
    parts, _ = cloze.parse(text)
    assert [found[1:] for found in cloze.leaks(parts)] == [leak]


@pytest.mark.parametrize(
    "text",
    [
        "{{c1::test}}: run the latest build",  # "latest" is not "test"
        "{{c1::Scope}} → {{c2::data}} → {{c3::train}}",
        "Both jobs read one {{c1::feature store}}, so it must answer fast.",
        "A PSI below {{c1::0.1}} is no change, above {{c2::0.25}} a major shift",  # 0.1 is not 0
    ],
)
def test_no_leak(text: str) -> None:
    parts, _ = cloze.parse(text)
    assert cloze.leaks(parts) == []


# --- the corpus's real bells ------------------------------------------------------------------

# Definitions written for these tests, as an author would in YAML (bell number -> text).
OWN_DEFINITIONS = {
    "3. CodeFormatting.md": {4: "A name that exists only while its function runs."},
    "6. Testing.md": {1: "The debugger that ships with Python's standard library."},
    "7. Documenting.md": {1: "A generator of documentation websites for Python projects."},
}


def corpus_terms(corpus: Path, with_yaml: bool) -> list[tuple[str, Card]]:
    lessons, failures = find_lessons([str(corpus / "mlops-ii")])
    assert failures == []
    found = []
    for lesson in lessons:
        name = Path(lesson.path).name
        own = OWN_DEFINITIONS.get(name, {}) if with_yaml else {}
        terms = [t for t in lesson.terms if t.bell in own]
        yaml = "".join(f"  {t.term}:\n    definition: {own[t.bell]!r}\n" for t in terms if t.term)
        sidecar = parse_sidecar("terms:\n" + yaml, "l.yaml") if yaml else None
        content = merge_loaded(lesson, sidecar)
        found += [(name, card) for card in content.cards if card.kind == "term"]
    return found


def made(card: Card) -> str | None:
    return cloze.term_cloze(card.label or card.key, card.back, card.context, card.cloze)


def test_corpus_bells_make_no_cloze_from_the_lessons_own_definitions(corpus: Path) -> None:
    terms = corpus_terms(corpus, with_yaml=False)
    assert len(terms) == 7  # the module's named bells (one more is a note, with no term)
    # Each bell is its term's definition: every cloze of it would be the term card reversed.
    assert [made(card) for _, card in terms] == [None] * 7


def test_corpus_bells_that_give_context_make_clozes(corpus: Path) -> None:
    terms = corpus_terms(corpus, with_yaml=True)
    clozes = {(name, card.key): made(card) for name, card in terms}
    yielded = {key for key, text in clozes.items() if text is not None}
    # The definition-shaped bells never do (the local variable's neither: "On the other hand,
    # a local variable is ..."); the two that mention their term in passing do.
    assert yielded == {("6. Testing.md", "pdb"), ("7. Documenting.md", "Sphinx")}
    for name, card in terms:
        text = clozes[(name, card.key)]
        if text is None:
            continue
        parts, problem = cloze.parse(text)
        assert problem is None
        assert not cloze.reverses_term_card(parts, card.key, card.back)
    pdb = clozes[("6. Testing.md", "pdb")]
    assert pdb is not None
    assert "[{{c1::pdb}}](https://docs.python.org/3/library/pdb.html)" in pdb  # the link kept
    assert "python-debugging-pdb" in pdb  # a URL is not a mention


def test_no_generated_cloze_is_a_reversed_term_card(corpus: Path) -> None:
    """Over the corpus (with and without author definitions) and the shipped deck."""
    cards = [card for _, card in corpus_terms(corpus, True) + corpus_terms(corpus, False)]
    lessons, _ = find_lessons([str(ROOT / "content")])
    for lesson in lessons:
        content = merge_loaded(lesson, _sidecar(Path(lesson.path).with_suffix(".yaml")))
        cards += [card for card in content.cards if card.kind == "term" and not card.cloze]
    assert len(cards) > 40
    for card in cards:
        text = made(card)
        if text is not None:
            parts, _ = cloze.parse(text)
            assert not cloze.reverses_term_card(parts, card.key, card.back), card.key


def _sidecar(path: Path) -> Sidecar | None:
    return parse_sidecar(path.read_text(encoding="utf-8"), str(path)) if path.exists() else None


def test_a_leaking_corpus_cloze_is_reported(corpus: Path) -> None:
    lesson = extract_file(corpus / "mlops-ii" / "3. CodeFormatting.md", "lesson.md")
    # With an author definition the local-variable bell is still a definition: no cloze to
    # leak. An author cloze that keeps the lesson's wording is reported where it is written.
    yaml = (
        "terms:\n  local variable:\n    definition: A name only its function sees.\n"
        '    cloze: "A {{c1::local variable}} is a variable defined inside a function."\n'
    )
    content = merge_loaded(lesson, parse_sidecar(yaml, "lesson.yaml"))
    leaks = [d for d in card_quality([content]) if d.message.startswith("cloze-leak")]
    assert [(d.path, d.line, d.message) for d in leaks] == [
        (
            "lesson.yaml",
            4,
            "cloze-leak: cloze c1 of term 'local variable' shows its answer: 'variable' gives "
            "away 'variable'",
        )
    ]


# --- the Text field ---------------------------------------------------------------------------


def cloze_note(tmp_path: Path, card: Card, renderer: CardRenderer | None = None) -> str:
    lesson = Lesson(path=str(tmp_path / "lesson.md"), id="intro", title="Intro", sort=1)
    content = LessonContent(lesson=lesson, sidecar=None, cards=(card,))
    builder = NoteBuilder(TYPES, renderer or CardRenderer(tmp_path), CardKinds())
    notes = [n for n in builder.notes(order_lessons("Deck", [content])) if n.kind == "cloze"]
    names = [name for name, _ in TYPES["cloze"].fields]
    return notes[0].fields[names.index("Text")] if notes else ""


def term(cloze_text: str = "", context: str = "") -> Card:
    return Card(
        "intro",
        "term",
        "Pipeline",
        "Pipeline",
        "A chain of steps from data to model.",
        "Pipeline",
        context=context,
        line=3,
        cloze=cloze_text,
    )


def test_markers_are_inserted_after_rendering(tmp_path: Path) -> None:
    text = "**{{c1::Fit}}** → `{{c2::predict}}` → [{{c3::serve}}](https://example.org/a_b)"
    assert cloze_note(tmp_path, term(text)) == (
        '<p><strong>{{c1::Fit}}</strong> → <code>{{c2::predict}}</code> → <a href="'
        'https://example.org/a_b">{{c3::serve}}</a></p>'
    )


class EscapingRenderer(CardRenderer):
    """Stands for a renderer that escapes `{{`/`}}` written in lessons (so lesson text cannot
    make clozes): the tool's own markers must survive it."""

    def html(self, markdown: str, *, source: Path, line: int) -> str:
        rendered = super().html(markdown, source=source, line=line)
        return rendered.replace("{{", "&#123;&#123;").replace("}}", "&#125;&#125;")


def test_markers_survive_a_renderer_that_escapes_braces(tmp_path: Path) -> None:
    sentence = "Each {{x}} step of a pipeline runs when its inputs change."
    text = cloze_note(tmp_path, term(context=sentence), EscapingRenderer(tmp_path))
    assert text == (
        "<p>Each &#123;&#123;x&#125;&#125; step of a {{c1::pipeline}} runs when its inputs "
        "change.</p>"
    )


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", re.sub(r"<style>.*?</style>", "", html, flags=re.DOTALL))


def test_an_enumeration_cloze_is_one_card_per_number_in_anki(tmp_path: Path) -> None:
    collection = pytest.importorskip("anki.collection")
    root = tmp_path / "course"
    (root / "content").mkdir(parents=True)
    (root / "content" / "life.md").write_text(
        "# Lifecycle\n\n:bell: **Lifecycle**: the stages a model goes through.\n",
        encoding="utf-8",
    )
    (root / "content" / "life.yaml").write_text(
        "terms:\n  Lifecycle:\n"
        '    cloze: "Scoping → {{c1::data}} → {{c2::training}} → {{c3::deployment}}"\n',
        encoding="utf-8",
    )
    (root / "decks").mkdir()
    (root / "decks" / "life.yaml").write_text(
        "name: Life\nlessons: [../content/*.md]\noutput: life\n", encoding="utf-8"
    )
    result = run_cli("build", cwd=root, env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert result.returncode == 0, result.stderr
    col = collection.Collection(str(tmp_path / "c.anki2"))
    try:
        request = collection.ImportAnkiPackageRequest(
            package_path=str(root / "dist" / "life.apkg"),
            options=collection.ImportAnkiPackageOptions(),
        )
        col.import_anki_package(request)
        assert col.note_count() == 2  # the term and its cloze
        cards = sorted(
            (col.get_card(cid) for cid in col.find_cards("note:*Cloze*")), key=lambda c: c.ord
        )
        assert [card.ord for card in cards] == [0, 1, 2]
        first, second, _ = (_text(card.question()) for card in cards)
        assert "[...]" in first and "→ data" not in first and "→ training →" in first
        assert "→ data →" in second and "→ training" not in second
    finally:
        col.close()


# --- invariants ---------------------------------------------------------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Co")), max_size=12).filter(
    lambda t: "{{" not in t and "}}" not in t and not t.endswith("}") and not t.startswith("{")
)


@given(st.lists(st.tuples(_TEXT, _TEXT.filter(lambda t: t.strip() != "")), min_size=1, max_size=4))
def test_marked_text_parses_back_and_survives_the_placeholders(
    pairs: list[tuple[str, str]],
) -> None:
    hidden = [h for _, h in pairs if "::" not in h and not h.startswith(":") and h[-1] != ":"]
    assume(len(hidden) == len(pairs))
    text = "".join(f"{shown}{{{{c{n}::{h}}}}}" for n, (shown, h) in enumerate(pairs, 1))
    parts, problem = cloze.parse(text)
    assert problem is None
    assert [p.answer for p in parts if p.number] == [h for _, h in pairs]
    assert cloze_field(cloze_placeholders(text)) == text  # what rendering must not disturb


@given(st.text(max_size=40), st.text(min_size=1, max_size=15), st.text(max_size=40))
def test_a_generated_cloze_always_parses_and_never_reverses(
    before: str, term: str, after: str
) -> None:
    sentence = f"{before} {term} {after}"
    for definition in (sentence, "A thing of its own."):
        made = cloze.sentence_cloze(sentence, term, definition)
        if made is not None:
            parts, problem = cloze.parse(made)
            assert problem is None
            assert not cloze.reverses_term_card(parts, term, definition)
            cloze.leaks(parts)


def test_a_brace_before_a_marker_is_text() -> None:
    # Found by hypothesis: "0{" followed by a cloze was read as a stray `{{`.
    parts, problem = cloze.parse("0{{{c1::0}}")
    assert problem is None
    assert [(p.number, p.answer) for p in parts] == [(0, "0{"), (1, "0")]
