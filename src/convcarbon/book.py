"""What the book's chapters call: the record of this build, notes, tables and glue.

Chapters stay thin: one or two calls per cell. `python -m convcarbon book`
measures (or reuses) first and names the record in CONVCARBON_RECORD; a
chapter executed without it runs or reuses the experiment itself.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pandas as pd
from IPython.display import Markdown

from .errors import ConvCarbonError
from .report import (
    RATIO_COLUMN,
    comparison_table,
    energy_is_estimated,
    energy_missing_reasons,
    machine_label,
    ratio,
)
from .store import ResultStore, read_record


def repository_root(start: Path | None = None) -> Path:
    """The folder holding the book's _config.yml, found from the working directory upwards."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_config.yml").exists() and (folder / "_toc.yml").exists():
            return folder
    raise ConvCarbonError(f"no convcarbon book (_config.yml) above {here}")


def results_dir() -> Path:
    return Path(os.environ.get("CONVCARBON_RESULTS") or repository_root() / "results")


def current_record() -> dict:
    """The record this build shows: named by the book command, else measured or reused now."""
    named = os.environ.get("CONVCARBON_RECORD")
    if named:
        record, problem = read_record(Path(named))
        if problem:
            raise ConvCarbonError(f"the record named by CONVCARBON_RECORD ({named}) is unusable: {problem}")
        return record
    from .config import resolve_config
    from .data import resolve_mnist_path
    from .experiment import run_experiment

    record, _ = run_experiment(resolve_config(), ResultStore(results_dir()), resolve_mnist_path(None))
    return record


def all_records() -> list[dict]:
    """Every valid record in the store, from every machine."""
    return ResultStore(results_dir()).records()


def run_of(record: dict, model: str) -> dict:
    return next(run for run in record["runs"] if run["model"] == model)


def key_numbers(record: dict) -> dict:
    """The measured numbers the prose quotes, under stable names for `glue`.

    A measurement that is missing (CodeCarbon failed) becomes NaN here, never zero.
    """
    standard, separable = run_of(record, "Conv2D"), run_of(record, "SeparableConv2D")
    numbers = {"epochs": record["config"]["epochs"], "train_images": record["config"]["train_images"],
               "carbon_intensity": standard["carbon_intensity_g_per_kwh"]}
    for name, run in (("conv2d", standard), ("separable", separable)):
        numbers.update({
            f"{name}_accuracy": run["test_accuracy"],
            f"{name}_loss": run["test_loss"],
            f"{name}_duration_s": run["duration_s"],
            f"{name}_energy_wh": _thousand_times(run["energy_consumed_kwh"]),
            f"{name}_cpu_energy_wh": _thousand_times(run["cpu_energy_kwh"]),
            f"{name}_ram_energy_wh": _thousand_times(run["ram_energy_kwh"]),
            f"{name}_emissions_g": _thousand_times(run["emissions_kg"]),
            f"{name}_multiplications": run["multiplications_per_image"],
        })
    both_ram_wh = numbers["conv2d_ram_energy_wh"] + numbers["separable_ram_energy_wh"]
    both_wh = numbers["conv2d_energy_wh"] + numbers["separable_energy_wh"]
    numbers.update({
        "duration_ratio": ratio(separable["duration_s"], standard["duration_s"]),
        "energy_ratio": ratio(separable["energy_consumed_kwh"], standard["energy_consumed_kwh"]),
        "emissions_ratio": ratio(separable["emissions_kg"], standard["emissions_kg"]),
        "emissions_rate_ratio": ratio(separable["emissions_rate_kg_per_s"], standard["emissions_rate_kg_per_s"]),
        "multiplication_ratio": ratio(separable["multiplications_per_image"], standard["multiplications_per_image"]),
        "accuracy_gap_points": (standard["test_accuracy"] - separable["test_accuracy"]) * 100,
        "ram_share": ratio(both_ram_wh, both_wh),
    })
    return numbers


def _thousand_times(value):
    return float("nan") if value is None else value * 1000


def glue_numbers(numbers: dict) -> None:
    from myst_nb import glue

    for name, value in numbers.items():
        glue(name, value, display=False)


def glue_text(name: str, text: str) -> None:
    """Glue a sentence, to be placed in the prose with {glue:md}`name`."""
    from myst_nb import glue

    glue(name, Markdown(text), display=False)


