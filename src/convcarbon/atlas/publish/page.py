"""What the atlas chapter shows besides its figures: the provenance note, the glued numbers, and its tables.

Every string from a record reaches the page as inert text (`safe.markdown_text` in
glued Markdown, `training.analyze.tables.page_table` for tables); every number goes through
`convcarbon.units`. The chapter's own sentences live in book/atlas.md.

Used by: book/atlas.md
"""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown
from pandas.io.formats.style import Styler

from convcarbon import units
from convcarbon.atlas.analyze import analysis
from convcarbon.atlas.measure.checks import ABOVE_CEILING, TRAINING_FASTER, drawn_ceilings, physical_checks
from convcarbon.safe import OwnMarkdown, markdown_text
from convcarbon.site.book import displayed, glue_texts
from convcarbon.site.prose import NOT_RECORDED, quietness_text
from convcarbon.training.analyze.machines import HARDWARE_CLASSES, hardware_class
from convcarbon.training.analyze.report import machine_label, quietness_summary
from convcarbon.training.analyze.tables import PAGE_BREAK, page_table

GIGA = 1e9


def machine_text(record: dict) -> str:
    """'<CPU> (+ GPUs), N logical CPUs, Keras backend B', as inert Markdown."""
    return markdown_text(machine_label(record, short=True, backend=True))


def provenance_note(record: dict, measured: bool) -> Markdown:
    """Which atlas the page shows, where it was measured, and how its energy was (not) obtained."""
    origin = (
        "measured (or reused, when nothing had changed) for this build"
        if measured
        else "the book's reference atlas, stored, not measured for this page"
    )
    commit = record.get("git_commit")
    lines = [
        f"**Atlas shown:** {origin}: profile {markdown_text(record['profile'])}, "
        f"{len(record['points'])} timings, on {machine_text(record)}, "
        f"{markdown_text(record['created_utc'][:10])}"
        + (f", commit {markdown_text(commit[:12])}" if commit else "")
        + f"; the whole run took {units.DURATION_S.text(record['duration_s'])}.",
        "",
        "**Energy:** "
        + (
            "not measured: "
            + markdown_text(record["energy"]["note"], 600)
            + ". The time ratios below are the only measurement."
            if record["energy"]["method"] == "none"
            else "measured, read on a hardware counter, " + markdown_text(record["energy"]["counter"]) + "."
        ),
    ]
    return displayed(OwnMarkdown(":::{note}\n" + "\n".join(lines) + "\n:::"))  # record strings escaped above


def harness_text(record: dict) -> OwnMarkdown:
    """The harness's own cost per call, each pass ("0.32 ms a call for inference, 0.42 ms for training"), measured
    by the same path around a trivially small layer and never taken off the layers' times; "not recorded" in an
    atlas of schema 1."""
    harness = record.get("harness")
    if harness is None:
        return OwnMarkdown(NOT_RECORDED)
    inference, training = (units.DURATION_S.text(harness[name]["median_s"]) for name in ("inference", "training"))
    return OwnMarkdown(f"{inference} a call for inference and {training} for training")


def _fits(record: dict) -> dict:
    return {(fit.layer, fit.pass_name): fit for fit in analysis.model_fits(record)}


def _prediction_texts(record: dict) -> dict[str, str]:
    """The held-out predictions' errors and crossovers, under the literal keys the chapter places; a grid with one
    kernel has no kernel prediction."""
    made = {prediction.kind: prediction for prediction in analysis.predictions(record)}
    roofline, by_batch, by_kernel = made["roofline"], made.get("batch"), made.get("kernel")

    def factor(prediction: analysis.Prediction | None) -> str:
        return units.number(prediction.median_factor) if prediction else "not made (the grid is too small for it)"

    def crossovers(prediction: analysis.Prediction | None) -> str:
        return prediction.crossover_text() if prediction else "none made"

    return {
        "atlas_roofline_prediction_factor": factor(roofline),
        "atlas_roofline_prediction_crossovers": crossovers(roofline),
        "atlas_batch_prediction_factor": factor(by_batch),
        "atlas_batch_prediction_crossovers": crossovers(by_batch),
        "atlas_kernel_prediction_factor": factor(by_kernel),
        "atlas_kernel_prediction_crossovers": crossovers(by_kernel),
    }


