"""The comparison table of the two models over their repeats, plus provenance, for the terminal and JSON.

The terminal gets `safe.TerminalText` (`format_report`): every line, a record's strings in it, escaped."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from convcarbon.costs import images_text
from convcarbon.safe import TerminalText, plain_text, terminal_lines
from convcarbon.units import CARBON_INTENSITY_G_PER_KWH, number

from .analysis import METRICS, MODELS, Metric, idle_power_w, repeats, separable_ratio_interval, summary
from .epoch_speeds import has_two_speeds, two_speeds_phrase
from .stats import RatioInterval, Summary

METHODS = ("cpu_tracking_method", "gpu_tracking_method", "ram_tracking_method")
RATIO_COLUMN = "separable / standard"


def comparison_rows(record: dict) -> list[tuple[Metric, dict[str, Summary], RatioInterval]]:
    """Each metric once: every model's summary over its repeats, and the ratio's bootstrap interval."""
    return [
        (
            metric,
            {model: summary(record, model, metric.name) for model in MODELS},
            separable_ratio_interval(record, metric.name),
        )
        for metric in METRICS
    ]


def method_rows(record: dict) -> list[dict]:
    """How each model's energy was obtained: one row per part (CPU, GPU, RAM)."""
    return [
        {"metric": field, "unit": "", **{model: record_method(record, model, field) for model in MODELS}}
        for field in METHODS
    ]


def comparison_table(record: dict) -> pd.DataFrame:
    """For JSON: rows of metrics with the record's units; each model's median, lowest and highest
    over the repeats, then the ratio of the medians and its 95% bootstrap interval, all as numbers."""
    rows = []
    for metric, seen, interval in comparison_rows(record):
        row = {"metric": metric.name, "unit": metric.unit}
        for model in MODELS:
            row.update(
                {model: seen[model].median, f"{model} lowest": seen[model].low, f"{model} highest": seen[model].high}
            )
        row.update(
            {RATIO_COLUMN: interval.ratio, f"{RATIO_COLUMN} low": interval.low, f"{RATIO_COLUMN} high": interval.high}
        )
        rows.append(row)
    rows += [{**row, RATIO_COLUMN: math.nan} for row in method_rows(record)]
    return pd.DataFrame(rows).set_index("metric")


def record_method(record: dict, model: str, field: str) -> str:
    """How a model's energy was obtained; the distinct methods of its runs, joined."""
    return "; ".join(dict.fromkeys(plain_text(run[field]) for run in record["runs"] if run["model"] == model))


def ratio(numerator, denominator) -> float:
    """numerator / denominator, or NaN when either is missing or the denominator is zero."""
    if numerator is None or not denominator:
        return float("nan")
    return numerator / denominator


def machine_label(record: dict, *, short: bool = False, backend: bool = False, profile: bool = False) -> str:
    """The one way a machine is named (a training record's or an atlas's), in words a reader can tell apart:
    "AMD EPYC (family 25, model 17; AVX-512), 2 logical CPUs, virtual machine, 23.5 GB RAM + NVIDIA H200
    (139.8 GB, driver 570.1)". `short` for a figure or a legend: "AMD EPYC (family 25, model 17; AVX-512)
    + NVIDIA H200, 2 logical CPUs". `backend` and `profile` add the Keras backend and the profile.

    Plain text from an untrusted record: escape it (`safe`) wherever it is placed in Markdown, a figure or a terminal.
    Used by: every page, table and figure that names a machine, and the terminal's report.
    """
    hardware = record["hardware"]
    details = [
        f"family {hardware['cpu_family']}" if hardware["cpu_family"] is not None else "",
        f"model {hardware['cpu_model_number']}" if hardware["cpu_model_number"] is not None else "",
    ]
    cpu = ", ".join(part for part in details if part)
    if hardware["vector_extension"]:
        cpu += ("; " if cpu else "") + hardware["vector_extension"]
    label = hardware["cpu_model"] + (f" ({cpu})" if cpu else "")
    if short:
        label += "".join(f" + {gpu['name']}" for gpu in hardware["gpus"]) + f", {hardware['cpu_count']} logical CPUs"
    else:
        label += f", {hardware['cpu_count']} logical CPUs"
        label += {True: ", virtual machine", False: "", None: ""}[hardware["virtual_machine"]]
        label += f", {hardware['ram_total_gb']} GB RAM"
        gpus = [f"{gpu['name']} ({gpu['memory_gb']} GB, driver {gpu['driver']})" for gpu in hardware["gpus"]]
        label += " + " + ", ".join(gpus) if gpus else ""
    label += f", Keras backend {record['versions']['keras_backend']}" if backend else ""
    return label + (f", {record['profile']} profile" if profile else "")


