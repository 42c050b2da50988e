"""The README's pre-commit snippet works as written, on a course repository of its own.

The snippet's `repo:` is pointed at a local git repository holding this project (the network
reaches only the package index); pre-commit installs the hook from it as it would from GitHub.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from sidecar_fixtures import COMPLETE, LESSON

pytest.importorskip("pre_commit")

# What a checkout of this project needs to install (the wheel's sources).
_PROJECT_FILES = ("pyproject.toml", "README.md", "LICENSE", ".pre-commit-hooks.yaml")
_PROJECT_FOLDERS = ("src", "card_templates")


def git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def readme_snippet() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"```yaml\n(\s*# \.pre-commit-config\.yaml\n.*?)```", readme, re.S)
    assert found, "the README has no .pre-commit-config.yaml snippet"
    lines = found.group(1).splitlines()
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    return "\n".join(line[indent:] for line in lines) + "\n"


def upstream(tmp_path: Path) -> Path:
    """This project as a git repository with a `main` branch, like its home on GitHub."""
    repo = tmp_path / "mlops-cards"
    repo.mkdir()
    for name in _PROJECT_FILES:
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, repo / name)
    for name in _PROJECT_FOLDERS:
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", ".", cwd=repo)
    git("commit", "-q", "-m", "mlops-cards", cwd=repo)
    return repo


def test_readme_snippet_runs_the_check_hook(tmp_path: Path) -> None:
    snippet = readme_snippet()
    assert "rev: main" in snippet
    home = upstream(tmp_path)
    course = tmp_path / "course"
    (course / "content").mkdir(parents=True)
    (course / "content" / "lesson.md").write_text(LESSON, encoding="utf-8")
    (course / "content" / "lesson.yaml").write_text(COMPLETE, encoding="utf-8")
    config = re.sub(r"repo: https://github\.com/\S+", f"repo: {home.as_posix()}", snippet)
    (course / ".pre-commit-config.yaml").write_text(config, encoding="utf-8")
    git("init", "-q", cwd=course)
    git("add", ".", cwd=course)
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRT"))
    }
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"],
            cwd=course,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )

    clean = run()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert re.search(r"mlops-cards check\.+Passed", clean.stdout), clean.stdout
    broken = COMPLETE.replace("  tags: [serving]", '  tags: ["serving]')
    (course / "content" / "lesson.yaml").write_text(broken, encoding="utf-8")
    failed = run()
    assert failed.returncode == 1
    assert re.search(r"mlops-cards check\.+Failed", failed.stdout), failed.stdout
    assert "content/lesson.yaml:3:10: error: invalid YAML" in failed.stdout
