"""Inputs that are not the author's text (cache entries, templates, lock files, manifests,
other processes, a crash) must never reach a deck, hang the tool or mix old and new outputs.
Each test reproduces one attack or fault of issue 14; every input is made here, in tmp_path."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import pickle
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, run_process
from mlops_cards.deckdata import DeckNote

ENV = {"SOURCE_DATE_EPOCH": "1700000000"}
LESSON = """\
---
sort: 1
---
# Registries

:bell: **Model card**: a short document that says what a model is for.

:pencil: Q1. Why keep every model version?
"""
SIDECAR = "questions:\n  Q1:\n    answer: To roll back.\n"
MANIFEST = "name: Registry Course\nlessons: [../course/*.md]\noutput: registry\nchecklists: [md]\n"
CACHE = ".mlops-cards-cache"
# A watchdog for inputs that used to hang: far above any normal run (a few seconds).
HANG = int(os.environ.get("MLOPS_CARDS_TEST_HANG", "300"))


def project(tmp_path: Path, manifest: str = MANIFEST) -> Path:
    course = tmp_path / "course"
    course.mkdir(parents=True)
    (course / "1. Registries.md").write_text(LESSON, encoding="utf-8")
    (course / "1. Registries.yaml").write_text(SIDECAR, encoding="utf-8")
    (tmp_path / "decks").mkdir()
    (tmp_path / "decks" / "registry.yaml").write_text(manifest, encoding="utf-8")
    return tmp_path


def cli(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The CLI in `root`, stopped (and the test failed) if it hangs."""
    try:
        return run_process(*args, cwd=root, env={**ENV, **env}, timeout=HANG)
    except subprocess.TimeoutExpired:
        pytest.fail(f"mlops-cards {' '.join(args)} hung")


def outputs(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "dist").iterdir()) if p.is_file()}


def fresh_build(root: Path, *flags: str, **env: str) -> dict[str, bytes]:
    shutil.rmtree(root / "dist", ignore_errors=True)
    (root / "decks" / "registry.lock.json").unlink(missing_ok=True)
    result = cli(root, "build", *flags, **env)
    assert result.returncode == 0, result.stderr
    return outputs(root)


# --- 1. cache entries are authenticated -------------------------------------------------------


def plant(root: Path, evil_notes: object) -> int:
    """Rewrite every cache entry as someone without the user's secret can: same magic line, a
    sha256 of the new payload, the new payload (a planted .apkg, or planted notes)."""
    planted = 0
    for path in (root / CACHE).rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        head = data.index(b"\n") + 1
        payload = data[head + 32 :]
        if payload.startswith(b"PK"):
            new = b"PK planted deck"
        else:
            try:
                value = pickle.loads(payload)
            except Exception:
                continue
            notes = getattr(value, "notes", None)  # a lesson's notes entry (stages._NotesEntry)
            if not (isinstance(notes, tuple) and notes and isinstance(notes[0], DeckNote)):
                continue
            new = pickle.dumps(dataclasses.replace(value, notes=evil_notes(notes)))  # type: ignore[operator]
        path.write_bytes(data[:head] + hashlib.sha256(new).digest() + new)
        planted += 1
    return planted


def test_planted_cache_entries_never_reach_the_deck(tmp_path: Path) -> None:
    root = project(tmp_path)
    clean = fresh_build(root, "--no-cache")
    assert fresh_build(root) == clean  # fills the cache

    def script(notes: tuple[DeckNote, ...]) -> tuple[DeckNote, ...]:
        fields = ("<script>alert(1)</script>",)
        return tuple(dataclasses.replace(n, fields=fields * len(n.fields)) for n in notes)

    assert plant(root, script) >= 2
    assert fresh_build(root) == clean