def power_assumption_text(record: dict) -> str:
    """What CodeCarbon assumed for the CPU's power on this machine, in one line of plain text."""
    assumptions = record["power_assumptions"]
    if assumptions["cpu_power_model"] == "counter":
        return "none: the CPU's energy was measured, read from a hardware counter"
    basis = assumptions["cpu_power_basis"] or "not known"
    ram_w = assumptions.get("ram_assumed_power_w")
    ram = f"; RAM modelled at {number(ram_w)} W" if ram_w is not None else ""
    scaled = " (scaled to this machine's share of the chip)" if assumptions.get("cpu_power_scaled") else ""
    return f"{assumptions['cpu_power_model']}{scaled}: {basis}{ram}"


def mixed_power_assumptions(record: dict) -> str | None:
    """How the assumed wattages differ between the measurements of one record (its idle measurement and its
    runs), in one line of plain text; None when they all share one. A record whose runs were estimated with
    different wattages mixes two assumptions in its energy ratio: schema 5 pins them (`power.pinned`), but a
    record made before, or on a CodeCarbon that ignores the pin, can still mix them (an Intel Xeon VM gave one
    run RAM at 24 W and the others 20 W).

    Used by: book/results.md and book/reproducibility.md (the provenance note), the machines' table, `report`."""
    parts = [("the idle measurement", record["idle"])] + [(_run_label(run), run) for run in record["runs"]]
    measured = [(label, part) for label, part in parts if part and not part.get("energy_missing_reason")]
    differences = []
    for name, wattage in (("RAM", _ram_wattage), ("CPU", _cpu_wattage)):
        labels_by_value: dict[str, list[str]] = {}
        for label, part in measured:
            labels_by_value.setdefault(wattage(part), []).append(label)
        if len(labels_by_value) > 1:
            differences.append(
                f"{name} "
                + "; ".join(f"{value} in {_labels_text(labels)}" for value, labels in labels_by_value.items())
            )
    if not differences:
        return None
    return "assumed wattage differs between the measurements of this record: " + "; and ".join(differences)


def _ram_wattage(part: dict) -> str:
    power_w = part["ram_power_w"]
    return "no RAM model" if power_w is None else f"{number(power_w)} W"


def _cpu_wattage(part: dict) -> str:
    """The CPU's method as CodeCarbon gave it ("estimated: CPU load x 8.0 W"), which holds its wattage."""
    return plain_text(part["cpu_tracking_method"], 200)


def _labels_text(labels: list[str]) -> str:
    return ", ".join(labels) if len(labels) <= 3 else f"{', '.join(labels[:2])} and {len(labels) - 2} more"


def energy_missing_reasons(record: dict) -> list[str]:
    """Why CodeCarbon gave no energy for some run of this record; empty when it gave all."""
    parts = [("idle measurement", record["idle"])] + [(_run_label(run), run) for run in record["runs"]]
    return [
        f"{label}: {part['energy_missing_reason']}"
        for label, part in parts
        if part and part.get("energy_missing_reason")
    ]


def _run_label(run: dict) -> str:
    return f"{run['model']} repeat {run['repeat'] + 1}"


def energy_is_estimated(record: dict) -> bool:
    """True when the compute energy came from a model rather than a hardware counter."""
    return not energy_missing_reasons(record) and not any(
        run["cpu_energy_measured"] or run["gpu_energy_measured"] for run in record["runs"]
    )


@dataclass(frozen=True)
class EnergyWording:
    """How a reading of `energy_reading` is worded: `cell` in a table, a bullet and on the terminal, `phrase`
    in a sentence ("The compute energy in this build was ..."), `warning` (or "") where a report warns."""

    cell: str
    phrase: str
    warning: str = ""


# The one wording table of how energy was obtained: the prose (prose.energy_status_phrase, the verdict
# bullets), the tables (machines.energy_method, inference.inference_rows), the ethics chapter and `report`.
ENERGY_WORDINGS = {
    "measured": EnergyWording("measured by a counter", "**measured** by a hardware counter"),
    "estimated": EnergyWording(
        "estimated",
        "**estimated** from a power model, not measured",
        "no hardware energy counter was read; energy and emissions are estimates",
    ),
    "not measured": EnergyWording(
        "not measured: CodeCarbon failed", "**not measured at all**: CodeCarbon failed (see the note above)"
    ),
    "not in record": EnergyWording("not measured in this record", "not measured in this record"),
}


def energy_reading(record: dict) -> str:
    """How the training energy of a record was obtained, as a key of `ENERGY_WORDINGS`."""
    if energy_missing_reasons(record):
        return "not measured"
    return "estimated" if energy_is_estimated(record) else "measured"


# The parts of the energy CodeCarbon reports, each with its own method: measured, or an assumed wattage.
ENERGY_PARTS = ("cpu", "gpu", "ram")


