"""Epochs at two speeds, the per-step timing of schema 6, and the epoch budget, on records built by hand."""

import json
import math

import pytest
from helpers import valid_record
from synthetic import make_epoch_steps, make_record, make_run

from convcarbon.records.store import RECORD_FILE, scan_records
from convcarbon.training.analyze import epoch_speeds
from convcarbon.training.analyze.analysis import separable_ratio_interval
from convcarbon.training.analyze.epoch_speeds import TWO_SPEEDS_FACTOR, epoch_budget, two_speeds
from convcarbon.training.analyze.report import provenance_lines
from convcarbon.training.measure.epochs import step_account
from convcarbon.training.measure.schema import record_problem

# --- the two-speeds rule ------------------------------------------------------------------------------------------

# A first epoch (the warm-up), then later epochs of about 5.5 s or about 10 s, as on the 2-core VM of issue 20.
TWO_SPEEDS = [30.0, 5.5, 10.1, 5.2, 9.8, 5.9, 10.4, 5.6]


def test_two_speeds_are_found_with_their_means_and_counts():
    speeds = two_speeds(TWO_SPEEDS)
    assert speeds is not None
    assert (speeds.fast_epochs, speeds.slow_epochs) == (4, 3)
    assert speeds.fast_s == pytest.approx((5.5 + 5.2 + 5.9 + 5.6) / 4)
    assert speeds.slow_s == pytest.approx((10.1 + 9.8 + 10.4) / 3)
    assert speeds.factor > TWO_SPEEDS_FACTOR


@pytest.mark.parametrize(
    "epochs, why",
    [
        ([30.0, 5.0, 5.4, 5.9, 6.3, 5.2, 6.6, 5.8], "scatter within 1.4x has no second speed"),
        ([30.0, 5.5, 5.6, 5.4, 12.0, 5.5, 5.7, 5.3], "one slow epoch is an outlier, not a speed"),
        ([30.0, 5.5, 10.0, 5.5], "three later epochs cannot hold two speeds of two"),
        ([5.0], "no later epoch"),
        ([30.0, 5.0, 5.0, 6.8, 6.8], "two groups, but only 1.36x apart"),
    ],
)
def test_one_speed(epochs, why):
    assert two_speeds(epochs) is None, why


def test_the_first_epoch_is_left_out():
    # Alone, the warm-up would make a slow group of one; with another slow epoch it would make two.
    assert two_speeds([30.0, 29.0, 5.0, 5.1, 5.2, 5.3]) is None


def test_a_record_is_flagged_in_the_phrase_and_the_terminal():
    runs = [make_run("Conv2D", repeat, epoch_duration_s=[30.0, 10.0, 10.5, 9.8, 10.2]) for repeat in range(3)]
    runs += [make_run("SeparableConv2D", 0, epoch_duration_s=TWO_SPEEDS[:5])]
    runs += [make_run("SeparableConv2D", repeat, epoch_duration_s=[30.0, 5.5, 5.6, 5.4, 5.7]) for repeat in (1, 2)]
    for run in runs:  # each run's clean-up is the rest of its duration
        run["clean_up_duration_s"] = run["duration_s"] - sum(run["epoch_duration_s"])
    record = make_record(runs)
    assert record_problem(record) is None
    assert epoch_speeds.runs_at_two_speeds(record, "SeparableConv2D") == (1, 3)
    assert epoch_speeds.runs_at_two_speeds(record, "Conv2D") == (0, 3)
    phrase = epoch_speeds.two_speeds_phrase(record)
    assert phrase == "two speeds: Conv2D 0 of 3 runs, SeparableConv2D 1 of 3 runs"
    assert any(phrase in line and line.startswith("WARNING") for line in provenance_lines(record))
    assert epoch_speeds.two_speeds_phrase(valid_record()) == "one speed in every run"
    assert not any("two speeds" in line for line in provenance_lines(valid_record()))


# --- the step timings of schema 6 --------------------------------------------------------------------------------


