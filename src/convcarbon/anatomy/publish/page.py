"""The two models taken apart, for the chapters: epochs at two speeds and the epoch budget, where a step's
time goes, what a prediction costs, and what the original tutorial's own log says. Tables, one figure, and the
numbers the prose glues (under literal keys; each chapter's sentences are in its Markdown).

Used by: book/results.md ("Did the separable model save energy?", "Epochs at two speeds", "The epoch budget",
"Where a training step's time goes", "What the original tutorial reported"), book/ethics.md ("Training once,
predicting many times").
"""

from __future__ import annotations

import statistics

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown
from pandas.io.formats.style import Styler

from convcarbon import units
from convcarbon.anatomy.analyze import breakdown, inference
from convcarbon.reference import (
    TUTORIAL_EPOCH_S,
    TUTORIAL_MS_PER_STEP,
    TUTORIAL_SOURCE,
    TUTORIAL_STEPS_PER_EPOCH,
    tutorial_duration_s,
    tutorial_epoch_sum_error_s,
    tutorial_epoch_sum_s,
    tutorial_outside_difference_share,
    tutorial_outside_difference_share_range,
    tutorial_outside_epochs_s,
    tutorial_steps_sum_error_s,
    tutorial_steps_sum_s,
)
from convcarbon.safe import OwnMarkdown, markdown_text
from convcarbon.site.book import displayed
from convcarbon.site.figures import finished_figure
from convcarbon.training.analyze import epoch_speeds
from convcarbon.training.analyze.analysis import MODELS, separable_ratio_interval, summary
from convcarbon.training.analyze.report import ENERGY_WORDINGS
from convcarbon.training.analyze.tables import page_table, without_repeats

NOT_IN_RECORD = "not measured in this record"
GROUP_COLOURS = ("#1b9e77", "#a6cee3", "#7570b3", "#e6ab02", "#e7298a", "#999999")


# --- epochs at two speeds, and the epoch budget ------------------------------------------------------


def epoch_texts(record: dict) -> dict[str, OwnMarkdown]:
    """The two-speeds flag, the ratio of the steps alone, and the budget's differences, as the prose reads them."""
    budgets = {model: epoch_speeds.epoch_budget(record, model) for model in MODELS}
    return _own(
        {
            "two_speeds_flag": epoch_speeds.two_speeds_phrase(record),
            "steps_alone_ratio_text": separable_ratio_interval(record, "later epoch steps").sentence(),
            "two_speeds_factor": units.ratio(epoch_speeds.TWO_SPEEDS_FACTOR),
            "two_speeds_min_epochs": str(epoch_speeds.MIN_EPOCHS_PER_SPEED),
            "budget_tolerance": units.percent(epoch_speeds.BUDGET_TOLERANCE),
            "conv2d_budget_difference": _difference(budgets["Conv2D"]),
            "separable_budget_difference": _difference(budgets["SeparableConv2D"]),
            "budget_reading": _budget_reading(budgets),
        }
    )


def two_speeds_records(records: list[dict]) -> OwnMarkdown:
    """The records compared on the page whose epochs ran at two speeds, each with its phrase, or "none"."""
    from convcarbon.training.analyze.report import machine_label

    flagged = [record for record in records if epoch_speeds.has_two_speeds(record)]
    if not flagged:
        return OwnMarkdown(f"none of the {len(records)}")
    listed = "; ".join(
        f"**{markdown_text(machine_label(record))}** ({markdown_text(record['profile'])}, "
        f"{epoch_speeds.two_speeds_phrase(record)})"
        for record in flagged
    )
    return OwnMarkdown(f"{len(flagged)} of the {len(records)}: {listed}")


EPOCH_KEYS = (
    "two_speeds_flag",
    "steps_alone_ratio_text",
    "two_speeds_factor",
    "two_speeds_min_epochs",
    "budget_tolerance",
    "conv2d_budget_difference",
    "separable_budget_difference",
    "budget_reading",
)


def _difference(budget: epoch_speeds.EpochBudget | None) -> str:
    if budget is None:
        return NOT_IN_RECORD
    return ("+" if budget.difference >= 0 else "") + units.percent(budget.difference)