def provenance_note(record: dict) -> Markdown:
    """The visible note on every page that shows measurements."""
    config, versions, standard = record["config"], record["versions"], run_of(record, "Conv2D")
    estimated, missing = energy_is_estimated(record), energy_missing_reasons(record)
    lines = [
        f"These numbers were measured when this book was built: profile **{record['profile']}** "
        f"({config['epochs']} epoch(s), batch {config['batch_size']}, {config['train_images']:,} training images), "
        f"on **{machine_label(record)}**, on {record['created_utc'][:10]}, with Keras {versions['keras']} "
        f"({versions['keras_backend']} backend) and CodeCarbon {versions['codecarbon']}.",
        "",
        f"- CPU energy: {standard['cpu_tracking_method']}",
        f"- GPU energy: {standard['gpu_tracking_method']}",
        f"- RAM energy: {standard['ram_tracking_method']}",
        f"- Grid: {standard['country_name']} ({config['country_iso_code']}, chosen by {config['country_source']}), "
        f"{standard['carbon_intensity_g_per_kwh']:.0f} g CO2eq/kWh, PUE {config['pue']}",
    ]
    if estimated:
        lines += ["", "**Energy here is estimated, not measured:** this machine has no energy counter that "
                  "CodeCarbon could read, so its figures come from a power model and an assumed wattage."]
    if record["profile"] != "seed":
        lines += ["", f"**This build used the `{record['profile']}` profile, not the original protocol "
                  "(`seed`: 25 epochs on all data).** Its numbers are smaller and noisier than the original's."]
    if missing:
        lines += ["", "**Energy and emissions were not measured in this build:** "
                  + "; ".join(missing) + ". They show as *not measured*; no number stands in for them."]
    kind = "danger" if missing else "warning" if estimated or record["profile"] != "seed" else "note"
    body = "\n".join(lines)
    return Markdown(f"```{{admonition}} Where these numbers come from\n:class: {kind}\n\n{body}\n```")


def comparison_frame(record: dict) -> pd.DataFrame:
    """The comparison table formatted for the page: numbers to four significant digits."""
    table = comparison_table(record)

    def cell(value):
        if isinstance(value, float):
            return "" if pd.isna(value) else f"{value:.4g}"
        return "" if value is None else str(value)

    return table.apply(lambda column: column.map(cell))


def costs_frame(rows) -> pd.DataFrame:
    """A per-layer cost table (from `convcarbon.costs`) with a total row for each model."""
    from .costs import format_shape, rows_by_model, total_multiplications, total_parameters

    table = []
    for model, model_rows in rows_by_model(rows).items():
        table += [{"model": model, "layer": row.layer, "part": row.part,
                   "input": format_shape(row.input_shape, "×"), "output": format_shape(row.output_shape, "×"),
                   "parameters": f"{row.parameters:,}", "multiplications": f"{row.multiplications:,}"}
                  for row in model_rows]
        table.append({"model": model, "layer": "total", "part": "", "input": "", "output": "",
                      "parameters": f"{total_parameters(model_rows):,}",
                      "multiplications": f"{total_multiplications(model_rows):,}"})
    return pd.DataFrame(table).set_index(["model", "layer"])


def paper_against_measured(numbers: dict) -> str:
    """One sentence comparing the saving on paper with the saving measured in this build."""
    paper, energy, duration = numbers["multiplication_ratio"], numbers["energy_ratio"], numbers["duration_ratio"]
    if math.isnan(energy):
        return (f"The separable model needs {paper:.0%} of the standard model's multiplications and took "
                f"{duration:.0%} of its training time; its energy was not measured in this build, "
                "so the energy saving cannot be compared.")
    if energy >= 1:
        verdict = "on this machine the separable model saved no energy at all"
    elif energy - paper > 0.25:
        verdict = "the measured saving is much smaller than the saving on paper"
    elif energy - paper > 0.05:
        verdict = "the measured saving is smaller than the saving on paper"
    else:
        verdict = "the measured saving is about as large as the saving on paper"
    return (f"The separable model needs {paper:.0%} of the standard model's multiplications, "
            f"but took {duration:.0%} of its training time and {energy:.0%} of its energy: {verdict}.")


