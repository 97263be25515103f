"""Which of tf.data's background threads the stall at an epoch's first step waits for (issue 20, item 1).

Run from the repository root, with MNIST available:

    CONVCARBON_MNIST=../shared/data/mnist.npz nice -n 5 .venv/bin/python bench/epoch_stall_probe.py \
        --variant keras --epochs 8 --architecture separable --out /tmp/stall-keras.json

One process per variant (a fresh TensorFlow each time): plain `model.fit` on the `full` protocol (the book's
model, 48,000 MNIST images, batch 250, validation_split 0.2, seed 42, no tracker), with a callback that notes
`time.perf_counter()` at every callback. Variants, each changing only the input pipeline Keras builds:

- `keras`: as Keras does it.
- `no_autotune`: tf.data's autotuning off (`Options().autotune.enabled = False`), which removes the
  autotuning model thread; the parallel map and the final prefetch then run at fixed sizes.
- `fixed_prefetch`: Keras's last `prefetch(AUTOTUNE)` replaced by `prefetch(2)`; autotuning stays on.
- `steps_per_epoch`: `fit(steps_per_epoch=...)` with the number of batches Keras would use anyway. Without it,
  Keras's epoch iterator makes a new tf.data iterator at the end of each epoch and then, at the next epoch's
  first step, throws it away unused and makes another; with it, the one made at the end is used.

It prints, per epoch, the wait before the first step (from `on_epoch_begin` to the first `on_train_batch_begin`:
the moment the previous iterator is torn down), the median step, the gap from the last step to validation,
validation, and the epoch; and writes them, with every step's loss (to compare batches between variants), to
`--out`. `--summarize FILE...` prints, per file, the later epochs that stalled (waited more than `STALL_S` before
their first step). Not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import keras

from convcarbon.config import resolve_config
from convcarbon.data import load_mnist, prepare, resolve_mnist_path
from convcarbon.models import build_model
from convcarbon.training.measure.experiment import fit_as_protocol

VARIANTS = ("keras", "no_autotune", "fixed_prefetch", "steps_per_epoch")
STALL_S = 0.5  # a wait before the first step longer than this is a stall (other epochs wait 1 to 150 ms)


class StepClock(keras.callbacks.Callback):
    """Every callback's instant, per epoch, and the running loss after every step."""

    def __init__(self):
        super().__init__()
        self.epochs: list[dict] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append({"begin": time.perf_counter(), "step_begin": [], "step_end": [], "loss": []})

    def on_train_batch_begin(self, batch, logs=None):
        self.epochs[-1]["step_begin"].append(time.perf_counter())

    def on_train_batch_end(self, batch, logs=None):
        self.epochs[-1]["step_end"].append(time.perf_counter())
        self.epochs[-1]["loss"].append(float(logs["loss"]))

    def on_test_begin(self, logs=None):
        if self.epochs:
            self.epochs[-1]["test_begin"] = time.perf_counter()

    def on_test_end(self, logs=None):
        if self.epochs:
            self.epochs[-1]["test_end"] = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.epochs[-1]["end"] = time.perf_counter()


def patch_pipeline(variant: str) -> None:
    """Change the dataset Keras builds from numpy arrays, for the variants that change tf.data."""
    import tensorflow as tf
    from keras.src.trainers.data_adapters import array_data_adapter

    original = array_data_adapter.ArrayDataAdapter.get_tf_dataset

    def no_autotune(self):
        options = tf.data.Options()
        options.autotune.enabled = False
        return original(self).with_options(options)

    def fixed_prefetch(self):
        return original(self)._input_dataset.prefetch(2)

    replacement = {"no_autotune": no_autotune, "fixed_prefetch": fixed_prefetch}.get(variant)
    if replacement is not None:
        array_data_adapter.ArrayDataAdapter.get_tf_dataset = replacement


def summary(epoch: dict) -> dict:
    steps = [end - begin for begin, end in zip(epoch["step_begin"], epoch["step_end"])]
    last_step = epoch["step_end"][-1]
    return {
        "first_step_wait_s": epoch["step_begin"][0] - epoch["begin"],
        "first_step_s": steps[0],
        "median_step_s": statistics.median(steps),
        "steps_s": sum(steps),
        "steps": len(steps),
        "to_validation_s": epoch.get("test_begin", last_step) - last_step,
        "validation_s": epoch.get("test_end", last_step) - epoch.get("test_begin", last_step),
        "epoch_s": epoch["end"] - epoch["begin"],
    }


def summarize(paths: list[str]) -> None:
    """One line per file: the later epochs that stalled, their waits, and the range of the epochs' median steps."""
    for path in paths:
        with open(path) as stream:
            result = json.load(stream)
        later = result["epochs"][1:]
        waits = [epoch["first_step_wait_s"] for epoch in later if epoch["first_step_wait_s"] > STALL_S]
        medians = [1000 * epoch["median_step_s"] for epoch in later]
        epochs_s = [epoch["epoch_s"] for epoch in later]
        print(
            f"{path}: {result['variant']}, {len(waits)} of {len(later)} later epochs stalled "
            f"({', '.join(f'{wait:.1f}' for wait in waits) or 'none'} s); median steps {min(medians):.0f}-"
            f"{max(medians):.0f} ms; epochs {min(epochs_s):.1f}-{max(epochs_s):.1f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--summarize", nargs="+", metavar="JSON", help="summarize earlier --out files, train nothing")
    parser.add_argument("--variant", choices=VARIANTS, default="keras")
    parser.add_argument("--architecture", default="separable")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--out")
    arguments = parser.parse_args()
    if arguments.summarize:
        summarize(arguments.summarize)
        return
    if not arguments.out:
        parser.error("--out is required to train")
    config = resolve_config("full", environ={})
    data = prepare(load_mnist(resolve_mnist_path(None)), config)
    patch_pipeline(arguments.variant)
    keras.utils.set_random_seed(config.seed)
    model, clock = build_model(arguments.architecture), StepClock()
    train_images = len(data.x_train) - int(len(data.x_train) * config.validation_split)
    steps = -(-train_images // config.batch_size)
    fit_as_protocol(
        model,
        data,
        config,
        callbacks=[clock],
        epochs=arguments.epochs,
        steps_per_epoch=steps if arguments.variant == "steps_per_epoch" else None,
    )
    epochs = [summary(epoch) for epoch in clock.epochs]
    for number, epoch in enumerate(epochs, start=1):
        print(
            f"{arguments.variant} {arguments.architecture} epoch {number}: wait before step 1 "
            f"{epoch['first_step_wait_s']:.3f} s, step 1 {epoch['first_step_s']:.3f} s, median step "
            f"{1000 * epoch['median_step_s']:.1f} ms, last step to validation {epoch['to_validation_s']:.3f} s, "
            f"validation {epoch['validation_s']:.2f} s, epoch {epoch['epoch_s']:.2f} s",
            flush=True,
        )
    losses = [epoch["loss"] for epoch in clock.epochs]
    with open(arguments.out, "w") as stream:
        json.dump(
            {"variant": arguments.variant, "architecture": arguments.architecture, "epochs": epochs, "losses": losses},
            stream,
        )


if __name__ == "__main__":
    main()
