"""The two models taken apart (issue 17): the tutorial's cited log, the record's optional inference and
breakdown (validated, bounded, optional), the break-even arithmetic, and the no-interval rule."""

import copy
import math

import pytest
from synthetic import make_breakdown, paired_record, with_inference

from convcarbon.anatomy.analyze import breakdown, inference
from convcarbon.anatomy.publish import page as anatomy
from convcarbon.reference import (
    TUTORIAL_EPOCH_S,
    TUTORIAL_MS_PER_STEP,
    TUTORIAL_SOURCE,
    tutorial_epoch_sum_error_s,
    tutorial_epoch_sum_s,
    tutorial_outside_epochs_s,
)
from convcarbon.safe import OwnMarkdown
from convcarbon.training.analyze.analysis import METRICS, separable_ratio_interval
from convcarbon.training.analyze.tables import DETAIL_METRICS, comparison_frame
from convcarbon.training.measure.schema import record_problem


def anatomy_record():
    """Three runs per model, training energy 0.01 kWh (standard) and 0.005 kWh (separable), with inference
    at 1e-8 kWh per prediction (standard) and 5e-9 (separable) at batch 1, and a breakdown."""
    record = with_inference(
        paired_record([0.01, 0.01, 0.01], [0.005, 0.005, 0.005]),
        {"Conv2D": 1e-8, "SeparableConv2D": 5e-9},
    )
    record["breakdown"] = make_breakdown()
    return record


# --- the tutorial's log (cited facts in reference.py) ---------------------------------------------


def test_tutorial_epoch_times_are_the_published_log():
    assert TUTORIAL_SOURCE["commit"] == "09d919b9e8a82383399201e401ff7d37e7be19f3"
    for table in (TUTORIAL_EPOCH_S, TUTORIAL_MS_PER_STEP):
        assert {model: len(values) for model, values in table.items()} == {"Conv2D": 25, "SeparableConv2D": 25}
    assert TUTORIAL_EPOCH_S["Conv2D"][0] == 7 and TUTORIAL_EPOCH_S["SeparableConv2D"][0] == 4


def test_tutorial_epoch_sums_and_what_lies_outside():
    assert tutorial_epoch_sum_s("Conv2D") == 40
    assert tutorial_epoch_sum_s("SeparableConv2D") == 37
    assert tutorial_epoch_sum_error_s("Conv2D") == 12.5
    assert tutorial_outside_epochs_s("Conv2D") == pytest.approx(83.0816 - 40)
    assert tutorial_outside_epochs_s("SeparableConv2D") == pytest.approx(40.3688 - 37)
    with pytest.raises(ValueError, match="not 'ResNet'"):
        tutorial_epoch_sum_s("ResNet")


def test_tutorial_texts_come_from_the_reference_data():
    texts = anatomy.tutorial_texts(anatomy_record())
    assert texts["tutorial_conv2d_epoch_sum_s"] == "40 s"
    assert texts["tutorial_separable_epoch_sum_s"] == "37 s"
    assert texts["tutorial_conv2d_outside_s"] == "43.1 s"
    assert texts["tutorial_separable_outside_s"] == "3.37 s"
    # 42.7 s published difference, of which 43.08 - 3.37 = 39.7 s outside the epochs: 93%.
    assert texts["tutorial_outside_difference_share"] == "93%"
    assert texts["tutorial_epoch_sum_ratio"] == "0.93" and texts["tutorial_duration_ratio"] == "0.49"
    assert "09d919b9e8a8" in texts["tutorial_source"]


# --- the record's optional fields -----------------------------------------------------------------


def test_a_record_with_inference_and_breakdown_is_valid():
    assert record_problem(anatomy_record()) is None