def test_a_tiny_planted_pickle_with_shared_references_does_not_hang_the_build(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    clean = fresh_build(root, "--no-cache")
    fresh_build(root)
    nested: object = ("x",)
    for _ in range(40):  # 2**40 references to one string, a few hundred bytes pickled
        nested = (nested, nested)

    def bomb(notes: tuple[DeckNote, ...]) -> tuple[DeckNote, ...]:
        return tuple(dataclasses.replace(n, fields=nested) for n in notes)  # type: ignore[arg-type]

    assert plant(root, bomb) >= 1
    assert fresh_build(root) == clean


def test_the_cache_is_off_when_its_secret_cannot_be_made(tmp_path: Path) -> None:
    root = project(tmp_path)
    clean = fresh_build(root, "--no-cache")
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the key's folder would be")
    assert fresh_build(root, MLOPS_CARDS_CACHE_KEY=str(blocked / "cache.key")) == clean
    assert not any(p.is_file() for p in (root / CACHE).rglob("*"))


# --- 2. templates are files inside the templates folder ---------------------------------------


def templated(tmp_path: Path) -> tuple[Path, Path]:
    root = project(tmp_path, MANIFEST + "templates: ../tpl\n")
    shutil.copytree(ROOT / "card_templates", root / "tpl")
    return root, root / "tpl" / "question" / "style.css"


@pytest.mark.parametrize("target", ["/proc/self/environ", "/etc/passwd", "/dev/zero"])
def test_a_template_linked_outside_its_folder_is_refused(tmp_path: Path, target: str) -> None:
    root, css = templated(tmp_path)
    css.unlink(missing_ok=True)
    css.symlink_to(target)
    result = cli(root, "build", MLOPS_CARDS_SECRET_VALUE="hunter2-secret")
    assert result.returncode == 1, result.stdout
    assert "outside the templates folder" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (root / "dist").exists()


def test_a_template_that_is_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    root, css = templated(tmp_path)
    css.unlink(missing_ok=True)
    os.mkfifo(css)
    result = cli(root, "build")
    assert result.returncode == 1
    assert "not a regular file" in result.stderr


def test_a_template_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    root, css = templated(tmp_path)
    css.write_text("/* padding */\n" * 100_000)
    result = cli(root, "build")
    assert result.returncode == 1
    assert "card template is 1.3 MB; the limit is 1 MB" in result.stderr


# --- 3. every file is read through one bounded, non-blocking reader ---------------------------


def test_a_lock_file_linked_to_dev_zero_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "decks" / "registry.lock.json").symlink_to("/dev/zero")
    result = cli(root, "build")
    assert result.returncode == 1
    assert "registry.lock.json: not a regular file" in result.stderr


@pytest.mark.parametrize("how", ["beside the manifest", "--lock"])
def test_a_lock_file_that_is_a_fifo_is_refused_without_waiting(tmp_path: Path, how: str) -> None:
    root = project(tmp_path)
    if how == "--lock":
        os.mkfifo(root / "fifo.lock.json")
        lesson = "course/1. Registries.md"
        result = cli(root, "build", lesson, "-o", "dist/x.apkg", "--lock", "fifo.lock.json")
    else:
        os.mkfifo(root / "decks" / "registry.lock.json")
        result = cli(root, "build")
    assert result.returncode == 1
    assert "lock.json: not a regular file" in result.stderr


def test_a_manifest_that_is_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    root = project(tmp_path)
    os.mkfifo(root / "decks" / "other.yaml")
    result = cli(root, "build", "decks/other.yaml")
    assert result.returncode == 1
    assert "not a regular file" in result.stderr


def test_the_one_reader_refuses_links_when_asked_and_reads_bounded(tmp_path: Path) -> None:
    from mlops_cards.errors import CardsError
    from mlops_cards.limits import read_limited

    real = tmp_path / "real.txt"
    real.write_bytes(b"12345")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    assert read_limited(link, 5, "link", "file", "") == b"12345"
    with pytest.raises(CardsError, match="symbolic link"):
        read_limited(link, 5, "link", "file", "", follow_links=False)
    with pytest.raises(CardsError, match="the limit is 4 bytes"):
        read_limited(real, 4, "real", "file", "shorten it")
    with pytest.raises(CardsError, match="NUL byte"):
        read_limited(Path("a\0b"), 4, "a", "file", "")


