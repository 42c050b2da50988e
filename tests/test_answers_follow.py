"""Answers follow their items (issue 18): the YAML entry written for a question, objective or
term stays with it when the lesson renumbers, relabels, swaps, renames or deletes items."""

from __future__ import annotations

from mlops_cards.merge import match_answers, merge_loaded
from mlops_cards.models import Card, Lesson, LessonContent, Objective, Question, Term
from mlops_cards.sidecar import Answer, parse_sidecar

TEXTS = {
    "A": "Why version models?",
    "B": "When is batch serving enough?",
    "C": "What is a canary release?",
    "D": "How do you roll back?",
    "N": "What does a model registry hold?",
}
HINT = "(run `mlops-cards init l.md` to re-key the YAML)"


def questions(*spec: str) -> tuple[Question, ...]:
    """`"Q1=A"`: question Q1 reads TEXTS["A"]; `"q1=A"`: unlabelled."""
    found = []
    for line, item in enumerate(spec, start=3):
        key, text = item.split("=")
        label = None if key.startswith("q") else key
        found.append(Question(key, label, TEXTS[text], line))
    return tuple(found)


def objectives(*texts: str) -> tuple[Objective, ...]:
    return tuple(Objective(str(n), TEXTS[t], 20 + n) for n, t in enumerate(texts, start=1))


def answers(section: str, field: str, *spec: str) -> str:
    """YAML: `"Q1=A"` is an entry Q1 written for TEXTS["A"], answered "answer to A"."""
    lines = [f"{section}:"]
    for item in spec:
        key, text = item.split("=")
        lines += [f"  {key}:", f"    {field}: {TEXTS[text]}", f"    answer: answer to {text}"]
    return "\n".join(lines) + "\n"


def merge(yaml_text: str, **items: object) -> LessonContent:
    lesson = Lesson("l.md", "l", None, None, **items)  # type: ignore[arg-type]
    return merge_loaded(lesson, parse_sidecar(yaml_text, "l.yaml"))


def cards(content: LessonContent) -> list[tuple[str, str, tuple[str, ...]]]:
    """(key, answer, formerly) of every card."""
    return [(c.key, c.back, c.formerly) for c in content.cards]


def messages(content: LessonContent) -> list[str]:
    return [d.format() for d in content.diagnostics]


# --- questions ---------------------------------------------------------------------------------


def test_a_question_inserted_above_the_others_keeps_every_answer_with_its_question() -> None:
    yaml_text = answers("questions", "question", "Q1=A", "Q2=B", "Q3=C", "Q4=D")
    content = merge(yaml_text, questions=questions("Q1=N", "Q2=A", "Q3=B", "Q4=C", "Q5=D"))
    assert cards(content) == [
        ("Q2", "answer to A", ("Q1",)),
        ("Q3", "answer to B", ("Q2",)),
        ("Q4", "answer to C", ("Q3",)),
        ("Q5", "answer to D", ("Q4",)),
    ]
    assert [u.key for u in content.unanswered] == ["Q1"]  # the new question, not Q2
    found = messages(content)
    for line, (old, new) in zip((2, 5, 8, 11), ((1, 2), (2, 3), (3, 4), (4, 5)), strict=True):
        assert (
            f"l.yaml:{line}:3: warning: question Q{old} is now Q{new}: its answer follows it {HINT}"
            in found
        )
    assert not any("stale" in line for line in found)


def test_two_swapped_questions_swap_their_answers() -> None:
    content = merge(
        answers("questions", "question", "Q1=A", "Q2=B"), questions=questions("Q1=B", "Q2=A")
    )
    assert cards(content) == [("Q1", "answer to B", ("Q2",)), ("Q2", "answer to A", ("Q1",))]
    assert messages(content) == [
        f"l.yaml:2:3: warning: question Q1 is now Q2: its answer follows it {HINT}",
        f"l.yaml:5:3: warning: question Q2 is now Q1: its answer follows it {HINT}",
    ]


def test_a_deleted_question_leaves_a_warning_not_an_error_and_the_rest_follow() -> None:
    yaml_text = answers("questions", "question", "Q1=A", "Q2=B", "Q3=C", "Q4=D")
    content = merge(yaml_text, questions=questions("Q1=A", "Q2=C", "Q3=D"))
    assert cards(content) == [
        ("Q1", "answer to A", ()),
        ("Q2", "answer to C", ("Q3",)),
        ("Q3", "answer to D", ("Q4",)),
    ]
    assert messages(content) == [
        "l.yaml:5:3: warning: the question written for this entry is not in l.md any more "
        "(question Q2 now is the one entry 'Q3' was written for): its entry makes no card "
        "(delete the entry, or restore the question in l.md)",
        f"l.yaml:8:3: warning: question Q3 is now Q2: its answer follows it {HINT}",
        f"l.yaml:11:3: warning: question Q4 is now Q3: its answer follows it {HINT}",
    ]


