from __future__ import annotations

from pathlib import Path

import pytest

from mlops_cards.sidecar import Answer, ExtraCard, TermEntry, load_sidecar, parse_sidecar
from sidecar_fixtures import COMPLETE


def errors(text: str) -> list[str]:
    return [d.format() for d in parse_sidecar(text, "l.yaml").diagnostics if d.level == "error"]


def test_complete_file_loads_into_typed_entries() -> None:
    sidecar = parse_sidecar(COMPLETE, "l.yaml")
    assert sidecar.diagnostics == ()
    assert sidecar.lesson_id == "shipping"
    assert sidecar.tags == ("serving",)
    assert sidecar.questions[0] == Answer(
        "Q1",
        5,
        3,
        snapshot="Why version models?",
        snapshot_line=6,
        answer="To know which model made which prediction, and to roll back.",
        answer_line=7,
        answer_text_line=7,  # a plain scalar: its text starts on the key's line
    )
    assert [o.key for o in sidecar.objectives] == ["1", "2", "3"]
    assert sidecar.objectives[2].skip is True
    assert sidecar.terms == (
        TermEntry(
            "Release journal",
            22,
            3,
            definition="A record of what was deployed and why.",
            bell=2,
            bell_line=23,
        ),
    )
    assert sidecar.extra == (
        ExtraCard(
            "canary",
            "What is a canary release?",
            "Sending a small share of traffic to the new model first.",
            26,
            5,
            front_line=27,
            back_line=28,
        ),
    )


def test_block_answers_start_on_the_line_after_their_indicator() -> None:
    sidecar = parse_sidecar("questions:\n  Q1:\n    answer: |\n      Two\n      lines.\n", "l.yaml")
    assert (sidecar.questions[0].answer_line, sidecar.questions[0].answer_text_line) == (3, 4)


@pytest.mark.parametrize("text", ["", "# only a comment\n", "~\n"])
def test_empty_files_are_empty_sidecars(text: str) -> None:
    sidecar = parse_sidecar(text, "l.yaml")
    assert sidecar.diagnostics == () and sidecar.questions == ()


def test_null_answer_is_a_stub_not_an_error() -> None:
    sidecar = parse_sidecar("questions:\n  Q1:\n    question: Why?\n    answer:\n", "l.yaml")
    assert sidecar.diagnostics == ()
    assert sidecar.questions[0].answer is None and sidecar.questions[0].valid


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "questions:\n  Q1: {answer: |\n",
            "l.yaml:2:16: error: invalid YAML: found character '|' that cannot start any token",
        ),
        (
            "questions:\n  Q1:\n    answer: a\n  Q1:\n    answer: b\n",
            "l.yaml:4:3: error: duplicate key 'Q1' in questions (first at line 2, again at line 4)",
        ),
        (
            "questionz:\n  Q1: {answer: a}\n",
            "l.yaml:1:1: error: unknown key 'questionz' in the file (did you mean 'questions'?)",
        ),
        (
            "objectives:\n  1:\n    answr: a\n",
            "l.yaml:3:5: error: unknown key 'answr' in objective 1 (did you mean 'answer'?)",
        ),
        (
            "questions:\n  Q1:\n    answer: 42\n",
            'l.yaml:3:13: error: answer must be text, not the number 42 (quote it: answer: "42")',
        ),
        (
            "questions:\n  Q1:\n    skip: 'yes'\n",
            "l.yaml:3:11: error: skip must be true or false, not text (skip: true)",
        ),
        (
            "questions:\n  Q1:\n    answer: ''\n",
            "l.yaml:3:13: error: empty answer for question Q1",
        ),
        (
            "questions:\n  Q1:\n    answer: |\n\n  Q2:\n    answer: a\n",
            "l.yaml:3:13: error: empty answer for question Q1",
        ),
        (
            "terms:\n  x:\n    bell: one\n",
            "l.yaml:3:11: error: bell must be a whole number, not text (bell: 1)",
        ),
        (
            "lesson:\n  tags: solo\n",
            "l.yaml:2:9: error: tags must be a list (tags: [solo])",
        ),
        (
            "lesson:\n  tags: [two words]\n",
            "l.yaml:2:10: error: tag 'two words' contains a space (Anki tags cannot)",
        ),
        (
            "extra:\n  - {id: a, front: f, back: b}\n  - {id: a, front: g, back: c}\n",
            "l.yaml:3:10: error: extra card id 'a' is used twice "
            "(first at line 2, again at line 3)",
        ),
        (
            "extra:\n  - id: a\n    front: f\n",
            "l.yaml:2:5: error: extra card has no 'back'",
        ),
        (
            "questions: !!python/object/apply:os.system ['echo hacked']\n",
            "l.yaml:1:12: error: YAML tag !!python/object/apply:os.system is not allowed",
        ),
        (
            "questions:\n  Q1:\n    answer: !custom text\n",
            "l.yaml:3:13: error: YAML tag !custom is not allowed",
        ),
        (
            "- questions\n",
            "l.yaml:1:1: error: the file must be a mapping with lesson, questions, objectives, "
            "terms, extra, not a list",
        ),
        (
            "a: 1\n---\nb: 2\n",
            "l.yaml:2:1: error: invalid YAML: a second YAML document ('---') in one file",
        ),
    ],
)
def test_errors_name_the_line(text: str, expected: str) -> None:
    found = errors(text)
    assert any(line.startswith(expected) for line in found), found


