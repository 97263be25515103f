"""Benchmarks of the harness: overhead against plain Keras, tracker cost, scaling, rebuild, memory.

Run from the repository root, with MNIST available:

    CONVCARBON_MNIST=../shared/data/mnist.npz .venv/bin/python bench/run.py [--repeats 3] [--out bench/results.json]

Timings are medians over interleaved repeats in one process on one machine;
compare the ratios, not the absolute seconds. Not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from convcarbon.training.measure.experiment import fit_as_protocol, interleaved_order

REPO_ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(REPO_ROOT / "bench" / "results.json"))
    parser.add_argument("--skip-book", action="store_true", help="skip the book build timings")
    arguments = parser.parse_args()

    from convcarbon.config import resolve_config
    from convcarbon.data import load_mnist, prepare, resolve_mnist_path
    from convcarbon.records.hardware import hardware_info
    from convcarbon.records.provenance import versions

    mnist = load_mnist(resolve_mnist_path(None))
    quick = resolve_config("quick")
    results = {
        "machine": hardware_info(),
        "versions": versions(),
        "repeats": arguments.repeats,
        "config": quick.to_dict(),
    }
    data = prepare(mnist, quick)
    results["overhead"] = overhead(quick, data, arguments.repeats)
    results["tracker_work"] = tracker_work(quick, data)
    results["tracker_first_in_process"] = first_tracker_cost()
    results["scaling"] = scaling(mnist, quick, arguments.repeats)
    results["peak_rss_mb_training"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if not arguments.skip_book:
        results["book"] = book_builds()
    Path(arguments.out).write_text(json.dumps(results, indent=2))
    print(json.dumps({key: value for key, value in results.items() if key not in ("versions", "config")}, indent=2))


def overhead(config, data, repeats: int) -> dict:
    """Plain tutorial-style fit, the package's tracked training, and the same without the tracker."""
    variants = {"plain": plain_fit, "harness": harness_fit, "harness_no_tracker": untracked_fit}
    names = list(variants)
    variants["plain"](config, data)  # warm-up: the first training in a process pays for tracing
    times = {name: [] for name in names}
    for repeat, name in interleaved_order(names, repeats):  # A B C, C B A, ...
        started = time.perf_counter()
        variants[name](config, data)
        times[name].append(time.perf_counter() - started)
        print(f"  {name:<20} repeat {repeat + 1}: {times[name][-1]:.1f} s", file=sys.stderr, flush=True)
    from convcarbon.training.analyze.stats import ratio_of_medians

    medians = {name: statistics.median(values) for name, values in times.items()}
    harness_over_plain = ratio_of_medians(times["harness"], times["plain"])
    tracked_over_untracked = ratio_of_medians(times["harness"], times["harness_no_tracker"])
    return {
        "seconds": times,
        "median_s": medians,
        "harness_over_plain": harness_over_plain.ratio,
        "harness_over_plain_interval_95": [harness_over_plain.low, harness_over_plain.high],
        "tracker_over_untracked": tracked_over_untracked.ratio,
        "tracker_over_untracked_interval_95": [tracked_over_untracked.low, tracked_over_untracked.high],
    }


# The tracker's own entry points: set-up and tear-down run in the training's thread,
# the periodic readings in CodeCarbon's background threads.
TRACKER_FIXED_CALLS = ("__init__", "start", "stop")
TRACKER_PERIODIC_CALLS = ("_measure_power_and_energy", "_monitor_power", "flush")


def tracker_work(config, data) -> dict:
    """Time spent inside CodeCarbon's own code during one tracked training, timed from inside.

    Seconds-level comparisons of tracked and untracked runs drown in this
    machine's noise, so this times the tracker's calls directly: the set-up and
    tear-down that delay the training, and the periodic readings, which run in
    background threads beside it and can delay it by at most their own time.
    """
    import threading

    from codecarbon.emissions_tracker import BaseEmissionsTracker

    spent = {"fixed_s": 0.0, "periodic_s": 0.0, "periodic_cpu_s": 0.0, "periodic_calls": 0}
    inside = threading.local()
    originals = {name: getattr(BaseEmissionsTracker, name) for name in TRACKER_FIXED_CALLS + TRACKER_PERIODIC_CALLS}

    def timed(name, original):
        kind = "fixed" if name in TRACKER_FIXED_CALLS else "periodic"

        def wrapper(self, *arguments, **options):
            if getattr(inside, "depth", 0):  # a call inside another timed call is counted once
                return original(self, *arguments, **options)
            inside.depth = 1
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return original(self, *arguments, **options)
            finally:
                inside.depth = 0
                spent[f"{kind}_s"] += time.perf_counter() - wall
                if kind == "periodic":
                    spent["periodic_cpu_s"] += time.thread_time() - cpu
                    spent["periodic_calls"] += 1

        return wrapper

    for name, original in originals.items():
        setattr(BaseEmissionsTracker, name, timed(name, original))
    try:
        started = time.perf_counter()
        harness_fit(config, data)
        training_s = time.perf_counter() - started
    finally:
        for name, original in originals.items():
            setattr(BaseEmissionsTracker, name, original)
    return {
        **spent,
        "training_s": training_s,
        "fixed_share": spent["fixed_s"] / training_s,
        "periodic_share": spent["periodic_s"] / training_s,
        "upper_bound_share": (spent["fixed_s"] + spent["periodic_s"]) / training_s,
    }


def plain_fit(config, data):
    """The original tutorial's code path: numpy arrays straight into model.fit, then evaluate."""
    from convcarbon.models import build_model

    model = build_model("conv2d")
    fit_as_protocol(model, data, config)
    model.evaluate(data.x_test, data.y_test, verbose=0)


