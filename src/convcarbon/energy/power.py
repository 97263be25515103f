"""How CodeCarbon gets each part's power, what it assumes where it cannot measure, and the
machine's share of a whole chip's TDP.

Where no counter can be read, CodeCarbon multiplies the CPU load by a wattage
that depends on the machine: the whole chip's TDP when the model name is in
its table, 4 W per logical CPU when it is not, 85 W when it cannot even read
the model. A cloud VM is a slice of a chip: GitHub's 4-vCPU runners match
"AMD EPYC 7763", a 64-core chip of 280 W. Charging a whole chip's TDP to a
slice inflates the estimate many times over, so the wattage is scaled to the
machine's share of the chip where the chip's size is known.

The functions that read CodeCarbon's hardware objects use their private
attributes `_mode`, `_tdp`, `_is_generic_tdp` and `chip_part` (checked against
codecarbon 3.3): CodeCarbon exposes how it measures nowhere else.
"""

from __future__ import annotations

from convcarbon.records.hardware import core_count_in_name

# CodeCarbon's CPU modes that read a hardware energy counter rather than model one.
CPU_COUNTERS = {
    "intel_rapl": "RAPL energy counters",
    "intel_power_gadget": "Intel Power Gadget",
    "windows_emi": "Windows energy meter",
}
# Scale a matched TDP only when the chip has at least this many times the machine's logical CPUs.
SCALE_WHEN_CHIP_IS_LARGER_BY = 2


def classify(hardware) -> tuple[str, str, bool] | None:
    """(part, how its energy is obtained, measured?) for one of CodeCarbon's hardware objects;
    None for a kind this package does not know (it is then not counted as measured)."""
    kind = type(hardware).__name__
    if kind == "CPU":
        mode = getattr(hardware, "_mode", "unknown")
        if mode in CPU_COUNTERS:
            return "cpu", f"measured: {CPU_COUNTERS[mode]}", True
        tdp = _watts(getattr(hardware, "_tdp", None))
        generic = (
            " (generic: CPU model not in CodeCarbon's table)" if getattr(hardware, "_is_generic_tdp", False) else ""
        )
        if mode == "cpu_load":
            return "cpu", f"estimated: CPU load x {tdp} W{generic}", False
        if mode == "constant":
            return "cpu", f"estimated: constant 50% of {tdp} W{generic}", False
        return "cpu", f"estimated: CodeCarbon mode {mode!r}", False
    if kind == "GPU":
        return "gpu", "measured: NVML energy counter", True
    if kind == "AppleSiliconChip":
        part = "gpu" if str(getattr(hardware, "chip_part", "CPU")).upper() == "GPU" else "cpu"
        return part, "measured: Apple powermetrics", True
    if kind == "Raspberry":
        return "cpu", "measured: Raspberry Pi power monitor", True
    if kind == "RAM":
        return None
    return None


def tracking_methods(tracker, ram_power_w: float) -> dict:
    """How CodeCarbon got each part of the energy of one tracker: a hardware counter or a model."""
    methods = {"cpu": ("none: no CPU tracked", False), "gpu": ("none: no GPU found", False)}
    for hardware in getattr(tracker, "_hardware", []):
        classified = classify(hardware)
        if classified:
            part, method, measured = classified
            methods[part] = (method, measured)
    return {
        "cpu_tracking_method": methods["cpu"][0],
        "gpu_tracking_method": methods["gpu"][0],
        "ram_tracking_method": f"estimated: RAM power model ({ram_power_w:.0f} W)",
        "cpu_energy_measured": methods["cpu"][1],
        "gpu_energy_measured": methods["gpu"][1],
    }


def power_assumptions(tracker, cpu_model: str, logical_cpus: int, threads_per_core: int) -> dict:
    """What an unstarted tracker will assume (scaled to this machine's share of a chip where CodeCarbon
    charges a whole chip), and the wattages to pin on every tracker of the experiment (`pinned`)."""
    return pinned(_assumed(tracker, cpu_model, logical_cpus, threads_per_core))


def pinned(assumptions: dict) -> dict:
    """The assumptions with the wattages that every tracker of one experiment is given, so that its idle
    measurement and all its runs are estimated alike (CodeCarbon re-evaluates its RAM model per tracker:
    on one Intel Xeon VM a record's first run had RAM at 24 W and the others at 20 W).

    `cpu_pinned_power_w` is CodeCarbon's `force_cpu_power`: the assumed CPU wattage, pinned only where the CPU
    is estimated (forcing it where a counter is read would make CodeCarbon stop reading the counter).
    `ram_pinned_power_w` is `force_ram_power`: the RAM model's wattage as the probe found it.
    `power_pinning` says what was pinned, or why not."""
    estimated = assumptions["cpu_power_model"] in ("load model", "constant model")
    cpu_w = assumptions.get("cpu_assumed_power_w") if estimated else None
    ram_w = assumptions.get("ram_assumed_power_w")
    if assumptions["cpu_power_model"] == "counter":
        cpu_text = "CPU not pinned (its energy is read from a hardware counter)"
    elif cpu_w is None:
        cpu_text = "CPU not pinned (CodeCarbon's CPU wattage is not known before it starts)"
    else:
        cpu_text = f"CPU pinned at {cpu_w:g} W"
    ram_text = "RAM not pinned (CodeCarbon's RAM model gave no wattage)" if ram_w is None else f"RAM at {ram_w:g} W"
    return {
        **assumptions,
        "cpu_pinned_power_w": cpu_w,
        "ram_pinned_power_w": ram_w,
        "power_pinning": f"the same on every tracker of this record: {cpu_text}; {ram_text}",
    }


