"""Adopting the tool in another course repository (issue 17, item 5): `new-deck`, the content/
fallback shared by every command, the cache's own .gitignore, ad-hoc outputs beside the deck."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from conftest import run_cli
from mlops_cards.cache import CACHE_DIR_NAME, Cache
from mlops_cards.errors import CardsError
from mlops_cards.manifest import CardKinds, load_manifest
from mlops_cards.newdeck import new_deck, write_new
from mlops_cards.resolve import FALLBACK_NOTE, NOTHING_HERE, build_targets

# Lessons written for these tests (not course text): an objective, a question and a term each.
LESSONS = {
    "01-wheels.md": (
        "---\nsort: 1\n---\n# Wheels\n\n## Learning Objectives\n"
        "- [ ] Build a wheel for a small project.\n\n"
        ":bell: **Wheel**: a built distribution format for Python packages.\n\n"
        ":pencil: Q1. Which command builds a wheel?\n"
    ),
    "02-indexes.md": (
        "---\nsort: 2\n---\n# Indexes\n\n## Learning Objectives\n"
        "- [ ] Publish a package to an index.\n\n"
        ":bell: **Package index**: a server that hosts distributions for installers.\n\n"
        ":pencil: Q1. Which tool uploads a distribution?\n"
    ),
}


def course(root: Path, folder: str = "content") -> Path:
    lessons = root / folder
    lessons.mkdir(parents=True)
    for name, text in LESSONS.items():
        (lessons / name).write_text(text, encoding="utf-8")
    return root


def fill_answers(folder: Path) -> int:
    """Write an answer after every empty `answer:` stub `init` made; how many were filled."""
    filled = 0
    for sidecar in sorted(folder.glob("*.yaml")):
        text, n = re.subn(r"(?m)^(\s+answer:)$", r"\1 A short answer.", sidecar.read_text())
        sidecar.write_text(text)
        filled += n
    return filled


# --- new-deck ----------------------------------------------------------------------------------


def test_from_a_folder_of_lessons_to_a_deck_strictly_clean(tmp_path: Path) -> None:
    root = course(tmp_path)
    # Two commands: a first deck (terms only: nothing is answered yet).
    setup = run_cli("new-deck", "content", "--name", "Packaging", cwd=root)
    assert setup.returncode == 0, setup.stderr
    assert setup.stdout == (
        "wrote decks/packaging.yaml: a deck of 2 lessons in content\n"
        "next: mlops-cards init content, write the answers, then mlops-cards build\n"
    )
    first = run_cli("build", cwd=root)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Packaging -> dist/packaging.apkg\n")
    assert (root / "decks" / "packaging.lock.json").is_file()
    assert "note:" not in first.stderr  # a manifest now: no fallback

    # init, the answers written, build again: every card, and check --strict is clean.
    assert run_cli("init", "content", cwd=root).returncode == 0
    assert fill_answers(root / "content") == 4
    built = run_cli("build", cwd=root)
    assert built.returncode == 0, built.stderr
    assert "notes: 6 (objective 2, question 2, term 2)" in built.stdout
    assert "unanswered: 0" in built.stdout
    strict = run_cli("check", "--strict", cwd=root)
    assert strict.returncode == 0, strict.stdout
    assert "0 errors, 0 warnings" in strict.stdout
    verified = run_cli("verify", "dist/packaging.apkg", cwd=root)  # the real Anki engine
    assert verified.returncode == 0, verified.stdout


def test_the_manifest_explains_every_setting_and_loads(tmp_path: Path) -> None:
    made = new_deck(course(tmp_path) / "content", "MLOps: Packaging #1", root=tmp_path)
    assert made.path == tmp_path / "decks" / "mlops-packaging-1.yaml"
    write_new(made.path, made.text)
    manifest = load_manifest(made.path)
    assert manifest.name == "MLOps: Packaging #1"  # quoted where YAML needs it
    assert [p.name for p in manifest.lessons] == list(LESSONS)
    assert manifest.cards == CardKinds()
    assert manifest.checklists == ("html", "md")
    assert manifest.templates is None and manifest.output == "mlops-packaging-1"
    lines = made.text.splitlines()
    for key in ("name", "description", "lessons", "cards", "quality", "templates", "checklists"):
        [at] = [i for i, line in enumerate(lines) if re.match(rf"(# )?{key}: ", line)]
        assert lines[at - 1].startswith("# "), f"`{key}` has no comment above it"
    assert "# quality: {max_answer_words: 25, max_list_items: 3}" in lines


def test_nested_lessons_get_a_recursive_glob(tmp_path: Path) -> None:
    course(tmp_path, "course/module 1")
    made = new_deck(tmp_path / "course", root=tmp_path)
    assert 'lessons: ["../course/**/*.md"]' in made.text
    write_new(made.path, made.text)
    assert len(load_manifest(made.path).lessons) == 2
    assert load_manifest(made.path).name == "course"


def test_an_existing_manifest_is_never_replaced(tmp_path: Path) -> None:
    root = course(tmp_path)
    assert run_cli("new-deck", "content", cwd=root).returncode == 0
    manifest = root / "decks" / "content.yaml"
    manifest.write_text("name: Mine\nlessons: [../content/*.md]\n")
    again = run_cli("new-deck", "content", cwd=root)
    assert again.returncode == 1
    assert again.stderr == (
        "error: decks/content.yaml: already exists; edit it, or give another --name for a "
        "second deck\n"
    )
    assert manifest.read_text() == "name: Mine\nlessons: [../content/*.md]\n"


def test_a_manifest_made_a_moment_ago_is_not_replaced_either(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "decks" / "d.yaml"
    target.parent.mkdir()
    target.write_text("theirs\n")
    # As if another process wrote it between the look and the write.
    monkeypatch.setattr(Path, "exists", lambda self: False)
    with pytest.raises(CardsError, match="already exists"):
        write_new(target, "ours\n")
    monkeypatch.undo()
    assert target.read_text() == "theirs\n"
    assert [p.name for p in target.parent.iterdir()] == ["d.yaml"]  # no temporary file left


def test_new_deck_needs_lessons(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = run_cli("new-deck", "empty", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        "error: empty: no lessons (*.md files) below this folder (give the folder that holds "
        "the lessons)\n"
    )
    assert not (tmp_path / "decks").exists()
    missing = run_cli("new-deck", "nowhere", cwd=tmp_path)
    assert missing.returncode == 2
    assert "Directory 'nowhere' does not exist." in missing.stderr


# --- the same fallback everywhere --------------------------------------------------------------

# Every command that takes paths and has a default, as a new user first types it.
NO_PATH_COMMANDS = {
    "check": ["check"],
    "checklist": ["checklist", "-o", "sheet.md"],
    "build": ["build"],
    "preview": ["preview", "-o", "preview.html", "--renderer", "ours"],
}


@pytest.mark.parametrize("command", sorted(NO_PATH_COMMANDS))
def test_without_decks_every_command_takes_the_lessons_in_content(
    tmp_path: Path, command: str
) -> None:
    root = course(tmp_path)
    result = run_cli(*NO_PATH_COMMANDS[command], cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.splitlines()[0] == FALLBACK_NOTE
    assert FALLBACK_NOTE == (
        "note: no deck manifest in decks/: using the lessons in content/ as one deck "
        "(`mlops-cards new-deck content` writes a manifest)"
    )
    if command == "build":
        assert result.stdout.startswith("content -> dist/content.apkg\n")
        assert (root / "dist" / "content.lock.json").is_file()
    if command == "checklist":
        assert "Wheels" in (root / "sheet.md").read_text()
    if command == "preview":
        assert "Package index" in (root / "preview.html").read_text()


@pytest.mark.parametrize("command", sorted(NO_PATH_COMMANDS))
def test_with_neither_every_command_fails_the_same_way(tmp_path: Path, command: str) -> None:
    result = run_cli(*NO_PATH_COMMANDS[command], cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"error: {NOTHING_HERE}\n"
    assert NOTHING_HERE == (
        "no PATH given, and neither decks/*.yaml nor content/ is here (name the lessons, or "
        "set up a deck: mlops-cards new-deck LESSONS_DIR)"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_fallback_deck_is_the_one_new_deck_makes_of_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same name, so the same deck id: adopting a manifest later keeps the learners' deck."""
    monkeypatch.chdir(course(tmp_path))
    [before], _ = build_targets([], None, None)
    assert run_cli("new-deck", "content").returncode == 0
    [after], _ = build_targets([], None, None)
    assert after.manifest.path == Path("decks/content.yaml")
    assert (after.manifest.name, after.manifest.deck_id) == (
        before.manifest.name,
        before.manifest.deck_id,
    )
    assert after.manifest.lessons == (Path("content/01-wheels.md"), Path("content/02-indexes.md"))