def harness_fit(config, data):
    """What `python -m convcarbon run` does for one model: seed, tracker, progress, evaluate."""
    from convcarbon.training.measure.experiment import train_one
    from convcarbon.training.measure.progress import EpochProgress

    with tempfile.TemporaryDirectory() as folder, open(os.devnull, "w") as devnull:
        train_one("conv2d", 0, 0, config, data, Path(folder), EpochProgress(config.epochs, stream=devnull))


def untracked_fit(config, data):
    """The harness's training without CodeCarbon: the same seed, callback and evaluation."""
    import keras

    from convcarbon.models import build_model
    from convcarbon.training.measure.progress import EpochProgress

    keras.utils.set_random_seed(config.seed)
    model = build_model("conv2d")
    with open(os.devnull, "w") as devnull:
        progress = EpochProgress(config.epochs, stream=devnull)
        progress.start_model("Conv2D", config.epochs)
        fit_as_protocol(model, data, config, callbacks=[progress])
    model.evaluate(data.x_test, data.y_test, batch_size=config.batch_size, verbose=0)


FIRST_TRACKER_SCRIPT = """
import json, logging, time
from codecarbon import OfflineEmissionsTracker
logging.getLogger("codecarbon").setLevel(logging.ERROR)
timings = []
for _ in range(2):
    started = time.perf_counter()
    tracker = OfflineEmissionsTracker(country_iso_code="USA", output_dir="{folder}", log_level="error",
                                      allow_multiple_runs=True)
    tracker.start()
    tracker.stop()
    timings.append(time.perf_counter() - started)
print(json.dumps(timings))
"""


def first_tracker_cost() -> dict:
    """Set-up, start and stop of the first tracker in a fresh process (hardware detection), then of a second."""
    with tempfile.TemporaryDirectory() as folder:
        completed = subprocess.run(
            [sys.executable, "-c", FIRST_TRACKER_SCRIPT.format(folder=folder)],
            check=True,
            capture_output=True,
            text=True,
        )
    first_s, second_s = json.loads(completed.stdout.strip().splitlines()[-1])
    return {"first_s": first_s, "second_s": second_s}


# (epochs, training images) of each scaling point: epochs at 15,000 images, then images at one epoch.
SCALING_BY_EPOCHS = [(1, 15_000), (2, 15_000), (4, 15_000)]
SCALING_BY_IMAGES = [(1, 7_500), (1, 15_000), (1, 30_000), (1, 60_000)]


def scaling(mnist, quick, repeats: int) -> dict:
    """Untracked training time against epochs and against training-set size.

    Every point is run `repeats` times, the points interleaved (A B C, C B A, ...)
    so that the machine's drift falls on all of them alike; the linear fits use
    each point's median.
    """
    from convcarbon.data import prepare

    points = list(dict.fromkeys(SCALING_BY_EPOCHS + SCALING_BY_IMAGES))
    configs = {(epochs, images): replace(quick, epochs=epochs, train_images=images) for epochs, images in points}
    data = {images: prepare(mnist, replace(quick, train_images=images)) for _, images in points}
    seconds = {point: [] for point in points}
    for repeat, point in interleaved_order(points, repeats):
        started = time.perf_counter()
        untracked_fit(configs[point], data[point[1]])
        seconds[point].append(time.perf_counter() - started)
        print(
            f"  scaling {point[0]} epoch(s) x {point[1]:,} images, repeat {repeat + 1}: {seconds[point][-1]:.1f} s",
            file=sys.stderr,
            flush=True,
        )
    medians = {point: statistics.median(values) for point, values in seconds.items()}

    def series(chosen, axis):
        rows = [
            {
                "epochs": epochs,
                "train_images": images,
                "seconds": seconds[(epochs, images)],
                "median_s": medians[(epochs, images)],
            }
            for epochs, images in chosen
        ]
        return {"points": rows, "fit": linear_fit([(row[axis], row["median_s"]) for row in rows])}

    return {
        "by_epochs_15000_images": series(SCALING_BY_EPOCHS, "epochs"),
        "by_images_1_epoch": series(SCALING_BY_IMAGES, "train_images"),
    }


def linear_fit(points) -> dict:
    xs, ys = [float(x) for x, _ in points], [y for _, y in points]
    slope, intercept = statistics.linear_regression(xs, ys)
    predicted = [intercept + slope * x for x in xs]
    residual = sum((y - p) ** 2 for y, p in zip(ys, predicted))
    total = sum((y - statistics.fmean(ys)) ** 2 for y in ys)
    return {"slope_s": slope, "intercept_s": intercept, "r_squared": 1 - residual / total if total else 1.0}


def book_builds() -> dict:
    """A fresh smoke build of a copy of the book, then an unchanged rebuild, each a child process."""
    root = Path(tempfile.mkdtemp(prefix="convcarbon-bench-"))
    try:
        for name in ("_config.yml", "_toc.yml", "book"):
            source = REPO_ROOT / name
            (
                shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("_generated"))
                if source.is_dir()
                else shutil.copyfile(source, root / name)
            )
        command = [
            sys.executable,
            "-m",
            "convcarbon",
            "book",
            "--profile",
            "smoke",
            "--results-dir",
            str(root / "results"),
        ]
        timings = {}
        for label in ("fresh_s", "unchanged_rebuild_s"):
            started = time.perf_counter()
            subprocess.run(command, cwd=root, check=True, capture_output=True)
            timings[label] = time.perf_counter() - started
        return timings
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    print(f"{platform.node()}: benchmarking; this takes several minutes.", file=sys.stderr)
    main()
