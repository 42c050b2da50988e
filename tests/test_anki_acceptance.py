"""Acceptance: built decks imported into the real Anki engine (the `anki` package).

These are the product's promises to learners: a fresh import is complete and renders; a
re-import after an edit updates in place and keeps every review.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import HISTORY, SEED, run_cli
from mlops_cards.notetypes import default_templates_dir

anki_collection = pytest.importorskip("anki.collection")
from anki.cards import Card as AnkiCard  # noqa: E402
from anki.collection import (  # noqa: E402
    Collection,
    ImportAnkiPackageOptions,
    ImportAnkiPackageRequest,
)
from anki.scheduler.v3 import CardAnswer  # noqa: E402

EPOCH = "1700000000"
LATER = "1700086400"

SEED_YAML = """\
lesson:
  id: intro-to-mlops
  tags: [course-intro]
questions:
  Q1:
    answer: Practices that take models from notebooks to reliable production systems.
  Q2:
    answer: Versioned data and code, automated training, deployment and monitoring.
  Q3:
    answer: MLflow, Weights & Biases, Neptune.
objectives:
  1:
    answer: The discipline of running ML models in production, repeatably.
  2:
    answer: It keeps models reproducible, monitored and quick to ship.
  3:
    answer: Orchestrators, experiment trackers, model registries, serving tools.
  4:
    answer: Automate, version everything, monitor, review changes.
"""

PIPELINES_MD = """\
---
sort: 2
---
# Pipelines in Practice

## Learning Objectives

- [ ] Describe a training pipeline.
- [ ] Explain why steps are cached.

:bell: **Pipeline**: a chain of steps that turns raw data into a deployed model.

:pencil: Q1. What does the `fit` step return?

```python
model = fit(data)
```

:pencil: Q2. Why is $y = f(x)$ deterministic?
"""

PIPELINES_YAML = """\
questions:
  Q1:
    answer: "A trained model object. ![the loop](loop.gif)"
  Q2:
    answer: The same input gives the same output, $f$ has no hidden state.
objectives:
  1:
    answer: Ordered steps from data to model, each one testable.
terms:
  Pipeline:
    cloze: "A {{c1::Pipeline}} re-runs only the steps whose inputs changed."
