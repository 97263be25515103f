"""One line per epoch on stderr, with an estimate of the time the whole run has left."""

from __future__ import annotations

import sys
import time
from typing import TextIO

import keras


class EpochProgress(keras.callbacks.Callback):
    """Prints each finished epoch of every model trained in one run.

    One instance spans the whole run, so that the estimate of time left
    includes the models not yet started.
    """

    def __init__(self, total_epochs: int, stream: TextIO | None = None):
        super().__init__()
        self.total_epochs = total_epochs
        self.stream = stream or sys.stderr  # the stream of the moment, not of the import
        self.finished_epochs = 0
        self.training_s = 0.0
        self.label = ""
        self.epochs_per_model = 0
        self._epoch_started = 0.0

    def start_model(self, label: str, epochs: int) -> None:
        self.label, self.epochs_per_model = label, epochs

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        duration_s = time.perf_counter() - self._epoch_started
        self.finished_epochs += 1
        self.training_s += duration_s
        left_s = self.training_s / self.finished_epochs * (self.total_epochs - self.finished_epochs)
        metrics = "  ".join(f"{name} {value:.4f}" for name, value in sorted((logs or {}).items()))
        print(
            f"[{self.label}] epoch {epoch + 1}/{self.epochs_per_model}  {metrics}  "
            f"{duration_s:.1f} s  (about {format_duration(left_s)} left)",
            file=self.stream,
            flush=True,
        )


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