def _budget_reading(budgets: dict) -> str:
    """Whether the budgets add up, in a short phrase: which model's does not, and that an old record lacks parts."""
    if any(budget is None for budget in budgets.values()):
        return "not possible: the step breakdown was " + NOT_IN_RECORD
    missing = any(budget.measured_steps_s is None for budget in budgets.values())
    off = [model for model, budget in budgets.items() if not budget.adds_up]
    reading = "within the tolerance for both models" if not off else "outside the tolerance for " + " and ".join(off)
    return reading + ("; the steps alone, since this record did not time validation or the wait" if missing else "")


def two_speeds_frame(record: dict) -> Styler:
    """One row per run: its later epochs' fastest and slowest, and the two speeds where the rule finds them."""
    rows = []
    for row in epoch_speeds.two_speeds_rows(record):
        speeds = row["speeds"]
        rows.append(
            {
                "model": row["model"],
                "repeat": str(row["repeat"]),
                "later epochs": str(row["later epochs"]),
                "fastest (s)": units.number(row["fastest_s"]),
                "slowest (s)": units.number(row["slowest_s"]),
                "two speeds": "no"
                if speeds is None
                else f"{speeds.fast_epochs} at {units.number(speeds.fast_s)} s, "
                f"{speeds.slow_epochs} at {units.number(speeds.slow_s)} s ({units.ratio(speeds.factor)}x)",
            }
        )
    frame = pd.DataFrame(rows)
    frame["model"] = without_repeats(frame["model"])
    return page_table(frame)


BUDGET_ROWS = (
    ("steps x the breakdown's step", "breakdown_steps_s"),
    ("wait before the first step (input pipeline)", "input_wait_s"),
    ("validation", "validation_s"),
    ("the rest: callbacks, tracker, fetching batches", "rest_s"),
    ("budget", "budget_s"),
    ("measured epoch", "epoch_s"),
    ("steps as timed in training (for comparison)", "measured_steps_s"),
)


def epoch_budget_frame(record: dict) -> Styler | Markdown:
    """A later epoch's mean time per model, cut into the breakdown's steps and the parts timed in training,
    against the measured epoch, with the difference."""
    budgets = {model: epoch_speeds.epoch_budget(record, model) for model in MODELS}
    if any(budget is None for budget in budgets.values()):
        return _not_in_record("The time of each layer was")
    rows = {}
    for label, field in BUDGET_ROWS:
        rows[label] = {model: _seconds(getattr(budget, field)) for model, budget in budgets.items()}
    rows["difference, budget / measured - 1"] = {model: _difference(budget) for model, budget in budgets.items()}
    rows["steps per epoch; breakdown's step"] = {
        model: f"{budget.steps:,}; {_ms(budget.breakdown_step_s)} ms" for model, budget in budgets.items()
    }
    return page_table(pd.DataFrame.from_dict(rows, orient="index"), corner="later epoch, mean (s)")


def _seconds(value_s: float | None) -> str:
    return NOT_IN_RECORD if value_s is None else units.number(value_s)


def atlas_against_breakdown_frame(record: dict, atlas: dict) -> Styler | Markdown:
    """The book's two convolution layers, training: the atlas's time of the layer alone beside the breakdown's
    forward and backward time of the same layer inside the trained model."""
    from convcarbon.atlas.analyze.analysis import book_layer_frame

    if any(breakdown.model_breakdown(record, model) is None for model in MODELS):
        return _not_in_record("The time of each layer was")
    book = book_layer_frame(atlas)
    book = book[book["pass"] == "training"]
    rows = []
    for layer in breakdown.CONVOLUTION_LAYERS:
        atlas_row = book[book["book_layer"] == layer]
        if atlas_row.empty:
            continue
        atlas_row = atlas_row.iloc[0]
        inside = {
            model: next(
                row for row in breakdown.layer_times(breakdown.model_breakdown(record, model)) if row.layer == layer
            )
            for model in MODELS
        }
        for model, atlas_s in (("Conv2D", atlas_row["standard_s"]), ("SeparableConv2D", atlas_row["separable_s"])):
            rows.append(
                {
                    "layer": layer,
                    "model": model,
                    "atlas, alone (ms)": _ms(atlas_s),
                    "breakdown, in the model (ms)": _ms(inside[model].total_s),
                    "atlas / breakdown": units.ratio(atlas_s / inside[model].total_s),
                }
            )
        rows.append(
            {
                "layer": layer,
                "model": "separable / standard",
                "atlas, alone (ms)": units.ratio(atlas_row["time_ratio"]),
                "breakdown, in the model (ms)": units.ratio(
                    inside["SeparableConv2D"].total_s / inside["Conv2D"].total_s
                ),
                "atlas / breakdown": "",
            }
        )
    if not rows:
        return displayed(OwnMarkdown("```{note}\nThe atlas shown did not time the book's own layers.\n```"))
    frame = pd.DataFrame(rows)
    frame["layer"] = without_repeats(frame["layer"])
    return page_table(frame)


