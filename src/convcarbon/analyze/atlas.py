"""What an atlas record says: rates, arithmetic intensity, time ratios, the crossovers, and a fitted roofline model.

The training pass is counted as three forward passes, for both the work and the
bytes (the backward pass computes the gradients of the inputs and of the weights,
each about one forward pass: `costs.BACKWARD_TO_FORWARD_MULTIPLICATIONS`).

The model: time = efficiency x max(MACs / peak rate, bytes / bandwidth) + a fixed
cost per call, with the two ceilings measured on the machine and the efficiency
and the fixed cost fitted per layer kind and pass, by least squares on the
relative error.

Used by: book/atlas.md
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..costs import BACKWARD_TO_FORWARD_MULTIPLICATIONS, separable_ratio
from ..measure.atlas_grid import LAYERS, PASSES

WORK_FACTOR = {"inference": 1, "training": 1 + BACKWARD_TO_FORWARD_MULTIPLICATIONS}
SHAPE_COLUMNS = ["channels_in", "channels_out", "kernel", "height", "width", "padding", "batch", "book_layer", "pass"]
NEVER = "never"


def points_frame(record: dict) -> pd.DataFrame:
    """One row per point and layer, with the work of the pass, the achieved rate and the arithmetic intensity."""
    frame = pd.DataFrame(record["points"])
    factor = frame["pass"].map(WORK_FACTOR)
    frame["work_macs"] = frame["macs"] * factor
    frame["work_bytes"] = frame["bytes"] * factor
    frame["achieved_macs_per_s"] = frame["work_macs"] / frame["median_s"]
    frame["intensity_macs_per_byte"] = frame["macs"] / frame["bytes"]
    ceilings = record["ceilings"]
    frame["roofline_s"] = np.maximum(
        frame["work_macs"] / ceilings["matmul_macs_per_s"], frame["work_bytes"] / ceilings["copy_bytes_per_s"]
    )
    return frame


def pairs_frame(record: dict) -> pd.DataFrame:
    """One row per shape and pass: both layers' times, the time ratio (separable / standard) with the ratio of
    the ranges' ends, the ratio of multiplications, and the energy ratio where a counter was read."""
    frame = points_frame(record).fillna({"book_layer": ""})
    standard = frame[frame["layer"] == "Conv2D"].set_index(SHAPE_COLUMNS)
    separable = frame[frame["layer"] == "SeparableConv2D"].set_index(SHAPE_COLUMNS)
    pairs = pd.DataFrame(index=standard.index)
    pairs["standard_s"] = standard["median_s"]
    pairs["separable_s"] = separable["median_s"]
    pairs["time_ratio"] = separable["median_s"] / standard["median_s"]
    pairs["time_ratio_low"] = separable["low_s"] / standard["high_s"]
    pairs["time_ratio_high"] = separable["high_s"] / standard["low_s"]
    pairs["mac_ratio"] = separable["macs"] / standard["macs"]
    pairs["energy_ratio"] = separable["energy_j"] / standard["energy_j"]
    pairs["standard_macs"] = standard["macs"]
    return pairs.reset_index()


def crossover(channels: list[int], time_ratios: list[float]) -> int | None:
    """The smallest channel count from which on the separable layer is faster (time ratio below 1)
    at every larger channel count measured; None when it is not faster at the largest."""
    ordered = sorted(zip(channels, time_ratios))
    found = None
    for count, ratio in reversed(ordered):
        if not ratio < 1:
            break
        found = count
    return found


def crossover_frame(record: dict) -> pd.DataFrame:
    """One row per kernel size, batch and pass of the grid (the book's own layers left out): the crossover,
    and whether the separable layer was faster anywhere below it (where the measurements are mixed)."""
    pairs = pairs_frame(record)
    grid = pairs[pairs["book_layer"] == ""]
    rows = []
    for (kernel, batch, pass_name), group in grid.groupby(["kernel", "batch", "pass"]):
        group = group.sort_values("channels_in")
        found = crossover(list(group["channels_in"]), list(group["time_ratio"]))
        below = group[group["channels_in"] < (found if found is not None else math.inf)]
        rows.append(
            {
                "kernel": int(kernel),
                "batch": int(batch),
                "pass": pass_name,
                "crossover_channels": found,
                "faster_below": bool((below["time_ratio"] < 1).any()),
                "smallest_ratio": float(group["time_ratio"].min()),
                "largest_channels": int(group["channels_in"].max()),
            }
        )
    order = {name: index for index, name in enumerate(PASSES)}
    return (
        pd.DataFrame(rows)
        .sort_values(
            ["pass", "batch", "kernel"], key=lambda column: column.map(order) if column.name == "pass" else column
        )
        .reset_index(drop=True)
    )


