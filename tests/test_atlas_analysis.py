"""The atlas's analysis: work counted as it runs (by hand), crossovers with their intervals, the physical checks,
and the predictions checked on held-out points, on synthetic records and on the committed atlases."""

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from synthetic import make_atlas_record as synthetic_record

from convcarbon import costs
from convcarbon.atlas.analyze import analysis
from convcarbon.atlas.measure import checks as atlas_checks
from convcarbon.atlas.measure.grid import (
    Shape,
    byte_count,
    input_gradient_timed,
    layer_intermediate_bytes,
    macs,
    weight_count,
    work_bytes,
    work_macs,
)
from convcarbon.atlas.measure.schema import atlas_record_problem

RECORDS = Path(__file__).resolve().parents[1] / "book" / "records"
COMMITTED_ATLASES = sorted(RECORDS.glob("atlas-*/record.json"))

# --- work counted as it runs, by hand ---------------------------------------------------------------------------

# 4x4 pictures, 2 -> 3 channels, 3x3 kernel, same padding, batch 2: 16 output pixels per image, 32 in the batch.
SMALL = Shape(2, 3, 3, 4, 4, "same", 2)


def test_standard_layer_work_by_hand():
    forward = 32 * 9 * 2 * 3  # every output pixel: 3 filters of 3x3x2 weights
    assert forward == 1728 and macs(SMALL, "Conv2D") == forward
    # training: forward, weight gradient and input gradient, each as many MACs as the forward pass
    assert work_macs(SMALL, "Conv2D", "training", input_gradient=True) == 3 * 1728 == 5184
    assert work_macs(SMALL, "Conv2D", "training", input_gradient=False) == 2 * 1728 == 3456  # a first layer
    # bytes: input 2*16*2 = 64 values, weights 54 + 3 biases = 57, output 2*16*3 = 96; 217 values of 4 bytes
    assert weight_count(SMALL, "Conv2D") == 57
    assert byte_count(SMALL, "Conv2D") == work_bytes(SMALL, "Conv2D", "inference", False) == 4 * 217 == 868
    assert work_bytes(SMALL, "Conv2D", "training", False) == 2 * 868
    assert layer_intermediate_bytes(SMALL, "Conv2D") == 0


def test_separable_layer_work_by_hand():
    depthwise, pointwise = 32 * 9 * 2, 32 * 2 * 3  # a 3x3 filter per channel, then a 1x1 mix of 2 into 3
    assert (depthwise, pointwise) == (576, 192) and macs(SMALL, "SeparableConv2D") == 768
    assert work_macs(SMALL, "SeparableConv2D", "training", True) == 3 * 768 == 2304
    # a first layer: the depthwise part has no input gradient; the pointwise part needs its own (for the
    # depthwise weights' gradient): 2 * 576 + 3 * 192
    assert work_macs(SMALL, "SeparableConv2D", "training", False) == 1152 + 576 == 1728
    # depthwise part: input 64 + weights 18 + intermediate 64 = 146 values; pointwise part: intermediate 64 +
    # weights 6 + 3 biases + output 96 = 169 values
    assert work_bytes(SMALL, "SeparableConv2D", "inference", False) == 4 * (146 + 169) == 1260
    # the record's `bytes` leaves the intermediate picture out; written once and read once it is 2 * 4 * 64 bytes
    assert byte_count(SMALL, "SeparableConv2D") == 4 * (64 + 18 + 9 + 96) == 748
    assert layer_intermediate_bytes(SMALL, "SeparableConv2D") == 2 * 4 * 64 == 512 == 1260 - 748
    assert work_bytes(SMALL, "SeparableConv2D", "training", False) == 4 * (2 * 146 + 3 * 169) == 3196


def test_atlas_counts_agree_with_the_book_model_tables():
    # The book's second separable layer, counted by the atlas at batch 1 and by the book's table of the model.
    rows = [row for row in costs.book_model_costs("separable") if row.layer == "conv_2"]
    shape = Shape(32, 64, 3, 13, 13, "valid", 1)
    assert macs(shape, "SeparableConv2D") == costs.total_multiplications(rows) == 121 * (9 * 32 + 32 * 64)
    assert weight_count(shape, "SeparableConv2D") == costs.total_parameters(rows)


