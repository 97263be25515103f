"""Hardware energy counters the atlas can read around a block of calls, where a machine has one.

A counter is a number of joules that only grows (with a wrap-around): Linux's RAPL
through /sys/class/powercap (CPU packages, Intel and AMD) and NVML's total energy of
an NVIDIA GPU (Volta and later). Where none is readable, as on most virtual machines,
the atlas measures no energy: an estimate would only be time times an assumed
wattage, so its ratio would repeat the time ratio, and it is never written as a measurement.

Used by: book/atlas.md
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

POWERCAP_ROOT = Path("/sys/class/powercap")
NO_COUNTER_NOTE = (
    "no hardware energy counter is readable on this machine (no RAPL under /sys/class/powercap, no NVML): "
    "an energy figure would only be time times an assumed wattage, so its ratio would repeat the time ratio; "
    "none is given"
)


@dataclass
class EnergyCounter:
    """A readable counter: `read()` gives joules so far, `wrap_j` where it wraps around (None: it does not)."""

    name: str
    read: Callable[[], float]
    wrap_j: float | None = None

    def joules_between(self, before: float, after: float) -> float:
        """Energy between two readings, across at most one wrap-around."""
        if after >= before:
            return after - before
        if self.wrap_j is None:
            raise ValueError(f"{self.name}: the counter went backwards ({before} J, then {after} J)")
        return after + self.wrap_j - before


def measure_block(counter: EnergyCounter, block: Callable[[], None]) -> tuple[float, float]:
    """(seconds, joules) of one run of `block`, read on the counter before and after."""
    before = counter.read()
    start = time.perf_counter()
    block()
    duration_s = time.perf_counter() - start
    return duration_s, counter.joules_between(before, counter.read())


def rapl_counter(root: Path = POWERCAP_ROOT) -> EnergyCounter | None:
    """The sum of the CPU packages' RAPL counters (intel-rapl:0, intel-rapl:1, ...), if every one is readable."""
    packages = sorted(folder for folder in root.glob("intel-rapl:*") if folder.name.count(":") == 1)
    try:
        for folder in packages:
            float((folder / "energy_uj").read_text())
        wraps = [float((folder / "max_energy_range_uj").read_text()) / 1e6 for folder in packages]
    except (OSError, ValueError):
        return None
    if not packages:
        return None

    def read() -> float:
        return sum(float((folder / "energy_uj").read_text()) for folder in packages) / 1e6

    # With several packages a wrap of one shows as a drop of the sum by that package's range.
    return EnergyCounter(f"RAPL ({len(packages)} CPU package(s), /sys/class/powercap)", read, wrap_j=max(wraps))


def nvml_counter() -> EnergyCounter | None:
    """The total energy of every NVIDIA GPU through NVML (millijoules since the driver loaded), if readable."""
    try:
        import pynvml

        pynvml.nvmlInit()
        handles = [pynvml.nvmlDeviceGetHandleByIndex(index) for index in range(pynvml.nvmlDeviceGetCount())]
        for handle in handles:
            pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)
    except Exception:
        return None
    if not handles:
        return None

    def read() -> float:
        return sum(pynvml.nvmlDeviceGetTotalEnergyConsumption(handle) for handle in handles) / 1000

    return EnergyCounter(f"NVML total energy ({len(handles)} GPU(s))", read)


def find_counter() -> EnergyCounter | None:
    """The GPU's counter where there is one (the layers run there), else the CPU's, else None."""
    return nvml_counter() or rapl_counter()
