"""Which lessons a command works on when the user names none.

Every lesson of every deck manifest in `decks/`; with no manifest, everything under `content/`.
"""

from __future__ import annotations

import os
from pathlib import Path

from mlops_cards.errors import UsageError
from mlops_cards.manifest import find_manifests, load_manifest


def default_lesson_paths(root: Path) -> list[str]:
    """Lesson paths (files or directories) of every deck in `root`, shown relative to `root`."""
    manifests = find_manifests(root / "decks")
    if not manifests:
        if (root / "content").is_dir():
            return ["content"]
        raise UsageError("no PATH given, and neither decks/*.yaml nor content/ is here")
    paths: dict[str, None] = {}  # ordered and without repeats
    for manifest in manifests:
        for lesson in load_manifest(manifest).lessons:
            paths.setdefault(os.path.relpath(lesson, root))
    return list(paths)
