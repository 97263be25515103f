"""What a prediction costs: a trained model predicting the test images, at batch 1 and at the training batch.

A model is trained once and then answers many predictions, so the energy of serving
can overtake the energy of training. Each trained model predicts the configuration's
test images (`test_images`) under its own CodeCarbon tracker, made as training's are
(`tracking.measure_energy`, the same pinned wattages), and the tracker is read at the same
instants as the time (`tracking.EnergyWindows`, as `epochs.EpochMeter` does):

1. warm-up: one call per input shape, so that tracing is not counted as prediction;
2. batch 1: every image alone, one call each, as a service answering one request at a time;
3. the training batch size: the images in batches, as an offline job would.

What is timed: the model's compiled graph (`tf.function`, one concrete function per
input shape, called directly: a quarter less time per call at batch 1 than going
through `tf.function`'s dispatch) on input tensors already in memory, each result
copied back to a NumPy array, so that every prediction has really been computed.
`model.predict` is not used: its per-call set-up (a data adapter, callbacks) would
dwarf one image. A window shorter than
`MIN_WINDOW_S` is repeated over the whole test set (`passes`), so that CodeCarbon has
enough time to read the energy of each window.

Used by: book/ethics.md (the break-even), book/results.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from convcarbon.architecture import DISPLAY_NAMES
from convcarbon.config import ExperimentConfig
from convcarbon.energy.tracking import EnergyWindows, measure_energy

MIN_WINDOW_S = 0.5
MAX_PASSES = 1000

COMPILED_METHOD = (
    "the model's compiled graph (tf.function, one concrete function per input shape) called on input tensors "
    "already in memory, each result copied back to a NumPy array; warm-up (tracing) excluded"
)
PREDICT_ON_BATCH_METHOD = "model.predict_on_batch per batch on NumPy arrays; warm-up excluded"


def measure_inference(
    model,
    architecture: str,
    repeat: int,
    position: int,
    config: ExperimentConfig,
    x_test: np.ndarray,
    output_dir: Path,
    pinned: dict | None = None,
) -> dict:
    """One record entry (`schema.INFERENCE`): the prediction cost of one trained model at batch 1
    and at the training batch size, with the tracker's own fields for the whole measurement."""
    predict, method = compiled_predict(model)
    batch_sizes = (1, config.batch_size) if config.batch_size > 1 else (1,)
    batches = {size: _batches(x_test, size) for size in batch_sizes}

    def work(tracker):
        windows = EnergyWindows(tracker)
        for size in batch_sizes:  # every input shape once (the last batch may be shorter)
            for batch in {tuple(b.shape): b for b in batches[size]}.values():
                _to_numpy(predict(batch))
        warm_up_s, warm_up_kwh = windows.cut()
        measured = []
        for size in batch_sizes:
            passes = 0
            while True:
                for batch in batches[size]:
                    _to_numpy(predict(batch))
                passes += 1
                if windows.elapsed_s() >= MIN_WINDOW_S or passes >= MAX_PASSES:
                    break
            duration_s, energy_kwh = windows.cut()
            measured.append(
                {
                    "batch_size": size,
                    "passes": passes,
                    "predictions": passes * len(x_test),
                    "duration_s": duration_s,
                    "energy_kwh": energy_kwh,
                }
            )
        return warm_up_s, warm_up_kwh, measured

    (warm_up_s, warm_up_kwh, measured), energy = measure_energy(
        config, output_dir, f"convcarbon-{architecture}-predict", work, pinned
    )
    return {
        "architecture": architecture,
        "model": DISPLAY_NAMES[architecture],
        "repeat": repeat,
        "position": position,
        "test_images": len(x_test),
        "method": method,
        "warm_up_duration_s": warm_up_s,
        "warm_up_energy_kwh": warm_up_kwh,
        "batches": measured,
        **energy,
    }


def compiled_predict(model):
    """(predict, what is timed): the model's forward pass in inference mode, compiled where the backend allows."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return model.predict_on_batch, PREDICT_ON_BATCH_METHOD
    import tensorflow as tf

    function = tf.function(lambda images: model(images, training=False))
    graphs: dict[tuple, object] = {}  # one concrete graph per input shape: a call skips tf.function's dispatch

    def predict(images):
        shape = tuple(images.shape)
        if shape not in graphs:
            graphs[shape] = function.get_concrete_function(tf.TensorSpec(shape, images.dtype))
        return graphs[shape](images)

    return predict, COMPILED_METHOD


def _batches(images: np.ndarray, size: int) -> list:
    """The images cut into batches, converted to backend tensors once, before anything is timed."""
    import keras

    return [keras.ops.convert_to_tensor(images[start : start + size]) for start in range(0, len(images), size)]


def _to_numpy(result) -> np.ndarray:
    import keras

    return keras.ops.convert_to_numpy(result)
