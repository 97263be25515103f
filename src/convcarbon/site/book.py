"""What the book's chapters call: the record of this build, notes, tables and glue.

Chapters stay thin: one or two calls per cell. Which record a page shows is decided
in `shown` alone: the record measured (or reused) for this build, else the book's
reference record, as in a chapter run on its own in Colab, Binder or any folder,
which trains nothing until the reader calls `measure_this_machine()`.
"""

from __future__ import annotations

import sys

import pandas as pd
from IPython.display import Markdown
from pandas.io.formats.style import Styler

from convcarbon import units
from convcarbon.costs import images_text
from convcarbon.safe import OwnMarkdown, markdown_text
from convcarbon.training.analyze.analysis import (
    MODELS,
    idle_power_w,
    repeats,
    runs_of,
    separable_ratio_interval,
    summary,
)
from convcarbon.training.analyze.report import (
    energy_is_estimated,
    energy_missing_reasons,
    idle_line,
    machine_label,
    method_rows,
    power_assumption_text,
    quietness_phrase,
    ratio,
)
from convcarbon.training.analyze.stats import RatioInterval
from convcarbon.training.analyze.tables import RATIO_COLUMN, READINGS

from .glue_keys import chapter_glue_keys
from .shown import REFERENCE_PROFILE, current, of_reference_protocol, results_dir, show_in_this_kernel


def measure_this_machine(
    profile: str | None = None,
    repeats: int | None = None,
    idle_seconds: float | None = None,
    country: str | None = None,
    refresh: bool = False,
) -> dict:
    """Train both models on this machine (or reuse the stored result of the same work), one progress line
    per epoch in the notebook, and show that record in every cell run afterwards.

    `profile`: smoke (seconds), quick (minutes) or full (the original protocol: an hour or more;
    `seed` is its old name), default $CONVCARBON_PROFILE or full. MNIST is downloaded once unless
    CONVCARBON_MNIST names a copy.

    Used by: book/index.md, book/experiment.md (a chapter run on its own, in Colab or a reader's Jupyter).
    """
    from convcarbon.config import resolve_config
    from convcarbon.records.reuse import Training, measure_or_reuse

    config = resolve_config(profile, country, repeats=repeats, idle_duration_s=idle_seconds)
    measured = measure_or_reuse(Training(config), results_dir(), refresh=refresh, log=sys.stdout)
    show_in_this_kernel(measured.folder)
    return measured.record


def current_record() -> dict:
    """The record this page shows (`shown.current`): the one measured (or reused) for this build, else
    the book's reference record, marked `shown_as_reference`. Used by: every chapter with measurements."""
    return current().record


def all_records() -> list[dict]:
    """Every valid record in the local store and committed under book/records, oldest first.
    Used by: book/reproducibility.md."""
    return list(current().records)


def compared_records() -> list[dict]:
    """The record this page shows and the best record of every other machine and framework, grouped by
    hardware class (`shown.machine_records`). Used by: book/results.md."""
    return list(current().compared)


def skipped_note() -> Markdown | None:
    """The folders of results that the book does not show, each with the reason (an older record
    schema, damage, a record that fails validation); the `book` command has reported them in the
    terminal already. Folder names and reasons come from untrusted files: shown as inert text.

    None when there are none: a cell whose value is None shows nothing, where an empty
    Markdown would show its text form, `<IPython.core.display.Markdown object>`.
    Used by: book/reproducibility.md."""
    skipped = current().skipped
    if not skipped:
        return None
    lines = "\n".join(
        f"- {markdown_text(folder.parent.name + '/' + folder.name)}: {markdown_text(problem)}"
        for folder, problem in skipped
    )
    heading = f"Not shown: {len(skipped)} stored result(s) that this version cannot read or that fail validation."
    return displayed(OwnMarkdown(f"```{{note}}\n{heading}\n\n{lines}\n```"))


def run_of(record: dict, model: str) -> dict:
    """The first run of a model: for what all its runs share, such as how energy was tracked."""
    return runs_of(record, model)[0]


