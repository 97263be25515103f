"""Medians, spreads and a bootstrap interval for the ratio of two models' medians.

With a handful of repeats per model, a median and the range (min to max) say
more honestly what was seen than a mean and a standard deviation would.
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from convcarbon import units

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 0  # fixed, so that the same record always gives the same interval


@dataclass(frozen=True)
class Summary:
    """Median and range of the repeats of one quantity; NaN where nothing was measured."""

    median: float
    low: float
    high: float
    count: int

    @property
    def spread(self) -> float:
        return self.high - self.low


def summarize(values: Sequence[float | None]) -> Summary:
    """Median, min and max of the measured values. Any missing value makes all NaN:
    a summary of only the repeats that happened to work would hide the failure."""
    if not values or any(value is None for value in values):
        return Summary(math.nan, math.nan, math.nan, 0)
    return Summary(statistics.median(values), min(values), max(values), len(values))


@dataclass(frozen=True)
class RatioInterval:
    """median(numerators) / median(denominators) with a percentile bootstrap interval."""

    ratio: float
    low: float
    high: float
    confidence: float
    no_interval_reason: str = ""  # why a ratio that has a value has no interval, when the reason is not the runs

    @property
    def has_interval(self) -> bool:
        return not math.isnan(self.low)

    def excludes(self, value: float) -> bool:
        """True when the whole interval lies on one side of `value` (for example 1.0: no change)."""
        return self.has_interval and (self.high < value or self.low > value)

    # The one way a ratio with its interval is written: `cell` in a table (a page's or the terminal's),
    # `sentence` in prose, the terminal's summary and a verdict.

    def cell(self, line_break: str) -> str:
        """'0.50' above '(0.49–0.51)' (or on one line, with `line_break` a space), or why there is no interval."""
        if math.isnan(self.ratio):
            return units.NOT_MEASURED
        if not self.has_interval:
            why = f": {self.no_interval_reason}" if self.no_interval_reason else ""
            return f"{units.ratio(self.ratio)}{line_break}(no interval{why})"
        if self.low == self.high:  # every resample gives the same ratio: a ratio of counts
            return units.ratio(self.ratio)
        return f"{units.ratio(self.ratio)}{line_break}({units.span(self.low, self.high, units.ratio)})"

    def sentence(self) -> str:
        """'0.60 (95% interval 0.55 to 0.65)', or why there is no interval, or "not measured"."""
        if math.isnan(self.ratio):
            return units.NOT_MEASURED
        if not self.has_interval:
            if self.no_interval_reason:
                return f"{units.ratio(self.ratio)} (no interval: {self.no_interval_reason})"
            return f"{units.ratio(self.ratio)} (one run per model, so no interval)"
        if self.low == self.high:
            return units.ratio(self.ratio)
        return (
            f"{units.ratio(self.ratio)} ({self.confidence:.0%} interval {units.ratio(self.low)} to "
            f"{units.ratio(self.high)})"
        )


def ratio_of_medians(
    numerators: Sequence[float | None],
    denominators: Sequence[float | None],
    confidence: float = CONFIDENCE,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> RatioInterval:
    """The ratio of medians and its bootstrap interval, resampling each model's repeats apart.

    The interval needs at least two repeats of each model; with fewer it is NaN.
    A missing value or a zero denominator median makes everything NaN. The seed is fixed, so the same values
    always give the same interval: it is computed once per set of values (a page asks for the same atlas pair's
    interval in its figures, tables and prose), then remembered.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    return _ratio_of_medians(tuple(numerators), tuple(denominators), confidence, resamples, seed)


@functools.lru_cache(maxsize=16_384)
def _ratio_of_medians(
    numerators: tuple[float | None, ...],
    denominators: tuple[float | None, ...],
    confidence: float,
    resamples: int,
    seed: int,
) -> RatioInterval:
    top, bottom = summarize(numerators), summarize(denominators)
    if math.isnan(top.median) or math.isnan(bottom.median) or bottom.median == 0:
        return RatioInterval(math.nan, math.nan, math.nan, confidence)
    point = top.median / bottom.median
    if top.count < 2 or bottom.count < 2:
        return RatioInterval(point, math.nan, math.nan, confidence)
    generator = np.random.default_rng(seed)
    top_medians = np.median(generator.choice(np.asarray(numerators, float), (resamples, top.count)), axis=1)
    bottom_medians = np.median(generator.choice(np.asarray(denominators, float), (resamples, bottom.count)), axis=1)
    valid = bottom_medians != 0
    ratios = top_medians[valid] / bottom_medians[valid]
    tail = (1 - confidence) / 2
    low, high = np.quantile(ratios, [tail, 1 - tail])
    return RatioInterval(point, float(low), float(high), confidence)


def first_and_steady(values: list[float | None]) -> tuple[float | None, float | None]:
    """(first epoch, median of the later epochs) of per-epoch values; None where there is no such value.

    The first epoch carries the warm-up, so it is kept apart from the steady state.
    """
    first = values[0] if values else None
    later = values[1:]
    steady = statistics.median(later) if later and None not in later else None
    return first, steady
