"""Evidence that the machine was quiet while a record was measured: a fixed calibration, the load and steal time.

The calibration is a fixed task on one thread (NumPy sorting the same seeded numbers), run before the work, between
its parts (each atlas shape, each training run) and after it. Its time drifts when the processor slows or other work
takes it; each calibration stores its time, its drift from the first, the one-minute load average and, where
/proc/stat has it, the share of processor time the hypervisor stole since the previous calibration. An atlas measures
a block of points again while the calibration has drifted by more than `MAX_DRIFT` (atlas/measure/timing.py); a
training record stores the readings and the summary (training/measure/experiment.py).

Why many short sorts on one thread, not the backend's matrix product (issue 20, BENCHMARKS.md): on a quiet 2-vCPU
VM, after a layer's work, the backend's two-thread product ran in two modes up to 2x apart, and even the fastest of
a few long sorts drifted by up to 29% at times (the cause was not found); the fastest of many short sorts held
within 1% there. A busy machine still shows, in the load average, the steal time and the sort itself.

Used by: book/atlas.md, book/results.md
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CALIBRATION_NUMBERS = 2**16  # float32 numbers sorted by one calibration task: about 1.4 ms on a 2026 server core
CALIBRATION_TASK = f"NumPy sorting {CALIBRATION_NUMBERS:,} float32 numbers on one thread"  # what a record names
# The fastest of these is one calibration's time (about 0.1 s in all): a burst of other work slows some tasks,
# sustained work slows them all. Many short tasks, not a few long ones: on the 2-vCPU VM, after a layer's work, the
# fastest of 9 sorts of 2**18 numbers still drifted by up to +29% on a quiet machine, the fastest of 60 sorts of
# 2**16 by at most 1% (bench/calibration_probe.py, BENCHMARKS.md).
CALIBRATION_REPEATS = 60
CALIBRATION_WARM_UP_S = 0.2  # the task runs this long first, so that the first reading, the baseline, is not cold
MAX_DRIFT = 0.10  # a calibration more than 10% slower or faster than the first: the machine changed
BUSY_LOAD_PER_CPU = 0.75  # a start load above this per logical CPU: other work ran (the run's own start adds some)
MAX_STEAL = 0.02  # a hypervisor that took more than 2% of the processor time
PROC_STAT = Path("/proc/stat")


def calibration_task(numbers: int = CALIBRATION_NUMBERS) -> Callable[[], object]:
    """The fixed task: sort the same seeded numbers again (NumPy's sort runs on the calling thread alone). It is
    warmed up here, before the first reading."""
    values = np.random.default_rng(0).standard_normal(numbers, dtype=np.float32)

    def task() -> object:
        return np.sort(values)

    start = time.perf_counter()
    while time.perf_counter() - start < CALIBRATION_WARM_UP_S:
        task()
    return task


def cpu_times(path: Path = PROC_STAT) -> tuple[int, int] | None:
    """(steal, total) jiffies of all processors from /proc/stat's `cpu` line; None where it is absent or has
    no steal column (not Linux, or an old kernel)."""
    try:
        first = path.read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    if len(first) < 9 or first[0] != "cpu":
        return None
    try:
        values = [int(value) for value in first[1:]]
    except ValueError:
        return None
    return values[7], sum(values[:8])  # user nice system idle iowait irq softirq steal (guest is within user)


def load_average_1m() -> float | None:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # not on every system
        return None


@dataclass
class Calibrator:
    """Runs the calibration and keeps every reading; `clock` and `task` are replaceable for tests."""

    task: Callable[[], object] = field(default_factory=calibration_task)
    clock: Callable[[], float] = time.perf_counter
    read_cpu_times: Callable[[], tuple[int, int] | None] = cpu_times
    read_load: Callable[[], float | None] = load_average_1m
    readings: list[dict] = field(default_factory=list)
    _last_cpu: tuple[int, int] | None = None

    def calibrate(self, position: str) -> dict:
        """One calibration at `position` ("before", "between" or "after"), stored and returned."""
        durations = []
        for _ in range(CALIBRATION_REPEATS):
            start = self.clock()
            self.task()
            durations.append(self.clock() - start)
        duration_s = min(durations)
        first_s = self.readings[0]["duration_s"] if self.readings else duration_s
        reading = {
            "position": position,
            "duration_s": duration_s,
            "drift": duration_s / first_s - 1,
            "load_average_1m": self.read_load(),
            "steal_fraction": self._steal_since_last(),
        }
        self.readings.append(reading)
        return reading

    def _steal_since_last(self) -> float | None:
        now, last = self.read_cpu_times(), self._last_cpu
        self._last_cpu = now
        if now is None or last is None or now[1] <= last[1]:
            return None
        return max(0.0, (now[0] - last[0]) / (now[1] - last[1]))


def drifted(reading: dict) -> bool:
    return abs(reading["drift"]) > MAX_DRIFT


def quietness(
    readings: list[dict], cpu_count: int, remeasured_blocks: int | None = None, kept_drifts: list[float] | None = None
) -> dict:
    """The summary a record stores and a page shows: quiet or busy, and why (each reason a short phrase with its
    numbers). For an atlas, `remeasured_blocks` counts the blocks of points measured again and `kept_drifts` holds
    the drift of the calibration after each point as kept: a drift that its block's new measurement left behind
    does not make the atlas busy, and the summary says it happened. A training record, where nothing is measured
    again, passes neither: every reading counts."""
    reasons = []
    drifts = [reading["drift"] for reading in readings]
    worst = max(drifts, key=abs)
    judged = worst if kept_drifts is None else max([0.0, *kept_drifts], key=abs)
    if abs(judged) > MAX_DRIFT:
        kept = " while points were kept" if kept_drifts is not None else ""
        reasons.append(f"the calibration drifted by up to {judged:+.0%}{kept} (bound {MAX_DRIFT:.0%})")
    start_load = readings[0]["load_average_1m"]
    if start_load is not None and start_load > BUSY_LOAD_PER_CPU * cpu_count:
        reasons.append(f"the load average was {start_load:.1f} on {cpu_count} logical CPUs as the measurement began")
    steals = [reading["steal_fraction"] for reading in readings if reading["steal_fraction"] is not None]
    if steals and max(steals) > MAX_STEAL:
        reasons.append(f"the hypervisor stole up to {max(steals):.0%} of the processor time")
    if reasons:
        remeasured = f"; {remeasured_blocks} block(s) of points measured again" if remeasured_blocks else ""
        summary = f"busy: {'; '.join(reasons)}{remeasured}"
    elif remeasured_blocks:
        summary = (
            f"quiet: {len(readings)} calibrations; {remeasured_blocks} block(s) of points measured again after the "
            f"calibration drifted by up to {worst:+.0%}, then kept within {MAX_DRIFT:.0%} of the first"
        )
    else:
        summary = f"quiet: {len(readings)} calibrations within {MAX_DRIFT:.0%} of the first (at most {worst:+.0%})"
    summary_fields = {
        "quiet": not reasons,
        "summary": summary,  # the phrase a page shows (atlas/publish/page.py, site/prose.py)
        "reasons": reasons,
        "max_drift": worst,
        "drift_bound": MAX_DRIFT,
        "steal_readable": bool(steals),
        "calibration_task": CALIBRATION_TASK,
    }
    return summary_fields if remeasured_blocks is None else {**summary_fields, "remeasured_blocks": remeasured_blocks}
