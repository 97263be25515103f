"""`python -m convcarbon counters`: the energy counters of a machine, on fake sysfs trees and on this one."""

import json
import os
import stat
import sys
from pathlib import Path

import pytest
from codecarbon.core import cpu as codecarbon_cpu
from synthetic import make_atlas, paired_record

from convcarbon.cli import main
from convcarbon.energy import counter_reading as atlas_energy
from convcarbon.energy import counters

NO_GPU = ([], "NVML (pynvml): no NVIDIA driver")


def fake_powercap(root: Path, mode: int = 0o444) -> Path:
    """A powercap tree as Linux has it on a one-socket Intel machine: package 0, its cores, and DRAM."""
    for folder, name in (("intel-rapl:0", "package-0"), ("intel-rapl:0:0", "core"), ("intel-rapl:0:1", "dram")):
        domain = root / folder
        domain.mkdir(parents=True)
        (domain / "name").write_text(name + "\n")
        (domain / "max_energy_range_uj").write_text("262143328850\n")
        (domain / "energy_uj").write_text("123456789\n")
        (domain / "energy_uj").chmod(mode)
    return root


def as_another_user(path: Path) -> bool:
    """What a user other than the file's owner may do (the tests run as root, who reads everything)."""
    return bool(path.stat().st_mode & stat.S_IROTH)


def linux(root, readable=counters.can_read, gpus=NO_GPU):
    return counters.find_counters(root, system="Linux", apple_silicon=False, readable=readable, gpus=gpus)


def test_a_readable_tree_is_measured_by_run_and_atlas(tmp_path):
    root = fake_powercap(tmp_path / "powercap")
    report = linux(root)
    assert [counter.name for counter in report.counters] == [
        "intel-rapl:0 (package-0)",
        "intel-rapl:0:0 (core)",
        "intel-rapl:0:1 (dram)",
    ]
    assert all(counter.readable and counter.enable_command is None for counter in report.counters)
    assert report.run_cpu.startswith("measured: RAPL") and report.atlas == "measured: RAPL (1 CPU package(s))"
    assert atlas_energy.rapl_counter(root) is not None  # the atlas's own reader agrees, and CodeCarbon's:
    assert codecarbon_cpu.is_rapl_available(str(root))


def test_an_unreadable_tree_shows_the_command_that_enables_each_counter(tmp_path):
    root = fake_powercap(tmp_path / "powercap", mode=0o400)  # as the kernel leaves it since CVE-2020-8694
    report = linux(root, readable=as_another_user)
    assert report.counters and not report.any_readable
    package = report.counters[0]
    assert package.enable_command == f"sudo chmod a+r {root / 'intel-rapl:0' / 'energy_uj'}"
    assert "CVE-2020-8694" in package.security_note and "until the next boot" in package.security_note
    assert report.run_cpu == "estimated: CPU load x an assumed wattage (no RAPL package domain is readable)"
    assert report.atlas.startswith("no energy")
    text = counters.format_report(report)
    assert "NOT readable" in text and f"enable: sudo chmod a+r {root / 'intel-rapl:0' / 'energy_uj'}" in text
    os.chmod(root / "intel-rapl:0" / "energy_uj", 0o444)  # the command run: now readable
    assert linux(root, readable=as_another_user).run_cpu.startswith("measured: RAPL")


def test_only_the_dram_domain_readable_is_not_enough_for_codecarbon_or_the_atlas(tmp_path):
    root = fake_powercap(tmp_path / "powercap", mode=0o400)
    (root / "intel-rapl:0:1" / "energy_uj").chmod(0o444)
    report = linux(root, readable=as_another_user)
    assert report.any_readable and report.run_cpu.startswith("estimated") and report.atlas.startswith("no energy")


def test_a_missing_tree_lists_nothing(tmp_path):
    report = linux(tmp_path / "no-powercap")
    assert report.counters == [] and not report.any_readable
    assert report.run_cpu.startswith("estimated") and report.atlas.startswith("no energy")
    assert atlas_energy.rapl_counter(tmp_path / "no-powercap") is None
    assert not codecarbon_cpu.is_rapl_available(str(tmp_path / "no-powercap"))


def mac(which, code, apple_silicon=True):
    return counters.find_counters(
        system="Darwin",
        apple_silicon=apple_silicon,
        which=which,
        gpus=NO_GPU,
        run=lambda command: (code, ""),
        user="ada",
    )


def test_a_mac_without_powermetrics_has_no_counter():
    report = mac(which=lambda name: None, code=0)
    assert report.counters == [] and report.atlas.startswith("no energy") and report.run_cpu.startswith("estimated")


def test_powermetrics_readable_serves_the_atlas_but_not_codecarbon_on_apple_silicon():
    report = mac(which=lambda name: f"/usr/bin/{name}", code=0)
    assert [counter.kind for counter in report.counters] == ["powermetrics"] and report.any_readable
    assert report.atlas == "measured: powermetrics CPU power, summed"
    assert report.run_cpu.startswith("estimated") and "before powermetrics" in report.run_cpu
    intel_mac = mac(which=lambda name: f"/usr/bin/{name}", code=0, apple_silicon=False)
    assert intel_mac.run_cpu.startswith("measured: powermetrics")


