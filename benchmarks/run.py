"""The benchmark: check and build against two floors, the cache, memory, startup and a peer tool.

Run from the repository root:

    python benchmarks/run.py                      # N = 10, 100, 1000 (about 10-15 minutes)
    python benchmarks/run.py --sizes 10 100 --reps 3

Every measured command runs in a fresh subprocess (interpreter start and imports included), and
its wall time, CPU time (user + sys) and peak memory (`ru_maxrss` from `os.wait4`) are recorded.
Figures are medians over the repetitions; CPU time includes the worker processes, peak memory
is that of the largest process. `check` and `build` use their default, one worker process per
CPU; the `-j 1` rows are the same commands in one process. The course is generated
once per N by `synth.py` into a temporary project (`course/` + `decks/bench.yaml`) and shared by
every measurement.

Floors, per N, on the same files:
  (a) read every lesson (bytes, UTF-8 decode) and parse it with markdown-it-py configured like
      the extractor (`commonmark` + table + front matter, inline rules off); read every sidecar
      and load it with PyYAML's fastest safe loader (`CSafeLoader`, libyaml).
  (b) (a), then genanki writes an .apkg holding as many notes as the build made (one basic
      two-field model, fields taken from the sidecar answers in turn).
  (c) (a), then every Markdown text the build renders into a field (captured once per N from
      an in-process build, `--field-texts`) rendered with `MarkdownIt("commonmark").render`,
      then genanki writes an .apkg with the build's notes: one model per field count, each
      note's fields filled with the rendered texts in order (see docs/benchmarks.md).
The peer, markdown-anki-decks, runs from its own venv `benchmarks/.venv-peer` (created on first
use; never a project dependency) on the same lesson folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEER_VENV = HERE / ".venv-peer"
PEER = PEER_VENV / "bin" / "mdankideck"
# The peer's CLI (typer) breaks with click >= 8.2, hence the pin in its own venv.
PEER_INSTALL = ("markdown-anki-decks==1.1.1", "click<8.2")
CACHE = ".mlops-cards-cache"
EPOCH = "1700000000"  # fixed SOURCE_DATE_EPOCH: every build of the same course is the same


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds
    cpu: float  # user + sys seconds
    rss_mb: float  # peak resident set size


@dataclass
class Row:
    name: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def rss(self) -> float:
        return max(s.rss_mb for s in self.samples)


def measure(command: Sequence[str], cwd: Path, env: dict[str, str]) -> Sample:
    """Run `command` to completion in a fresh process; fail loudly if it fails."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    error = process.stderr.read().decode() if process.stderr else ""
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{error}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def repeat(
    name: str, reps: int, run: Callable[[], Sample], before: Callable[[], None] | None = None
) -> Row:
    row = Row(name)
    for _ in range(reps):
        if before is not None:
            before()
        row.samples.append(run())
    return row


# --- the floors, run as `run.py --floor-a DIR` / `--floor-b DIR NOTES OUT` ---------------------


def floor_a(course: Path) -> list[str]:
    """Floor (a); returns the sidecars' answer texts for floor (b)."""
    import yaml
    from markdown_it import MarkdownIt
    from mdit_py_plugins.front_matter import front_matter_plugin

    parser = MarkdownIt("commonmark").enable("table").use(front_matter_plugin).disable("inline")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    texts: list[str] = []
    for lesson in sorted(course.glob("*.md")):
        parser.parse(lesson.read_bytes().decode("utf-8"))
        data = yaml.load(lesson.with_suffix(".yaml").read_bytes().decode("utf-8"), Loader=loader)
        for section in data.values():
            for entry in section.values():
                texts += [v for v in entry.values() if isinstance(v, str)]
    return texts


def floor_b(course: Path, notes: int, out: Path) -> None:
    import genanki

    texts = floor_a(course)
    model = genanki.Model(
        1607392319,
        "Floor",
        fields=[{"name": "Front"}, {"name": "Back"}],
        templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{Back}}"}],
    )
    deck = genanki.Deck(2059400110, "Floor")
    for i in range(notes):
        front, back = texts[(2 * i) % len(texts)], texts[(2 * i + 1) % len(texts)]
        deck.add_note(genanki.Note(model=model, fields=[front, back], guid=f"floor{i}"))
    genanki.Package(deck).write_to_file(str(out))


