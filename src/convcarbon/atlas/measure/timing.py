"""Time one Conv2D and one SeparableConv2D layer at every shape of the atlas grid, the harness, and the ceilings.

Each layer runs its two passes as a layer inside a model runs them (atlas/measure/passes.py), compiled on the
active backend, on random float32 inputs. At each shape both layers are built and warmed up (the warm-up
calls, which compile, are discarded), then timed in interleaved order (A B, B A, ...), each sample a block of
calls long enough for the clock. A point keeps every sample; while the middle half of its samples spreads by
more than its profile's bound it takes more, until that bound, its sample limit or its time budget is reached.
Where a hardware energy counter is readable, each block's energy is read too.

The ceilings are measured, not assumed: the backend's own matrix product at several sizes and shaped as a
convolution (its im2col product), and its copy bandwidth at several sizes, each the best it reaches; beside
them the machine's best, NumPy's BLAS. A point that beats its ceiling shows the ceiling was measured at the
wrong size: the product or copy of that point's own size is measured then, and the ceiling is the best of all.

Used by: book/atlas.md
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

from convcarbon.config import AtlasSettings
from convcarbon.energy.counter_reading import EnergyCounter, measure_block
from convcarbon.records.quietness import Calibrator, drifted

from .grid import LAYERS, PASSES, WARM_UP_CALLS, Shape, byte_count, input_gradient_timed, macs
from .passes import Passes, build_passes, harness_passes
from .schema import ATLAS_SCHEMA_VERSION

COPY_SIZES = (2**18, 2**21, 2**23)  # float32 values: 1, 8 and 32 MB, read once and written once (the layers' range)
CEILING_REPEATS = 3
MAX_CONVOLUTION_PRODUCT_MACS = 2 * 10**10  # a convolution-shaped product is scaled down to at most this much work
MAX_CEILING_RECHECKS = 6
HARNESS_SAMPLES = 7
MAX_CALLS_PER_BLOCK = 10_000


# --- ceilings --------------------------------------------------------------------------------------------------


def convolution_product(shape: Shape) -> tuple[int, int, int]:
    """(m, k, n) of the standard layer's forward pass written as one matrix product (im2col): every output
    pixel of the batch by every kernel window of the input channels, times the filters."""
    m = shape.batch * shape.output_height * shape.output_width
    k, n = shape.kernel**2 * shape.channels_in, shape.channels_out
    while m * k * n > MAX_CONVOLUTION_PRODUCT_MACS and m > 1:
        m //= 2
    return m, k, n


def _best_time_s(call: Callable[[], object], wait: Callable[[object], None]) -> float:
    """The fastest of CEILING_REPEATS timed calls, after one discarded call: a ceiling is what the machine can reach."""
    wait(call())
    times = []
    for _ in range(CEILING_REPEATS):
        start = time.perf_counter()
        wait(call())
        times.append(time.perf_counter() - start)
    return min(times)


class _Library:
    """Matrix products and copies through one library: the active Keras backend, or NumPy."""

    def __init__(self, backend: bool):
        self.backend = backend
        if backend:
            import keras

            self.ops, self.name = keras.ops, keras.backend.backend()
        else:
            self.ops, self.name = np, f"numpy {np.__version__} (its BLAS)"
        self.rng = np.random.default_rng(0)

    def _tensor(self, shape: tuple[int, ...]):
        values = self.rng.standard_normal(shape, dtype=np.float32)
        return self.ops.convert_to_tensor(values) if self.backend else values

    def _wait(self, result) -> None:
        if self.backend:
            _wait_backend(result)

    def matmul(self, m: int, k: int, n: int) -> dict:
        a, b = self._tensor((m, k)), self._tensor((k, n))
        duration_s = _best_time_s(lambda: self.ops.matmul(a, b), self._wait)
        return {"m": m, "k": k, "n": n, "macs_per_s": m * k * n / duration_s}

    def copy(self, values: int) -> dict:
        tensor = self._tensor((values,))
        duration_s = _best_time_s(lambda: self.ops.add(tensor, 1.0), self._wait)
        return {"bytes": 2 * 4 * values, "bytes_per_s": 2 * 4 * values / duration_s}  # read once, written once


def _wait_backend(result) -> None:
    if hasattr(result, "block_until_ready"):
        result.block_until_ready()
        return
    import keras

    keras.ops.convert_to_numpy(keras.ops.reshape(result, (-1,))[:1])


def library_ceilings(library: _Library, shapes: list[Shape], square_sizes: tuple[int, ...]) -> dict:
    """Every product and copy measured through one library: squares, the convolution-shaped product of the
    largest standard layer of `shapes`, and copies of several sizes."""
    largest = max(shapes, key=lambda shape: macs(shape, "Conv2D"))
    products = [(size, size, size) for size in square_sizes] + [convolution_product(largest)]
    return {
        "library": library.name,
        "matmul": [library.matmul(*product) for product in products],
        "copy": [library.copy(values) for values in COPY_SIZES],
    }


def _best(measured: dict) -> tuple[float, float]:
    return (
        max(entry["macs_per_s"] for entry in measured["matmul"]),
        max(entry["bytes_per_s"] for entry in measured["copy"]),
    )


def summarize_ceilings(backend: dict, machine: dict) -> dict:
    """The ceilings the roofline draws (the backend's own best), the machine's best beside them, and every
    measurement each comes from."""
    matmul, copy = _best(backend)
    machine_matmul, machine_copy = _best(machine)
    return {
        "matmul_macs_per_s": matmul,
        "copy_bytes_per_s": copy,
        "machine_matmul_macs_per_s": machine_matmul,
        "machine_copy_bytes_per_s": machine_copy,
        "backend": backend,
        "machine": machine,
    }


def measure_ceilings(shapes: list[Shape], square_sizes: tuple[int, ...]) -> dict:
    """The backend's ceilings and NumPy's, each measured at the same sizes."""
    return summarize_ceilings(
        library_ceilings(_Library(True), shapes, square_sizes), library_ceilings(_Library(False), shapes, square_sizes)
    )


def merge_ceilings(first: dict, second: dict) -> dict:
    """Both measurements of each library kept (before and after the grid); each ceiling the best of them."""
    merged = {}
    for side in ("backend", "machine"):
        merged[side] = {
            "library": first[side]["library"],
            "matmul": first[side]["matmul"] + second[side]["matmul"],
            "copy": first[side]["copy"] + second[side]["copy"],
        }
    return summarize_ceilings(merged["backend"], merged["machine"])


def recheck_beaten_ceilings(ceilings: dict, points: list[dict]) -> dict:
    """Where a point runs faster than a ceiling, measure the backend's product (or copy) of that point's own
    size: a ceiling measured at other sizes may not hold at this one. At most MAX_CEILING_RECHECKS each."""
    library = _Library(True)
    extra = {"matmul": [], "copy": []}
    products, copies = set(), set()
    for point in points:
        shape = Shape(**{key: point[key] for key in Shape.__dataclass_fields__})
        if point["macs"] / point["median_s"] > ceilings["matmul_macs_per_s"]:
            products.add(convolution_product(shape))
        if point["bytes"] / point["median_s"] > ceilings["copy_bytes_per_s"]:
            copies.add(max(1, point["bytes"] // 8))
    for product in sorted(products)[:MAX_CEILING_RECHECKS]:
        extra["matmul"].append(library.matmul(*product))
    for values in sorted(copies)[:MAX_CEILING_RECHECKS]:
        extra["copy"].append(library.copy(values))
    if not extra["matmul"] and not extra["copy"]:
        return ceilings
    backend = ceilings["backend"]
    backend = {**backend, "matmul": backend["matmul"] + extra["matmul"], "copy": backend["copy"] + extra["copy"]}
    return summarize_ceilings(backend, ceilings["machine"])


# --- samples ---------------------------------------------------------------------------------------------------


def middle_interval(samples: list[float]) -> tuple[float, float]:
    """The lowest and highest of the middle half of the samples (nearest-rank quartiles): the interval a point
    is settled on. With three samples it is their whole range; more samples drop outliers from it."""
    ordered = sorted(samples)
    last = len(ordered) - 1
    return ordered[last // 4], ordered[last - last // 4]


def is_settled(samples: list[float], max_spread: float) -> bool:
    low, high = middle_interval(samples)
    return high <= max_spread * low


def sample_until_settled(layers, take_sample: Callable[[str], tuple[float, float]], settings: AtlasSettings) -> dict:
    """Per layer, the seconds per call of every sample: first `first_samples` each, interleaved (A B, B A, ...),
    then more of each layer whose interval is not yet settled, while it has samples and time budget left.

    `take_sample(layer)` runs one sample and returns (seconds per call, seconds the sample took)."""
    seconds = {layer: [] for layer in layers}
    spent_s = dict.fromkeys(layers, 0.0)

    def take(layer: str) -> None:
        per_call_s, block_s = take_sample(layer)
        seconds[layer].append(per_call_s)
        spent_s[layer] += block_s

    for round_index in range(settings.first_samples):
        for layer in layers if round_index % 2 == 0 else layers[::-1]:  # drift falls on both alike
            take(layer)
    round_index = settings.first_samples
    while True:
        open_layers = [
            layer
            for layer in layers
            if not is_settled(seconds[layer], settings.max_spread)
            and len(seconds[layer]) < settings.max_samples
            and spent_s[layer] < settings.point_budget_s
        ]
        if not open_layers:
            return seconds
        for layer in open_layers if round_index % 2 == 0 else open_layers[::-1]:
            take(layer)
        round_index += 1


def _calls_per_block(passes: Passes, pass_name: str, min_block_s: float) -> int:
    start = time.perf_counter()
    passes.wait(passes.run[pass_name]())
    one_s = max(time.perf_counter() - start, 1e-7)
    return max(1, min(MAX_CALLS_PER_BLOCK, int(np.ceil(min_block_s / one_s))))


def _block(passes: Passes, pass_name: str, count: int) -> Callable[[], None]:
    def block() -> None:
        call = passes.run[pass_name]
        for _ in range(count - 1):
            call()
        passes.wait(call())

    return block


def _timed(block: Callable[[], None], counter: EnergyCounter | None) -> tuple[float, float | None]:
    if counter is None:
        start = time.perf_counter()
        block()
        return time.perf_counter() - start, None
    return measure_block(counter, block)


def _summary(seconds: list[float]) -> dict:
    low, high = middle_interval(seconds)
    return {
        "median_s": statistics.median(seconds),
        "low_s": min(seconds),
        "high_s": max(seconds),
        "interval_low_s": low,
        "interval_high_s": high,
        "samples": len(seconds),
        "samples_s": seconds,
    }


def _layer(shape: Shape, layer: str):
    import keras

    if layer == "Conv2D":
        return keras.layers.Conv2D(shape.channels_out, shape.kernel, padding=shape.padding)
    return keras.layers.SeparableConv2D(shape.channels_out, shape.kernel, depth_multiplier=1, padding=shape.padding)


def input_gradient(shape: Shape) -> bool:
    """Whether the training pass computes the layer's input gradient: the rule the counts follow
    (`atlas_grid.input_gradient_timed`) for the records this code writes."""
    return input_gradient_timed(ATLAS_SCHEMA_VERSION, shape.book_layer)


def time_shape(
    shape: Shape, settings: AtlasSettings, counter: EnergyCounter | None, rng: np.random.Generator
) -> list[dict]:
    """The four points of one shape (two layers, two passes): counts, every sample, median, range, interval,
    energy per call."""
    input_shape = (shape.batch, shape.height, shape.width, shape.channels_in)
    steps = {layer: build_passes(_layer(shape, layer), input_shape, rng, input_gradient(shape)) for layer in LAYERS}
    points = []
    for pass_name in PASSES:
        for step in steps.values():
            for _ in range(WARM_UP_CALLS):
                step.wait(step.run[pass_name]())
        block_s = max(settings.min_block_s, counter.min_block_s if counter else 0)
        calls = {layer: _calls_per_block(step, pass_name, block_s) for layer, step in steps.items()}
        joules = {layer: [] for layer in LAYERS}

        def take_sample(layer: str, pass_name=pass_name, calls=calls, joules=joules) -> tuple[float, float]:
            duration_s, energy_j = _timed(_block(steps[layer], pass_name, calls[layer]), counter)
            if energy_j is not None:
                joules[layer].append(energy_j / calls[layer])
            return duration_s / calls[layer], duration_s

        seconds = sample_until_settled(LAYERS, take_sample, settings)
        for layer in LAYERS:
            points.append(
                {
                    "layer": layer,
                    **shape.to_dict(),
                    "pass": pass_name,
                    "macs": macs(shape, layer),
                    "bytes": byte_count(shape, layer),
                    **_summary(seconds[layer]),
                    "settled": is_settled(seconds[layer], settings.max_spread),
                    "calls_per_sample": calls[layer],
                    "energy_j": statistics.median(joules[layer]) if joules[layer] else None,
                    "energy_samples_j": joules[layer] or None,  # per call, one per sample, where a counter read
                }
            )
    return points


def time_harness(rng: np.random.Generator, min_block_s: float) -> dict:
    """The harness's own cost per call, for each pass: the trivially small layer through the same path."""
    passes = harness_passes(rng)
    harness = {}
    for pass_name in PASSES:
        for _ in range(WARM_UP_CALLS):
            passes.wait(passes.run[pass_name]())
        count = _calls_per_block(passes, pass_name, min_block_s)
        seconds = []
        for _ in range(HARNESS_SAMPLES):
            duration_s, _ = _timed(_block(passes, pass_name, count), None)
            seconds.append(duration_s / count)
        harness[pass_name] = {**_summary(seconds), "calls_per_sample": count}
    return harness


def time_grid(
    shapes: list[Shape],
    settings: AtlasSettings,
    counter: EnergyCounter | None,
    calibrator: Calibrator,
    seed: int,
    progress,
) -> tuple[list[dict], dict, int]:
    """(points, harness, blocks measured again): every point of the grid, each shape a block followed by a
    calibration and measured again while the calibration has drifted (at most `calibration_retries` times),
    then the harness; one progress line per shape on `progress` (None: silent)."""
    import keras

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    points, remeasured = [], 0
    start = time.perf_counter()
    for index, shape in enumerate(shapes, start=1):
        for attempt in range(settings.calibration_retries + 1):
            if attempt:
                remeasured += 1
            block = time_shape(shape, settings, counter, rng)
            keras.backend.clear_session()  # the finished layers' graphs and compiled functions are let go
            reading = calibrator.calibrate("between")
            if not drifted(reading):
                break
        points += [{**point, "calibration_drift": reading["drift"]} for point in block]
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
    return points, time_harness(rng, settings.min_block_s), remeasured
