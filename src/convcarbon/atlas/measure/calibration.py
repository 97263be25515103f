"""Evidence that the machine was quiet while an atlas was measured: a fixed calibration, the load and steal time.

The calibration is a fixed matrix product through the active backend, run before the grid, after each
block of points (one shape) and after the grid. Its time drifts when other work takes the processor; a block
measured while it had drifted by more than `MAX_DRIFT` is measured again, a bounded number of times. Each
calibration stores its time, its drift from the first, the one-minute load average and, where /proc/stat has
it, the share of processor time the hypervisor stole since the previous calibration.

Used by: book/atlas.md
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CALIBRATION_SIZE = 512  # a 512x512 by 512x512 float32 product: 134 million multiply-accumulates, a few ms
# The fastest of these is one calibration's time (well under a second in all): a burst of other work slows one
# product, sustained work (what also slows the points) slows them all.
CALIBRATION_PRODUCTS = 9
CALIBRATION_WARM_UP_S = 0.3  # the product runs this long first: a cold thread pool would make a slow baseline
MAX_DRIFT = 0.10  # a calibration more than 10% slower or faster than the first: the machine changed
BUSY_LOAD_PER_CPU = 0.75  # a start load above this per logical CPU: other work ran (the atlas's own start adds some)
MAX_STEAL = 0.02  # a hypervisor that took more than 2% of the processor time
PROC_STAT = Path("/proc/stat")


def calibration_product(size: int = CALIBRATION_SIZE) -> Callable[[], object]:
    """The fixed product through the active backend, the path the points take (NumPy's own threads would
    compete with the backend's, which keep spinning a while after a layer's work), with its operands made
    once (seeded): each call computes it again and waits for it. Discarded calls warm it up first."""
    import keras

    rng = np.random.default_rng(0)
    a, b = (keras.ops.convert_to_tensor(rng.standard_normal((size, size), dtype=np.float32)) for _ in range(2))

    def product() -> object:
        return keras.ops.convert_to_numpy(keras.ops.matmul(a, b)[:1, :1])

    start = time.perf_counter()
    while time.perf_counter() - start < CALIBRATION_WARM_UP_S:
        product()
    return product


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
    """Runs the calibration and keeps every reading; `clock` and `product` are replaceable for tests."""

    product: Callable[[], object] = field(default_factory=calibration_product)
    clock: Callable[[], float] = time.perf_counter
    read_cpu_times: Callable[[], tuple[int, int] | None] = cpu_times
    read_load: Callable[[], float | None] = load_average_1m
    readings: list[dict] = field(default_factory=list)
    _last_cpu: tuple[int, int] | None = None

    def calibrate(self, position: str) -> dict:
        """One calibration at `position` ("before", "between" or "after"), stored and returned."""
        durations = []
        for _ in range(CALIBRATION_PRODUCTS):
            start = self.clock()
            self.product()
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


def quietness(readings: list[dict], cpu_count: int, remeasured_blocks: int) -> dict:
    """The summary a page shows: quiet or busy, and why (each reason a short phrase with its numbers)."""
    reasons = []
    drifts = [reading["drift"] for reading in readings]
    worst = max(drifts, key=abs)
    if abs(worst) > MAX_DRIFT:
        reasons.append(f"the calibration drifted by up to {worst:+.0%} (bound {MAX_DRIFT:.0%})")
    start_load = readings[0]["load_average_1m"]
    if start_load is not None and start_load > BUSY_LOAD_PER_CPU * cpu_count:
        reasons.append(f"the load average was {start_load:.1f} on {cpu_count} logical CPUs as the atlas began")
    steals = [reading["steal_fraction"] for reading in readings if reading["steal_fraction"] is not None]
    if steals and max(steals) > MAX_STEAL:
        reasons.append(f"the hypervisor stole up to {max(steals):.0%} of the processor time")
    worst_text = f"{worst:+.0%}"
    remeasured = f"; {remeasured_blocks} block(s) of points measured again" if remeasured_blocks else ""
    summary = (
        f"busy: {'; '.join(reasons)}{remeasured}"
        if reasons
        else f"quiet: {len(readings)} calibrations within {MAX_DRIFT:.0%} of the first (at most {worst_text})"
    )
    return {
        "quiet": not reasons,
        "summary": summary,  # the phrase a page shows (atlas/publish/page.py)
        "reasons": reasons,
        "max_drift": worst,
        "drift_bound": MAX_DRIFT,
        "remeasured_blocks": remeasured_blocks,
        "steal_readable": bool(steals),
    }