def heat_map_values(record: dict, batch: int, pass_name: str) -> tuple[list[int], list[int], np.ndarray]:
    """(channel counts, kernels, time ratios as a channels x kernels array; NaN where not measured)."""
    pairs = pairs_frame(record)
    grid = pairs[(pairs["book_layer"] == "") & (pairs["batch"] == batch) & (pairs["pass"] == pass_name)]
    channels, kernels = sorted(grid["channels_in"].unique()), sorted(grid["kernel"].unique())
    values = np.full((len(channels), len(kernels)), np.nan)
    for row in grid.itertuples():
        values[channels.index(row.channels_in), kernels.index(row.kernel)] = row.time_ratio
    return [int(c) for c in channels], [int(k) for k in kernels], values


def mac_ratio_values(channels: list[int], kernels: list[int]) -> np.ndarray:
    """1/N + 1/K^2 for every channel count N and kernel K: the ratio of multiplications."""
    return np.array([[separable_ratio(n, k) for k in kernels] for n in channels])


@dataclass(frozen=True)
class ModelFit:
    """The fitted roofline model of one layer kind and pass, and how well it predicts the measured times."""

    layer: str
    pass_name: str
    efficiency: float  # the fraction of the roofline's rate the layer reaches (1 / slowdown)
    fixed_s: float  # fixed cost per call
    median_error: float  # median of |predicted - measured| / measured
    worst_error: float
    points: int

    def predict_s(self, roofline_s) -> np.ndarray:
        return np.asarray(roofline_s) / self.efficiency + self.fixed_s


def fit_time_model(roofline_s: np.ndarray, measured_s: np.ndarray) -> tuple[float, float]:
    """(slowdown, fixed_s) >= 0 minimising the squared relative error of slowdown x roofline + fixed."""
    roofline_s, measured_s = np.asarray(roofline_s, float), np.asarray(measured_s, float)
    if len(roofline_s) < 2:
        raise ValueError("fitting the time model needs at least two points")
    design = np.column_stack([roofline_s / measured_s, 1 / measured_s])
    target = np.ones(len(measured_s))

    def loss(slowdown: float, fixed: float) -> float:
        return float(np.sum((design @ [slowdown, fixed] - target) ** 2))

    (slowdown, fixed), *_ = np.linalg.lstsq(design, target, rcond=None)
    if slowdown > 0 and fixed >= 0:
        return float(slowdown), float(fixed)
    # On the boundary: either no fixed cost, or the roofline term as small as it may be.
    only_slowdown = float(design[:, 0] @ target / (design[:, 0] @ design[:, 0]))
    only_fixed = float(design[:, 1] @ target / (design[:, 1] @ design[:, 1]))
    candidates = [(max(only_slowdown, 1e-9), 0.0), (1e-9, max(only_fixed, 0.0))]
    return min(candidates, key=lambda pair: loss(*pair))


def model_fits(record: dict) -> list[ModelFit]:
    """The fit of each layer kind and pass over every point of the record."""
    frame = points_frame(record)
    fits = []
    for layer in LAYERS:
        for pass_name in PASSES:
            group = frame[(frame["layer"] == layer) & (frame["pass"] == pass_name)]
            if len(group) < 2:
                continue
            slowdown, fixed_s = fit_time_model(group["roofline_s"], group["median_s"])
            predicted = group["roofline_s"] * slowdown + fixed_s
            errors = (predicted - group["median_s"]).abs() / group["median_s"]
            fits.append(
                ModelFit(
                    layer, pass_name, 1 / slowdown, fixed_s, float(errors.median()), float(errors.max()), len(group)
                )
            )
    return fits


