"""Where a training step's time goes: each layer's forward and backward pass, the loss, the optimizer's update.

Measured once per experiment, after training, on a copy of each trained model (so
that the optimizer steps taken here leave the trained weights alone), at the
experiment's batch size, with TensorFlow on the CPU or GPU it trains on.

Method: timed sub-models. Each layer gets two compiled functions (`tf.function`) fed
with that layer's real input activations for one batch: its forward pass alone, and
its forward pass followed by its gradient (with respect to its input and its weights,
given an upstream gradient of its output's shape). The backward time is the second
minus the first. The loss (categorical cross-entropy) is timed the same way, and the
optimizer's update (Adam over every weight, gradients given) on its own. The time of
one empty compiled call is measured too and taken off every part, since a training
step pays it once, not once per part. The step itself is Keras's compiled training
step, `train_on_batch`, the function `fit` calls for every batch. Every function is
called in turn, round after round (`ROUNDS`, after `WARM_UP_ROUNDS` not kept), so that
a change in the machine's load falls on all of them alike, and each part is the median
of its round-by-round differences. On a 2-core VM shared with other work the parts came
to 102% and 98% of the step (standard, separable) in one smoke-sized trial and to 94%
and 78% in another; two variants did worse there: the least of the rounds (119%), and cumulative sub-models, the first
k layers as one function with each layer the difference of consecutive prefixes (over
250%, differences of large, noisy times). What the parts do not account for, the step
minus their sum, is the framework's own overhead (dispatch, metrics, data handling): the
analysis shows it as such (`anatomy.analyze.breakdown`).

Used by: book/results.md ("Where a training step's time goes").
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from convcarbon.architecture import DISPLAY_NAMES

ROUNDS = 7
WARM_UP_ROUNDS = 1
LOSS_PART, UPDATE_PART = "loss", "optimizer"
METHOD = (
    "timed sub-models: each layer's forward pass and forward+gradient as compiled functions on its real "
    "input activations (backward = difference), the loss and Adam's update alike, one empty call's time "
    f"taken off each; medians of {ROUNDS} interleaved rounds after {WARM_UP_ROUNDS} of warm-up; the step is "
    "Keras's compiled train_on_batch"
)


def breakdown_supported() -> bool:
    import keras

    return keras.backend.backend() == "tensorflow"


def measure_breakdown(trained: dict, x_train: np.ndarray, y_train: np.ndarray, batch_size: int) -> dict:
    """The record's `breakdown` (`schema.BREAKDOWN`): for each architecture in `trained`
    (architecture -> a trained Keras model), the median time of each part of a training step."""
    import logging

    batch = min(batch_size, len(x_train))
    models, overheads = [], []
    # One compiled function per layer and phase is intended here: TensorFlow's warning about
    # "excessive retracing" counts them as retracings of one function.
    tf_logger = logging.getLogger("tensorflow")
    level = tf_logger.level
    tf_logger.setLevel(logging.ERROR)
    try:
        for architecture, model in trained.items():
            entry, overhead_s = _one_model(architecture, model, x_train[:batch], y_train[:batch])
            models.append(entry)
            overheads.append(overhead_s)
    finally:
        tf_logger.setLevel(level)
    return {
        "method": METHOD,
        "batch_size": batch,
        "rounds": ROUNDS,
        "call_overhead_s": statistics.median(overheads),
        "models": models,
    }


def _one_model(architecture: str, trained, x: np.ndarray, y: np.ndarray) -> tuple[dict, float]:
    import keras
    import tensorflow as tf

    from convcarbon.models import build_model

    model = build_model(architecture)
    model.set_weights(trained.get_weights())
    images, labels = tf.constant(x), tf.constant(y)
    timed: dict[str, object] = {}  # name -> a call that runs one part once, synchronously

    # Each layer's real input for this batch, and an upstream gradient shaped like its output.
    activation = images
    for index, layer in enumerate(model.layers):
        output = layer(activation, training=True)
        upstream = tf.random.normal(output.shape, seed=index)
        timed[f"{layer.name}/forward"] = _call(tf.function(_forward(layer)), activation)
        timed[f"{layer.name}/both"] = _call(tf.function(_forward_backward(layer, index > 0)), activation, upstream)
        activation = output
    probabilities = activation
    loss = keras.losses.CategoricalCrossentropy()
    timed[f"{LOSS_PART}/forward"] = _call(tf.function(lambda p: loss(labels, p)), probabilities)
    timed[f"{LOSS_PART}/both"] = _call(tf.function(_loss_gradient(loss, labels)), probabilities)

    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        step_loss = loss(labels, model(images, training=True))
    gradients = tape.gradient(step_loss, variables)
    model.optimizer.build(variables)
    timed[f"{UPDATE_PART}/update"] = _call(tf.function(lambda: model.optimizer.apply(gradients, variables)))
    timed["empty/call"] = _call(tf.function(lambda t: t), images)
    timed["step/step"] = lambda: model.train_on_batch(x, y)

    rounds: dict[str, list[float]] = {name: [] for name in timed}
    for round_index in range(WARM_UP_ROUNDS + ROUNDS):
        for name, run in timed.items():
            started = time.perf_counter()
            run()
            if round_index >= WARM_UP_ROUNDS:
                rounds[name].append(time.perf_counter() - started)

    overhead = rounds["empty/call"]
    parts = []
    for layer_name in [layer.name for layer in model.layers] + [LOSS_PART]:
        forward, both = rounds[f"{layer_name}/forward"], rounds[f"{layer_name}/both"]
        parts += [
            {"layer": layer_name, "phase": "forward", "duration_s": _median_difference(forward, overhead)},
            {"layer": layer_name, "phase": "backward", "duration_s": _median_difference(both, forward)},
        ]
    update_s = _median_difference(rounds[f"{UPDATE_PART}/update"], overhead)
    parts.append({"layer": UPDATE_PART, "phase": "update", "duration_s": update_s})
    entry = {
        "architecture": architecture,
        "model": DISPLAY_NAMES[architecture],
        "step_duration_s": statistics.median(rounds["step/step"]),
        "parts": parts,
    }
    return entry, statistics.median(overhead)


def _median_difference(minuend: list[float], subtrahend: list[float]) -> float:
    """The median of the round-by-round differences (the two were timed moments apart, under the same
    load), never below zero (noise can make one negative)."""
    return max(0.0, statistics.median(a - b for a, b in zip(minuend, subtrahend, strict=True)))


def _call(function, *arguments):
    """A call of `function` that returns only when its results exist (one element of the first read back)."""
    import tensorflow as tf

    def run():
        tensors = [value for value in tf.nest.flatten(function(*arguments)) if value is not None]
        if tensors:  # the optimizer's update returns nothing: its variables are written when the call returns
            tf.reshape(tensors[0], [-1])[:1].numpy()

    return run


def _forward(layer):
    return lambda inputs: layer(inputs, training=True)


def _forward_backward(layer, input_gradient: bool):
    """The layer's forward pass and its gradient; the first layer needs none with respect to the images."""
    import tensorflow as tf

    def run(inputs, upstream):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            outputs = layer(inputs, training=True)
        sources = ([inputs] if input_gradient else []) + list(layer.trainable_variables)
        if not sources:  # pooling, dropout, flatten in the first position: nothing to differentiate
            return outputs
        return tape.gradient(outputs, sources, output_gradients=upstream)

    return run


def _loss_gradient(loss, labels):
    import tensorflow as tf

    def run(probabilities):
        with tf.GradientTape() as tape:
            tape.watch(probabilities)
            value = loss(labels, probabilities)
        return tape.gradient(value, probabilities)

    return run
