"""Hardware energy counters the atlas can read around a block of calls, where a machine has one.

A counter is a number of joules that only grows (with a wrap-around): Linux's RAPL
through /sys/class/powercap (CPU packages, Intel and AMD), NVML's total energy of
an NVIDIA GPU (Volta and later), and on macOS the CPU power that Apple's
`powermetrics` reports every 100 ms (it needs passwordless sudo, as on GitHub's
hosted macOS runners), summed over time into joules. Where none is readable, as on most virtual machines,
the atlas measures no energy: an estimate would only be time times an assumed
wattage, so its ratio would repeat the time ratio, and it is never written as a measurement.

Used by: book/atlas.md
"""

from __future__ import annotations

import platform
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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
    min_block_s: float = 0.05  # a block of calls lasts at least this long, for the counter's resolution
    close: Callable[[], None] = field(default=lambda: None)

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


POWERMETRICS_INTERVAL_MS = 100
POWERMETRICS_COMMAND = ("sudo", "-n", "powermetrics", "--samplers", "cpu_power", "-i", str(POWERMETRICS_INTERVAL_MS))
_CPU_POWER_LINE = re.compile(r"^CPU Power:\s*([0-9.]+)\s*mW")


def powermetrics_counter(
    command: tuple[str, ...] = POWERMETRICS_COMMAND, interval_s: float = POWERMETRICS_INTERVAL_MS / 1000
) -> EnergyCounter | None:
    """macOS: the CPU power `powermetrics` prints every interval, times the interval, summed in a reader thread."""
    try:
        process = subprocess.Popen(
            list(command), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
    except OSError:
        return None
    joules = [0.0]
    first_sample = threading.Event()

    def accumulate() -> None:
        for line in process.stdout:
            match = _CPU_POWER_LINE.match(line.strip())
            if match:
                joules[0] += float(match.group(1)) / 1000 * interval_s
                first_sample.set()
        first_sample.set()  # the process ended: stop waiting

    threading.Thread(target=accumulate, daemon=True).start()
    if not first_sample.wait(timeout=10 * interval_s + 5) or joules[0] == 0:  # no power line came
        process.kill()
        return None

    def close() -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()

    return EnergyCounter(
        f"powermetrics CPU power every {interval_s * 1000:.0f} ms, summed", lambda: joules[0], None, 0.5, close
    )


def find_counter() -> EnergyCounter | None:
    """The GPU's counter where there is one (the layers run there), else the CPU's, else None."""
    counter = nvml_counter() or rapl_counter()
    if counter is None and platform.system() == "Darwin" and shutil.which("powermetrics"):
        counter = powermetrics_counter()
    return counter