# glue name -> metric of `analysis.METRICS`: a ratio with its interval (and its reason when it has none).
RATIO_NUMBERS = {
    "duration_ratio_text": "duration",
    "later_epoch_ratio_text": "later epoch duration",
    "energy_ratio_text": "energy_consumed",
    "above_idle_ratio_text": "energy above idle",
    "emissions_ratio_text": "emissions",
    "emissions_rate_ratio_text": "emissions_rate",
    "throughput_ratio_text": "throughput",
    "multiplication_ratio": "multiplications",  # a ratio of counts: every resample agrees, so no interval shows
}
# glue name -> (model, metric of `analysis.METRICS`): a model's median over the repeats, in the metric's own unit.
MEDIAN_NUMBERS = {
    "conv2d_accuracy": ("Conv2D", "accuracy"),
    "separable_accuracy": ("SeparableConv2D", "accuracy"),
    "conv2d_energy_wh": ("Conv2D", "energy_consumed"),
    "separable_energy_wh": ("SeparableConv2D", "energy_consumed"),
    "conv2d_first_epoch_s": ("Conv2D", "first epoch duration"),
    "separable_first_epoch_s": ("SeparableConv2D", "first epoch duration"),
    "conv2d_later_epoch_s": ("Conv2D", "later epoch duration"),
    "separable_later_epoch_s": ("SeparableConv2D", "later epoch duration"),
    "conv2d_clean_up_s": ("Conv2D", "clean-up after the epochs"),
    "separable_clean_up_s": ("SeparableConv2D", "clean-up after the epochs"),
    "conv2d_throughput_g": ("Conv2D", "throughput"),
    "separable_throughput_g": ("SeparableConv2D", "throughput"),
}


def key_numbers(record: dict) -> dict[str, units.Amount | RatioInterval]:
    """The numbers the prose quotes, under literal names for `glue` (a grep for a name a chapter
    places finds it here; `glue_keys.CHAPTER_GLUE_KEYS` says which chapter places it): each a value with
    its unit (`units.Amount`), stored as the record stores it and read in the unit it calls for, or a
    ratio with its interval (`stats.RatioInterval`). A name's ending is only a name: `_wh` and `_g` are
    kept so that the chapters' keys stay as they were, and the unit comes from the value.

    A measurement that is missing (CodeCarbon failed) becomes NaN here, never zero.
    Used by: book/experiment.md, book/measuring.md, book/results.md, book/ethics.md.
    """
    standard, separable = MODELS
    numbers: dict[str, units.Amount | RatioInterval] = {
        "repeats": units.Amount(repeats(record), units.COUNT),
        "idle_power_w": units.Amount(idle_power_w(record), units.POWER_W),
        "carbon_intensity": units.Amount(
            run_of(record, standard)["carbon_intensity_g_per_kwh"], units.CARBON_INTENSITY_G_PER_KWH
        ),
    }
    for name, (model, metric) in MEDIAN_NUMBERS.items():
        numbers[name] = units.Amount(summary(record, model, metric).median, READINGS[metric].quantity)
    numbers.update({name: separable_ratio_interval(record, metric) for name, metric in RATIO_NUMBERS.items()})
    clean_ups_s = [run["clean_up_duration_s"] for run in record["runs"]]
    above_idle_kwh = sum(summary(record, model, "energy above idle").median for model in MODELS)
    both_kwh = sum(summary(record, model, "energy_consumed").median for model in MODELS)
    numbers.update(
        {
            "clean_up_min_s": units.Amount(min(clean_ups_s), units.DURATION_S),
            "clean_up_max_s": units.Amount(max(clean_ups_s), units.DURATION_S),
            "conv2d_warm_up_factor": units.Amount(warm_up_factor(record, standard), units.RATIO),
            "separable_warm_up_factor": units.Amount(warm_up_factor(record, separable), units.RATIO),
            "accuracy_gap_points": units.Amount(
                summary(record, standard, "accuracy").median - summary(record, separable, "accuracy").median,
                units.PERCENTAGE_POINTS,
            ),
            "idle_share": units.Amount(1 - ratio(above_idle_kwh, both_kwh), units.SHARE),
        }
    )
    return numbers


def warm_up_factor(record: dict, model: str) -> float:
    """How many times as long as a later epoch the first epoch took (medians over the repeats)."""
    return ratio(
        summary(record, model, "first epoch duration").median, summary(record, model, "later epoch duration").median
    )


def glue_numbers(numbers: dict, chapter: str | None = None) -> None:
    """Glue numbers as numbers, for {glue:text}`name:format`; with `chapter`, only the keys it declares
    (`glue_keys.CHAPTER_GLUE_KEYS`). A NumPy number is glued as the Python number it holds: glued as it is,
    the page would show its repr, `np.int64(150)`. Used by: book/costs.md, book/instructors.md."""
    import numpy as np
    from myst_nb import glue

    for name, value in _declared(numbers, chapter).items():
        glue(name, value.item() if isinstance(value, np.generic) else value, display=False)


