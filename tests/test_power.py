"""How each part's energy is classified as measured or estimated, for every method CodeCarbon reports,
and the scaling of a whole chip's TDP to a VM's share of it."""

import pytest

from convcarbon.measure.power import classify, power_assumptions, tracking_methods


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
    assert assumptions["cpu_assumed_power_w"] == assumptions["cpu_forced_power_w"] == pytest.approx(8.75)
    assert "scaled to this machine's share" in assumptions["cpu_power_basis"]
    assert assumptions["ram_assumed_power_w"] == 20.0


def test_a_whole_chip_is_not_scaled():
    tracker = tracker_with_cpu(_mode="cpu_load", _tdp=280.0, _is_generic_tdp=False)
    assumptions = power_assumptions(tracker, "AMD EPYC 7763 64-Core Processor", logical_cpus=128, threads_per_core=2)
    assert assumptions["cpu_power_scaled"] is False and assumptions["cpu_forced_power_w"] is None
    assert assumptions["cpu_assumed_power_w"] == 280.0


def test_an_unknown_cpu_states_codecarbons_per_thread_default():
    tracker = tracker_with_cpu(_mode="cpu_load", _tdp=8, _is_generic_tdp=False)
    assumptions = power_assumptions(tracker, "AMD EPYC", logical_cpus=2, threads_per_core=1)
    assert assumptions["cpu_table_match"] is None and assumptions["cpu_power_scaled"] is False
    assert "not in its table" in assumptions["cpu_power_basis"] and assumptions["cpu_assumed_power_w"] == 8.0


def test_a_counter_assumes_no_wattage():
    tracker = tracker_with_cpu(_mode="intel_rapl")
    assumptions = power_assumptions(tracker, "Intel Xeon", logical_cpus=8, threads_per_core=2)
    assert assumptions["cpu_power_model"] == "counter" and assumptions["cpu_assumed_power_w"] is None