def test_powermetrics_behind_a_password_shows_the_sudoers_rule():
    (counter,) = mac(which=lambda name: f"/usr/bin/{name}", code=1).counters
    assert not counter.readable
    assert counter.enable_command == (
        "echo 'ada ALL=(root) NOPASSWD: /usr/bin/powermetrics' | sudo tee /etc/sudoers.d/convcarbon-powermetrics"
        " > /dev/null && sudo chmod 0440 /etc/sudoers.d/convcarbon-powermetrics"
    )
    assert "survives a reboot" in counter.security_note


def test_gpus_without_pynvml_are_listed_through_nvidia_smi_and_not_called_readable(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml raises ImportError
    assert counters.nvml_gpus(which=lambda name: None) == ([], "neither pynvml nor nvidia-smi is installed")
    gpus, source = counters.nvml_gpus(which=lambda name: "/usr/bin/nvidia-smi", run=lambda command: (0, "Tesla T4\n"))
    assert source == "nvidia-smi" and [(gpu.name, gpu.energy_readable) for gpu in gpus] == [("Tesla T4", False)]


def test_a_readable_gpu_is_what_the_atlas_reads_first(tmp_path):
    gpus = ([counters.Gpu("NVIDIA H100", True, "total energy readable by every user")], "NVML (pynvml)")
    report = counters.find_counters(
        fake_powercap(tmp_path / "powercap"), system="Linux", apple_silicon=False, which=lambda name: name, gpus=gpus
    )
    assert (
        report.atlas == "measured: NVML total energy (1 GPU(s))" and report.run_gpu == "measured: NVML energy counter"
    )
    no_smi = counters.find_counters(tmp_path, system="Linux", apple_silicon=False, which=lambda name: None, gpus=gpus)
    assert no_smi.run_gpu.startswith("none: CodeCarbon looks for GPUs by running nvidia-smi")


def test_hostile_names_reach_the_terminal_inert(tmp_path):
    root = fake_powercap(tmp_path / "powercap")
    (root / "intel-rapl:0" / "name").write_text("package\x1b[31m\u202e-0\n")
    text = counters.format_report(linux(root))
    assert "\x1b" not in text and "\u202e" not in text and "package\\x1b[31m\\u202e-0" in text


def test_this_machine_is_reported_as_its_sys_says(capsys):
    """Truthful on the machine the tests run on: every RAPL file the kernel lists, readable exactly when it is."""
    code = main(["counters", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    powercap = Path("/sys/class/powercap")
    energy_files = sorted(powercap.glob("*rapl*:*/energy_uj")) if powercap.is_dir() else []
    listed = {counter["source"]: counter["readable"] for counter in report["counters"] if counter["kind"] == "RAPL"}
    assert listed == {str(path): os.access(path, os.R_OK) for path in energy_files}
    nvidia_driver = Path("/proc/driver/nvidia/gpus").is_dir()
    assert any(counter["kind"] == "NVML" for counter in report["counters"]) == nvidia_driver
    if not report["any_readable"]:  # as on the project's VM: no counter, so both commands say what they do instead
        assert report["run_cpu"].startswith("estimated") and report["atlas"].startswith("no energy")


def test_counters_exit_codes(capsys):
    assert main(["counters"]) == 0
    assert "What the commands will use:" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        main(["counters", "--no-such-option"])
    assert exit_info.value.code == 2


def rapl_record():
    """A training record whose CPU energy was read on RAPL, as CodeCarbon writes it where the counter is readable."""
    record = paired_record([0.010, 0.011, 0.012], [0.006, 0.0065, 0.007])
    for run in record["runs"]:
        run.update(cpu_tracking_method="measured: RAPL energy counters", cpu_energy_measured=True)
    record["power_assumptions"].update(
        cpu_power_model="counter", cpu_assumed_power_w=None, cpu_pinned_power_w=None, cpu_power_basis=None
    )
    return record


def test_a_record_made_with_a_counter_says_measured_wherever_its_energy_is_named():
    from convcarbon.site.prose import energy_status_phrase
    from convcarbon.training.analyze.machines import energy_method
    from convcarbon.training.analyze.report import format_report, power_assumption_text

    record = rapl_record()
    assert energy_method(record).startswith("CPU measured (RAPL energy counters)")  # the class table's column
    assert "no hardware energy counter was read" not in format_report(record)
    assert "measured" in power_assumption_text(record) and "measured" in energy_status_phrase(record)


def test_an_atlas_made_with_a_counter_says_measured_in_the_terminal_and_on_its_page():
    from convcarbon.atlas.analyze.analysis import format_atlas
    from convcarbon.atlas.publish.page import book_layers_table, provenance_note

    atlas = make_atlas()
    atlas["energy"].update(method="counter", counter="RAPL (1 CPU package(s), /sys/class/powercap)", note="read")
    for point in atlas["points"]:
        point["energy_j"] = 10 * point["median_s"]
    assert "energy: measured, read" in format_atlas(atlas)
    assert "measured, read on a hardware counter, RAPL" in provenance_note(atlas, measured=True).data
    assert "measured energy ratio" in book_layers_table(atlas).data.columns
