"""Time one Conv2D and one SeparableConv2D layer at every shape of the atlas grid, and the machine's ceilings.

Each layer runs through Keras's compiled step on the active backend, as a model
uses it: `predict_on_batch` for the inference pass, `train_on_batch` (forward,
backward, the gradient and a plain SGD update) for the training pass, on random
float32 inputs. At each shape both layers are built and warmed up (the warm-up
calls, which compile, are discarded), then timed in interleaved order (A B, B A,
...), each sample a block of calls long enough for the clock. A point reports the
median of its samples and their range. Where a hardware energy counter is
readable, each block's energy is read too.

Used by: book/atlas.md
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

from .atlas_energy import EnergyCounter, measure_block
from .atlas_grid import LAYERS, PASSES, Shape, byte_count, macs

MATMUL_SIZE = 2048  # a 2048x2048 by 2048x2048 product: 8.6 billion multiply-accumulates
COPY_VALUES = 2**25  # 128 MB of float32, read and written once by an elementwise add
CEILING_REPEATS = 5


def _wait(tensor) -> None:
    """Return only when the backend has finished computing `tensor` (JAX and GPUs run asynchronously)."""
    if hasattr(tensor, "block_until_ready"):
        tensor.block_until_ready()
        return
    import keras

    keras.ops.convert_to_numpy(keras.ops.reshape(tensor, (-1,))[:1])


def _best_time_s(call: Callable[[], object], repeats: int = CEILING_REPEATS) -> float:
    """The fastest of `repeats` timed calls, after one discarded call: a ceiling is what the machine can reach."""
    _wait(call())
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        _wait(call())
        times.append(time.perf_counter() - start)
    return min(times)


def machine_ceilings(matmul_size: int = MATMUL_SIZE, copy_values: int = COPY_VALUES) -> dict:
    """The multiply-accumulate rate of a large dense matrix product and the bandwidth of a large copy,
    both through the active backend (so on its device): the two roofs of the roofline figure."""
    import keras

    rng = np.random.default_rng(0)
    a = keras.ops.convert_to_tensor(rng.standard_normal((matmul_size, matmul_size), dtype=np.float32))
    b = keras.ops.convert_to_tensor(rng.standard_normal((matmul_size, matmul_size), dtype=np.float32))
    matmul_s = _best_time_s(lambda: keras.ops.matmul(a, b))
    values = keras.ops.convert_to_tensor(rng.standard_normal(copy_values, dtype=np.float32))
    copy_s = _best_time_s(lambda: keras.ops.add(values, 1.0))
    return {
        "matmul_size": matmul_size,
        "matmul_macs_per_s": matmul_size**3 / matmul_s,
        "copy_bytes": 2 * 4 * copy_values,  # read once, written once
        "copy_bytes_per_s": 2 * 4 * copy_values / copy_s,
    }


def best_ceilings(first: dict, second: dict) -> dict:
    """The higher rate of two measurements of each ceiling: on a shared machine the other work only slows it."""
    return {
        **first,
        "matmul_macs_per_s": max(first["matmul_macs_per_s"], second["matmul_macs_per_s"]),
        "copy_bytes_per_s": max(first["copy_bytes_per_s"], second["copy_bytes_per_s"]),
    }


class _LayerStep:
    """One layer in a one-layer model, with its inputs, ready to run either pass."""

    def __init__(self, shape: Shape, layer: str, rng: np.random.Generator):
        import keras

        options = dict(padding=shape.padding)
        convolution = (
            keras.layers.Conv2D(shape.channels_out, shape.kernel, **options)
            if layer == "Conv2D"
            else keras.layers.SeparableConv2D(shape.channels_out, shape.kernel, depth_multiplier=1, **options)
        )
        inputs = keras.Input(shape=(shape.height, shape.width, shape.channels_in), batch_size=shape.batch)
        self.model = keras.Model(inputs, convolution(inputs))
        self.model.compile(optimizer=keras.optimizers.SGD(learning_rate=1e-6), loss="mean_squared_error")
        output_shape = (shape.batch, shape.output_height, shape.output_width, shape.channels_out)
        self.x = keras.ops.convert_to_tensor(rng.standard_normal(self.model.input_shape, dtype=np.float32))
        self.y = keras.ops.convert_to_tensor(rng.standard_normal(output_shape, dtype=np.float32))

    def call(self, pass_name: str) -> None:
        if pass_name == "inference":
            self.model.predict_on_batch(self.x)  # returns NumPy: the result is complete
        else:
            self.model.train_on_batch(self.x, self.y)  # returns the loss as a number: the step is complete


def _calls_per_block(step: _LayerStep, pass_name: str, min_block_s: float) -> int:
    start = time.perf_counter()
    step.call(pass_name)
    one_s = max(time.perf_counter() - start, 1e-7)
    return max(1, min(10_000, int(np.ceil(min_block_s / one_s))))


def time_shape(shape: Shape, config: dict, counter: EnergyCounter | None, rng: np.random.Generator) -> list[dict]:
    """The four points of one shape (two layers, two passes): counts, median time, range, energy per call."""
    steps = {layer: _LayerStep(shape, layer, rng) for layer in LAYERS}
    points = []
    for pass_name in PASSES:
        for step in steps.values():
            for _ in range(config["warm_up_calls"]):
                step.call(pass_name)
        block_s = max(config["min_block_s"], counter.min_block_s if counter else 0)
        calls = {layer: _calls_per_block(step, pass_name, block_s) for layer, step in steps.items()}
        seconds = {layer: [] for layer in LAYERS}
        joules = {layer: [] for layer in LAYERS}
        for repeat in range(config["repeats"]):
            order = LAYERS if repeat % 2 == 0 else LAYERS[::-1]  # A B, B A, ...: drift falls on both alike
            for layer in order:
                step, count = steps[layer], calls[layer]

                def block(step=step, count=count, pass_name=pass_name):
                    for _ in range(count):
                        step.call(pass_name)

                if counter is None:
                    start = time.perf_counter()
                    block()
                    seconds[layer].append((time.perf_counter() - start) / count)
                else:
                    duration_s, energy_j = measure_block(counter, block)
                    seconds[layer].append(duration_s / count)
                    joules[layer].append(energy_j / count)
        for layer in LAYERS:
            points.append(
                {
                    "layer": layer,
                    **{key: value for key, value in shape.to_dict().items()},
                    "pass": pass_name,
                    "macs": macs(shape, layer),
                    "bytes": byte_count(shape, layer),
                    "median_s": statistics.median(seconds[layer]),
                    "low_s": min(seconds[layer]),
                    "high_s": max(seconds[layer]),
                    "samples": len(seconds[layer]),
                    "calls_per_sample": calls[layer],
                    "energy_j": statistics.median(joules[layer]) if joules[layer] else None,
                }
            )
    return points


def time_grid(shapes: list[Shape], config: dict, counter: EnergyCounter | None, progress=sys.stderr) -> list[dict]:
    """Every point of the grid, with one progress line per shape on `progress` (None: silent)."""
    import keras

    keras.utils.set_random_seed(config["seed"])
    rng = np.random.default_rng(config["seed"])
    points = []
    start = time.perf_counter()
    for index, shape in enumerate(shapes, start=1):
        points += time_shape(shape, config, counter, rng)
        keras.backend.clear_session()  # the finished models' graphs and compiled steps are let go
        if progress is not None:
            elapsed_s = time.perf_counter() - start
            left_s = elapsed_s / index * (len(shapes) - index)
            print(
                f"atlas: {index}/{len(shapes)} shapes ({shape.channels_in}->{shape.channels_out} channels, "
                f"{shape.height}x{shape.width}, kernel {shape.kernel}, batch {shape.batch}); "
                f"{elapsed_s:.0f} s so far, about {left_s:.0f} s left",
                file=progress,
                flush=True,
            )
    return points
