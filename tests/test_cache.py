"""The content-keyed cache: same bytes with it, without it, cold or warm; any edit is seen."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from conftest import run_cli, run_process
from mlops_cards.cache import CACHE_DIR_NAME, Cache
from mlops_cards.models import Diagnostic

LESSON = """\
---
sort: 2
---
# Model Registries

## Learning Objectives

- [ ] Say what a model registry records.
- [ ] Promote a model from staging to production.

:bell: **Model card**: a short document that says what a model is for and where it fails.

:pencil: Q1. Why keep every model version?

:pencil: Q2. Who may promote a model?
"""

SIDECAR = """\
questions:
  Q1:
    answer: |
      To roll back: `registry.load("churn", version=3)` gives the old one back.

      ![the stages](img/stages.png)
  Q2:
    answer: Whoever owns the model, after a review where $p < 0.05$ held.
objectives:
  1:
    answer: |
      Versions, lineage and stage:

      ```python
      client.transition_model_version_stage("churn", 3, "Production")
      ```
terms:
  Model card:
    definition: A **short** document about a model's purpose and limits.
    cloze: "Before deploying, read its {{c1::Model card}} to learn where it fails."
"""

MANIFEST = """\
name: Registry Course
lessons: [../course/*.md]
output: registry
checklists: [html, md]
"""

ENV = {"SOURCE_DATE_EPOCH": "1700000000"}
OUTPUTS = ("registry.apkg", "registry-checklist.html", "registry-checklist.md", "SHA256SUMS")


def project(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    (course / "img").mkdir(parents=True)
    (course / "img" / "stages.png").write_bytes(b"\x89PNG\r\n\x1a\n first picture")
    (course / "2. Registries.md").write_text(LESSON, encoding="utf-8")
    (course / "2. Registries.yaml").write_text(SIDECAR, encoding="utf-8")
    (tmp_path / "decks").mkdir()
    (tmp_path / "decks" / "registry.yaml").write_text(MANIFEST, encoding="utf-8")
    return tmp_path


def build(root: Path, *flags: str) -> dict[str, str]:
    """Build from scratch (no lock, no outputs); the sha256 of every output."""
    shutil.rmtree(root / "dist", ignore_errors=True)
    (root / "decks" / "registry.lock.json").unlink(missing_ok=True)
    result = run_cli("build", *flags, cwd=root, env=ENV)
    assert result.returncode == 0, result.stderr
    return {n: hashlib.sha256((root / "dist" / n).read_bytes()).hexdigest() for n in OUTPUTS}


def entries(root: Path) -> int:
    return sum(1 for p in (root / CACHE_DIR_NAME).rglob("*") if p.is_file())


def test_cold_warm_and_no_cache_builds_are_the_same_bytes(tmp_path: Path) -> None:
    root = project(tmp_path)
    cold = build(root)
    assert entries(root) > 0
    warm = build(root)
    assert build(root, "--no-cache") == cold
    assert warm == cold


def test_no_cache_neither_reads_nor_writes_the_cache(tmp_path: Path) -> None:
    root = project(tmp_path)
    build(root, "--no-cache")
    assert not (root / CACHE_DIR_NAME).exists()
    result = run_cli("check", "--no-cache", cwd=root, env=ENV)
    assert result.returncode == 0, result.stderr
    assert not (root / CACHE_DIR_NAME).exists()


def test_a_rebuild_with_the_lock_is_the_same_with_and_without_the_cache(tmp_path: Path) -> None:
    root = project(tmp_path)
    build(root)
    for flags in ((), ("--no-cache",), ()):
        result = run_cli("build", *flags, cwd=root, env=ENV)
        assert result.returncode == 0, result.stderr
        assert "0 new, 0 changed, 5 unchanged, 0 retired" in result.stdout


def edit_and_compare(root: Path, edit: tuple[str, str, str] | tuple[str, bytes]) -> None:
    """After a cached build, apply `edit`; the warm build must equal a --no-cache build and
    differ from the build before the edit."""
    before = build(root)
    build(root)  # every entry is warm now
    path = root / edit[0]
    if len(edit) == 3:
        old, new = edit[1], edit[2]
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new), encoding="utf-8")
    else:
        path.write_bytes(edit[1])
    after = build(root)
    assert after == build(root, "--no-cache")
    assert after["registry.apkg"] != before["registry.apkg"]


def test_an_edited_lesson_is_picked_up(tmp_path: Path) -> None:
    edit_and_compare(project(tmp_path), ("course/2. Registries.md", "Who may", "Who can"))


def test_an_edited_sidecar_is_picked_up(tmp_path: Path) -> None:
    edit_and_compare(project(tmp_path), ("course/2. Registries.yaml", "$p < 0.05$", "$p<0.01$"))


def test_an_edited_image_is_picked_up(tmp_path: Path) -> None:
    edit_and_compare(project(tmp_path), ("course/img/stages.png", b"\x89PNG\r\n\x1a\n second"))


def test_an_edited_template_is_picked_up(tmp_path: Path) -> None:
    root = project(tmp_path)
    shutil.copytree(Path(__file__).resolve().parent.parent / "card_templates", root / "tpl")
    manifest = root / "decks" / "registry.yaml"
    manifest.write_text(MANIFEST + "templates: ../tpl\n", encoding="utf-8")
    edit_and_compare(root, ("tpl/question/front.html", "{{", "<b>Q</b> {{"))


def rebuild(root: Path) -> str:
    """A build over what is there (lock, outputs, cache), leaving it all in place: its stdout."""
    result = run_cli("build", cwd=root, env=ENV)
    assert result.returncode == 0, result.stderr
    return result.stdout


def count_matching(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every call of the build's matching stage from now on (one per deck matched)."""
    from mlops_cards import matching, pipeline

    calls: list[object] = []

    def counted(*args: Any) -> Any:
        calls.append(args)
        return matching.match_deck(*args)

    monkeypatch.setattr(pipeline, "match_deck", counted)
    return calls


def test_a_build_with_nothing_changed_matches_nothing_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path)
    first = build(root)  # writes the lock
    said = rebuild(root)  # leaves the lock as it is, so its outcome is kept
    files = [root / "dist" / n for n in OUTPUTS] + [root / "decks" / "registry.lock.json"]
    before = [(p.stat().st_ino, p.stat().st_mtime_ns) for p in files]
    matched = count_matching(monkeypatch)
    assert rebuild(root) == said
    assert matched == []  # nothing matched, locked or packed again
    assert [(p.stat().st_ino, p.stat().st_mtime_ns) for p in files] == before  # nor written
    # An .apkg that is not what the build made is made again, whatever the cache says.
    (root / "dist" / "registry.apkg").write_bytes(b"not a deck")
    assert rebuild(root) == said
    assert len(matched) == 1
    apkg = root / "dist" / "registry.apkg"
    assert hashlib.sha256(apkg.read_bytes()).hexdigest() == first["registry.apkg"]


def test_a_settled_deck_whose_apkg_became_a_link_to_a_device_is_built_again(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    first = build(root)
    said = rebuild(root)
    apkg = root / "dist" / "registry.apkg"
    apkg.unlink()
    apkg.symlink_to("/dev/zero")  # reading it to check its sha256 would never end
    result = run_process("build", cwd=root, env=ENV, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == said
    assert not apkg.is_symlink()
    assert hashlib.sha256(apkg.read_bytes()).hexdigest() == first["registry.apkg"]


def test_prose_edited_leaves_the_deck_settled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path)
    build(root)
    said = rebuild(root)
    apkg = (root / "dist" / "registry.apkg").read_bytes()
    matched = count_matching(monkeypatch)
    with (root / "course" / "2. Registries.md").open("a", encoding="utf-8") as lesson:
        lesson.write("\nA sentence of prose that makes no card.\n")
    assert rebuild(root) == said
    assert matched == []  # the lesson's notes are the ones the lock and the .apkg hold
    assert (root / "dist" / "registry.apkg").read_bytes() == apkg


def test_a_lock_saying_the_same_in_another_layout_is_left_as_it_is(tmp_path: Path) -> None:
    import json

    root = project(tmp_path)
    lock = root / "decks" / "registry.lock.json"
    build(root)
    written = lock.read_bytes()
    relaid = json.dumps(json.loads(written), indent=4).encode()  # what an editor might do
    lock.write_bytes(relaid)
    assert "0 new, 0 changed, 5 unchanged" in rebuild(root)
    assert lock.read_bytes() == relaid
    stale = relaid.replace(b'"hash": "', b'"hash": "0', 1)  # as if one note had changed
    lock.write_bytes(stale)
    assert ", 1 changed," in rebuild(root)
    assert lock.read_bytes() not in (stale, relaid)  # written, in the tool's layout
    assert lock.read_bytes().startswith(written[:20])


def test_an_image_changed_after_the_deck_settled_is_packed_again(tmp_path: Path) -> None:
    root = project(tmp_path)
    build(root)
    rebuild(root)
    apkg = root / "dist" / "registry.apkg"
    settled = apkg.read_bytes()
    (root / "course" / "img" / "stages.png").write_bytes(b"\x89PNG\r\n\x1a\n second picture")
    rebuild(root)
    assert apkg.read_bytes() != settled
    again = apkg.read_bytes()
    assert run_cli("build", "--no-cache", cwd=root, env=ENV).returncode == 0
    assert apkg.read_bytes() == again  # what rendering every note again gives


def test_an_older_lock_is_built_against_even_when_the_notes_were_built_before(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    lock = root / "decks" / "registry.lock.json"
    build(root)
    rebuild(root)
    first_lock = lock.read_bytes()
    apkg = root / "dist" / "registry.apkg"
    first_apkg = apkg.read_bytes()
    lesson = root / "course" / "2. Registries.md"
    original = lesson.read_text(encoding="utf-8")
    lesson.write_text(original.replace("Who may", "Who can"), encoding="utf-8")
    assert ", 1 changed," in rebuild(root)
    # The lesson and the .apkg as they were, the lock as the edit left it (a revert not
    # committed with its lock): the notes and .apkg of the kept outcome, another lock, so Q2
    # changed back.
    lesson.write_text(original, encoding="utf-8")
    apkg.write_bytes(first_apkg)
    assert ", 1 changed," in rebuild(root)
    lock.write_bytes(first_lock)  # and with the lock of those notes, nothing changed
    assert "0 new, 0 changed, 5 unchanged" in rebuild(root)


def test_a_deleted_image_fails_the_warm_build_as_it_does_the_cold_one(tmp_path: Path) -> None:
    root = project(tmp_path)
    build(root)
    (root / "course" / "img" / "stages.png").unlink()
    warm = run_cli("build", cwd=root, env=ENV)
    cold = run_cli("build", "--no-cache", cwd=root, env=ENV)
    assert warm.returncode == cold.returncode == 1
    assert "image 'img/stages.png' not found" in warm.stderr
    assert warm.stderr == cold.stderr


def test_a_check_that_rendered_cleanly_sees_an_image_deleted_or_changed_since(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    image = root / "course" / "img" / "stages.png"
    for _ in range(2):  # the second check is served by what the first kept
        assert run_cli("check", cwd=root, env=ENV).returncode == 0
    image.unlink()
    warm = run_cli("check", cwd=root, env=ENV)
    assert warm.returncode == 1
    assert "image 'img/stages.png' not found" in warm.stdout
    assert warm.stdout == run_cli("check", "--no-cache", cwd=root, env=ENV).stdout
    image.mkdir()  # now a folder, where a picture was: an error again, not the kept "clean"
    assert "img/stages.png" in run_cli("check", cwd=root, env=ENV).stdout


def test_damaged_cache_entries_are_ignored_and_rebuilt(tmp_path: Path) -> None:
    root = project(tmp_path)
    clean = build(root)
    files = [p for p in (root / CACHE_DIR_NAME).rglob("*") if p.is_file()]
    for i, path in enumerate(files):  # truncate some, flip a byte in the others
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2] if i % 2 else data[:-1] + bytes([data[-1] ^ 1]))
    assert build(root) == clean
    assert build(root) == clean  # and the rewritten entries are good again


def test_check_says_the_same_warm_as_cold_and_sees_sidecar_edits(tmp_path: Path) -> None:
    root = project(tmp_path)
    sidecar = root / "course" / "2. Registries.yaml"
    sidecar.write_text(SIDECAR.replace("  Q2:\n    answer: Whoever", "  q2:\n    answer: Who"))
    cold = run_cli("check", cwd=root, env=ENV)
    warm = run_cli("check", cwd=root, env=ENV)
    assert cold.returncode == warm.returncode == 1
    assert "'q2' is not a question" in cold.stdout
    assert warm.stdout == cold.stdout
    sidecar.write_text(SIDECAR, encoding="utf-8")
    fixed = run_cli("check", cwd=root, env=ENV)
    assert fixed.returncode == 0, fixed.stdout
    assert fixed.stdout == run_cli("check", "--no-cache", cwd=root, env=ENV).stdout


def test_the_cache_folder_can_be_moved_by_environment(tmp_path: Path) -> None:
    root = project(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    result = run_cli("check", cwd=root, env={**ENV, "MLOPS_CARDS_CACHE_DIR": str(elsewhere)})
    assert result.returncode == 0, result.stderr
    assert any(p.is_file() for p in elsewhere.rglob("*"))
    assert not (root / CACHE_DIR_NAME).exists()


def test_entries_round_trip_and_a_planted_pickle_is_refused(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    value = (Diagnostic("a.md", 3, "warning", "unanswered"),)
    key = cache.key("test", ["a", b"b"])
    cache.put_object(key, value)
    assert cache.get_object(key, tuple) == value
    assert cache.get_object(key, dict) is None  # not the expected type: ignored
    # A well-formed entry whose pickle would call a function is refused, not run.
    evil = cache.key("test", ["evil"])
    cache.put_bytes(evil, pickle.dumps(os.getcwd))
    assert cache.get_object(evil, object) is None


def test_an_unwritable_cache_folder_is_no_error(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the cache folder would go")
    cache = Cache(blocker / "cache")
    key = cache.key("test", ["x"])
    cache.put_bytes(key, b"payload")
    assert cache.get_bytes(key) is None


def test_keys_change_with_every_part_and_with_how_parts_split() -> None:
    cache = Cache(None)
    assert cache.key("k", ["ab", "c"]) != cache.key("k", ["a", "bc"])
    assert cache.key("k", ["a"]) != cache.key("j", ["a"])
    assert cache.key("k", ["a"]) == cache.key("k", [b"a"])


# --- the store alone: no lessons, no subprocess ------------------------------------------------


T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Foreign:  # frozen, but not the tool's: refused
    value: str


def entry(path: str) -> Diagnostic:
    """A value of one of the tool's frozen dataclasses."""
    return Diagnostic(path, 1, "warning", "m")


def counting(value: T) -> tuple[list[int], Callable[[], T]]:
    calls: list[int] = []

    def compute() -> T:
        calls.append(1)
        return value

    return calls, compute


def test_memo_computes_once_and_keeps_the_entry(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    calls, compute = counting(entry("a"))
    assert cache.memo("k", ["x"], compute, Diagnostic) == entry("a")
    assert Cache(tmp_path).memo("k", ["x"], compute, Diagnostic) == entry("a")  # another run
    assert len(calls) == 1
    assert cache.memo("k", ["y"], compute, Diagnostic) == entry("a")  # another key
    assert len(calls) == 2


def test_memo_with_the_cache_off_always_computes_and_keeps_nothing(tmp_path: Path) -> None:
    cache = Cache(None)
    calls, compute = counting(entry("a"))
    for _ in range(2):
        assert cache.memo("k", ["x"], compute, Diagnostic) == entry("a")
    assert len(calls) == 2
    assert not any(tmp_path.iterdir())


def test_memo_recomputes_an_entry_of_another_type(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    cache.put_object(cache.key("k", ["x"]), ("a", "tuple"))
    calls, compute = counting(entry("b"))
    assert cache.memo("k", ["x"], compute, Diagnostic) == entry("b")
    assert calls == [1]
    assert cache.get_object(cache.key("k", ["x"]), Diagnostic) == entry("b")  # overwritten


def test_bytes_are_kept_as_they_are(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    assert cache.memo("k", ["x"], lambda: b"raw", bytes) == b"raw"
    assert cache.get_bytes(cache.key("k", ["x"])) == b"raw"


def test_only_frozen_dataclasses_of_the_tool_unpickle(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    ours = cache.key("k", ["ours"])
    cache.put_object(ours, (Diagnostic("a.md", 1, "error", "m"),))
    assert cache.get_object(ours, tuple) == (Diagnostic("a.md", 1, "error", "m"),)
    # This test module's class is not the tool's; the tool's mutable ones are refused too.
    from mlops_cards.extract import _RawQuestion

    for value in (Foreign("a"), _RawQuestion(1, ["a"])):
        key = cache.key("k", [repr(value)])
        cache.put_object(key, value)
        assert cache.get_object(key, object) is None