def energy_sentence(numbers: dict) -> str:
    """The time and energy of the separable model relative to the standard one."""
    time_part = f"It trained in {numbers['duration_ratio']:.2f} times the time of the standard model"
    if math.isnan(numbers["energy_ratio"]):
        return time_part + "; its energy was not measured in this build."
    return (f"{time_part} and used {numbers['energy_ratio']:.2f} times its energy: "
            f"{numbers['separable_energy_wh']:.3g} Wh against {numbers['conv2d_energy_wh']:.3g} Wh.")


def rate_sentence(numbers: dict) -> str:
    if math.isnan(numbers["emissions_rate_ratio"]):
        return "The emissions *rate* (emissions per second) was not measured in this build."
    return (f"The emissions *rate* (emissions per second) of the separable model is "
            f"{numbers['emissions_rate_ratio']:.2f} times the standard model's.")


def energy_status_phrase(record: dict) -> str:
    """How this build's compute energy was obtained, in a few words."""
    if energy_missing_reasons(record):
        return "**not measured at all**: CodeCarbon failed (see the note above)"
    if energy_is_estimated(record):
        return "**estimated** from a power model, not measured"
    return "**measured** by a hardware counter"


def ram_share_sentence(numbers: dict) -> str:
    if math.isnan(numbers["ram_share"]):
        return "The RAM share of the energy cannot be given: the energy was not measured in this build."
    return f"RAM accounts for {numbers['ram_share']:.0%} of the energy reported for both models together."


def trade_off_sentence(numbers: dict) -> str:
    """The accuracy and emissions difference of this build, in words that follow their signs."""
    mistakes = numbers["accuracy_gap_points"] * 100  # per 10,000 test images
    saved_g = numbers["conv2d_emissions_g"] - numbers["separable_emissions_g"]
    accuracy = (f"about {abs(mistakes):.0f} {'more' if mistakes > 0 else 'fewer'} mistakes on the 10,000 test images "
                f"than the standard model")
    if math.isnan(saved_g):
        return f"the separable model made {accuracy}; the emissions of its training were not measured."
    emissions = f"{abs(saved_g):.3g} g CO2eq {'less' if saved_g > 0 else 'more'}"
    return f"the separable model made {accuracy}, and its training emitted {emissions}."


def tutorial_comparison_frame(record: dict) -> pd.DataFrame:
    """The tutorial's published values next to this build's, with the ratio of each."""
    from .reference import TUTORIAL_REPORTED

    table = comparison_table(record)
    rows = []
    for metric, (tutorial_standard, tutorial_separable) in TUTORIAL_REPORTED.items():
        rows.append({
            "metric": metric,
            "unit": table.loc[metric, "unit"],
            "tutorial Conv2D": f"{tutorial_standard:.4g}",
            "tutorial SeparableConv2D": f"{tutorial_separable:.4g}",
            "tutorial ratio": f"{tutorial_separable / tutorial_standard:.3f}",
            "this build Conv2D": _four_digits(table.loc[metric, "Conv2D"]),
            "this build SeparableConv2D": _four_digits(table.loc[metric, "SeparableConv2D"]),
            "this build ratio": "" if pd.isna(table.loc[metric, RATIO_COLUMN]) else f"{table.loc[metric, RATIO_COLUMN]:.3f}",
        })
    return pd.DataFrame(rows).set_index("metric")


def _four_digits(value) -> str:
    return value if isinstance(value, str) else f"{value:.4g}"  # a string is "not measured"


def provenance_frame(records: list[dict], shown: dict) -> pd.DataFrame:
    """One row per stored record: where, when, with what, and how its energy was obtained."""
    rows = []
    for record in records:
        run, versions = record["runs"][0], record["versions"]
        rows.append({
            "fingerprint": record["fingerprint"][:12],
            "shown here": "yes" if record["fingerprint"] == shown["fingerprint"] else "",
            "profile": record["profile"],
            "machine": machine_label(record),
            "software": f"Keras {versions['keras']} ({versions['keras_backend']}), CodeCarbon {versions['codecarbon']}",
            "CPU energy": run["cpu_tracking_method"],
            "GPU energy": run["gpu_tracking_method"],
            "grid": record["config"]["country_iso_code"],
            "measured (UTC)": record["created_utc"][:16].replace("T", " "),
            "commit": (record.get("git_commit") or "unknown")[:10] + (" (modified)" if record.get("git_dirty") else ""),
        })
    return pd.DataFrame(rows).set_index("fingerprint")
