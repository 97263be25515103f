"""The book's figures. Each function returns a matplotlib Figure; chapters only display them."""

from __future__ import annotations

import math
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import ScalarFormatter

from convcarbon import units
from convcarbon.costs import book_model_costs, separable_ratio
from convcarbon.grid import carbon_intensity_g_per_kwh, country_name
from convcarbon.safe import figure_text
from convcarbon.training.analyze.analysis import MODELS, runs_of, separable_ratio_interval, summary
from convcarbon.training.analyze.report import machine_label

COLOURS = {"Conv2D": "#1f77b4", "SeparableConv2D": "#d95f02"}
RATIO_COLOURS = {"time": "#1b9e77", "energy": "#7570b3", "energy above idle": "#e7298a"}
# Grids from low to high carbon intensity, to show what the same energy emits elsewhere.
COMPARISON_COUNTRIES = ("SWE", "FRA", "BRA", "CAN", "GBR", "USA", "DEU", "CHN", "IND", "ZAF")


def ratio_figure(kernel_sizes=(3, 5, 7), max_filters=512):
    """Multiplications of a depthwise separable layer relative to a standard one: 1/N + 1/K^2."""
    filters = np.arange(1, max_filters + 1)
    figure, axes = plt.subplots(figsize=(7, 4))
    for kernel_size in kernel_sizes:
        axes.plot(
            filters,
            [separable_ratio(n, kernel_size) for n in filters],
            label=f"{kernel_size}x{kernel_size} kernel (floor 1/{kernel_size**2} = {1 / kernel_size**2:.3f})",
        )
    axes.set_xscale("log", base=2)
    axes.set_ylim(0, 1.05)
    axes.set_xlabel("output filters N (log scale)")
    axes.set_ylabel("separable / standard multiplications")
    axes.grid(True, alpha=0.3)
    axes.legend()
    return finished_figure(figure)


def layer_multiplications_figure():
    """Multiplications per image, layer by layer, of both book models."""
    figure, axes = plt.subplots(figsize=(7, 4))
    layers = ["conv_1", "conv_2", "dense_1", "dense_2"]
    positions = np.arange(len(layers))
    for offset, (architecture, model) in zip((-0.2, 0.2), (("conv2d", "Conv2D"), ("separable", "SeparableConv2D"))):
        totals = dict.fromkeys(layers, 0)
        for row in book_model_costs(architecture):
            totals[row.layer] += row.multiplications
        axes.bar(
            positions + offset, [totals[layer] / 1e6 for layer in layers], width=0.4, label=model, color=COLOURS[model]
        )
    axes.set_xticks(positions, layers)
    axes.set_ylabel("multiplications per image (millions)")
    axes.legend()
    axes.grid(True, axis="y", alpha=0.3)
    return finished_figure(figure)


def training_curves_figure(record: dict):
    """Validation and training accuracy per epoch of every run, one line per run."""
    figure, (accuracy_axes, loss_axes) = plt.subplots(1, 2, figsize=(9, 3.6))
    for run in record["runs"]:
        history = run["history"]
        epochs = np.arange(1, len(history["loss"]) + 1)
        colour, first = COLOURS[run["model"]], run["repeat"] == 0
        for axes, metric in ((accuracy_axes, "accuracy"), (loss_axes, "loss")):
            axes.plot(
                epochs,
                history[f"val_{metric}"],
                marker="o",
                color=colour,
                alpha=0.8,
                label=f"{run['model']} validation" if first else None,
            )
            axes.plot(
                epochs,
                history[metric],
                linestyle="--",
                color=colour,
                alpha=0.5,
                label=f"{run['model']} training" if first else None,
            )
    for axes, name in ((accuracy_axes, "accuracy"), (loss_axes, "cross-entropy loss")):
        axes.set_xlabel("epoch")
        axes.set_ylabel(name)
        axes.grid(True, alpha=0.3)
        axes.xaxis.get_major_locator().set_params(integer=True)
    accuracy_axes.legend(fontsize="small")
    return finished_figure(figure)


