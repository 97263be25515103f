"""Records from other machines are untrusted: each is validated before use, and skipped with its reason."""

import json
import os

import pytest
from helpers import hostile_record, valid_record
from synthetic import paired_record

from convcarbon.records.store import RECORD_FILE, scan_records
from convcarbon.training.measure.schema import MAX_RECORD_BYTES, record_problem


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
    assert "configuration is not valid" in broken(lambda record: record["config"].update(train_images=70_000))


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


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_numbers_json_does_not_allow_are_refused_when_the_file_is_read(tmp_path, constant):
    """Python's JSON reader takes NaN and Infinity, and a bound cannot catch them (NaN < 0 is false)."""
    text = json.dumps(valid_record()).replace('"test_accuracy": 0.98', f'"test_accuracy": {constant}', 1)
    assert constant in text
    write(tmp_path, "not-finite", text)
    (_folder, problem), *_ = scan_records(tmp_path)[1]
    what = "the number 1e400, too large to be finite" if constant == "1e400" else f"{constant}, which is not a number"
    assert problem == f"record.json holds {what}" + (
        "" if constant == "1e400" else " (JSON allows finite numbers only)"
    )


@pytest.mark.parametrize(
    "change, where",
    [
        (lambda record: record["runs"][0].update(duration_s=1e308), "runs/0/duration_s"),
        (lambda record: record["runs"][0]["epoch_duration_s"].__setitem__(0, 1e-300), "runs/0/epoch_duration_s/0"),
        (lambda record: record["runs"][0].update(clean_up_duration_s=-1.0), "runs/0/clean_up_duration_s"),
        (lambda record: record["idle"].update(duration_s=0.0001), "idle"),
        (lambda record: record["runs"][0].update(energy_consumed_kwh=1e9), "runs/0/energy_consumed_kwh"),
        (lambda record: record["runs"][0].update(cpu_power_w=1e6), "runs/0/cpu_power_w"),
        (lambda record: record["runs"][0].update(ram_power_w=7e3), "runs/0/ram_power_w"),
        (lambda record: record["runs"][0].update(pue=10.0), "runs/0/pue"),
        (lambda record: record["runs"][0].update(test_loss=1e6), "runs/0/test_loss"),
        (lambda record: record["runs"][0]["history"]["val_accuracy"].__setitem__(0, 1.5), "runs/0/history"),
        (lambda record: record["runs"][0].update(parameters=10**12), "runs/0/parameters"),
        (lambda record: record["runs"][0].update(emissions_kg=1e12), "runs/0/emissions_kg"),
        (lambda record: record["runs"][0].update(carbon_intensity_g_per_kwh=1e5), "runs/0/carbon_intensity"),
        (lambda record: record["hardware"].update(ram_total_gb=1e300), "hardware/ram_total_gb"),
        (lambda record: record["power_assumptions"].update(ram_pinned_power_w=1e5), "power_assumptions"),
        (lambda record: record["config"].update(batch_size=1e308), "config/batch_size"),
    ],
)
def test_every_number_has_physical_bounds(change, where):
    problem = broken(change)
    assert problem and problem.startswith(f"does not match the record schema at {where}")


def test_epochs_must_add_up_to_their_run_and_energy_fit_what_a_machine_can_draw():
    assert broken(lambda record: record["runs"][1]["epoch_duration_s"].__setitem__(0, 1.0)) == (
        "a run of Conv2D lasted 100 s but its epochs and clean-up add up to 71 s"
    )
    # Within the tolerance (2 s + 2%): a slow tracker start or stop is no fault.
    assert broken(lambda record: record["runs"][1].update(duration_s=103.9)) is None
    assert broken(lambda record: record["runs"][2].update(energy_consumed_kwh=1.0)) == (
        "a run of Conv2D reports energy_consumed_kwh = 1 kWh in 100 s, more than 20 kW (times its PUE) could draw"
    )
    assert broken(lambda record: record["idle"].update(ram_energy_kwh=0.5)).startswith(
        "the idle measurement reports ram_energy_kwh = 0.5 kWh in 60 s"
    )


def test_a_record_dated_in_the_future_is_refused_with_its_reason():
    from datetime import datetime, timedelta, timezone

    now = datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc)
    record = valid_record()
    record["created_utc"] = (now + timedelta(minutes=5)).isoformat()  # within the clocks' disagreement
    assert record_problem(record, now=now) is None
    record["created_utc"] = "2027-01-01T00:00:00+00:00"
    assert record_problem(record, now=now) == (
        "it is dated 2027-01-01T00:00:00+00:00, in the future (now 2026-12-01T06:00:00+00:00)"
    )
    record["created_utc"] = "2026-13-45T00:00:00Z"  # matches the pattern, is no date
    assert record_problem(record, now=now) == "its created_utc is not a real date and time"
    record["created_utc"] = "2099-01-01T00:00:00Z"
    assert "in the future" in record_problem(record)  # by the real clock, too


@pytest.mark.parametrize(
    "source, valid",
    [
        ("mnist.npz", True),
        ("Keras download (keras.datasets.mnist)", True),
        ("/home/alice/data/mnist.npz", False),
        ("C:\\Users\\alice\\mnist.npz", False),
        ("~/mnist.npz", False),
    ],
)
def test_the_dataset_is_named_by_its_file_name_never_a_path(source, valid):
    problem = broken(lambda record: record["dataset"].update(source=source))
    assert (problem is None) == valid, problem
    if not valid:
        assert problem.startswith("does not match the record schema at dataset/source")


