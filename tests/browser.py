"""Real headless Chromium for the tests that look at pages (Debian's `chromium` package).

The `chromium` fixture (in conftest.py) finds it or skips the test.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

# Offline and quiet: without the background-networking flags Chromium keeps trying to reach
# hosts this machine cannot see.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def run_chromium(chromium: str, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run Chromium with a fresh profile in `tmp`; fail the test if it fails."""
    command = [chromium, *FLAGS, f"--user-data-dir={tmp / 'chromium-profile'}", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    return result
