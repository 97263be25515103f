"""From a record's repeated runs to what a reader needs: medians, spreads, ratios with intervals.

Each run gives one value per metric (`METRICS`); the repeats of a model
give a median and a range (`stats.summarize`); the two models give a ratio of
medians with a bootstrap interval (`stats.ratio_of_medians`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from convcarbon.costs import training_multiplications_per_epoch
from convcarbon.energy.idle import energy_above_idle_kwh

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


def _steps_alone(run: dict, record: dict) -> float | None:
    """The median over the later epochs of the time in their training steps alone, without the wait for the
    first batch, validation or callbacks; None for a record made before steps were timed (schema 5)."""
    accounts = run.get("epoch_steps")
    return first_and_steady([account["steps_s"] for account in accounts])[1] if accounts else None


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
    Metric("later epoch steps", "s per epoch in training steps alone, median", _steps_alone),
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
    """What an energy ratio's interval lets one say, as one of the readings of `VERDICTS`.
    The one reading for every verdict in the book and the terminal."""
    if math.isnan(interval.ratio):
        return "not measured"
    if not interval.has_interval:
        return "no interval"
    if runs_per_model < MIN_REPEATS_FOR_VERDICT:
        return "too few runs"
    if not interval.excludes(1.0):
        return "no saving shown"
    return "saved" if interval.high < 1 else "used more"


@dataclass(frozen=True)
class Verdict:
    """How a reading of `saving_shown` is worded: `cell` in a table and on the terminal, `phrase` in a sentence."""

    cell: str
    phrase: str


# The one wording table of the verdict, looked up for a record by `energy_verdict`: the terminal (report,
# classtable, the `book` command's summary),
# the tables (machines.summary_frame) and the prose (prose.saving_against_paper, prose.verdicts_markdown).
VERDICTS = {
    "saved": Verdict("saved energy", "yes, it saved energy"),
    "used more": Verdict("used more energy", "no, it used more energy"),
    "no saving shown": Verdict("no saving shown", "no saving shown (the interval includes 1)"),
    "too few runs": Verdict(
        "too few runs for a verdict",
        f"too few runs for a verdict (at least {MIN_REPEATS_FOR_VERDICT} per model are needed)",
    ),
    "no interval": Verdict("one run: no verdict", "one run per model, so no interval and no verdict"),
    "not measured": Verdict("not measured", "energy not measured, so no verdict"),
}


def energy_verdict(record: dict) -> Verdict:
    """The verdict on a record's energy ratio: the one lookup of `VERDICTS` for a record (the terminal's
    summary, the class table, the machines' table and the prose)."""
    return VERDICTS[saving_shown(separable_ratio_interval(record, "energy_consumed"), repeats(record))]


def saving_verdict(record: dict) -> str:
    """Whether the separable model saved energy on this machine, read from the interval alone, in a
    phrase with the ratio: "yes, it saved energy; energy ratio 0.60 (95% interval 0.55 to 0.65)"."""
    interval = separable_ratio_interval(record, "energy_consumed")
    verdict = energy_verdict(record)
    if math.isnan(interval.ratio):
        return verdict.phrase
    return f"{verdict.phrase}; energy ratio {interval.sentence()}"
