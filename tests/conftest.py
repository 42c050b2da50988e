"""Shared fixtures: where the real course corpus lies, and a CLI runner."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from anki.collection import Collection

# Tests (and the CLI they start) never make or use the user's own cache secret.
os.environ.setdefault(
    "MLOPS_CARDS_CACHE_KEY",
    str(Path(tempfile.mkdtemp(prefix="mlops-cards-test-key-")) / "cache.key"),
)

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("MLOPS_CARDS_CORPUS", ROOT.parent / "shared" / "corpus"))
SEED = CORPUS / "seed" / "000_30ce5da4deb3b667.txt"
HISTORY = CORPUS / "history" / "1. Introduction to MLOps.2023-05-05.md"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"course corpus not found at {CORPUS}")
    return CORPUS


# Variables read when a process starts (hash seed, time zone, Python's own): a run that sets one
# needs a process of its own to mean anything.
_START_UP = ("PYTHON", "TZ", "LANG", "LC_")
# Runs that need a real process: the version (from the installed metadata, as a user sees it)
# and worker processes (forked: not from inside pytest).
_PROCESS_ARGS = ("--version", "-j", "--jobs")


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`mlops-cards ARGS` as a user runs it: exit code, stdout and stderr. In this process with
    click's runner (the commands turn every error into output and an exit code inside click), or
    in a real process (`run_process`) when the run needs one: see `_START_UP`, `_PROCESS_ARGS`."""
    env = env or {}
    if any(a in _PROCESS_ARGS for a in args) or any(
        k.startswith(_START_UP) or k == "MLOPS_CARDS_JOBS" for k in env
    ):
        return run_process(*args, cwd=cwd, env=env, input=input)
    from click.testing import CliRunner

    from mlops_cards.cli import cli

    before = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        # One job: workers are forked, and forking pytest is not what a user runs.
        result = CliRunner().invoke(
            cli, list(args), input=input, env={"MLOPS_CARDS_JOBS": "1", **env}
        )
    finally:
        os.chdir(before)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # The installed command would say "internal error": a bug, shown with its traceback.
        raise result.exception
    return subprocess.CompletedProcess(
        ["mlops-cards", *args], result.exit_code, result.stdout, result.stderr
    )


def build_lesson_deck(root: Path, out: str, epoch: str) -> str:
    """`build lesson.md -o OUT --lock deck.lock.json` in `root` at `SOURCE_DATE_EPOCH=epoch`, as a
    course without a manifest releases: it must succeed; its report."""
    result = run_cli(
        "build",
        "lesson.md",
        "-o",
        out,
        "--lock",
        "deck.lock.json",
        cwd=root,
        env={"SOURCE_DATE_EPOCH": epoch},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def run_process(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    input: str | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m mlops_cards` in a subprocess: exit code and output as a user sees them."""
    full_env = {**os.environ, **(env or {})}
    src = str(ROOT / "src")
    full_env["PYTHONPATH"] = src + os.pathsep + full_env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "mlops_cards", *args],
        cwd=cwd,
        env=full_env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def collection(tmp_path: Path) -> Iterator[Collection]:
    """A learner's empty Anki collection (the real engine), closed after the test."""
    anki = pytest.importorskip("anki.collection")
    (tmp_path / "learner").mkdir()
    col = anki.Collection(str(tmp_path / "learner" / "collection.anki2"))
    yield col
    col.close()


@pytest.fixture(scope="module")
def chromium() -> str:
    """Path of headless Chromium (Debian's `chromium`); the test is skipped without it."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("chromium is not installed (Debian: apt-get install chromium)")


# `python -c BLOCKED_BUILD ARGS...`: mlops-cards ARGS, except that extracting a lesson whose path
# holds "big" prints "extracting" and waits forever (in a worker process too: they are forked).
# A test of Ctrl-C waits for that line, not for a time: the build is then surely mid-way.
BLOCKED_BUILD = """\
import time
import mlops_cards.extract as extract
real = extract.extract_text
def blocked(text, shown):
    if "big" in shown:
        print("extracting", flush=True)
        while True:
            time.sleep(1)
    return real(text, shown)
extract.extract_text = blocked
from mlops_cards.cli import main
main()
"""


@contextlib.contextmanager
def in_folder(folder: Path) -> Iterator[None]:
    """Run the block in `folder` (an ad-hoc deck's course is the current folder); Python 3.10
    has no contextlib.chdir."""
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)