# --- 4. nothing unsanitised reaches a card, a deck name or the description --------------------


def collection(apkg: Path, tmp_path: Path) -> sqlite3.Connection:
    """The SQLite collection inside an .apkg, unpacked beside the test."""
    with zipfile.ZipFile(apkg) as archive:
        target = tmp_path / f"{apkg.stem}-collection.anki2"
        target.write_bytes(archive.read("collection.anki2"))
    return sqlite3.connect(target)


def all_text(apkg: Path, tmp_path: Path) -> str:
    db = collection(apkg, tmp_path)
    try:
        (decks,) = db.execute("SELECT decks FROM col").fetchone()
        fields = [row[0] for row in db.execute("SELECT flds FROM notes")]
    finally:
        db.close()
    return str(decks) + "\n".join(fields)


def test_the_description_and_deck_names_are_sanitised(tmp_path: Path) -> None:
    manifest = MANIFEST + (
        "description: '<script>alert(1)</script><img src=x onerror=alert(2)><b>Hi</b>'\n"
    )
    root = project(tmp_path, manifest)
    lesson = root / "course" / "1. Registries.md"
    lesson.write_text(LESSON.replace("# Registries", "# Reg <img src=x onerror=alert(3)>istries"))
    result = cli(root, "build")
    assert result.returncode == 0, result.stderr
    db = collection(root / "dist" / "registry.apkg", tmp_path)
    (decks_json,) = db.execute("SELECT decks FROM col").fetchone()
    db.close()
    decks = json.loads(decks_json)
    names = sorted(d["name"] for d in decks.values())
    assert all("<" not in name and "onerror" not in name for name in names), names
    description = next(d["desc"] for d in decks.values() if d["name"] == "Registry Course")
    assert "<b>Hi</b>" in description
    assert "script" not in description and "onerror" not in description


def test_author_tags_reach_anki_as_plain_text(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "course" / "1. Registries.yaml").write_text(
        SIDECAR + "lesson:\n  tags: ['<img/src=x/onerror=alert(1)>ops', \"a\\u0007b\"]\n"
    )
    result = cli(root, "build")
    assert result.returncode == 0, result.stderr
    db = collection(root / "dist" / "registry.apkg", tmp_path)
    tags = " ".join(row[0] for row in db.execute("SELECT tags FROM notes"))
    db.close()
    assert " ops " in f" {tags} " and "a_b" in tags
    assert "<" not in tags and "onerror" not in tags and "\x07" not in tags


