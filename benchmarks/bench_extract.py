"""Extraction throughput on synthetic courses of 10, 100 and 1000 lessons (a figure, not a test).

Run: python benchmarks/bench_extract.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from mlops_cards.extract import find_lessons
from synth import write_course


def bench(n: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "course"
        paths = write_course(root, n)
        size = sum(p.stat().st_size for p in paths)
        start = time.perf_counter()
        lessons, errors = find_lessons([str(root)])
        seconds = time.perf_counter() - start
    assert not errors and len(lessons) == n, errors
    items = sum(len(x.questions) + len(x.terms) + len(x.objectives) for x in lessons)
    return (
        f"N={n:5d}  {size / 1e6:7.1f} MB  {seconds:7.2f} s  {n / seconds:8.1f} lessons/s  "
        f"{size / 1e6 / seconds:6.2f} MB/s  ({items} items)"
    )


if __name__ == "__main__":
    for n in (10, 100, 1000):
        print(bench(n), flush=True)