def energy_shares(parts: list[dict]) -> dict[str, float]:
    """Each part's share (CPU, GPU, RAM) of the energy of `parts` (runs, or prediction windows' entries), from
    their stored energies; NaN for every part when some measurement failed or the total is zero."""
    totals = {part: 0.0 for part in ENERGY_PARTS}
    for measurement in parts:
        if measurement.get("energy_missing_reason"):
            return dict.fromkeys(ENERGY_PARTS, math.nan)
        for part in ENERGY_PARTS:
            if measurement[f"{part}_energy_kwh"] is None:
                return dict.fromkeys(ENERGY_PARTS, math.nan)
            totals[part] += measurement[f"{part}_energy_kwh"]
    whole = sum(totals.values())
    if not whole:
        return dict.fromkeys(ENERGY_PARTS, math.nan)
    return {part: amount / whole for part, amount in totals.items()}


def provenance_lines(record: dict) -> list[str]:
    config, versions = record["config"], record["versions"]
    run = record["runs"][0]
    lines = [
        f"profile {record['profile']}: {config['epochs']} epoch(s), batch {config['batch_size']}, "
        f"{images_text(config['train_images'], config['validation_split'])}, {repeats(record)} repeat(s) per model "
        f"in interleaved order; "
        f"measured {record['created_utc']}",
        idle_line(record),
        f"machine: {machine_label(record)}",
        f"machine while training: {quietness_phrase(record)}",
        f"software: Keras {versions['keras']} ({versions['keras_backend']}), CodeCarbon {versions['codecarbon']}, "
        f"Python {versions['python']}; commit {record.get('git_commit') or 'unknown'}",
        f"grid: {run['country_name']} ({config['country_iso_code']}, {config['country_source']}), "
        f"{CARBON_INTENSITY_G_PER_KWH.text(run['carbon_intensity_g_per_kwh'])} ({run['grid_data_year']} data), "
        f"PUE {config['pue']}",
        f"CPU energy {run['cpu_tracking_method']}; GPU {run['gpu_tracking_method']}; RAM {run['ram_tracking_method']}",
        f"CPU power assumed: {power_assumption_text(record)}",
    ]
    if energy_is_estimated(record):
        lines.append(f"WARNING: {ENERGY_WORDINGS['estimated'].warning}.")
    mixed = mixed_power_assumptions(record)
    if mixed:
        lines.append(f"WARNING: {mixed}; the energy ratio mixes these assumptions.")
    for reason in energy_missing_reasons(record):
        lines.append(f"WARNING: energy and emissions were not measured ({reason}).")
    if has_two_speeds(record):
        lines.append(f"WARNING: later epochs ran at {two_speeds_phrase(record)} (epoch_speeds.two_speeds).")
    return lines


# Where a record keeps the evidence that its machine was quiet (records/quietness.py: a calibration before, between
# and after the work): `summary`, a phrase the pages and the terminal show. Schema-1 atlases and training records
# before schema 7 keep none.
QUIETNESS_FIELD = "quietness"


def quietness_summary(record: dict) -> str | None:
    """The record's own summary of how quiet its machine was (a record's string: escape it), or None."""
    evidence = record.get(QUIETNESS_FIELD)
    summary = evidence.get("summary") if isinstance(evidence, dict) else None
    return summary if isinstance(summary, str) and summary else None


def quietness_phrase(record: dict) -> str:
    """How quiet the machine was while it trained, as the record summed it up (a record's string: escape it), or
    why no record says (schemas 5 and 6 store no such evidence)."""
    summary = quietness_summary(record)
    if summary is None:
        return f"not recorded (record schema {record['schema_version']} stores no such evidence)"
    return summary


def idle_line(record: dict) -> str:
    power_w = idle_power_w(record)
    if record["idle"] is None:
        return "idle: not measured (idle duration 0 s); energy above idle cannot be given"
    if math.isnan(power_w):
        return "idle: not measured (CodeCarbon failed); energy above idle cannot be given"
    return f"idle: {power_w:.1f} W at rest, measured for {record['idle']['duration_s']:.0f} s before the runs"


def format_report(record: dict) -> TerminalText:
    """Provenance, then the book's headline and detail tables, each cell on one line, then the verdict; every
    line escaped for the terminal (`safe.terminal_lines`), so a record's string cannot reach it raw."""
    from .analysis import saving_verdict
    from .tables import DETAIL_METRICS, HEADLINE_METRICS, TERMINAL_BREAK, comparison_frame

    lines = provenance_lines(record)
    for metrics in (HEADLINE_METRICS, DETAIL_METRICS):
        lines += ["", *comparison_frame(record, metrics, TERMINAL_BREAK).to_string().splitlines()]
    lines += ["", f"Did the separable model save energy? {saving_verdict(record)}."]
    return terminal_lines(lines)


def report_json(record: dict) -> dict:
    table = comparison_table(record).reset_index()
    return {
        "fingerprint": record["fingerprint"],
        "profile": record["profile"],
        "created_utc": record["created_utc"],
        "machine": machine_label(record),
        "energy_is_estimated": energy_is_estimated(record),
        "energy_missing_reasons": energy_missing_reasons(record),
        "provenance": provenance_lines(record),
        "rows": table.astype(object).where(table.notna(), None).to_dict(orient="records"),
    }
