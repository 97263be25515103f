"""Tests that try to break the harness: no network, two runs at once, damaged records.

Each runs the real command line in child processes on the smoke profile.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import REPO_ROOT, child_environment, convcarbon_command, copy_book, run_book_command

from convcarbon.units import number

pytestmark = pytest.mark.training

NETWORK_GUARD = REPO_ROOT / "tests" / "network_guard"
TRACKER_FAULT = REPO_ROOT / "tests" / "tracker_fault"


def command(*arguments, results_dir):
    return convcarbon_command(*arguments, "--profile", "smoke", results_dir=results_dir)


def guarded_environment(mnist_path, log: Path) -> dict:
    """The environment of a child whose every Python process may reach only loopback."""
    return child_environment(mnist_path, NETWORK_GUARD, CONVCARBON_NETWORK_LOG=str(log))


def test_the_guard_really_blocks(tmp_path, mnist_path):
    log = tmp_path / "network.log"
    probe = (
        "import urllib.request\ntry:\n urllib.request.urlopen('http://example.com', timeout=5)\n"
        "except OSError as e:\n print(e)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe],
        env=guarded_environment(mnist_path, log),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "network access blocked" in completed.stdout
    assert "resolve example.com" in log.read_text()


def test_run_and_book_build_never_reach_the_network(tmp_path, mnist_path):
    """The whole build, kernels included, with sockets limited to loopback: nothing tries to get out."""
    log = tmp_path / "network.log"
    root = copy_book(tmp_path / "book")
    completed = run_book_command(
        root, root / "results", mnist_path, sitecustomize_dir=NETWORK_GUARD, CONVCARBON_NETWORK_LOG=str(log)
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert (root / "_build" / "html" / "book" / "experiment.html").exists()
    assert not log.exists(), f"something tried to reach the network: {log.read_text()}"


def test_two_runs_at_once_both_finish_on_one_record(tmp_path, mnist_path):
    results_dir = tmp_path / "results"
    environment = child_environment(mnist_path)
    processes = [
        subprocess.Popen(
            command("run", results_dir=results_dir),
            env=environment,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=600) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    errors = [err for _, err in outputs]
    assert sum("Training both models" in err for err in errors) == 1  # the other waited, then reused
    assert sum("Reusing the stored result" in err for err in errors) == 1
    (folder,) = [path for path in results_dir.iterdir() if not path.name.startswith(".")]
    record = json.loads((folder / "record.json").read_text())
    # Two runs per model: each run's accuracy is one end of its model's range, in percent.
    assert all(number(run["test_accuracy"] * 100) in outputs[0][0] for run in record["runs"])
    assert outputs[0][0] == outputs[1][0]  # both printed the same, complete table


@pytest.mark.parametrize("damage", ["truncate", "wrong_fingerprint", "missing_fields"])
def test_a_damaged_record_is_reported_and_measured_again(tmp_path, mnist_path, damage):
    results_dir = tmp_path / "results"
    environment = child_environment(mnist_path)
    first = subprocess.run(command("run", results_dir=results_dir), env=environment, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    (folder,) = [path for path in results_dir.iterdir() if not path.name.startswith(".")]
    record_path = folder / "record.json"
    record = json.loads(record_path.read_text())
    if damage == "truncate":
        record_path.write_text(record_path.read_text()[:200])
    elif damage == "wrong_fingerprint":
        record_path.write_text(json.dumps({**record, "fingerprint": "0" * 64}))
    else:
        record_path.write_text(json.dumps({key: value for key, value in record.items() if key != "runs"}))

    again = subprocess.run(command("run", results_dir=results_dir), env=environment, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert "ignoring damaged result" in again.stderr and "Training both models" in again.stderr
    repaired = json.loads(record_path.read_text())
    assert repaired["fingerprint"] == record["fingerprint"] and len(repaired["runs"]) == len(record["runs"]) == 4


@pytest.mark.parametrize("fault", ["start", "stop"])
def test_a_failing_tracker_is_reported_and_its_energy_recorded_as_missing(tmp_path, mnist_path, fault):
    results_dir = tmp_path / "results"
    environment = child_environment(mnist_path, TRACKER_FAULT, CONVCARBON_TEST_TRACKER_FAULT=fault)
    completed = subprocess.run(
        command("run", results_dir=results_dir), env=environment, capture_output=True, text=True, timeout=600
    )
    assert completed.returncode == 0, completed.stderr
    reason = f"CodeCarbon failed to {fault}: PermissionError: injected fault: cannot read the energy counter at {fault}"
    assert f"[convcarbon-conv2d] WARNING: {reason}" in completed.stderr
    assert "recorded as missing, not as zero" in completed.stderr and "Traceback" not in completed.stderr
    # The table says so and shows no number for what was not measured.
    assert "WARNING: energy and emissions were not measured" in completed.stdout
    energy_row = next(line for line in completed.stdout.splitlines() if line.startswith("energy ("))
    assert energy_row.split(")", 1)[1].split() == ["not", "measured"] * 3  # both models and their ratio; no number

    (folder,) = [path for path in results_dir.iterdir() if not path.name.startswith(".")]
    record = json.loads((folder / "record.json").read_text())
    for run in record["runs"]:
        assert run["energy_missing_reason"] == reason
        assert run["energy_consumed_kwh"] is None and run["emissions_kg"] is None
        assert run["duration_s"] > 0 and 0 < run["test_accuracy"] <= 1

    again = subprocess.run(
        command("run", results_dir=results_dir), env=environment, capture_output=True, text=True, timeout=600
    )
    assert again.returncode == 0
    assert "has no energy measurement; measuring again" in again.stderr  # never reused as if measured


def test_the_book_shows_missing_energy_as_missing(tmp_path, mnist_path):
    root = copy_book(tmp_path / "book")
    completed = run_book_command(
        root, root / "results", mnist_path, sitecustomize_dir=TRACKER_FAULT, CONVCARBON_TEST_TRACKER_FAULT="start"
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    html = (root / "_build" / "html" / "book" / "experiment.html").read_text()
    assert "Energy and emissions were not measured in this build" in html
    soup = BeautifulSoup(html, "html.parser")
    text = " ".join(soup.get_text(" ").split())
    assert "its energy ratio was not measured (medians: not measured against not measured)" in text
    shown = [element.get_text(strip=True) for element in soup.select("span.pasted-text, td")]
    assert "nan" not in shown and "0" not in shown
    assert "not measured" in shown  # the energy cells of the comparison table
    results = (root / "_build" / "html" / "book" / "results.html").read_text()
    assert "energy not measured, so no verdict" in results  # analysis.VERDICTS, in the prose and the table
