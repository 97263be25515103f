"""The comparison table of the two models, as the original tutorial laid it out, plus provenance."""

from __future__ import annotations

import pandas as pd

# (row, unit, field in a run record): the tutorial's six rows, then the energy split.
METRICS = [
    ("accuracy", "fraction of test images", "test_accuracy"),
    ("loss", "test cross-entropy", "test_loss"),
    ("duration", "s", "duration_s"),
    ("energy_consumed", "kWh", "energy_consumed_kwh"),
    ("emissions", "kg CO2eq", "emissions_kg"),
    ("emissions_rate", "kg CO2eq/s", "emissions_rate_kg_per_s"),
    ("cpu_energy", "kWh", "cpu_energy_kwh"),
    ("gpu_energy", "kWh", "gpu_energy_kwh"),
    ("ram_energy", "kWh", "ram_energy_kwh"),
]
METHODS = [
    ("cpu_tracking_method", "cpu_tracking_method"),
    ("gpu_tracking_method", "gpu_tracking_method"),
    ("ram_tracking_method", "ram_tracking_method"),
]
RATIO_COLUMN = "separable / standard"
NOT_MEASURED = "not measured"


def runs_by_model(record: dict) -> dict[str, dict]:
    return {run["model"]: run for run in record["runs"]}


def comparison_table(record: dict) -> pd.DataFrame:
    """Rows: metrics with units; columns: the two models and their ratio."""
    runs = runs_by_model(record)
    standard, separable = runs["Conv2D"], runs["SeparableConv2D"]
    rows = []
    for name, unit, field in METRICS:
        rows.append({"metric": name, "unit": unit, "Conv2D": _shown(standard[field]),
                     "SeparableConv2D": _shown(separable[field]), RATIO_COLUMN: ratio(separable[field], standard[field])})
    for name, field in METHODS:
        rows.append({"metric": name, "unit": "", "Conv2D": standard[field],
                     "SeparableConv2D": separable[field], RATIO_COLUMN: None})
    return pd.DataFrame(rows).set_index("metric")


def ratio(numerator, denominator) -> float:
    """numerator / denominator, or NaN when either is missing or the denominator is zero."""
    if numerator is None or not denominator:
        return float("nan")
    return numerator / denominator


def _shown(value):
    """A missing measurement is shown as such, never as a number."""
    return NOT_MEASURED if value is None else value


def machine_label(record: dict) -> str:
    hardware = record["hardware"]
    label = f"{hardware['cpu_model']} ({hardware['cpu_count']} cores, {hardware['ram_total_gb']} GB RAM)"
    if hardware["gpu_models"]:
        label += " + " + ", ".join(hardware["gpu_models"])
    return label


def energy_missing_reasons(record: dict) -> list[str]:
    """Why CodeCarbon gave no energy for some run of this record; empty when it gave all."""
    return [f"{run['model']}: {run['energy_missing_reason']}" for run in record["runs"] if run.get("energy_missing_reason")]


def energy_is_estimated(record: dict) -> bool:
    """True when the compute energy came from a model rather than a hardware counter."""
    return not energy_missing_reasons(record) and not any(
        run["cpu_energy_measured"] or run["gpu_energy_measured"] for run in record["runs"])


def provenance_lines(record: dict) -> list[str]:
    config, versions = record["config"], record["versions"]
    run = record["runs"][0]
    lines = [
        f"profile {record['profile']}: {config['epochs']} epoch(s), batch {config['batch_size']}, "
        f"{config['train_images']:,} training images; measured {record['created_utc']}",
        f"machine: {machine_label(record)}",
        f"software: Keras {versions['keras']} ({versions['keras_backend']}), CodeCarbon {versions['codecarbon']}, "
        f"Python {versions['python']}; commit {record.get('git_commit') or 'unknown'}",
        f"grid: {run['country_name']} ({config['country_iso_code']}, {config['country_source']}), "
        f"{run['carbon_intensity_g_per_kwh']:.0f} g CO2eq/kWh ({run['grid_data_year']} data), PUE {config['pue']}",
        f"CPU energy {run['cpu_tracking_method']}; GPU {run['gpu_tracking_method']}; "
        f"RAM {run['ram_tracking_method']}",
    ]
    if energy_is_estimated(record):
        lines.append("WARNING: no hardware energy counter was read; energy and emissions are estimates.")
    for reason in energy_missing_reasons(record):
        lines.append(f"WARNING: energy and emissions were not measured ({reason}).")
    return lines


def format_report(record: dict) -> str:
    table = comparison_table(record)
    text = table.to_string(float_format=lambda value: f"{value:.4g}", na_rep="")
    return "\n".join(provenance_lines(record)) + "\n\n" + text


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
