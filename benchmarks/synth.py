"""A synthetic course in the lesson dialect, for benchmarks (and other helpers' benchmarks).

`write_course(root, n, seed)` writes n lessons of corpus-like size (5-40 KB) with front matter,
objectives, bells, pencil questions, tasks and code blocks, each with a `lesson.yaml` sidecar that
answers its questions and objectives and defines its terms. Same seed, same bytes.
"""

from __future__ import annotations

import random
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


def _objectives(lesson: _Lesson) -> None:
    lesson.parts.append(lesson.rng.choice(OBJECTIVE_INTROS))
    for n in range(1, lesson.rng.randint(3, 6)):
        text = f"Explain how the {lesson.words(3)} {lesson.rng.choice(VERBS)} {lesson.words(2)}"
        lesson.parts.append(f"- [ ] {text}\n")
        lesson.objectives[n] = {"objective": text, "answer": lesson.paragraph()}
    lesson.parts.append("\n")


def _section(lesson: _Lesson, number: int, counter: list[int]) -> None:
    rng = lesson.rng
    lesson.parts.append(f"## {number}. {lesson.words(3).title()} :rocket:\n\n")
    for _ in range(rng.randint(2, 5)):
        lesson.parts.append(lesson.paragraph() + '{:target="_blank"}\n\n')
    if rng.random() < 0.7:
        term = f"{lesson.words(2)} {counter[0]}"
        definition = f"a {lesson.words(4)} that {rng.choice(VERBS)} {lesson.words(3)}."
        lesson.parts.append(f":bell: **{term}**: {definition}\n\n")
        lesson.terms[term] = {"definition": definition}
        counter[0] += 1
    if rng.random() < 0.5:
        lesson.parts.append("```python\n# a comment, not a heading\n")
        lesson.parts += [f"{w} = run('{lesson.words(2)}')\n" for w in lesson.words(6).split()]
        lesson.parts.append("```\n\n")
    if rng.random() < 0.5:
        lesson.parts += [f"- [ ] [{lesson.words(3)}](https://example.org/{number})\n" for _ in "ab"]
        lesson.parts.append("  - [x] a nested step\n\n")
    for _ in range(rng.randint(1, 3)):
        counter[1] += 1
        n = counter[1]
        template = rng.choice(LABELS)
        key = template.strip().rstrip(".:").replace("{n}", str(n)).strip("_").split()[-1]
        text = f"Why does the {lesson.words(3)} {rng.choice(VERBS)} {lesson.words(3)}?"
        lesson.parts.append(f":pencil: {template.format(n=n)}{text} <br>\n\n")
        lesson.questions[key] = {"question": text, "answer": lesson.paragraph()}


def _lesson_text(rng: random.Random, sort: int, target_size: int) -> tuple[str, dict[str, object]]:
    lesson = _Lesson(rng)
    lesson.parts.append(f"---\nsort: {sort}\n---\n\n# {rng.choice(TOPICS)} {sort}\n\n")
    lesson.parts.append(lesson.paragraph() + "\n\n")
    _objectives(lesson)
    counter = [1, 0]  # next term number, last question number
    section = 1
    while sum(len(part) for part in lesson.parts) < target_size:
        _section(lesson, section, counter)
        section += 1
    sidecar: dict[str, object] = {
        "questions": lesson.questions,
        "objectives": lesson.objectives,
        "terms": lesson.terms,
    }
    return "".join(lesson.parts), sidecar


def write_course(root: Path, n: int, seed: int = 0) -> list[Path]:
    """Write n lessons (`NN. Topic.md` + `.yaml` sidecar) under root; return the lesson paths."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for sort in range(1, n + 1):
        text, sidecar = _lesson_text(rng, sort, rng.randint(5_000, 40_000))
        path = root / f"{sort:04d}. Lesson {sort}.md"
        path.write_text(text, encoding="utf-8")
        path.with_suffix(".yaml").write_text(
            yaml.safe_dump(sidecar, sort_keys=False, allow_unicode=True, width=100),
            encoding="utf-8",
        )
        paths.append(path)
    return paths
