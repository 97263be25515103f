"""The statistics, checked against values worked out by hand or by exhaustive enumeration."""

import itertools
import math
import statistics

import numpy as np
import pytest

from convcarbon.training.analyze.stats import first_and_steady, ratio_of_medians, summarize


def test_summary_is_median_and_range():
    seen = summarize([3.0, 1.0, 2.0, 10.0])
    assert (seen.median, seen.low, seen.high, seen.count) == (2.5, 1.0, 10.0, 4)
    assert seen.spread == 9.0


def test_a_missing_value_makes_the_whole_summary_missing():
    assert math.isnan(summarize([1.0, None, 3.0]).median)
    assert math.isnan(summarize([]).median)


def test_equal_repeats_give_an_interval_of_one_point():
    interval = ratio_of_medians([2.0, 2.0, 2.0], [4.0, 4.0, 4.0])
    assert (interval.ratio, interval.low, interval.high) == (0.5, 0.5, 0.5)
    assert interval.excludes(1.0)


def test_one_run_per_model_gives_a_ratio_but_no_interval():
    interval = ratio_of_medians([3.0], [4.0])
    assert interval.ratio == 0.75 and not interval.has_interval and not interval.excludes(1.0)


def test_missing_or_zero_gives_no_ratio():
    assert math.isnan(ratio_of_medians([1.0, None], [1.0, 2.0]).ratio)
    assert math.isnan(ratio_of_medians([1.0, 2.0], [0.0, 0.0]).ratio)


def test_bootstrap_interval_matches_exhaustive_enumeration():
    """With three repeats each, all 27 x 27 resamples can be listed: the bootstrap's
    percentiles must agree with the exact distribution's to within resampling noise."""
    separable, standard = [0.8, 1.0, 1.3], [1.9, 2.0, 2.4]
    exact = sorted(
        statistics.median(top) / statistics.median(bottom)
        for top in itertools.product(separable, repeat=3)
        for bottom in itertools.product(standard, repeat=3)
    )
    exact_low, exact_high = np.quantile(exact, [0.025, 0.975])
    interval = ratio_of_medians(separable, standard, resamples=40_000)
    assert interval.ratio == pytest.approx(1.0 / 2.0)
    assert interval.low == pytest.approx(exact_low, abs=0.02)
    assert interval.high == pytest.approx(exact_high, abs=0.02)
    assert interval.low <= interval.ratio <= interval.high


def test_interval_is_reproducible_and_narrows_with_more_repeats():
    generator = np.random.default_rng(1)
    few_separable, few_standard = list(generator.normal(1.0, 0.1, 3)), list(generator.normal(2.0, 0.2, 3))
    few = ratio_of_medians(few_separable, few_standard)
    assert ratio_of_medians(few_separable, few_standard) == few  # the same record, the same interval
    many = ratio_of_medians(list(generator.normal(1.0, 0.1, 60)), list(generator.normal(2.0, 0.2, 60)))
    assert many.high - many.low < few.high - few.low
    assert many.low < 0.5 < many.high


def test_confidence_must_be_a_fraction():
    with pytest.raises(ValueError, match="confidence must be between 0 and 1"):
        ratio_of_medians([1.0, 2.0], [1.0, 2.0], confidence=95)


def test_first_epoch_is_kept_apart_from_the_steady_state():
    assert first_and_steady([30.0, 10.0, 12.0, 11.0]) == (30.0, 11.0)
    assert first_and_steady([30.0]) == (30.0, None)
    assert first_and_steady([5.0, None, 3.0]) == (5.0, None)