def atlas_batch_text(atlas: dict) -> dict[str, OwnMarkdown]:
    """The batch at which the atlas timed the book's layers."""
    from convcarbon.atlas.analyze.analysis import book_layer_frame

    book = book_layer_frame(atlas)
    batches = sorted({int(batch) for batch in book["batch"]})
    return _own({"atlas_book_batch": ", ".join(f"{batch:,}" for batch in batches) or NOT_IN_RECORD})


# --- where a training step's time goes -------------------------------------------------------------


def breakdown_texts(record: dict) -> dict[str, OwnMarkdown]:
    """The breakdown's numbers as the prose reads them; every one "not measured in this record" when
    the record predates the breakdown."""
    standard, separable = (breakdown.model_breakdown(record, model) for model in MODELS)
    if standard is None or separable is None:
        return _own(dict.fromkeys(BREAKDOWN_KEYS, NOT_IN_RECORD))
    return _own(
        {
            "breakdown_batch_size": f"{record['breakdown']['batch_size']:,}",
            "conv2d_step_s": units.DURATION_S.text(standard["step_duration_s"]),
            "separable_step_s": units.DURATION_S.text(separable["step_duration_s"]),
            "conv2d_convolution_share": units.percent(breakdown.convolution_share(standard)),
            "separable_convolution_share": units.percent(breakdown.convolution_share(separable)),
            "conv2d_dense_share": _share_of_step(standard, breakdown.group_times_s(standard)["dense layers"]),
            "separable_dense_share": _share_of_step(separable, breakdown.group_times_s(separable)["dense layers"]),
            "conv2d_parts_share": units.percent(breakdown.parts_share(standard)),
            "separable_parts_share": units.percent(breakdown.parts_share(separable)),
            "conv2d_overhead_share": _share_of_step(standard, breakdown.framework_overhead_s(standard)),
            "separable_overhead_share": _share_of_step(separable, breakdown.framework_overhead_s(separable)),
        }
    )


BREAKDOWN_KEYS = (
    "breakdown_batch_size",
    "conv2d_step_s",
    "separable_step_s",
    "conv2d_convolution_share",
    "separable_convolution_share",
    "conv2d_dense_share",
    "separable_dense_share",
    "conv2d_parts_share",
    "separable_parts_share",
    "conv2d_overhead_share",
    "separable_overhead_share",
)


def _share_of_step(entry: dict, duration_s: float) -> str:
    return units.percent(duration_s / entry["step_duration_s"])


def _own(texts: dict[str, str]) -> dict[str, OwnMarkdown]:
    """Texts this module wrote from numbers and its own words (no record string), for `book.glue_texts`."""
    return {name: OwnMarkdown(text) for name, text in texts.items()}


