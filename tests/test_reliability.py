"""Tests that try to break the harness: no network, two runs at once, damaged records, a failing tracker.

Each runs the real command line in child processes on the smoke profile. The network guard is checked on the
session's built book (`built_book`), two runs at once and the damaged record on the session's smoke training
(`smoke_store`); a failing tracker trains one repeat per model, without the idle measurement.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from helpers import (
    NETWORK_GUARD,
    child_environment,
    convcarbon_command,
    copy_book,
    copy_store,
    run_book_command,
    stored_folders,
    stub_chapters,
)

from convcarbon.units import number


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


def test_run_and_book_build_never_reach_the_network(built_book):
    """The whole build, kernels included, with sockets limited to loopback: nothing tries to get out."""
    assert (built_book["html"] / "book" / "experiment.html").exists()
    log = built_book["network_log"]
    assert not log.exists(), f"something tried to reach the network: {log.read_text()}"


def test_two_runs_at_once_both_finish_on_one_record(smoke_store):
    """`smoke_store` starts two runs at once on an empty store."""
    runs = smoke_store["runs"]
    errors = [run.stderr for run in runs]
    assert sum("Training both models" in err for err in errors) == 1  # the other waited, then reused
    assert sum("Reusing the stored result" in err for err in errors) == 1
    record = smoke_store["record"]
    # Two runs per model: each run's accuracy is one end of its model's range, in percent.
    assert all(number(run["test_accuracy"] * 100) in runs[0].stdout for run in record["runs"])
    assert runs[0].stdout == runs[1].stdout  # both printed the same, complete table


# Enough to see what a failing tracker leaves: one run per model, no idle measurement.
# One run fails both ways (conftest's faulty_run): the Conv2D model's trackers at start, the others at stop.
FAULT_OF_MODEL = {"Conv2D": "start", "SeparableConv2D": "stop"}


def fault_reason(fault: str) -> str:
    return f"CodeCarbon failed to {fault}: PermissionError: injected fault: cannot read the energy counter at {fault}"


@pytest.mark.training
def test_a_damaged_record_is_reported_and_measured_again(damaged_rerun):
    """A truncated record, through the command line (the faulty run's, whose work is the smallest: one run per
    model, run again by conftest's damaged_rerun); test_store checks every other damage (missing fields, a wrong
    fingerprint, not an object, no file) is ignored with the same warning."""
    again, record, record_path = damaged_rerun["again"], damaged_rerun["record"], damaged_rerun["record_path"]
    assert again.returncode == 0, again.stderr
    assert "ignoring damaged result" in again.stderr and "Training both models" in again.stderr
    repaired = json.loads(record_path.read_text())
    assert repaired["fingerprint"] == record["fingerprint"] and len(repaired["runs"]) == len(record["runs"]) == 2
    assert all(run["energy_consumed_kwh"] is not None for run in repaired["runs"])  # measured this time


@pytest.mark.training
def test_a_failing_tracker_is_reported_and_its_energy_recorded_as_missing(faulty_run):
    """A tracker failing at start and one failing at stop, in one run. That such a record is measured again, never
    reused as if measured, is test_store's (the store decides, with the same warning on the terminal as for a
    damaged record, which the test above sees)."""
    completed, results_dir = faulty_run
    assert completed.returncode == 0, completed.stderr
    assert f"[convcarbon-conv2d] WARNING: {fault_reason('start')}" in completed.stderr
    assert f"[convcarbon-separable] WARNING: {fault_reason('stop')}" in completed.stderr
    assert "recorded as missing, not as zero" in completed.stderr and "Traceback" not in completed.stderr
    # The table says so and shows no number for what was not measured.
    assert "WARNING: energy and emissions were not measured" in completed.stdout
    energy_row = next(line for line in completed.stdout.splitlines() if line.startswith("energy ("))
    assert energy_row.split(")", 1)[1].split() == ["not", "measured"] * 3  # both models and their ratio; no number

    (folder,) = stored_folders(results_dir)
    record = json.loads((folder / "record.json").read_text())
    assert sorted(run["model"] for run in record["runs"]) == sorted(FAULT_OF_MODEL)
    for run in record["runs"]:
        assert run["energy_missing_reason"] == fault_reason(FAULT_OF_MODEL[run["model"]])
        assert run["energy_consumed_kwh"] is None and run["emissions_kg"] is None
        assert run["duration_s"] > 0 and 0 < run["test_accuracy"] <= 1


@pytest.mark.book
@pytest.mark.training
def test_the_book_shows_missing_energy_as_missing(faulty_run, tmp_path, mnist_path):
    """The record of a run whose trackers failed (at start, at stop), as the only record of a book built without
    training (as the Pages job builds), so that every page shows it. Only the two chapters that show its energy
    are built (the others are stubs, helpers.stub_chapters); that every chapter builds is built_book's check."""
    _, results_dir = faulty_run
    root = copy_book(tmp_path / "book")
    stub_chapters(root, keep=("book/experiment", "book/results"))
    for committed in (root / "book" / "records").iterdir():  # every training record; the atlases stay
        if committed.is_dir() and not committed.name.startswith("atlas-"):
            shutil.rmtree(committed)
    (folder,) = stored_folders(results_dir)
    copy_store(folder, root / "results")
    completed = run_book_command(root, root / "results", mnist_path, "--no-measure")
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
