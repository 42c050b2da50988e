"""Shared fixtures: where the real course corpus lies, and a CLI runner."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

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


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, input: str | None = None
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
        timeout=600,
    )


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
