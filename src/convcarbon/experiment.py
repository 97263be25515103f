"""Train both CNNs under CodeCarbon, or reuse the stored result of the same work."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from typing import Optional, TextIO

from .architecture import ARCHITECTURES, DISPLAY_NAMES
from .config import ExperimentConfig
from .costs import book_model_costs, total_multiplications
from .data import PreparedData, load_mnist, prepare
from .provenance import fingerprint, git_commit, hardware_info, source_sha256, versions
from .store import CODECARBON_CSV, SCHEMA_VERSION, ResultStore
from .tracking import measure


def run_experiment(
    config: ExperimentConfig,
    store: ResultStore,
    mnist_path: Optional[str],
    refresh: bool = False,
    log: TextIO = sys.stderr,
) -> tuple[dict, bool]:
    """Return (record, reused): the stored record if the same work was done before."""
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
            record = store.load(config.profile, result_fingerprint)
            if record is not None:
                print(f"Reusing the stored result {store.key(config.profile, result_fingerprint)} "
                      f"(measured {record['created_utc']}); --refresh measures again.", file=log)
                return record, True
        print(f"Training both models, profile {config.profile!r}: {config.epochs} epoch(s), "
              f"{config.train_images:,} training images, grid {config.country_iso_code}.", file=log, flush=True)
        from .progress import EpochProgress

        data = prepare(mnist, config)
        progress = EpochProgress(total_epochs=config.epochs * len(ARCHITECTURES), stream=log)
        with store.staging() as folder:
            runs = [train_one(architecture, config, data, folder, progress) for architecture in ARCHITECTURES]
            record = {
                "schema_version": SCHEMA_VERSION,
                "fingerprint": result_fingerprint,
                "profile": config.profile,
                "config": config.to_dict(),
                "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                **git_commit(),
                **provenance,
                "codecarbon_csv": CODECARBON_CSV,
                "runs": runs,
            }
            path = store.commit(folder, record)
        print(f"Stored the result in {path}.", file=log)
    return record, False


def train_one(architecture: str, config: ExperimentConfig, data: PreparedData, output_dir, progress) -> dict:
    """Train one model inside its own tracker, then evaluate it on the test images."""
    import keras

    from .models import build_model

    keras.utils.set_random_seed(config.seed)
    model = build_model(architecture)
    progress.start_model(DISPLAY_NAMES[architecture], config.epochs)

    def fit():
        return model.fit(
            data.x_train,
            data.y_train,
            batch_size=config.batch_size,
            epochs=config.epochs,
            validation_split=config.validation_split,
            verbose=0,
            callbacks=[progress],
        )

    history, energy = measure(config, output_dir, f"convcarbon-{architecture}", fit)
    test_loss, test_accuracy = model.evaluate(data.x_test, data.y_test, batch_size=config.batch_size, verbose=0)
    return {
        "architecture": architecture,
        "model": DISPLAY_NAMES[architecture],
        "seed": config.seed,
        "parameters": model.count_params(),
        "multiplications_per_image": total_multiplications(book_model_costs(architecture)),
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "history": {name: [float(value) for value in values] for name, values in history.history.items()},
        "epoch_duration_s": list(progress.epoch_durations_s),
        **energy,
    }