def glue_atlas(record: dict) -> None:
    """Glue the numbers the chapter's prose quotes, each under the literal key the chapter uses."""

    ceilings = record["ceilings"]
    book = analysis.book_layer_frame(record)
    crossovers = analysis.crossover_frame(record)
    pairs = analysis.pairs_frame(record)
    fits = _fits(record)
    checks = analysis.checks_summary(record)
    training_batch = max(record["config"]["batches"])

    def book_ratio(layer: str, pass_name: str, column: str) -> str:
        row = book[(book["book_layer"] == layer) & (book["pass"] == pass_name)].iloc[0]
        return units.ratio(row[column])

    def book_interval(layer: str, pass_name: str) -> str:
        row = book[(book["book_layer"] == layer) & (book["pass"] == pass_name)].iloc[0]
        return units.span(row["time_ratio_low"], row["time_ratio_high"], units.ratio)

    def found(kernel: int, batch: int, pass_name: str) -> str:
        rows = crossovers[
            (crossovers["kernel"] == kernel) & (crossovers["batch"] == batch) & (crossovers["pass"] == pass_name)
        ]
        return rows.iloc[0]["crossover"].text() if len(rows) else "not measured"

    def fixed_ratio(pass_name: str) -> str:
        return units.ratio(fits[("SeparableConv2D", pass_name)].fixed_s / fits[("Conv2D", pass_name)].fixed_s)

    def kind_count(kind: str) -> str:
        return f"{int((crossovers['crossover_kind'] == kind).sum())} of {len(crossovers)}"

    glue_texts(
        {
            "atlas_machine": machine_text(record),
            "atlas_profile": markdown_text(record["profile"]),
            "atlas_quietness": quietness_text(record),
            "atlas_harness": harness_text(record),
        }
    )
    numbers = {
        "atlas_matmul_rate": f"{units.number(ceilings['matmul_macs_per_s'] / GIGA)} billion MACs/s",
        "atlas_copy_bandwidth": f"{units.number(ceilings['copy_bytes_per_s'] / GIGA)} GB/s",
        "atlas_ridge": units.number(ceilings["matmul_macs_per_s"] / ceilings["copy_bytes_per_s"]),
        "atlas_training_batch": str(training_batch),
        "atlas_book_conv1_inference_ratio": book_ratio("conv_1", "inference", "time_ratio"),
        "atlas_book_conv1_training_ratio": book_ratio("conv_1", "training", "time_ratio"),
        "atlas_book_conv2_inference_ratio": book_ratio("conv_2", "inference", "time_ratio"),
        "atlas_book_conv2_training_ratio": book_ratio("conv_2", "training", "time_ratio"),
        "atlas_book_conv2_training_interval": book_interval("conv_2", "training"),
        "atlas_book_conv1_mac_ratio": book_ratio("conv_1", "training", "mac_ratio"),
        "atlas_book_conv2_mac_ratio": book_ratio("conv_2", "training", "mac_ratio"),
        "atlas_crossover_k3_batch1_inference": found(3, 1, "inference"),
        "atlas_crossover_k3_training": found(3, training_batch, "training"),
        "atlas_crossover_k7_training": found(7, training_batch, "training"),
        "atlas_never_count": kind_count(analysis.NEVER),
        "atlas_unresolved_count": kind_count("not resolved"),
        "atlas_interval_kind": crossovers["interval_kind"].iloc[0],
        "atlas_separable_fixed": units.DURATION_S.text(fits[("SeparableConv2D", "inference")].fixed_s),
        "atlas_standard_fixed": units.DURATION_S.text(fits[("Conv2D", "inference")].fixed_s),
        "atlas_fixed_ratio_inference": fixed_ratio("inference"),
        "atlas_fixed_ratio_training": fixed_ratio("training"),
        "atlas_separable_efficiency": fits[("SeparableConv2D", "training")].efficiency_text(),
        "atlas_standard_efficiency": fits[("Conv2D", "training")].efficiency_text(),
        "atlas_separable_inference_efficiency": fits[("SeparableConv2D", "inference")].efficiency_text(),
        "atlas_standard_inference_efficiency": fits[("Conv2D", "inference")].efficiency_text(),
        "atlas_below_mac_count": f"{int((pairs['time_ratio_high'] < pairs['mac_ratio']).sum())} of {len(pairs)}",
        "atlas_model_error": units.percent(max(fit.median_error for fit in fits.values())),
        "atlas_point_count": str(len(record["points"])),
        "atlas_training_faster_count": str(checks[TRAINING_FASTER]),
        "atlas_above_ceiling_count": str(checks[ABOVE_CEILING]),
        "atlas_fixed_cost_count": str(checks[analysis.FIXED_COST_CHECK]),
        **_prediction_texts(record),
    }
    glue_texts({name: OwnMarkdown(text) for name, text in numbers.items()})  # numbers and this module's words
    glue_texts({"atlas_ceilings_name": markdown_text(drawn_ceilings(record)[0])})  # names the record's backend


