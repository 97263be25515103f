"""The Pages runners' `counters --json` reports: validated as untrusted input, collected into the book's records
by `collect`, and shown by book/measuring.md as a table (or, with none, as no table and a count of none)."""

import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from convcarbon.cli import main
from convcarbon.energy import counters
from convcarbon.energy.counters_report import (
    MAX_COUNTERS_BYTES,
    counters_report_problem,
    read_counters_report,
    scan_counters_reports,
)
from convcarbon.records.collect import collect
from convcarbon.site import runner_counters


def fake_report(**changes) -> dict:
    """What `counters --json` prints on a Linux runner with one unreadable RAPL package and one NVML GPU."""
    root_only = counters.Counter(
        kind="RAPL",
        name="intel-rapl:0 (package-0)",
        source="/sys/class/powercap/intel-rapl:0/energy_uj",
        readable=False,
        detail="readable by root only (since CVE-2020-8694)",
        enable_command="sudo chmod a+r /sys/class/powercap/intel-rapl:0/energy_uj",
        security_note="CVE-2020-8694 (PLATYPUS): ...",
        package=True,
        codecarbon_package=True,
    )
    report = counters.find_counters(
        root=Path("/nonexistent/powercap"),
        system="Linux",
        apple_silicon=False,
        which=lambda program: "/usr/bin/nvidia-smi" if program == "nvidia-smi" else None,
        gpus=([counters.Gpu("NVIDIA H100", True, "total energy readable by every user")], "NVML (pynvml)"),
        user="runner",
        cpu_model="AMD EPYC 7763 64-Core Processor",
    ).to_dict()
    report["counters"].insert(0, asdict(root_only))
    return {**report, **changes}


def write_report(folder, runner: str, report) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text = report if isinstance(report, str) else json.dumps(report)
    (folder / f"counters-{runner}.json").write_text(text)


def test_what_counters_json_prints_is_a_valid_report_of_the_current_schema(tmp_path):
    report = fake_report()
    assert report["schema_version"] == counters.COUNTERS_SCHEMA_VERSION
    write_report(tmp_path, "ubuntu-latest", report)
    read, content, problem = read_counters_report(tmp_path / "counters-ubuntu-latest.json")
    assert problem is None and read["runner_class"] == "ubuntu-latest" and read["cpu_model"].startswith("AMD")
    assert json.loads(content) == report