def test_fields_republished_from_the_lock_by_retire_are_sanitised_again(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert cli(root, "build").returncode == 0
    lock_path = root / "decks" / "registry.lock.json"
    lock = json.loads(lock_path.read_text())
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>[sound:../../etc/passwd]"
    for note in lock["notes"].values():
        note["fields"] = [evil + " {{c1::x}}" for _ in note["fields"]]
    lock_path.write_text(json.dumps(lock))
    lesson = root / "course" / "1. Registries.md"
    lesson.write_text(LESSON.replace(":pencil: Q1. Why keep every model version?\n", ""))
    (root / "course" / "1. Registries.yaml").unlink()
    result = cli(root, "build", "--retire")
    assert result.returncode == 0, result.stderr
    assert "1 retired (published" in result.stdout
    text = all_text(root / "dist" / "registry.apkg", tmp_path)
    assert "alert(2)" not in text and "alert(1)" not in text
    assert "[sound:" not in text and "{{c1::x}}" not in text


CLOZE_SIDECAR = """\
questions:
  Q1:
    answer: "To roll back {{c2::thing}}, Wid}}get and [sound:../../etc/passwd]."
terms:
  Model card:
    definition: "A document with {{c3::more}} and [latex]x[/latex] in it."
    cloze: "A {{c1::model card}} says what a model is for."
"""


def cloze_notes(apkg: Path, tmp_path: Path) -> list[tuple[str, int]]:
    """(fields, cards) of every cloze note (the ones whose text holds a marker)."""
    db = collection(apkg, tmp_path)
    rows = db.execute(
        "SELECT n.flds, count(c.id) FROM notes n JOIN cards c ON c.nid = n.id "
        "WHERE n.flds LIKE '%{{c1::%' GROUP BY n.id"
    ).fetchall()
    db.close()
    return [(str(text), int(cards)) for text, cards in rows]


def test_cloze_markers_in_author_text_make_no_cards_and_break_none(tmp_path: Path) -> None:
    pytest.importorskip("anki")
    from mlops_cards.verify import verify_deck

    root = project(tmp_path)
    (root / "course" / "1. Registries.yaml").write_text(CLOZE_SIDECAR)
    result = cli(root, "build")
    assert result.returncode == 0, result.stderr
    apkg = root / "dist" / "registry.apkg"
    [(fields, cards)] = cloze_notes(apkg, tmp_path)
    assert cards == 1
    assert fields.count("}}") == 1  # the marker's own: `{{c3::` and `}}` are shown as written
    text = all_text(apkg, tmp_path)
    assert "{{c2::" not in text and "{{c3::" not in text and "Wid}}get" not in text
    assert "[sound:" not in text and "[latex]" not in text
    verified = verify_deck(apkg)
    assert verified.ok and verified.cloze_problems == ()


def test_verify_finds_cloze_markers_that_do_not_match(tmp_path: Path) -> None:
    pytest.importorskip("anki")
    root = project(tmp_path)
    (root / "course" / "1. Registries.yaml").write_text(CLOZE_SIDECAR)
    assert cli(root, "build").returncode == 0
    apkg = root / "dist" / "registry.apkg"
    db = collection(apkg, tmp_path)
    db.execute(
        "UPDATE notes SET flds = 'A {{c1::Wid}}get}} and {{c2::x}}' || substr(flds, instr(flds, "
        "char(31))) WHERE flds LIKE '%{{c1::%'"
    )
    db.commit()
    db.close()
    broken = tmp_path / "broken.apkg"
    with zipfile.ZipFile(apkg) as old, zipfile.ZipFile(broken, "w") as new:
        for item in old.infolist():
            data = old.read(item.filename)
            if item.filename == "collection.anki2":
                data = (tmp_path / "registry-collection.anki2").read_bytes()
            new.writestr(item, data)
    result = cli(root, "verify", str(broken))
    assert result.returncode == 1, result.stdout
    assert "2 cloze markers opened, 3 `}}` closing" in result.stdout


# --- 5. nothing outside the course is read ----------------------------------------------------


def outside(tmp_path: Path) -> Path:
    """A lesson outside the project, with a picture beside it: neither may reach a deck."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"secret" * 8)
    (folder / "lesson.md").write_text("# Outside\n\n:pencil: Q1. What is the SECRET-TEXT?\n")
    (folder / "lesson.yaml").write_text("questions:\n  Q1:\n    answer: '![s](secret.png)'\n")
    return folder


@pytest.mark.parametrize(
    "entry, message",
    [
        ("/**/*.md", "is an absolute path"),
        ("../../outside/lesson.md", "lies outside the course folder"),
        ("../../outside/*.md", "lies outside the course folder"),
        ("../../**/lesson.md", "lies outside the course folder"),
    ],
)
def test_manifest_lessons_outside_the_project_are_refused(
    tmp_path: Path, entry: str, message: str
) -> None:
    outside(tmp_path)
    root = project(tmp_path / "project", MANIFEST.replace("../course/*.md", repr(entry)))
    result = cli(root, "build")
    assert result.returncode == 1
    assert message in result.stderr, result.stderr
    assert not (root / "dist").exists()


def test_symlinked_lessons_are_skipped_and_never_read(tmp_path: Path) -> None:
    folder = outside(tmp_path)
    root = project(tmp_path / "project", MANIFEST.replace("../course/*.md", "../course"))
    (root / "course" / "2. linked.md").symlink_to(folder / "lesson.md")
    result = cli(root, "build")
    assert result.returncode == 0, result.stderr
    assert "SECRET-TEXT" not in all_text(root / "dist" / "registry.apkg", tmp_path)
    # named in the manifest itself, a link out is refused
    (root / "decks" / "registry.yaml").write_text(
        MANIFEST.replace(
            "[../course/*.md]", "['../course/1. Registries.md', '../course/2. linked.md']"
        )
    )
    result = cli(root, "build")
    assert result.returncode == 1
    assert "lies outside the course folder" in result.stderr


def test_an_adhoc_build_reads_nothing_outside_the_current_folder(tmp_path: Path) -> None:
    folder = outside(tmp_path)
    root = project(tmp_path / "project")
    result = cli(root, "build", str(folder / "lesson.md"), "-o", "dist/x.apkg")
    assert result.returncode == 1
    assert "lesson lies outside the current folder" in result.stderr
    assert not (root / "dist").exists()


# --- 6. one build at a time per output folder -------------------------------------------------

HOLDER = """\
import sys
from pathlib import Path
from mlops_cards.atomic import exclusive
with exclusive([Path(sys.argv[1])]):
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_a_second_build_into_the_same_folder_stops_with_a_clear_message(tmp_path: Path) -> None:
    root = project(tmp_path)
    env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT / "src")}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(root / "dist")],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        result = cli(root, "build")
        assert result.returncode == 1
        assert result.stderr == (
            f"error: another build is writing {root / 'dist'} (pid {holder.pid}); "
            "wait for it or stop it, then build again\n"
        )
        assert not (root / "decks" / "registry.lock.json").exists()
    finally:
        assert holder.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # it may have failed already
            holder.stdin.write("\n")
            holder.stdin.close()
        holder.wait(timeout=HANG)
    assert cli(root, "build").returncode == 0
    assert not list(root.rglob(".mlops-cards.lock"))  # the lock files do not stay behind


