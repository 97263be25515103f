"""The results store: atomic commits, stale staging, damaged records, many machines."""

import json

import pytest
from synthetic import paired_record

from convcarbon.errors import StoreError
from convcarbon.measure.schema import READABLE_SCHEMA_VERSIONS
from convcarbon.measure.store import RECORD_FILE, ResultStore, scan_records


def make_record(fingerprint="ab" * 32, profile="smoke", cpu="CPU A", created="2026-01-01T00:00:00+00:00"):
    """A valid record (the store reads nothing else) with the given identity."""
    return paired_record(
        [0.01, 0.011], [0.009, 0.01], fingerprint=fingerprint, profile=profile, cpu=cpu, created=created
    )


def commit(store, record, extra_file=None):
    with store.locked(), store.staging() as folder:
        if extra_file:
            (folder / extra_file).write_text("x")
        return store.commit(folder, record)


def test_commit_then_load_round_trips(tmp_path):
    store = ResultStore(tmp_path)
    record = make_record()
    path = commit(store, record, extra_file="emissions.csv")
    assert path.name == "smoke-" + "ab" * 8
    assert (path / "emissions.csv").exists()
    assert store.load("smoke", record["fingerprint"]) == record
    assert store.load("smoke", "cd" * 32) is None


def test_failed_run_leaves_nothing(tmp_path):
    store = ResultStore(tmp_path)
    with pytest.raises(KeyboardInterrupt), store.locked(), store.staging() as folder:
        (folder / "emissions.csv").write_text("half")
        raise KeyboardInterrupt
    assert [path.name for path in tmp_path.iterdir()] == [".lock"]


def test_stale_staging_from_a_killed_run_is_cleared(tmp_path):
    stale = tmp_path / ".staging-dead"
    stale.mkdir()
    (stale / "emissions.csv").write_text("half")
    store = ResultStore(tmp_path)
    with store.locked():
        assert not stale.exists()


def test_refresh_replaces_the_old_record(tmp_path):
    store = ResultStore(tmp_path)
    commit(store, make_record(created="2026-01-01T00:00:00+00:00"))
    commit(store, make_record(created="2026-02-02T00:00:00+00:00"))
    (only,) = store.records()
    assert only["created_utc"].startswith("2026-02-02")
    assert not list(tmp_path.glob(".staging-*"))


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_text('{"schema_version": 1, "finger'),  # truncated JSON
        lambda path: path.write_text("[]"),
        lambda path: path.write_text(json.dumps({"schema_version": 1})),  # missing fields
        lambda path: path.write_text(json.dumps(make_record(fingerprint="ef" * 32))),  # wrong fingerprint
        lambda path: path.unlink(),
    ],
)
def test_damaged_records_are_ignored(tmp_path, damage, caplog):
    """test_reliability runs the command line on a truncated record: it warns, then trains again."""
    store = ResultStore(tmp_path)
    path = commit(store, make_record())
    damage(path / RECORD_FILE)
    assert store.load("smoke", "ab" * 32) is None
    assert f"ignoring damaged result {path}: " in caplog.text and caplog.text.endswith("; measuring again\n")


ENERGY_FIELDS = (
    "energy_consumed_kwh",
    "cpu_energy_kwh",
    "gpu_energy_kwh",
    "ram_energy_kwh",
    "emissions_kg",
    "emissions_rate_kg_per_s",
    "clean_up_energy_kwh",
)


def test_a_record_without_energy_is_never_reused_as_if_measured(tmp_path, caplog):
    """What a run whose tracker failed stores (test_reliability makes one): the next run measures again."""
    store = ResultStore(tmp_path)
    record = make_record()
    for run in record["runs"]:
        run.update(dict.fromkeys(ENERGY_FIELDS), energy_missing_reason="CodeCarbon failed to start: PermissionError")
        run["epoch_energy_kwh"] = [None] * len(run["epoch_duration_s"])
    path = commit(store, record)
    assert store.load("smoke", "ab" * 32) is None
    assert f"the stored result {path} has no energy measurement; measuring again" in caplog.text


def test_records_from_several_machines_sit_side_by_side(tmp_path):
    store = ResultStore(tmp_path)
    commit(store, make_record(fingerprint="11" * 32, cpu="CPU A", created="2026-01-02T00:00:00+00:00"))
    commit(store, make_record(fingerprint="22" * 32, cpu="GPU box", created="2026-01-01T00:00:00+00:00"))
    (tmp_path / "junk").mkdir()  # a folder without a record is skipped
    records = store.records()
    assert [record["hardware"]["cpu_model"] for record in records] == ["GPU box", "CPU A"]
    assert all(record["path"] for record in records)


UNREADABLE_VERSION = min(READABLE_SCHEMA_VERSIONS) - 1


def test_skipped_folders_come_with_their_reason(tmp_path):
    store = ResultStore(tmp_path)
    commit(store, make_record())
    older = tmp_path / "quick-older"
    older.mkdir()
    (older / RECORD_FILE).write_text(json.dumps({**make_record(), "schema_version": UNREADABLE_VERSION}))
    (tmp_path / "junk").mkdir()
    records, skipped = scan_records(tmp_path)
    assert len(records) == 1
    assert [(folder.name, problem.split(";")[0]) for folder, problem in skipped] == [
        ("junk", f"no {RECORD_FILE}"),
        ("quick-older", f"written as record schema {UNREADABLE_VERSION}"),
    ]


def test_unusable_results_directory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot create it"):
        ResultStore(blocker / "results")
    with pytest.raises(StoreError, match="cannot create it|not a writable directory"):
        ResultStore(blocker)
