"""Records from other machines are untrusted: each is validated before use, and skipped with its reason."""

import json
import os

import pytest
from helpers import hostile_record, valid_record

from convcarbon.measure.schema import MAX_RECORD_BYTES, record_problem
from convcarbon.measure.store import RECORD_FILE, scan_records


def test_a_valid_record_passes():
    assert record_problem(valid_record()) is None


def test_hostile_text_within_the_limits_is_valid_data():
    assert record_problem(hostile_record()) is None


def broken(change):
    record = valid_record()
    change(record)
    return record_problem(record)


@pytest.mark.parametrize(
    "change, reason",
    [
        (lambda record: record.update(profile="turbo"), "profile"),
        (lambda record: record["runs"][0].update(energy_consumed_kwh=-1.0), "energy_consumed_kwh"),
        (lambda record: record["runs"][0].update(test_accuracy=1.5), "test_accuracy"),
        (lambda record: record["runs"][0].update(duration_s=0), "duration_s"),
        (lambda record: record["runs"][0].update(test_accuracy="0.9"), "test_accuracy"),
        (lambda record: record["hardware"].update(cpu_model="x" * 10_000), "cpu_model"),
        (lambda record: record["runs"].extend([record["runs"][0]] * 200), "runs"),
        (lambda record: record["runs"][0].update(extra="field"), "extra"),
        (lambda record: record.update(fingerprint="not a hash"), "fingerprint"),
        (lambda record: record.update(created_utc="<script>"), "created_utc"),
        (lambda record: record.pop("hardware"), "hardware"),
    ],
)
def test_each_kind_of_bad_value_is_refused_with_where_it_is(change, reason):
    problem = broken(change)
    assert problem and reason in problem


def test_runs_must_match_the_records_own_configuration():
    assert "3 run(s) of Conv2D" in broken(lambda record: record["runs"].pop(0))
    assert "one value per epoch" in broken(lambda record: record["runs"][0]["epoch_duration_s"].append(1.0))
    assert "profile" in broken(lambda record: record["config"].update(profile="quick"))
    assert "configuration is not valid" in broken(lambda record: record["config"].update(epochs=0))


def test_an_older_schema_is_named_as_such():
    assert "schema 3" in broken(lambda record: record.update(schema_version=3))


def write(root, name, content):
    folder = root / name
    folder.mkdir()
    (folder / RECORD_FILE).write_text(content if isinstance(content, str) else json.dumps(content))
    return folder


def test_the_store_skips_every_invalid_record_with_its_reason_and_keeps_the_valid_one(tmp_path):
    write(tmp_path, "good", valid_record())
    write(tmp_path, "negative", {**valid_record(), "profile": "turbo"})
    write(tmp_path, "not-json", "{")
    write(tmp_path, "a-list", "[]")
    huge = write(tmp_path, "huge", "")
    (huge / RECORD_FILE).write_text(" " * (MAX_RECORD_BYTES + 1))
    (tmp_path / "linked").mkdir()
    os.symlink(tmp_path / "good" / RECORD_FILE, tmp_path / "linked" / RECORD_FILE)
    records, skipped = scan_records(tmp_path)
    assert [record["path"] for record in records] == [str(tmp_path / "good")]
    reasons = {folder.name: problem for folder, problem in skipped}
    assert set(reasons) == {"negative", "not-json", "a-list", "huge", "linked"}
    assert "profile" in reasons["negative"] and "not readable JSON" in reasons["not-json"]
    assert "does not hold an object" in reasons["a-list"] and "larger than" in reasons["huge"]
    assert "symbolic link" in reasons["linked"]