def epochs_figure(record: dict):
    """Time and energy of every epoch of every run: the first epoch carries the warm-up."""
    energy_known = not _energy_missing(record) and all(None not in run["epoch_energy_kwh"] for run in record["runs"])
    figure, axes_pair = plt.subplots(
        1, 2 if energy_known else 1, figsize=(9 if energy_known else 5, 3.6), squeeze=False
    )
    panels = [("epoch_duration_s", units.DURATION_S, "time per epoch")]
    if energy_known:
        panels.append(("epoch_energy_kwh", units.ENERGY_KWH, "energy per epoch"))
    for axes, (field, quantity, label) in zip(axes_pair[0], panels):
        scale = quantity.scale_for(value for run in record["runs"] for value in run[field])
        label = f"{label} ({scale.symbol})"
        for run in record["runs"]:
            values = np.array(run[field], dtype=float) / scale.size
            axes.plot(
                np.arange(1, len(values) + 1),
                values,
                marker="o",
                color=COLOURS[run["model"]],
                alpha=0.7,
                label=run["model"] if run["repeat"] == 0 else None,
            )
        axes.set_xlabel("epoch")
        axes.set_ylabel(label)
        axes.set_ylim(bottom=0)
        axes.grid(True, alpha=0.3)
        axes.xaxis.get_major_locator().set_params(integer=True)
    axes_pair[0][0].legend(fontsize="small")
    return finished_figure(figure)


def energy_accuracy_figure(record: dict):
    """Energy against test accuracy: every run as a dot, each model's median with its range as bars."""
    if _energy_missing(record):
        return _not_measured_figure()
    figure, axes = plt.subplots(figsize=(6, 4))
    scale = units.ENERGY_KWH.scale_for(run["energy_consumed_kwh"] for run in record["runs"])
    percent = 100
    for model in MODELS:
        energy = summary(record, model, "energy_consumed")
        accuracy = summary(record, model, "accuracy")
        runs = runs_of(record, model)
        axes.scatter(
            [run["energy_consumed_kwh"] / scale.size for run in runs],
            [run["test_accuracy"] * percent for run in runs],
            s=25,
            alpha=0.5,
            color=COLOURS[model],
        )
        axes.errorbar(
            energy.median / scale.size,
            accuracy.median * percent,
            xerr=[[(energy.median - energy.low) / scale.size], [(energy.high - energy.median) / scale.size]],
            yerr=[[(accuracy.median - accuracy.low) * percent], [(accuracy.high - accuracy.median) * percent]],
            fmt="s",
            markersize=9,
            capsize=4,
            color=COLOURS[model],
            label=f"{model} (median and range)",
        )
    axes.set_xlabel(f"energy consumed in training ({scale.symbol})")
    axes.set_ylabel("test accuracy (%)")
    axes.grid(True, alpha=0.3)
    axes.margins(0.3)
    axes.legend(fontsize="small")
    return finished_figure(figure)


def energy_split_figure(record: dict):
    """CPU, GPU and RAM energy of each model, stacked (medians over the repeats)."""
    if _energy_missing(record):
        return _not_measured_figure()
    figure, axes = plt.subplots(figsize=(6, 3.6))
    bottom = np.zeros(len(MODELS))
    scale = units.ENERGY_KWH.scale_for(summary(record, model, "energy_consumed").median for model in MODELS)
    for part, colour in (("cpu", "#4c72b0"), ("gpu", "#55a868"), ("ram", "#c44e52")):
        values = np.array([summary(record, model, f"{part}_energy").median / scale.size for model in MODELS])
        axes.bar(MODELS, values, bottom=bottom, label=part.upper(), color=colour)
        bottom += values
    axes.set_ylabel(f"energy ({scale.symbol}, median of the repeats)")
    axes.legend()
    axes.grid(True, axis="y", alpha=0.3)
    return finished_figure(figure)


