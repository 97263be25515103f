"""Energy and emissions of one piece of work, measured by CodeCarbon's offline tracker.

Only `OfflineEmissionsTracker` is used, with the country from the configuration:
the online tracker silently assumes Quebec's grid when it cannot geolocate.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from convcarbon.config import ExperimentConfig
from convcarbon.grid import carbon_intensity_g_per_kwh, country_name, grid_data_year

from .power import power_assumptions, tracking_methods

Result = TypeVar("Result")


def measure_energy(
    config: ExperimentConfig,
    output_dir: Path,
    project_name: str,
    work: Callable[[object | None], Result],
    pinned: dict | None = None,
) -> tuple[Result, dict]:
    """Run `work(tracker)` inside a tracker; return its result and the flat energy fields.

    `pinned` (the probe's `power.pinned` assumptions) fixes the CPU and RAM wattages CodeCarbon assumes,
    so that every tracker of one experiment estimates alike. `work` gets the running tracker, or None
    when CodeCarbon failed to start, so that it can read the energy part-way (see `epochs.EpochMeter`).

    If CodeCarbon fails, the work still runs (or its result is kept), the failure
    is reported on stderr, and the energy fields are None with the reason in
    `energy_missing_reason`: a missing measurement is never written as a zero. The duration is then
    the work's own, timed here, without the tracker's start or stop: the epochs must add up to it.
    """
    tracker = None
    try:
        tracker = _new_tracker(config, output_dir, project_name, pinned or {})
        tracker.start()
    except KeyboardInterrupt:
        if tracker is not None:
            _stop_quietly(tracker)
        raise
    except Exception as error:
        reason = f"CodeCarbon failed to start: {type(error).__name__}: {error}"
        _warn(project_name, reason)
        started = time.perf_counter()
        result = work(None)
        return result, missing_energy_fields(config, time.perf_counter() - started, reason)
    started = time.perf_counter()
    try:
        result = work(tracker)
    except BaseException:
        _stop_quietly(tracker)
        raise
    worked_s = time.perf_counter() - started
    try:
        tracker.stop()
        data = tracker.final_emissions_data
        if data is None:
            raise RuntimeError("no emissions data was reported")
    except Exception as error:
        reason = f"CodeCarbon failed to stop: {type(error).__name__}: {error}"
        _warn(project_name, reason)
        return result, missing_energy_fields(config, worked_s, reason)
    return result, energy_fields(data, tracker, config)


# The fields that only a working tracker can fill.
ENERGY_VALUE_FIELDS = (
    "energy_consumed_kwh",
    "cpu_energy_kwh",
    "gpu_energy_kwh",
    "ram_energy_kwh",
    "cpu_power_w",
    "gpu_power_w",
    "ram_power_w",
    "emissions_kg",
    "emissions_rate_kg_per_s",
    "codecarbon_cpu_model",
    "codecarbon_gpu_model",
    "codecarbon_run_id",
)


def missing_energy_fields(config: ExperimentConfig, duration_s: float, reason: str) -> dict:
    """The same fields as `energy_fields`, with the energy left empty and the reason given."""
    not_measured = f"not measured: {reason}"
    return {
        "duration_s": duration_s,  # our own clock, since CodeCarbon's is not available
        **dict.fromkeys(ENERGY_VALUE_FIELDS),
        **_grid_fields(config),
        "pue": config.pue,
        "cpu_tracking_method": not_measured,
        "gpu_tracking_method": not_measured,
        "ram_tracking_method": not_measured,
        "cpu_energy_measured": False,
        "gpu_energy_measured": False,
        "energy_missing_reason": reason,
    }


def energy_fields(data, tracker, config: ExperimentConfig) -> dict:
    """CodeCarbon's EmissionsData as flat fields with units in their names."""
    methods = tracking_methods(tracker, ram_power_w=data.ram_power)
    return {
        "duration_s": data.duration,
        "energy_consumed_kwh": data.energy_consumed,
        "cpu_energy_kwh": data.cpu_energy,
        "gpu_energy_kwh": data.gpu_energy,
        "ram_energy_kwh": data.ram_energy,
        "cpu_power_w": data.cpu_power,
        "gpu_power_w": data.gpu_power,
        "ram_power_w": data.ram_power,
        "emissions_kg": data.emissions,
        "emissions_rate_kg_per_s": data.emissions_rate,
        **_grid_fields(config),
        "pue": data.pue,
        "codecarbon_cpu_model": data.cpu_model,
        "codecarbon_gpu_model": data.gpu_model,
        "codecarbon_run_id": str(data.run_id),
        **methods,
        "energy_missing_reason": None,
    }


def _grid_fields(config: ExperimentConfig) -> dict:
    return {
        "country_iso_code": config.country_iso_code,
        "country_name": country_name(config.country_iso_code),
        "carbon_intensity_g_per_kwh": carbon_intensity_g_per_kwh(config.country_iso_code),
        "grid_data_year": grid_data_year(config.country_iso_code),
    }


def cumulative_energy_kwh(tracker) -> float:
    """The energy the tracker has counted since it started, after a fresh reading.

    `flush()` is CodeCarbon's public way to take a reading mid-run (it also
    appends a row to emissions.csv); the running total it leaves behind is only
    on a private attribute (checked against codecarbon 3.3; a test compares the
    sum of the epochs with the tracker's own total).
    """
    tracker.flush()
    return tracker._total_energy.kWh


class EnergyWindows:
    """Back-to-back windows of time and energy, cut at the same instants: each `cut()` ends one window and starts
    the next. The energy is read first (the reading itself takes a moment: it writes a row of CodeCarbon's CSV),
    then the clock. Used by `epochs.EpochMeter` (one window per epoch) and `inference` (one per measurement).

    When the tracker cannot be read, the times go on and the energies become None (missing, never zero): the
    tracker's own total may still come at its stop. `label`, when given, names the run in the one warning printed.
    """

    def __init__(self, tracker, label: str | None = None):
        self.tracker, self.label = tracker, label
        self._energy_at_start = self._read()
        self._started = time.perf_counter()

    def elapsed_s(self) -> float:
        return time.perf_counter() - self._started

    def cut(self) -> tuple[float, float | None]:
        """(duration_s, energy_kwh) of the window that ends now; energy None when it could not be read."""
        energy = self._read()
        now = time.perf_counter()
        both = energy is not None and self._energy_at_start is not None
        window = (now - self._started, energy - self._energy_at_start if both else None)
        self._started, self._energy_at_start = now, energy
        return window

    def _read(self) -> float | None:
        if self.tracker is None:
            return None
        try:
            return cumulative_energy_kwh(self.tracker)
        except Exception as error:  # only the split is lost
            if self.label is not None:
                print(
                    f"[{self.label}] WARNING: cannot read CodeCarbon's energy per window "
                    f"({type(error).__name__}: {error}); the energy of each later window is recorded as missing.",
                    file=sys.stderr,
                    flush=True,
                )
            self.tracker = None
            return None


def probe_power_assumptions(config: ExperimentConfig, output_dir: Path) -> dict:
    """What CodeCarbon will assume on this machine, read from a tracker that is made but never started,
    with the wattages to pin on every tracker of the experiment (`power.power_assumptions`, `power.pinned`).

    If CodeCarbon cannot even be set up, the assumptions say so and nothing is pinned: the
    runs then record their energy as missing with the reason.
    """
    import psutil

    try:
        tracker = _new_tracker(config, output_dir, "convcarbon-probe", {})
        tracker._ensure_hardware_ready()  # CodeCarbon 3.3 detects the hardware lazily, at start
    except Exception as error:
        return {
            "cpu_power_model": "unknown",
            "cpu_power_basis": f"CodeCarbon could not be set up: {type(error).__name__}: {error}"[:600],
            "cpu_pinned_power_w": None,
            "ram_pinned_power_w": None,
            "power_pinning": "not pinned: CodeCarbon could not be set up before the runs",
        }
    logical_cpus = psutil.cpu_count(logical=True) or 1
    threads_per_core = logical_cpus // max(psutil.cpu_count(logical=False) or logical_cpus, 1)
    cpu = next((part for part in tracker._hardware if type(part).__name__ == "CPU"), None)
    return power_assumptions(tracker, getattr(cpu, "_model", None) or "", logical_cpus, threads_per_core)


def _new_tracker(config: ExperimentConfig, output_dir: Path, project_name: str, pinned: dict):
    from codecarbon import OfflineEmissionsTracker

    # CodeCarbon logs an info line per measurement; our own progress lines say enough.
    logging.getLogger("codecarbon").setLevel(logging.ERROR)
    return OfflineEmissionsTracker(
        project_name=project_name,
        country_iso_code=config.country_iso_code,
        pue=config.pue,
        measure_power_secs=config.measure_power_secs,
        tracking_mode=config.tracking_mode,
        output_dir=str(output_dir),
        output_file="emissions.csv",
        log_level="error",
        # Our results store holds its own lock; CodeCarbon's global one in /tmp
        # would be left behind by a killed run and block the next.
        allow_multiple_runs=True,
        force_cpu_power=pinned.get("cpu_pinned_power_w"),
        force_ram_power=pinned.get("ram_pinned_power_w"),
    )


def _warn(project_name: str, reason: str) -> None:
    print(
        f"[{project_name}] WARNING: {reason}; training goes on, and this run's energy and emissions "
        "are recorded as missing, not as zero.",
        file=sys.stderr,
        flush=True,
    )


def _stop_quietly(tracker) -> None:
    """Stop the tracker's sampling threads after a failure or an interrupt, without hiding it."""
    with contextlib.suppress(Exception):
        tracker.stop()
