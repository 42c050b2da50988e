"""Time and peak memory of the PDF checklist per course size.

    python benchmarks/pdf.py                 # N = 10, 100, 300
    python benchmarks/pdf.py --sizes 1000    # minutes before issue 16's change; run it alone

Per N: a synthetic course (`synth.py`) in a temporary folder, then in a fresh process
`mlops-cards checklist course -o bench.pdf` (with `PYTHONPATH=src`, `SOURCE_DATE_EPOCH` set).
Prints the wall time, CPU time (user + sys, workers included), peak RSS (`ru_maxrss` from
`os.wait4`: the largest process), seconds a lesson and the PDF's pages and size.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import measure
from synth import write_course

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 300])
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), SOURCE_DATE_EPOCH="1700000000")
    print("| lessons | wall | cpu | peak RSS | s / lesson | pages | PDF size |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="mlops-cards-pdf-") as folder:
            project = Path(folder)
            write_course(project / "course", n)
            out = project / "bench.pdf"
            command = [sys.executable, "-m", "mlops_cards", "checklist", "course", "-o", str(out)]
            sample = measure([*command, "--title", "Bench"], project, env)
            pages = _pages(out)
            size = out.stat().st_size / 1e6
            print(
                f"| {n} | {sample.wall:.2f} s | {sample.cpu:.2f} s | {sample.rss_mb:.0f} MB "
                f"| {sample.wall / n:.3f} | {pages} | {size:.1f} MB |",
                flush=True,
            )


def _pages(pdf: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(pdf).pages)


if __name__ == "__main__":
    main()
