"""Hand-built lessons for the checklist tests, written for the project (not from the corpus)."""

from __future__ import annotations

import html
import re
import unicodedata

from mlops_cards.checklist import inline_html, strip_tags
from mlops_cards.models import (
    Card,
    Lesson,
    LessonContent,
    Objective,
    Question,
    Task,
    Term,
)

# No hyphen or space anywhere: a browser may break it only where the style sheet allows.
LONG_URL = "https://example.org/" + "/".join(f"Segment{n:03d}WithoutAnyBreak" for n in range(16))


def packaging_lesson() -> LessonContent:
    """A small, complete lesson: every part of a sheet, nesting, labels, cards on some items."""
    lesson = Lesson(
        path="lessons/3. Packaging.md",
        id="packaging",
        title="Packaging a Python project",
        sort=3,
        objectives=(
            Objective("1", "Explain what a **wheel** is and when to build one.", 9),
            Objective("2", "Write a `pyproject.toml` for a small library.", 10),
            Objective("3", "Publish a package to a private index.", 11),
        ),
        tasks=(
            Task(
                "Read [the packaging tutorial](https://packaging.example.org/tutorial)",
                15,
                "Reading",
            ),
            Task("Skim the section on entry points", 16, "Reading", depth=1),
            Task("Note the difference between `sdist` and wheel", 17, "Reading", depth=2),
            Task("Watch the talk on versioning <mark>(20 min)</mark>", 18, "Reading"),
            Task("Create a virtual environment", 22, "Hands-on", checked=True),
            Task("Build the wheel with `python -m build`", 23, "Hands-on"),
        ),
        questions=(
            Question("Q1", "Q1", "What goes into a source distribution?", 30),
            Question(
                "Q2",
                "Q2",
                "What does this command print?\n\n```bash\npython -m pip --version\n```",
                31,
            ),
            Question("q3", None, "Why pin build dependencies in *CI* but not in a library?", 35),
        ),
        terms=(
            Term(
                "wheel",
                "wheel",
                "A wheel is a built archive that installs without running code. It ends in `.whl`.",
                40,
                1,
            ),
            Term("bell-2", None, "Tip: keep the changelog close to the code.", 42, 2),
            Term(
                "build backend",
                "build backend",
                "The tool that turns the source tree into archives.",
                44,
                3,
            ),
        ),
    )
    cards = (
        Card("packaging", "objective", "1", lesson.objectives[0].text, "An installable archive."),
        Card("packaging", "question", "Q1", "What goes into a source distribution?", "Sources."),
        Card("packaging", "term", "wheel", "wheel", "A built distribution format.", label="wheel"),
        Card(
            "packaging",
            "term",
            "entry point",
            "entry point",
            "A named hook that a tool looks up at run time. More text.",
            label="entry point",
        ),
    )
    return LessonContent(lesson=lesson, sidecar=None, cards=cards)


def empty_objectives_lesson() -> LessonContent:
    """No objectives, a long task list and very long URLs: the layout stress case."""
    tasks = [
        Task(f"Step {n}: run the exercise number {n} and write down the result", 10 + n, "Drill")
        for n in range(1, 201)
    ]
    tasks.insert(0, Task(f"Open [the long reference]({LONG_URL})", 5, "Links"))
    tasks.insert(1, Task(f"Bare address: {LONG_URL}", 6, "Links", depth=3))
    lesson = Lesson(
        path="lessons/9. Drills.md",
        id="drills",
        title="Drills without objectives",
        sort=9,
        tasks=tuple(tasks),
        questions=(Question("1a", "1a", f"See [this page]({LONG_URL}) and summarise it.", 300),),
    )
    return LessonContent(lesson=lesson, sidecar=None, cards=())


def bare_lesson() -> LessonContent:
    """A lesson with nothing to tick (no title either)."""
    return LessonContent(
        lesson=Lesson(path="lessons/empty.md", id="empty-notes", title=None, sort=None),
        sidecar=None,
        cards=(),
    )


def squash(text: str) -> str:
    """Text compared across renderers: NFKC, no whitespace at all (PDF lines wrap anywhere)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def printed_text(markdown: str) -> str:
    """What print shows for an item: its words, with each web link's address after its text."""
    rendered = inline_html(" ".join(strip_tags(markdown).split()))
    rendered = re.sub(
        r'<a href="(http[^"]*)">(.*?)</a>',
        lambda m: f"{m.group(2)} ({m.group(1)})",
        rendered,
    )
    return html.unescape(re.sub(r"<[^>]+>", "", rendered))
