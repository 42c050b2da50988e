"""Hostile and broken input: nothing a lesson or YAML file holds may crash the tool, hang it,
reach outside the course folder or destroy work. Every input is made here, in tmp_path."""

from __future__ import annotations

import errno
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from conftest import BLOCKED_BUILD, ROOT, in_folder, run_cli
from mlops_cards import atomic, limits
from mlops_cards.errors import CardsError
from mlops_cards.extract import extract_file, extract_text
from mlops_cards.pipeline import build
from mlops_cards.render import CardRenderer
from mlops_cards.resolve import DeckTarget, adhoc_manifest
from mlops_cards.sidecar import parse_sidecar

ENV = {"SOURCE_DATE_EPOCH": "1700000000"}
LESSON = """\
# Hostile

:pencil: Q1. What is in the picture?
"""
SIDECAR = "questions:\n  Q1:\n    answer: {answer}\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def course(tmp_path: Path, answer: str = "plain", lesson: str = LESSON) -> Path:
    folder = tmp_path / "course"
    folder.mkdir(exist_ok=True)
    (folder / "hostile.md").write_text(lesson, encoding="utf-8")
    (folder / "hostile.yaml").write_text(SIDECAR.format(answer=answer), encoding="utf-8")
    return folder


def build_in_process(folder: Path, out: Path) -> None:
    apkg = out / "hostile.apkg"
    with in_folder(folder):  # an ad-hoc deck's course is the current folder
        manifest = adhoc_manifest([folder / "hostile.md"], apkg)
        build([DeckTarget(manifest, apkg, out / "hostile.lock.json")], out)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# --- size and shape limits --------------------------------------------------------------------


