"""The atlas chapter's figures: heat maps of the time ratio beside the multiplication ratio, and the roofline.

Each figure is narrow and tall enough to read at phone width; every label that
comes from a record goes through `safe.figure_text`.

Used by: book/atlas.md
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.ticker import FuncFormatter, NullFormatter

from convcarbon import units
from convcarbon.atlas.analyze import analysis
from convcarbon.atlas.measure.checks import drawn_ceilings
from convcarbon.atlas.measure.grid import PASSES
from convcarbon.safe import figure_text
from convcarbon.site.figures import COLOURS, finished_figure
from convcarbon.training.analyze.report import machine_label

MARKERS = {"Conv2D": "o", "SeparableConv2D": "^"}
RATIO_LIMITS = (0.1, 10.0)  # the colour scale: ten times faster to ten times slower, 1 (no change) in the middle
RATIO_TICKS = (0.1, 0.25, 0.5, 1, 2, 4, 10)
# Log-axis ticks as plain numbers (0.1, 1, 10, 1,000), never 10^3.
PLAIN_NUMBER = FuncFormatter(lambda value, _: f"{value:g}" if value < 1000 else units.number(value))
FONT = 12  # the figures are drawn about 5.6 inches wide: this stays readable when a phone shrinks them


def record_label(record: dict) -> str:
    """CPU (and GPUs), Keras backend and profile of an untrusted record, safe for a matplotlib label."""
    return figure_text(machine_label(record, short=True, backend=True, profile=True))


def ceilings_label(record: dict) -> str:
    """Which ceilings the roofline draws (`atlas_checks.drawn_ceilings`), wrapped, safe for a matplotlib label."""
    return "\n".join(textwrap.wrap(figure_text(f"ceilings: {drawn_ceilings(record)[0]}", 400), 72))


def heat_map_figure(record: dict, batch: int):
    """At one batch: the ratio of multiplications, then the measured time ratio of each pass, over
    channels x kernel size. Below 1 (blue) the separable layer is cheaper; above 1 (red) dearer. A time ratio whose
    interval straddles 1 is written in italics: the measurement does not say which layer is faster there."""
    panels = [("multiplications", None)] + [(f"time, {pass_name}", pass_name) for pass_name in PASSES]
    figure, axes_row = plt.subplots(1, len(panels), figsize=(5.6, 5.6), sharey=True)
    norm = LogNorm(*RATIO_LIMITS)
    image = None
    for axes, (title, pass_name) in zip(axes_row, panels):
        channels, kernels, values, straddling = analysis.heat_map_values(
            record, batch, "inference" if pass_name is None else pass_name
        )
        if pass_name is None:
            values = analysis.mac_ratio_values(channels, kernels)
            straddling = np.zeros(values.shape, bool)  # a ratio of counts has no interval
        image = axes.imshow(np.clip(values, *RATIO_LIMITS), cmap="RdBu_r", norm=norm, aspect="auto", origin="lower")
        for row, column in np.ndindex(values.shape):
            if not np.isnan(values[row, column]):
                dark = abs(np.log10(np.clip(values[row, column], *RATIO_LIMITS))) > 0.55
                axes.text(
                    column,
                    row,
                    units.ratio(values[row, column]),
                    ha="center",
                    va="center",
                    fontsize=FONT,
                    fontstyle="italic" if straddling[row, column] else "normal",
                    color="white" if dark else "black",
                )
        axes.set_xticks(range(len(kernels)), [str(k) for k in kernels], fontsize=FONT - 1)
        axes.set_yticks(range(len(channels)), [str(c) for c in channels], fontsize=FONT - 1)
        axes.set_title(title, fontsize=FONT)
        axes.set_xlabel("kernel", fontsize=FONT - 1)
    axes_row[0].set_ylabel("channels (in = out)", fontsize=FONT)
    colour_bar = figure.colorbar(image, ax=list(axes_row), orientation="horizontal", fraction=0.06, pad=0.16)
    colour_bar.set_ticks(RATIO_TICKS, labels=[f"{tick:g}" for tick in RATIO_TICKS], fontsize=FONT - 1)
    colour_bar.ax.xaxis.set_minor_formatter(NullFormatter())
    colour_bar.set_label(
        "separable / standard (below 1: the separable layer is cheaper;\nitalics: the interval straddles 1)",
        fontsize=FONT - 1,
    )
    figure.suptitle(f"batch {batch}", fontsize=FONT + 1)
    figure.subplots_adjust(left=0.16, right=0.98, top=0.88, bottom=0.32, wspace=0.08)
    plt.close(figure)
    return figure


def roofline_figure(record: dict):
    """Achieved multiply-accumulates per second (the work of the pass as it ran) against arithmetic intensity, under
    the ceilings the checks use (`atlas_checks.drawn_ceilings`, named in the title), one panel per pass; the book's
    own two layers are ringed and named."""
    frame = analysis.points_frame(record)
    _, peak, bandwidth = drawn_ceilings(record)
    figure, axes_column = plt.subplots(len(PASSES), 1, figsize=(5.6, 8.4), sharex=True, sharey=True)
    low = min(frame["intensity_macs_per_byte"].min(), peak / bandwidth) / 2
    high = max(frame["intensity_macs_per_byte"].max(), peak / bandwidth) * 2
    intensities = np.geomspace(low, high, 200)
    for axes, pass_name in zip(axes_column, PASSES):
        axes.plot(intensities, np.minimum(peak, bandwidth * intensities) / 1e9, color="black", linewidth=1.5)
        axes.axhline(peak / 1e9, color="black", linestyle=":", linewidth=1)
        axes.text(low * 1.1, peak / 1e9 * 1.12, "matrix-product ceiling", fontsize=FONT - 2)
        axes.text(low * 1.1, bandwidth * low * 1.1 * 1.5 / 1e9, "copy\nceiling", fontsize=FONT - 2, va="bottom")
        part = frame[frame["pass"] == pass_name]
        for layer in ("Conv2D", "SeparableConv2D"):
            points = part[(part["layer"] == layer) & part["book_layer"].isna()]
            axes.scatter(
                points["intensity_macs_per_byte"],
                points["achieved_macs_per_s"] / 1e9,
                marker=MARKERS[layer],
                color=COLOURS[layer],
                alpha=0.6,
                s=22,
                label=layer,
            )
            book = part[(part["layer"] == layer) & part["book_layer"].notna()]
            axes.scatter(
                book["intensity_macs_per_byte"],
                book["achieved_macs_per_s"] / 1e9,
                marker=MARKERS[layer],
                facecolor="none",
                edgecolor="black",
                linewidth=1.6,
                s=110,
            )
            for row in book.to_dict("records"):
                axes.annotate(
                    f"book {row['book_layer']}",
                    (row["intensity_macs_per_byte"], row["achieved_macs_per_s"] / 1e9),
                    xytext=(6, -12 if layer == "SeparableConv2D" else 6),
                    textcoords="offset points",
                    fontsize=FONT - 2,
                )
        axes.set_xscale("log")
        axes.set_yscale("log")
        for axis in (axes.xaxis, axes.yaxis):
            axis.set_major_formatter(PLAIN_NUMBER)
            axis.set_minor_formatter(NullFormatter())
        axes.set_title(f"{pass_name} pass", fontsize=FONT)
        axes.set_ylabel("achieved billion MACs/s", fontsize=FONT - 1)
        axes.tick_params(labelsize=FONT - 2)
        axes.grid(True, which="major", alpha=0.3)
    axes_column[0].legend(loc="lower right", fontsize=FONT - 2)
    axes_column[-1].set_xlabel("arithmetic intensity (MACs per byte)", fontsize=FONT - 1)
    figure.suptitle(f"{record_label(record)}\n{ceilings_label(record)}", fontsize=FONT - 3)
    return finished_figure(figure)