def breakdown_frame(record: dict) -> Styler | Markdown:
    """Per model, one row per layer: forward, backward (and the optimizer's update) time, its share of the
    measured step, and its forward multiplications per image; then the framework overhead and the step."""
    if any(breakdown.model_breakdown(record, model) is None for model in MODELS):
        return _not_in_record("The time of each layer was")
    rows = []
    for model in MODELS:
        entry = breakdown.model_breakdown(record, model)
        step_s = entry["step_duration_s"]
        for row in breakdown.layer_times(entry):
            updates = row.layer == breakdown.UPDATE_PART
            rows.append(
                _row(model, f"{row.layer} (update)" if updates else row.layer, row.total_s, step_s)
                | {
                    "forward (ms)": "" if updates else _ms(row.forward_s),
                    "backward (ms)": "" if updates else _ms(row.backward_s),
                    MULTIPLICATIONS_COLUMN: "" if row.multiplications is None else f"{row.multiplications:,}",
                }
            )
        rows.append(_row(model, breakdown.FRAMEWORK_OVERHEAD, breakdown.framework_overhead_s(entry), step_s))
        rows.append(_row(model, "measured step", step_s, step_s))
    frame = pd.DataFrame(rows)
    frame["model"] = without_repeats(frame["model"])
    return page_table(frame)


MULTIPLICATIONS_COLUMN = "multiplications per image"


def _ms(value_s: float) -> str:
    return units.number(value_s * 1e3)


def _row(model: str, part: str, duration_s: float, step_s: float) -> dict:
    return {
        "model": model,
        "part": part,
        "forward (ms)": "",
        "backward (ms)": "",
        "total (ms)": _ms(duration_s),
        "share of the step": units.percent(duration_s / step_s),
        MULTIPLICATIONS_COLUMN: "",
    }


def breakdown_figure(record: dict):
    """One stacked bar per model: a training step's time cut into convolutions, the other layers,
    the loss, the optimizer's update and the framework overhead, with the measured step marked."""
    figure, axes = plt.subplots(figsize=(7, 3.6))
    entries = {model: breakdown.model_breakdown(record, model) for model in MODELS}
    if any(entry is None for entry in entries.values()):
        axes.axis("off")
        axes.text(0.5, 0.5, "The time of each layer was not measured in this record", ha="center", va="center")
        return finished_figure(figure)
    positions = range(len(MODELS))
    bottoms = [0.0] * len(MODELS)
    groups = [breakdown.group_times_s(entries[model]) for model in MODELS]
    for colour, name in zip(GROUP_COLOURS, groups[0], strict=True):
        heights = [group[name] * 1e3 for group in groups]
        hatch = "//" if name == breakdown.FRAMEWORK_OVERHEAD else None
        axes.barh(list(positions), heights, left=bottoms, color=colour, label=name, hatch=hatch, edgecolor="white")
        bottoms = [bottom + height for bottom, height in zip(bottoms, heights, strict=True)]
    for position, model in zip(positions, MODELS, strict=True):
        step_ms = entries[model]["step_duration_s"] * 1e3
        axes.plot([step_ms, step_ms], [position - 0.45, position + 0.45], color="black", linewidth=1.5)
    axes.set_yticks(list(positions), MODELS)
    axes.invert_yaxis()
    axes.set_xlabel(f"time of one training step of {record['breakdown']['batch_size']:,} images (ms)")
    axes.grid(True, axis="x", alpha=0.3)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=3, fontsize="small", frameon=False)
    return finished_figure(figure)


# --- what a prediction costs ---------------------------------------------------------------------