def test_the_last_question_deleted_names_the_entry_and_the_fix() -> None:
    content = merge(answers("questions", "question", "Q1=A", "Q2=B"), questions=questions("Q1=A"))
    assert cards(content) == [("Q1", "answer to A", ())]
    assert messages(content) == [
        "l.yaml:5:3: warning: question Q2 is not in l.md any more: its entry makes no card "
        "(delete the entry, or restore the question in l.md)"
    ]


def test_labels_added_to_unlabelled_questions_keep_their_answers() -> None:
    content = merge(
        answers("questions", "question", "q1=A", "q2=B"),
        questions=questions("2.1a=A", "2.1b=B"),
    )
    assert cards(content) == [("2.1a", "answer to A", ("q1",)), ("2.1b", "answer to B", ("q2",))]
    assert f"l.yaml:2:3: warning: question q1 is now 2.1a: its answer follows it {HINT}" in (
        messages(content)
    )


def test_without_a_snapshot_an_entry_keeps_its_key_and_a_case_slip_is_an_error() -> None:
    content = merge(
        "questions:\n  Q1: {answer: one}\n  q2: {answer: two}\n",
        questions=questions("Q1=N", "Q2=A"),
    )
    assert cards(content) == [("Q1", "one", ())]  # nothing tells it moved
    assert (
        "l.yaml:3:3: error: questions: 'q2' is not a question of l.md (did you mean 'Q2'?)"
        in messages(content)
    )


def test_a_reworded_and_moved_question_is_suggested_not_guessed() -> None:
    content = merge(
        answers("questions", "question", "Q1=A", "Q2=B"),
        questions=(
            *questions("Q1=N", "Q2=A"),
            Question("Q3", "Q3", "When is batch serving fine?", 5),
        ),
    )
    assert cards(content) == [("Q2", "answer to A", ("Q1",))]
    assert (
        "l.yaml:5:3: warning: the question written for this entry is not in l.md any more "
        "(question Q2 now is the one entry 'Q1' was written for): its entry makes no card "
        "(if it is question Q3 now (reworded), rename it Q3; else delete the entry, or restore "
        "the question in l.md)"
    ) in messages(content)


def test_a_stale_answer_whose_text_is_another_items_says_so() -> None:
    # Q2 and Q3 both say they were written for B (the author copied one); B is Q3 now.
    yaml_text = answers("questions", "question", "Q2=B", "Q3=B")
    content = merge(yaml_text, questions=questions("Q1=A", "Q2=C", "Q3=B"))
    assert (
        "l.yaml:3:1: warning: stale answer: question Q2 now reads 'What is a canary release?' "
        "but the answer was written for 'When is batch serving enough?', which is question Q3 "
        "now (answered by its own entry) (write the answer to question Q2 here and copy its "
        "text into 'question:', or delete this entry)"
    ) in messages(content)


def test_a_plain_stale_answer_still_asks_to_check_and_copy() -> None:
    content = merge(
        answers("questions", "question", "Q1=A"),
        questions=(Question("Q1", "Q1", "Why do we version models?", 3),),
    )
    assert messages(content) == [
        "l.yaml:3:1: warning: stale answer: question Q1 now reads 'Why do we version models?' "
        "but the answer was written for 'Why version models?' "
        "(check the answer still fits, then copy the new text into 'question:')"
    ]
    assert cards(content) == [("Q1", "answer to A", ())]


def test_matching_is_one_entry_per_item_and_deterministic() -> None:
    items = [("Q1", "same"), ("Q2", "same"), ("Q3", "other")]
    entries = [
        Answer("Q3", 1, 1, snapshot="same"),
        Answer("Q9", 2, 1, snapshot="same"),
        Answer("Q7", 3, 1, snapshot="same"),
    ]
    matched, leftover = match_answers(items, entries)
    assert {index: entry.key for index, entry in matched.items()} == {0: "Q3", 1: "Q9"}
    assert [entry.key for entry in leftover] == ["Q7"]
    assert match_answers(items, entries) == (matched, leftover)


# --- objectives --------------------------------------------------------------------------------


