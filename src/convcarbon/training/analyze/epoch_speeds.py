"""Epochs at two speeds, and the epoch budget: what an epoch's time is made of, set against the step breakdown.

Two speeds (issue 20). A run's later epochs (the first carries the warm-up) are sorted and cut at their largest
gap. They run at two speeds when both sides hold at least `MIN_EPOCHS_PER_SPEED` epochs and the slow side's mean
is more than `TWO_SPEEDS_FACTOR` times the fast side's. Epochs that merely scatter have no gap that large between
two groups of that size; one slow epoch alone is an outlier, not a second speed. The rule needs only the epoch
times, so it reads every record, old ones included.

The epoch budget. A later epoch's mean time, over every run of a model, is cut into: the steps, as many as the
epoch has, each at the breakdown's measured step (`anatomy.analyze.breakdown`); the wait before the first step (the
input pipeline: there the previous epoch's unused tf.data iterator is torn down, `bench/epoch_stall_probe.py`); the
validation; and the rest (callbacks, the tracker's reading, fetching each batch). Means, not medians: means add
up, so a budget of means accounts for both speeds, where a median would pick one. The wait, the validation and
the rest are measured by the record's step timings (`epoch_steps`, schema 6); a record made before them has only
the steps to offer, and its budget says how far they fall short.

Used by: book/results.md ("Epochs at two speeds", "The epoch budget"); training/analyze/report.py (the two-speeds flag).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from convcarbon.anatomy.analyze.breakdown import model_breakdown

from .analysis import MODELS, runs_of

TWO_SPEEDS_FACTOR = 1.4
MIN_EPOCHS_PER_SPEED = 2
BUDGET_TOLERANCE = 0.15  # the budget must come within this fraction of the measured epoch


@dataclass(frozen=True)
class TwoSpeeds:
    """The later epochs of one run split at their largest gap: the mean of each side and how many it holds."""

    fast_s: float
    slow_s: float
    fast_epochs: int
    slow_epochs: int

    @property
    def factor(self) -> float:
        return self.slow_s / self.fast_s


def two_speeds(epoch_durations_s: list[float]) -> TwoSpeeds | None:
    """The run's two speeds, or None when its later epochs run at one (the rule of the module docstring)."""
    later = sorted(epoch_durations_s[1:])
    if len(later) < 2 * MIN_EPOCHS_PER_SPEED:
        return None
    gaps = [later[index + 1] - later[index] for index in range(len(later) - 1)]
    cut = max(range(len(gaps)), key=gaps.__getitem__) + 1
    fast, slow = later[:cut], later[cut:]
    if min(len(fast), len(slow)) < MIN_EPOCHS_PER_SPEED:
        return None
    speeds = TwoSpeeds(statistics.fmean(fast), statistics.fmean(slow), len(fast), len(slow))
    return speeds if speeds.factor > TWO_SPEEDS_FACTOR else None


def runs_at_two_speeds(record: dict, model: str) -> tuple[int, int]:
    """(runs of the model whose epochs run at two speeds, runs of the model)."""
    runs = runs_of(record, model)
    return sum(two_speeds(run["epoch_duration_s"]) is not None for run in runs), len(runs)


def has_two_speeds(record: dict) -> bool:
    return any(runs_at_two_speeds(record, model)[0] for model in MODELS)


def two_speeds_phrase(record: dict) -> str:
    """A short phrase for the page and the terminal: which runs' epochs ran at two speeds."""
    counts = {model: runs_at_two_speeds(record, model) for model in MODELS}
    if not any(flagged for flagged, _ in counts.values()):
        return "one speed in every run"
    parts = [f"{model} {flagged} of {runs} run{'s' if runs != 1 else ''}" for model, (flagged, runs) in counts.items()]
    return "two speeds: " + ", ".join(parts)


def two_speeds_rows(record: dict) -> list[dict]:
    """One row per run: its later epochs' fastest and slowest, and its two speeds where it has them."""
    rows = []
    for model in MODELS:
        for run in runs_of(record, model):
            later = run["epoch_duration_s"][1:]
            speeds = two_speeds(run["epoch_duration_s"])
            rows.append(
                {
                    "model": model,
                    "repeat": run["repeat"] + 1,
                    "later epochs": len(later),
                    "fastest_s": min(later) if later else math.nan,
                    "slowest_s": max(later) if later else math.nan,
                    "speeds": speeds,
                }
            )
    return rows


def has_step_timings(record: dict) -> bool:
    return all("epoch_steps" in run for run in record["runs"])


def _later_accounts(record: dict, model: str) -> list[tuple[float, dict | None]]:
    """(epoch time, its step account or None) of every later epoch of every run of the model."""
    pairs = []
    for run in runs_of(record, model):
        accounts = run.get("epoch_steps") or [None] * len(run["epoch_duration_s"])
        pairs += list(zip(run["epoch_duration_s"], accounts, strict=True))[1:]
    return pairs


def steps_per_epoch(record: dict) -> int:
    """Training batches in an epoch, as Keras cuts them: the validation split is the last `int(n * split)` images."""
    config = record["config"]
    training_images = config["train_images"] - int(config["train_images"] * config["validation_split"])
    return math.ceil(training_images / config["batch_size"])


@dataclass(frozen=True)
class EpochBudget:
    """A later epoch of one model, mean over every run: the breakdown's steps plus what the step timings measured,
    against the measured epoch. A part is None where the record did not measure it."""

    model: str
    steps: int
    breakdown_step_s: float
    epoch_s: float
    measured_steps_s: float | None
    input_wait_s: float | None
    validation_s: float | None
    rest_s: float | None

    @property
    def breakdown_steps_s(self) -> float:
        return self.steps * self.breakdown_step_s

    @property
    def budget_s(self) -> float:
        """The breakdown's steps plus every measured part that is not a step."""
        others = (self.input_wait_s, self.validation_s, self.rest_s)
        return self.breakdown_steps_s + sum(part for part in others if part is not None)

    @property
    def difference(self) -> float:
        """(budget - measured epoch) / measured epoch: negative when the budget falls short."""
        return self.budget_s / self.epoch_s - 1

    @property
    def adds_up(self) -> bool:
        return abs(self.difference) <= BUDGET_TOLERANCE


def epoch_budget(record: dict, model: str) -> EpochBudget | None:
    """The model's epoch budget; None without a breakdown or without a later epoch."""
    entry = model_breakdown(record, model)
    pairs = _later_accounts(record, model)
    if entry is None or not pairs:
        return None
    epoch_s = statistics.fmean(epoch for epoch, _ in pairs)
    accounts = [account for _, account in pairs]
    if any(account is None for account in accounts):
        return EpochBudget(model, steps_per_epoch(record), entry["step_duration_s"], epoch_s, None, None, None, None)

    def mean(field: str) -> float:
        return statistics.fmean(account[field] for account in accounts)

    measured_steps_s, input_wait_s, validation_s = mean("steps_s"), mean("input_wait_s"), mean("validation_s")
    return EpochBudget(
        model,
        round(mean("steps")),
        entry["step_duration_s"],
        epoch_s,
        measured_steps_s,
        input_wait_s,
        validation_s,
        epoch_s - measured_steps_s - input_wait_s - validation_s,
    )
