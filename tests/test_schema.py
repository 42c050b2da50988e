"""The JSON Schema is for editors; the loader is the judge. They must agree on the format."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import yaml

from conftest import run_cli
from mlops_cards import sidecar as loader
from sidecar_fixtures import COMPLETE


def shipped() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        files("mlops_cards").joinpath("sidecar.schema.json").read_text("utf-8")
    )
    return schema


def test_schema_command_prints_the_shipped_schema() -> None:
    result = run_cli("schema")
    assert result.returncode == 0
    assert json.loads(result.stdout) == shipped()


def test_schema_knows_the_same_keys_as_the_loader() -> None:
    schema = shipped()
    props, defs = schema["properties"], schema["definitions"]
    assert tuple(props) == loader.TOP_LEVEL_FIELDS
    assert tuple(props["lesson"]["properties"]) == loader.LESSON_FIELDS
    assert tuple(defs["question"]["properties"]) == loader.QUESTION_FIELDS
    assert tuple(defs["objective"]["properties"]) == loader.OBJECTIVE_FIELDS
    assert tuple(defs["term"]["properties"]) == loader.TERM_FIELDS
    assert tuple(defs["extra"]["properties"]) == loader.EXTRA_FIELDS
    assert defs["extra"]["required"] == ["id", "front", "back"]
    for block in (schema, props["lesson"], *defs.values()):
        assert block["additionalProperties"] is False  # unknown keys: errors in both


def conforms(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    """Just enough of JSON Schema draft-07 for this schema (no jsonschema dependency)."""
    if "$ref" in schema:
        return conforms(value, root["definitions"][schema["$ref"].split("/")[-1]], root)
    types = schema.get("type")
    names: dict[str, type] = {
        "object": dict,
        "array": list,
        "string": str,
        "null": type(None),
        "boolean": bool,
        "integer": int,
    }
    if types is not None:
        allowed = [types] if isinstance(types, str) else types
        if not any(isinstance(value, names[t]) for t in allowed):
            return False
        if isinstance(value, bool) and "boolean" not in allowed:
            return False
    if isinstance(value, str) and "pattern" in schema:
        import re

        if not re.search(schema["pattern"], value):
            return False
    if isinstance(value, int) and value < schema.get("minimum", value):
        return False
    if isinstance(value, dict):
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        if any(key not in value for key in schema.get("required", [])):
            return False
        for key, item in value.items():
            if key in props:
                ok = conforms(item, props[key], root)
            elif isinstance(extra, dict):
                ok = conforms(item, extra, root)
            else:
                ok = extra is not False
            if not ok:
                return False
    if isinstance(value, list) and "items" in schema:
        return all(conforms(item, schema["items"], root) for item in value)
    return True


def agree(text: str) -> tuple[bool, bool]:
    """(schema accepts, loader accepts) for one sidecar text."""
    schema = shipped()
    data = yaml.safe_load(text)
    data = {str(k): v for k, v in data.items()} if isinstance(data, dict) else data
    for section in ("objectives",):
        if isinstance(data, dict) and isinstance(data.get(section), dict):
            data[section] = {str(k): v for k, v in data[section].items()}
    return conforms(data, schema, schema), not loader.parse_sidecar(text, "x").has_errors


def test_schema_and_loader_agree_on_a_valid_file() -> None:
    assert agree(COMPLETE) == (True, True)
    assert agree("questions:\n  Q1:\n    question: Why?\n    answer:\n") == (True, True)
    formerly = "lesson: {formerly: [old-id]}\nquestions:\n  Q3: {formerly: Q2}\nobjectives:\n"
    assert agree(formerly + "  2: {formerly: [1]}\n") == (True, True)


def test_schema_and_loader_agree_on_invalid_files() -> None:
    for bad in (
        COMPLETE.replace("    skip: true", "    skipp: true"),
        COMPLETE.replace("bell: 2", "bell: 0"),
        COMPLETE.replace("  - id: canary\n", "  - ident: canary\n"),
        "questions:\n  Q1:\n    answer: ''\n",
        "lesson:\n  tags: [two words]\n",
        "extra: {id: a}\n",
        "questions:\n  Q1: {formerly: {a: b}}\n",
        "lesson: {formerly: [two words]}\n",
    ):
        assert agree(bad) == (False, False), bad
