"""Time and energy of every epoch, so that one run already gives a distribution.

The first epoch carries the warm-up (graph tracing, kernel selection, caches),
so it is reported apart from the steady state (`stats.first_and_steady`).
"""

from __future__ import annotations

import sys
import time

import keras

from .tracking import cumulative_energy_kwh


class EpochMeter(keras.callbacks.Callback):
    """Cuts a run into one window per epoch, and one for Keras's clean-up after them.

    The windows are back to back: the first starts when the meter is made (just
    after the tracker started) and each ends when Keras has finished an epoch,
    its validation included, and the tracker has been read. Time and energy are
    cut at the same instants, after each reading (which itself takes a moment:
    the reading writes a row of CodeCarbon's CSV).

    After the last epoch, `fit` takes a while longer to return, in native code
    (profiled: no Python call runs in the gap). On this project's 2-core VM it
    took from a few milliseconds to 9 s, very unevenly from run to run. It is
    Keras's own teardown, not this harness: `bench/clean_up_probe.py` found no
    garbage collection in the gap and a tracker reading of milliseconds, and when
    `fit`'s local variables are kept alive past `on_train_end`, `fit` returns at
    once and the whole gap moves to deleting one of them, the training data's
    tf.data iterator of the last epoch. It is part of what `fit` costs, so it
    stays in the run's time and energy, reported apart. No callback sees that moment, so the caller
    closes the last window with `end_of_fit()` once `fit` has returned:
    the epochs and the clean-up then add up to the whole of `fit`. A window
    shorter than CodeCarbon's minimum sampling interval (50 ms in 3.3), as the
    clean-up often is, gets no energy of its own: its energy is counted in the
    next reading, the run's total.
    """

    def __init__(self, tracker, label: str):
        super().__init__()
        self.tracker, self.label = tracker, label
        self.durations_s: list[float] = []
        self.energies_kwh: list[float | None] = []
        self.clean_up_duration_s: float | None = None
        self.clean_up_energy_kwh: float | None = None
        self._energy_at_start = self._read_energy()
        self._window_started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        duration_s, energy_kwh = self._cut_window()
        self.durations_s.append(duration_s)
        self.energies_kwh.append(energy_kwh)

    def end_of_fit(self) -> None:
        """Close the last window: from the end of the last epoch until `fit` returned."""
        self.clean_up_duration_s, self.clean_up_energy_kwh = self._cut_window()

    def _cut_window(self) -> tuple[float, float | None]:
        energy = self._read_energy()
        now = time.perf_counter()
        both = energy is not None and self._energy_at_start is not None
        window = (now - self._window_started, energy - self._energy_at_start if both else None)
        self._window_started, self._energy_at_start = now, energy
        return window

    def _read_energy(self) -> float | None:
        if self.tracker is None:
            return None
        try:
            return cumulative_energy_kwh(self.tracker)
        except Exception as error:  # the run's total may still come; only the split is lost
            print(
                f"[{self.label}] WARNING: cannot read CodeCarbon's energy per epoch "
                f"({type(error).__name__}: {error}); per-epoch energy is recorded as missing.",
                file=sys.stderr,
                flush=True,
            )
            self.tracker = None
            return None