def model_crossover_frame(record: dict) -> pd.DataFrame:
    """The crossover the fitted model predicts for each kernel, batch and pass, beside the measured one."""
    fits = {(fit.layer, fit.pass_name): fit for fit in model_fits(record)}
    frame = points_frame(record)
    grid = frame[frame["book_layer"].isna()]
    rows = []
    for (kernel, batch, pass_name), group in grid.groupby(["kernel", "batch", "pass"]):
        standard = group[group["layer"] == "Conv2D"].sort_values("channels_in")
        separable = group[group["layer"] == "SeparableConv2D"].sort_values("channels_in")
        separable_s = fits[("SeparableConv2D", pass_name)].predict_s(separable["roofline_s"].to_numpy())
        predicted_ratio = separable_s / fits[("Conv2D", pass_name)].predict_s(standard["roofline_s"].to_numpy())
        rows.append(
            {
                "kernel": int(kernel),
                "batch": int(batch),
                "pass": pass_name,
                "predicted_crossover_channels": crossover(list(standard["channels_in"]), list(predicted_ratio)),
            }
        )
    return pd.DataFrame(rows)


def book_layer_frame(record: dict) -> pd.DataFrame:
    """The book's own two convolution layers: time ratio and multiplication ratio per pass."""
    pairs = pairs_frame(record)
    return pairs[pairs["book_layer"] != ""].reset_index(drop=True)


JSON_FIELDS = (
    "layer",
    "channels_in",
    "channels_out",
    "kernel",
    "height",
    "width",
    "padding",
    "batch",
    "pass",
    "macs",
    "bytes",
    "median_s",
    "low_s",
    "high_s",
)


def json_points(record: dict) -> list[dict]:
    """What `atlas --json` prints: one object per point and layer, with exactly these fields."""
    return [{field: point[field] for field in JSON_FIELDS} for point in record["points"]]


def crossover_text(channels: float | None) -> str:
    """'64 channels', or 'never' (None or NaN, as a table column of whole numbers holds a missing one)."""
    if channels is None or math.isnan(channels):
        return NEVER
    return f"{int(channels)} channels"


def format_atlas(record: dict) -> str:
    """The atlas for a terminal: machine, ceilings, every pair's times and ratios, the crossovers, the model."""
    from .. import units
    from ..safe import terminal_text

    hardware, ceilings = record["hardware"], record["ceilings"]
    measured_energy = record["energy"]["method"] == "counter"  # never an estimate: none is made
    lines = [
        f"atlas ({terminal_text(record['profile'])}) on {terminal_text(hardware['cpu_model'])}, "
        f"{hardware['cpu_count']} logical CPUs, Keras backend {terminal_text(record['versions']['keras_backend'])}",
        f"ceilings: matrix product {units.number(ceilings['matmul_macs_per_s'] / 1e9)} billion MACs/s, "
        f"copy {units.number(ceilings['copy_bytes_per_s'] / 1e9)} GB/s",
        f"energy: {'measured, ' if measured_energy else ''}{terminal_text(record['energy']['note'], 600)}",
        "",
        f"{'pass':<10} {'batch':>5} {'kernel':>6} {'channels':>9} {'picture':>8} "
        f"{'Conv2D':>10} {'Separable':>10} {'time ratio':>10} {'MAC ratio':>9}"
        + (f" {'energy ratio':>12}" if measured_energy else ""),
    ]
    for row in pairs_frame(record).to_dict("records"):
        name = f"{row['channels_in']}->{row['channels_out']}"
        picture = f"{row['height']}x{row['width']}"
        lines.append(
            f"{row['pass']:<10} {row['batch']:>5} {row['kernel']:>6} {name:>9} {picture:>8} "
            f"{units.DURATION_S.text(row['standard_s']):>10} {units.DURATION_S.text(row['separable_s']):>10} "
            f"{units.ratio(row['time_ratio']):>10} {units.ratio(row['mac_ratio']):>9}"
            + (f" {units.ratio(row['energy_ratio']):>12}" if measured_energy else "")
            + (f"  the book's {row['book_layer']}" if row["book_layer"] else "")
        )
    lines += ["", "crossover: the smallest channel count from which on the separable layer is faster"]
    for row in crossover_frame(record).to_dict("records"):
        found = crossover_text(row["crossover_channels"])
        lines.append(f"  {row['pass']:<10} batch {row['batch']:>4}, kernel {row['kernel']}: {found}")
    lines += ["", "model: time = max(MACs / peak, bytes / bandwidth) / efficiency + fixed cost per call"]
    for fit in model_fits(record):
        lines.append(
            f"  {fit.layer:<16} {fit.pass_name:<10} efficiency {units.percent(fit.efficiency, 1)}, "
            f"fixed {units.DURATION_S.text(fit.fixed_s)}, median error {units.percent(fit.median_error)}"
        )
    return "\n".join(lines)
