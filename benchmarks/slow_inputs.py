"""Inputs within the documented limits that used to be slow: how long `check` and `build` take.

Run from the repository root (a few minutes):

    python benchmarks/slow_inputs.py            # every input
    python benchmarks/slow_inputs.py brackets   # only the inputs whose name contains a word

Each input is one lesson (and its author YAML) in a fresh temporary project, checked and built
with `--no-cache -j 1` in a fresh subprocess; the wall time of each command is printed, and
whether it exited 0 (accepted) or 1 (refused with a message). The target (issue 14): no input
within the limits takes more than 10 s to check or build on the team's machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from mlops_cards.limits import MAX_LESSON_BYTES, MAX_MARKUP_CHARS, MAX_YAML_BYTES  # noqa: E402

MB = 1024 * 1024
LINE = 90_000  # characters a line, under the 100,000 limit


def _lines(unit: str, total: int) -> str:
    """`unit` repeated to `total` characters, in lines of at most LINE characters."""
    per_line = max(1, LINE // len(unit))
    count = total // len(unit)
    lines = []
    while count > 0:
        lines.append(unit * min(per_line, count))
        count -= per_line
    return "\n".join(lines) + "\n"


def _yaml_answer(text: str) -> str:
    body = "".join(f"      {line}\n" for line in text.splitlines())
    return f"questions:\n  Q1:\n    answer: |\n{body}"


LESSON = "# Slow\n\n:pencil: Q1. What?\n"


# At the limits: as large and as full of markup as a file may be and still be accepted.
_YAML = MAX_YAML_BYTES - 4096
_LESSON = MAX_LESSON_BYTES - 4096
_MARKUP = MAX_MARKUP_CHARS - 100


def _padded(unit: str, markup: int, total: int) -> str:
    """`unit` (markup characters only) up to `markup` characters, then plain words to `total`."""
    return _lines(unit, markup) + _lines("word ", max(0, total - markup))


def yaml_image_brackets() -> tuple[str, str]:
    return LESSON, _yaml_answer(_padded("![", _MARKUP, _YAML - 1000))


def yaml_brackets() -> tuple[str, str]:
    return LESSON, _yaml_answer(_padded("[", _MARKUP, _YAML - 1000))


def lesson_question_of_brackets() -> tuple[str, str]:
    return "# Slow\n\n:pencil: Q1. " + _padded("![", _MARKUP, _LESSON), ""


def lesson_bell_of_brackets() -> tuple[str, str]:
    return "# Slow\n\n:bell: **Term**: " + _padded("[", _MARKUP, _LESSON), ""


def lesson_headings() -> tuple[str, str]:
    return LESSON + "## heading\n" * (_LESSON // 11), ""


def lesson_table_rows() -> tuple[str, str]:
    return LESSON + "| a | b |\n|---|---|\n" + "| x | y |\n" * (_LESSON // 10), ""


def lesson_tasks() -> tuple[str, str]:
    # Each checkbox `[ ]` counts as two markup characters.
    return LESSON + "- [ ] a task\n" * min(_LESSON // 13, _MARKUP // 2), ""


def lesson_bells() -> tuple[str, str]:
    bell = ":bell: **Term**: a definition of the term.\n\n"
    count = min(_LESSON // len(bell), _MARKUP // 4)  # `**` twice a bell
    return LESSON + bell * count, ""


def lesson_colons() -> tuple[str, str]:
    return "# Slow\n\n:pencil: Q1. " + _lines(":", _LESSON), ""


def yaml_answer_2mb_of_image_brackets() -> tuple[str, str]:
    return LESSON, _yaml_answer(_lines("![", 2 * MB))  # issue 14: over the limits now


INPUTS: dict[str, Callable[[], tuple[str, str]]] = {
    "yaml answer: ![ at the markup limit": yaml_image_brackets,
    "yaml answer: [ at the markup limit": yaml_brackets,
    "lesson question: ![ at the markup limit": lesson_question_of_brackets,
    "lesson bell: [ at the markup limit": lesson_bell_of_brackets,
    "lesson: headings, 1 MB": lesson_headings,
    "lesson: table rows, 1 MB": lesson_table_rows,
    "lesson: tasks at the markup limit": lesson_tasks,
    "lesson: bells at the markup limit": lesson_bells,
    "lesson question: colons, 1 MB": lesson_colons,
    "yaml answer: ![ 2 MB (refused)": yaml_answer_2mb_of_image_brackets,
}


def run(project: Path, *args: str) -> tuple[float, int, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "SOURCE_DATE_EPOCH": "1700000000"}
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "mlops_cards", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    last = (result.stderr.strip().splitlines() or [""])[-1][:100]
    return time.perf_counter() - start, result.returncode, last


def main() -> None:
    words = sys.argv[1:]
    print(f"{'input':42} {'check':>8} {'build':>8}  exit  first words of an error")
    for name, make in INPUTS.items():
        if words and not any(word in name for word in words):
            continue
        lesson, sidecar = make()
        with tempfile.TemporaryDirectory(prefix="mlops-cards-slow-") as tmp:
            project = Path(tmp)
            (project / "course").mkdir()
            (project / "course" / "slow.md").write_text(lesson, encoding="utf-8")
            if sidecar:
                (project / "course" / "slow.yaml").write_text(sidecar, encoding="utf-8")
            check = run(project, "check", "--no-cache", "-j", "1", "course")
            build = run(project, "build", "--no-cache", "-j", "1", "course/slow.md", "-o", "x.apkg")
            print(
                f"{name:42} {check[0]:7.1f}s {build[0]:7.1f}s  {check[1]}/{build[1]}   "
                f"{build[2] if build[1] else check[2] if check[1] else ''}"
            )


if __name__ == "__main__":
    main()
