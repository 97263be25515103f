"""What runs between the last epoch and `fit`'s return (the record's clean_up_duration_s).

Run from the repository root, with MNIST available:

    CONVCARBON_MNIST=../shared/data/mnist.npz .venv/bin/python bench/clean_up_probe.py [--profile quick] [--runs 3] \
        [--without-autotuning]

Each run trains the standard model for two epochs under a real tracker (as `experiment.train_one`
does) and times, after the last epoch: up to Keras's `on_train_end`; from there to `fit`'s return;
the garbage collections in between (`gc.callbacks`); the tracker's reading (`flush`). A callback
holds on to `fit`'s local variables at `on_train_end`, so that they outlive `fit`, and each is then
deleted alone and timed. What this found (BENCHMARKS.md, book/measuring.md): with the locals held,
`fit` returns at once; the whole gap moves to deleting `iterator`, the training data's tf.data
iterator of the last epoch. `--without-autotuning` trains as the harness now does (`epochs.input_without_autotuning`).
Not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
import tempfile
import time
from pathlib import Path

import keras

from convcarbon.config import resolve_config
from convcarbon.data import load_mnist, prepare, resolve_mnist_path
from convcarbon.energy.tracking import cumulative_energy_kwh, measure_energy
from convcarbon.models import build_model
from convcarbon.training.measure.epochs import input_without_autotuning


class HoldLocals(keras.callbacks.Callback):
    """At on_train_end, keeps `fit`'s local variables alive and notes the time."""

    def __init__(self):
        super().__init__()
        self.held, self.last_epoch_end, self.train_end = {}, None, None

    def on_epoch_end(self, epoch, logs=None):
        self.last_epoch_end = time.perf_counter()

    def on_train_end(self, logs=None):
        self.train_end = time.perf_counter()
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_name != "fit":
            frame = frame.f_back
        self.held = {name: value for name, value in frame.f_locals.items() if name != "self"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--without-autotuning", action="store_true", help="train as the harness does, with tf.data's autotuning off"
    )
    arguments = parser.parse_args()
    config = resolve_config(arguments.profile, environ={})
    data = prepare(load_mnist(resolve_mnist_path(None)), config)
    collections: list[tuple[float, float]] = []
    started_gc: list[float] = []

    def on_gc(phase, info):
        if phase == "start":
            started_gc.append(time.perf_counter())
        elif started_gc:
            collections.append((started_gc.pop(), time.perf_counter()))

    gc.callbacks.append(on_gc)
    folder = Path(tempfile.mkdtemp(prefix="convcarbon-clean-up-"))
    for run in range(arguments.runs):
        model, hold = build_model("conv2d"), HoldLocals()

        def work(tracker, model=model, hold=hold):
            with input_without_autotuning() if arguments.without_autotuning else contextlib.nullcontext():
                model.fit(
                    data.x_train,
                    data.y_train,
                    batch_size=config.batch_size,
                    epochs=2,
                    validation_split=config.validation_split,
                    verbose=0,
                    callbacks=[hold],
                )
            returned = time.perf_counter()
            before_flush = time.perf_counter()
            cumulative_energy_kwh(tracker)
            return returned, time.perf_counter() - before_flush

        collections.clear()
        (returned, flush_s), _ = measure_energy(config, folder, "clean-up-probe", work)
        in_gap = sum(end - start for start, end in collections if start >= hold.last_epoch_end and end <= returned)
        deletions = {}
        for name in sorted(hold.held):
            value = hold.held.pop(name)
            before = time.perf_counter()
            del value
            deletions[name] = time.perf_counter() - before
        slowest = max(deletions, key=deletions.get)
        print(
            f"run {run + 1}: last epoch -> on_train_end {hold.train_end - hold.last_epoch_end:.3f} s, "
            f"on_train_end -> fit returned {returned - hold.train_end:.3f} s, garbage collection in between "
            f"{in_gap:.3f} s, tracker reading {flush_s:.3f} s; slowest deletion of fit's locals: "
            f"{slowest} {deletions[slowest]:.3f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
