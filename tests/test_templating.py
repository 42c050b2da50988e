"""Our fallback renderer of Anki card templates: the syntax our note types use, Anki's meaning."""

from __future__ import annotations

from mlops_cards.templating import RenderedCard, cloze_side, field_is_empty, render_cards

BASIC = [("Card 1", "{{Front}}", "{{FrontSide}}<hr id=answer>{{Back}}")]


def test_fields_front_side_and_special_fields() -> None:
    (card,) = render_cards(
        [("Card 1", "{{Front}} [{{Tags}}] {{Card}}", "{{FrontSide}}|{{Back}}")],
        {"Front": "<b>Q</b>", "Back": "A"},
        {"Tags": "lesson::x kind::question"},
        is_cloze=False,
    )
    assert card == RenderedCard(
        0,
        "Card 1",
        "<b>Q</b> [lesson::x kind::question] Card 1",
        "<b>Q</b> [lesson::x kind::question] Card 1|A",
    )


def test_sections_show_on_non_empty_and_inverted_on_empty() -> None:
    template = "{{Front}}{{#Extra}}<i>{{Extra}}</i>{{/Extra}}{{^Extra}}(none){{/Extra}}"
    for extra, shown in (
        ("more", "Q<i>more</i>"),
        ("", "Q(none)"),
        ("  <br> <div></div>&nbsp;", "Q(none)"),  # what Anki still calls empty
    ):
        (card,) = render_cards(
            [("Card 1", template, "{{FrontSide}}")],
            {"Front": "Q", "Extra": extra},
            {},
            is_cloze=False,
        )
        assert card.question == shown


def test_nested_sections_and_text_filter() -> None:
    template = "{{#A}}a{{#B}}b{{text:B}}{{/B}}{{/A}}"
    (card,) = render_cards(
        [("Card 1", template, "")],
        {"A": "x", "B": "<b>bold</b> &amp; more"},
        {},
        is_cloze=False,
    )
    assert card.question == "abbold & more"


def test_no_card_when_the_front_shows_no_field() -> None:
    templates = [
        ("Forward", "{{Term}}", "{{FrontSide}}{{Definition}}"),
        ("Reverse", "{{#Reverse}}Which term? {{Definition}}{{/Reverse}}", "{{Term}}"),
    ]
    fields = {"Term": "T", "Definition": "D", "Reverse": ""}
    assert [c.template for c in render_cards(templates, fields, {}, is_cloze=False)] == ["Forward"]
    cards = render_cards(templates, {**fields, "Reverse": "y"}, {}, is_cloze=False)
    assert [(c.ordinal, c.template, c.question) for c in cards] == [
        (0, "Forward", "T"),
        (1, "Reverse", "Which term? D"),
    ]
    # Static text alone does not make a card, as in Anki.
    assert render_cards([("X", "Hello {{Term}}", "")], {"Term": ""}, {}, is_cloze=False) == []


def test_cloze_one_card_per_number_with_blank_hint_and_inactive_clozes() -> None:
    text = "{{c1::Docker}} builds {{c2::images::what?}}; {{c1::it}} runs them"
    cards = render_cards(
        [("Cloze", "{{cloze:Text}}", "{{cloze:Text}}<br>{{Extra}}")],
        {"Text": text, "Extra": "E"},
        {},
        is_cloze=True,
    )
    assert [(c.ordinal, c.template) for c in cards] == [(0, "Cloze"), (1, "Cloze")]
    first, second = cards
    assert first.question == (
        '<span class="cloze" data-cloze="Docker" data-ordinal="1">[...]</span> builds '
        '<span class="cloze-inactive" data-ordinal="2">images</span>; '
        '<span class="cloze" data-cloze="it" data-ordinal="1">[...]</span> runs them'
    )
    assert first.answer.startswith('<span class="cloze" data-ordinal="1">Docker</span> builds')
    assert second.question.endswith(
        '<span class="cloze" data-cloze="images" data-ordinal="2">[what?]</span>; '
        '<span class="cloze-inactive" data-ordinal="1">it</span> runs them'
    )
    assert second.answer.endswith("runs them<br>E")


def test_cloze_note_without_clozes_has_no_card() -> None:
    assert render_cards([("Cloze", "{{cloze:Text}}", "")], {"Text": "x"}, {}, is_cloze=True) == []


def test_unknown_field_and_unclosed_section_are_shown_not_hidden() -> None:
    (card,) = render_cards(
        [("Card 1", "{{Front}}{{Nope}}{{#Front}}open", "")], {"Front": "F"}, {}, is_cloze=False
    )
    assert card.question == "F{unknown field Nope}{{#Front}}open"


def test_helpers() -> None:
    assert field_is_empty("<br/>\n") and not field_is_empty("0")
    assert cloze_side("{{c1::a&b}}", 1) == (
        '<span class="cloze" data-cloze="a&amp;b" data-ordinal="1">[...]</span>'
    )