def unsummarisable(cpu="CPU whose runs cannot be summarised", fingerprint="b2" * 32):
    """A record beyond the schema's bounds: the separable model's runs lasted 1e308 s and the standard model's
    1e-10 s, so the ratio of their durations is infinite."""
    record = paired_record([0.01] * 3, [0.009] * 3, cpu=cpu, fingerprint=fingerprint)
    for run in record["runs"]:
        run["duration_s"] = 1e308 if run["model"] == "SeparableConv2D" else 1e-10
    return record


INFINITE_RATIO = "it cannot be summarised: the ratio of duration is not a finite number"


def test_a_record_that_cannot_be_summarised_is_named_with_its_reason():
    from convcarbon.training.analyze.discovery import summary_problem

    assert summary_problem(paired_record([0.01] * 3, [0.009] * 3)) is None
    assert summary_problem(unsummarisable()) == INFINITE_RATIO
    endless = paired_record([0.01] * 3, [0.009] * 3)
    endless["runs"][0]["duration_s"] = 1e308 * 10  # infinite: a reader of strict JSON never returns it
    assert summary_problem(endless) == "it cannot be summarised: the duration of Conv2D is not a finite number"


def test_discovery_skips_a_record_the_schema_or_the_summary_refuses_with_its_reason(tmp_path, monkeypatch):
    """The schema's bounds refuse a record that cannot be summarised; were they wider, discovery would still skip
    it, with the summary's reason, and the book would build."""
    from convcarbon.records import store
    from convcarbon.training.analyze import discovery

    good = paired_record([0.01] * 3, [0.009] * 3, fingerprint="a1" * 32)
    write(tmp_path, "good", good)
    write(tmp_path, "bad", unsummarisable())
    records, skipped = discovery.book_records(tmp_path / "no-results", tmp_path)
    assert [record["fingerprint"] for record in records] == [good["fingerprint"]]
    ((folder, problem),) = skipped
    assert folder == tmp_path / "bad" and problem.startswith("does not match the record schema at runs/")
    monkeypatch.setattr(store, "record_problem", lambda record: None)  # a schema without bounds
    records, skipped = discovery.book_records(tmp_path / "no-results", tmp_path)
    assert [record["fingerprint"] for record in records] == [good["fingerprint"]]
    assert skipped == [(tmp_path / "bad", INFINITE_RATIO)]


def test_every_committed_record_is_valid_named_by_its_fingerprint_and_holds_no_local_path():
    from pathlib import Path

    from convcarbon.records.store import ResultStore

    committed = Path(__file__).resolve().parents[1] / "book" / "records"
    records, skipped = scan_records(committed)
    assert skipped == [] and len(records) >= 3
    for record in records:
        folder = Path(record.pop("path"))
        assert folder.name == ResultStore.key(record["profile"], record["fingerprint"])
        assert record["dataset"]["source"] == "mnist.npz"
        text = (folder / RECORD_FILE).read_text()
        assert "/work/" not in text and "/home/" not in text and str(Path.home()) + "/" not in text


def test_the_report_command_skips_a_record_it_cannot_summarise_and_reports_the_others(tmp_path, monkeypatch, capsys):
    from convcarbon import cli
    from convcarbon.records import store

    monkeypatch.setattr(store, "record_problem", lambda record: None)  # a schema without bounds
    write(tmp_path, "good", paired_record([0.01] * 3, [0.009] * 3, cpu="Good CPU", fingerprint="a1" * 32))
    write(tmp_path, "bad", unsummarisable(cpu="CPU that breaks a table"))
    assert cli.main(["report", "--results-dir", str(tmp_path)]) == 0
    printed = capsys.readouterr()
    assert "Good CPU" in printed.out and "CPU that breaks a table" not in printed.out
    assert f"skipping result {tmp_path / 'bad'}: {INFINITE_RATIO}" in printed.err


def test_the_migration_changes_only_what_schema_5_changed_and_can_be_run_again(tmp_path):
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "bench" / "migrate_records.py"
    spec = importlib.util.spec_from_file_location("migrate_records", script)
    migrate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migrate)
    old = valid_record()
    old.update(schema_version=4, dataset={"source": "/home/alice/data/mnist.npz", "sha256": "d" * 64})
    for key in ("cpu_pinned_power_w", "ram_pinned_power_w", "power_pinning"):
        del old["power_assumptions"][key]
    for run in old["runs"]:
        del run["epoch_steps"]  # schema 6 added them
    del old["quietness"]  # schema 7 added it
    folder = write(tmp_path, "seed-abababababababab", old)
    assert migrate.main([str(tmp_path)]) == 0
    new = json.loads((folder / RECORD_FILE).read_text())
    assert record_problem(new) is None
    assert new["dataset"] == {"source": "mnist.npz", "sha256": "d" * 64}
    assert {key: new["power_assumptions"].pop(key) for key in ("cpu_pinned_power_w", "ram_pinned_power_w")} == {
        "cpu_pinned_power_w": None,
        "ram_pinned_power_w": None,
    }
    assert new["power_assumptions"].pop("power_pinning") == "not pinned: measured before schema 5"
    assert {**new, "schema_version": 4, "dataset": old["dataset"]} == old
    before = (folder / RECORD_FILE).read_text()
    assert migrate.main([str(folder)]) == 0 and (folder / RECORD_FILE).read_text() == before
