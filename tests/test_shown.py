"""The record a page shows when nothing is measured for it (CONVCARBON_MEASURE=no, a chapter on its own)."""

import shutil
import subprocess
import sys

import pytest
from helpers import copy_book
from synthetic import paired_record

from convcarbon.errors import ConvCarbonError
from convcarbon.publish.shown import measuring, reference_record


def record(profile, created):
    return paired_record([0.01], [0.009], profile=profile, created=created)


def test_the_reference_is_the_newest_seed_record_else_the_newest_record():
    old_seed, new_quick = record("seed", "2026-01-01T00:00:00+00:00"), record("quick", "2026-03-01T00:00:00+00:00")
    new_seed = record("seed", "2026-02-01T00:00:00+00:00")
    assert reference_record([old_seed, new_quick, new_seed]) is new_seed
    assert reference_record([new_quick, record("smoke", "2026-01-01T00:00:00+00:00")]) is new_quick
    with pytest.raises(ConvCarbonError, match="no stored record to show"):
        reference_record([])


def test_measuring_is_on_unless_said_no():
    assert measuring({}) and measuring({"CONVCARBON_MEASURE": "yes"})
    assert not measuring({"CONVCARBON_MEASURE": "No"})
    with pytest.raises(ConvCarbonError, match="use yes or no"):
        measuring({"CONVCARBON_MEASURE": "0"})


def test_building_without_training_and_without_any_record_is_one_clear_error(tmp_path):
    root = copy_book(tmp_path / "book")
    shutil.rmtree(root / "book" / "records")
    completed = subprocess.run(
        [sys.executable, "-m", "convcarbon", "book", "--no-measure"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 1
    assert (
        completed.stderr.startswith("convcarbon: error: no stored record to show") and completed.stderr.count("\n") == 1
    )
    assert not (root / "_build").exists()
