"""What a command's path arguments mean, for every command: lessons, sidecars, decks.

A lesson `x/lesson.md` has its author YAML (sidecar) beside it, `x/lesson.yaml`: this module is
the one place that spelling lives. A sidecar given as an argument stands for its lesson. Only
`.yaml` is read: a `.yml` file is refused wherever it is given, with the name it should have,
because silently reading or ignoring it would hide the author's answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_cards.errors import CardsError, UsageError

if TYPE_CHECKING:
    from mlops_cards.manifest import DeckManifest

SIDECAR_SUFFIX = ".yaml"
MANIFEST_SUFFIX = SIDECAR_SUFFIX  # decks/NAME.yaml
LESSON_SUFFIX = ".md"
REFUSED_SUFFIX = ".yml"
NO_MANIFESTS = "no deck manifests in decks/ (give MANIFEST.yaml or lesson files)"


def sidecar_of(lesson: Path) -> Path:
    """`x/lesson.md` -> `x/lesson.yaml`, in the same form (relative or not) as given."""
    return lesson.with_suffix(SIDECAR_SUFFIX)


def lesson_of(sidecar: Path) -> Path:
    return sidecar.with_suffix(LESSON_SUFFIX)


def is_yaml(path: str | Path) -> bool:
    """Whether `path` names a YAML file (a sidecar or a manifest), `.yml` included."""
    return Path(path).suffix.lower() in (SIDECAR_SUFFIX, REFUSED_SUFFIX)


def refused_yaml(path: str | Path) -> str | None:
    """The message for a `.yml` file, None for any other path."""
    if Path(path).suffix.lower() != REFUSED_SUFFIX:
        return None
    return f"{path}: YAML files are read only as `{SIDECAR_SUFFIX}`: rename it to " + str(
        Path(path).with_suffix(SIDECAR_SUFFIX)
    )


def lesson_arguments(paths: Sequence[str]) -> tuple[list[str], list[str]]:
    """The lessons meant by `paths` (files or directories) and one error line per argument that
    means none: a sidecar stands for the lesson beside it."""
    lessons: list[str] = []
    failures: list[str] = []
    for path in paths:
        refused = refused_yaml(path)
        if refused:
            failures.append(refused)
        elif is_yaml(path):
            lesson = str(lesson_of(Path(path)))
            if Path(lesson).is_file():
                lessons.append(lesson)
            else:
                failures.append(f"{path}: no lesson {lesson} beside this YAML file")
        else:
            lessons.append(path)
    return lessons, failures


def adhoc_manifest(lessons: list[Path], output: Path) -> DeckManifest:
    """A deck built straight from lesson files, named after the output file."""
    from mlops_cards.identity import stable_id
    from mlops_cards.manifest import CardKinds, DeckManifest

    name = output.stem
    return DeckManifest(
        path=output.with_suffix(SIDECAR_SUFFIX),
        name=name,
        deck_id=stable_id(name),
        description="",
        lessons=tuple(lessons),
        cards=CardKinds(),
        templates=None,
        output=name,
        checklists=(),  # a quick deck from lesson files: `mlops-cards checklist` makes one
    )


def _manifest_paths(paths: Sequence[Path]) -> list[Path]:
    """The manifests named, or with none every one in decks/; `.yml` ones refused."""
    from mlops_cards.manifest import find_manifests

    for path in paths:
        refused = refused_yaml(path)
        if refused:
            raise CardsError(refused)
    found = list(paths) or find_manifests(Path("decks"))
    if not found:
        raise CardsError(NO_MANIFESTS)
    return found


def _manifests(paths: Sequence[Path]) -> list[DeckManifest]:
    """Every manifest loaded (ManifestError for a broken one)."""
    from mlops_cards.manifest import load_manifest

    return [load_manifest(p) for p in _manifest_paths(paths)]


def deck_manifests(paths: Sequence[str], output: Path) -> list[DeckManifest]:
    """`preview`'s decks: manifests as they are, lessons (and directories) as one ad-hoc deck
    named after `output`; a sidecar stands for the lesson beside it. No paths: every manifest
    in decks/. Raises ManifestError (diagnostics) for a broken manifest."""
    if not paths:
        return _manifests([])
    manifest_paths: list[Path] = []
    lessons: list[Path] = []
    for path in map(Path, paths):
        if not is_yaml(path):
            lessons.append(path)
        elif lesson_of(path).is_file() and not refused_yaml(path):
            lessons.append(lesson_of(path))
        else:
            manifest_paths.append(path)
    manifests = _manifests(manifest_paths) if manifest_paths else []
    if lessons:
        manifests.append(adhoc_manifest(lessons, output))
    return manifests


@dataclass(frozen=True)
class DeckTarget:
    """One deck to build: its manifest, where the .apkg goes, and its lock."""

    manifest: DeckManifest
    output: Path
    lock: Path


def build_targets(
    sources: Sequence[str], output: Path | None, lock: Path | None
) -> tuple[list[DeckTarget], Path]:
    """`build`'s decks and output folder: manifests (default: every one in decks/) into -o DIR,
    or lesson files into one ad-hoc deck, -o FILE.apkg."""
    manifest_like = [s for s in sources if is_yaml(s)]
    if manifest_like and len(manifest_like) != len(sources):
        raise UsageError("give either deck manifests (.yaml) or lesson files, not both")
    if sources and not manifest_like:
        if output is None or output.suffix != ".apkg":
            raise UsageError("building from lesson files needs `-o FILE.apkg`")
        lock_path = lock or output.with_name(output.stem + ".lock.json")
        manifest = adhoc_manifest([Path(s) for s in sources], output)
        return [DeckTarget(manifest, output, lock_path)], output.parent
    if lock is not None:
        raise UsageError("--lock is for ad-hoc decks; a manifest's lock sits beside it")
    paths = _manifest_paths([Path(s) for s in sources])
    out_dir = output or Path("dist")
    if out_dir.suffix == ".apkg":
        raise UsageError("-o is a folder when building from manifests")
    from mlops_cards.manifest import load_manifest

    manifests = [load_manifest(p) for p in paths]
    return [DeckTarget(m, out_dir / f"{m.output}.apkg", m.lock_path) for m in manifests], out_dir
