"""The card-quality check: each rule on a card that breaks it and one that does not, `accept:`,
the thresholds from a deck manifest, and the check where `check` and `build` run it."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli
from mlops_cards.extract import extract_text
from mlops_cards.manifest import CardKinds, QualitySettings, load_manifest
from mlops_cards.merge import merge_loaded
from mlops_cards.models import Diagnostic, LessonContent
from mlops_cards.quality import RULES, answer_words, card_quality, deck_quality, list_items
from mlops_cards.resolve import lesson_decks
from mlops_cards.sidecar import parse_sidecar

LESSON = """\
---
sort: 1
---
# Serving models

## Learning Objectives

- [ ] Explain what a feature store is.
- [ ] Describe how a model reaches production.

:bell: **Feature store**: a shared service that serves the same features to training and serving.

:bell: Teams keep one **model registry** so that every registered model has a version.

:pencil: Q1. Why pin the model version in the serving config?

:pencil: Q2. Which three signals does the dashboard show?
"""

# Every card atomic: the check says nothing.
GOOD = """\
questions:
  Q1:
    answer: So that a restart serves the model that was tested, not a newer one.
  Q2:
    answer: Latency, errors and traffic.
objectives:
  1:
    answer: One service that gives training and serving the same features.
  2:
    answer: It is validated on held-out data, then registered and deployed.
terms:
  Model registry:
    bell: 2
    definition: A catalogue of trained models with their versions and stages.