"""

# A 1x1 GIF, written fresh: enough for Anki's media check.
GIF = bytes.fromhex(
    "474946383961010001008000000000ffffff21f90401000000002c00000000010001000002024401003b"
)


@pytest.fixture(autouse=True)
def _needs_corpus(corpus: Path) -> None:
    """Every test here uses the seed lesson from the corpus."""


def make_course(root: Path, lesson: Path = SEED) -> Path:
    """A course with the seed lesson and a pipelines lesson, and its deck manifest."""
    content = root / "content"
    content.mkdir(parents=True)
    shutil.copyfile(lesson, content / "lesson.md")
    (content / "lesson.yaml").write_text(SEED_YAML, encoding="utf-8")
    (content / "pipelines.md").write_text(PIPELINES_MD, encoding="utf-8")
    (content / "pipelines.yaml").write_text(PIPELINES_YAML, encoding="utf-8")
    (content / "loop.gif").write_bytes(GIF)
    decks = root / "decks"
    decks.mkdir()
    (decks / "intro.yaml").write_text(
        "name: MLOps Intro\nlessons: ['../content/*.md']\noutput: intro\n", encoding="utf-8"
    )
    return root


def build(root: Path, *args: str, epoch: str = EPOCH, **env: str) -> Any:
    result = run_cli("build", *args, cwd=root, env={"SOURCE_DATE_EPOCH": epoch, **env})
    assert result.returncode == 0, result.stderr
    return result


def import_apkg(col: Collection, apkg: Path, **options: Any) -> Any:
    request = ImportAnkiPackageRequest(
        package_path=str(apkg), options=ImportAnkiPackageOptions(**options)
    )
    return col.import_anki_package(request).log


def reopen(col: Collection) -> Collection:
    """A fresh handle: the Python side caches note types."""
    path = col.path
    col.close()
    return Collection(path)


def notes_by_guid(col: Collection) -> dict[str, Any]:
    return {col.get_note(nid).guid: col.get_note(nid) for nid in col.find_notes("")}


def answer_every_card(col: Collection, deck: str) -> int:
    """Study the deck like a learner: every card once, rated Easy (so it graduates)."""
    deck_id = col.decks.id_for_name(deck)
    assert deck_id is not None
    col.decks.set_current(deck_id)
    answered = 0
    while True:
        queued = col.sched.get_queued_cards()
        if not queued.cards:
            return answered
        top = queued.cards[0]
        card = AnkiCard(col)
        card._load_from_backend_card(top.card)
        card.start_timer()
        answer = col.sched.build_answer(card=card, states=top.states, rating=CardAnswer.EASY)
        col.sched.answer_card(answer)
        answered += 1


def scheduling(col: Collection) -> list[tuple[Any, ...]]:
    return col.db.all("SELECT id, nid, type, queue, due, ivl, factor, reps, lapses FROM cards")


def test_fresh_import_is_complete_and_renders(tmp_path: Path, collection: Collection) -> None:
    root = make_course(tmp_path / "course")
    result = build(root)
    apkg = root / "dist" / "intro.apkg"
    log = import_apkg(collection, apkg)

    # seed: 4 objectives + 3 questions; pipelines: 1 objective + 2 questions + term + cloze
    assert len(log.new) == 12
    assert (len(log.updated), len(log.conflicting), len(log.duplicate)) == (0, 0, 0)
    assert collection.note_count() == 12
    assert collection.card_count() == 12
    names = sorted(d.name for d in collection.decks.all_names_and_ids())
    assert names == [
        "Default",
        "MLOps Intro",
        "MLOps Intro::01 Introduction to MLOps",
        "MLOps Intro::02 Pipelines in Practice",
    ]
    model_names = {m["name"] for m in collection.models.all()}
    assert model_names >= {
        "mlops-cards Question",
        "mlops-cards Objective",
        "mlops-cards Term",
        "mlops-cards Cloze",
    }
    tags = set(collection.tags.all())
    assert {"lesson::intro-to-mlops", "lesson::pipelines", "kind::question"} <= tags
    assert {"kind::objective", "kind::term", "kind::cloze", "course-intro"} <= tags

    check = collection.media.check()
    assert list(check.missing) == [] and list(check.unused) == []
    assert len(list(Path(collection.media.dir()).iterdir())) == 1
    assert collection.get_empty_cards().notes == []

    # every card shows its prompt on the front and its answer on the back
    shown = {
        "mlops-cards Question": ("Front", "Back"),
        "mlops-cards Objective": ("Objective", "Answer"),
        "mlops-cards Term": ("Term", "Definition"),
    }
    for cid in collection.find_cards(""):
        card = collection.get_card(cid)
        note = card.note()
        if note.note_type()["name"] == "mlops-cards Cloze":
            # The gap on the front, the term on the back (its definition is the sentence itself).
            assert "[...]" in card.question() and "Pipeline" in card.answer()
            continue
        prompt, answer = shown[note.note_type()["name"]]
        assert note[prompt] and note[prompt] in card.question()
        assert note[answer] and note[answer] in card.answer()
    q3 = collection.get_note(collection.find_notes('"tag:kind::question" Tool')[0])
    assert "experiment tracking" in q3.fields[0]
    assert "unanswered: 1" in result.stdout  # pipelines objective 2


def test_edit_history_updates_in_place(tmp_path: Path, collection: Collection) -> None:
    root = make_course(tmp_path / "course")
    build(root, epoch=EPOCH)
    apkg = root / "dist" / "intro.apkg"
    assert len(import_apkg(collection, apkg).new) == 12
    assert answer_every_card(collection, "MLOps Intro") == 12
    before = notes_by_guid(collection)
    before_sched = scheduling(collection)
    revlog = collection.db.all("SELECT * FROM revlog ORDER BY id")
    assert len(revlog) == 12
    models_before = {m["id"]: m["name"] for m in collection.models.all()}

    shutil.copyfile(HISTORY, root / "content" / "lesson.md")
    result = build(root, epoch=LATER)
    assert "1 changed" in result.stdout and "0 new" in result.stdout
    log = import_apkg(collection, apkg)
    assert (len(log.new), len(log.conflicting), len(log.updated)) == (0, 0, 1)

    collection = reopen(collection)
    after = notes_by_guid(collection)
    assert {g: n.id for g, n in after.items()} == {g: n.id for g, n in before.items()}
    changed = [g for g in after if after[g].fields != before[g].fields]
    assert len(changed) == 1
    q3_before, q3_after = before[changed[0]], after[changed[0]]
    assert "Tool for" in q3_before.fields[0] and "Tools for" in q3_after.fields[0]
    assert q3_after.mod == int(LATER)
    assert {g: n.mod for g, n in after.items() if g != changed[0]} == {
        g: n.mod for g, n in before.items() if g != changed[0]
    }
    assert scheduling(collection) == before_sched
    assert collection.db.all("SELECT * FROM revlog ORDER BY id") == revlog
    assert {m["id"]: m["name"] for m in collection.models.all()} == models_before
    assert not any(name.endswith("+") for name in models_before.values())
    collection.close()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_builds_are_byte_identical_across_hash_seed_and_timezone(tmp_path: Path) -> None:
    root = make_course(tmp_path / "course")
    lesson = root / "content" / "lesson.md"
    first = build(root, epoch=EPOCH, PYTHONHASHSEED="1", TZ="UTC")
    digest = sha256(root / "dist" / "intro.apkg")
    assert digest in first.stdout
    lock = (root / "decks" / "intro.lock.json").read_bytes()

    # with a lock, and no SOURCE_DATE_EPOCH at all: the lock decides every mod
    again = run_cli(
        "build", "--frozen", cwd=root, env={"PYTHONHASHSEED": "4242", "TZ": "Asia/Tokyo"}
    )
    assert again.returncode == 0, again.stderr
    assert sha256(root / "dist" / "intro.apkg") == digest
    assert (root / "decks" / "intro.lock.json").read_bytes() == lock

    # no lock, SOURCE_DATE_EPOCH set: an ad-hoc build twice from scratch
    digests = set()
    for seed, tz in (("7", "UTC"), ("99", "America/Los_Angeles")):
        out = tmp_path / f"adhoc-{seed}" / "one.apkg"
        result = run_cli(
            "build",
            str(lesson),
            "-o",
            str(out),
            cwd=root,
            env={"SOURCE_DATE_EPOCH": EPOCH, "PYTHONHASHSEED": seed, "TZ": tz},
        )
        assert result.returncode == 0, result.stderr
        digests.add(sha256(out))
        sums = (out.parent / "SHA256SUMS").read_text(encoding="utf-8")
        assert sums == f"{sha256(out)}  one.apkg\n"
    assert len(digests) == 1


def test_report_counts_against_the_lock_and_names_unanswered(tmp_path: Path) -> None:
    root = make_course(tmp_path / "course")
    first = build(root)
    assert "12 new, 0 changed, 0 unchanged, 0 retired" in first.stdout
    report = json.loads((root / "dist" / "build-report.json").read_text(encoding="utf-8"))
    (deck,) = report["decks"]
    assert deck["notes"] == {"cloze": 1, "objective": 5, "question": 5, "term": 1}
    assert deck["unanswered"] == [
        "content/pipelines.md:9: objective 2: Explain why steps are cached."
    ]

    pipelines = root / "content" / "pipelines.md"
    pipelines.write_text(
        PIPELINES_MD.replace(":pencil: Q2. Why is $y = f(x)$ deterministic?\n", "").replace(
            "Describe a training", "Sketch a training"
        ),
        encoding="utf-8",
    )
    sidecar = root / "content" / "pipelines.yaml"
    sidecar.write_text(
        PIPELINES_YAML.replace(
            "  Q2:\n    answer: The same input gives the same output, $f$ has no hidden state.\n",
            "",
        ),
        encoding="utf-8",
    )
    second = build(root, epoch=LATER)
    assert "0 new, 1 changed, 10 unchanged, 1 retired" in second.stdout
    assert "changed: pipelines/objective/1" in second.stdout
    assert "retired: pipelines/question/Q2" in second.stdout

    third = build(root, "--retire", epoch=LATER)
    report = json.loads((root / "dist" / "build-report.json").read_text(encoding="utf-8"))
    assert report["decks"][0]["retired"] == ["pipelines/question/Q2"]
    assert "retired (published, tagged retired)" in third.stdout


def test_frozen_build_fails_listing_notes_and_writes_nothing(tmp_path: Path) -> None:
    root = make_course(tmp_path / "course")
    build(root)
    outputs = [root / "dist" / "intro.apkg", root / "decks" / "intro.lock.json"]
    outputs += [root / "dist" / "SHA256SUMS", root / "dist" / "build-report.json"]
    saved = {p: p.read_bytes() for p in outputs}

    shutil.copyfile(HISTORY, root / "content" / "lesson.md")
    result = run_cli("build", "--frozen", cwd=root, env={"SOURCE_DATE_EPOCH": LATER})
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == (
        "error: decks/intro.lock.json: the lock would change (--frozen); "
        "build without --frozen and commit the lock"
    )
    assert len(lines) == 2 and lines[1].startswith("  changed note intro-to-mlops/question/Q3 (")
    assert {p: p.read_bytes() for p in outputs} == saved


def test_failed_build_leaves_previous_outputs_untouched(tmp_path: Path) -> None:
    root = make_course(tmp_path / "course")
    build(root)
    saved = {p: p.read_bytes() for p in (root / "dist").iterdir()}
    lock = (root / "decks" / "intro.lock.json").read_bytes()

    (root / "content" / "pipelines.yaml").write_text(
        PIPELINES_YAML.replace("answer: The same input", 'answer: ""\n    # The same input'),
        encoding="utf-8",
    )
    result = run_cli("build", cwd=root, env={"SOURCE_DATE_EPOCH": LATER})
    assert result.returncode == 1
    assert "content/pipelines.yaml:5:" in result.stderr
    assert "Traceback" not in result.stderr
    assert {p: p.read_bytes() for p in (root / "dist").iterdir()} == saved
    assert (root / "decks" / "intro.lock.json").read_bytes() == lock


def test_template_and_css_change_updates_the_note_type_in_place(
    tmp_path: Path, collection: Collection
) -> None:
    root = make_course(tmp_path / "course")
    templates = root / "card_templates"
    shutil.copytree(default_templates_dir(), templates)
    manifest = root / "decks" / "intro.yaml"
    manifest.write_text(manifest.read_text() + "templates: ../card_templates\n")
    build(root, epoch=EPOCH)
    apkg = root / "dist" / "intro.apkg"
    import_apkg(collection, apkg)
    collection = reopen(collection)
    before = {m["id"]: m for m in collection.models.all()}
    question_id = collection.models.id_for_name("mlops-cards Question")
    note_mods = {g: n.mod for g, n in notes_by_guid(collection).items()}

    front = templates / "question" / "front.html"
    front.write_text(front.read_text().replace("mc-prompt", "mc-prompt mc-v2"))
    css = templates / "style.css"
    css.write_text(css.read_text() + "\n.mc-v2 { color: teal; }\n")
    result = build(root, epoch=LATER)
    assert "note types new or changed: mlops-cards Question" in result.stdout
    assert "0 new, 0 changed, 12 unchanged" in result.stdout
    log = import_apkg(collection, apkg)
    assert (len(log.new), len(log.updated), len(log.conflicting)) == (0, 0, 0)

    collection = reopen(collection)
    after = {m["id"]: m for m in collection.models.all()}
    assert set(after) == set(before)
    assert {i: m["name"] for i, m in after.items()} == {i: m["name"] for i, m in before.items()}
    question = after[question_id]
    assert "mc-v2" in question["tmpls"][0]["qfmt"]
    assert ".mc-v2 { color: teal; }" in question["css"]
    assert [f["id"] for f in question["flds"]] == [f["id"] for f in before[question_id]["flds"]]
    assert question["mod"] == int(LATER)
    assert {g: n.mod for g, n in notes_by_guid(collection).items()} == note_mods
    cid = collection.find_cards('"note:mlops-cards Question"')[0]
    assert "mc-v2" in collection.get_card(cid).question()
    collection.close()


def test_retired_note_is_published_tagged_and_reimports_as_update(
    tmp_path: Path, collection: Collection
) -> None:
    root = make_course(tmp_path / "course")
    build(root, epoch=EPOCH)
    apkg = root / "dist" / "intro.apkg"
    import_apkg(collection, apkg)

    pipelines = root / "content" / "pipelines.md"
    pipelines.write_text(pipelines.read_text().replace(":pencil: Q2.", "Q2 (removed)."))
    sidecar = root / "content" / "pipelines.yaml"
    sidecar.write_text(
        sidecar.read_text().split("  Q2:")[0]
        + "objectives:"
        + sidecar.read_text().split("objectives:")[1]
    )
    result = build(root, "--retire", epoch=LATER)
    assert "0 new, 0 changed, 11 unchanged, 1 retired (published, tagged retired)" in result.stdout
    log = import_apkg(collection, apkg)
    assert (len(log.new), len(log.updated), len(log.conflicting)) == (0, 1, 0)
    retired = collection.find_notes("tag:retired")
    assert len(retired) == 1
    assert "deterministic" in collection.get_note(retired[0]).fields[0]
    assert collection.note_count() == 12


def test_reverse_cards_are_extra_cards_of_the_term_note(
    tmp_path: Path, collection: Collection
) -> None:
    root = make_course(tmp_path / "course")
    manifest = root / "decks" / "intro.yaml"
    manifest.write_text(manifest.read_text() + "cards: {reverse: true, cloze: false}\n")
    result = build(root)
    assert "notes: 11 (objective 5, question 5, term 1)" in result.stdout
    import_apkg(collection, root / "dist" / "intro.apkg")
    assert (collection.note_count(), collection.card_count()) == (11, 12)
    (nid,) = collection.find_notes('"note:mlops-cards Term"')
    cards = collection.get_note(nid).cards()
    assert sorted(c.ord for c in cards) == [0, 1]
    reverse = next(c for c in cards if c.ord == 1)
    assert "a chain of steps" in reverse.question() and "Pipeline" in reverse.answer()
