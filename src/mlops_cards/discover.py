"""Which lessons a command works on when the user names none.

Deliberately tiny: the deck manifest module may take this over. Every `decks/*.yaml` manifest
lists lesson paths or globs (relative to the manifest) under `lessons:`; with no manifest the
lessons are everything under `content/`.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

import yaml

from mlops_cards.errors import CardsError, UsageError
from mlops_cards.limits import MAX_YAML_BYTES, read_limited, yaml_problem


def default_lesson_paths(root: Path) -> list[str]:
    """Lesson paths (files or directories) of every deck in `root`, shown relative to `root`."""
    manifests = sorted((root / "decks").glob("*.yaml"))
    if not manifests:
        if (root / "content").is_dir():
            return ["content"]
        raise UsageError("no PATH given, and neither decks/*.yaml nor content/ is here")
    paths: list[str] = []
    for manifest in manifests:
        for pattern in _lesson_patterns(manifest, root):
            full = os.path.normpath(manifest.parent / pattern)
            found = sorted(glob.glob(full)) or [full]  # no match: let the reader say so
            for path in found:
                shown = os.path.relpath(path, root)
                if shown not in paths:
                    paths.append(shown)
    return paths


def _lesson_patterns(manifest: Path, root: Path) -> list[str]:
    name = os.path.relpath(manifest, root)
    text = read_limited(manifest, MAX_YAML_BYTES, name, "deck manifest", "list fewer things in it")
    problem = yaml_problem(text.decode("utf-8", "replace"))
    if problem is not None:
        raise CardsError(f"{name}:{problem.line}: {problem.message} ({problem.hint})")
    try:
        data = yaml.safe_load(text.decode("utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CardsError(f"{name}: cannot read this deck manifest ({exc})") from None
    lessons = data.get("lessons") if isinstance(data, dict) else None
    if isinstance(lessons, str):
        lessons = [lessons]
    if not isinstance(lessons, list) or not all(isinstance(p, str) for p in lessons):
        raise CardsError(f"{name}: 'lessons:' must be a list of paths or globs")
    return list(lessons)