def inference_texts(record: dict) -> dict[str, OwnMarkdown]:
    """Prediction cost and break-even as the prose reads them; "not measured in this record" for a
    record measured before predictions were."""
    if not inference.has_inference(record):
        return _own(dict.fromkeys(INFERENCE_KEYS, NOT_IN_RECORD))
    batch = record["config"]["batch_size"]

    def energy_b1(model: str) -> str:
        return inference.ENERGY_PER_PREDICTION_KWH.text(
            inference.per_prediction(record, model, 1, inference.ENERGY).median
        )

    def break_even(model: str, size: int) -> str:
        return inference.three_digits(inference.break_even_predictions(record, model, size))

    def break_even_from_time(model: str, size: int) -> str:
        return inference.three_digits(inference.break_even_from_time(record, model, size))

    def ratio(size: int, kind: str) -> str:
        return inference.per_prediction_ratio(record, size, kind).sentence()

    return _own(
        {
            "inference_batch_size": f"{batch:,}",
            "inference_test_images": f"{record['inference'][0]['test_images']:,}",
            "prediction_energy_kind": ENERGY_WORDINGS[inference.inference_energy_reading(record)].cell,
            "conv2d_prediction_energy_b1": energy_b1("Conv2D"),
            "separable_prediction_energy_b1": energy_b1("SeparableConv2D"),
            "conv2d_break_even_b1": break_even("Conv2D", 1),
            "separable_break_even_b1": break_even("SeparableConv2D", 1),
            "conv2d_break_even_batch": break_even("Conv2D", batch),
            "separable_break_even_batch": break_even("SeparableConv2D", batch),
            "conv2d_break_even_time_b1": break_even_from_time("Conv2D", 1),
            "separable_break_even_time_b1": break_even_from_time("SeparableConv2D", 1),
            "conv2d_break_even_time_batch": break_even_from_time("Conv2D", batch),
            "separable_break_even_time_batch": break_even_from_time("SeparableConv2D", batch),
            "prediction_energy_ratio_b1": ratio(1, inference.ENERGY),
            "prediction_energy_ratio_batch": ratio(batch, inference.ENERGY),
            "prediction_time_ratio_b1": ratio(1, inference.TIME),
            "prediction_time_ratio_batch": ratio(batch, inference.TIME),
        }
    )


INFERENCE_KEYS = (
    "inference_batch_size",
    "inference_test_images",
    "prediction_energy_kind",
    "conv2d_prediction_energy_b1",
    "separable_prediction_energy_b1",
    "conv2d_break_even_b1",
    "separable_break_even_b1",
    "conv2d_break_even_batch",
    "separable_break_even_batch",
    "conv2d_break_even_time_b1",
    "separable_break_even_time_b1",
    "conv2d_break_even_time_batch",
    "separable_break_even_time_batch",
    "prediction_energy_ratio_b1",
    "prediction_energy_ratio_batch",
    "prediction_time_ratio_b1",
    "prediction_time_ratio_batch",
)


def inference_frame(record: dict) -> Styler | Markdown:
    """Per batch size and model: time and energy per prediction (median and range of the runs) and the
    number of predictions that use as much energy as one training run."""
    if not inference.has_inference(record):
        return _not_in_record("The cost of a prediction was")
    frame = pd.DataFrame(inference.inference_rows(record))
    frame["batch size"] = without_repeats(frame["batch size"])
    return page_table(frame)


def _not_in_record(what: str) -> Markdown:
    return displayed(
        OwnMarkdown(
            f"```{{note}}\n{what} {NOT_IN_RECORD}, which was made before this book measured it. "
            "A build that trains measures it.\n```"
        )
    )


# --- the original tutorial's log -----------------------------------------------------------------


