"""Records from several machines side by side, each labelled with its hardware, backend and tracking.

The book shows the record of its own build and, for every other machine, the
newest record found in the local results store or committed under
`book/records/` (records made elsewhere, such as on a GPU machine). Which records
exist and can be shown is `discovery`'s; this module builds their labels and tables.
"""

from __future__ import annotations

import json

import pandas as pd
from pandas.io.formats.style import Styler

from convcarbon import units
from convcarbon.records.hardware import IDENTITY_FIELDS

from .analysis import MODELS, energy_verdict, repeats, runs_of, separable_ratio_interval, summary
from .report import ENERGY_WORDINGS, energy_missing_reasons, machine_label, mixed_power_assumptions
from .tables import PAGE_BREAK, READINGS, page_table, summary_cell, without_repeats


def machine_key(record: dict) -> str:
    """Which machine and framework a record belongs to: its hardware identity (CPU vendor, family,
    model, stepping, vector extension, VM, logical CPUs, RAM, GPUs) and its Keras backend."""
    identity = {field: record["hardware"][field] for field in IDENTITY_FIELDS}
    return json.dumps([identity, record["versions"]["keras_backend"]], sort_keys=True)


# Rows of one hardware class stand together, in this order.
HARDWARE_CLASSES = ("x86 CPU", "Arm CPU", "Apple silicon", "GPU")


def hardware_class(record: dict) -> str:
    hardware = record["hardware"]
    if hardware["gpus"]:
        return "GPU"
    if hardware["cpu_vendor"] == "Apple":
        return "Apple silicon"
    return "Arm CPU" if hardware["vector_extension"] in ("NEON", "SVE", "SVE2") else "x86 CPU"


def grouped(records: list[dict]) -> list[dict]:
    """Records ordered by hardware class, then by machine and framework."""
    return sorted(
        records,
        key=lambda record: (
            HARDWARE_CLASSES.index(hardware_class(record)),
            machine_label(record, backend=True),
            record["profile"],
        ),
    )


def energy_method(record: dict) -> str:
    """How each part of a record's energy was obtained, with the wattage CodeCarbon assumed, in a few words:
    "CPU estimated: load x 8 W (CodeCarbon's default for an unknown CPU); RAM estimated: 20 W model"."""
    if energy_missing_reasons(record):
        return ENERGY_WORDINGS["not measured"].cell
    run, assumptions = runs_of(record, MODELS[0])[0], record["power_assumptions"]
    parts = []
    if run["gpu_energy_measured"]:
        parts.append("GPU measured (" + run["gpu_tracking_method"].removeprefix("measured: ") + ")")
    parts.append(_cpu_method(run, assumptions))
    ram_w = assumptions.get("ram_assumed_power_w")
    parts.append(f"RAM estimated: {units.number(ram_w)} W model" if ram_w is not None else "RAM estimated: power model")
    if mixed_power_assumptions(record):
        parts.append(MIXED_MARK)
    return "; ".join(parts)


# Said of a record whose runs were estimated with different wattages (`report.mixed_power_assumptions`).
MIXED_MARK = "mixes assumed wattages between its runs"


def _cpu_method(run: dict, assumptions: dict) -> str:
    if run["cpu_energy_measured"]:
        return "CPU measured (" + run["cpu_tracking_method"].removeprefix("measured: ") + ")"
    wattage = assumptions.get("cpu_assumed_power_w")
    if wattage is None:
        return "CPU " + run["cpu_tracking_method"]
    kind = {
        "load model": f"load x {units.number(wattage)} W",
        "constant model": f"constant, {units.number(wattage)} W",
    }.get(assumptions["cpu_power_model"], f"{units.number(wattage)} W")
    if assumptions.get("cpu_power_scaled"):
        why = (
            f"{units.number(assumptions['cpu_table_power_w'])} W chip scaled to {assumptions['cpu_machine_share']:.1%} "
            "of its logical CPUs"
        )
    elif assumptions.get("cpu_table_match"):
        why = "the whole chip's TDP from CodeCarbon's table"
    else:
        why = "CodeCarbon's default for a CPU not in its table"
    return f"CPU estimated: {kind} ({why})"