def test_an_epochs_steps_are_accounted_from_the_clock():
    account = step_account(10.0, [12.5, 12.7, 12.9], [12.6, 12.85, 13.0], [13.1, 13.6])
    assert account == pytest.approx(
        {
            "steps": 3,
            "input_wait_s": 2.5,
            "first_step_s": 0.1,
            "median_step_s": 0.1,
            "steps_s": 0.35,
            "validation_s": 0.5,
        }
    )
    assert step_account(0.0, [0.0], [1.0], [])["validation_s"] == 0.0  # no validation split
    with pytest.raises(ValueError, match="as many step ends"):
        step_account(0.0, [0.0, 1.0], [0.5], [])


def test_step_timings_pass_the_schema():
    record = valid_record()
    assert record["schema_version"] >= 6 and all("epoch_steps" in run for run in record["runs"])
    assert record_problem(record) is None


def broken_steps(field, value, epoch=0):
    record = valid_record()
    record["runs"][0]["epoch_steps"][epoch][field] = value
    return record_problem(record)


@pytest.mark.parametrize("field", ["input_wait_s", "first_step_s", "median_step_s", "steps_s", "validation_s"])
@pytest.mark.parametrize("value", [-0.001, 1e300, "0.1", None])
def test_each_step_timing_is_bounded(field, value):
    problem = broken_steps(field, value)
    assert problem and "epoch_steps" in problem


def test_a_step_timing_that_is_not_a_number_is_refused_when_the_file_is_read(tmp_path):
    record = valid_record()
    record["runs"][0]["epoch_steps"][1]["median_step_s"] = 0.125
    text = json.dumps(record).replace('"median_step_s": 0.125', '"median_step_s": NaN', 1)
    (tmp_path / "seed-nan").mkdir()
    (tmp_path / "seed-nan" / RECORD_FILE).write_text(text)
    records, [(_folder, problem)] = scan_records(tmp_path)
    assert records == [] and "NaN, which is not a number" in problem


@pytest.mark.parametrize("value", [0, 2.5, 10**9, True])
def test_the_step_count_is_a_positive_integer(value):
    problem = broken_steps("steps", value)
    assert problem and "epoch_steps" in problem


def test_steps_that_do_not_fit_in_their_epoch_are_refused():
    epoch_s = valid_record()["runs"][0]["epoch_duration_s"][1]
    assert "do not fit" in broken_steps("steps_s", epoch_s, epoch=1)  # with the wait and validation: too long
    assert "do not fit" in broken_steps("first_step_s", 0.9 * epoch_s, epoch=1)  # one step longer than all


def test_schema_6_needs_every_epochs_steps_and_schema_5_has_none():
    record = valid_record()
    record["runs"][1].pop("epoch_steps")
    assert "epoch_steps" in record_problem(record)
    record = valid_record()
    record["runs"][1]["epoch_steps"].pop()
    assert "epoch_steps" in record_problem(record)
    old = valid_record()
    old["schema_version"] = 5
    old.pop("quietness")  # schema 7 added it
    for run in old["runs"]:
        run.pop("epoch_steps")
    assert record_problem(old) is None  # a record of schema 5 is still read
    old["runs"][0]["epoch_steps"] = [make_epoch_steps(epoch) for epoch in old["runs"][0]["epoch_duration_s"]]
    assert "schema 5 lacks" in record_problem(old)


def test_steps_alone_is_a_metric_with_a_ratio_and_missing_in_old_records():
    record = valid_record()  # every epoch's steps fill 85% of what its wait and validation leave
    interval = separable_ratio_interval(record, "later epoch steps")
    assert interval.ratio == pytest.approx(1.0)
    old = valid_record()
    for run in old["runs"]:
        run.pop("epoch_steps")
    assert math.isnan(separable_ratio_interval(old, "later epoch steps").ratio)


# --- the epoch budget ---------------------------------------------------------------------------------------------


def with_breakdown(record, step_s):
    """Give a record a minimal breakdown entry per model, with the given measured step (s)."""
    record["breakdown"] = {
        "models": [
            {"model": model, "architecture": architecture, "step_duration_s": step_s[model], "parts": []}
            for model, architecture in (("Conv2D", "conv2d"), ("SeparableConv2D", "separable"))
        ]
    }
    return record


def budget_record(epoch_duration_s, input_wait_s):
    runs = [make_run(model, 0, epoch_duration_s=epoch_duration_s) for model in ("Conv2D", "SeparableConv2D")]
    for run in runs:
        run["epoch_steps"] = [make_epoch_steps(epoch, input_wait_s=input_wait_s) for epoch in epoch_duration_s]
    return make_record(runs)


