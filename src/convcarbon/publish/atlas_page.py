"""What the atlas chapter shows besides its figures: the provenance note, the glued numbers, and its tables.

Every string from a record reaches the page as inert text (`safe.markdown_text` in
glued Markdown, `analyze.tables.page_table` for tables); every number goes through
`convcarbon.units`. The chapter's own sentences live in book/atlas.md.

Used by: book/atlas.md
"""

from __future__ import annotations

import math

import pandas as pd
from IPython.display import Markdown
from pandas.io.formats.style import Styler

from .. import units
from ..analyze import atlas as analysis
from ..analyze.machines import HARDWARE_CLASSES, hardware_class
from ..analyze.tables import PAGE_BREAK, page_table
from ..safe import OwnMarkdown, markdown_text
from .book import displayed, glue_texts

GIGA = 1e9


def machine_text(record: dict) -> str:
    """'<CPU> (+ GPUs), N logical CPUs, Keras backend B', as inert Markdown."""
    hardware = record["hardware"]
    gpus = "".join(f" + {gpu['name']}" for gpu in hardware["gpus"])
    return markdown_text(
        f"{hardware['cpu_model']}{gpus}, {hardware['cpu_count']} logical CPUs, "
        f"Keras backend {record['versions']['keras_backend']}"
    )


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
            else "read on a hardware counter, " + markdown_text(record["energy"]["counter"]) + "."
        ),
    ]
    return displayed(OwnMarkdown(":::{note}\n" + "\n".join(lines) + "\n:::"))  # record strings escaped above


def glue_atlas(record: dict) -> None:
    """Glue the numbers the chapter's prose quotes, each under the literal key the chapter uses."""

    ceilings = record["ceilings"]
    book = analysis.book_layer_frame(record)
    crossovers = analysis.crossover_frame(record)
    fits = {(fit.layer, fit.pass_name): fit for fit in analysis.model_fits(record)}
    training_batch = max(record["config"]["batches"])

    def book_ratio(layer: str, pass_name: str, column: str) -> str:
        row = book[(book["book_layer"] == layer) & (book["pass"] == pass_name)].iloc[0]
        return units.ratio(row[column])

    def found(kernel: int, batch: int, pass_name: str) -> str:
        rows = crossovers[
            (crossovers["kernel"] == kernel) & (crossovers["batch"] == batch) & (crossovers["pass"] == pass_name)
        ]
        return analysis.crossover_text(rows.iloc[0]["crossover_channels"]) if len(rows) else "not measured"

    never = crossovers["crossover_channels"].isna()
    glue_texts({"atlas_machine": machine_text(record), "atlas_profile": markdown_text(record["profile"])})
    numbers = {
        "atlas_matmul_rate": f"{units.number(ceilings['matmul_macs_per_s'] / GIGA)} billion MACs/s",
        "atlas_copy_bandwidth": f"{units.number(ceilings['copy_bytes_per_s'] / GIGA)} GB/s",
        "atlas_ridge": units.number(ceilings["matmul_macs_per_s"] / ceilings["copy_bytes_per_s"]),
        "atlas_training_batch": str(training_batch),
        "atlas_book_conv1_inference_ratio": book_ratio("conv_1", "inference", "time_ratio"),
        "atlas_book_conv1_training_ratio": book_ratio("conv_1", "training", "time_ratio"),
        "atlas_book_conv2_inference_ratio": book_ratio("conv_2", "inference", "time_ratio"),
        "atlas_book_conv2_training_ratio": book_ratio("conv_2", "training", "time_ratio"),
        "atlas_book_conv1_mac_ratio": book_ratio("conv_1", "training", "mac_ratio"),
        "atlas_book_conv2_mac_ratio": book_ratio("conv_2", "training", "mac_ratio"),
        "atlas_crossover_k3_batch1_inference": found(3, 1, "inference"),
        "atlas_crossover_k3_training": found(3, training_batch, "training"),
        "atlas_crossover_k7_training": found(7, training_batch, "training"),
        "atlas_never_count": f"{int(never.sum())} of {len(crossovers)}",
        "atlas_separable_fixed": units.DURATION_S.text(fits[("SeparableConv2D", "inference")].fixed_s),
        "atlas_standard_fixed": units.DURATION_S.text(fits[("Conv2D", "inference")].fixed_s),
        "atlas_separable_efficiency": units.percent(fits[("SeparableConv2D", "training")].efficiency, 1),
        "atlas_standard_efficiency": units.percent(fits[("Conv2D", "training")].efficiency, 1),
        "atlas_model_error": units.percent(max(fit.median_error for fit in fits.values())),
    }
    glue_texts({name: OwnMarkdown(text) for name, text in numbers.items()})  # numbers and this module's words


