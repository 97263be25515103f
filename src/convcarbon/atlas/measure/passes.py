"""The two passes of one layer, as a layer inside a model runs them, compiled on the active Keras backend.

Inference is the layer's forward pass. Training is the forward pass, then the gradients of the layer's
weights and of its input, of the sum of its output: the work the layer does inside a model's training step,
with no loss function or optimizer around it. The book's first layer (`conv_1`), which a model's input
feeds, needs no input gradient. Each backend runs the passes as its own compiled function: TensorFlow a
`tf.function` with a GradientTape, JAX `jax.jit` of the function and of `jax.grad`, PyTorch the module under
`torch.no_grad` and `torch.autograd.grad`.

The harness's own cost per call is the same path around a trivially small layer (a 1x1 convolution of one
channel on a one-pixel picture): it is stored beside the layers, never subtracted from them or fitted into them.

Used by: book/atlas.md
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# The rule, in the words a record stores (atlas/measure/run.py) and `atlas --json` shows.
PASS_RULES = {
    "inference": "the layer's forward pass",
    "training": (
        "the layer's forward pass, then the gradients of its weights and of its input, of the sum of its "
        "output (no loss function, no optimizer); the book's first layer, conv_1, which the model's input "
        "feeds, computes no input gradient"
    ),
    "harness": (
        "the same compiled call and wait around a 1x1 convolution of one channel on a one-pixel picture: "
        "the cost of a call itself, stored apart and not subtracted"
    ),
}


@dataclass(frozen=True)
class Passes:
    """One built layer: `run[pass_name]()` runs one call and returns its result; `wait(result)` returns only
    when the backend has finished computing it (JAX and GPUs run asynchronously)."""

    run: dict[str, Callable[[], object]]
    wait: Callable[[object], None]


def build_passes(layer, input_shape: tuple[int, ...], rng: np.random.Generator, input_gradient: bool) -> Passes:
    """Build `layer` (a Keras layer) for `input_shape` and compile both passes on the active backend."""
    import keras

    layer.build(input_shape)
    x = keras.ops.convert_to_tensor(rng.standard_normal(input_shape, dtype=np.float32))
    backend = keras.backend.backend()
    builders = {"tensorflow": _tensorflow, "jax": _jax, "torch": _torch}
    if backend not in builders:
        raise ValueError(f"the atlas times the TensorFlow, JAX and PyTorch backends, not {backend!r}")
    return builders[backend](layer, x, input_gradient)


def harness_passes(rng: np.random.Generator) -> Passes:
    """The trivially small layer through the same path (with an input gradient, as most layers have)."""
    import keras

    return build_passes(keras.layers.Conv2D(1, 1), (1, 1, 1, 1), rng, input_gradient=True)


def _first(result):
    while isinstance(result, list | tuple):
        result = result[0]
    return result


def _tensorflow(layer, x, input_gradient: bool) -> Passes:
    import tensorflow as tf

    weights = [variable.value for variable in layer.trainable_variables]

    @tf.function
    def forward(x):
        return layer(x)

    @tf.function
    def training(x):
        with tf.GradientTape() as tape:
            if input_gradient:
                tape.watch(x)
            loss = tf.reduce_sum(layer(x))
        return tape.gradient(loss, ([x] if input_gradient else []) + weights)

    def wait(result) -> None:
        _first(result)[..., :1].numpy()  # a value can be read only once it is computed (a GPU runs ahead)

    return Passes({"inference": lambda: forward(x), "training": lambda: training(x)}, wait)


def _jax(layer, x, input_gradient: bool) -> Passes:
    import jax
    import jax.numpy as jnp

    weights = [variable.value for variable in layer.trainable_variables]
    others = [variable.value for variable in layer.non_trainable_variables]

    def output(weights, x):
        return layer.stateless_call(weights, others, x)[0]

    def loss(weights, x):
        return jnp.sum(output(weights, x))

    forward = jax.jit(output)
    training = jax.jit(jax.grad(loss, argnums=(0, 1) if input_gradient else 0))
    return Passes(
        {"inference": lambda: forward(weights, x), "training": lambda: training(weights, x)}, jax.block_until_ready
    )


def _torch(layer, x, input_gradient: bool) -> Passes:
    import torch

    weights = [variable.value for variable in layer.trainable_variables]
    x_with_gradient = x.detach().clone().requires_grad_(input_gradient)

    def forward():
        with torch.no_grad():
            return layer(x)

    def training():
        loss = torch.sum(layer(x_with_gradient))
        return torch.autograd.grad(loss, ([x_with_gradient] if input_gradient else []) + weights)

    def wait(result) -> None:
        if _first(result).is_cuda:
            torch.cuda.synchronize()

    return Passes({"inference": forward, "training": training}, wait)
