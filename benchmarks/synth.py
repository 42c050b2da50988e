"""A synthetic course in the lesson dialect, for benchmarks.

`write_course(root, n, seed)` writes n lessons of corpus-like size (5-40 KB) with front matter,
about 4 objectives, 6 bells (terms) and 5 pencil questions, plus prose, tasks and code blocks;
each lesson has a `lesson.yaml` sidecar that answers every question and objective and defines
every term, in Markdown with inline code, fenced code, math and a relative image (one small
real PNG per course, `images/diagram.png`). `write_manifest` adds `decks/bench.yaml`.
Same seed, same bytes.
"""

from __future__ import annotations

import random
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

WORDS = [
    "model",
    "data",
    "pipeline",
    "feature",
    "training",
    "serving",
    "drift",
    "metric",
    "registry",
    "artifact",
    "container",
    "endpoint",
    "batch",
    "stream",
    "label",
    "dataset",
    "schema",
    "version",
    "deploy",
    "monitor",
    "alert",
    "cluster",
    "job",
    "experiment",
    "parameter",
    "run",
    "environment",
    "package",
    "module",
    "test",
    "coverage",
    "lint",
    "format",
    "review",
    "commit",
    "branch",
    "merge",
    "release",
    "tag",
    "cache",
    "queue",
    "worker",
    "latency",
    "throughput",
    "budget",
]
VERBS = [
    "builds",
    "checks",
    "tracks",
    "stores",
    "serves",
    "validates",
    "records",
    "schedules",
    "compares",
    "deploys",
]
TOPICS = [
    "Feature Stores",
    "Model Registries",
    "Data Validation",
    "Batch Scoring",
    "Online Serving",
    "Drift Checks",
    "Experiment Tracking",
    "Packaging",
    "Continuous Delivery",
    "Observability",
    "Testing Pipelines",
    "Containers",
]
OBJECTIVE_INTROS = (
    "## Learning Objectives\n\n",
    "## 0) Learning Objectives:\n\n",
    "__After this chapter, you will be able to:__\n\n",
    "After completing this module, you will be able to:\n\n",
)
LABELS = ("Q{n}. ", "Q{n}: ", "__{n}a__ ", "**Exercise** {n}b: ", "{n}.1a ")


IMAGE = "images/diagram.png"  # relative to the lessons, which sit in the course root