def crossover_table(record: dict) -> Styler:
    """The measured crossover of each kernel size, batch and pass, beside the one the fitted model predicts."""
    measured = analysis.crossover_frame(record)
    predicted = analysis.model_crossover_frame(record)
    frame = measured.merge(predicted, on=["kernel", "batch", "pass"])
    rows = pd.DataFrame(
        {
            "pass": frame["pass"],
            "batch": frame["batch"].map(str),
            "kernel": frame["kernel"].map(lambda k: f"{k}x{k}"),
            "separable faster from": [
                analysis.crossover_text(value) + (" (faster at some smaller counts too)" if below else "")
                for value, below in zip(frame["crossover_channels"], frame["faster_below"])
            ],
            "the model predicts": frame["predicted_crossover_channels"].map(analysis.crossover_text),
            "best time ratio": frame["smallest_ratio"].map(units.ratio),
        }
    )
    return page_table(rows)


def fit_table(record: dict) -> Styler:
    """The fitted model of each layer kind and pass, and how far its predictions fall from the measurements."""
    rows = {
        f"{fit.layer}, {fit.pass_name}": {
            "share of the roofline": units.percent(fit.efficiency, 1),
            "fixed cost per call": units.DURATION_S.text(fit.fixed_s),
            "median error": units.percent(fit.median_error),
            "worst error": units.percent(fit.worst_error),
        }
        for fit in analysis.model_fits(record)
    }
    return page_table(pd.DataFrame.from_dict(rows, orient="index"), corner="layer, pass")


def book_layers_table(record: dict) -> Styler:
    """The book's own two layers at batch 250: both times, the time ratio with, below it, the ratio of the ranges'
    ends, the multiplication ratio and, where a counter was read, the energy ratio."""
    rows = {}
    for row in analysis.book_layer_frame(record).to_dict("records"):
        label = f"{row['book_layer']} ({row['channels_in']}->{row['channels_out']}), {row['pass']}"
        rows[label] = {
            "Conv2D": units.DURATION_S.text(row["standard_s"]),
            "Separable": units.DURATION_S.text(row["separable_s"]),
            "time ratio": units.ratio(row["time_ratio"])
            + PAGE_BREAK
            + units.span(row["time_ratio_low"], row["time_ratio_high"], units.ratio),
            "MAC ratio": units.ratio(row["mac_ratio"]),
        }
        if record["energy"]["method"] != "none":
            rows[label]["energy ratio"] = units.ratio(row["energy_ratio"])
    return page_table(pd.DataFrame.from_dict(rows, orient="index"), corner="layer, pass")


def machines_legend(records: list[dict]) -> Styler:
    """What each numbered column of `machines_table` is: machine, backend, profile, date."""
    rows = pd.DataFrame(
        [
            {
                "atlas": str(index),
                "machine": f"{record['hardware']['cpu_model']}, {record['hardware']['cpu_count']} logical CPUs"
                + "".join(f" + {gpu['name']}" for gpu in record["hardware"]["gpus"]),
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
    second layer in training, and the crossover (in channels) of each pass, batch and kernel."""
    columns = {}
    for index, record in enumerate(records, start=1):
        book = analysis.book_layer_frame(record)
        conv_2 = book[(book["book_layer"] == "conv_2") & (book["pass"] == "training")]
        column = {
            "matrix product, billion MACs/s": units.number(record["ceilings"]["matmul_macs_per_s"] / GIGA),
            "copy, GB/s": units.number(record["ceilings"]["copy_bytes_per_s"] / GIGA),
            "book conv_2, training, time ratio": units.ratio(conv_2.iloc[0]["time_ratio"]) if len(conv_2) else "",
        }
        for row in analysis.crossover_frame(record).to_dict("records"):
            found = row["crossover_channels"]
            label = f"{row['pass']}, batch {row['batch']}, {row['kernel']}x{row['kernel']}"
            column[label] = analysis.NEVER if found is None or math.isnan(found) else str(int(found))
        columns[str(index)] = column
    frame = pd.DataFrame(columns).fillna("–")
    crossover_rows = sorted(frame.index[3:], key=_crossover_order)
    return page_table(frame.reindex(list(frame.index[:3]) + crossover_rows), corner="crossover in channels")


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

    from ..analyze.machines import machine_key

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