def test_code_running_tag_is_never_constructed(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = f"questions: !!python/object/apply:os.system ['touch {marker}']\n"
    parse_sidecar(text, "l.yaml")
    assert not marker.exists()


TAG_HINT = "(sidecars hold plain text, numbers, true/false, lists and mappings only)"


def test_nothing_inside_a_refused_tag_is_looked_at() -> None:
    assert errors("questions: !!python/x {Q1: !!python/y 1}\n") == [
        f"l.yaml:1:12: error: YAML tag !!python/x is not allowed {TAG_HINT}"
    ]


def test_a_refused_tag_reached_through_aliases_is_reported_once() -> None:
    text = "lesson: &x {id: !bad a}\nterms: {t: {definition: *x}, u: {definition: *x}}\n"
    found = errors(text)
    assert [line for line in found if "YAML tag" in line] == [
        f"l.yaml:1:17: error: YAML tag !bad is not allowed {TAG_HINT}"
    ]


def test_a_mapping_that_contains_itself_is_checked_once() -> None:
    assert errors("lesson: &a {tags: [*a]}\n") == [
        "l.yaml:1:9: error: a tag must be text, not a mapping (text containing ': ' must be "
        "quoted, or written as a block after '|')"
    ]


def test_aliases_are_walked_once() -> None:
    # A few levels of shared aliases stay small: each node is visited once.
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 4):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    found = errors("\n".join(lines) + "\n")
    assert len(found) == 4  # one unknown key per line, nothing expanded


def test_alias_bomb_is_refused_before_it_is_built() -> None:
    # A "billion laughs" shape: nine levels of ten aliases each would be 10^9 values if expanded.
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 10):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    assert errors("\n".join(lines) + "\n") == [
        "l.yaml:5:45: error: more than 100,000 values once aliases (*name) are expanded "
        "(write the values out, or use fewer aliases)"
    ]


def test_unreadable_and_non_utf8_files_are_diagnostics(tmp_path: Path) -> None:
    bad = tmp_path / "l.yaml"
    bad.write_bytes(b"questions:\n  Q1:\n    answer: caf\xe9\n")
    assert [d.format() for d in load_sidecar(bad, "l.yaml").diagnostics] == [
        "l.yaml:3:1: error: not UTF-8 text (save the file as UTF-8)"
    ]
    assert load_sidecar(tmp_path, "dir").diagnostics[0].message == (
        "is a directory, not a YAML file"
    )
