import subprocess
import sys

from conftest import ROOT
from mlops_cards.identity import note_guid, note_tags, safe_tag, stable_id, subdeck_name


def test_guid_depends_on_identity_only() -> None:
    guid = note_guid("intro-to-mlops", "question", "Q3")
    assert guid == note_guid("intro-to-mlops", "question", "Q3")
    assert guid != note_guid("intro-to-mlops", "question", "Q4")
    assert guid != note_guid("intro-to-mlops", "term", "Q3")
    assert guid != note_guid("other", "question", "Q3")


def test_guid_parts_do_not_run_together() -> None:
    assert note_guid("a", "question", "b c") != note_guid("a", "question b", "c")


def test_guid_same_in_another_interpreter_with_another_hash_seed() -> None:
    code = "from mlops_cards.identity import note_guid; print(note_guid('x', 'term', 'mlops'))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == note_guid("x", "term", "mlops")


def test_stable_id_is_deterministic_and_never_the_default_deck() -> None:
    assert stable_id("MLOps") == stable_id("MLOps")
    assert stable_id("MLOps") != stable_id("MLOps::01 Intro")
    for n in range(200):
        value = stable_id(f"deck {n}")
        assert 1 < value < 2**53


def test_tags_sorted_deduplicated_and_space_free() -> None:
    tags = note_tags("intro", "question", ("exam prep", "b", "b", "  "))
    assert tags == ("b", "exam_prep", "kind::question", "lesson::intro")
    assert safe_tag(" two  words ") == "two_words"


def test_subdeck_name_pads_and_flattens_nesting() -> None:
    assert subdeck_name("MLOps", 3, "Code :: Formatting") == "MLOps::03 Code : Formatting"
