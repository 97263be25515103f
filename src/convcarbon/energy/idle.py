"""The machine's power at rest, measured by the same tracker as the training runs.

Energy above idle is what the training added to a machine that would have
been on anyway; the rest is the cost of the machine being on.
"""

from __future__ import annotations

import time
from pathlib import Path

from convcarbon.config import ExperimentConfig

from .tracking import measure_energy

SECONDS_PER_HOUR = 3600.0


def measure_idle(config: ExperimentConfig, output_dir: Path, pinned: dict | None = None) -> dict | None:
    """Energy fields of `idle_duration_s` of sleeping, plus the mean power of each part, with the same
    pinned wattages as the runs (`tracking.measure_energy`).

    None when the configuration skips the idle measurement (idle_duration_s = 0).
    """
    if config.idle_duration_s == 0:
        return None
    _, fields = measure_energy(
        config, output_dir, "convcarbon-idle", lambda tracker: time.sleep(config.idle_duration_s), pinned
    )
    for part in ("", "cpu_", "gpu_", "ram_"):
        energy_field = f"{part}energy_kwh" if part else "energy_consumed_kwh"
        fields[f"idle_{part}power_w"] = mean_power_w(fields[energy_field], fields["duration_s"])
    return fields


def mean_power_w(energy_kwh: float | None, duration_s: float) -> float | None:
    if energy_kwh is None or not duration_s:
        return None
    return energy_kwh * 1000 * SECONDS_PER_HOUR / duration_s


def energy_above_idle_kwh(energy_kwh: float | None, duration_s: float, idle_power_w: float | None) -> float | None:
    """Energy minus what the machine draws at rest over the same time; None if either is missing.

    It can come out negative when the estimate at rest is noisy; it is never clipped.
    """
    if energy_kwh is None or idle_power_w is None:
        return None
    return energy_kwh - idle_power_w * duration_s / (1000 * SECONDS_PER_HOUR)