def test_training_multiplications_of_a_model_leave_out_the_first_layer_input_gradient():
    rows = costs.book_model_costs("conv2d")
    first = rows[0].multiplications
    assert first == 26 * 26 * 9 * 32
    assert costs.training_multiplications(rows) == 3 * costs.total_multiplications(rows) - first
    # The results chapter's epoch estimate counts three forward passes for every layer: its overcount is the first
    # layer's share of the forward multiplications over three, below 3% for both models.
    for architecture in ("conv2d", "separable"):
        rows = costs.book_model_costs(architecture)
        per_epoch = costs.training_multiplications_per_epoch(costs.total_multiplications(rows), 100, 0.0)
        exact = 100 * costs.training_multiplications(rows)
        assert 1 <= per_epoch / exact < 1.03


def test_unknown_pass_is_refused():
    with pytest.raises(ValueError, match="pass must be one of"):
        costs.sub_passes("backward", True, True)


def test_which_records_timed_the_input_gradient():
    assert not input_gradient_timed(1, None) and not input_gradient_timed(1, "conv_2")  # one-layer train_on_batch
    assert input_gradient_timed(2, None) and input_gradient_timed(2, "conv_2") and not input_gradient_timed(2, "conv_1")


# --- the crossover with its interval -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lows, highs, kind, low, high, text",
    [
        ([1.2, 1.1, 0.7, 0.5], [1.5, 1.3, 0.9, 0.6], "between", 16, 32, "between 16 and 32 channels"),
        ([1.2, 0.9, 0.7, 0.5], [1.5, 1.3, 0.9, 0.6], "between", 8, 32, "between 8 and 32 channels"),
        ([0.5, 0.6, 0.7, 0.8], [0.6, 0.7, 0.8, 0.9], "below the smallest", None, 8, "at or below 8 channels"),
        ([1.5, 1.4, 1.2, 1.1], [2.0, 1.9, 1.6, 1.5], "never", 64, None, "never (slower even at 64 channels)"),
        ([1.5, 1.4, 1.2, 0.9], [2.0, 1.9, 1.6, 1.5], "not resolved", None, None, "not resolved"),  # the largest
        ([0.8, 0.9, 0.5, 0.4], [1.1, 1.2, 0.9, 0.8], "not resolved", None, None, "not resolved"),  # none surely slower
    ],
)
def test_crossover_interval(lows, highs, kind, low, high, text):
    found = analysis.crossover_interval([8, 16, 32, 64], lows, highs)
    assert (found.kind, found.low_channels, found.high_channels) == (kind, low, high)
    assert found.text().startswith(text)


def test_a_predicted_crossover_holds_only_within_the_interval():
    between = analysis.Crossover("between", 16, 64)
    assert between.holds(32) and between.holds(64) and not between.holds(16) and not between.holds(None)
    assert analysis.Crossover("never", low_channels=64).holds(None)
    assert analysis.Crossover("below the smallest", high_channels=8).holds(8)
    assert analysis.Crossover("not resolved").holds(32) is None


def test_the_ratio_interval_is_the_ranges_ends_without_samples_and_a_bootstrap_with_them():
    record = synthetic_record()
    pairs = analysis.pairs_frame(record)
    assert set(pairs["interval_kind"]) == {"range"}
    # synthetic ranges are 0.9 to 1.2 times the median: the ratio's range is 0.9/1.2 to 1.2/0.9 times the ratio
    assert np.allclose(pairs["time_ratio_low"], pairs["time_ratio"] * 0.75)
    assert np.allclose(pairs["time_ratio_high"], pairs["time_ratio"] * 1.2 / 0.9)
    for point in record["points"]:
        point[analysis.SAMPLES_FIELD] = [point["low_s"], point["median_s"], point["median_s"], point["high_s"]]
    pairs = analysis.pairs_frame(record)
    assert set(pairs["interval_kind"]) == {"95% interval"}
    assert (pairs["time_ratio_low"] <= pairs["time_ratio"]).all() and (
        pairs["time_ratio"] <= pairs["time_ratio_high"]
    ).all()
    assert (pairs["time_ratio_high"] - pairs["time_ratio_low"] < pairs["time_ratio"] * (1.2 / 0.9 - 0.75)).all()


