"""How steady each candidate calibration is on this machine (issue 20: the atlas calibration's 10% bound).

Run from the repository root, with nothing else running:

    PYTHONPATH=src nice -n -5 .venv/bin/python bench/calibration_probe.py

After each of `--rounds` bursts of real layer work (a 128-channel 5x5 convolution through a compiled TensorFlow
function, 0.5 s, as an atlas shape leaves the machine), it takes one reading of each candidate, each the fastest
of several calls (9, unless said otherwise), as a calibration is:

- `matmul512`: the backend's 512 x 512 matrix product on its two threads (the calibration before this change);
- `matmul512 cpu/wall`: that product's process CPU time over its wall time: about 2 when both threads worked;
- `sort 2**18, fastest of 9`: the first one-thread try, NumPy sorting 262,144 float32 numbers;
- `sort`: the calibration now (`records/quietness.py`), NumPy sorting the same 65,536 float32 numbers on one
  thread, the fastest of `CALIBRATION_REPEATS`.

It prints every reading and, per candidate, the spread (highest / lowest reading) and the largest drift from the
first reading, the number the atlas bounds by 10%. Not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def fastest_of(calls: int, function) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of the fastest of `calls` calls."""
    timings = []
    for _ in range(calls):
        wall, cpu = time.perf_counter(), time.process_time()
        function()
        timings.append((time.perf_counter() - wall, time.process_time() - cpu))
    return min(timings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12)
    args = parser.parse_args(argv)
    import numpy as np
    import tensorflow as tf

    from convcarbon.records.quietness import CALIBRATION_REPEATS, calibration_task

    rng = np.random.default_rng(0)
    a, b = (tf.constant(rng.standard_normal((512, 512), dtype=np.float32)) for _ in range(2))
    convolution = tf.keras.layers.Conv2D(128, 5, padding="same")
    images = tf.constant(rng.standard_normal((32, 14, 14, 128), dtype=np.float32))
    layer_work = tf.function(convolution)
    layer_work(images)
    sort, long_sort = calibration_task(), calibration_task(2**18)
    readings = {"matmul512": [], "matmul512 cpu/wall": [], "sort 2**18, fastest of 9": [], "sort": []}
    for _ in range(args.rounds):
        start = time.perf_counter()
        while time.perf_counter() - start < 0.5:
            layer_work(images).numpy()
        wall_s, cpu_s = fastest_of(9, lambda: tf.matmul(a, b)[:1, :1].numpy())
        readings["matmul512"].append(wall_s * 1e3)
        readings["matmul512 cpu/wall"].append(cpu_s / wall_s)
        readings["sort 2**18, fastest of 9"].append(fastest_of(9, long_sort)[0] * 1e3)
        readings["sort"].append(fastest_of(CALIBRATION_REPEATS, sort)[0] * 1e3)
    print(f"load average at the end: {os.getloadavg()[0]:.2f}; {os.cpu_count()} logical CPUs")
    for name, values in readings.items():
        shown = " ".join(f"{value:.2f}" for value in values)
        drift = max((value / values[0] - 1 for value in values), key=abs)
        print(f"{name:>26}: {shown}  (spread {max(values) / min(values):.2f}x, largest drift {drift:+.0%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
