"""Train both CNNs under CodeCarbon, or reuse the stored result of the same work.

One experiment: the machine's power at rest first, then each model trained
`repeats` times in interleaved order (A B B A ...), each run in its own tracker,
with a calibration of the machine before the first run and after each one
(records/quietness.py).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TextIO

from convcarbon.anatomy.measure.run import measure_anatomy
from convcarbon.architecture import ARCHITECTURES, DISPLAY_NAMES
from convcarbon.config import ExperimentConfig
from convcarbon.costs import book_model_costs, images_text, total_multiplications
from convcarbon.data import PreparedData, load_mnist, prepare
from convcarbon.energy.idle import measure_idle
from convcarbon.energy.tracking import measure_energy, probe_power_assumptions
from convcarbon.records.hardware import hardware_info
from convcarbon.records.provenance import fingerprint, git_commit, source_sha256, versions
from convcarbon.records.quietness import Calibrator, quietness
from convcarbon.records.store import CODECARBON_CSV, ResultStore

from .schema import SCHEMA_VERSION


def run_experiment(
    config: ExperimentConfig,
    store: ResultStore,
    mnist_path: str | None,
    refresh: bool = False,
    log: TextIO | None = None,
) -> tuple[dict, bool]:
    """Return (record, reused): the stored record if the same work was done before. Progress goes to `log`
    (default: the standard error stream of the moment it runs)."""
    log = log or sys.stderr
    mnist = load_mnist(mnist_path)
    provenance = {
        "hardware": hardware_info(),
        "versions": versions(),
        "source_sha256": source_sha256(),
        "dataset": {"source": mnist.source, "sha256": mnist.sha256},
    }
    result_fingerprint = fingerprint(
        config.to_dict(),
        provenance["source_sha256"],
        mnist.sha256,
        provenance["versions"],
        provenance["hardware"],
    )
    with store.locked():
        if not refresh:
            record = store.reusable(config.profile, result_fingerprint)
            if record is not None:
                print(
                    f"Reusing the stored result {store.key(config.profile, result_fingerprint)} "
                    f"(measured {record['created_utc']}); --refresh measures again.",
                    file=log,
                )
                return record, True
        print(
            f"Training both models {config.repeats} time(s), profile {config.profile!r}: {config.epochs} epoch(s), "
            f"{images_text(config.train_images, config.validation_split)}, grid {config.country_iso_code}.",
            file=log,
            flush=True,
        )
        from .progress import EpochProgress

        data = prepare(mnist, config)
        schedule = interleaved_order(ARCHITECTURES, config.repeats)
        progress = EpochProgress(total_epochs=config.epochs * len(schedule), stream=log)
        with store.staging() as folder:
            if config.idle_duration_s:
                print(f"Measuring the machine at rest for {config.idle_duration_s:g} s first.", file=log, flush=True)
            assumptions = probe_power_assumptions(config, folder)  # pinned on every tracker below
            if assumptions.get("cpu_power_scaled"):
                print(f"CPU power is estimated, not measured: {assumptions['cpu_power_basis']}.", file=log, flush=True)
            idle = measure_idle(config, folder, assumptions)
            trained: list = []  # (position, repeat, architecture, model), for the measurements after training
            calibrator = Calibrator()
            calibrator.calibrate("before")
            runs = []
            for position, (repeat, architecture) in enumerate(schedule):
                runs.append(
                    train_one(architecture, repeat, position, config, data, folder, progress, assumptions, trained)
                )
                calibrator.calibrate("after" if position == len(schedule) - 1 else "between")
            evidence = {**quietness(calibrator.readings, os.cpu_count() or 1), "calibrations": calibrator.readings}
            print(f"The machine while training: {evidence['summary']}.", file=log, flush=True)
            # After training (issue 17): prediction cost per run, and the time of each layer of a step.
            anatomy = measure_anatomy(config, data, folder, trained, assumptions, log)
            record = {
                "schema_version": SCHEMA_VERSION,
                "fingerprint": result_fingerprint,
                "profile": config.profile,
                "config": config.to_dict(),
                "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                **git_commit(),
                **provenance,
                "codecarbon_csv": CODECARBON_CSV,
                "power_assumptions": assumptions,
                "idle": idle,
                "runs": runs,
                "quietness": evidence,
                **anatomy,
            }
            path = store.commit(folder, record)
        print(f"Stored the result in {path}.", file=log)
    return record, False


def interleaved_order(architectures: Sequence[str], repeats: int) -> list[tuple[int, str]]:
    """(repeat, architecture) in training order: A B, then B A, then A B ...

    Reversing every other round means neither model always runs first, on a
    cold machine, or last, on a warm one.
    """
    order = []
    for repeat in range(repeats):
        round_order = list(architectures) if repeat % 2 == 0 else list(reversed(architectures))
        order += [(repeat, architecture) for architecture in round_order]
    return order


def train_one(
    architecture: str,
    repeat: int,
    position: int,
    config: ExperimentConfig,
    data: PreparedData,
    output_dir,
    progress,
    pinned: dict | None = None,
    trained: list | None = None,
) -> dict:
    """Train one model inside its own tracker (with the experiment's `pinned` wattages), then evaluate it.
    The trained model is appended to `trained`, when given, as (position, repeat, architecture, model)."""
    import keras

    from convcarbon.models import build_model

    from .epochs import EpochMeter, input_without_autotuning

    seed = config.seed + repeat
    keras.utils.set_random_seed(seed)
    model = build_model(architecture)
    label = DISPLAY_NAMES[architecture] + (f", repeat {repeat + 1}/{config.repeats}" if config.repeats > 1 else "")
    progress.start_model(label, config.epochs)

    def fit(tracker):
        meter = EpochMeter(tracker, label)
        with input_without_autotuning():  # no stall at an epoch's first step (epochs.input_without_autotuning)
            history = fit_as_protocol(model, data, config, callbacks=[meter, progress])
        meter.end_of_fit()
        return history, meter

    (history, meter), energy = measure_energy(config, output_dir, f"convcarbon-{architecture}", fit, pinned)
    test_loss, test_accuracy = model.evaluate(data.x_test, data.y_test, batch_size=config.batch_size, verbose=0)
    if trained is not None:
        trained.append((position, repeat, architecture, model))
    return {
        "architecture": architecture,
        "model": DISPLAY_NAMES[architecture],
        "repeat": repeat,
        "position": position,  # 0 for the first run of the experiment
        "seed": seed,
        "parameters": model.count_params(),
        "multiplications_per_image": total_multiplications(book_model_costs(architecture)),
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "history": {name: [float(value) for value in values] for name, values in history.history.items()},
        "epoch_duration_s": meter.durations_s,
        "epoch_energy_kwh": meter.energies_kwh,
        "clean_up_duration_s": meter.clean_up_duration_s,
        "clean_up_energy_kwh": meter.clean_up_energy_kwh,
        "epoch_steps": meter.steps,
        **energy,
    }


def fit_as_protocol(model, data: PreparedData, config: ExperimentConfig, callbacks=(), **overrides):
    """`model.fit` as the protocol runs it (the original tutorial's call): the training images, the batch size, the
    epochs and the validation split of `config`, silent. The one such call of the experiment, the benchmarks and
    the input-pipeline test; `overrides` replace or add `fit`'s keyword arguments (a probe's epochs)."""
    arguments = {
        "batch_size": config.batch_size,
        "epochs": config.epochs,
        "validation_split": config.validation_split,
        "verbose": 0,
        "callbacks": list(callbacks),
    }
    return model.fit(data.x_train, data.y_train, **{**arguments, **overrides})
