"""Release history: what a learner upgrading from one release to the next sees (issue 7).

The seed lesson is released as v1; its next version in the corpus (Q3 reworded) as v2, built
against the same lock. `verify --previous` must report exactly one updated note, Q3, and
nothing new, conflicting or copied. The shipped deck must verify clean too.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import HISTORY, ROOT, SEED, build_lesson_deck, run_cli
from mlops_cards.extract import extract_file
from mlops_cards.identity import note_guid
from mlops_cards.verify import imported_collection

pytest.importorskip("anki.collection")
from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

V1_EPOCH = "1700000000"
V2_EPOCH = "1700086400"


def sidecar_for(lesson: Path) -> str:
    """Answers to Q1-Q3 and objectives 1-4, each with the text it was written for (read
    from the lesson, so no corpus text is copied here)."""
    extracted = extract_file(lesson)
    questions = {q.key: q for q in extracted.questions}
    objectives = {o.key: o for o in extracted.objectives}
    data = {
        "lesson": {"id": "intro-to-mlops"},
        "questions": {
            key: {"question": questions[key].text, "answer": f"Our answer to {key}."}
            for key in ("Q1", "Q2", "Q3")
        },
        "objectives": {
            key: {"objective": objectives[key].text, "answer": f"Our answer to objective {key}."}
            for key in ("1", "2", "3", "4")
        },
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)


def build(root: Path, out: str, epoch: str) -> str:
    return build_lesson_deck(root, out, epoch)


def test_next_release_updates_only_q3(tmp_path: Path, corpus: Path) -> None:
    root = tmp_path / "course"
    root.mkdir()
    shutil.copyfile(SEED, root / "lesson.md")
    sidecar = sidecar_for(root / "lesson.md")
    (root / "lesson.yaml").write_text(sidecar, encoding="utf-8")
    first = build(root, "v1/deck.apkg", V1_EPOCH)
    assert "7 new, 0 changed, 0 unchanged, 0 retired" in first
    assert "stale answer" not in first

    shutil.copyfile(HISTORY, root / "lesson.md")
    assert (root / "lesson.yaml").read_text(encoding="utf-8") == sidecar  # the same YAML
    second = build(root, "v2/deck.apkg", V2_EPOCH)
    assert "0 new, 1 changed, 6 unchanged, 0 retired" in second
    assert "changed: intro-to-mlops/question/Q3" in second
    # Q3 was reworded after its answer was written: a warning, and the answer still ships.
    stale = [line.strip() for line in second.splitlines() if "stale answer" in line]
    assert len(stale) == 1
    assert (
        stale[0].startswith("lesson.yaml:") and ": warning: stale answer: question Q3" in stale[0]
    )

    result = run_cli("verify", "v2/deck.apkg", "--previous", "v1/deck.apkg", "--json", cwd=root)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "cloze_problems": [],
        "notes": 7,
        "cards": 7,
        "empty_cards": 0,
        "missing_media": [],
        "upgrade": {
            "new": 0,
            "updated": 1,
            "unchanged": 6,
            "conflicting": 0,
            "notetypes_copied": 0,
            "identity": [],
        },
    }

    # The one updated note is Q3, with its new wording and the same answer: a learner's
    # collection that has v1 imports v2 with Anki's default options.
    with imported_collection(root / "v1" / "deck.apkg") as col:
        request = ImportAnkiPackageRequest(
            package_path=str(root / "v2" / "deck.apkg"), options=ImportAnkiPackageOptions()
        )
        log = col.import_anki_package(request).log
        (updated,) = log.updated
        note = col.get_note(updated.id.nid)
        assert note.guid == note_guid("intro-to-mlops", "question", "Q3")
        assert "Tools for experiment tracking" in note["Front"]
        assert note["Back"] == "<p>Our answer to Q3.</p>"
        assert note.mod == int(V2_EPOCH)


def test_shipped_deck_verifies_clean(tmp_path: Path) -> None:
    # A copy of the course, so the build's lock file lands in tmp, not in the repository.
    course = tmp_path / "course"
    shutil.copytree(ROOT / "content", course / "content")
    shutil.copytree(ROOT / "decks", course / "decks")
    shutil.copytree(ROOT / "card_templates", course / "card_templates")  # the deck's templates
    result = run_cli("build", "decks/mlops.yaml", "-o", str(tmp_path / "dist"), cwd=course)
    assert result.returncode == 0, result.stderr
    # The committed lock's GUIDs are kept, whatever format it was written in (issue 18).
    assert ": 0 new," in result.stdout
    committed = json.loads((ROOT / "decks" / "mlops.lock.json").read_text(encoding="utf-8"))
    written = json.loads((course / "decks" / "mlops.lock.json").read_text(encoding="utf-8"))
    assert written["format"] == 2 and written["notes"].keys() == committed["notes"].keys()
    apkg = tmp_path / "dist" / "mlops.apkg"
    verified = run_cli("verify", str(apkg), "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    report = json.loads(verified.stdout)
    assert report["empty_cards"] == 0
    assert report["missing_media"] == []
    assert report["cards"] >= 300 and report["notes"] <= report["cards"]  # c1, c2... clozes