def test_two_builds_started_together_leave_consistent_outputs(tmp_path: Path) -> None:
    # Whichever wins, the other either ran after it or stopped with the message: never a lock,
    # .apkg and SHA256SUMS from different builds (1 pair in 150 before the folder lock).
    root = project(tmp_path)
    env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT / "src")}
    command = [sys.executable, "-m", "mlops_cards", "build", "--no-cache"]
    for round in range(3):
        lesson = root / "course" / "1. Registries.md"
        lesson.write_text(LESSON.replace("Why keep", f"Why (take {round}) keep"))
        both = [
            subprocess.Popen(command, cwd=root, env=env, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        results = [(p.wait(timeout=HANG), p.stderr.read() if p.stderr else "") for p in both]
        assert 0 in [code for code, _ in results], results
        for code, stderr in results:
            assert code == 0 or "another build is writing" in stderr, stderr
        apkg = hashlib.sha256((root / "dist" / "registry.apkg").read_bytes()).hexdigest()
        assert f"{apkg}  registry.apkg" in (root / "dist" / "SHA256SUMS").read_text()
        assert cli(root, "build", "--frozen").returncode == 0


# --- 7. kill -9 between the final renames -----------------------------------------------------

CRASH_AFTER_FIRST_RENAME = """\
import os, sys
real = os.replace
def replace(src, dst):
    real(src, dst)
    if str(dst).endswith(".apkg"):
        os._exit(137)  # as kill -9 would: no finally, no cleanup
os.replace = replace
from mlops_cards.cli import cli
sys.argv = ["mlops-cards", *sys.argv[1:]]
cli()
"""


def test_a_build_killed_between_its_renames_is_finished_by_the_next_command(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    assert cli(root, "build").returncode == 0
    lesson = root / "course" / "1. Registries.md"
    lesson.write_text(LESSON.replace("Why keep", "Why should we keep"))
    env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT / "src")}
    killed = subprocess.run(
        [sys.executable, "-c", CRASH_AFTER_FIRST_RENAME, "build"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert killed.returncode == 137, killed.stderr
    sums = (root / "dist" / "SHA256SUMS").read_text()
    apkg = hashlib.sha256((root / "dist" / "registry.apkg").read_bytes()).hexdigest()
    assert apkg not in sums  # the mix a crash leaves: a new deck, the old checksums
    # The next command finishes the renames first: the lock matches, and so do the sums.
    frozen = cli(root, "build", "--frozen")
    assert frozen.returncode == 0, frozen.stderr
    assert apkg in (root / "dist" / "SHA256SUMS").read_text()
    assert not [p for p in root.rglob(".*") if p.name.endswith(".tmp") or "journal" in p.name]


# --- 8. file:line messages, never an internal error -------------------------------------------


def one_answer(root: Path, answer: str) -> subprocess.CompletedProcess[str]:
    (root / "course" / "1. Registries.yaml").write_text(
        f"questions:\n  Q1:\n    answer: {json.dumps(answer)}\n"
    )
    return cli(root, "build")


@pytest.mark.parametrize(
    "src, message",
    [
        ("images/ok.png%00.txt", "holds a control character"),
        ("images/ok.png%0a.txt", "holds a control character"),
        ("images/" + "a" * 300 + ".png", "cannot be opened (File name too long)"),
        ("images/" + "a/" * 3000 + "b.png", "cannot be opened"),
    ],
)
def test_odd_image_names_are_errors_at_their_line(tmp_path: Path, src: str, message: str) -> None:
    root = project(tmp_path)
    (root / "course" / "images").mkdir()
    result = one_answer(root, f"![x]({src})")
    assert result.returncode == 1
    assert "internal error" not in result.stderr
    assert "course/1. Registries.yaml:3: image" in result.stderr and message in result.stderr


@pytest.mark.parametrize("output", ["a\\0b", "a\\nb", "x\\n0000  evil.apkg"])
def test_an_output_name_with_control_characters_is_refused(tmp_path: Path, output: str) -> None:
    root = project(tmp_path, MANIFEST.replace("output: registry", f'output: "{output}"'))
    result = cli(root, "build")
    assert result.returncode == 1
    assert "decks/registry.yaml:3:9: error: `output` must be a plain file name" in result.stderr
    assert not (root / "dist").exists()


@pytest.mark.parametrize("mod", [2**62, -1, 2**32])
def test_a_lock_with_a_mod_out_of_range_is_a_damaged_lock(tmp_path: Path, mod: int) -> None:
    root = project(tmp_path)
    assert cli(root, "build").returncode == 0
    lock_path = root / "decks" / "registry.lock.json"
    lock = json.loads(lock_path.read_text())
    for note in lock["notes"].values():
        note["mod"] = mod
    lock_path.write_text(json.dumps(lock))
    (root / "course" / "1. Registries.md").write_text(LESSON.replace("Why", "How"))
    result = cli(root, "build")
    assert result.returncode == 1
    assert "registry.lock.json: lock file is damaged" in result.stderr
    assert "not a time between 1970 and 2106" in result.stderr


def test_a_non_ascii_lesson_name_in_the_posix_locale_is_a_clear_error(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "course" / "2. Élève.md").write_text("# Élève\n\n:pencil: Q1. Qui?\n")
    env = {"LC_ALL": "POSIX", "LANG": "", "PYTHONUTF8": "0", "PYTHONIOENCODING": ""}
    result = cli(root, "build", **env)
    assert result.returncode == 1
    assert "internal error" not in result.stderr
    assert "set LC_ALL=C.UTF-8 or PYTHONUTF8=1" in result.stderr


# --- 9. verify caps what it unpacks -----------------------------------------------------------


def test_verify_refuses_a_zip_bomb_before_anki_unpacks_it(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.apkg"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("collection.anki2", "w") as entry:
            for _ in range(200):  # 200 MB of zeros in about 200 kB
                entry.write(bytes(1024 * 1024))
        archive.writestr("media", "{}")
    assert bomb.stat().st_size < 1024 * 1024
    result = cli(tmp_path, "verify", str(bomb))
    assert result.returncode == 1
    assert "'collection.anki2' is compressed 1,0" in result.stderr
    assert "a zip bomb?" in result.stderr


def test_verify_refuses_an_apkg_whose_headers_lie_about_sizes(tmp_path: Path) -> None:
    honest = tmp_path / "honest.apkg"
    with zipfile.ZipFile(honest, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("collection.anki2", b"x" * 1000)
    data = bytearray(honest.read_bytes())
    # the central directory's uncompressed size (offset 24 in its entry) says 10 bytes
    central = data.rindex(b"PK\x01\x02")
    data[central + 24 : central + 28] = (10).to_bytes(4, "little")
    liar = tmp_path / "liar.apkg"
    liar.write_bytes(bytes(data))
    result = cli(tmp_path, "verify", str(liar))
    assert result.returncode == 1
    assert "not a readable .apkg (zip) file" in result.stderr


# --- 10. inputs that were slow to parse are refused by the (documented) limits ----------------
# The figures are measured by benchmarks/slow_inputs.py, never timed here.


def test_a_2_mb_yaml_answer_of_image_brackets_is_refused_at_once(tmp_path: Path) -> None:
    root = project(tmp_path)
    line = "![" * 40_000
    answer = "".join(f"      {line}\n" for _ in range(27))  # 2.1 MB, lines within the limit
    (root / "course" / "1. Registries.yaml").write_text(
        f"questions:\n  Q1:\n    answer: |\n{answer}"
    )
    result = cli(root, "build")
    assert result.returncode == 1
    assert "YAML file is 2.1 MB; the limit is 256 kB" in result.stderr


@pytest.mark.parametrize("unit", ["![", "[", "*", "`"])
def test_a_lesson_full_of_markup_is_refused_before_it_is_parsed(tmp_path: Path, unit: str) -> None:
    root = project(tmp_path)
    lesson = root / "course" / "1. Registries.md"
    markup = "\n".join([unit * (60_000 // len(unit))] * 2)
    lesson.write_text(LESSON + "\n:pencil: Q2. " + markup + "\n")
    result = cli(root, "build")
    assert result.returncode == 1
    assert "markup characters" in result.stderr and "the limit is 50,000" in result.stderr


def test_the_checklist_of_many_tasks_keeps_them_all_in_order() -> None:
    # A tuple grown by one task at a time made this quadratic (8 minutes for 5 MB of tasks).
    from mlops_cards.checklist import sheet_for
    from mlops_cards.models import Lesson, LessonContent, Task

    tasks = tuple(Task(f"task {i}", i + 1, "Setup" if i < 3 else "Run") for i in range(30_000))
    lesson = Lesson("l.md", "l", "L", None, tasks=tasks)
    groups = sheet_for(LessonContent(lesson, None, ())).task_groups
    assert [(g.section, len(g.items)) for g in groups] == [("Setup", 3), ("Run", 29_997)]
    assert [item.text for item in groups[1].items[:2]] == ["task 3", "task 4"]


def test_a_signed_cache_entry_with_wrong_field_types_is_rebuilt(tmp_path: Path) -> None:
    # As if the tool itself had written it (with the user's secret): still not trusted blindly.
    from mlops_cards.cache import Cache

    root = project(tmp_path)
    clean = fresh_build(root, "--no-cache")
    fresh_build(root)
    cache = Cache(root / CACHE)
    rewritten = 0
    nested: object = ("x",)
    for _ in range(40):
        nested = (nested, nested)
    for path in (root / CACHE).rglob("*"):
        key = path.parent.name + path.name
        payload = cache.get_bytes(key) if path.is_file() and len(key) == 64 else None
        try:
            entry: Any = pickle.loads(payload) if payload is not None else None
        except Exception:
            continue  # an .apkg, kept as bytes
        notes = getattr(entry, "notes", None)
        if isinstance(notes, tuple) and notes and isinstance(notes[0], DeckNote):
            wrong = tuple(dataclasses.replace(n, fields=nested) for n in notes)
            cache.put_bytes(key, pickle.dumps(dataclasses.replace(entry, notes=wrong)))
            rewritten += 1
    assert rewritten >= 1
    assert fresh_build(root) == clean