# --- outputs beside the deck, the cache out of git ---------------------------------------------


def test_adhoc_build_writes_sums_and_reports_beside_the_deck(tmp_path: Path) -> None:
    root = course(tmp_path)
    result = run_cli("build", "content/01-wheels.md", "-o", "out/week.apkg", cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(
        "wrote out/SHA256SUMS, out/build-report.json and out/build-report.md\n"
    )
    assert sorted(p.name for p in (root / "out").iterdir()) == [
        "SHA256SUMS",
        "build-report.json",
        "build-report.md",
        "week.apkg",
        "week.lock.json",
    ]
    assert sorted(p.name for p in root.iterdir()) == [CACHE_DIR_NAME, "content", "out"]


def test_the_cache_folder_keeps_itself_out_of_git(tmp_path: Path) -> None:
    root = course(tmp_path)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    assert run_cli("check", cwd=root).returncode == 0
    assert (root / CACHE_DIR_NAME / ".gitignore").read_text() == (
        "# Written by mlops-cards: its cache is never committed.\n*\n"
    )
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout.split() == ["??", "content/01-wheels.md", "??", "content/02-indexes.md"]


def test_deferred_cache_writes_its_gitignore_only_on_flush(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "deferred", deferred=True)
    cache.put_object(cache.key("k", ["x"]), b"value")
    assert not (tmp_path / "deferred").exists()  # a build that fails leaves nothing
    cache.flush()
    assert (tmp_path / "deferred" / ".gitignore").read_text().endswith("\n*\n")


def test_a_gitignore_already_in_the_cache_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / ".gitignore").write_text("mine\n")
    cache = Cache(tmp_path / "c")
    cache.put_object(cache.key("k", ["x"]), b"value")
    assert (tmp_path / "c" / ".gitignore").read_text() == "mine\n"
    assert cache.get_object(cache.key("k", ["x"]), bytes) == b"value"
