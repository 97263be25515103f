"""The book's figures. Each function returns a matplotlib Figure; chapters only display them."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .costs import book_model_costs, separable_ratio
from .grid import carbon_intensity_g_per_kwh, country_name

COLOURS = {"Conv2D": "#1f77b4", "SeparableConv2D": "#d95f02"}
# Grids from low to high carbon intensity, to show what the same energy emits elsewhere.
COMPARISON_COUNTRIES = ("SWE", "FRA", "BRA", "CAN", "GBR", "USA", "DEU", "CHN", "IND", "ZAF")


def ratio_figure(kernel_sizes=(3, 5, 7), max_filters=512):
    """Multiplications of a depthwise separable layer relative to a standard one: 1/N + 1/K^2."""
    filters = np.arange(1, max_filters + 1)
    figure, axes = plt.subplots(figsize=(7, 4))
    for kernel_size in kernel_sizes:
        axes.plot(filters, [separable_ratio(n, kernel_size) for n in filters],
                  label=f"{kernel_size}x{kernel_size} kernel (floor 1/{kernel_size**2} = {1 / kernel_size**2:.3f})")
    axes.set_xscale("log", base=2)
    axes.set_ylim(0, 1.05)
    axes.set_xlabel("output filters N (log scale)")
    axes.set_ylabel("separable / standard multiplications")
    axes.grid(True, alpha=0.3)
    axes.legend()
    return _finished(figure)


def layer_multiplications_figure():
    """Multiplications per image, layer by layer, of both book models."""
    figure, axes = plt.subplots(figsize=(7, 4))
    layers = ["conv_1", "conv_2", "dense_1", "dense_2"]
    positions = np.arange(len(layers))
    for offset, (architecture, model) in zip((-0.2, 0.2), (("conv2d", "Conv2D"), ("separable", "SeparableConv2D"))):
        totals = dict.fromkeys(layers, 0)
        for row in book_model_costs(architecture):
            totals[row.layer] += row.multiplications
        axes.bar(positions + offset, [totals[layer] for layer in layers], width=0.4, label=model, color=COLOURS[model])
    axes.set_xticks(positions, layers)
    axes.set_ylabel("multiplications per image")
    axes.ticklabel_format(axis="y", style="sci", scilimits=(6, 6))
    axes.legend()
    axes.grid(True, axis="y", alpha=0.3)
    return _finished(figure)


def training_curves_figure(record: dict):
    """Validation accuracy and loss per epoch for both models."""
    figure, (accuracy_axes, loss_axes) = plt.subplots(1, 2, figsize=(9, 3.6))
    for run in record["runs"]:
        history = run["history"]
        epochs = np.arange(1, len(history["loss"]) + 1)
        colour = COLOURS[run["model"]]
        accuracy_axes.plot(epochs, history["val_accuracy"], marker="o", color=colour, label=f"{run['model']} validation")
        accuracy_axes.plot(epochs, history["accuracy"], linestyle="--", color=colour, alpha=0.6, label=f"{run['model']} training")
        loss_axes.plot(epochs, history["val_loss"], marker="o", color=colour, label=f"{run['model']} validation")
        loss_axes.plot(epochs, history["loss"], linestyle="--", color=colour, alpha=0.6, label=f"{run['model']} training")
    for axes, name in ((accuracy_axes, "accuracy"), (loss_axes, "cross-entropy loss")):
        axes.set_xlabel("epoch")
        axes.set_ylabel(name)
        axes.grid(True, alpha=0.3)
        axes.xaxis.get_major_locator().set_params(integer=True)
    accuracy_axes.legend(fontsize="small")
    return _finished(figure)


def energy_accuracy_figure(record: dict):
    """Energy consumed against test accuracy: the trade-off in one picture."""
    if _energy_missing(record):
        return _not_measured_figure()
    figure, axes = plt.subplots(figsize=(6, 4))
    for run in record["runs"]:
        energy_wh = run["energy_consumed_kwh"] * 1000
        axes.scatter(energy_wh, run["test_accuracy"], s=120, color=COLOURS[run["model"]], label=run["model"])
        axes.annotate(f"  {run['model']}", (energy_wh, run["test_accuracy"]))
    axes.set_xlabel("energy consumed in training (Wh)")
    axes.set_ylabel("test accuracy")
    axes.grid(True, alpha=0.3)
    axes.margins(0.3)
    return _finished(figure)


def energy_split_figure(record: dict):
    """CPU, GPU and RAM energy of each model, stacked."""
    if _energy_missing(record):
        return _not_measured_figure()
    figure, axes = plt.subplots(figsize=(6, 3.6))
    models = [run["model"] for run in record["runs"]]
    bottom = np.zeros(len(models))
    for part, colour in (("cpu", "#4c72b0"), ("gpu", "#55a868"), ("ram", "#c44e52")):
        values = np.array([run[f"{part}_energy_kwh"] * 1000 for run in record["runs"]])
        axes.bar(models, values, bottom=bottom, label=part.upper(), color=colour)
        bottom += values
    axes.set_ylabel("energy (Wh)")
    axes.legend()
    axes.grid(True, axis="y", alpha=0.3)
    return _finished(figure)


def grid_emissions_figure(record: dict, countries=COMPARISON_COUNTRIES):
    """What this build's energy (PUE already included) would emit on other grids (CodeCarbon's data)."""
    if _energy_missing(record):
        return _not_measured_figure()
    figure, axes = plt.subplots(figsize=(8, 4))
    positions = np.arange(len(countries))
    for offset, run in zip((-0.2, 0.2), record["runs"]):
        grams = [run["energy_consumed_kwh"] * carbon_intensity_g_per_kwh(code) for code in countries]
        axes.bar(positions + offset, grams, width=0.4, label=run["model"], color=COLOURS[run["model"]])
    axes.set_xticks(positions, [f"{country_name(code)}\n{carbon_intensity_g_per_kwh(code):.0f} g/kWh" for code in countries],
                    fontsize="x-small")
    axes.set_ylabel("g CO2eq for this build's training")
    axes.legend()
    axes.grid(True, axis="y", alpha=0.3)
    return _finished(figure)


def _energy_missing(record: dict) -> bool:
    return any(run["energy_consumed_kwh"] is None for run in record["runs"])


def _not_measured_figure():
    """Drawn in place of an energy figure when CodeCarbon gave no energy: no bar stands in for it."""
    figure, axes = plt.subplots(figsize=(6, 1.5))
    axes.axis("off")
    axes.text(0.5, 0.5, "Energy was not measured in this build\n(see the note at the top of the page)",
              ha="center", va="center", fontsize="large")
    return _finished(figure)


def _finished(figure):
    """Lay out and detach from pyplot, so a notebook shows the returned figure exactly once."""
    figure.tight_layout()
    plt.close(figure)
    return figure