def test_crossover_frame_gives_the_interval_and_the_straddling_count():
    frame = analysis.crossover_frame(synthetic_record())
    assert {"crossover", "crossover_kind", "straddling", "interval_kind"} <= set(frame.columns)
    for row in frame.to_dict("records"):
        assert row["crossover_kind"] == row["crossover"].kind
        assert 0 <= row["straddling"] <= 2  # the smoke grid has two channel counts


# --- physical checks ----------------------------------------------------------------------------------------------


def test_physical_checks_find_planted_violations_and_nothing_else():
    record = synthetic_record()
    assert atlas_checks.physical_checks(record)["violations"] == []
    inference = next(p for p in record["points"] if p["pass"] == "inference" and p["layer"] == "Conv2D")
    training = next(
        p
        for p in record["points"]
        if p["pass"] == "training"
        and p["layer"] == "Conv2D"
        and all(p[f] == inference[f] for f in atlas_checks.SHAPE_FIELDS)
    )
    training.update(median_s=inference["median_s"] / 2, low_s=inference["median_s"] / 3)
    fast = next(p for p in record["points"] if p["layer"] == "SeparableConv2D" and p["batch"] == 8)
    bound_s = atlas_checks.roofline_s(record, fast)
    fast.update(median_s=bound_s / 2, low_s=bound_s / 3)
    checks = atlas_checks.physical_checks(record)
    assert atlas_checks.violation_counts(checks) == {atlas_checks.TRAINING_FASTER: 1, atlas_checks.ABOVE_CEILING: 1}
    faster = [v for v in checks["violations"] if v["check"] == atlas_checks.TRAINING_FASTER][0]
    assert (faster["measured_s"], faster["bound_s"]) == (training["median_s"], inference["median_s"])
    assert "backend's own" in checks["ceilings"]
    record["checks"] = checks  # as run_atlas stores it: the schema accepts it
    assert atlas_record_problem(record) is None
    record["checks"]["violations"][0]["check"] = "made up"
    assert "checks" in atlas_record_problem(record)


def test_roofline_time_by_hand():
    record = synthetic_record()  # ceilings: 5e10 MACs/s, 1e10 bytes/s
    point = next(p for p in record["points"] if p["layer"] == "Conv2D" and p["pass"] == "training" and p["batch"] == 1)
    shape = atlas_checks.point_shape(point)
    expected = max(2 * macs(shape, "Conv2D") / 5e10, 2 * byte_count(shape, "Conv2D") / 1e10)  # schema 1: no input grad
    assert atlas_checks.roofline_s(record, point) == pytest.approx(expected)


def test_a_fixed_cost_above_a_measured_time_is_found():
    record = _modelled_record("smoke")  # times that follow the model: each is the fixed cost and more
    assert len(analysis.fixed_cost_violations(record)) == 0
    # every call takes 1 s (a fixed cost: the roofline times are microseconds) but one, 0.9 s; fitted on the
    # relative error with no roofline term, the fixed cost would be sum(1/t) / sum(1/t^2) = (5 + 1/0.9) /
    # (5 + 1/0.81) = 0.980 s; the roofline term takes a little of it, not 0.08 s
    for point in record["points"]:
        seconds = 0.9 if point is record["points"][0] else 1.0
        point.update(median_s=seconds, low_s=seconds, high_s=seconds)
    fit = next(fit for fit in analysis.model_fits(record) if (fit.layer, fit.pass_name) == ("Conv2D", "inference"))
    assert fit.points == 6 and 0.9 < fit.fixed_s < 0.981
    found = analysis.fixed_cost_violations(record)
    assert len(found) == 1 and found.iloc[0]["median_s"] == 0.9
    assert analysis.checks_summary(record)[analysis.FIXED_COST_CHECK] == 1


