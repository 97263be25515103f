"""Time and energy of every epoch, so that one run already gives a distribution.

The first epoch carries the warm-up (graph tracing, kernel selection, caches),
so it is reported apart from the steady state (`stats.first_and_steady`).
"""

from __future__ import annotations

import sys
import time
from typing import Optional

import keras

from .tracking import cumulative_energy_kwh


class EpochMeter(keras.callbacks.Callback):
    """Cuts a run into one window per epoch, and reads the tracker at each window's end.

    The windows are back to back: the first starts when the meter is made (just
    after the tracker started) and each ends when Keras has finished an epoch,
    its validation included, and the tracker has been read. Time and energy are
    cut at the same instants, after each reading (which itself takes a moment:
    the reading writes a row of CodeCarbon's CSV), so both add up to the whole of
    `fit` but for Keras's own clean-up after the last epoch (up to a few tenths
    of a second, measured here), which no callback can see.
    """

    def __init__(self, tracker, label: str):
        super().__init__()
        self.tracker, self.label = tracker, label
        self.durations_s: list[float] = []
        self.energies_kwh: list[Optional[float]] = []
        self._energy_at_start = self._read_energy()
        self._window_started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        energy = self._read_energy()
        now = time.perf_counter()
        both = energy is not None and self._energy_at_start is not None
        self.energies_kwh.append(energy - self._energy_at_start if both else None)
        self.durations_s.append(now - self._window_started)
        self._window_started, self._energy_at_start = now, energy

    def _read_energy(self) -> Optional[float]:
        if self.tracker is None:
            return None
        try:
            return cumulative_energy_kwh(self.tracker)
        except Exception as error:  # the run's total may still come; only the split is lost
            print(f"[{self.label}] WARNING: cannot read CodeCarbon's energy per epoch "
                  f"({type(error).__name__}: {error}); per-epoch energy is recorded as missing.",
                  file=sys.stderr, flush=True)
            self.tracker = None
            return None