def grid_emissions_figure(record: dict, countries=COMPARISON_COUNTRIES):
    """What this build's median energy (PUE already included) would emit on other grids (CodeCarbon's data)."""
    if _energy_missing(record):
        return _not_measured_figure()
    figure, axes = plt.subplots(figsize=(8, 4))
    positions = np.arange(len(countries))
    emissions_kg = {
        model: [
            summary(record, model, "energy_consumed").median * carbon_intensity_g_per_kwh(code) / 1000
            for code in countries
        ]
        for model in MODELS
    }
    scale = units.EMISSIONS_KG.scale_for(value for values in emissions_kg.values() for value in values)
    for offset, model in zip((-0.2, 0.2), MODELS):
        axes.bar(
            positions + offset,
            [value / scale.size for value in emissions_kg[model]],
            width=0.4,
            label=model,
            color=COLOURS[model],
        )
    axes.set_xticks(
        positions,
        [
            f"{country_name(code)}\n{units.CARBON_INTENSITY_G_PER_KWH.text(carbon_intensity_g_per_kwh(code))}"
            for code in countries
        ],
        fontsize="x-small",
    )
    axes.set_ylabel(f"{scale.symbol} per training run (median)")
    axes.legend()
    axes.grid(True, axis="y", alpha=0.3)
    return finished_figure(figure)


# (metric, label) of the ratios drawn per machine, with their intervals.
RATIO_METRICS = (("duration", "time"), ("energy_consumed", "energy"), ("energy above idle", "energy above idle"))


def ratio_intervals_figure(records: list[dict]):
    """Separable / standard per machine: time, energy and energy above idle with 95% intervals,
    against the ratio of multiplications (dashed) and no change (1, solid)."""
    figure, axes = plt.subplots(figsize=(8, 1.2 + 1.1 * len(records)))
    labels = []
    for row, record in enumerate(records):
        for offset, (metric, label) in zip((-0.25, 0, 0.25), RATIO_METRICS):
            interval = separable_ratio_interval(record, metric)
            if math.isnan(interval.ratio):
                continue
            error = (
                [[interval.ratio - interval.low], [interval.high - interval.ratio]] if interval.has_interval else None
            )
            axes.errorbar(
                interval.ratio,
                row + offset,
                xerr=error,
                fmt="o",
                capsize=4,
                color=RATIO_COLOURS[label],
                label=label if row == 0 else None,
            )
        labels.append(
            textwrap.fill(
                figure_text(machine_label(record, short=True, backend=True, profile=True)),
                34,
                max_lines=4,
                placeholder=" ...",
            )
        )
    multiplications = separable_ratio_interval(records[0], "multiplications").ratio
    axes.axvline(
        multiplications, linestyle="--", color="grey", label=f"multiplications ({units.ratio(multiplications)})"
    )
    axes.axvline(1.0, color="black", linewidth=0.8)
    axes.set_yticks(np.arange(len(records)), labels, fontsize="x-small")
    axes.set_ylim(len(records) - 0.5, -0.5)
    axes.set_xlabel("separable / standard (median ratio, 95% bootstrap interval)")
    axes.grid(True, axis="x", alpha=0.3)
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return finished_figure(figure)


def _energy_missing(record: dict) -> bool:
    return any(run["energy_consumed_kwh"] is None for run in record["runs"])


def _not_measured_figure():
    """Drawn in place of an energy figure when CodeCarbon gave no energy: no bar stands in for it."""
    figure, axes = plt.subplots(figsize=(6, 1.5))
    axes.axis("off")
    axes.text(
        0.5,
        0.5,
        "Energy was not measured in this build\n(see the note at the top of the page)",
        ha="center",
        va="center",
        fontsize="large",
    )
    return finished_figure(figure)


def finished_figure(figure):
    """Lay out and detach from pyplot, so a notebook shows the returned figure exactly once.

    Linear axes never show scientific notation or an offset such as "1e-5" or "+9.8e-1": every
    figure's values are already in a unit scaled to them. Used by every figure of the book (here, in
    `atlas_figures` and in `anatomy`)."""
    for axes in figure.axes:
        for axis in (axes.xaxis, axes.yaxis):
            formatter = axis.get_major_formatter()
            if isinstance(formatter, ScalarFormatter):
                formatter.set_scientific(False)
                formatter.set_useOffset(False)
    figure.tight_layout()
    plt.close(figure)
    return figure