def tiny_png(width: int = 8, height: int = 8) -> bytes:
    """A valid RGB PNG (a diagonal gradient), built by hand so no imaging library is needed."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 32 % 256, y * 32 % 256, 128)) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


@dataclass
class _Lesson:
    """One lesson being written: its Markdown and what its sidecar will answer."""

    rng: random.Random
    parts: list[str] = field(default_factory=list)
    questions: dict[str, dict[str, str]] = field(default_factory=dict)
    objectives: dict[int, dict[str, str]] = field(default_factory=dict)
    terms: dict[str, dict[str, str]] = field(default_factory=dict)

    def words(self, count: int) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(count))

    def sentence(self) -> str:
        text = f"The {self.words(2)} {self.rng.choice(VERBS)} {self.words(self.rng.randint(4, 12))}"
        return text[0].upper() + text[1:] + "."

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(3, 8)))

    def size(self) -> int:
        return sum(len(part) for part in self.parts)

    def answer(self, image: bool = False) -> str:
        """An answer as authors write them: Markdown with emphasis, code, math, maybe a picture."""
        rng = self.rng
        parts = [
            f"The **{self.words(2)}** {rng.choice(VERBS)} `{rng.choice(WORDS)}()` "
            f"so that $x_{{{rng.randint(1, 9)}}}^2 + y = {rng.randint(2, 99)}$. {self.sentence()}"
        ]
        if rng.random() < 0.5:
            lines = [f"{w} = run('{self.words(2)}')" for w in self.words(3).split()]
            parts.append("```python\n" + "\n".join(lines) + "\n```")
        if rng.random() < 0.3:
            parts.append(f"- {self.words(3)}\n- {self.words(4)}\n- :+1: {self.words(2)}")
        if image:
            parts.append(f"![a {self.words(2)} diagram]({IMAGE})")
        parts.append(self.paragraph())
        return "\n\n".join(parts)


def _objectives(lesson: _Lesson) -> None:
    lesson.parts.append(lesson.rng.choice(OBJECTIVE_INTROS))
    for n in range(1, lesson.rng.randint(3, 5) + 1):
        text = f"Explain how the {lesson.words(3)} {lesson.rng.choice(VERBS)} {lesson.words(2)}"
        lesson.parts.append(f"- [ ] {text}\n")
        lesson.objectives[n] = {"objective": text, "answer": lesson.answer(image=n == 1)}
    lesson.parts.append("\n")


def _term(lesson: _Lesson, counter: list[int]) -> None:
    rng = lesson.rng
    term = f"{lesson.words(2)} {counter[0]}"
    definition = f"a {lesson.words(4)} that {rng.choice(VERBS)} {lesson.words(3)}."
    lesson.parts.append(f":bell: **{term}**: {definition}\n\n")
    lesson.terms[term] = {"definition": f"A `{rng.choice(WORDS)}` that {lesson.answer()}"}
    counter[0] += 1


def _question(lesson: _Lesson, counter: list[int]) -> None:
    rng = lesson.rng
    counter[1] += 1
    n = counter[1]
    template = rng.choice(LABELS)
    key = template.strip().rstrip(".:").replace("{n}", str(n)).strip("_").split()[-1]
    text = f"Why does the {lesson.words(3)} {rng.choice(VERBS)} {lesson.words(3)}?"
    lesson.parts.append(f":pencil: {template.format(n=n)}{text} <br>\n\n")
    lesson.questions[key] = {"question": text, "answer": lesson.answer()}


def _section(lesson: _Lesson, number: int, items: list[str], counter: list[int]) -> None:
    """Prose, maybe code and tasks, and the bells/questions due in this section."""
    rng = lesson.rng
    lesson.parts.append(f"## {number}. {lesson.words(3).title()} :rocket:\n\n")
    for _ in range(rng.randint(2, 5)):
        lesson.parts.append(lesson.paragraph() + '{:target="_blank"}\n\n')
    if rng.random() < 0.5:
        lesson.parts.append("```python\n# a comment, not a heading\n")
        lesson.parts += [f"{w} = run('{lesson.words(2)}')\n" for w in lesson.words(6).split()]
        lesson.parts.append("```\n\n")
    if rng.random() < 0.5:
        lesson.parts += [f"- [ ] [{lesson.words(3)}](https://example.org/{number})\n" for _ in "ab"]
        lesson.parts.append("  - [x] a nested step\n\n")
    for item in items:
        if item == "term":
            _term(lesson, counter)
        else:
            _question(lesson, counter)


def _lesson_text(rng: random.Random, sort: int, target_size: int) -> tuple[str, dict[str, object]]:
    lesson = _Lesson(rng)
    lesson.parts.append(f"---\nsort: {sort}\n---\n\n# {rng.choice(TOPICS)} {sort}\n\n")
    lesson.parts.append(lesson.paragraph() + "\n\n")
    _objectives(lesson)
    # About 6 terms and 5 questions, spread over the first sections; prose fills the rest.
    items = ["term"] * rng.randint(5, 7) + ["question"] * rng.randint(4, 6)
    rng.shuffle(items)
    counter = [1, 0]  # next term number, last question number
    section = 1
    while items or lesson.size() < target_size:
        due, items = items[:3], items[3:]
        _section(lesson, section, due, counter)
        section += 1
    sidecar: dict[str, object] = {
        "questions": lesson.questions,
        "objectives": lesson.objectives,
        "terms": lesson.terms,
    }
    return "".join(lesson.parts), sidecar


class _BlockDumper(yaml.SafeDumper):
    """Multi-line answers as `|` blocks, the way authors write them."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str)


def write_course(root: Path, n: int, seed: int = 0) -> list[Path]:
    """Write n lessons (`NNNN. Lesson N.md` + `.yaml` sidecar) and the image they show under
    root; return the lesson paths."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / IMAGE).parent.mkdir(exist_ok=True)
    (root / IMAGE).write_bytes(tiny_png())
    paths = []
    for sort in range(1, n + 1):
        text, sidecar = _lesson_text(rng, sort, rng.randint(5_000, 40_000))
        path = root / f"{sort:04d}. Lesson {sort}.md"
        path.write_text(text, encoding="utf-8")
        path.with_suffix(".yaml").write_text(
            yaml.dump(sidecar, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=100),
            encoding="utf-8",
        )
        paths.append(path)
    return paths


def write_manifest(project: Path, course: str, checklists: tuple[str, ...]) -> Path:
    """`decks/bench.yaml` for the lessons in `project/course`; return its path."""
    manifest = project / "decks" / "bench.yaml"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(
        "name: Bench Course\n"
        "description: A synthetic course for benchmarks.\n"
        f"lessons: [../{course}/*.md]\n"
        "cards: {questions: true, objectives: true, terms: true, reverse: false, cloze: true}\n"
        "output: bench\n"
        f"checklists: [{', '.join(checklists)}]\n",
        encoding="utf-8",
    )
    return manifest