def test_deleting_objective_2_never_gives_objective_3s_answer_to_the_new_2() -> None:
    yaml_text = answers("objectives", "objective", "1=A", "2=B", "3=C")
    content = merge(yaml_text, objectives=objectives("A", "C"))
    assert cards(content) == [("1", "answer to A", ()), ("2", "answer to C", ("3",))]
    assert messages(content) == [
        "l.yaml:5:3: warning: the objective written for this entry is not in l.md any more "
        "(objective 2 now is the one entry '3' was written for): its entry makes no card "
        "(delete the entry, or restore the objective in l.md)",
        f"l.yaml:8:3: warning: objective 3 is now 2: its answer follows it {HINT}",
    ]


def test_inserted_and_reordered_objectives_keep_their_answers() -> None:
    yaml_text = answers("objectives", "objective", "1=A", "2=B", "3=C")
    inserted = merge(yaml_text, objectives=objectives("N", "A", "B", "C"))
    assert cards(inserted) == [
        ("2", "answer to A", ("1",)),
        ("3", "answer to B", ("2",)),
        ("4", "answer to C", ("3",)),
    ]
    assert [u.key for u in inserted.unanswered] == ["1"]
    reordered = merge(yaml_text, objectives=objectives("C", "A", "B"))
    assert cards(reordered) == [
        ("1", "answer to C", ("3",)),
        ("2", "answer to A", ("1",)),
        ("3", "answer to B", ("2",)),
    ]


# --- terms and formerly ------------------------------------------------------------------------

FEATURE = Term("Feature views", "Feature views", "named sets of features.", 7, 1, "...")


def test_a_renamed_term_keeps_its_entry() -> None:
    content = merge(
        "terms:\n  Feature view:\n    definition: A named set of features.\n    tags: [x]\n",
        terms=(FEATURE,),
    )
    assert [(c.key, c.back, c.tags, c.formerly) for c in content.cards] == [
        ("Feature views", "A named set of features.", ("x",), ("Feature view",))
    ]
    assert messages(content) == [
        "l.yaml:2:3: warning: term 'Feature view' is now 'Feature views': its entry follows it "
        f"{HINT}"
    ]


def test_a_term_renamed_to_another_word_is_found_by_its_definition() -> None:
    content = merge(
        "terms:\n  Feature group:\n    definition: named  sets of features.\n", terms=(FEATURE,)
    )
    assert [(c.key, c.formerly) for c in content.cards] == [("Feature views", ("Feature group",))]


def test_a_new_yaml_term_with_another_name_stays_a_new_term() -> None:
    content = merge(
        "terms:\n  Feature store:\n    definition: Where features live.\n", terms=(FEATURE,)
    )
    assert [c.key for c in content.cards] == ["Feature views", "Feature store"]


def test_formerly_reaches_the_cards_and_the_lesson() -> None:
    content = merge(
        "lesson:\n  formerly: [old-lesson, older]\n"
        "questions:\n  Q3:\n    question: Why version models?\n    answer: a\n"
        "    formerly: Q2\n"
        "objectives:\n  1: {answer: b, formerly: [2]}\n"
        "extra:\n  - {id: x, front: f, back: b, formerly: y}\n",
        questions=questions("Q3=A"),
        objectives=objectives("B"),
    )
    assert content.formerly == ("old-lesson", "older")
    assert {c.key: c.formerly for c in content.cards} == {"Q3": ("Q2",), "1": ("2",), "x": ("y",)}
    assert content.diagnostics == ()


def test_formerly_must_be_keys() -> None:
    sidecar = parse_sidecar("questions:\n  Q1:\n    formerly: {a: b}\n", "l.yaml")
    assert [d.format() for d in sidecar.diagnostics] == [
        "l.yaml:3:15: error: formerly must be a key or a list of them, not a mapping"
    ]


def test_card_identity_fields_are_where_the_lock_reads_them() -> None:
    assert Card("l", "question", "Q1", "f", "b").formerly == ()
    assert LessonContent(Lesson("l.md", "l", None, None), None, ()).formerly == ()


def test_an_entry_without_snapshot_whose_key_another_answer_took_says_what_to_add() -> None:
    content = merge(
        "questions:\n  Q1:\n    question: Why version models?\n    answer: a\n  Q2: {answer: b}\n",
        questions=questions("Q1=N", "Q2=A"),
    )
    assert cards(content) == [("Q2", "a", ("Q1",))]
    assert (
        "l.yaml:5:3: warning: question Q2 now is the one entry 'Q1' was written for, and this "
        "entry does not say which question it answers: its entry makes no card (write that "
        "question's text after 'question:' (the answer then follows it), or delete the entry, "
        "or restore the question in l.md)"
    ) in messages(content)
