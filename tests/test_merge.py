from __future__ import annotations

from pathlib import Path

from mlops_cards.merge import merge_lesson, merge_loaded
from mlops_cards.models import Card, Lesson, Objective, Question, Term, Unanswered
from mlops_cards.sidecar import parse_sidecar
from sidecar_fixtures import COMPLETE

LESSON = Lesson(
    path="l.md",
    id="l",
    title="Shipping models",
    sort=3,
    objectives=(
        Objective("1", "Explain what a model registry is.", 8),
        Objective("2", "Compare batch and online serving.", 9),
        Objective("3", "Roll back a bad release.", 10),
    ),
    questions=(
        Question("Q1", "Q1", "Why version models?", 16),
        Question("Q2", "Q2", "When is batch serving enough?", 17),
    ),
    terms=(
        Term("Model registry", "Model registry", "a versioned model store.", 12, 1, "**MR**: ..."),
        Term("bell-2", None, "Career Tip: write it down.", 14, 2, "Career Tip: write it down."),
    ),
)


def merged(yaml_text: str) -> tuple[list[str], list[Card], list[Unanswered]]:
    content = merge_loaded(LESSON, parse_sidecar(yaml_text, "l.yaml"))
    return [d.format() for d in content.diagnostics], list(content.cards), list(content.unanswered)


def test_complete_sidecar_gives_every_card_and_no_diagnostic() -> None:
    content = merge_loaded(LESSON, parse_sidecar(COMPLETE, "l.yaml"))
    assert content.diagnostics == ()
    assert content.lesson.id == "shipping"  # overridden by the YAML
    assert content.tags == ("serving",)
    assert content.skipped == (("objective", "3"),)
    assert content.unanswered == ()
    assert [(c.kind, c.key) for c in content.cards] == [
        ("objective", "1"),
        ("objective", "2"),
        ("question", "Q1"),
        ("question", "Q2"),
        ("term", "Model registry"),
        ("term", "Release journal"),
        ("extra", "canary"),
    ]
    q1 = content.cards[2]
    assert (q1.lesson_id, q1.front, q1.label, q1.line) == (
        "shipping",
        "Why version models?",
        "Q1",
        16,
    )
    journal = content.cards[5]
    assert journal.back == "A record of what was deployed and why."
    assert journal.context == "Career Tip: write it down."


def test_no_sidecar_warns_and_leaves_everything_unanswered(tmp_path: Path) -> None:
    lesson = Lesson(
        path=str(tmp_path / "l.md"),
        id="l",
        title=None,
        sort=None,
        questions=(Question("Q1", "Q1", "Why?", 3),),
    )
    content = merge_lesson(lesson)
    assert content.sidecar is None
    assert [d.message for d in content.diagnostics] == [
        f"no author YAML: {tmp_path / 'l.yaml'} does not exist, so nothing is answered",
        "question Q1 has no answer",
    ]
    assert content.unanswered == (Unanswered("question", "Q1", "Why?", 3),)


def test_sidecar_next_to_the_lesson_is_found(tmp_path: Path) -> None:
    (tmp_path / "l.yaml").write_text("questions:\n  Q1: {answer: Because.}\n")
    lesson = Lesson(
        path=str(tmp_path / "l.md"),
        id="l",
        title=None,
        sort=None,
        questions=(Question("Q1", "Q1", "Why?", 3),),
    )
    content = merge_lesson(lesson)
    assert content.sidecar == str(tmp_path / "l.yaml")
    assert [c.back for c in content.cards] == ["Because."]


def test_stale_answer_shows_both_texts() -> None:
    found, cards, _ = merged(
        "questions:\n  Q2:\n    question: When is batch fine?\n    answer: x\n"
    )
    assert (
        "l.yaml:3:1: warning: stale answer: question Q2 now reads 'When is batch serving enough?' "
        "but the answer was written for 'When is batch fine?'"
    ) in [line.split(" (")[0] for line in found]
    assert any(c.key == "Q2" for c in cards)  # still a card: stale is a warning


def test_whitespace_changes_are_not_stale() -> None:
    found, _, _ = merged(
        'questions:\n  Q2:\n    question: "When is  batch\\n serving enough?"\n    answer: x\n'
    )
    assert not any("stale" in line for line in found)


def test_answer_for_a_missing_item_names_the_closest_key() -> None:
    found, _, _ = merged("questions:\n  q2:\n    answer: x\nobjectives:\n  7: {answer: y}\n")
    assert (
        "l.yaml:2:3: error: questions: 'q2' is not a question of l.md (did you mean 'Q2'?)" in found
    )
    # An objective 7 may have been deleted: a warning that names the fix, not an error.
    assert (
        "l.yaml:5:3: warning: objective 7 is not in l.md any more: its entry makes no card "
        "(delete the entry, or restore the objective in l.md)"
    ) in found


def test_skip_means_no_card_and_no_warning() -> None:
    found, cards, unanswered = merged("questions:\n  Q1: {skip: true}\n")
    assert not any("Q1" in line for line in found)
    assert not any(c.key == "Q1" for c in cards)
    assert not any(u.key == "Q1" for u in unanswered)


def test_stub_is_unanswered_and_points_at_the_answer_line() -> None:
    found, cards, unanswered = merged(
        "questions:\n  Q1:\n    question: Why version models?\n    answer:\n"
    )
    assert "l.yaml:4:1: warning: question Q1 is not answered yet" in [
        line.split(" (")[0] for line in found
    ]
    assert Unanswered("question", "Q1", "Why version models?", 16) in unanswered
    assert not any(c.key == "Q1" for c in cards)


def test_bell_without_term_warns_until_named_or_skipped() -> None:
    found, _, unanswered = merged("")
    assert (
        "l.md:14:1: warning: bell 2 has no term (name it in l.yaml: terms: {NAME: {bell: 2}}, "
        "or skip it: terms: {bell-2: {skip: true}})"
    ) in found
    assert Unanswered("term", "bell-2", "Career Tip: write it down.", 14) in unanswered
    found, _, unanswered = merged("terms:\n  bell-2: {skip: true}\n")
    assert not any("bell 2" in line for line in found)


def test_yaml_definition_overrides_and_term_names_match_loosely() -> None:
    _, cards, _ = merged("terms:\n  model  REGISTRY:\n    definition: Where models live.\n")
    term = next(c for c in cards if c.kind == "term")
    assert (term.key, term.back) == ("Model registry", "Where models live.")


def test_new_term_needs_a_definition_and_bell_must_exist() -> None:
    # Either may be a term deleted from the lesson: warnings, no card, nothing lost.
    found, _, _ = merged("terms:\n  Model registri: {tags: [x]}\n  Drift: {bell: 5}\n")
    assert (
        "l.yaml:2:3: warning: term 'Model registri' is not in the lesson and has no definition: "
        "it makes no card (did you mean 'Model registry'?)"
    ) in found
    assert (
        "l.yaml:3:1: warning: term 'Drift' names bell 5, but the lesson has 2 bells: it makes no "
        "card (bells count from 1, the :bell: paragraphs in lesson order; delete the entry, or "
        "restore the term in the lesson)"
    ) in found


def test_lesson_diagnostics_are_kept() -> None:
    from mlops_cards.models import Diagnostic

    repeated = Diagnostic("l.md", 17, "warning", "label Q2 is repeated")
    lesson = Lesson("l.md", "l", None, None, diagnostics=(repeated,))
    content = merge_loaded(lesson, parse_sidecar("", "l.yaml"))
    assert repeated in content.diagnostics