def test_an_older_record_without_them_stays_readable_and_says_not_measured():
    record = paired_record([0.01, 0.01, 0.01], [0.005, 0.005, 0.005])
    assert record_problem(record) is None
    assert not inference.has_inference(record)
    assert set(anatomy.inference_texts(record).values()) == {"not measured in this record"}
    assert set(anatomy.breakdown_texts(record).values()) == {"not measured in this record"}
    assert "not measured in this record" in anatomy.inference_frame(record).data
    assert "not measured in this record" in anatomy.breakdown_frame(record).data
    assert math.isnan(inference.break_even_predictions(record, "Conv2D", 1))


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda r: r["inference"][0]["batches"][0].update(duration_s=float("nan")), "not finite"),
        (lambda r: r["inference"][0]["batches"][0].update(energy_kwh=float("inf")), "inference"),
        (lambda r: r["inference"][0]["batches"][0].update(energy_kwh=-1.0), "inference"),
        (lambda r: r["inference"][0]["batches"][0].update(energy_kwh=5000.0), "inference"),
        (lambda r: r["inference"][0].update(method="x" * 401), "inference"),
        (lambda r: r["inference"][0]["batches"][1].update(batch_size=32), "batch sizes"),
        (lambda r: r["inference"][0]["batches"][1].update(predictions=3), "counts its predictions"),
        (lambda r: r["inference"].pop(), "one per run"),
        (lambda r: r["inference"][0].update(model="SeparableConv2D"), "names architecture"),
        (lambda r: r["inference"][0].update(extra=1), "inference"),
        (lambda r: r["breakdown"]["models"][0]["parts"][0].update(layer="<script>"), "breakdown"),
        (lambda r: r["breakdown"]["models"][0]["parts"][0].update(duration_s=float("nan")), "not finite"),
        (lambda r: r["breakdown"]["models"][0].update(step_duration_s=0), "breakdown"),
        (lambda r: r["breakdown"]["models"].append(copy.deepcopy(r["breakdown"]["models"][0])), "breakdown"),
        (lambda r: r["breakdown"]["models"][0]["parts"].append(r["breakdown"]["models"][0]["parts"][0]), "twice"),
    ],
)
def test_damaged_inference_or_breakdown_is_refused_with_its_reason(damage, reason):
    record = anatomy_record()
    damage(record)
    problem = record_problem(record)
    assert problem is not None and reason in problem


# --- the break-even -----------------------------------------------------------------------------


def test_break_even_is_training_energy_over_energy_per_prediction():
    record = anatomy_record()
    # 0.01 kWh of training at 1e-8 kWh per prediction: a million predictions; batch 250 is 10 times cheaper.
    assert inference.break_even_predictions(record, "Conv2D", 1) == pytest.approx(1e6)
    assert inference.break_even_predictions(record, "Conv2D", 250) == pytest.approx(1e7)
    assert inference.break_even_predictions(record, "SeparableConv2D", 1) == pytest.approx(1e6)
    ratio = inference.per_prediction_ratio(record, 1, inference.ENERGY)
    assert ratio.ratio == pytest.approx(0.5)
    assert inference.per_prediction(record, "Conv2D", 1, inference.TIME).median == pytest.approx(1e-3)
    texts = anatomy.inference_texts(record)
    assert texts["conv2d_break_even_b1"] == "1,000,000"
    assert texts["conv2d_break_even_batch"] == "10,000,000"
    # Every resample gives the same ratio here, so the one ratio formatter shows no interval of zero width.
    assert texts["prediction_energy_ratio_b1"] == "0.50"
    assert all(isinstance(text, OwnMarkdown) for text in texts.values())
    assert texts["prediction_energy_kind"] == "estimated"  # the synthetic tracker had no counter
    assert texts["conv2d_prediction_energy_b1"] == "36.0 mJ"  # 1e-8 kWh
    # From time alone: a training run of 100 s against 1 ms per prediction, whatever wattage was assumed.
    assert inference.break_even_from_time(record, "Conv2D", 1) == pytest.approx(1e5)
    assert texts["conv2d_break_even_time_b1"] == "100,000"