def test_the_budget_adds_the_breakdowns_steps_to_the_measured_parts():
    # Later epochs of 10 s: 0.01 s of wait, 1 s of validation, steps 0.85 * 8.99 s, the rest 0.15 * 8.99 s.
    record = with_breakdown(budget_record([30.0, 10.0, 10.0], 0.01), {"Conv2D": 0.04, "SeparableConv2D": 0.03})
    budget = epoch_budget(record, "Conv2D")
    assert budget.steps == 192 and budget.epoch_s == pytest.approx(10.0)
    assert budget.breakdown_steps_s == pytest.approx(192 * 0.04)
    assert budget.measured_steps_s == pytest.approx(0.85 * 8.99)
    assert (budget.input_wait_s, budget.validation_s) == pytest.approx((0.01, 1.0))
    assert budget.rest_s == pytest.approx(0.15 * 8.99)
    assert budget.budget_s == pytest.approx(192 * 0.04 + 0.01 + 1.0 + 0.15 * 8.99)
    assert budget.difference == pytest.approx(budget.budget_s / 10.0 - 1)
    assert budget.adds_up  # 7.68 s of steps against 7.64 s timed in training
    separable = epoch_budget(record, "SeparableConv2D")
    assert separable.difference == pytest.approx((192 * 0.03 + 0.01 + 1.0 + 0.15 * 8.99) / 10.0 - 1)
    assert not separable.adds_up  # 5.76 s of steps against 7.64 s: 19% short


def test_a_stall_is_a_wait_in_the_budget_not_a_slower_step():
    # Two speeds of epoch: 5 s, or 9 s of which 4 s is the wait for the first step; the steps themselves agree.
    record = budget_record([30.0, 5.0, 5.0], 0.01)
    for run in record["runs"]:
        run["epoch_duration_s"][2] = 9.0
        run["epoch_steps"][2] = {**run["epoch_steps"][1], "input_wait_s": 4.01}
        run["clean_up_duration_s"] = run["duration_s"] - sum(run["epoch_duration_s"])
    assert record_problem(record) is None
    record = with_breakdown(record, {"Conv2D": 0.02, "SeparableConv2D": 0.02})
    budget = epoch_budget(record, "Conv2D")
    assert budget.input_wait_s == pytest.approx(2.01) and budget.epoch_s == pytest.approx(7.0)
    assert budget.measured_steps_s == pytest.approx(0.85 * (5.0 - 0.01 - 0.5))


def test_an_old_record_budgets_its_steps_alone_and_says_how_far_short():
    record = with_breakdown(budget_record([30.0, 10.0, 10.0], 0.01), {"Conv2D": 0.04, "SeparableConv2D": 0.03})
    for run in record["runs"]:
        run.pop("epoch_steps")
    budget = epoch_budget(record, "Conv2D")
    assert (budget.measured_steps_s, budget.input_wait_s, budget.validation_s, budget.rest_s) == (None,) * 4
    assert budget.steps == 192  # 60,000 images less a validation fifth, in batches of 250
    assert budget.budget_s == pytest.approx(192 * 0.04)
    assert budget.difference == pytest.approx(192 * 0.04 / 10.0 - 1)


def test_no_budget_without_a_breakdown():
    assert epoch_budget(valid_record(), "Conv2D") is None


# --- the page ----------------------------------------------------------------------------------------------------


def test_every_epoch_key_is_placed_in_the_results_chapter_and_every_placed_one_is_glued():
    import re

    from helpers import REPO_ROOT

    from convcarbon.anatomy.publish import page as anatomy

    texts = anatomy.epoch_texts(valid_record())
    assert set(texts) == set(anatomy.EPOCH_KEYS)
    used = set(re.findall(r"\{glue:md\}`([a-z0-9_]+)`", (REPO_ROOT / "book" / "results.md").read_text()))
    assert set(texts) <= used, set(texts) - used
    ours = {key for key in used if key.startswith(("two_speeds_", "budget_", "steps_alone_")) or "_budget_" in key}
    assert ours <= set(texts) | {"two_speeds_records"}, ours - set(texts)
    assert {"atlas_book_batch", "two_speeds_records"} <= used