def field_texts(project: Path, out: Path) -> None:
    """Build `project` in this process (-j 1, no cache) with the card renderer watched; write to
    `out` (JSON) every Markdown text it rendered into a field, in order, and the field count of
    every note of the deck (from its lock, in its order). Floor (c)'s input."""
    from mlops_cards import pipeline, render
    from mlops_cards.lockfile import read_lock
    from mlops_cards.manifest import load_manifest
    from mlops_cards.resolve import DeckTarget

    texts: list[str] = []

    def watched(method):  # type: ignore[no-untyped-def]
        def call(self, markdown, **where):  # type: ignore[no-untyped-def]
            if markdown.strip():  # what the renderer renders (blank fields stay empty)
                texts.append(markdown)
            return method(self, markdown, **where)

        return call

    render.CardRenderer.html = watched(render.CardRenderer.html)  # type: ignore[method-assign]
    render.CardRenderer.inline_html = watched(  # type: ignore[method-assign]
        render.CardRenderer.inline_html
    )
    os.environ["SOURCE_DATE_EPOCH"] = EPOCH
    manifest = load_manifest(project / "decks" / "bench.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        lock = Path(tmp) / "bench.lock.json"
        target = DeckTarget(manifest, Path(tmp) / "bench.apkg", lock)
        pipeline.build([target], Path(tmp))
        notes = read_lock(lock).notes.values()
        shape = {"texts": texts, "note_fields": [len(n.fields) for n in notes]}
        shape["published_fields"] = sum(1 for n in notes for f in n.fields if f)
    out.write_text(json.dumps(shape), encoding="utf-8")


def floor_c(course: Path, shape_file: Path, out: Path) -> None:
    import genanki
    from markdown_it import MarkdownIt

    floor_a(course)
    shape = json.loads(shape_file.read_text(encoding="utf-8"))
    md = MarkdownIt("commonmark")
    html = [md.render(text) for text in shape["texts"]]
    models: dict[int, genanki.Model] = {}
    deck = genanki.Deck(2059400110, "Floor")
    rendered = iter(html)
    for i, count in enumerate(shape["note_fields"]):
        if count not in models:
            models[count] = genanki.Model(
                1607392319 + count,
                f"Floor {count}",
                fields=[{"name": f"F{k}"} for k in range(count)],
                templates=[{"name": "Card 1", "qfmt": "{{F0}}", "afmt": "{{F1}}"}],
            )
        fields = [next(rendered, "") for _ in range(count)]
        deck.add_note(genanki.Note(model=models[count], fields=fields, guid=f"floor{i}"))
    genanki.Package(deck).write_to_file(str(out))


def extraction(course: Path) -> None:
    from mlops_cards.extract import find_lessons

    lessons, errors = find_lessons([str(course)])
    assert lessons and not errors, errors


def matching_cost(n: int) -> None:
    """The matching stage's share of a build (in one process, -j 1, no cache), at N lessons:
    a first build (empty lock), a rebuild (lock of the same sources) and a rebuild after every
    lesson file was renamed (new lesson ids) and every question reworded (one word)."""
    import synth
    from mlops_cards import matching, pipeline
    from mlops_cards.manifest import load_manifest
    from mlops_cards.resolve import DeckTarget

    spent: list[float] = []
    match = matching.match_notes

    def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return match(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - start)

    matching.match_notes = timed  # type: ignore[assignment]
    os.environ["SOURCE_DATE_EPOCH"] = EPOCH
    with tempfile.TemporaryDirectory(prefix="mlops-cards-bench-") as tmp:
        project = Path(tmp)
        lessons = synth.write_course(project / "course", n)
        manifest_path = synth.write_manifest(project, "course", ("md",))

        def build(label: str) -> None:
            manifest = load_manifest(manifest_path)
            target = DeckTarget(manifest, project / "dist" / "bench.apkg", manifest.lock_path)
            start = time.perf_counter()
            (deck,) = pipeline.build([target], project / "dist").decks
            total = time.perf_counter() - start
            notes = sum(count for _, count in deck.notes_per_kind)
            print(
                f"N={n} {label}: build {total:.2f} s, matching {spent[-1]:.3f} s "
                f"({100 * spent[-1] / total:.1f} %); {notes} notes, {len(deck.new)} new, "
                f"{len(deck.retired)} retired, {len(deck.identity)} identity events",
                flush=True,
            )

        build("first build (no lock)")
        build("rebuild (lock in place)")
        for lesson in lessons:  # rename every lesson and its YAML, reword every question
            text = lesson.read_text(encoding="utf-8").replace(
                "Why does the", "Why exactly does the"
            )
            renamed = lesson.with_name(lesson.stem + " (revised).md")
            renamed.write_text(text, encoding="utf-8")
            lesson.with_suffix(".yaml").rename(renamed.with_suffix(".yaml"))
            lesson.unlink()
        build("every lesson renamed, every question reworded")


# --- the peer --------------------------------------------------------------------------------


def ensure_peer() -> bool:
    """Create the peer's own venv on first use; False (and a note) when that fails."""
    if PEER.exists():
        return True
    print(f"creating {PEER_VENV} for markdown-anki-decks ...", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        pip = [str(PEER_VENV / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, *PEER_INSTALL], check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"peer not available: {exc}")
        return False
    return PEER.exists()


# --- one size --------------------------------------------------------------------------------


def tool(*args: str) -> list[str]:
    return [sys.executable, "-m", "mlops_cards", *args]


def me(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), *args]


def bench_size(
    n: int, reps: int, work: Path, env: dict[str, str], peer: bool, pdf: bool = True
) -> dict[str, Row]:
    import synth

    project = work / f"n{n}"
    lessons = synth.write_course(project / "course", n)
    synth.write_manifest(project, "course", ("html", "md"))
    size = sum(p.stat().st_size for p in lessons) / 1e6
    print(f"N={n}: {size:.1f} MB of lessons in {project}", flush=True)
    dist = project / "dist"
    lock = project / "decks" / "bench.lock.json"

    def cold() -> None:
        shutil.rmtree(project / CACHE, ignore_errors=True)

    def fresh_build() -> None:
        cold()
        shutil.rmtree(dist, ignore_errors=True)
        lock.unlink(missing_ok=True)

    def run(command: list[str]) -> Callable[[], Sample]:
        return lambda: measure(command, project, env)

    rows: dict[str, Row] = {}
    rows["extract"] = repeat("extract", reps, run(me("--extract", "course")))
    rows["check"] = repeat("check", reps, run(tool("check")), before=cold)
    rows["check_j1"] = repeat("check -j 1", reps, run(tool("check", "-j", "1")), before=cold)
    rows["check2"] = repeat("check again", reps, run(tool("check")))
    one = run(tool("build", "-j", "1", "-o", "dist"))
    rows["build_j1"] = repeat("build -j 1", reps, one, before=fresh_build)
    rows["build"] = repeat("build", reps, run(tool("build", "-o", "dist")), before=fresh_build)
    rows["build2"] = repeat("build again", reps, run(tool("build", "-o", "dist")))
    edits = iter(range(reps))

    def edit_one() -> None:  # a new sentence at the end of the middle lesson, each run
        with lessons[len(lessons) // 2].open("a", encoding="utf-8") as f:
            f.write(f"\nOne more edited sentence, number {next(edits)}.\n")

    rows["build_edit"] = repeat(
        "build, one lesson edited", reps, run(tool("build", "-o", "dist")), before=edit_one
    )
    answers = iter(range(reps))

    def edit_answer() -> None:  # one card's answer in the middle lesson's YAML, each run
        sidecar = lessons[len(lessons) // 2].with_suffix(".yaml")
        text = sidecar.read_text(encoding="utf-8")
        mark = "    answer: |-\n      "
        assert mark in text, sidecar
        edited = text.replace(mark, f"{mark}Edited answer {next(answers)}. ", 1)
        sidecar.write_text(edited, encoding="utf-8")

    rows["build_card"] = repeat(
        "build, one answer edited", reps, run(tool("build", "-o", "dist")), before=edit_answer
    )
    rows["nocache"] = repeat("build --no-cache", 1, run(tool("build", "--no-cache", "-o", "dist")))
    report = json.loads((dist / "build-report.json").read_text())
    notes = sum(report["decks"][0]["notes"].values())
    rows["floor_a"] = repeat("floor (a)", reps, run(me("--floor-a", "course")))
    floor_out = str(project / "floor.apkg")
    rows["floor_b"] = repeat(
        "floor (b)", reps, run(me("--floor-b", "course", str(notes), floor_out))
    )
    shape_file = project / "fields.json"
    subprocess.run(me("--field-texts", str(project), str(shape_file)), check=True, env=env)
    shape = json.loads(shape_file.read_text(encoding="utf-8"))
    rows["floor_c"] = repeat(
        "floor (c)",
        reps,
        run(me("--floor-c", "course", str(shape_file), str(project / "floor-c.apkg"))),
    )
    if pdf:
        command = ["checklist", "course", "-o", "dist/bench-checklist.pdf", "--title", "Bench"]
        rows["pdf"] = repeat("checklist PDF", 1, run(tool(*command)))
    if peer:
        out = project / "peer"

        def clean_peer() -> None:
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()

        peer_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
        rows["peer"] = repeat(
            "markdown-anki-decks",
            max(1, reps // 2),
            lambda: measure([str(PEER), "course", "peer"], project, peer_env),
            before=clean_peer,
        )
    rows["_notes"] = Row(str(notes))
    # The fields the build rendered (non-blank Markdown through the card renderer) and those
    # floor (c) rendered: the same texts, so the same count; and the non-empty published fields.
    rows["_fields"] = Row(f"{len(shape['texts'])} / {len(shape['texts'])}")
    rows["_published"] = Row(str(shape["published_fields"]))
    shutil.rmtree(project)
    return rows


# --- report ----------------------------------------------------------------------------------


def version_time(env: dict[str, str], runs: int = 20) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        return statistics.median(
            measure(tool("--version"), Path(tmp), env).wall for _ in range(runs)
        )


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, {platform.system()}"
    )


def table(results: dict[int, dict[str, Row]]) -> str:
    sizes = sorted(results)
    lines = ["| step | " + " | ".join(f"N={n}" for n in sizes) + " |"]
    lines.append("|---|" + "---:|" * len(sizes))

    def cells(fmt: Callable[[dict[str, Row]], str]) -> str:
        return " | ".join(fmt(results[n]) for n in sizes)

    names = [k for k in results[sizes[0]] if not k.startswith("_")]
    for key in names:
        label = results[sizes[0]][key].name
        lines.append(
            f"| {label} | "
            + cells(lambda r, k=key: f"{r[k].wall:.2f} s ({r[k].cpu:.2f} cpu, {r[k].rss:.0f} MB)")
            + " |"
        )
    lines.append("| notes built | " + cells(lambda r: r["_notes"].name) + " |")
    lines.append(
        "| fields rendered: build / floor (c) | " + cells(lambda r: r["_fields"].name) + " |"
    )
    lines.append("| non-empty fields published | " + cells(lambda r: r["_published"].name) + " |")
    ratios = [
        ("build / floor (c)  [target <= 1.25]", "build", "floor_c"),
        ("build -j 1 / floor (c)", "build_j1", "floor_c"),
        ("build again / build  [target <= 0.10]", "build2", "build"),
        ("build, one lesson edited / build  [target <= 0.15]", "build_edit", "build"),
        ("build, one answer edited / build", "build_card", "build"),
        ("build / floor (b)", "build", "floor_b"),
        ("build -j 1 / floor (b)", "build_j1", "floor_b"),
        ("check / floor (a)  [target <= 1.5]", "check", "floor_a"),
        ("check -j 1 / floor (a)", "check_j1", "floor_a"),
        ("check again / check  [target <= 0.25]", "check2", "check"),
        ("build / markdown-anki-decks  [target <= 0.33]", "build", "peer"),
    ]
    for label, top, bottom in ratios:
        if all(top in results[n] and bottom in results[n] for n in sizes):
            lines.append(
                f"| {label} | "
                + cells(lambda r, t=top, b=bottom: f"{r[t].wall / r[b].wall:.2f}")
                + " |"
            )
    if 100 in results and 1000 in results:
        for key in ("check", "build", "floor_a", "floor_b", "floor_c"):
            scale = results[1000][key].wall / results[100][key].wall
            lines.append(
                f"| {results[100][key].name}: time N=1000 / N=100 [target <= 10.5] | {scale:.1f} |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--reps", type=int, default=0, help="default: 5, and 3 at N >= 1000")
    parser.add_argument("--no-peer", action="store_true", help="skip markdown-anki-decks")
    parser.add_argument("--no-pdf", action="store_true", help="skip the checklist PDF row")
    parser.add_argument(
        "--matching", type=int, metavar="N", help="only the matching stage's cost at N lessons"
    )
    parser.add_argument("--extract", help=argparse.SUPPRESS)
    parser.add_argument("--floor-a", help=argparse.SUPPRESS)
    parser.add_argument("--floor-b", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--floor-c", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--field-texts", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.extract:
        return extraction(Path(args.extract))
    if args.matching:
        sys.path.insert(0, str(HERE))
        return matching_cost(args.matching)
    if args.floor_a:
        floor_a(Path(args.floor_a))
        return None
    if args.floor_b:
        course, notes, out = args.floor_b
        return floor_b(Path(course), int(notes), Path(out))
    if args.floor_c:
        course, shape_file, out = args.floor_c
        return floor_c(Path(course), Path(shape_file), Path(out))
    if args.field_texts:
        project, out = args.field_texts
        return field_texts(Path(project), Path(out))

    sys.path.insert(0, str(HERE))
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), SOURCE_DATE_EPOCH=EPOCH)
    # An installed tool has its bytecode compiled; so should the source tree measured here.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "src")], check=True, env=env
    )
    peer = not args.no_peer and ensure_peer()
    started = time.perf_counter()
    results: dict[int, dict[str, Row]] = {}
    with tempfile.TemporaryDirectory(prefix="mlops-cards-bench-") as tmp:
        for n in args.sizes:
            reps = args.reps or (3 if n >= 1000 else 5)
            results[n] = bench_size(n, reps, Path(tmp), env, peer, not args.no_pdf)
    print()
    print(f"Machine: {machine()}")
    print(f"mlops-cards --version: {version_time(env):.3f} s (median of 20)  [target <= 0.25]")
    print("Cells: median wall time (median CPU time user+sys, peak RSS over the runs)")
    print()
    print(table(results))
    print(f"\n(total benchmark time {time.perf_counter() - started:.0f} s)")
    return None


if __name__ == "__main__":
    main(sys.argv[1:])
