"""YAML limits: the quick way (compose first, check the nodes) agrees with the event scan."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
import yaml

from mlops_cards import limits
from mlops_cards.errors import CardsError
from mlops_cards.limits import compose_within_limits, read_limited, yaml_problem
from sidecar_fixtures import COMPLETE

needs_libyaml = pytest.mark.skipif(
    not hasattr(yaml, "CSafeLoader"), reason="the quick way needs libyaml"
)


@needs_libyaml
def test_a_sidecar_is_composed_as_libyaml_composes_it() -> None:
    composed = compose_within_limits(COMPLETE)
    assert composed is not None
    expected = yaml.compose(COMPLETE, Loader=yaml.CSafeLoader)
    assert yaml.serialize(composed[0]) == yaml.serialize(expected)


@needs_libyaml
@pytest.mark.parametrize("text", ["", "# only a comment\n"])
def test_an_empty_document_is_composed_to_nothing(text: str) -> None:
    assert compose_within_limits(text) == (None,)


BOMB = "".join(
    [
        "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n",
        *(f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]\n" for n in range(1, 6)),
    ]
)


@pytest.mark.parametrize(
    "text",
    [
        BOMB,  # 10^6 values once expanded
        "a: " + "[" * 51 + "]" * 51 + "\n",  # 51 levels
        "a: [1, 2\n",  # broken: the careful way reports it
        "a: &x 1\nb: &x 2\n",  # an anchor defined twice
        "a: [" + ", ".join(["x"] * 1_001) + "]\n",  # too many values to compose unchecked
    ],
)
def test_the_quick_way_gives_up_on(text: str) -> None:
    assert compose_within_limits(text) is None


def _document(
    rng: random.Random, depth: int, anchors: list[str], opened: list[str], anchor_rate: float
) -> str:
    """A random flow-style document with nesting, anchors and aliases (also to anchors still
    open), small enough to stay under the indicator limit of the quick way."""
    if rng.random() < 0.15 and anchors + opened:
        return "*" + rng.choice(anchors + opened)
    anchor = ""
    if rng.random() < anchor_rate:
        name = f"a{len(anchors) + len(opened)}"
        anchor = f"&{name} "
        opened.append(name)
    if depth == 0 or rng.random() < 0.3:
        text = anchor + rng.choice(["x", "1", "null", "'q'"])
    else:
        items = [
            _document(rng, depth - 1, anchors, opened, anchor_rate)
            for _ in range(rng.randint(0, 4))
        ]
        if rng.random() < 0.5:
            text = anchor + "[" + ", ".join(items) + "]"
        else:
            pairs = (f"k{n}: {item}" for n, item in enumerate(items))
            text = anchor + "{" + ", ".join(pairs) + "}"
    if anchor:
        anchors.append(opened.pop())
    return text


def _smallest_limit(name: str, text: str, monkeypatch: pytest.MonkeyPatch) -> int:
    """The smallest value of `limits.<name>` for which the scan finds no problem in text."""
    low, high = 0, 1_000_000
    while low < high:
        middle = (low + high) // 2
        monkeypatch.setattr(limits, name, middle)
        if yaml_problem(text) is None:
            high = middle
        else:
            low = middle + 1
    return low


@needs_libyaml
def test_the_quick_way_finds_a_problem_exactly_when_the_scan_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each random document is tried at the edge of each limit: the largest value the scan
    # refuses it under, and the smallest it accepts it under.
    rng = random.Random(8)
    tried = {"over": 0, "within": 0}
    for n in range(600):
        anchor_rate = 0.3 if n % 2 else 0.0  # a document without anchors is a plain tree
        text = _document(rng, rng.randint(1, 7), [], [], anchor_rate)
        for name, other in (
            ("MAX_YAML_NODES", "MAX_YAML_DEPTH"),
            ("MAX_YAML_DEPTH", "MAX_YAML_NODES"),
        ):
            monkeypatch.setattr(limits, other, 1_000_000)
            smallest = _smallest_limit(name, text, monkeypatch)
            for limit in (smallest - 1, smallest) if smallest > 0 else (smallest,):
                monkeypatch.setattr(limits, name, limit)
                over = yaml_problem(text) is not None
                assert (compose_within_limits(text) is None) == over, (name, limit, text)
                tried["over" if over else "within"] += 1
    assert min(tried.values()) > 500, tried


def test_a_file_larger_than_stat_says_is_still_read_whole_and_up_to_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file that grew after stat, or one whose stat size is 0 (as in /proc), is read on.
    path = tmp_path / "grows.md"
    path.write_bytes(b"x" * 300)
    real_fstat = os.fstat

    def small_fstat(fd: int) -> os.stat_result:
        info = real_fstat(fd)
        return os.stat_result((info.st_mode, *info[1:6], 10, *info[7:]))

    monkeypatch.setattr(os, "fstat", small_fstat)
    assert read_limited(path, 1_000, "grows.md", "lesson file", "split it") == b"x" * 300
    with pytest.raises(CardsError) as caught:
        read_limited(path, 100, "grows.md", "lesson file", "split it")
    assert str(caught.value) == (
        "grows.md: lesson file is 101 bytes; the limit is 100 bytes (split it)"
    )