def test_the_page_texts_say_what_the_record_holds():
    from convcarbon.anatomy.publish import page as anatomy

    record = with_breakdown(budget_record([30.0, 10.0, 10.0], 0.01), {"Conv2D": 0.04, "SeparableConv2D": 0.03})
    texts = anatomy.epoch_texts(record)
    assert texts["two_speeds_flag"] == "one speed in every run"
    assert texts["conv2d_budget_difference"] == "+0%" and texts["separable_budget_difference"] == "-19%"
    assert texts["budget_reading"] == "outside the tolerance for SeparableConv2D"
    assert anatomy.epoch_texts(valid_record())["budget_reading"].startswith("not possible")


def book_layer_atlas(times_ms):
    """An atlas holding only the book's two layers in training: (layer, model) -> median time (ms)."""
    points = []
    for (layer, model), time_ms in times_ms.items():
        points.append(
            {
                "layer": model,
                "channels_in": 1 if layer == "conv_1" else 32,
                "channels_out": 32 if layer == "conv_1" else 64,
                "kernel": 3,
                "height": 28,
                "width": 28,
                "padding": "valid",
                "batch": 250,
                "book_layer": layer,
                "pass": "training",
                "macs": 1_000_000,
                "bytes": 100_000,
                "median_s": time_ms / 1000,
                "low_s": time_ms / 1000,
                "high_s": time_ms / 1000,
                "energy_j": None,
            }
        )
    ceilings = {"matmul_size": 2048, "matmul_macs_per_s": 1e11, "copy_bytes": 2**28, "copy_bytes_per_s": 1e10}
    versions = {"keras_backend": "tensorflow"}
    return {"schema_version": 1, "versions": versions, "points": points, "ceilings": ceilings}


def test_the_atlas_book_layers_are_set_against_the_breakdowns():
    from synthetic import make_breakdown

    from convcarbon.anatomy.publish import page as anatomy

    record = valid_record()
    record["breakdown"] = make_breakdown(convolution_s=0.05)  # each convolution layer: 25 ms forward and backward
    atlas = book_layer_atlas(
        {("conv_1", "Conv2D"): 50.0, ("conv_1", "SeparableConv2D"): 25.0, ("conv_2", "Conv2D"): 75.0}
        | {("conv_2", "SeparableConv2D"): 30.0}
    )
    frame = anatomy.atlas_against_breakdown_frame(record, atlas).data
    assert list(frame["model"]) == ["Conv2D", "SeparableConv2D", "separable / standard"] * 2
    assert list(frame["atlas, alone (ms)"]) == ["50.0", "25.0", "0.50", "75.0", "30.0", "0.40"]
    assert list(frame["breakdown, in the model (ms)"]) == ["25.0", "25.0", "1.00", "25.0", "25.0", "1.00"]
    assert list(frame["atlas / breakdown"]) == ["2.00", "1.00", "", "3.00", "1.20", ""]
    assert anatomy.atlas_batch_text(atlas) == {"atlas_book_batch": "250"}


def test_the_compared_records_at_two_speeds_are_named_with_their_strings_escaped():
    from helpers import HOSTILE, hostile_record

    from convcarbon.anatomy.publish import page as anatomy

    flagged = hostile_record()
    for run in flagged["runs"]:
        run["epoch_duration_s"] = [30.0, 5.5, 10.1, 5.2, 9.8]
        run["epoch_steps"] = [make_epoch_steps(epoch) for epoch in run["epoch_duration_s"]]
        run["clean_up_duration_s"] = run["duration_s"] - sum(run["epoch_duration_s"])
    flagged["config"]["epochs"] = 5
    for run in flagged["runs"]:
        run["epoch_energy_kwh"] = [0.001] * 5
        run["history"] = {name: [0.5] * 5 for name in run["history"]}
    assert record_problem(flagged) is None
    text = anatomy.two_speeds_records([flagged, valid_record()])
    assert text.startswith("1 of the 2: **") and "two speeds: Conv2D 3 of 3 runs, SeparableConv2D 3 of 3 runs" in text
    assert HOSTILE not in text and "<script>" not in text
    assert anatomy.two_speeds_records([valid_record()]) == "none of the 1"
