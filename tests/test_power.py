"""How each part's energy is classified as measured or estimated, for every method CodeCarbon reports,
and the scaling of a whole chip's TDP to a VM's share of it."""

import pytest

from convcarbon.energy.power import classify, power_assumptions, tracking_methods


def hardware(kind, **attributes):
    """An object of CodeCarbon's class name `kind` carrying the attributes this package reads."""
    return type(kind, (), attributes)()


@pytest.mark.parametrize(
    "part, expected",
    [
        (hardware("CPU", _mode="intel_rapl", _tdp=None), ("cpu", "measured: RAPL energy counters", True)),
        (hardware("CPU", _mode="intel_power_gadget"), ("cpu", "measured: Intel Power Gadget", True)),
        (hardware("CPU", _mode="windows_emi"), ("cpu", "measured: Windows energy meter", True)),
        (hardware("GPU"), ("gpu", "measured: NVML energy counter", True)),
        (hardware("AppleSiliconChip", chip_part="CPU"), ("cpu", "measured: Apple powermetrics", True)),
        (hardware("AppleSiliconChip", chip_part="GPU"), ("gpu", "measured: Apple powermetrics", True)),
        (
            hardware("CPU", _mode="cpu_load", _tdp=8, _is_generic_tdp=False),
            ("cpu", "estimated: CPU load x 8.0 W", False),
        ),
        (
            hardware("CPU", _mode="cpu_load", _tdp=85, _is_generic_tdp=True),
            ("cpu", "estimated: CPU load x 85.0 W (generic: CPU model not in CodeCarbon's table)", False),
        ),
        (
            hardware("CPU", _mode="constant", _tdp=280, _is_generic_tdp=False),
            ("cpu", "estimated: constant 50% of 280.0 W", False),
        ),
        (hardware("RAM"), None),
    ],
)
def test_every_codecarbon_method_is_classified(part, expected):
    assert classify(part) == expected


def test_a_tracker_with_a_gpu_counter_and_a_cpu_model_is_measured_on_the_gpu_only():
    tracker = hardware(
        "Tracker", _hardware=[hardware("RAM"), hardware("CPU", _mode="cpu_load", _tdp=8), hardware("GPU")]
    )
    methods = tracking_methods(tracker, ram_power_w=20.0)
    assert methods == {
        "cpu_tracking_method": "estimated: CPU load x 8.0 W",
        "gpu_tracking_method": "measured: NVML energy counter",
        "ram_tracking_method": "estimated: RAM power model (20 W)",
        "cpu_energy_measured": False,
        "gpu_energy_measured": True,
    }


class _Ram:
    def total_power(self):
        return type("Power", (), {"W": 20.0})()


def tracker_with_cpu(**cpu):
    ram = type("RAM", (_Ram,), {})()
    return hardware("Tracker", _hardware=[ram, hardware("CPU", **cpu)])


def test_a_matched_many_core_chip_is_scaled_to_the_vms_share():
    tracker = tracker_with_cpu(_mode="cpu_load", _tdp=280.0, _is_generic_tdp=False)
    assumptions = power_assumptions(tracker, "AMD EPYC 7763 64-Core Processor", logical_cpus=4, threads_per_core=2)
    assert assumptions["cpu_table_match"] == "AMD EPYC 7763" and assumptions["cpu_table_power_w"] == 280.0
    assert assumptions["cpu_chip_logical_cpus"] == 128 and assumptions["cpu_machine_share"] == 4 / 128
    assert assumptions["cpu_power_scaled"] is True
    assert assumptions["cpu_assumed_power_w"] == assumptions["cpu_pinned_power_w"] == pytest.approx(8.75)
    assert "scaled to this machine's share" in assumptions["cpu_power_basis"]
    assert assumptions["ram_assumed_power_w"] == 20.0


def test_a_whole_chip_is_not_scaled():
    tracker = tracker_with_cpu(_mode="cpu_load", _tdp=280.0, _is_generic_tdp=False)
    assumptions = power_assumptions(tracker, "AMD EPYC 7763 64-Core Processor", logical_cpus=128, threads_per_core=2)
    assert assumptions["cpu_power_scaled"] is False
    assert assumptions["cpu_assumed_power_w"] == assumptions["cpu_pinned_power_w"] == 280.0


def test_an_unknown_cpu_states_codecarbons_per_thread_default():
    tracker = tracker_with_cpu(_mode="cpu_load", _tdp=8, _is_generic_tdp=False)
    assumptions = power_assumptions(tracker, "AMD EPYC", logical_cpus=2, threads_per_core=1)
    assert assumptions["cpu_table_match"] is None and assumptions["cpu_power_scaled"] is False
    assert "not in its table" in assumptions["cpu_power_basis"] and assumptions["cpu_assumed_power_w"] == 8.0


def test_a_counter_assumes_no_wattage():
    tracker = tracker_with_cpu(_mode="intel_rapl")
    assumptions = power_assumptions(tracker, "Intel Xeon", logical_cpus=8, threads_per_core=2)
    assert assumptions["cpu_power_model"] == "counter" and assumptions["cpu_assumed_power_w"] is None


