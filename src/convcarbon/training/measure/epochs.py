"""Time and energy of every epoch, so that one run already gives a distribution.

The first epoch carries the warm-up (graph tracing, kernel selection, caches),
so it is reported apart from the steady state (`stats.first_and_steady`).

Inside each epoch, the meter notes the clock at every step's start and end, and at
validation's, and keeps per epoch a compact account (`epoch_steps` in the record):
the wait before the first step, the first step, the median step, the sum of the steps,
their count and the validation. A record then shows whether an epoch was slow in all
its steps or in one moment (issue 20: the stall at an epoch's first step, found to be
the teardown of an unused tf.data iterator, `bench/epoch_stall_probe.py`).

That stall is tf.data's, not the model's: the iterator's destructor waits for the
autotuning thread of tf.data, and with autotuning off no epoch stalled
(BENCHMARKS.md). Training therefore runs inside `input_without_autotuning()`, which
changes no image, batch or order (tests/test_training.py compares the losses step by step).
"""

from __future__ import annotations

import contextlib
import statistics
import time

import keras

from convcarbon.energy.tracking import EnergyWindows


class EpochMeter(keras.callbacks.Callback):
    """Cuts a run into one window per epoch, and one for Keras's clean-up after them; times each step.

    The windows are back to back: the first starts when the meter is made (just
    after the tracker started) and each ends when Keras has finished an epoch,
    its validation included, and the tracker has been read. Time and energy are
    cut at the same instants, after each reading (`tracking.EnergyWindows`).

    After the last epoch, `fit` takes a while longer to return, in native code
    (profiled: no Python call runs in the gap). On this project's 2-core VM it
    took from a few milliseconds to 9 s, very unevenly from run to run. It is
    Keras's own teardown, not this harness: `bench/clean_up_probe.py` found no
    garbage collection in the gap and a tracker reading of milliseconds, and when
    `fit`'s local variables are kept alive past `on_train_end`, `fit` returns at
    once and the whole gap moves to deleting one of them, the training data's
    tf.data iterator made at the end of the last epoch. It is part of what `fit` costs,
    so it stays in the run's time and energy, reported apart. No callback sees that moment, so the caller
    closes the last window with `end_of_fit()` once `fit` has returned:
    the epochs and the clean-up then add up to the whole of `fit`. A window
    shorter than CodeCarbon's minimum sampling interval (50 ms in 3.3), as the
    clean-up often is, gets no energy of its own: its energy is counted in the
    next reading, the run's total.
    """

    def __init__(self, tracker, label: str):
        super().__init__()
        self.label = label
        self.durations_s: list[float] = []
        self.energies_kwh: list[float | None] = []
        self.steps: list[dict] = []  # one `step_account` per epoch
        self.clean_up_duration_s: float | None = None
        self.clean_up_energy_kwh: float | None = None
        self._clock: dict = {}
        self._windows = EnergyWindows(tracker, label)

    def on_epoch_begin(self, epoch, logs=None):
        self._clock = {"epoch_begin": time.perf_counter(), "step_begin": [], "step_end": [], "validation": []}

    def on_train_batch_begin(self, batch, logs=None):
        self._clock["step_begin"].append(time.perf_counter())

    def on_train_batch_end(self, batch, logs=None):
        self._clock["step_end"].append(time.perf_counter())

    def on_test_begin(self, logs=None):
        if self._clock:
            self._clock["validation"].append(time.perf_counter())

    def on_test_end(self, logs=None):
        if self._clock:
            self._clock["validation"].append(time.perf_counter())

    def on_epoch_end(self, epoch, logs=None):
        self.steps.append(step_account(**self._clock))
        self._clock = {}
        duration_s, energy_kwh = self._windows.cut()
        self.durations_s.append(duration_s)
        self.energies_kwh.append(energy_kwh)

    def end_of_fit(self) -> None:
        """Close the last window: from the end of the last epoch until `fit` returned."""
        self.clean_up_duration_s, self.clean_up_energy_kwh = self._windows.cut()


@contextlib.contextmanager
def input_without_autotuning():
    """Within the block, the tf.data pipeline that Keras builds from numpy arrays (training and validation
    alike) runs with tf.data's autotuning off.

    Keras makes two input iterators per epoch and throws one away unused at the next epoch's first step;
    tearing it down waited 1 to 10 s, in 3 of 8 epochs, for tf.data's autotuning thread
    (`bench/epoch_stall_probe.py`). Keras offers no way to set the options of the pipeline it builds, so its
    builder (`ArrayDataAdapter.get_tf_dataset`, Keras 3) is wrapped for the block and restored after it. Options
    change how the pipeline runs, never what it yields: the same images, in the same batches and order. Other
    backends than TensorFlow build no tf.data pipeline and are left alone."""
    if keras.backend.backend() != "tensorflow":
        yield
        return
    import tensorflow as tf
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    keras_builder = ArrayDataAdapter.get_tf_dataset

    def without_autotuning(adapter):
        options = tf.data.Options()
        options.autotune.enabled = False
        return keras_builder(adapter).with_options(options)

    ArrayDataAdapter.get_tf_dataset = without_autotuning
    try:
        yield
    finally:
        ArrayDataAdapter.get_tf_dataset = keras_builder


def step_account(epoch_begin: float, step_begin: list[float], step_end: list[float], validation: list[float]) -> dict:
    """One epoch's steps from the clock's instants (s): the record's `epoch_steps` entry.

    `input_wait_s` runs from the epoch's start to its first step's: there Keras fetches the first batch,
    after tearing down the previous epoch's unused input iterator. `validation` holds the instants of
    validation's start and end (none without a validation split)."""
    if not step_begin or len(step_begin) != len(step_end):
        raise ValueError(f"an epoch needs as many step ends as starts, and one at least ({len(step_begin)} starts)")
    durations_s = [end - begin for begin, end in zip(step_begin, step_end, strict=True)]
    return {
        "steps": len(durations_s),
        "input_wait_s": step_begin[0] - epoch_begin,
        "first_step_s": durations_s[0],
        "median_step_s": statistics.median(durations_s),
        "steps_s": sum(durations_s),
        "validation_s": validation[-1] - validation[0] if len(validation) >= 2 else 0.0,
    }
