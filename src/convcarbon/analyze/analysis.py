"""From a record's repeated runs to what a reader needs: medians, spreads, ratios with intervals.

Each run gives one value per metric (`METRICS`); the repeats of a model
give a median and a range (`stats.summarize`); the two models give a ratio of
medians with a bootstrap interval (`stats.ratio_of_medians`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ..costs import training_multiplications_per_epoch
from ..measure.idle import energy_above_idle_kwh
from .stats import RatioInterval, Summary, first_and_steady, ratio_of_medians, summarize

MODELS = ("Conv2D", "SeparableConv2D")


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    value: Callable[[dict, dict], float | None]  # (run, record) -> value, None if not measured
    # Set for a metric whose runs can be near zero: a ratio of medians with such a denominator swings
    # by orders of magnitude from one resample to the next, so it gets no interval, and says why.
    no_interval_reason: str = ""


def _field(name: str) -> Callable[[dict, dict], float | None]:
    return lambda run, record: run[name]


def _first_epoch(field: str):
    return lambda run, record: first_and_steady(run[field])[0]


def _steady_epoch(field: str):
    return lambda run, record: first_and_steady(run[field])[1]


def _above_idle(run: dict, record: dict) -> float | None:
    idle = record["idle"]
    return energy_above_idle_kwh(run["energy_consumed_kwh"], run["duration_s"], idle and idle["idle_power_w"])


def _throughput(run: dict, record: dict) -> float | None:
    """Multiplications per second, forward and backward, over a steady-state epoch."""
    steady_s = first_and_steady(run["epoch_duration_s"])[1]
    if not steady_s:
        return None
    config = record["config"]
    per_epoch = training_multiplications_per_epoch(
        run["multiplications_per_image"], config["train_images"], config["validation_split"]
    )
    return per_epoch / steady_s


METRICS = [
    Metric("accuracy", "fraction of test images", _field("test_accuracy")),
    Metric("loss", "test cross-entropy", _field("test_loss")),
    Metric("duration", "s", _field("duration_s")),
    Metric("first epoch duration", "s", _first_epoch("epoch_duration_s")),
    Metric("later epoch duration", "s per epoch, median", _steady_epoch("epoch_duration_s")),
    Metric(
        "clean-up after the epochs",
        "s",
        _field("clean_up_duration_s"),
        no_interval_reason="runs can be near zero",  # the chapter says why that leaves an interval meaningless
    ),
    Metric("energy_consumed", "kWh", _field("energy_consumed_kwh")),
    Metric("energy above idle", "kWh", _above_idle),
    Metric("first epoch energy", "kWh", _first_epoch("epoch_energy_kwh")),
    Metric("later epoch energy", "kWh per epoch, median", _steady_epoch("epoch_energy_kwh")),
    Metric("emissions", "kg CO2eq", _field("emissions_kg")),
    Metric("emissions_rate", "kg CO2eq/s", _field("emissions_rate_kg_per_s")),
    Metric("cpu_energy", "kWh", _field("cpu_energy_kwh")),
    Metric("gpu_energy", "kWh", _field("gpu_energy_kwh")),
    Metric("ram_energy", "kWh", _field("ram_energy_kwh")),
    Metric("throughput", "multiplications/s, forward + backward", _throughput),
    Metric("multiplications", "per image, forward", _field("multiplications_per_image")),
]
METRICS_BY_NAME = {metric.name: metric for metric in METRICS}


def runs_of(record: dict, model: str) -> list[dict]:
    """The runs of one model, in the order of their repeats."""
    return sorted((run for run in record["runs"] if run["model"] == model), key=lambda run: run["repeat"])


def metric_values(record: dict, model: str, name: str) -> list[float | None]:
    value = METRICS_BY_NAME[name].value
    return [value(run, record) for run in runs_of(record, model)]


def summary(record: dict, model: str, name: str) -> Summary:
    return summarize(metric_values(record, model, name))


def separable_ratio_interval(record: dict, name: str) -> RatioInterval:
    """SeparableConv2D / Conv2D for one metric: ratio of medians with its bootstrap interval; without one,
    and with the reason, for a metric whose values can be near zero (`Metric.no_interval_reason`)."""
    interval = ratio_of_medians(metric_values(record, "SeparableConv2D", name), metric_values(record, "Conv2D", name))
    reason = METRICS_BY_NAME[name].no_interval_reason
    if reason and not math.isnan(interval.ratio):
        return RatioInterval(interval.ratio, math.nan, math.nan, interval.confidence, reason)
    return interval


def repeats(record: dict) -> int:
    return record["config"]["repeats"]


def idle_power_w(record: dict) -> float:
    """The machine's mean power at rest in this record; NaN when it was not measured."""
    idle = record["idle"]
    return math.nan if idle is None or idle["idle_power_w"] is None else idle["idle_power_w"]


# A bootstrap of two runs per model can only recombine four numbers: its interval
# is too coarse to decide anything, so a verdict needs at least this many.
MIN_REPEATS_FOR_VERDICT = 3


def saving_shown(interval: RatioInterval, runs_per_model: int) -> str:
    """What an energy ratio's interval lets one say, as one of: "not measured", "no interval",
    "too few runs", "saved", "used more", "no saving shown". The one reading for every verdict in the book."""
    if math.isnan(interval.ratio):
        return "not measured"
    if not interval.has_interval:
        return "no interval"
    if runs_per_model < MIN_REPEATS_FOR_VERDICT:
        return "too few runs"
    if not interval.excludes(1.0):
        return "no saving shown"
    return "saved" if interval.high < 1 else "used more"


def saving_verdict(record: dict, name: str = "energy_consumed") -> str:
    """Whether the separable model saved energy on this machine, read from the interval alone."""
    interval = separable_ratio_interval(record, name)
    shown = saving_shown(interval, repeats(record))
    if shown == "not measured":
        return "not measured, so no verdict"
    described = f"{interval.ratio:.2f} times the standard model's" + (
        f" (95% interval {interval.low:.2f} to {interval.high:.2f})" if interval.has_interval else ""
    )
    return {
        "no interval": f"{described}; with one run per model there is no interval, so no verdict",
        "too few runs": (
            f"{described}; with {repeats(record)} runs per model the interval is too coarse for a "
            f"verdict (at least {MIN_REPEATS_FOR_VERDICT} are needed)"
        ),
        "saved": f"yes, it saved energy: {described}",
        "used more": f"no, it used more energy: {described}",
        "no saving shown": f"no saving shown: {described}, an interval that includes 1",
    }[shown]