def _shown_mark(record: dict, shown: dict) -> str:
    if record["fingerprint"] != shown["fingerprint"]:
        return ""
    return " (the reference record, shown on every page)" if shown.get("shown_as_reference") else " (this build)"


def summary_frame(records: list[dict], shown: dict) -> Styler:
    """One row per machine and framework, grouped by hardware class: hardware, backend, how energy was
    obtained with its assumptions, profile, runs per model, the time and energy ratios with their
    intervals, and the verdict."""
    rows = []
    for record in records:
        energy = separable_ratio_interval(record, "energy_consumed")
        rows.append(
            {
                "class": hardware_class(record),
                "machine": machine_label(record) + _shown_mark(record, shown),
                "backend, profile, runs": f"{record['versions']['keras_backend']}, {record['profile']}, "
                f"{repeats(record)} run(s) per model",
                "energy obtained": energy_method(record),
                "time ratio": separable_ratio_interval(record, "duration").cell(PAGE_BREAK),
                "energy ratio": energy.cell(PAGE_BREAK)
                + (f", {MIXED_MARK}" if mixed_power_assumptions(record) else ""),
                "verdict": energy_verdict(record).cell,
            }
        )
    frame = pd.DataFrame(rows)
    frame["class"] = without_repeats(frame["class"])
    return page_table(frame)


# (metric, column header without its unit) of the spread table.
SPREAD_COLUMNS = (
    ("accuracy", "test accuracy"),
    ("duration", "training time"),
    ("first epoch duration", "first epoch"),
    ("later epoch duration", "each later epoch"),
    ("energy_consumed", "energy"),
    ("energy above idle", "above idle"),
)


def spread_frame(records: list[dict]) -> Styler:
    """Each machine's two models: median (lowest–highest) of accuracy, time and energy over the repeats,
    each column in one unit for all machines."""
    columns = {}
    for metric, header in SPREAD_COLUMNS:
        quantity = READINGS[metric].quantity
        seen = [summary(record, model, metric) for record in records for model in MODELS]
        scale = quantity.scale_for(value for one in seen for value in (one.low, one.high))
        columns[f"{header} ({scale.symbol})"] = [summary_cell(one, quantity, scale, PAGE_BREAK) for one in seen]
    frame = pd.DataFrame(
        {  # each record's machine and profile named once, above its two models
            "machine, profile": [
                f"{machine_label(record, backend=True)}; {record['profile']}" if model == MODELS[0] else ""
                for record in records
                for model in MODELS
            ],
            "model": [model for _ in records for model in MODELS],
            **columns,
        }
    )
    return page_table(frame)


def analytic_frame(records: list[dict]) -> Styler:
    """Per machine: the later-epoch ratios of time and energy, and the multiplications per second
    each model achieved (forward and backward). The ratio of multiplications, the same on every
    machine, is in the prose and the ratio figure: a column of it would not fit the page."""
    throughputs = {
        (index, model): summary(record, model, "throughput").median
        for index, record in enumerate(records)
        for model in MODELS
    }
    scale = units.THROUGHPUT_PER_S.scale_for(throughputs.values())
    rows = []
    for index, record in enumerate(records):
        rows.append(
            {
                "machine": machine_label(record, backend=True),
                "later-epoch time ratio": separable_ratio_interval(record, "later epoch duration").cell(PAGE_BREAK),
                "later-epoch energy ratio": separable_ratio_interval(record, "later epoch energy").cell(PAGE_BREAK),
                **{
                    f"{model} ({scale.symbol})": units.THROUGHPUT_PER_S.number(throughputs[index, model], scale)
                    for model in MODELS
                },
                "throughput ratio": separable_ratio_interval(record, "throughput").cell(PAGE_BREAK),
            }
        )
    return page_table(pd.DataFrame(rows))


def gpu_records(records: list[dict]) -> list[dict]:
    return [record for record in records if any(run["gpu_energy_measured"] for run in record["runs"])]