def test_a_counter_is_never_pinned_but_the_ram_model_is():
    """Forcing a CPU wattage makes CodeCarbon stop reading RAPL: only the RAM model is pinned then."""
    assumptions = power_assumptions(
        tracker_with_cpu(_mode="intel_rapl"), "Intel Xeon", logical_cpus=8, threads_per_core=2
    )
    assert assumptions["cpu_pinned_power_w"] is None and assumptions["ram_pinned_power_w"] == 20.0
    assert assumptions["power_pinning"] == (
        "the same on every tracker of this record: CPU not pinned (its energy is read from a hardware counter); "
        "RAM at 20 W"
    )


def test_an_estimated_cpu_and_the_ram_model_are_pinned_at_what_the_probe_found():
    tracker = tracker_with_cpu(_mode="cpu_load", _tdp=8, _is_generic_tdp=False)
    assumptions = power_assumptions(tracker, "Intel Xeon Processor", logical_cpus=2, threads_per_core=2)
    assert (assumptions["cpu_pinned_power_w"], assumptions["ram_pinned_power_w"]) == (8.0, 20.0)
    assert assumptions["power_pinning"].endswith("CPU pinned at 8 W; RAM at 20 W")


def test_every_tracker_of_an_experiment_gets_the_pinned_wattages(monkeypatch, tmp_path):
    """The idle measurement and every run go through `measure_energy`, which hands the pinned wattages to
    CodeCarbon's force_cpu_power and force_ram_power."""
    import codecarbon

    from convcarbon.config import resolve_config
    from convcarbon.energy.tracking import measure_energy

    made = []

    class RecordingTracker:
        def __init__(self, **options):
            made.append(options)
            raise RuntimeError("stop here: only the options are under test")

    monkeypatch.setattr(codecarbon, "OfflineEmissionsTracker", RecordingTracker)
    pinned = {"cpu_pinned_power_w": 8.0, "ram_pinned_power_w": 20.0}
    result, fields = measure_energy(resolve_config("smoke", environ={}), tmp_path, "test", lambda tracker: 7, pinned)
    assert result == 7 and fields["energy_missing_reason"].startswith("CodeCarbon failed to start")
    assert (made[0]["force_cpu_power"], made[0]["force_ram_power"]) == (8.0, 20.0)


def xeon_record():
    """As measured on an Intel Xeon VM before schema 5: the first run's RAM model at 24 W, the others' at 20 W."""
    from synthetic import paired_record

    record = paired_record([0.01, 0.011, 0.012], [0.008, 0.009, 0.01], cpu="Intel Xeon Processor (Sapphire Rapids)")
    record["runs"][0].update(ram_power_w=24.0, ram_tracking_method="estimated: RAM power model (24 W)")
    return record


def test_a_record_whose_runs_assumed_different_wattages_is_flagged_everywhere():
    from synthetic import paired_record

    from convcarbon.site.book import provenance_note
    from convcarbon.training.analyze.machines import MIXED_MARK, energy_method, summary_frame
    from convcarbon.training.analyze.report import mixed_power_assumptions, provenance_lines
    from convcarbon.training.measure.schema import record_problem

    record = xeon_record()
    assert record_problem(record) is None  # valid: flagged, not refused
    mixed = mixed_power_assumptions(record)
    assert mixed == (
        "assumed wattage differs between the measurements of this record: RAM 20.0 W in the idle measurement, "
        "Conv2D repeat 2 and 4 more; 24.0 W in Conv2D repeat 1"
    )
    assert energy_method(record).endswith("; " + MIXED_MARK)
    cells = summary_frame([record], record).data
    assert cells["energy ratio"][0].endswith(", " + MIXED_MARK)
    assert not cells["time ratio"][0].endswith(MIXED_MARK)
    assert f"WARNING: {mixed}; the energy ratio mixes these assumptions." in provenance_lines(record)
    assert "**Mixed assumptions:** assumed wattage differs" in provenance_note(record).data
    uniform = paired_record([0.01, 0.011, 0.012], [0.008, 0.009, 0.01])
    assert mixed_power_assumptions(uniform) is None and MIXED_MARK not in energy_method(uniform)
    assert "Mixed assumptions" not in provenance_note(uniform).data


def test_a_cpu_wattage_that_changed_between_runs_is_flagged_and_a_run_without_energy_is_left_out():
    from convcarbon.training.analyze.report import mixed_power_assumptions

    record = xeon_record()
    record["runs"][0].update(ram_power_w=20.0, energy_missing_reason="CodeCarbon failed to stop: injected")
    assert mixed_power_assumptions(record) is None
    record["runs"][1]["cpu_tracking_method"] = "estimated: CPU load x 85.0 W"
    assert mixed_power_assumptions(record).endswith(
        "CPU estimated: CPU load x 8 W TDP in the idle measurement, Conv2D repeat 3 and 3 more; "
        "estimated: CPU load x 85.0 W in Conv2D repeat 2"
    )