def crossover_table(record: dict) -> Styler:
    """For each kernel size, batch and pass: the measured crossover from the ratios' intervals, how many intervals
    straddle 1, the crossover of the median ratios, the roofline's prediction (no fit) and the fitted model's
    crossover (in-sample)."""
    measured = analysis.crossover_frame(record)
    frame = measured.merge(analysis.predicted_crossover_frame(record), on=["kernel", "batch", "pass"])
    counts = frame["largest_channels"].map(lambda _: len(record["config"]["channel_levels"]))
    rows = pd.DataFrame(
        {
            "pass": frame["pass"],
            "batch": frame["batch"].map(str),
            "kernel": frame["kernel"].map(lambda k: f"{k}x{k}"),
            "separable faster, from the intervals": [crossover.text() for crossover in frame["crossover"]],
            "intervals that straddle 1": [f"{n} of {total}" for n, total in zip(frame["straddling"], counts)],
            "from the median ratios": [
                analysis.crossover_text(value) + (" (faster at some smaller counts too)" if below else "")
                for value, below in zip(frame["crossover_channels"], frame["faster_below"])
            ],
            "roofline alone (predicted, no fit)": frame["roofline_crossover_channels"].map(analysis.crossover_text),
            "fitted model (in-sample)": frame["fitted_crossover_channels"].map(analysis.crossover_text),
        }
    )
    return page_table(rows)


def fit_table(record: dict) -> Styler:
    """The model fitted to every point of each layer kind and pass, and how far it falls from those same points."""
    rows = {
        f"{fit.layer}, {fit.pass_name}": {
            "share of the roofline": fit.efficiency_text(),
            "fixed cost per call": units.DURATION_S.text(fit.fixed_s),
            "median error (in-sample)": units.percent(fit.median_error),
            "worst error (in-sample)": units.percent(fit.worst_error),
        }
        for fit in analysis.model_fits(record)
    }
    return page_table(pd.DataFrame.from_dict(rows, orient="index"), corner="layer, pass")


def predictions_table(record: dict) -> Styler:
    """Each prediction, on the points it was not made from: how many, how far off (a factor: 1 is exact), and how
    many crossovers it put within the measured interval."""
    rows = {
        prediction.name: {
            "held-out points": str(prediction.held_out_points),
            "median factor off": units.number(prediction.median_factor),
            "worst factor off": units.number(prediction.worst_factor),
            "crossovers within the measured interval": prediction.crossover_text(),
        }
        for prediction in analysis.predictions(record)
    }
    return page_table(pd.DataFrame.from_dict(rows, orient="index"), corner="prediction")


def violations_table(record: dict) -> Styler:
    """Every violation of a physical check in the atlas: the point, its measured time and the bound it broke."""
    frame = analysis.fixed_cost_violations(record)
    fits = _fits(record)
    rows = [
        {
            "check": item["check"],
            "layer": item["layer"],
            "pass": item["pass"],
            "shape": _shape_text(item),
            "measured": units.DURATION_S.text(item["measured_s"]),
            "bound": units.DURATION_S.text(item["bound_s"]),
        }
        for item in physical_checks(record)["violations"]
    ] + [
        {
            "check": analysis.FIXED_COST_CHECK,
            "layer": row["layer"],
            "pass": row["pass"],
            "shape": _shape_text(row),
            "measured": units.DURATION_S.text(row["median_s"]),
            "bound": units.DURATION_S.text(fits[(row["layer"], row["pass"])].fixed_s),
        }
        for row in frame.to_dict("records")
    ]
    if not rows:
        rows = [{"check": "every check", "layer": "", "pass": "", "shape": "no violation", "measured": "", "bound": ""}]
    return page_table(pd.DataFrame(rows))


def _shape_text(point: dict) -> str:
    """'batch 32, 64->64 channels, 28x28, 3x3' (and the book's layer where it is one)."""
    book_layer = point.get("book_layer")
    return (
        f"batch {point['batch']}, {point['channels_in']}->{point['channels_out']} channels, "
        f"{point['height']}x{point['width']}, {point['kernel']}x{point['kernel']}"
        + (f", the book's {book_layer}" if isinstance(book_layer, str) and book_layer else "")
    )


