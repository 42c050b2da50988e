"""Note types: identity pinned in code, templates from card_templates/, checked on load."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import ROOT
from mlops_cards.errors import CardsError
from mlops_cards.notetypes import NOTE_TYPE_KINDS, NoteType, default_templates_dir, load_note_types
from mlops_cards.render import pygments_css

TEMPLATES = ROOT / "card_templates"

# The literal values: changing any of them orphans every learner's notes. If this test fails,
# revert the change (or, deliberately, make a new note type and write a migration note).
EXPECTED_IDS = {
    "question": (
        1619217110,
        [
            ("Front", 2976647484871766),
            ("Back", 3662344724221000),
            ("Label", 4329157050448167),
            ("Lesson", 390413176298603),
            ("Source", 1655368464217364),
            ("Extra", 3108680416856945),
        ],
        [("Question", 3401428624772193)],
    ),
    "term": (
        1128517161,
        [
            ("Term", 4398751167643358),
            ("Definition", 1791909239223453),
            ("Sentence", 2893288913503707),
            ("Lesson", 3411854031467524),
            ("Source", 4104665961004462),
            ("Extra", 2108359141241973),
            ("Reverse", 2787746858961771),
        ],
        [("Term to Definition", 2738602081597915), ("Definition to Term", 4033976656462919)],
    ),
    "cloze": (
        1225006056,
        [
            ("Text", 92758386952380),
            ("Back Extra", 3727625125178850),
            ("Lesson", 119986944102483),
            ("Source", 1667884742109828),
        ],
        [("Cloze", 539311984453614)],
    ),
    "objective": (
        1461032154,
        [
            ("Objective", 750178087425775),
            ("Answer", 4185123795510948),
            ("Lesson", 2930280502246399),
            ("Source", 2866232892942580),
            ("Extra", 2154397390490575),
        ],
        [("Objective", 2636968348851807)],
    ),
}

SPECIAL = {"FrontSide", "Tags", "Type", "Deck", "Subdeck", "Card", "CardFlag", "CardID"}


def test_ids_and_field_lists_are_pinned() -> None:
    note_types = load_note_types()
    assert list(note_types) == list(NOTE_TYPE_KINDS)
    for kind, (model_id, fields, templates) in EXPECTED_IDS.items():
        note_type = note_types[kind]
        assert note_type.model_id == model_id
        assert [tuple(field) for field in note_type.fields] == fields
        assert [(t.name, t.id) for t in note_type.templates] == templates


def test_names_and_cloze_flag() -> None:
    note_types = load_note_types()
    assert {k: nt.name for k, nt in note_types.items()} == {
        "question": "mlops-cards Question",
        "term": "mlops-cards Term",
        "cloze": "mlops-cards Cloze",
        "objective": "mlops-cards Objective",
    }
    assert [k for k, nt in note_types.items() if nt.is_cloze] == ["cloze"]


def test_ids_are_unique_and_fit_everywhere() -> None:
    ids = [spec[0] for spec in EXPECTED_IDS.values()]
    ids += [i for spec in EXPECTED_IDS.values() for _, i in spec[1] + spec[2]]
    assert len(set(ids)) == len(ids)
    assert all(1 < i < 2**53 for i in ids)  # int64 and exact as a JavaScript number


def test_every_template_references_only_existing_fields() -> None:
    for note_type in load_note_types().values():
        for template in note_type.templates:
            for side in (template.qfmt, template.afmt):
                for inner in re.findall(r"\{\{(.*?)\}\}", side, re.S):
                    name = inner.strip().lstrip("#^/").split(":")[-1].strip()
                    assert name in note_type.field_names or name in SPECIAL, (template.name, name)


def test_cloze_type_uses_cloze_on_both_sides() -> None:
    cloze = load_note_types()["cloze"]
    assert "{{cloze:Text}}" in cloze.templates[0].qfmt
    assert "{{cloze:Text}}" in cloze.templates[0].afmt


def test_reverse_template_is_entirely_conditional_on_reverse() -> None:
    # Anki makes no card whose front shows no field: everything inside {{#Reverse}} means the
    # reverse card exists only when the Reverse field is filled.
    reverse = load_note_types()["term"].templates[1]
    assert re.fullmatch(r"\s*\{\{#Reverse\}\}.*\{\{/Reverse\}\}\s*", reverse.qfmt, re.S)


def test_css_is_shared_style_plus_pygments() -> None:
    for note_type in load_note_types().values():
        assert ".card.nightMode" in note_type.css
        assert note_type.css.rstrip().endswith(pygments_css().rstrip())


def test_content_hash_is_stable_and_sensitive(tmp_path: Path) -> None:
    first = {k: nt.content_hash() for k, nt in load_note_types().items()}
    assert first == {k: nt.content_hash() for k, nt in load_note_types().items()}
    assert len(set(first.values())) == 4
    copy = tmp_path / "templates"
    shutil.copytree(TEMPLATES, copy)
    back = copy / "objective" / "back.html"
    back.write_text(back.read_text(encoding="utf-8") + "<p>more</p>\n", encoding="utf-8")
    changed = {k: nt.content_hash() for k, nt in load_note_types(copy).items()}
    assert changed["objective"] != first["objective"]
    assert {k: v for k, v in changed.items() if k != "objective"} == {
        k: v for k, v in first.items() if k != "objective"
    }


def test_crlf_checkout_gives_the_same_hash(tmp_path: Path) -> None:
    copy = tmp_path / "templates"
    shutil.copytree(TEMPLATES, copy)
    for path in copy.rglob("*.*"):
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert {k: nt.content_hash() for k, nt in load_note_types(copy).items()} == {
        k: nt.content_hash() for k, nt in load_note_types().items()
    }


def test_default_templates_dir_is_the_repositorys_when_run_from_source() -> None:
    assert default_templates_dir().resolve() == TEMPLATES.resolve()


def test_field_values_in_field_order() -> None:
    question = load_note_types()["question"]
    assert question.field_values({"Back": "b", "Front": "f"}) == ["f", "b", "", "", "", ""]
    with pytest.raises(ValueError, match="no field Answer"):
        question.field_values({"Answer": "x"})


def test_genanki_dicts_carry_the_pinned_ids() -> None:
    term = load_note_types()["term"]
    assert term.genanki_fields()[0] == {"name": "Term", "id": 4398751167643358}
    assert term.genanki_templates()[1]["id"] == 4033976656462919
    assert term.genanki_fields() is not term.genanki_fields()


# --- broken template folders --------------------------------------------------------------


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    copy = tmp_path / "templates"
    shutil.copytree(TEMPLATES, copy)
    return copy


def test_missing_template_file_names_the_file(templates: Path) -> None:
    (templates / "term" / "reverse-front.html").unlink()
    with pytest.raises(CardsError) as error:
        load_note_types(templates)
    assert str(error.value).startswith(
        f"{templates / 'term' / 'reverse-front.html'}: card template file missing"
    )


def test_missing_style_names_the_file(templates: Path) -> None:
    (templates / "style.css").unlink()
    with pytest.raises(CardsError, match=r"style\.css: card template file missing"):
        load_note_types(templates)


def test_unknown_field_is_reported_with_line(templates: Path) -> None:
    back = templates / "question" / "back.html"
    back.write_text("{{FrontSide}}\n<hr>\n{{Answer}}\n", encoding="utf-8")
    with pytest.raises(CardsError) as error:
        load_note_types(templates)
    assert str(error.value) == (
        f"{back}:3: mlops-cards Question has no field 'Answer' "
        "(its fields: Front, Back, Label, Lesson, Source, Extra)"
    )


def test_unclosed_section_is_reported(templates: Path) -> None:
    front = templates / "objective" / "front.html"
    front.write_text("{{Objective}}\n{{#Extra}}\n{{Extra}}\n", encoding="utf-8")
    with pytest.raises(CardsError, match=r"front\.html:2: section \{\{#Extra\}\} is never closed"):
        load_note_types(templates)


def test_front_without_fields_is_reported(templates: Path) -> None:
    (templates / "question" / "front.html").write_text("<p>static</p>\n", encoding="utf-8")
    with pytest.raises(CardsError, match="the front side shows no field"):
        load_note_types(templates)


def test_cloze_template_without_cloze_is_reported(templates: Path) -> None:
    (templates / "cloze" / "back.html").write_text("{{Text}}\n", encoding="utf-8")
    with pytest.raises(CardsError, match=r"cloze note type needs \{\{cloze:Text\}\}"):
        load_note_types(templates)


def test_template_not_utf8_is_reported(templates: Path) -> None:
    (templates / "term" / "front.html").write_bytes(b"{{Term}} \xff\n")
    with pytest.raises(CardsError, match=r"front\.html: card template is not UTF-8 text"):
        load_note_types(templates)


def test_per_kind_css_is_appended(templates: Path) -> None:
    (templates / "term" / "style.css").write_text(".mc-term { color: teal; }\n", encoding="utf-8")
    note_types = load_note_types(templates)
    assert ".mc-term { color: teal; }" in note_types["term"].css
    assert "teal" not in note_types["question"].css


def test_missing_templates_folder(tmp_path: Path) -> None:
    with pytest.raises(CardsError, match="card templates folder not found"):
        load_note_types(tmp_path / "nope")


# --- through the real Anki engine ---------------------------------------------------------


Notes = list[tuple[str, str, dict[str, str]]]  # kind, guid, field values


def _build_apkg(
    path: Path,
    note_types: dict[str, NoteType],
    notes: Notes,
    timestamp: float,
    media: list[str] | None = None,
) -> None:
    """A tiny .apkg made the way the product makes them (genanki), self-contained here."""
    genanki = pytest.importorskip("genanki")
    models = {}
    for kind, note_type in note_types.items():
        models[kind] = genanki.Model(
            note_type.model_id,
            note_type.name,
            fields=note_type.genanki_fields(),
            templates=note_type.genanki_templates(),
            css=note_type.css,
            model_type=genanki.Model.CLOZE if note_type.is_cloze else genanki.Model.FRONT_BACK,
        )
    deck = genanki.Deck(2059400110, "mlops-cards test")
    for kind, guid, values in notes:
        fields = note_types[kind].field_values(values)
        deck.add_note(genanki.Note(models[kind], fields, guid=guid))
    package = genanki.Package(deck)
    package.media_files = media or []
    package.write_to_file(str(path), timestamp=timestamp)


def _import(collection: object, path: Path) -> object:
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    request = ImportAnkiPackageRequest(package_path=str(path), options=ImportAnkiPackageOptions())
    return collection.import_anki_package(request)  # type: ignore[attr-defined]


def test_every_note_type_renders_in_anki(tmp_path: Path) -> None:
    pytest.importorskip("anki")
    from anki.collection import Collection

    from mlops_cards.notes import cloze_field, cloze_placeholders
    from mlops_cards.render import CardRenderer

    course = tmp_path / "course"
    (course / "images").mkdir(parents=True)
    (course / "images" / "plot.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    lesson = course / "lesson.md"
    renderer = CardRenderer(course)

    def html(markdown: str) -> str:
        return renderer.html(markdown, source=lesson, line=1)

    note_types = load_note_types()
    question_back = html("Like so:\n\n```python\nimport os\n```\n\n![plot](images/plot.png)")
    notes = [
        ("question", "q1", {"Front": html("What does $x_1$ do? :rocket:"), "Back": question_back,
                            "Label": "Q1", "Lesson": "Packaging"}),
        ("term", "t1", {"Term": "wheel", "Definition": html("A built **package**."),
                        "Reverse": ""}),
        ("term", "t2", {"Term": "sdist", "Definition": html("A source archive."), "Reverse": "y"}),
        ("cloze", "c1", {"Text": cloze_field(html(cloze_placeholders(
                             "A {{c1::wheel}} is a built package."))),
                         "Back Extra": "built"}),
        ("objective", "o1", {"Objective": html("Explain editable installs"),
                             "Answer": html("They link to the source.")}),
    ]  # fmt: skip
    # genanki stores a media file under its base name, so files go in under their bundled names.
    staged = tmp_path / "media"
    staged.mkdir()
    for name, source in renderer.media().items():
        shutil.copy(source, staged / name)
    apkg = tmp_path / "test.apkg"
    _build_apkg(apkg, note_types, notes, 1_700_000_000, sorted(map(str, staged.iterdir())))

    col = Collection(str(tmp_path / "collection.anki2"))
    try:
        log = _import(col, apkg).log  # type: ignore[attr-defined]
        assert len(log.new) == 5
        for kind, note_type in note_types.items():
            model = col.models.get(note_type.model_id)  # type: ignore[arg-type]
            assert model is not None, kind
            assert model["name"] == note_type.name
            assert [(f["name"], f["id"]) for f in model["flds"]] == list(
                map(tuple, note_type.fields)
            )
            assert [(t["name"], t["id"]) for t in model["tmpls"]] == [
                (t.name, t.id) for t in note_type.templates
            ]
        cards = {}
        for card_id in col.find_cards(""):
            card = col.get_card(card_id)
            cards[(card.note().guid, card.ord)] = (card.question(), card.answer())
        # sdist has Reverse = "y" and gets its second card; wheel does not.
        assert sorted(cards) == [("c1", 0), ("o1", 0), ("q1", 0), ("t1", 0), ("t2", 0), ("t2", 1)]
        question, answer = cards[("q1", 0)]
        assert r"\(x_1\)" in question and "🚀" in question and "Q1" in question
        assert '<span class="kn">import</span>' in answer
        (image,) = renderer.media()
        assert f'src="{image}"' in answer
        assert "A built <strong>package</strong>." in cards[("t1", 0)][1]
        assert "A source archive." in cards[("t2", 1)][0] and "sdist" in cards[("t2", 1)][1]
        assert "[...]" in cards[("c1", 0)][0] and "wheel" in cards[("c1", 0)][1]
        assert "Explain editable installs" in cards[("o1", 0)][0]
        assert "They link to the source." in cards[("o1", 0)][1]
        assert (Path(col.media.dir()) / image).is_file()
        check = col.media.check()
        assert (list(check.missing), list(check.unused)) == ([], [])
    finally:
        col.close()


def test_template_change_updates_the_note_type_in_place(tmp_path: Path, templates: Path) -> None:
    pytest.importorskip("anki")
    from anki.collection import Collection

    notes = [("question", "q1", {"Front": "F", "Back": "B"})]
    _build_apkg(tmp_path / "v1.apkg", load_note_types(), notes, 1_700_000_000)
    (templates / "style.css").write_text(".card { color: teal; }\n", encoding="utf-8")
    changed = load_note_types(templates)
    _build_apkg(tmp_path / "v2.apkg", {"question": changed["question"]}, notes, 1_700_000_100)

    col = Collection(str(tmp_path / "collection.anki2"))
    try:
        _import(col, tmp_path / "v1.apkg")
        log = _import(col, tmp_path / "v2.apkg").log  # type: ignore[attr-defined]
        assert (len(log.new), len(log.updated), len(log.conflicting)) == (0, 1, 0)
        names = sorted(entry.name for entry in col.models.all_names_and_ids())
        # No "mlops-cards Question+" copy: the pinned ids say it is the same note type.
        assert [n for n in names if n.startswith("mlops-cards")] == ["mlops-cards Question"]
        model = col.models.get(changed["question"].model_id)  # type: ignore[arg-type]
        assert model is not None and "teal" in model["css"]
    finally:
        col.close()