# --- predictions, checked on held-out points ----------------------------------------------------------------------


def _modelled_record(profile="quick"):
    """Times that follow the model exactly: a prediction fitted on part of the grid must predict the rest."""
    record = synthetic_record(profile=profile)
    for point in record["points"]:
        efficiency, fixed_s = (0.5, 1e-3) if point["layer"] == "Conv2D" else (0.2, 2e-3)
        seconds = atlas_checks.roofline_s(record, point) / efficiency + fixed_s
        point.update(median_s=seconds, low_s=seconds * 0.95, high_s=seconds * 1.05)
    return record


def test_predictions_are_checked_on_held_out_points_only():
    record = _modelled_record()
    roofline, by_batch, by_kernel = analysis.predictions(record)
    grid = [p for p in record["points"] if p["book_layer"] is None]
    assert roofline.held_out_points == len(grid)  # nothing fitted: every grid point is held out
    assert roofline.median_factor > 1.5  # the roofline alone leaves out the efficiency and the fixed cost
    assert by_batch.name == "fitted at batch 32, predicting batch 1"
    assert by_batch.held_out_points == sum(p["batch"] == 1 for p in grid)
    assert by_kernel.held_out_points == sum(p["kernel"] != 3 for p in grid)
    for prediction in (by_batch, by_kernel):
        assert prediction.median_factor == pytest.approx(1, abs=1e-6)
        assert prediction.crossovers_agreeing == prediction.crossovers_checked
    assert all("predict" not in fit.layer for fit in analysis.model_fits(record))


def test_one_kernel_gives_no_kernel_prediction():
    assert [p.name for p in analysis.predictions(_modelled_record("smoke"))][1:] == [
        "fitted at batch 8, predicting batch 1"
    ]


# --- what atlas --json prints -------------------------------------------------------------------------------------


def test_atlas_json_has_the_rule_the_intervals_the_checks_and_the_intermediate_bytes():
    record = synthetic_record()
    record["some_new_evidence"] = {"kept": True}  # a newer record's fields come along
    printed = json.loads(json.dumps(analysis.atlas_json(record)))
    assert "input gradient" in printed["training_rule"] and "intermediate picture" in printed["training_rule"]
    assert printed["some_new_evidence"] == {"kept": True}
    separable = [p for p in printed["points"] if p["layer"] == "SeparableConv2D"]
    assert all(
        p["intermediate_bytes"] > 0 and p["work_bytes"] == p["bytes"] + p["intermediate_bytes"]
        for p in separable
        if p["pass"] == "inference"
    )
    assert {c["crossover"] for c in printed["crossovers"]} <= {"between", "below the smallest", "never", "not resolved"}
    assert set(printed["checks"]["counts"]) == {*atlas_checks.CHECKS, analysis.FIXED_COST_CHECK}
    assert printed["predictions"][0]["name"] == "the roofline alone, no fit"


# --- the committed atlases ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", COMMITTED_ATLASES, ids=lambda path: path.parent.name)
def test_committed_atlases_are_checked_and_their_checks_would_be_stored(path):
    record = json.loads(path.read_text())
    checks = atlas_checks.physical_checks(record)
    stored = copy.deepcopy(record)
    stored["checks"] = checks
    assert atlas_record_problem(stored) is None
    counts = analysis.checks_summary(record)
    assert sum(counts.values()) == len(checks["violations"]) + counts[analysis.FIXED_COST_CHECK]
    assert len(analysis.crossover_frame(record)) == 12  # 3 kernels x 2 batches x 2 passes


# --- the page -----------------------------------------------------------------------------------------------------


