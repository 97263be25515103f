"""After training: what each trained model's predictions cost, and where a training step's time goes.

Both are measured once per experiment, after every run has trained, so that neither
changes what training measured: each trained model predicts the test images under its
own tracker (`inference`), in the order the runs trained, then a copy of the last
trained model of each architecture is taken apart layer by layer (`breakdown`).

Used by: book/results.md and book/ethics.md, through the record's `inference` and `breakdown`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from convcarbon.config import ExperimentConfig
from convcarbon.data import PreparedData


def measure_anatomy(
    config: ExperimentConfig,
    data: PreparedData,
    output_dir: Path,
    trained: list[tuple[int, int, str, object]],
    pinned: dict | None,
    log: TextIO | None = None,
) -> dict:
    """The record's optional keys `inference` and `breakdown`. `trained` holds (position, repeat,
    architecture, model) in training order. A backend the breakdown does not support leaves it out.
    Progress goes to `log` (default: the standard error stream of the moment it runs)."""
    log = log or sys.stderr
    from .breakdown import breakdown_supported, measure_breakdown
    from .inference import measure_inference

    print(
        f"Measuring each trained model's predictions over {config.test_images:,} test images "
        f"(batch 1 and batch {config.batch_size}).",
        file=log,
        flush=True,
    )
    fields: dict = {
        "inference": [
            measure_inference(model, architecture, repeat, position, config, data.x_test, output_dir, pinned)
            for position, repeat, architecture, model in trained
        ]
    }
    if breakdown_supported():
        print("Timing each layer of a training step.", file=log, flush=True)
        last_of_each = {architecture: model for _, _, architecture, model in trained}
        fields["breakdown"] = measure_breakdown(last_of_each, data.x_train, data.y_train, config.batch_size)
    return fields
