"""Measure or reuse: the one way a command or a build gets a result of this machine into the results store.

It is told the work (`Training`: an experiment's configuration; `Atlas`: an atlas profile) and the store's
folder, and starts a training or an atlas run only when the store holds no sound result of the same work
(`experiment.run_experiment` and `atlas_run.run_atlas` decide that from the fingerprint, under the store's lock).
It decides nothing about what a page shows (`site.shown` does).

Used by: `python -m convcarbon run | book | atlas`, the build (`site.sphinx_results`) and a chapter run on
its own (`site.book.measure_this_machine`, book/experiment.md).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from convcarbon.config import ExperimentConfig


@dataclass(frozen=True)
class Training:
    """Train both models with `config` on MNIST from `mnist_path` (default: $CONVCARBON_MNIST, else download)."""

    config: ExperimentConfig
    mnist_path: str | None = None


@dataclass(frozen=True)
class Atlas:
    """Time the atlas's grid of layer shapes of one profile."""

    profile: str


@dataclass(frozen=True)
class Measured:
    record: dict
    folder: Path  # the record's folder in the results store
    reused: bool  # True: stored before, nothing was measured now


def measure_or_reuse(
    work: Training | Atlas, results_root: os.PathLike | str, refresh: bool = False, log: TextIO | None = None
) -> Measured:
    """The stored result of `work` in the store at `results_root`, or one measured now and stored (always with
    `refresh`); progress and the reuse notice go to `log` (default: the standard error stream of the moment it
    runs, not of the moment this module was imported)."""
    log = log or sys.stderr
    if isinstance(work, Training):
        from convcarbon.data import resolve_mnist_path
        from convcarbon.training.measure.experiment import run_experiment

        from .store import ResultStore

        store = ResultStore(results_root)
        record, reused = run_experiment(work.config, store, resolve_mnist_path(work.mnist_path), refresh, log)
    elif isinstance(work, Atlas):
        from convcarbon.atlas.measure.run import run_atlas
        from convcarbon.atlas.measure.store import AtlasStore

        store = AtlasStore(results_root)
        record, reused = run_atlas(work.profile, store, refresh, log)
    else:
        raise ValueError(f"measure_or_reuse measures a Training or an Atlas, not {type(work).__name__}")
    return Measured(record, store.folder(record["profile"], record["fingerprint"]), reused)