def test_break_even_is_not_a_number_when_prediction_energy_was_not_measured():
    record = anatomy_record()
    for entry in record["inference"]:
        for batch in entry["batches"]:
            batch["energy_kwh"] = None
    assert record_problem(record) is None
    assert math.isnan(inference.break_even_predictions(record, "Conv2D", 1))
    assert anatomy.inference_texts(record)["conv2d_break_even_b1"] == "not measured"
    assert inference.inference_energy_reading(record) == "not measured"
    assert "energy per prediction (not measured: CodeCarbon failed)" in anatomy.inference_frame(record).to_html()
    assert anatomy.inference_texts(record)["conv2d_break_even_time_b1"] == "100,000"  # time was measured


# --- the breakdown ------------------------------------------------------------------------------


def test_breakdown_names_the_remainder_framework_overhead():
    entry = breakdown.model_breakdown(anatomy_record(), "Conv2D")
    # 0.05 s of convolutions, 8 other parts of 0.004 s and the optimizer's 0.004 s: 0.086 s of 0.1 s.
    assert breakdown.sum_of_parts_s(entry) == pytest.approx(0.086)
    assert breakdown.framework_overhead_s(entry) == pytest.approx(0.014)
    assert breakdown.adds_up(entry)
    assert breakdown.convolution_share(entry) == pytest.approx(0.5)
    groups = breakdown.group_times_s(entry)
    assert groups[breakdown.FRAMEWORK_OVERHEAD] == pytest.approx(0.014)
    assert sum(groups.values()) == pytest.approx(entry["step_duration_s"])
    rows = {row.layer: row for row in breakdown.layer_times(entry)}
    assert rows["dense_1"].multiplications == 1600 * 256 and rows["pool_1"].multiplications is None
    assert rows["optimizer"].update_s == pytest.approx(0.004)


def test_parts_that_miss_the_step_by_more_than_the_tolerance_do_not_add_up():
    record = anatomy_record()
    record["breakdown"] = make_breakdown(step_s=0.2)
    assert not breakdown.adds_up(breakdown.model_breakdown(record, "Conv2D"))


def test_tables_show_the_measured_parts_and_predictions():
    record = anatomy_record()
    breakdown_html = anatomy.breakdown_frame(record).to_html()
    assert "framework overhead" in breakdown_html and "409,600" in breakdown_html  # dense_1's multiplications
    inference_html = anatomy.inference_frame(record).to_html()
    assert "1,000,000" in inference_html and "36.0 mJ" in inference_html
    assert "energy per prediction (estimated)" in inference_html
    assert "epoch (cited)" in anatomy.tutorial_epochs_frame().to_html()


def test_breakdown_texts_and_figure_come_from_the_record():
    record = anatomy_record()
    texts = anatomy.breakdown_texts(record)
    assert texts["conv2d_convolution_share"] == "50%"
    assert texts["conv2d_overhead_share"] == "14%"
    assert texts["conv2d_parts_share"] == "86%"
    figure = anatomy.breakdown_figure(record)
    bars = figure.axes[0].patches
    assert len(bars) == 2 * len(breakdown.GROUPS) + 2  # every group and the overhead, for both models


# --- the no-interval rule ------------------------------------------------------------------------


def test_a_ratio_whose_denominator_can_be_near_zero_gets_no_interval_and_says_why():
    flagged = [metric.name for metric in METRICS if metric.no_interval_reason]
    assert flagged == ["clean-up after the epochs"]
    record = paired_record([0.01, 0.011, 0.012], [0.009, 0.0095, 0.01])
    for run, clean_up_s in zip(record["runs"], (8.9, 0.008, 8.9, 2.0, 2.1, 1.9), strict=True):
        run["clean_up_duration_s"] = clean_up_s
    interval = separable_ratio_interval(record, "clean-up after the epochs")
    assert interval.ratio == pytest.approx(2.0 / 8.9)
    assert not interval.has_interval and interval.no_interval_reason == "runs can be near zero"
    assert separable_ratio_interval(record, "energy_consumed").has_interval  # the rule is the metric's, no other's
    frame = comparison_frame(record, DETAIL_METRICS)
    cell = frame.loc["clean-up after the epochs (s)"].iloc[-1]
    assert "(no interval: runs can be near zero)" in cell
