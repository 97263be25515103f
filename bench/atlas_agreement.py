"""The atlas against an independent timing (issue 20's "Done when"): one run of the atlas's points, then each
of the same layers timed again by a minimal, separately written method, in the same process.

The plain method shares nothing with the atlas's timing path: raw TensorFlow operations (`tf.nn.conv2d`,
`tf.nn.separable_conv2d`) in one `tf.function` per layer and pass (forward; forward and the gradients of the
weights and, except for the book's first layer, of the input), `time.perf_counter` around blocks of calls,
and the median of the blocks. At each point where the atlas's standard layer takes at least 1 ms, it checks
that the separable/standard time ratios agree within 1.5x and the standard layer's times within 2x.

    PYTHONPATH=src .venv/bin/python bench/atlas_agreement.py [--profile quick] [--out FILE]

Not a test: it prints what agreed. The test suite alternates `plain_sampler`'s blocks with the atlas's on
a few small shapes (tests/test_atlas_timing.py).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RATIO_FACTOR = 1.5
TIME_FACTOR = 2.0
MIN_STANDARD_S = 1e-3
SHARE_NEEDED = 0.8


def plain_function(shape, layer: str, pass_name: str):
    """One call of the layer's pass, with raw TensorFlow operations and its own random weights."""
    import tensorflow as tf

    rng = np.random.default_rng(1)

    def variable(*dims):
        return tf.Variable(rng.standard_normal(dims, dtype=np.float32) * 0.1)

    x = tf.constant(rng.standard_normal((shape.batch, shape.height, shape.width, shape.channels_in), np.float32))
    padding, bias = shape.padding.upper(), variable(shape.channels_out)
    if layer == "Conv2D":
        weights = [variable(shape.kernel, shape.kernel, shape.channels_in, shape.channels_out), bias]

        def output(x):
            return tf.nn.conv2d(x, weights[0], 1, padding) + bias
    else:
        depthwise = variable(shape.kernel, shape.kernel, shape.channels_in, 1)
        weights = [depthwise, variable(1, 1, shape.channels_in, shape.channels_out), bias]

        def output(x):
            return tf.nn.separable_conv2d(x, depthwise, weights[1], [1, 1, 1, 1], padding) + bias

    input_gradient = shape.book_layer != "conv_1"

    @tf.function
    def forward():
        return output(x)

    @tf.function
    def training():
        with tf.GradientTape() as tape:
            if input_gradient:
                tape.watch(x)
            total = tf.reduce_sum(output(x))
        return tape.gradient(total, weights + ([x] if input_gradient else []))

    return forward if pass_name == "inference" else training


def plain_sampler(shape, layer: str, pass_name: str, min_block_s: float = 0.02):
    """A function that times one block of calls of the layer's pass and returns its seconds per call
    (compiled and warmed up here: two discarded calls)."""
    call = plain_function(shape, layer, pass_name)
    for _ in range(2):
        _done(call())
    start = time.perf_counter()
    _done(call())
    count = max(1, int(min_block_s / max(time.perf_counter() - start, 1e-7)) + 1)

    def sample() -> float:
        start = time.perf_counter()
        for _ in range(count):
            result = call()
        _done(result)
        return (time.perf_counter() - start) / count

    return sample


def plain_samples_s(shape, layer: str, pass_name: str, samples: int = 5) -> list[float]:
    """The seconds per call of each of `samples` blocks of calls."""
    sample = plain_sampler(shape, layer, pass_name)
    return [sample() for _ in range(samples)]


def _done(result) -> None:
    first = result[0] if isinstance(result, list) else result
    first.numpy()


def compare(points: list[dict], plain: dict) -> dict:
    """Agreement at the points where the atlas's standard layer takes at least MIN_STANDARD_S."""
    rows = []
    by_key = {(_key(point), point["layer"], point["pass"]): point["median_s"] for point in points}
    for (shape_key, pass_name), plain_s in plain.items():
        atlas_standard, atlas_separable = (
            by_key[(shape_key, "Conv2D", pass_name)],
            by_key[(shape_key, "SeparableConv2D", pass_name)],
        )
        atlas_ratio, plain_ratio = atlas_separable / atlas_standard, plain_s["SeparableConv2D"] / plain_s["Conv2D"]
        rows.append(
            {
                "shape": shape_key,
                "pass": pass_name,
                "atlas_standard_s": atlas_standard,
                "plain_standard_s": plain_s["Conv2D"],
                "atlas_ratio": atlas_ratio,
                "plain_ratio": plain_ratio,
                "ratio_agrees": max(atlas_ratio, plain_ratio) / min(atlas_ratio, plain_ratio) <= RATIO_FACTOR,
                "time_agrees": max(atlas_standard, plain_s["Conv2D"]) / min(atlas_standard, plain_s["Conv2D"])
                <= TIME_FACTOR,
            }
        )
    counted = [row for row in rows if row["atlas_standard_s"] >= MIN_STANDARD_S]
    return {
        "points": len(counted),
        "ratio_agrees": sum(row["ratio_agrees"] for row in counted),
        "time_agrees": sum(row["time_agrees"] for row in counted),
        "done": bool(counted)
        and min(sum(row["ratio_agrees"] for row in counted), sum(row["time_agrees"] for row in counted))
        >= SHARE_NEEDED * len(counted),
        "rows": rows,
    }


def _key(point: dict) -> str:
    return (
        f"{point['channels_in']}->{point['channels_out']} {point['height']}x{point['width']} "
        f"k{point['kernel']} b{point['batch']}" + (f" {point['book_layer']}" if point["book_layer"] else "")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--out", type=Path)
    arguments = parser.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    from convcarbon.atlas.measure.grid import grid_shapes
    from convcarbon.atlas.measure.run import run_atlas
    from convcarbon.atlas.measure.store import AtlasStore

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as store:
        record, _ = run_atlas(arguments.profile, AtlasStore(Path(store)), refresh=True)
    atlas_wall_s = time.perf_counter() - start
    plain = {}
    for shape in grid_shapes(arguments.profile):
        for pass_name in ("inference", "training"):
            plain[(_key(shape.to_dict()), pass_name)] = {
                layer: statistics.median(plain_samples_s(shape, layer, pass_name))
                for layer in ("Conv2D", "SeparableConv2D")
            }
        print(f"plain: {_key(shape.to_dict())}", file=sys.stderr, flush=True)
    result = {
        "profile": arguments.profile,
        "atlas_wall_s": atlas_wall_s,
        "atlas_duration_s": record["duration_s"],
        "quietness": {key: value for key, value in record["quietness"].items() if key != "calibrations"},
        "harness": {name: timing["median_s"] for name, timing in record["harness"].items()},
        **compare(record["points"], plain),
    }
    for row in result["rows"]:
        print(
            f"{row['shape']:>28} {row['pass']:>9}: standard {row['atlas_standard_s'] * 1e3:8.2f} ms atlas, "
            f"{row['plain_standard_s'] * 1e3:8.2f} ms plain; ratio {row['atlas_ratio']:.2f} atlas, "
            f"{row['plain_ratio']:.2f} plain"
        )
    print(
        f"at {result['points']} points with a standard layer of at least 1 ms: ratio within {RATIO_FACTOR}x at "
        f"{result['ratio_agrees']}, standard time within {TIME_FACTOR}x at {result['time_agrees']}; "
        f"done: {result['done']}; atlas {atlas_wall_s:.0f} s; quiet: {result['quietness']['quiet']} "
        f"({'; '.join(result['quietness']['reasons'])})"
    )
    if arguments.out:
        arguments.out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
