from pathlib import Path

import pytest

from mlops_cards.errors import CardsError
from mlops_cards.identity import stable_id
from mlops_cards.manifest import CardKinds, ManifestError, find_manifests, load_manifest


def course(tmp_path: Path, manifest: str) -> Path:
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "1. Intro.md").write_text("# Intro\n", encoding="utf-8")
    (tmp_path / "content" / "2. Next.md").write_text("# Next\n", encoding="utf-8")
    (tmp_path / "decks").mkdir()
    path = tmp_path / "decks" / "mlops.yaml"
    path.write_text(manifest, encoding="utf-8")
    return path


def errors(path: Path) -> list[str]:
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    return [d.format() for d in info.value.diagnostics]


def test_full_manifest(tmp_path: Path) -> None:
    path = course(
        tmp_path,
        "name: MLOps Fundamentals\n"
        "description: Cards for the course\n"
        "lessons: ['../content/*.md']\n"
        "cards: {reverse: true, cloze: false}\n"
        "output: mlops\n",
    )
    manifest = load_manifest(path)
    assert manifest.name == "MLOps Fundamentals"
    assert manifest.deck_id == stable_id("MLOps Fundamentals")
    assert manifest.description == "Cards for the course"
    assert [p.name for p in manifest.lessons] == ["1. Intro.md", "2. Next.md"]
    assert manifest.cards == CardKinds(reverse=True, cloze=False)
    assert manifest.templates is None
    assert manifest.output == "mlops"
    assert manifest.lock_path == tmp_path / "decks" / "mlops.lock.json"


def test_defaults_and_single_path(tmp_path: Path) -> None:
    path = course(tmp_path, "name: Deck\nlessons: ../content/1. Intro.md\n")
    manifest = load_manifest(path)
    assert manifest.cards == CardKinds()
    assert manifest.output == "mlops"
    assert [p.name for p in manifest.lessons] == ["1. Intro.md"]


def test_every_mistake_with_file_and_line(tmp_path: Path) -> None:
    path = course(
        tmp_path,
        "name: Deck\n"
        "lesons: x\n"
        "lessons:\n"
        "  - ../content/*.md\n"
        "  - ../nowhere/*.md\n"
        "cards: {questions: yes please, reversed: true}\n"
        "id: 1\n",
    )
    assert errors(path) == [
        f"{path}:2:1: error: unknown key `lesons` (did you mean `lessons`?)",
        f"{path}:5:5: error: no lessons match `../nowhere/*.md` "
        "(paths are relative to the manifest)",
        f"{path}:6:20: error: `cards.questions` must be true or false",
        f"{path}:6:32: error: unknown card kind `reversed` (did you mean `reverse`?)",
        f"{path}:7:5: error: `id` must be an integer above 1 (or leave it out)",
    ]


def test_missing_name_and_lessons(tmp_path: Path) -> None:
    path = course(tmp_path, "description: nothing else\n")
    assert errors(path) == [
        f"{path}:1:1: error: missing `lessons` (e.g. `lessons: [../content/*.md]`)",
        f"{path}:1:1: error: missing `name` (the Anki deck name, e.g. `name: MLOps Fundamentals`)",
    ]


def test_invalid_yaml_and_python_tags_are_errors(tmp_path: Path) -> None:
    path = course(tmp_path, "name: [unclosed\n")
    assert errors(path)[0].startswith(f"{path}:2:1: error: invalid YAML:")
    path.write_text("name: !!python/object:os.system x\n", encoding="utf-8")
    assert errors(path)[0].startswith(f"{path}:1:7: error: invalid YAML:")


def test_not_utf8(tmp_path: Path) -> None:
    path = course(tmp_path, "")
    path.write_bytes(b"name: \xff\n")
    with pytest.raises(CardsError, match="not UTF-8"):
        load_manifest(path)


def test_find_manifests_ignores_locks(tmp_path: Path) -> None:
    path = course(tmp_path, "name: Deck\nlessons: ../content\n")
    (path.parent / "mlops.lock.json").write_text("{}")
    (path.parent / "b.yaml").write_text("name: B\nlessons: ../content\n")
    assert [p.name for p in find_manifests(path.parent)] == ["b.yaml", "mlops.yaml"]