"""


def content(sidecar: str, lesson: str = LESSON, path: str = "serving.md") -> LessonContent:
    yaml_path = path.replace(".md", ".yaml")
    merged = merge_loaded(extract_text(lesson, path), parse_sidecar(sidecar, yaml_path))
    assert [d.format() for d in merged.diagnostics if d.level == "error"] == []
    return merged


def hits(
    sidecar: str = GOOD, lesson: str = LESSON, kinds: CardKinds | None = None, **settings: int
) -> list[tuple[str, int, str]]:
    """(file, line, rule id) of every warning for the lesson with this YAML."""
    found = card_quality([content(sidecar, lesson)], QualitySettings(**settings), kinds)
    assert all(d.level == "warning" and d.hint for d in found)
    return [(d.path, d.line, d.message.split(":")[0]) for d in found]


def edit(old: str, new: str, text: str = GOOD) -> str:
    assert old in text
    return text.replace(old, new)


# The lesson's model-registry sentence shows "model" next to the hidden "model registry"; with
# a cloze of the author's own the generated one (and its leak) is gone.
CLEAN = edit(
    "    definition: A catalogue of trained models with their versions and stages.\n",
    "    definition: A catalogue of trained models with their versions and stages.\n"
    '    cloze: "Teams look up every version they may deploy in one {{c1::model registry}}."\n',
)


def test_atomic_cards_are_clean() -> None:
    assert hits(CLEAN) == []


def test_long_answer_counts_words_but_not_code() -> None:
    q1 = "So that a restart serves the model that was tested, not a newer one."
    assert hits(edit(q1, " ".join(["word"] * 26), CLEAN)) == [("serving.yaml", 3, "long-answer")]
    assert hits(edit(q1, " ".join(["word"] * 25), CLEAN)) == []
    code = "|\n      Pin it:\n\n      ```yaml\n" + "      model: fraud-3 # pinned\n" * 30
    assert answer_words(edit(q1, code + "      ```", CLEAN)) > 0
    assert hits(edit(q1, code + "      ```", CLEAN)) == []


def test_long_list_in_an_answer() -> None:
    four = "Latency, errors, traffic and saturation."
    assert hits(edit("Latency, errors and traffic.", four, CLEAN)) == [
        ("serving.yaml", 5, "long-list")
    ]
    assert (
        hits(edit("Latency, errors and traffic.", "|\n      - a\n      - b\n      - c", CLEAN))
        == []
    )
    assert list_items("- a\n- b\n  - x\n  - y\n  - z\n  - w\n- c") == 4  # the nested list
    assert list_items("Train → validate → register → deploy.") == 4
    assert list_items("It retries; it logs; it alerts; it stops.") == 4
    # a long lead-in is not an item; examples in parentheses are not a list to recall
    assert list_items("A test that checks several parts together, for example a, b and c.") == 3
    assert list_items("Levels (DEBUG, INFO, WARNING, ERROR) let you filter messages.") == 1


def test_objective_list_is_an_objective_answered_with_everything() -> None:
    everything = "Trained → validated → registered → deployed → monitored."
    broken = edit(
        "It is validated on held-out data, then registered and deployed.", everything, CLEAN
    )
    assert hits(broken) == [("serving.yaml", 10, "objective-list")]  # not long-list as well
    assert hits(broken, max_list_items=5) == []
    assert hits(broken, kinds=CardKinds(objectives=False)) == []  # no objective cards, no rule


def test_set_prompt_asks_for_more_than_max_list_items_or_for_all() -> None:
    five = edit("Which three signals", "Which five signals", LESSON)
    assert hits(CLEAN, five) == [("serving.md", 17, "set-prompt")]
    assert hits(CLEAN, five, max_list_items=5) == []
    for prompt in ("List all signals the dashboard shows.", "What are the stages of a rollout?"):
        assert hits(
            CLEAN, edit("Which three signals does the dashboard show?", prompt, LESSON)
        ) == [("serving.md", 17, "set-prompt")]
    assert hits(CLEAN, edit("Which three signals", "Which signal", LESSON)) == []


def test_cloze_leak_in_a_generated_and_in_an_authored_cloze() -> None:
    # Generated from the bell: the visible "model" gives away "model registry".
    assert hits(GOOD) == [("serving.md", 13, "cloze-leak")]
    assert hits(GOOD, kinds=CardKinds(cloze=False)) == []
    leaky = edit(
        "one {{c1::model registry}}.",
        "one {{c1::model registry}}, the registered model's home.",
        CLEAN,
    )
    assert hits(leaky) == [("serving.yaml", 15, "cloze-leak")]
    found = card_quality([content(leaky)])
    assert found[0].message == (
        "cloze-leak: cloze c1 of term 'Model registry' shows its answer: 'model' gives away 'model'"
    )


def test_duplicate_fronts_and_a_question_asking_for_a_term() -> None:
    extra = (
        "extra:\n"
        "  - id: pinning\n"
        "    front: Why pin the model version in the *serving config*?\n"
        "    back: A restart then serves the tested model.\n"
        "  - id: store\n"
        "    front: What is a feature store?\n"
        "    back: A service that serves features.\n"
    )
    found = card_quality([content(CLEAN + extra)])
    assert [(d.path, d.line, d.message) for d in found] == [
        (
            "serving.yaml",
            18,
            "duplicate: extra 'pinning' asks what question 'Q1' asks (serving.md:15)",
        ),
        (
            "serving.yaml",
            21,
            "duplicate: extra 'store' asks what term 'Feature store' asks (serving.md:11)",
        ),
    ]
    # across lessons too, in one pass over an index of fronts
    other = content(CLEAN, LESSON.replace("Serving models", "Other"), "other.md")
    assert sum("duplicate" in d.message for d in card_quality([content(CLEAN), other])) == 6


def test_each_lessons_findings_come_from_the_cache_and_duplicates_still_span_lessons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlops_cards import quality
    from mlops_cards.cache import Cache

    lessons = [content(CLEAN), content(CLEAN, LESSON.replace("Serving models", "B"), "b.md")]
    keys = {"serving.md": "content of serving", "b.md": "content of b"}
    expected = card_quality(lessons)  # no cache
    strict_expected = card_quality(lessons, QualitySettings(max_answer_words=3))
    worked_out: list[str] = []
    real = quality.lesson_quality

    def counted(lesson: LessonContent, *rest: object) -> quality.LessonQuality:
        worked_out.append(lesson.lesson.path)
        return real(lesson, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(quality, "lesson_quality", counted)
    cache = Cache(tmp_path / "cache")
    assert card_quality(lessons, cache=cache, keys=keys) == expected
    assert card_quality(lessons, cache=cache, keys=keys) == expected
    assert worked_out == ["serving.md", "b.md"]  # the second time, both from the cache
    # Other thresholds are other findings: not served from the entries of the defaults.
    strict = card_quality(lessons, QualitySettings(max_answer_words=3), cache=cache, keys=keys)
    assert strict == strict_expected != expected
    assert len(worked_out) == 4


def test_an_authored_cloze_that_reverses_its_term_card_is_a_duplicate() -> None:
    reversed_card = (
        "  Feature store:\n"
        '    cloze: "{{c1::Feature store}}: a shared service that serves the same features."\n'
    )
    assert hits(CLEAN + reversed_card) == [
        ("serving.yaml", 17, "cloze-leak"),  # "features" is in view too
        ("serving.yaml", 17, "duplicate"),
    ]
    accepted = reversed_card + "    accept: [cloze-leak]\n"
    assert hits(CLEAN + accepted) == [("serving.yaml", 17, "duplicate")]


def test_accept_silences_exactly_that_rule_for_that_card() -> None:
    everything = "Trained → validated → registered → deployed → monitored, " + "then " * 25
    broken = edit(
        "It is validated on held-out data, then registered and deployed.", everything, CLEAN
    )
    assert hits(broken) == [
        ("serving.yaml", 10, "long-answer"),
        ("serving.yaml", 10, "objective-list"),
    ]
    accepted = edit("  2:\n", "  2:\n    accept: [objective-list]\n", broken)
    assert hits(accepted) == [("serving.yaml", 11, "long-answer")]
    both = edit("  2:\n", "  2:\n    accept: [objective-list, long-answer]\n", broken)
    assert hits(both) == []


def test_unknown_rule_ids_are_errors_with_a_suggestion() -> None:
    assert parse_sidecar("questions:\n  Q1:\n    accept:\n", "l.yaml").diagnostics == ()
    sidecar = parse_sidecar("questions:\n  Q1:\n    accept: [long-answers, nope]\n", "l.yaml")
    assert [d.format() for d in sidecar.diagnostics] == [
        "l.yaml:3:14: error: unknown card-quality rule 'long-answers' "
        "(did you mean 'long-answer'?)",
        f"l.yaml:3:28: error: unknown card-quality rule 'nope' (the rules: {', '.join(RULES)})",
    ]
    assert [
        d.format()
        for d in parse_sidecar(
            "extra:\n  - {id: a, front: F, back: B, accept: long-list}\n", "l.yaml"
        ).diagnostics
    ] == ["l.yaml:2:40: error: accept must be a list of rule ids (accept: [long-list])"]


def course(root: Path, manifest_quality: str = "", checklists: str = "") -> Path:
    (root / "content").mkdir(parents=True)
    (root / "content" / "serving.md").write_text(LESSON, encoding="utf-8")
    five = edit("Which three signals", "Which five signals", LESSON)
    (root / "content" / "serving.yaml").write_text(CLEAN, encoding="utf-8")
    (root / "loose").mkdir()
    (root / "loose" / "serving.md").write_text(five, encoding="utf-8")
    (root / "loose" / "serving.yaml").write_text(CLEAN, encoding="utf-8")
    (root / "decks").mkdir()
    manifest = root / "decks" / "serving.yaml"
    manifest.write_text(
        f"name: Serving\nlessons: [../content/*.md]\n{manifest_quality}{checklists}",
        encoding="utf-8",
    )
    return manifest


def test_thresholds_come_from_the_manifest_that_lists_the_lesson(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    course(tmp_path, "quality: {max_answer_words: 8, max_list_items: 5}\n")
    monkeypatch.chdir(tmp_path)
    deck = content(CLEAN, path="content/serving.md")
    loose = content(CLEAN, edit("three", "five", LESSON), path="loose/serving.md")
    found = [(d.path, d.line, d.message.split(":")[0]) for d in check_quality([deck, loose])]
    assert found == [
        # the deck's lesson: every answer and definition of more than 8 words
        ("content/serving.md", 11, "long-answer"),  # the lesson's definition
        ("content/serving.yaml", 3, "long-answer"),
        ("content/serving.yaml", 8, "long-answer"),
        ("content/serving.yaml", 10, "long-answer"),
        ("content/serving.yaml", 12, "long-answer"),  # the YAML's definition
        # a lesson no manifest lists: the defaults, so five signals are a set; and no
        # duplicates with the deck's cards, which are in another deck
        ("loose/serving.md", 17, "set-prompt"),
    ]


def test_a_manifest_listing_a_folder_sets_the_thresholds_of_the_lessons_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = course(tmp_path, "quality: {max_answer_words: 8}\n")
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace("../content/*.md", "../content"),
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    found = [(d.path, d.line) for d in check_quality([content(CLEAN, path="content/serving.md")])]
    assert ("content/serving.yaml", 3) in found  # an answer of 9 to 25 words: 8 is the limit


@pytest.mark.parametrize(
    ("quality", "expected"),
    [
        (
            "quality: {max_answer_words: 0}\n",
            "decks/serving.yaml:3:29: error: `quality.max_answer_words` must be a whole number "
            "of 1 or more (the default is 25)",
        ),
        (
            "quality: {max_list_items: three}\n",
            "decks/serving.yaml:3:27: error: `quality.max_list_items` must be a whole number "
            "of 1 or more (the default is 3)",
        ),
        (
            "quality: {max_list_item: 3}\n",
            "decks/serving.yaml:3:11: error: unknown quality setting `max_list_item` "
            "(did you mean `max_list_items`?)",
        ),
        (
            "quality: [25]\n",
            "decks/serving.yaml:3:10: error: `quality` must be a mapping "
            "(e.g. `quality: {max_answer_words: 30}`)",
        ),
    ],
)
def test_bad_thresholds_are_manifest_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quality: str, expected: str
) -> None:
    course(tmp_path, quality)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Exception) as info:
        load_manifest(Path("decks/serving.yaml"))
    assert str(info.value) == expected
    # `check` of a lesson reports the broken manifest rather than guess its thresholds
    found = check_quality([content(CLEAN, path="content/serving.md")])
    assert [d.format() for d in found] == [expected]


def test_the_manifest_defaults(tmp_path: Path) -> None:
    manifest = load_manifest(course(tmp_path))
    assert manifest.quality == QualitySettings(max_answer_words=25, max_list_items=3)


def test_check_always_runs_it_and_strict_fails_on_it(tmp_path: Path) -> None:
    course(tmp_path)
    (tmp_path / "content" / "serving.md").write_text(
        edit("Which three signals", "Which five signals", LESSON), encoding="utf-8"
    )
    result = run_cli("check", "--no-cache", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines()[0] == (
        "content/serving.md:17:1: warning: set-prompt: question 'Q2' asks for a set: "
        "'Which five signals does the dashboard show?' (a prompt that asks for a set is hard to "
        "answer the same way twice: ask about one member, or what tells the members apart)"
    )
    assert run_cli("check", "--strict", "--no-cache", cwd=tmp_path).returncode == 1
    (tmp_path / "decks" / "serving.yaml").write_text(
        "name: Serving\nlessons: [../content/*.md]\nquality: {max_list_items: 5}\n",
        encoding="utf-8",
    )
    assert run_cli("check", "--strict", "--no-cache", cwd=tmp_path).returncode == 0


def test_the_build_lists_them_with_its_warnings(tmp_path: Path) -> None:
    course(tmp_path, "quality: {max_list_items: 2}\n", checklists="checklists: []\n")
    result = run_cli("build", "--no-cache", cwd=tmp_path, env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert result.returncode == 0, result.stdout + result.stderr
    # Q2 asks for three things and its answer lists three: more than 2 for this deck
    warned = [line.split(": ")[0:3] for line in result.stdout.splitlines() if "warning:" in line]
    assert [(w[0].strip(), w[2]) for w in warned] == [
        ("content/serving.md:17:1", "set-prompt"),
        ("content/serving.yaml:5:1", "long-list"),
    ]


def test_the_schema_offers_the_same_rule_ids() -> None:
    import json
    from importlib.resources import files

    schema = json.loads(files("mlops_cards").joinpath("sidecar.schema.json").read_text("utf-8"))
    for kind in ("question", "objective", "term", "extra"):
        assert schema["definitions"][kind]["properties"]["accept"]["items"]["enum"] == list(RULES)


def check_quality(contents: list[LessonContent]) -> list[Diagnostic]:
    """What `check` does: each lesson under the deck that lists it."""
    groups, problems = lesson_decks(contents)
    return problems + deck_quality(groups)
