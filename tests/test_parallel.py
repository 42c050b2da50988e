"""Lessons spread over worker processes (`--jobs`) give exactly what one process gives: the same
bytes, the same diagnostics, the same first error, and nothing left running after Ctrl-C."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import BLOCKED_BUILD, ROOT, run_cli
from mlops_cards.parallel import MIN_ITEMS, precompute

sys.path.insert(0, str(ROOT / "benchmarks"))
import synth  # the benchmark's course generator: lessons with code, math, an image

ENV = {"SOURCE_DATE_EPOCH": "1700000000"}
pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="workers are forked on Linux only"
)


def course(root: Path, lessons: int = MIN_ITEMS) -> Path:
    """A course just big enough for workers (fewer lessons are done in the main process)."""
    synth.write_course(root / "course", lessons)
    synth.write_manifest(root, "course", ("html", "md"))
    return root


def outputs(root: Path) -> dict[str, str]:
    files = [*sorted((root / "dist").iterdir()), root / "decks" / "bench.lock.json"]
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in files}


def build(root: Path, *flags: str) -> dict[str, str]:
    result = run_cli("build", "-o", "dist", *flags, cwd=root, env=ENV)
    assert result.returncode == 0, result.stderr
    return outputs(root)


def test_precompute_keeps_order_and_leaves_failures_to_the_caller() -> None:
    def step(n: int) -> int:
        if n == 3:
            raise ValueError("done again by the caller")
        return n * n

    items = list(range(MIN_ITEMS))
    expected = [None if n == 3 else n * n for n in items]
    assert precompute(step, items, jobs=2) == expected
    # One job, or too few items to be worth a fork: nothing precomputed.
    assert precompute(step, items, jobs=1) == [None] * MIN_ITEMS
    assert precompute(step, items[:-1], jobs=2) == [None] * (MIN_ITEMS - 1)


def test_a_worker_killed_leaves_the_work_to_the_main_process() -> None:
    main = os.getpid()

    def step(n: int) -> int:
        if n == 5 and os.getpid() != main:
            os.kill(os.getpid(), signal.SIGKILL)  # as the kernel does when memory runs out
        return n

    assert precompute(step, list(range(MIN_ITEMS)), jobs=2) == [None] * MIN_ITEMS


def test_a_build_with_workers_is_the_same_bytes(tmp_path: Path) -> None:
    one = course(tmp_path / "one", MIN_ITEMS + 4)
    two = course(tmp_path / "two", MIN_ITEMS + 4)
    first = build(one, "--no-cache", "-j", "1")
    assert build(two, "-j", "2") == first  # and fills the cache
    # Lessons edited after a cached build: made by workers, the other four from the cache.
    for root in (one, two):
        for n in range(1, MIN_ITEMS + 1):
            lesson = root / "course" / f"{n:04d}. Lesson {n}.md"
            lesson.write_text(lesson.read_text() + "\n:bell: **Late term**: added later.\n")
    second = build(one, "--no-cache", "-j", "1")
    assert second["bench.apkg"] != first["bench.apkg"]
    assert build(two, "-j", "2") == second


def test_check_with_workers_reports_the_same(tmp_path: Path) -> None:
    root = course(tmp_path)
    folder = root / "course"
    (folder / "0002. Lesson 2.md").write_bytes(b"# Latin-1 \xe9t\xe9\n")
    sidecar = folder / "0004. Lesson 4.yaml"
    sidecar.write_text(sidecar.read_text() + "questions: [twice\n")
    (folder / "0005. Lesson 5.yaml").unlink()  # nothing answered
    results = [
        run_cli("check", "--no-cache", "--format", fmt, "-j", jobs, cwd=root, env=ENV)
        for fmt in ("text", "json")
        for jobs in ("1", "2")
    ]
    for serial, parallel in (results[0:2], results[2:4]):
        assert serial.returncode == parallel.returncode == 1
        assert (serial.stdout, serial.stderr) == (parallel.stdout, parallel.stderr)
    assert "not UTF-8" in results[0].stdout and "0004. Lesson 4.yaml" in results[0].stdout


def test_the_first_error_is_the_same_with_workers(tmp_path: Path) -> None:
    root = course(tmp_path)
    (root / "course" / synth.IMAGE).unlink()  # every lesson's first objective shows it
    serial = run_cli("build", "--no-cache", "-j", "1", "-o", "dist", cwd=root, env=ENV)
    parallel = run_cli("build", "--no-cache", "-j", "2", "-o", "dist", cwd=root, env=ENV)
    assert serial.returncode == parallel.returncode == 1
    assert serial.stderr == parallel.stderr
    assert "0001. Lesson 1.yaml" in serial.stderr and "not found" in serial.stderr
    assert not (root / "dist").exists()


def processes_in(folder: Path) -> list[int]:
    """Processes whose working directory is `folder` (a build and its workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(os.readlink(entry / "cwd")) == folder:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_ctrl_c_stops_the_workers_too(tmp_path: Path) -> None:
    root = course(tmp_path, lessons=MIN_ITEMS - 6)
    # Lessons whose extraction waits for the interrupt (conftest.BLOCKED_BUILD), in workers.
    for n in range(6):
        (root / "course" / f"big{n}.md").write_text(f"# Big {n}\n\n- [ ] a task\n")
    env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT / "src")}
    process = subprocess.Popen(
        [sys.executable, "-c", BLOCKED_BUILD, "build", "--no-cache", "-j", "2", "-o", "dist"],
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its own process group, as a command started in a terminal
    )  # fmt: skip
    assert process.stdout is not None
    assert process.stdout.readline() == "extracting\n"  # a worker is at a big lesson
    assert len(processes_in(root)) >= 3, "the workers never started"
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: the whole group, workers included
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr == "Interrupted; outputs left as they were.\n"
    deadline = time.monotonic() + 120  # a guard only: they are gone at once
    while processes_in(root) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_in(root) == []
    assert not (root / "dist").exists()
