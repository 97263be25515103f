"""Real training on the smoke profile, under the real CodeCarbon tracker: no mocks.

Runs the command line as a user would, in a fresh results store.
"""

import json
import math
import signal
import subprocess
import time

import pytest

from conftest import child_environment, convcarbon_command

pytestmark = pytest.mark.training

PROVENANCE_FIELDS = ["fingerprint", "profile", "config", "created_utc", "git_commit", "hardware",
                     "versions", "source_sha256", "dataset", "runs"]
RUN_FIELDS = ["duration_s", "energy_consumed_kwh", "cpu_energy_kwh", "ram_energy_kwh", "emissions_kg",
              "emissions_rate_kg_per_s", "cpu_tracking_method", "gpu_tracking_method", "ram_tracking_method",
              "country_iso_code", "carbon_intensity_g_per_kwh", "history", "epoch_duration_s"]


def convcarbon(*arguments, results_dir, mnist_path, **popen):
    command = convcarbon_command(*arguments, results_dir=results_dir)
    environment = child_environment(mnist_path)
    if popen:
        return subprocess.Popen(command, env=environment, text=True, **popen)
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory, mnist_path):
    results_dir = tmp_path_factory.mktemp("results")
    started = time.perf_counter()
    completed = convcarbon("run", "--profile", "smoke", results_dir=results_dir, mnist_path=mnist_path)
    elapsed_s = time.perf_counter() - started
    assert completed.returncode == 0, completed.stderr
    (folder,) = [path for path in results_dir.iterdir() if not path.name.startswith(".")]
    return completed, json.loads((folder / "record.json").read_text()), folder, results_dir, elapsed_s


def test_run_trains_both_models_with_real_measurements(smoke_run):
    _, record, _, _, elapsed_s = smoke_run
    assert elapsed_s < 180
    assert [run["model"] for run in record["runs"]] == ["Conv2D", "SeparableConv2D"]
    assert [run["parameters"] for run in record["runs"]] == [431_242, 414_899]
    for run in record["runs"]:
        assert 0.0 < run["test_accuracy"] <= 1.0
        assert run["test_loss"] > 0 and math.isfinite(run["test_loss"])
        assert run["duration_s"] > 0 and run["energy_consumed_kwh"] > 0 and run["emissions_kg"] > 0
        assert run["energy_consumed_kwh"] == pytest.approx(
            run["cpu_energy_kwh"] + run["gpu_energy_kwh"] + run["ram_energy_kwh"], rel=1e-6)
        assert run["emissions_rate_kg_per_s"] == pytest.approx(run["emissions_kg"] / run["duration_s"], rel=0.05)
        assert len(run["history"]["loss"]) == len(run["epoch_duration_s"]) == record["config"]["epochs"]
        assert run["country_iso_code"] == record["config"]["country_iso_code"]
        for field in RUN_FIELDS:
            assert run[field] not in (None, "", []), field


def test_record_carries_its_provenance(smoke_run):
    _, record, folder, _, _ = smoke_run
    for field in PROVENANCE_FIELDS:
        assert record[field] not in (None, "", {}, []), field
    assert record["config"]["profile"] == "smoke"
    assert record["hardware"]["cpu_count"] >= 1 and record["hardware"]["cpu_model"]
    assert record["versions"]["keras"] and record["versions"]["codecarbon"]
    assert len(record["dataset"]["sha256"]) == 64
    csv_lines = (folder / "emissions.csv").read_text().splitlines()
    assert csv_lines[0].startswith("timestamp") and len(csv_lines) == 3  # header + one row per model


def test_run_prints_progress_and_the_table(smoke_run):
    completed, _, _, _, _ = smoke_run
    assert "[Conv2D] epoch 1/1" in completed.stderr and "[SeparableConv2D] epoch 1/1" in completed.stderr
    assert "left)" in completed.stderr
    for row in ("accuracy", "loss", "duration", "energy_consumed", "emissions", "emissions_rate"):
        assert f"\n{row} " in completed.stdout
    assert "profile smoke" in completed.stdout


def test_second_run_reuses_and_report_reads_the_store(smoke_run, mnist_path):
    _, record, _, results_dir, _ = smoke_run
    started = time.perf_counter()
    again = convcarbon("run", "--profile", "smoke", results_dir=results_dir, mnist_path=mnist_path)
    assert again.returncode == 0 and "Reusing the stored result" in again.stderr
    assert "epoch" not in again.stderr
    assert time.perf_counter() - started < 60
    report = convcarbon("report", "--json", results_dir=results_dir, mnist_path=mnist_path)
    (table,) = json.loads(report.stdout)
    assert table["fingerprint"] == record["fingerprint"]
    accuracy = next(row for row in table["rows"] if row["metric"] == "accuracy")
    assert accuracy["Conv2D"] == record["runs"][0]["test_accuracy"]


def test_refresh_measures_again(smoke_run, mnist_path):
    _, record, folder, results_dir, _ = smoke_run
    refreshed = convcarbon("run", "--profile", "smoke", "--refresh", results_dir=results_dir, mnist_path=mnist_path)
    assert refreshed.returncode == 0 and "[Conv2D] epoch 1/1" in refreshed.stderr
    new_record = json.loads((folder / "record.json").read_text())
    assert new_record["fingerprint"] == record["fingerprint"]
    assert new_record["runs"][0]["codecarbon_run_id"] != record["runs"][0]["codecarbon_run_id"]


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_leaves_nothing_half_written(tmp_path, mnist_path, stop_signal):
    results_dir = tmp_path / "results"
    process = convcarbon("run", "--profile", "quick", results_dir=results_dir, mnist_path=mnist_path,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for line in process.stderr:  # wait until training has begun, then stop it mid-epoch
        if line.startswith("Training both models"):
            break
    time.sleep(3)
    process.send_signal(stop_signal)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "interrupted; no result was stored" in err and "Traceback" not in err
    assert sorted(path.name for path in results_dir.iterdir()) == [".lock"]