def _assumed(tracker, cpu_model: str, logical_cpus: int, threads_per_core: int) -> dict:
    cpu = next((hardware for hardware in getattr(tracker, "_hardware", []) if type(hardware).__name__ == "CPU"), None)
    ram = next((hardware for hardware in getattr(tracker, "_hardware", []) if type(hardware).__name__ == "RAM"), None)
    assumptions = {
        "cpu_power_model": _cpu_power_model(tracker, cpu),
        "cpu_table_match": None,
        "cpu_table_power_w": None,
        "cpu_chip_logical_cpus": None,
        "cpu_machine_share": None,
        "cpu_assumed_power_w": None,
        "cpu_power_scaled": False,
        "cpu_power_basis": None,
        "ram_assumed_power_w": _ram_power_w(ram),
    }
    if assumptions["cpu_power_model"] == "counter":
        assumptions["cpu_power_basis"] = "none assumed: a hardware counter is read"
    if assumptions["cpu_power_model"] not in ("load model", "constant model"):
        return assumptions
    assumed_w = _watts(getattr(cpu, "_tdp", None))
    match = _table_match(cpu_model) if cpu_model else None
    assumptions.update(
        cpu_assumed_power_w=assumed_w, cpu_table_match=match and match[0], cpu_table_power_w=match and match[1]
    )
    if getattr(cpu, "_is_generic_tdp", False):
        assumptions["cpu_power_basis"] = f"CodeCarbon's generic {assumed_w:g} W: the CPU model was not read"
    elif match is None:
        assumptions["cpu_power_basis"] = (
            f"CodeCarbon's default for a CPU not in its table: {assumed_w:g} W for {logical_cpus} logical CPU(s)"
        )
    else:
        assumptions.update(_share_of_chip(match, cpu_model, logical_cpus, threads_per_core, assumed_w))
    return assumptions


def _share_of_chip(
    match: tuple[str, float], cpu_model: str, logical_cpus: int, threads_per_core: int, assumed_w: float | None
) -> dict:
    name, chip_w = match
    cores = core_count_in_name(cpu_model)
    basis = f"CodeCarbon's table: {name}, {chip_w:g} W for the whole chip"
    if cores is None:
        return {"cpu_power_basis": basis + "; the chip's core count is unknown, so it is not scaled"}
    chip_logical_cpus = cores * max(threads_per_core, 1)
    share = min(1.0, logical_cpus / chip_logical_cpus)
    fields = {"cpu_chip_logical_cpus": chip_logical_cpus, "cpu_machine_share": share}
    if chip_logical_cpus < SCALE_WHEN_CHIP_IS_LARGER_BY * logical_cpus:
        return {
            **fields,
            "cpu_power_basis": basis + f" ({chip_logical_cpus} logical CPUs, this machine {logical_cpus})",
        }
    scaled_w = round((assumed_w or chip_w) * share, 2)
    return {
        **fields,
        "cpu_assumed_power_w": scaled_w,
        "cpu_power_scaled": True,
        "cpu_power_basis": (
            f"{basis}, scaled to this machine's share: {logical_cpus} of its "
            f"{chip_logical_cpus} logical CPUs, {scaled_w:g} W"
        ),
    }


def _cpu_power_model(tracker, cpu) -> str:
    classified = [classify(hardware) for hardware in getattr(tracker, "_hardware", [])]
    if any(item and item[0] == "cpu" and item[2] for item in classified):
        return "counter"
    if cpu is None:
        return "none"
    return {"cpu_load": "load model", "constant": "constant model"}.get(getattr(cpu, "_mode", ""), "other model")


def _ram_power_w(ram) -> float | None:
    if ram is None:
        return None
    try:
        return round(float(ram.total_power().W), 2)
    except Exception:  # a RAM model CodeCarbon cannot evaluate before starting: stated as unknown
        return None


def _table_match(cpu_model: str) -> tuple[str, float] | None:
    """The entry of CodeCarbon's TDP table that CodeCarbon itself matches to this model name."""
    from codecarbon.core.cpu import TDP
    from codecarbon.input import DataSource

    table = DataSource().get_cpu_power_data()
    name = TDP._get_matching_cpu(TDP.__new__(TDP), cpu_model, table)
    if not name:
        return None
    return name, float(table[table["Name"] == name]["TDP"].values[0])


def _watts(value) -> float | None:
    return None if value is None else round(float(value), 2)