def test_a_50_mb_lesson_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.md"
    with big.open("w", encoding="utf-8") as handle:
        line = "- [ ] a task that repeats itself over and over again\n"
        handle.write(line * (50 * 1024 * 1024 // len(line) + 1))
    started = time.perf_counter()
    result = run_cli("extract", "big.md", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        "error: big.md: lesson file is 50 MB; the limit is 1 MB (split it into several lessons)\n"
    )
    print(f"50 MB lesson refused in {time.perf_counter() - started:.2f} s (with interpreter start)")


def test_ten_thousand_nested_list_levels(tmp_path: Path) -> None:
    # On one line (`- - - ... x`): markdown-it caps nesting, nothing recurses.
    lesson = extract_text("- " * 10_000 + "[ ] deep\n", "deep.md")
    assert lesson.tasks == ()
    # Indented, 10,000 levels are 100 MB: refused by the size limit; 1,000 levels (1 MB) parse.
    indented = "".join("  " * i + "- [ ] level\n" for i in range(1_000))
    assert len(extract_text(indented, "deep.md").tasks) >= 1
    (tmp_path / "deep.md").write_text("- " * 10_000 + "[ ] deep\n", encoding="utf-8")
    result = run_cli("check", "deep.md", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_a_long_line_is_refused_with_its_line_number(tmp_path: Path) -> None:
    (tmp_path / "long.md").write_text("# Long\n\n:pencil: Q1. " + "a" * 500_000 + "\n")
    result = run_cli("extract", "long.md", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        "error: long.md:3: line 3 is 500,013 characters long; the limit is 100,000 "
        "(break it into shorter lines)\n"
    )


def test_long_lines_of_markdown_openers_are_extracted_and_rendered() -> None:
    # Each of these took seconds to minutes on a 100,000-character line before the fix. This
    # asserts what comes out; time is the benchmarks' business (pytest-timeout catches a hang).
    renderer = CardRenderer(Path.cwd())
    for opener in ("{:", "![", "[", "<a ", "`", "\\(", "\\[", "{#", "<", "<iframe "):
        line = ":bell: " + opener * (90_000 // len(opener))
        lesson = extract_text(line + "\n", "l.md")
        assert len(lesson.terms) == 1
        try:
            renderer.html(line, source=Path("l.md"), line=1)
        except CardsError as exc:  # unclosed raw HTML is refused, not parsed
            assert "never closed by '>'" in str(exc)


def test_twenty_thousand_repeated_labels_get_numbered_keys() -> None:
    lesson = extract_text(":pencil: Q1. again\n\n" * 20_000, "l.md")
    assert [q.key for q in lesson.questions[:3]] == ["Q1", "Q1-2", "Q1-3"]
    assert lesson.questions[-1].key == "Q1-20000"


def test_deeply_nested_raw_html_is_refused(tmp_path: Path) -> None:
    renderer = CardRenderer(tmp_path)
    with pytest.raises(CardsError) as caught:
        renderer.html("<div>" * 50_000 + "x", source=tmp_path / "l.md", line=4)
    assert str(caught.value) == (
        f"{tmp_path / 'l.md'}:4: HTML elements nested more than 200 levels deep "
        "(close the tags you open, e.g. every <div> with </div>)"
    )


# --- YAML -----------------------------------------------------------------------------------

BOMB = "".join(
    [
        "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
        *(f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]\n" for n in range(1, 10)),
    ]
)


def test_billion_laughs_in_a_sidecar(tmp_path: Path) -> None:
    folder = course(tmp_path)
    (folder / "hostile.yaml").write_text(BOMB + "questions: {Q1: {answer: *a9}}\n")
    result = run_cli("check", "course", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (  # no item warnings when the YAML is unread
        "course/hostile.yaml:6:10: error: more than 100,000 values once aliases (*name) are "
        "expanded (write the values out, or use fewer aliases)"
    )


def test_billion_laughs_in_front_matter_is_ignored_with_a_warning() -> None:
    text = "---\n" + BOMB + "title: *a9\n---\n# Real title\n"
    lesson = extract_text(text, "l.md")
    assert lesson.title == "Real title"
    assert [d.format() for d in lesson.diagnostics] == [
        "l.md:7:1: warning: front matter ignored: more than 100,000 values once aliases "
        "(*name) are expanded (write the values out, or use fewer aliases)"
    ]


@pytest.mark.parametrize(
    "nesting", ["[" * 10_000 + "]" * 10_000, "{a: " * 5_000 + "1" + "}" * 5_000]
)
def test_deeply_nested_yaml_is_an_error_not_a_recursion_error(nesting: str) -> None:
    found = parse_sidecar(f"questions: {nesting}\n", "l.yaml").diagnostics
    assert [(d.line, d.message) for d in found] == [
        (1, "lists and mappings are nested more than 50 levels deep")
    ]
    lesson = extract_text(f"---\ntitle: {nesting}\n---\n# T\n", "l.md")
    assert lesson.diagnostics[0].message.startswith("front matter ignored: lists and mappings")


def test_a_huge_sidecar_is_refused(tmp_path: Path) -> None:
    folder = course(tmp_path)
    (folder / "hostile.yaml").write_text("# padding\n" * 300_000)
    result = run_cli("check", "course", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (  # no item warnings when the YAML is unread
        "course/hostile.yaml:1:1: error: YAML file is 2.9 MB; the limit is 256 kB "
        "(shorten the answers, or split the lesson)"
    )


def test_yaml_tags_never_run_code(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    folder = course(tmp_path)
    (folder / "hostile.md").write_text(
        f"---\ntitle: !!python/object/apply:os.system ['touch {marker}']\n---\n# T\n"
    )
    result = run_cli("check", "course", cwd=tmp_path)
    assert "Traceback" not in result.stderr
    assert not marker.exists()


# --- bytes that are not text ----------------------------------------------------------------


def test_nul_bytes_and_invalid_utf8(tmp_path: Path) -> None:
    (tmp_path / "nul.md").write_bytes(b"# T\n\x00\x00\n")
    (tmp_path / "latin.md").write_bytes(b"# Caf\xe9\n")
    result = run_cli("extract", "nul.md", "latin.md", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        "error: nul.md: not a text file (it contains NUL bytes)\n"
        "error: latin.md: not UTF-8 (byte 0xe9 at offset 5); save it as UTF-8\n"
    )


def test_nul_and_control_characters_in_a_sidecar(tmp_path: Path) -> None:
    folder = course(tmp_path)
    (folder / "hostile.yaml").write_bytes(b"questions:\n  Q1:\n    answer: a\x00b\n")
    result = run_cli("check", "course", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (  # no item warnings when the YAML is unread
        "course/hostile.yaml:3:1: error: invalid YAML: the control character U+0000 is not "
        "allowed (delete it; it is often invisible, so retype the line)"
    )


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_device_is_not_read_forever(tmp_path: Path) -> None:
    with pytest.raises(CardsError) as caught:
        extract_file(Path("/dev/zero"))
    assert str(caught.value) == (
        "/dev/zero: not a regular file (a device, pipe or socket), not a lesson file"
    )


# --- images ---------------------------------------------------------------------------------


def build_error(folder: Path, tmp_path: Path) -> str:
    with pytest.raises(CardsError) as caught:
        build_in_process(folder, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    return str(caught.value)


def test_dot_dot_image_outside_the_course(tmp_path: Path) -> None:
    (tmp_path / "secret.png").write_bytes(PNG)
    folder = course(tmp_path, answer="'![x](../secret.png)'")
    assert build_error(folder, tmp_path) == (
        f"{folder / 'hostile.yaml'}:3: image '../secret.png' lies outside the course folder "
        f"{folder} (copy the image into the course and link it from there)"
    )


def test_symlinked_image_pointing_outside(tmp_path: Path) -> None:
    (tmp_path / "secret.png").write_bytes(PNG)
    folder = course(tmp_path, answer="'<img src=\"pic.png\">'")
    (folder / "pic.png").symlink_to(tmp_path / "secret.png")
    assert build_error(folder, tmp_path) == (
        f"{folder / 'hostile.yaml'}:3: image 'pic.png' lies outside the course folder "
        f"{folder} (copy the image into the course and link it from there)"
    )


def test_an_image_that_is_not_an_image(tmp_path: Path) -> None:
    folder = course(tmp_path, answer="'![x](notes.png)'")
    (folder / "notes.png").write_text("#!/bin/sh\necho not a picture\n")
    assert build_error(folder, tmp_path) == (
        f"{folder / 'hostile.yaml'}:3: image 'notes.png' is not an image (not PNG, JPEG, GIF or "
        "WebP by its content); link the picture itself"
    )


def test_svg_is_refused(tmp_path: Path) -> None:
    folder = course(tmp_path, answer="'![x](draw.svg)'")
    (folder / "draw.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"></svg>')
    assert build_error(folder, tmp_path) == (
        f"{folder / 'hostile.yaml'}:3: image 'draw.svg' is an SVG; SVG images are not bundled "
        "because they can carry scripts (export it as PNG)"
    )


def test_an_image_named_as_another_format(tmp_path: Path) -> None:
    folder = course(tmp_path, answer="'![x](page.html)'")
    (folder / "page.html").write_bytes(PNG)
    assert build_error(folder, tmp_path) == (
        f"{folder / 'hostile.yaml'}:3: image 'page.html' holds a PNG image but its name ends in "
        "'.html' (rename it to end in .png)"
    )


def test_an_image_over_the_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_IMAGE_BYTES", 1000)
    folder = course(tmp_path, answer="'![x](big.png)'")
    (folder / "big.png").write_bytes(PNG + b"\x00" * 2000)
    assert build_error(folder, tmp_path) == (
        f"{folder / 'hostile.yaml'}:3: image 'big.png': image is 2 kB; the limit is 1000 bytes "
        "(shrink or compress it, or link it from the web)"
    )


# --- HTML that must not reach a card --------------------------------------------------------

HOSTILE_HTML = (
    '<script>alert(1)</script><img src="x.png" onerror="alert(2)">'
    '<a href="javascript:alert(3)">click</a><a href="vbscript:x">v</a>'
    '<a href="data:text/html,<script>alert(4)</script>">d</a>'
    '<iframe src="javascript:alert(5)"></iframe><p onclick="alert(6)">text</p>'
    "<style>body{display:none}</style><object data=x></object>"
)


def test_scripts_handlers_and_unsafe_urls_are_stripped_from_the_deck(tmp_path: Path) -> None:
    folder = course(tmp_path, answer=f"'{HOSTILE_HTML}'")
    (folder / "x.png").write_bytes(PNG)
    out = tmp_path / "out"
    build_in_process(folder, out)
    with zipfile.ZipFile(out / "hostile.apkg") as archive:
        (tmp_path / "collection").write_bytes(archive.read("collection.anki2"))
    with sqlite3.connect(tmp_path / "collection") as db:
        fields = " ".join(row[0] for row in db.execute("select flds from notes"))
    assert "text" in fields and "click" in fields
    for bad in ("<script", "alert(", "onerror", "onclick", "javascript:", "vbscript:", "data:"):
        assert bad not in fields.lower(), bad
    assert "<style" not in fields and "<iframe" not in fields and "<object" not in fields


# --- the lock -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "{not json",
            "lock file is not valid JSON (line 1: Expecting property name enclosed in double "
            "quotes) (restore it from version control, or delete it to start a new lock: every "
            "note then counts as new)",
        ),
        (
            "[" * 100_000 + "]" * 100_000,
            "lock file is not valid JSON (nested too deeply) (restore it from version control, "
            "or delete it to start a new lock: every note then counts as new)",
        ),
        (
            '{"format": 99, "notes": {}, "notetypes": {}}',
            "lock file format 99 is newer than this mlops-cards understands (2); "
            "upgrade mlops-cards",
        ),
    ],
    ids=["corrupt", "deep", "future"],
)
def test_a_bad_lock_stops_the_build_and_is_left_alone(
    tmp_path: Path, content: str, message: str
) -> None:
    course(tmp_path)
    lock = tmp_path / "h.lock.json"
    lock.write_text(content)
    result = run_cli("build", "course/hostile.md", "-o", "h.apkg", cwd=tmp_path, env=ENV)
    assert result.returncode == 1
    assert result.stderr == f"error: h.lock.json: {message}\n"
    assert lock.read_text() == content
    assert not (tmp_path / "h.apkg").exists()


# --- writing the outputs --------------------------------------------------------------------


def test_output_folder_under_a_file(tmp_path: Path) -> None:
    # Tests run as root, where chmod does not stop writes: a file where a folder must be does.
    course(tmp_path)
    (tmp_path / "blocker").write_text("a file, not a folder")
    args = ("build", "course/hostile.md", "-o", "blocker/h.apkg", "--lock", "h.lock.json")
    result = run_cli(*args, cwd=tmp_path, env=ENV)
    assert result.returncode == 1
    assert result.stderr == "error: blocker: cannot create the output folder (File exists)\n"


def test_read_only_output_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # In-process: creating the temp file fails as it would in a read-only folder.
    folder = course(tmp_path)
    out = tmp_path / "out"
    out.mkdir()

    def refuse(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr("mlops_cards.atomic.tempfile.mkstemp", refuse)
    with pytest.raises(CardsError) as caught:
        build_in_process(folder, out)
    assert str(caught.value) == (
        f"{out / 'hostile.apkg'}: cannot write (Permission denied); "
        "the previous outputs are unchanged"
    )
    assert list(out.iterdir()) == []


def test_disk_full_keeps_every_previous_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = course(tmp_path, answer="first")
    out = tmp_path / "out"
    build_in_process(folder, out)
    before = snapshot(out)
    course(tmp_path, answer="second")  # the deck and its lock would both change
    calls = []
    real_fsync = os.fsync

    def full_disk(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:  # the .apkg is staged; the lock hits a full disk
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr("mlops_cards.atomic.os.fsync", full_disk)
    with pytest.raises(CardsError) as caught:
        build_in_process(folder, out)
    assert str(caught.value) == (
        f"{out / 'hostile.lock.json'}: cannot write (No space left on device); "
        "the previous outputs are unchanged"
    )
    assert snapshot(out) == before  # byte-identical, and no temp file left


def test_ctrl_c_mid_build_keeps_the_previous_outputs(tmp_path: Path) -> None:
    folder = course(tmp_path)
    first = run_cli("build", "course/hostile.md", "-o", "out/h.apkg", cwd=tmp_path, env=ENV)
    assert first.returncode == 0, first.stderr
    before = snapshot(tmp_path / "out")
    # A build stopped mid-extraction until the interrupt comes (conftest.BLOCKED_BUILD).
    (folder / "big.md").write_text("# Big\n\n:pencil: Q1. A question?\n")
    env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT / "src")}
    process = subprocess.Popen(
        [sys.executable, "-c", BLOCKED_BUILD, "build", "-j", "1", "course/hostile.md",
         "course/big.md", "-o", "out/h.apkg"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    assert process.stdout.readline() == "extracting\n"  # the build is under way
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    assert stderr == "Interrupted; outputs left as they were.\n"
    assert stdout == ""
    assert snapshot(tmp_path / "out") == before


def test_write_files_leaves_no_temp_file_on_an_interrupt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = tmp_path / "a.txt"
    old.write_text("old")

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("mlops_cards.atomic.os.fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic.write_files([(old, "new"), (tmp_path / "b.txt", "new")])
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    assert old.read_text() == "old"
