"""What the book's chapters call: the record of this build, notes, tables and glue.

Chapters stay thin: one or two calls per cell. A build measures (or reuses)
first and names the record in CONVCARBON_RECORD (see `convcarbon.sphinx_results`).
A chapter executed without it, as a notebook inside a clone or on its own in
Colab, Binder or any folder, shows the book's reference record and trains
nothing until the reader calls `measure()`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd
from IPython.display import Markdown
from pandas.io.formats.style import Styler

from .. import units
from ..analyze.analysis import MODELS, idle_power_w, repeats, runs_of, separable_ratio_interval, summary
from ..analyze.report import (
    energy_is_estimated,
    energy_missing_reasons,
    idle_line,
    machine_label,
    method_rows,
    power_assumption_text,
    ratio,
)
from ..analyze.tables import RATIO_COLUMN
from ..costs import images_text
from ..errors import ConvCarbonError
from ..measure.store import read_record
from ..safe import markdown_text
from .shown import reference_record


def repository_root(start: Path | None = None) -> Path:
    """The folder holding the book's _config.yml, found from the working directory upwards."""
    root = _book_root(start)
    if root is None:
        raise ConvCarbonError(f"no convcarbon book (_config.yml) above {(start or Path.cwd()).resolve()}")
    return root


def _book_root(start: Path | None = None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_config.yml").exists() and (folder / "_toc.yml").exists():
            return folder
    return None


def results_dir() -> Path:
    """CONVCARBON_RESULTS, else `results/` in the book's folder, or in the working folder outside a book."""
    return Path(os.environ.get("CONVCARBON_RESULTS") or (_book_root() or Path.cwd()) / "results")


def committed_records_dir() -> Path:
    """The book's `book/records/`; outside a book, the copy installed with the package (pyproject.toml
    maps `book/records` to `convcarbon/reference_records`), else, from a source checkout, its `book/records`."""
    from ..analyze.machines import COMMITTED_RECORDS

    root = _book_root()
    if root is not None:
        return root / COMMITTED_RECORDS
    package = Path(__file__).resolve().parents[1]
    for folder in (package / "reference_records", package.parents[1] / COMMITTED_RECORDS):
        if folder.is_dir():
            return folder
    raise ConvCarbonError(
        "this installation of convcarbon lacks the book's reference records (convcarbon/reference_records)"
    )


def measure(
    profile: str | None = None,
    repeats: int | None = None,
    idle_seconds: float | None = None,
    country: str | None = None,
    refresh: bool = False,
) -> dict:
    """Train both models on this machine (or reuse the stored result of the same work), one progress line
    per epoch in the notebook, and show that record in every cell run afterwards.

    `profile`: smoke (seconds), quick (minutes) or seed (the original protocol: an hour or more),
    default $CONVCARBON_PROFILE or seed. MNIST is downloaded once unless CONVCARBON_MNIST names a copy.
    """
    from ..config import resolve_config
    from ..data import resolve_mnist_path
    from ..measure.experiment import run_experiment
    from ..measure.store import ResultStore

    store = ResultStore(results_dir())
    config = resolve_config(profile, country, repeats=repeats, idle_duration_s=idle_seconds)
    record, _ = run_experiment(config, store, resolve_mnist_path(None), refresh=refresh, log=sys.stdout)
    os.environ["CONVCARBON_RECORD"] = str(store.folder(record["profile"], record["fingerprint"]).resolve())
    return record


def current_record() -> dict:
    """The record this page shows: the one measured (or reused) for it, named in CONVCARBON_RECORD;
    else the book's reference record (`shown.reference_record`), marked `shown_as_reference`."""
    named = os.environ.get("CONVCARBON_RECORD")
    if not named:
        return {**reference_record(all_records()), "shown_as_reference": True}
    record, problem = read_record(Path(named))
    if problem:
        raise ConvCarbonError(f"the record named by CONVCARBON_RECORD ({named}) is unusable: {problem}")
    return record


def all_records() -> list[dict]:
    """Every valid record in the local store and committed under book/records, oldest first."""
    return _book_records()[0]


def skipped_note() -> Markdown | None:
    """The folders of results that the book does not show, each with the reason (an older record
    schema, damage, a record that fails validation); the `book` command has reported them in the
    terminal already. Folder names and reasons come from untrusted files: shown as inert text.

    None when there are none: a cell whose value is None shows nothing, where an empty
    Markdown would show its text form, `<IPython.core.display.Markdown object>`."""
    skipped = _book_records()[1]
    if not skipped:
        return None
    lines = "\n".join(
        f"- {markdown_text(folder.parent.name + '/' + folder.name)}: {markdown_text(problem)}"
        for folder, problem in skipped
    )
    heading = f"Not shown: {len(skipped)} stored result(s) that this version cannot read or that fail validation."
    return Markdown(f"```{{note}}\n{heading}\n\n{lines}\n```")


def _book_records() -> tuple[list[dict], list[tuple[Path, str]]]:
    """Silent: a chapter must not write to stderr, and the `book` command has reported what is skipped."""
    from ..analyze.machines import book_records

    return book_records(results_dir(), committed_records_dir())


def compared_records(shown: dict) -> list[dict]:
    """The record this build shows and the best record of every other machine and framework, grouped by
    hardware class (`machines.machine_records`)."""
    from ..analyze.machines import machine_records

    return machine_records(shown, all_records())


def run_of(record: dict, model: str) -> dict:
    """The first run of a model: for what all its runs share, such as how energy was tracked."""
    return runs_of(record, model)[0]


# glue name -> metric of `analysis.METRICS`, for the ratios the prose quotes with their intervals.
RATIO_NUMBERS = {
    "duration": "duration",
    "later_epoch": "later epoch duration",
    "energy": "energy_consumed",
    "above_idle": "energy above idle",
    "emissions": "emissions",
    "emissions_rate": "emissions_rate",
    "throughput": "throughput",
    "multiplication": "multiplications",
    "accuracy": "accuracy",
}


def key_numbers(record: dict) -> dict:
    """The numbers the prose quotes, under stable names for `glue`: medians over the repeats,
    and each ratio with the two ends of its interval (`<name>_ratio_low`, `<name>_ratio_high`).

    A measurement that is missing (CodeCarbon failed) becomes NaN here, never zero.
    """
    standard = run_of(record, "Conv2D")
    numbers = {
        "epochs": record["config"]["epochs"],
        "train_images": record["config"]["train_images"],
        "repeats": repeats(record),
        "idle_power_w": idle_power_w(record),
        "carbon_intensity": standard["carbon_intensity_g_per_kwh"],
    }
    for name, model in (("conv2d", "Conv2D"), ("separable", "SeparableConv2D")):

        def median(metric, scale=1.0, model=model):
            return summary(record, model, metric).median * scale

        numbers.update(
            {
                f"{name}_accuracy": median("accuracy"),
                f"{name}_loss": median("loss"),
                f"{name}_duration_s": median("duration"),
                f"{name}_first_epoch_s": median("first epoch duration"),
                f"{name}_later_epoch_s": median("later epoch duration"),
                f"{name}_clean_up_s": median("clean-up after the epochs"),
                f"{name}_energy_wh": median("energy_consumed", 1000),
                f"{name}_above_idle_wh": median("energy above idle", 1000),
                f"{name}_cpu_energy_wh": median("cpu_energy", 1000),
                f"{name}_ram_energy_wh": median("ram_energy", 1000),
                f"{name}_emissions_g": median("emissions", 1000),
                f"{name}_throughput_g": median("throughput", 1e-9),
                f"{name}_multiplications": median("multiplications"),
            }
        )
    for name, metric in RATIO_NUMBERS.items():
        interval = separable_ratio_interval(record, metric)
        numbers.update(
            {f"{name}_ratio": interval.ratio, f"{name}_ratio_low": interval.low, f"{name}_ratio_high": interval.high}
        )
    clean_ups_s = [run["clean_up_duration_s"] for run in record["runs"]]
    numbers.update({"clean_up_min_s": min(clean_ups_s), "clean_up_max_s": max(clean_ups_s)})
    both_wh = numbers["conv2d_energy_wh"] + numbers["separable_energy_wh"]
    numbers.update(
        {
            "accuracy_gap_points": (numbers["conv2d_accuracy"] - numbers["separable_accuracy"]) * 100,
            "ram_share": ratio(numbers["conv2d_ram_energy_wh"] + numbers["separable_ram_energy_wh"], both_wh),
            "idle_share": 1 - ratio(numbers["conv2d_above_idle_wh"] + numbers["separable_above_idle_wh"], both_wh),
        }
    )
    return numbers


def glue_numbers(numbers: dict) -> None:
    from myst_nb import glue

    for name, value in numbers.items():
        glue(name, value, display=False)


def glue_texts(texts: dict[str, str]) -> None:
    """Glue numbers already written for reading (`prose.number_texts`), each placed with {glue:md}`name`."""
    for name, text in texts.items():
        glue_text(name, text)


def glue_text(name: str, text: str) -> None:
    """Glue a sentence of this package's own Markdown (record strings in it already escaped),
    to be placed in the prose with {glue:md}`name`."""
    from myst_nb import glue

    glue(name, Markdown(text), display=False)


def glue_plain(name: str, text: str) -> None:
    """Glue untrusted plain text (a machine's name, say) as inert Markdown, for {glue:md}`name`."""
    glue_text(name, markdown_text(text))


def provenance_note(record: dict) -> Markdown:
    """The visible note on every page that shows measurements."""
    config, versions, standard = record["config"], record["versions"], run_of(record, "Conv2D")
    estimated, missing = energy_is_estimated(record), energy_missing_reasons(record)
    origin = (
        "These numbers come from the reference record of this book, stored, not measured for this page "
        "(where the text says *this build*, it means this record)"
        if record.get("shown_as_reference")
        else "These numbers were measured when this page was built"
    )
    lines = [
        f"{origin}: profile **{record['profile']}** "
        f"({config['epochs']} epoch(s), batch {config['batch_size']}, "
        f"{images_text(config['train_images'], config['validation_split'])}, "
        f"each model trained {repeats(record)} time(s) in interleaved order; {markdown_text(idle_line(record))}), "
        f"on **{markdown_text(machine_label(record))}**, on {record['created_utc'][:10]}, with Keras "
        f"{markdown_text(versions['keras'])} ({markdown_text(versions['keras_backend'])} backend) and CodeCarbon "
        f"{markdown_text(versions['codecarbon'])}.",
        "",
        f"- CPU energy: {markdown_text(standard['cpu_tracking_method'])}",
        f"- CPU power assumed: {markdown_text(power_assumption_text(record))}",
        f"- GPU energy: {markdown_text(standard['gpu_tracking_method'])}",
        f"- RAM energy: {markdown_text(standard['ram_tracking_method'])}",
        f"- Grid: {markdown_text(standard['country_name'])} ({config['country_iso_code']}, chosen by "
        f"{markdown_text(config['country_source'])}), "
        f"{standard['carbon_intensity_g_per_kwh']:.0f} g CO2eq/kWh, PUE {config['pue']}",
    ]
    from ..analyze.report import mixed_power_assumptions  # a record whose runs assumed different wattages

    mixed = mixed_power_assumptions(record)
    lines += [f"- **Mixed assumptions:** {markdown_text(mixed)}; the energy ratio mixes them"] if mixed else []
    if estimated:
        lines += [
            "",
            "**Energy here is estimated, not measured:** this machine has no energy counter that "
            "CodeCarbon could read, so its figures come from a power model and an assumed wattage.",
        ]
    if record["profile"] != "seed":
        lines += [
            "",
            f"**These numbers come from the `{record['profile']}` profile, not the original protocol "
            "(`seed`: 25 epochs on all data).** Its numbers are smaller and noisier than the original's.",
        ]
    if missing:
        lines += [
            "",
            "**Energy and emissions were not measured in this build:** "
            + markdown_text("; ".join(missing), 1000)
            + ". They show as *not measured*; no number stands in for them.",
        ]
    kind = "danger" if missing else "warning" if estimated or record["profile"] != "seed" else "note"
    body = "\n".join(lines)
    return Markdown(f"```{{admonition}} Where these numbers come from\n:class: {kind}\n\n{body}\n```")


def headline_frame(record: dict) -> Styler:
    """The tutorial's six metrics: each model's median (range over the repeats) and the ratio (95% interval)."""
    from ..analyze.tables import HEADLINE_METRICS, comparison_frame, page_table

    return page_table(comparison_frame(record, HEADLINE_METRICS), corner=_corner(record))


def detail_frame(record: dict) -> Styler:
    """Every other metric (epochs, idle, CPU/GPU/RAM, throughput), then how each part's energy was obtained."""
    from ..analyze.tables import DETAIL_METRICS, comparison_frame, page_table

    frame = comparison_frame(record, DETAIL_METRICS)
    for row in method_rows(record):
        frame.loc[f"{row['metric'].removesuffix('_tracking_method').upper()} energy obtained by"] = {
            **{model: row[model] for model in MODELS},
            RATIO_COLUMN: "",
        }
    return page_table(frame, corner=_corner(record))


def _corner(record: dict) -> str:
    return f"median of {repeats(record)} runs (lowest–highest)"


def costs_frame(rows) -> Styler:
    """A per-layer cost table (from `convcarbon.costs`) with a total row for each model; counts are exact."""
    from ..analyze.tables import page_table, without_repeats
    from ..costs import format_shape, rows_by_model, total_multiplications, total_parameters

    table = []
    for model, model_rows in rows_by_model(rows).items():
        table += [
            {
                "model": model,
                "layer": row.layer,
                "part": row.part,
                "input": format_shape(row.input_shape, "×"),
                "output": format_shape(row.output_shape, "×"),
                "parameters": f"{row.parameters:,}",
                "multiplications": f"{row.multiplications:,}",
            }
            for row in model_rows
        ]
        table.append(
            {
                "model": model,
                "layer": "total",
                "part": "",
                "input": "",
                "output": "",
                "parameters": f"{total_parameters(model_rows):,}",
                "multiplications": f"{total_multiplications(model_rows):,}",
            }
        )
    frame = pd.DataFrame(table)
    frame["model"] = without_repeats(frame["model"])
    return page_table(frame)


def tutorial_comparison_frame(record: dict) -> Styler:
    """The tutorial's published values next to this build's medians, with the ratio of each, in the
    same unit per row."""
    from ..analyze.tables import READINGS, page_table, row_label
    from ..reference import TUTORIAL_REPORTED

    rows = {}
    for name, (tutorial_standard, tutorial_separable) in TUTORIAL_REPORTED.items():
        quantity = READINGS[name].quantity
        medians = [summary(record, model, name).median for model in MODELS]
        scale = quantity.scale_for([tutorial_standard, tutorial_separable, *medians])
        rows[row_label(READINGS[name], scale)] = {
            "tutorial Conv2D": quantity.number(tutorial_standard, scale),
            "tutorial Separable": quantity.number(tutorial_separable, scale),
            "tutorial ratio": units.ratio(tutorial_separable / tutorial_standard),
            "this build Conv2D": quantity.number(medians[0], scale),
            "this build Separable": quantity.number(medians[1], scale),
            "this build ratio": units.ratio(separable_ratio_interval(record, name).ratio),
        }
    return page_table(pd.DataFrame.from_dict(rows, orient="index"), corner="metric (unit)")


def provenance_frame(records: list[dict], shown: dict) -> Styler:
    """One row per stored record: where, when, with what, and how its energy was obtained."""
    from ..analyze.machines import energy_method
    from ..analyze.tables import PAGE_BREAK, page_table

    rows = []
    for record in records:
        versions = record["versions"]
        shown_here = record["fingerprint"] == shown["fingerprint"]
        rows.append(
            {
                "fingerprint": record["fingerprint"][:12] + (f"{PAGE_BREAK}(shown here)" if shown_here else ""),
                "profile": record["profile"],
                "machine": machine_label(record),
                "software": f"Keras {versions['keras']} ({versions['keras_backend']}), "
                f"CodeCarbon {versions['codecarbon']}",
                "energy obtained by": energy_method(record),
                "grid": record["config"]["country_iso_code"],
                "measured (UTC)": record["created_utc"][:16].replace("T", " "),
                "commit": (record.get("git_commit") or "unknown")[:10]
                + (" (modified)" if record.get("git_dirty") else ""),
            }
        )
    return page_table(pd.DataFrame(rows).set_index("fingerprint"))


def profiles_frame() -> Styler:
    """What each profile trains (config.PROFILES): the work a measurement's duration grows with."""
    from ..analyze.tables import page_table
    from ..config import PROFILES, resolve_config
    from ..costs import trained_images

    rows = []
    for name in PROFILES:
        config = resolve_config(name, environ={})
        images = trained_images(config.train_images, config.validation_split)
        epochs = len(MODELS) * config.repeats * config.epochs
        rows.append(
            {
                "profile": name,
                "images per epoch": f"{images:,}",
                "epochs per run": config.epochs,
                "runs per model": config.repeats,
                "epochs in all": epochs,
                "images trained in all": f"{epochs * images:,}",
                "machine at rest first (s)": f"{config.idle_duration_s:g}",
            }
        )
    return page_table(pd.DataFrame(rows).set_index("profile"))
