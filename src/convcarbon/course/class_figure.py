"""The class atlas: every handed-in machine's crossover side by side, and what the instructors' page glues.

One row per atlas record, one panel per pass (training at the atlas's largest
batch, inference at batch 1, as `course.classtable.crossover_passes` chooses),
one marker per kernel size at the channel count from which on the separable
layer's median time is lower, with a bar over the interval in which the crossover
lies as far as the time ratios' intervals tell (`atlas.analyze.analysis.Crossover`); a
hollow marker where that interval is not resolved; a kernel where the separable
layer is never faster gets its marker at "never", right of the largest channel
count measured. Every label that comes from a record or a
folder name goes through `safe.figure_text`.

Used by: book/instructors.md
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from convcarbon.atlas.measure.grid import PASSES
from convcarbon.atlas.measure.store import scan_atlas_records
from convcarbon.atlas.publish.figures import PLAIN_NUMBER, record_label
from convcarbon.safe import figure_text
from convcarbon.site.figures import finished_figure

from . import classtable

KERNEL_MARKERS = {3: "o", 5: "s", 7: "^"}
KERNEL_COLOURS = {3: "#1b9e77", 5: "#d95f02", 7: "#7570b3"}
OTHER_KERNEL = ("D", "#666666")
PANEL_TITLES = {"training": "training, largest batch", "inference": "inference, batch 1"}
ROW_SPREAD = 0.22  # kernels of one machine drawn just above and below its row, so that equal crossovers stay apart


def class_crossover_figure(atlases: list[tuple[str, dict]]):
    """Each (name, atlas record)'s crossovers, one row per atlas, training and inference side by side."""
    if not atlases:
        return _no_atlas_figure()
    never_at = 2 * max(_largest_channels(atlas) for _, atlas in atlases)
    figure, axes_row = plt.subplots(1, len(PASSES), figsize=(8, 1.6 + 0.75 * len(atlases)), sharey=True)
    kernels_seen = set()
    for axes, pass_name in zip(axes_row, reversed(PASSES)):  # training first: the pass a class trains with
        for row, (_, atlas) in enumerate(atlases):
            batch = classtable.crossover_passes(atlas)[pass_name]
            frame = classtable.crossovers(atlas)
            found = frame[(frame["pass"] == pass_name) & (frame["batch"] == batch)].sort_values("kernel")
            offsets = np.linspace(-ROW_SPREAD, ROW_SPREAD, len(found)) if len(found) > 1 else [0.0]
            for offset, point in zip(offsets, found.itertuples(index=False)):
                kernel = int(point.kernel)
                marker, colour = (
                    (KERNEL_MARKERS[kernel], KERNEL_COLOURS[kernel]) if kernel in KERNEL_MARKERS else OTHER_KERNEL
                )
                channels = (
                    never_at
                    if point.crossover_channels is None or np.isnan(point.crossover_channels)
                    else point.crossover_channels
                )
                interval = point.crossover
                if interval.kind == "between":
                    axes.hlines(row + offset, interval.low_channels, interval.high_channels, color=colour, linewidth=2)
                resolved = interval.kind != "not resolved"
                axes.scatter(
                    channels,
                    row + offset,
                    marker=marker,
                    facecolors=colour if resolved else "none",
                    edgecolors=colour,
                    s=46,
                    label=f"{kernel}x{kernel} kernel" if kernel not in kernels_seen else None,
                )
                kernels_seen.add(kernel)
        axes.axvline(never_at / np.sqrt(2), color="grey", linewidth=0.8, linestyle=":")
        axes.set_xscale("log", base=2)
        axes.xaxis.set_major_formatter(PLAIN_NUMBER)
        ticks = [tick for tick in (8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096) if tick < never_at / 1.5]
        axes.set_xticks([*ticks, never_at], [*(str(tick) for tick in ticks), "never"], fontsize="small")
        axes.set_title(PANEL_TITLES[pass_name], fontsize="medium")
        axes.grid(True, axis="x", alpha=0.3)
    labels = [
        textwrap.shorten(figure_text(name), 34, placeholder=" ...")
        + "\n"
        + textwrap.fill(record_label(atlas), 34, max_lines=3, placeholder=" ...")
        for name, atlas in atlases
    ]
    axes_row[0].set_yticks(np.arange(len(atlases)), labels, fontsize="x-small")
    axes_row[0].set_ylim(len(atlases) - 0.5, -0.5)
    figure.supxlabel(
        "channels (in = out) from which on the separable layer is faster (bar: interval; hollow: not resolved)",
        fontsize="small",
    )
    handles, names = axes_row[0].get_legend_handles_labels()
    figure.legend(handles, names, loc="upper center", ncol=4, fontsize="small", frameon=False)
    figure.tight_layout(rect=(0, 0, 1, 0.93))
    plt.close(figure)
    return figure


def _largest_channels(atlas: dict) -> int:
    return max(pair[0] for pair in atlas["config"]["channel_levels"])


def _no_atlas_figure():
    """Drawn in place of the class figure when no valid atlas was handed in: no marker stands in for one."""
    figure, axes = plt.subplots(figsize=(6, 1.5))
    axes.axis("off")
    axes.text(0.5, 0.5, "No valid atlas record to show", ha="center", va="center", fontsize="large")
    return finished_figure(figure)


def committed_atlases(records_dir: Path) -> list[tuple[str, dict]]:
    """(folder name, record) of every valid atlas among the book's records (book/records/atlas-*), read as
    `collect` reads them; an invalid one is left out."""
    atlases, _ = scan_atlas_records(records_dir)
    return [(Path(atlas["path"]).name, atlas) for atlas in atlases]


def glue_class_atlas(records_dir: Path) -> None:
    """Glue the class figure of the committed atlases (`class_crossover_figure`) and their count
    (`class_atlas_count`) under the literal keys book/instructors.md places."""
    from myst_nb import glue

    atlases = committed_atlases(records_dir)
    glue("class_crossover_figure", class_crossover_figure(atlases), display=False)
    glue("class_atlas_count", len(atlases), display=False)