def glue_texts(texts: dict[str, OwnMarkdown], chapter: str | None = None) -> None:
    """Glue each of the package's own texts (`prose.number_texts`, `anatomy.inference_texts`, ...), placed
    with {glue:md}`name`. With `chapter`, only the keys that chapter declares (`glue_keys.CHAPTER_GLUE_KEYS`):
    a producer may make more than one chapter places, and nothing is glued that its chapter does not place.
    Used by: every chapter with measurements."""
    for name, text in _declared(texts, chapter).items():
        glue_text(name, text)


def _declared(values: dict, chapter: str | None) -> dict:
    if chapter is None:
        return values
    keys = chapter_glue_keys(chapter)
    return {name: value for name, value in values.items() if name in keys}


def glue_text(name: str, text: OwnMarkdown) -> None:
    """Glue the package's own Markdown (`safe.OwnMarkdown`: record strings in it escaped), placed in the
    prose with {glue:md}`name`. A plain `str` is refused: a record's string goes through `glue_plain`.
    Used by: every chapter with measurements."""
    from myst_nb import glue

    glue(name, displayed(text), display=False)


def glue_plain(name: str, text) -> None:
    """Glue untrusted plain text (a machine's name, a tracking method) as inert Markdown, for {glue:md}`name`.
    Used by: book/measuring.md, book/results.md."""
    glue_text(name, markdown_text(text))


def displayed(text: OwnMarkdown) -> Markdown:
    """The package's own Markdown, for a cell to show or a glue to place; anything else is refused."""
    if not isinstance(text, OwnMarkdown):
        raise TypeError(
            f"only the package's own Markdown (safe.OwnMarkdown) is shown as Markdown, not {type(text).__name__}: "
            "escape a record's string with safe.markdown_text or glue it with glue_plain"
        )
    return Markdown(text)


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
        f"- Machine while training: {markdown_text(quietness_phrase(record))}",
        f"- Grid: {markdown_text(standard['country_name'])} ({config['country_iso_code']}, chosen by "
        f"{markdown_text(config['country_source'])}), "
        f"{units.CARBON_INTENSITY_G_PER_KWH.text(standard['carbon_intensity_g_per_kwh'])}, PUE {config['pue']}",
    ]
    from convcarbon.training.analyze.report import (
        mixed_power_assumptions,  # a record whose runs assumed different wattages
    )

    mixed = mixed_power_assumptions(record)
    lines += [f"- **Mixed assumptions:** {markdown_text(mixed)}; the energy ratio mixes them"] if mixed else []
    if estimated:
        lines += [
            "",
            "**Energy here is estimated, not measured:** this machine has no energy counter that "
            "CodeCarbon could read, so its figures come from a power model and an assumed wattage.",
        ]
    if not of_reference_protocol(record):
        lines += [
            "",
            f"**These numbers come from the `{record['profile']}` profile, not the original protocol "
            f"(`{REFERENCE_PROFILE}`: 25 epochs on all data).** "
            "Its numbers are smaller and noisier than the original's.",
        ]
    if missing:
        lines += [
            "",
            "**Energy and emissions were not measured in this build:** "
            + markdown_text("; ".join(missing), 1000)
            + ". They show as *not measured*; no number stands in for them.",
        ]
    kind = "danger" if missing else "warning" if estimated or not of_reference_protocol(record) else "note"
    body = "\n".join(lines)
    return displayed(OwnMarkdown(f"```{{admonition}} Where these numbers come from\n:class: {kind}\n\n{body}\n```"))


def headline_frame(record: dict) -> Styler:
    """The tutorial's six metrics: each model's median (range over the repeats) and the ratio (95% interval)."""
    from convcarbon.training.analyze.tables import HEADLINE_METRICS, comparison_frame, page_table

    return page_table(comparison_frame(record, HEADLINE_METRICS), corner=_corner(record))


def detail_frame(record: dict) -> Styler:
    """Every other metric (epochs, idle, CPU/GPU/RAM, throughput), then how each part's energy was obtained."""
    from convcarbon.training.analyze.tables import DETAIL_METRICS, comparison_frame, page_table

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
    from convcarbon.costs import format_shape, rows_by_model, total_multiplications, total_parameters
    from convcarbon.training.analyze.tables import page_table, without_repeats

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
    from convcarbon.reference import TUTORIAL_REPORTED
    from convcarbon.training.analyze.tables import READINGS, page_table, row_label

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
    from convcarbon.training.analyze.machines import energy_method
    from convcarbon.training.analyze.tables import PAGE_BREAK, page_table

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
    from convcarbon.config import PROFILES, resolve_config
    from convcarbon.costs import trained_images
    from convcarbon.training.analyze.tables import page_table

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