def test_quietness_is_not_recorded_in_old_atlases_and_escaped_where_a_record_has_it():
    from convcarbon.site import prose
    from convcarbon.training.analyze.report import QUIETNESS_FIELD

    record = synthetic_record()
    assert prose.quietness_text(record) == "not recorded"
    record[QUIETNESS_FIELD] = {"summary": "quiet: calibration drift 2% *bold*"}
    assert prose.quietness_text(record) == r"quiet\: calibration drift 2\% \*bold\*"  # every punctuation escaped
    record[QUIETNESS_FIELD] = {"summary": 5}  # not a sentence: shown as missing, never invented
    assert prose.quietness_text(record) == "not recorded"


def test_prediction_texts_say_when_the_grid_has_one_kernel():
    from convcarbon.atlas.publish import page as atlas_page

    texts = atlas_page._prediction_texts(_modelled_record("smoke"))
    assert texts["atlas_kernel_prediction_factor"] == "not made (the grid is too small for it)"
    assert texts["atlas_batch_prediction_factor"] == "1.00"  # the synthetic times follow the model exactly


@pytest.mark.parametrize("path", COMMITTED_ATLASES, ids=lambda path: path.parent.name)
def test_the_page_tables_show_every_committed_atlas(path):
    from convcarbon.atlas.publish import page as atlas_page

    record = json.loads(path.read_text())
    crossovers = atlas_page.crossover_table(record).data
    assert "roofline alone (predicted, no fit)" in crossovers and "fitted model (in-sample)" in crossovers
    violations = atlas_page.violations_table(record).data
    assert len(violations) == max(1, sum(analysis.checks_summary(record).values()))
    machines = atlas_page.machines_table([record]).data
    quietness = record.get("quietness")  # schema 2 on: the calibration's own summary; schema 1 recorded none
    assert machines.loc["quiet machine", "1"] == (quietness["summary"] if quietness else "not recorded")
    assert machines.loc["violations: training faster than inference", "1"] == str(
        analysis.checks_summary(record)[atlas_checks.TRAINING_FASTER]
    )
    assert list(atlas_page.predictions_table(record).data.index)[0] == "the roofline alone, no fit"


def test_a_clean_atlas_says_it_has_no_violation():
    from convcarbon.atlas.publish import page as atlas_page

    table = atlas_page.violations_table(_modelled_record("smoke")).data
    assert list(table["shape"]) == ["no violation"]


def test_a_fit_with_no_roofline_term_has_no_share_of_the_roofline():
    import pandas as pd

    # every call takes 2 ms whatever its roofline time: the fit puts it all in the fixed cost
    group = pd.DataFrame({"roofline_s": [1e-6, 1e-5, 1e-4, 1e-3], "median_s": [2e-3] * 4})
    fit = analysis._fit("SeparableConv2D", "inference", group)
    assert fit.fixed_s == pytest.approx(2e-3) and fit.efficiency == float("inf")
    assert fit.efficiency_text() == "none (all fixed cost)"
    assert fit.predict_s(1e-3) == pytest.approx(2e-3)


def test_no_held_out_fit_where_its_part_of_the_grid_has_one_point_per_layer_and_pass(monkeypatch):
    from dataclasses import replace

    from convcarbon.config import PROFILES

    smoke = PROFILES["smoke"]
    monkeypatch.setitem(PROFILES, "smoke", replace(smoke, atlas=replace(smoke.atlas, channel_levels=((8, 14),))))
    record = _modelled_record("smoke")  # one channel count, one kernel: one grid point per batch, layer and pass
    assert [prediction.kind for prediction in analysis.predictions(record)] == ["roofline"]


def test_the_harness_cost_is_shown_beside_the_layers_and_missing_where_not_recorded():
    from convcarbon.atlas.publish.page import harness_text

    record = synthetic_record(schema_version=2)
    record["harness"]["inference"]["median_s"], record["harness"]["training"]["median_s"] = 3.2e-4, 4.2e-4
    assert harness_text(record) == "0.320 ms a call for inference and 0.420 ms for training"
    assert harness_text(synthetic_record(schema_version=1)) == "not recorded"