def book_layers_table(record: dict) -> Styler:
    """The book's own two layers at batch 250: both times, the time ratio with, below it, its interval (the ratio of
    the ranges' ends, or a bootstrap interval where the record keeps every sample), the multiplication ratio and,
    where a counter was read, the energy ratio."""
    rows = {}
    for row in analysis.book_layer_frame(record).to_dict("records"):
        label = f"{row['book_layer']} ({row['channels_in']}->{row['channels_out']}), {row['pass']}"
        rows[label] = {
            "Conv2D": units.DURATION_S.text(row["standard_s"]),
            "Separable": units.DURATION_S.text(row["separable_s"]),
            "time ratio": units.ratio(row["time_ratio"])
            + PAGE_BREAK
            + f"{row['interval_kind']} "
            + units.span(row["time_ratio_low"], row["time_ratio_high"], units.ratio),
            "MAC ratio": units.ratio(row["mac_ratio"]),
        }
        if record["energy"]["method"] != "none":
            rows[label]["measured energy ratio"] = units.ratio(row["energy_ratio"])
    return page_table(pd.DataFrame.from_dict(rows, orient="index"), corner="layer, pass")


def machines_legend(records: list[dict]) -> Styler:
    """What each numbered column of `machines_table` is: machine, backend, profile, date."""
    rows = pd.DataFrame(
        [
            {
                "atlas": str(index),
                "machine": machine_label(record, short=True),
                "backend": record["versions"]["keras_backend"],
                "profile": record["profile"] + (" (shown above)" if index == 1 else ""),
                "made": record["created_utc"][:10],
            }
            for index, record in enumerate(records, start=1)
        ]
    )
    return page_table(rows)


def machines_table(records: list[dict]) -> Styler:
    """The atlases side by side, one numbered column each (see `machines_legend`): the two ceilings, the book's
    second layer in training, the violations of each physical check, the quietness evidence, and the crossover (in
    channels, from the ratios' intervals) of each pass, batch and kernel."""
    columns = {}
    for index, record in enumerate(records, start=1):
        book = analysis.book_layer_frame(record)
        conv_2 = book[(book["book_layer"] == "conv_2") & (book["pass"] == "training")]
        column = {
            "matrix product, billion MACs/s": units.number(record["ceilings"]["matmul_macs_per_s"] / GIGA),
            "copy, GB/s": units.number(record["ceilings"]["copy_bytes_per_s"] / GIGA),
            "book conv_2, training, time ratio": units.ratio(conv_2.iloc[0]["time_ratio"]) if len(conv_2) else "",
            **{f"violations: {check}": str(count) for check, count in analysis.checks_summary(record).items()},
            "quiet machine": quietness_summary(record) or NOT_RECORDED,  # page_table escapes it
        }
        for row in analysis.crossover_frame(record).to_dict("records"):
            label = f"{row['pass']}, batch {row['batch']}, {row['kernel']}x{row['kernel']}"
            column[label] = row["crossover"].short()
        columns[str(index)] = column
    frame = pd.DataFrame(columns).fillna("–")
    heading_rows = len(frame) - sum(", batch " in label for label in frame.index)
    crossover_rows = sorted(frame.index[heading_rows:], key=_crossover_order)
    return page_table(frame.reindex(list(frame.index[:heading_rows]) + crossover_rows), corner="crossover in channels")


def _crossover_order(label: str) -> tuple:
    """'training, batch 32, 5x5' sorts by pass (inference first), batch, then kernel."""
    pass_name, batch, kernel = label.split(", ")
    return (pass_name != "inference", int(batch.split()[1]), int(kernel.split("x")[0]))


def missing_classes_text(records: list[dict]) -> str:
    """The hardware classes no atlas comes from yet, in words (or that every class has one)."""
    present = {hardware_class(record) for record in records}
    missing = [name for name in HARDWARE_CLASSES if name not in present]
    if not missing:
        return "Every hardware class the book knows (x86 CPU, Arm CPU, Apple silicon, GPU) has an atlas"
    return "No atlas comes yet from " + " or ".join(missing)


def glue_comparison(records: list[dict]) -> None:
    """Glue what the side-by-side comparison says in words, under the literal keys the chapter uses."""

    from convcarbon.training.analyze.machines import machine_key

    machines = {machine_key({**record, "versions": {"keras_backend": ""}}) for record in records}
    backends = sorted({record["versions"]["keras_backend"] for record in records})
    backend_names = ", ".join(markdown_text(backend, 40) for backend in backends)  # record strings, escaped
    glue_texts(
        {
            "atlas_missing_classes": OwnMarkdown(missing_classes_text(records)),
            "atlas_machine_count": OwnMarkdown(
                f"{len(records)} atlas(es) from {len(machines)} machine(s), with the Keras backend(s) {backend_names}"
            ),
        }
    )
