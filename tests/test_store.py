"""The results store: atomic commits, stale staging, damaged records, many machines."""

import json

import pytest
from synthetic import paired_record

from convcarbon.errors import StoreError
from convcarbon.records.store import RECORD_FILE, ResultStore, scan_records
from convcarbon.training.measure.schema import READABLE_SCHEMA_VERSIONS


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
    assert store.load("smoke", record["fingerprint"]) == (record, None)
    assert store.load("smoke", "cd" * 32) == (None, None)


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
    record, problem = store.load("smoke", "ab" * 32)
    assert record is None and problem
    assert store.reusable("smoke", "ab" * 32) is None
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
    assert store.load("smoke", "ab" * 32) == (record, None)  # a sound record, shown with "not measured" ...
    assert store.reusable("smoke", "ab" * 32) is None  # ... but never reused as a measurement
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


def test_a_folder_store_is_told_its_prefix_and_its_reader(tmp_path):
    """The one store of every kind of record: its folders carry the kind's prefix, its reader alone decides what
    is sound, and its scan sees its own folders only, never hidden ones nor those of the kinds it leaves alone."""
    from convcarbon.records.store import FolderStore, RecordFolders

    def read_note(path):
        text = path.read_text()
        note = json.loads(text)
        return (note, None) if note.get("kind") == "note" else (None, "not a note")

    notes = FolderStore(tmp_path, RecordFolders(prefix="note-", read_file=read_note, others=("note-old-",)))
    note = {"kind": "note", "profile": "smoke", "fingerprint": "12" * 32, "created_utc": "2026-01-01T00:00:00+00:00"}
    with notes.locked(), notes.staging() as staging:
        folder = notes.commit(staging, note)
    assert folder.name == "note-smoke-" + "12" * 8
    assert notes.load("smoke", "12" * 32) == (note, None)
    (tmp_path / "note-smoke-bad").mkdir()
    (tmp_path / "note-smoke-bad" / RECORD_FILE).write_text('{"kind": "other"}')
    (tmp_path / "note-old-left-alone").mkdir()
    commit(ResultStore(tmp_path), make_record())  # a training record beside them: not a note
    records, skipped = notes.kind.scan(tmp_path)
    assert [record["fingerprint"] for record in records] == ["12" * 32] and records[0]["path"] == str(folder)
    assert [(path.name, problem) for path, problem in skipped] == [("note-smoke-bad", "not a note")]
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith(".")) == [".lock"]  # one lock


def test_one_lock_serves_every_kind_of_record(tmp_path):
    """An atlas run's staging folder, left by a killed run, is cleared by the next run of any kind: they share the
    store's one lock, so no run of one kind can be writing while another clears."""
    from convcarbon.atlas.measure.store import AtlasStore

    atlases = AtlasStore(tmp_path)
    with atlases.locked():
        stale = tmp_path / ".staging-left-by-an-atlas-run"
        stale.mkdir()
    with ResultStore(tmp_path).locked():
        assert not stale.exists()
    assert ResultStore(tmp_path).kind.owns("smoke-" + "ab" * 8) and not atlases.kind.owns("smoke-" + "ab" * 8)
    assert atlases.kind.owns("atlas-smoke-" + "ab" * 8) and not ResultStore(tmp_path).kind.owns("atlas-smoke-x")