def test_this_machines_counters_json_passes_the_schema_the_build_reads_it_with(capsys):
    assert main(["counters", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert counters_report_problem(report) is None
    assert report["schema_version"] == counters.COUNTERS_SCHEMA_VERSION and report["cpu_model"]


def test_a_valid_report_is_collected_beside_the_records_and_shown_in_the_table(tmp_path):
    source, target = tmp_path / "runner-records", tmp_path / "records"
    write_report(source, "ubuntu-latest", fake_report())
    collection = collect(source, target)
    assert collection.added == ["counters-ubuntu-latest.json"] and collection.skipped == []
    name = "counters-ubuntu-latest.json"
    assert (target / name).read_bytes() == (source / name).read_bytes()
    assert [path.name for path in target.iterdir() if path.name.startswith(".staging")] == []
    assert collect(source, target).already_there == ["counters-ubuntu-latest.json"]
    reports = runner_counters.runner_counters(target)
    assert [report["runner_class"] for report in reports] == ["ubuntu-latest"]
    html = runner_counters.runner_counters_table(reports).to_html()
    assert "ubuntu-latest" in html and "Linux, AMD EPYC 7763 64-Core Processor" in html
    assert "RAPL: 0 of 1 readable" in html and "NVML: 1 of 1 readable" in html
    assert "measured: NVML energy counter" in html and "estimated: CPU load" in html
    assert runner_counters.runner_counters_count(reports) == "1 counters report"


def test_a_different_report_of_the_same_runner_is_not_overwritten(tmp_path):
    source, target = tmp_path / "runner-records", tmp_path / "records"
    write_report(source, "macos-15", fake_report(system="Darwin"))
    write_report(target, "macos-15", fake_report())
    reasons = dict(collect(source, target).skipped)
    assert "already holds a different counters report; not overwritten" in reasons["counters-macos-15.json"]
    assert json.loads((target / "counters-macos-15.json").read_text())["system"] == "Linux"


HOSTILE_REPORTS = {
    "ansi": (fake_report(cpu_model="AMD \x1b[31mEPYC"), "at cpu_model: a name may hold no control character"),
    "bidi": (fake_report(run_cpu="estimated \u202e gnp.exe"), "at run_cpu: a name may hold no control character"),
    "nan": (json.dumps(fake_report(codecarbon="NAN_HERE")).replace('"NAN_HERE"', "NaN"), "holds NaN"),
    "extra": (fake_report(uploaded_by="me"), "Additional properties are not allowed ('uploaded_by'"),
    "extra-in-counter": (
        fake_report(counters=[{**fake_report()["counters"][0], "html": "<b>"}]),
        "at counters/0: Additional properties are not allowed",
    ),
    "old": (fake_report(schema_version=2), "written as counters schema 2; this version reads schema 1"),
    "unversioned": ({k: v for k, v in fake_report().items() if k != "schema_version"}, "'schema_version' is a"),
    "long": (fake_report(atlas="x" * 401), "at atlas: "),
    "list": ("[]", "does not hold an object"),
    "big": ("{" + " " * MAX_COUNTERS_BYTES + "}", "is larger than"),
}


@pytest.mark.parametrize("runner", sorted(HOSTILE_REPORTS))
def test_a_hostile_report_is_refused_with_its_reason_and_nothing_is_copied(tmp_path, runner):
    source, target = tmp_path / "runner-records", tmp_path / "records"
    report, reason = HOSTILE_REPORTS[runner]
    write_report(source, runner, report)
    collection = collect(source, target)
    assert collection.added == []
    ((name, problem),) = collection.skipped
    assert name == f"counters-{runner}.json" and reason in problem, problem
    assert not (target / name).exists()


def test_a_link_and_a_badly_named_report_are_refused(tmp_path):
    source, target = tmp_path / "runner-records", tmp_path / "records"
    write_report(tmp_path, "outside", fake_report())
    source.mkdir()
    (source / "counters-linked.json").symlink_to(tmp_path / "counters-outside.json")
    write_report(source, "bad name", fake_report())
    reasons = dict(collect(source, target).skipped)
    assert reasons["counters-linked.json"] == "counters-linked.json is a symbolic link, which is refused"
    assert reasons["counters-bad name.json"].startswith("its name is not counters-<runner class>.json")
    assert sorted(path.name for path in target.iterdir() if not path.name.startswith(".")) == []


def test_the_table_escapes_every_string_of_a_report(tmp_path):
    write_report(tmp_path, "ubuntu-latest", fake_report(cpu_model="<script>alert(1)</script> **bold**"))
    html = runner_counters.runner_counters_table(runner_counters.runner_counters(tmp_path)).to_html()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; **bold**" in html


def test_the_page_reads_only_valid_reports_and_logs_each_refused_one(tmp_path, caplog):
    write_report(tmp_path, "ubuntu-latest", fake_report())
    write_report(tmp_path, "ubuntu-24.04-arm", fake_report(cpu_model="Arm \x1b]8;;http://x\x07CPU"))
    reports = runner_counters.runner_counters(tmp_path)
    assert [report["runner_class"] for report in reports] == ["ubuntu-latest"]
    assert "skipping counters report counters-ubuntu-24.04-arm.json" in caplog.text and "\x1b" not in caplog.text


def test_without_reports_the_page_shows_no_table_and_says_none(tmp_path):
    (tmp_path / "full-0123456789abcdef").mkdir()  # a record's folder is not a counters report
    assert scan_counters_reports(tmp_path) == ([], [])
    assert runner_counters.runner_counters(tmp_path) == []
    assert runner_counters.runner_counters_table([]) is None
    assert runner_counters.runner_counters_count([]) == "no counters report"
    assert runner_counters.runner_counters_count([fake_report()] * 3) == "3 counters reports"


def test_the_command_collects_a_counters_report_alone_and_fails_on_a_bad_one_alone(tmp_path):
    source, target = tmp_path / "runner-records", tmp_path / "records"
    write_report(source, "macos-15", fake_report(system="Darwin"))
    command = [sys.executable, "-m", "convcarbon", "collect", str(source), "--into", str(target)]
    completed = subprocess.run(command, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    assert "collected 1 new record(s) or counters report(s)" in completed.stdout
    write_report(source, "macos-15", fake_report(system="Darwin\u202e"))
    completed = subprocess.run(command[:-1] + [str(tmp_path / "other")], capture_output=True, text=True)
    assert completed.returncode == 1
    assert "skipped counters-macos-15.json: counters-macos-15.json does not match" in completed.stdout
    assert "\u202e" not in completed.stdout
