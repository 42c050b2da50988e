"""The repository's own deck (decks/mlops.yaml) is made with the repository's card templates."""

from __future__ import annotations

import html
import json
import re
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, run_cli
from mlops_cards.manifest import load_manifest
from mlops_cards.notetypes import default_templates_dir


def test_the_shipped_manifest_names_the_repository_templates() -> None:
    manifest = load_manifest(ROOT / "decks" / "mlops.yaml")
    assert manifest.templates is not None
    assert manifest.templates.resolve() == (ROOT / "card_templates").resolve()
    # The package ships the same files, so the deck's bytes do not depend on which is read.
    packaged = default_templates_dir()
    files = sorted(p.relative_to(packaged) for p in packaged.rglob("*") if p.is_file())
    assert files and all(
        (packaged / f).read_bytes() == (manifest.templates / f).read_bytes() for f in files
    )


def _css_of(apkg: Path) -> set[str]:
    with zipfile.ZipFile(apkg) as archive:
        data = archive.read("collection.anki2")
    database = apkg.with_suffix(".anki2")
    database.write_bytes(data)
    with sqlite3.connect(database) as connection:
        (models,) = connection.execute("select models from col").fetchone()
    return {model["css"] for model in json.loads(models).values()}


def test_editing_card_templates_changes_the_shipped_deck(tmp_path: Path) -> None:
    for folder in ("decks", "content", "card_templates"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    before = run_cli("build", "-o", "before", "--no-cache", cwd=tmp_path, env=env)
    assert before.returncode == 0, before.stdout + before.stderr
    style = tmp_path / "card_templates" / "style.css"
    style.write_text(style.read_text(encoding="utf-8") + "\n.card { --edited: 1; }\n")
    after = run_cli("build", "-o", "after", "--no-cache", cwd=tmp_path, env=env)
    assert after.returncode == 0, after.stdout + after.stderr
    assert not any("--edited" in css for css in _css_of(tmp_path / "before" / "mlops.apkg"))
    assert all("--edited" in css for css in _css_of(tmp_path / "after" / "mlops.apkg"))


@pytest.mark.parametrize("reverse", [False, True])
def test_checklist_counts_what_anki_shows(tmp_path: Path, reverse: bool) -> None:
    pytest.importorskip("anki.collection", reason="the anki package is not installed")
    from mlops_cards.verify import imported_collection

    for folder in ("decks", "content", "card_templates"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    manifest = tmp_path / "decks" / "mlops.yaml"
    if reverse:  # a term then has two cards: Anki's count must still be the checklist's
        text = manifest.read_text(encoding="utf-8")
        manifest.write_text(text.replace("reverse: false", "reverse: true"), encoding="utf-8")
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    result = run_cli("build", "-o", "out", "--no-cache", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    page = (tmp_path / "out" / "mlops-checklist.html").read_text(encoding="utf-8")
    tiles = dict(re.findall(r"<dt>(\w+)</dt><dd>(\d+)</dd>", page))
    rows = re.findall(
        r"<tr><td>(.*?)</td>(?:<td>\d+</td>){4}<td>(\d+)</td><td>(\d+)</td></tr>", page
    )
    per_lesson = {html.unescape(title): (int(n), int(c)) for title, n, c in rows}
    with imported_collection(tmp_path / "out" / "mlops.apkg") as col:
        assert (int(tiles["Notes"]), int(tiles["Cards"])) == (col.note_count(), col.card_count())
        anki = {}
        for deck in col.decks.all_names_and_ids():
            if "::" in deck.name:
                search = f'"deck:{deck.name}"'
                title = deck.name.split("::", 1)[1].split(" ", 1)[1]  # "NN Title"
                anki[title] = (len(col.find_notes(search)), len(col.find_cards(search)))
        # A cloze note makes a card per number; with reverse on, a term note makes two.
        clozes = sum(len(col.get_note(n).cards()) - 1 for n in col.find_notes("tag:kind::cloze"))
        terms = len(col.find_notes("tag:kind::term"))
    assert per_lesson == anki
    notes, cards = (sum(counts) for counts in zip(*anki.values(), strict=True))
    assert cards == notes + clozes + (terms if reverse else 0)
    assert terms > 0