def tutorial_texts(record: dict) -> dict[str, OwnMarkdown]:
    """The tutorial's tracked durations and epoch-time sums (cited, from `reference`), beside this build's
    warm-up: the numbers of "What the original tutorial reported"."""
    standard, separable = MODELS
    difference_s = tutorial_duration_s(standard) - tutorial_duration_s(separable)
    outside_difference_s = tutorial_outside_epochs_s(standard) - tutorial_outside_epochs_s(separable)
    epoch_sum_difference_s = tutorial_epoch_sum_s(standard) - tutorial_epoch_sum_s(separable)
    steps_difference_s = tutorial_steps_sum_s(standard) - tutorial_steps_sum_s(separable)
    source = f"{TUTORIAL_SOURCE['repository']}, {TUTORIAL_SOURCE['path']}, commit {TUTORIAL_SOURCE['commit'][:12]}"
    texts = {
        "tutorial_epoch_sum_error_s": units.DURATION_S.text(tutorial_epoch_sum_error_s(standard)),
        "tutorial_steps_per_epoch": f"{TUTORIAL_STEPS_PER_EPOCH:,}",
        "tutorial_conv2d_duration_s": units.DURATION_S.text(tutorial_duration_s(standard)),
        "tutorial_separable_duration_s": units.DURATION_S.text(tutorial_duration_s(separable)),
        # Keras printed whole seconds: their sums are whole seconds too, not "40.0 s".
        "tutorial_conv2d_epoch_sum_s": f"{tutorial_epoch_sum_s(standard):,} s",
        "tutorial_separable_epoch_sum_s": f"{tutorial_epoch_sum_s(separable):,} s",
        "tutorial_conv2d_outside_s": units.DURATION_S.text(tutorial_outside_epochs_s(standard)),
        "tutorial_separable_outside_s": units.DURATION_S.text(tutorial_outside_epochs_s(separable)),
        "tutorial_conv2d_first_epoch_s": f"{TUTORIAL_EPOCH_S[standard][0]:,} s",
        "tutorial_separable_first_epoch_s": f"{TUTORIAL_EPOCH_S[separable][0]:,} s",
        "tutorial_conv2d_later_epoch_s": f"{statistics.median(TUTORIAL_EPOCH_S[standard][1:]):g} s",
        "tutorial_separable_later_epoch_s": f"{statistics.median(TUTORIAL_EPOCH_S[separable][1:]):g} s",
        "anatomy_conv2d_first_epoch_s": _median_s(record, standard, "first epoch duration"),
        "anatomy_separable_first_epoch_s": _median_s(record, separable, "first epoch duration"),
        "anatomy_conv2d_later_epoch_s": _median_s(record, standard, "later epoch duration"),
        "anatomy_separable_later_epoch_s": _median_s(record, separable, "later epoch duration"),
        "tutorial_duration_ratio": units.ratio(tutorial_duration_s(separable) / tutorial_duration_s(standard)),
        "tutorial_epoch_sum_ratio": units.ratio(tutorial_epoch_sum_s(separable) / tutorial_epoch_sum_s(standard)),
        "tutorial_difference_s": units.DURATION_S.text(difference_s),
        "tutorial_epoch_sum_difference_s": f"{tutorial_epoch_sum_s(standard) - tutorial_epoch_sum_s(separable):,} s",
        "tutorial_outside_difference_share": units.percent(outside_difference_s / difference_s),
        "tutorial_outside_difference_share_range": _share_range(
            epoch_sum_difference_s, sum(tutorial_epoch_sum_error_s(model) for model in MODELS)
        ),
        "tutorial_steps_outside_difference_share": units.percent(tutorial_outside_difference_share(steps_difference_s)),
        "tutorial_steps_outside_difference_share_range": _share_range(
            steps_difference_s, sum(tutorial_steps_sum_error_s(model) for model in MODELS)
        ),
        "tutorial_conv2d_first_epoch_steps_s": units.DURATION_S.text(
            TUTORIAL_MS_PER_STEP[standard][0] * TUTORIAL_STEPS_PER_EPOCH / 1000
        ),
    }
    return {"tutorial_source": markdown_text(source), **_own(texts)}


def _share_range(inside_difference_s: float, error_s: float) -> str:
    """'34%–152%': the shares of the published difference outside the epochs that a rounding bound allows."""
    return units.span(*tutorial_outside_difference_share_range(inside_difference_s, error_s), units.percent)


def _median_s(record: dict, model: str, metric: str) -> str:
    return units.DURATION_S.text(summary(record, model, metric).median)


def tutorial_epochs_frame() -> Styler:
    """The tutorial's Keras log, epoch by epoch (cited): seconds as printed and ms per step, then the sums."""
    rows = {}
    for epoch in range(len(TUTORIAL_EPOCH_S["Conv2D"])):
        rows[str(epoch + 1)] = {
            f"{model} {column}": str(values[model][epoch])
            for model in MODELS
            for column, values in (("epoch (s)", TUTORIAL_EPOCH_S), ("ms/step", TUTORIAL_MS_PER_STEP))
        }
    rows["sum of the epochs"] = {
        f"{model} {column}": (f"{tutorial_epoch_sum_s(model):,}" if column == "epoch (s)" else "")
        for model in MODELS
        for column in ("epoch (s)", "ms/step")
    }
    rows["tracked by CodeCarbon"] = {
        f"{model} {column}": (units.number(tutorial_duration_s(model)) if column == "epoch (s)" else "")
        for model in MODELS
        for column in ("epoch (s)", "ms/step")
    }
    return page_table(pd.DataFrame.from_dict(rows, orient="index"), corner="epoch (cited)")
