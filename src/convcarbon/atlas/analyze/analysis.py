"""What an atlas record says: work and rates, time ratios with their intervals, the crossovers with theirs, the
physical checks, a fitted roofline model, and two predictions checked on points they did not see.

Work is counted as each pass runs (`costs`: inference is the forward pass; training adds, per part of a layer, the
gradient of its weights and of its input, the latter left out where the layer's input needs no gradient; the
separable layer's intermediate picture is written and read). Which passes a record timed follows from its schema
(`atlas_grid.input_gradient_timed`).

The model: time = max(MACs / peak rate, bytes / bandwidth) / efficiency + a fixed cost per call, with the two
ceilings measured on the machine (`atlas_checks.drawn_ceilings`) and the efficiency and the fixed cost fitted per
layer kind and pass, by least squares on the relative error. Fitted to every point, the model describes the
timings; it predicts nothing. Two predictions are checked on held-out points only: the roofline alone (counts and
ceilings, no fit, so every point is held out), and the model fitted on one part of the grid (the training batch, or
the smallest kernel) predicting the other (batch 1, or the larger kernels).

Used by: book/atlas.md
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from convcarbon import units
from convcarbon.atlas.measure.checks import drawn_ceilings, physical_checks, point_work, violation_counts
from convcarbon.atlas.measure.grid import LAYERS, PASSES, input_gradient_timed
from convcarbon.costs import separable_ratio
from convcarbon.training.analyze.stats import CONFIDENCE, ratio_of_medians

SHAPE_COLUMNS = ["channels_in", "channels_out", "kernel", "height", "width", "padding", "batch", "book_layer", "pass"]
NEVER = "never"
# Where a record keeps every sample of a point (seconds per call); a schema-1 record has only median, low and high.
SAMPLES_FIELD = "samples_s"
TRAINING_RULE = (
    "inference: the forward pass; training: per part of the layer (a Conv2D is one part, a SeparableConv2D a "
    "depthwise then a pointwise part), the forward pass, the gradient of the weights and the gradient of the input, "
    "each as many multiply-accumulates as the forward pass; the input gradient of a layer's first part is left out "
    "where the layer's input needs no gradient (the first layer of a model; every point of a schema-1 atlas, which "
    "timed a one-layer model on data). Bytes: each part's input, weights and output, for each of those passes; the "
    "separable layer's intermediate picture is written by the depthwise part and read by the pointwise part"
)


def point_samples(point: dict) -> list[float] | None:
    """Every sample of a point, where the record keeps them (at least two); None for a schema-1 record."""
    samples = point.get(SAMPLES_FIELD)
    if isinstance(samples, list) and len(samples) >= 2 and all(isinstance(value, (int, float)) for value in samples):
        return [float(value) for value in samples]
    return None


def points_frame(record: dict) -> pd.DataFrame:
    """One row per point and layer, with the work of the pass as it ran, the achieved rate, the arithmetic intensity
    and the roofline time under the drawn ceilings."""
    frame = pd.DataFrame(record["points"])
    work = [point_work(record, point) for point in record["points"]]
    frame["input_gradient"] = [
        input_gradient_timed(record["schema_version"], point["book_layer"]) for point in record["points"]
    ]
    frame["work_macs"] = [macs for macs, _ in work]
    frame["work_bytes"] = [count for _, count in work]
    frame["achieved_macs_per_s"] = frame["work_macs"] / frame["median_s"]
    frame["intensity_macs_per_byte"] = frame["work_macs"] / frame["work_bytes"]
    _, peak, bandwidth = drawn_ceilings(record)
    frame["roofline_s"] = np.maximum(frame["work_macs"] / peak, frame["work_bytes"] / bandwidth)
    frame["roofline_share"] = frame["roofline_s"] / frame["median_s"]
    return frame


def _ratio_interval(standard: dict, separable: dict) -> tuple[float, float, str]:
    """(low, high, what they are) of a pair's time ratio: a bootstrap interval of the ratio of medians where both
    points keep their samples, else the ratio of the ranges' ends (every sample lies within it)."""
    standard_samples, separable_samples = point_samples(standard), point_samples(separable)
    if standard_samples and separable_samples:
        interval = ratio_of_medians(separable_samples, standard_samples)
        return interval.low, interval.high, f"{CONFIDENCE:.0%} interval"
    return separable["low_s"] / standard["high_s"], separable["high_s"] / standard["low_s"], "range"


def pairs_frame(record: dict) -> pd.DataFrame:
    """One row per shape and pass: both layers' times, the time ratio (separable / standard) with its interval
    (`_ratio_interval`), the ratio of multiplications, and the energy ratio where a counter was read."""
    frame = points_frame(record).fillna({"book_layer": ""})
    frame["point"] = record["points"]  # each point as stored, for its samples
    standard = frame[frame["layer"] == "Conv2D"].set_index(SHAPE_COLUMNS)
    separable = frame[frame["layer"] == "SeparableConv2D"].set_index(SHAPE_COLUMNS)
    pairs = pd.DataFrame(index=standard.index)
    pairs["standard_s"] = standard["median_s"]
    pairs["separable_s"] = separable["median_s"]
    pairs["time_ratio"] = separable["median_s"] / standard["median_s"]
    separable_points = separable["point"].reindex(standard.index)  # aligned by shape at once, not looked up per key
    intervals = [_ratio_interval(*points) for points in zip(standard["point"], separable_points)]
    pairs["time_ratio_low"] = [low for low, _, _ in intervals]
    pairs["time_ratio_high"] = [high for _, high, _ in intervals]
    pairs["interval_kind"] = [kind for _, _, kind in intervals]
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


@dataclass(frozen=True)
class Crossover:
    """Where the separable layer starts to be faster, as far as the intervals of the time ratios tell.

    kind: "between" (surely slower at `low_channels`, surely faster at `high_channels` and at every larger count),
    "below the smallest" (surely faster at every count, the smallest `high_channels` included), "never" (surely
    slower at the largest count, `low_channels`), or "not resolved" (an interval straddles 1 where it would decide).
    """

    kind: str
    low_channels: int | None = None
    high_channels: int | None = None

    def text(self) -> str:
        if self.kind == "between":
            return f"between {self.low_channels} and {self.high_channels} channels"
        if self.kind == "below the smallest":
            return f"at or below {self.high_channels} channels, the smallest count"
        if self.kind == NEVER:
            return f"never (slower even at {self.low_channels} channels)"
        return "not resolved"

    def short(self) -> str:
        """The crossover in a table cell whose row says "channels": '16–32', '≤ 8', 'never', 'not resolved'."""
        if self.kind == "between":
            return f"{self.low_channels}–{self.high_channels}"
        if self.kind == "below the smallest":
            return f"≤ {self.high_channels}"
        return self.kind

    def holds(self, channels: int | None) -> bool | None:
        """Whether a crossover at `channels` (None: no crossover) agrees with this one; None where this one is not
        resolved, so that nothing can be checked against it."""
        if self.kind == "not resolved":
            return None
        if self.kind == NEVER:
            return channels is None
        if channels is None:
            return False
        if self.kind == "below the smallest":
            return channels <= self.high_channels
        return self.low_channels < channels <= self.high_channels


def crossover_interval(channels: list[int], lows: list[float], highs: list[float]) -> Crossover:
    """The crossover from each channel count's interval of the time ratio (`Crossover`): surely faster where the
    interval lies below 1, surely slower where it lies above 1."""
    ordered = sorted(zip(channels, lows, highs))
    if not ordered:
        raise ValueError("a crossover needs at least one channel count")
    surely_faster_from = None
    for count, _, high in reversed(ordered):
        if not high < 1:
            break
        surely_faster_from = count
    if surely_faster_from is None:
        largest, low, _ = ordered[-1]
        return Crossover(NEVER, low_channels=largest) if low > 1 else Crossover("not resolved")
    if surely_faster_from == ordered[0][0]:
        return Crossover("below the smallest", high_channels=surely_faster_from)
    slower = [count for count, low, _ in ordered if count < surely_faster_from and low > 1]
    if not slower:
        return Crossover("not resolved")
    return Crossover("between", low_channels=max(slower), high_channels=surely_faster_from)


def _grid_groups(pairs: pd.DataFrame):
    """The grid's pairs (the book's own layers left out) by kernel, batch and pass, each sorted by channels."""
    grid = pairs[pairs["book_layer"] == ""]
    for (kernel, batch, pass_name), group in grid.groupby(["kernel", "batch", "pass"]):
        yield (int(kernel), int(batch), pass_name), group.sort_values("channels_in")


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    order = {name: index for index, name in enumerate(PASSES)}
    return frame.sort_values(
        ["pass", "batch", "kernel"], key=lambda column: column.map(order) if column.name == "pass" else column
    ).reset_index(drop=True)


def crossover_frame(record: dict) -> pd.DataFrame:
    """One row per kernel size, batch and pass of the grid: the crossover of the median ratios, whether the separable
    layer was faster anywhere below it, the crossover with its interval, and how many ratios' intervals straddle 1."""
    rows = []
    for (kernel, batch, pass_name), group in _grid_groups(pairs_frame(record)):
        found = crossover(list(group["channels_in"]), list(group["time_ratio"]))
        below = group[group["channels_in"] < (found if found is not None else math.inf)]
        interval = crossover_interval(
            list(group["channels_in"]), list(group["time_ratio_low"]), list(group["time_ratio_high"])
        )
        rows.append(
            {
                "kernel": kernel,
                "batch": batch,
                "pass": pass_name,
                "crossover_channels": found,
                "faster_below": bool((below["time_ratio"] < 1).any()),
                "crossover": interval,
                "crossover_kind": interval.kind,
                "straddling": int(((group["time_ratio_low"] <= 1) & (group["time_ratio_high"] >= 1)).sum()),
                "interval_kind": group["interval_kind"].iloc[0],
                "smallest_ratio": float(group["time_ratio"].min()),
                "largest_channels": int(group["channels_in"].max()),
            }
        )
    return _ordered(pd.DataFrame(rows))


def heat_map_values(record: dict, batch: int, pass_name: str) -> tuple[list[int], list[int], np.ndarray, np.ndarray]:
    """(channel counts, kernels, time ratios as a channels x kernels array with NaN where not measured, and whether
    each ratio's interval straddles 1)."""
    pairs = pairs_frame(record)
    grid = pairs[(pairs["book_layer"] == "") & (pairs["batch"] == batch) & (pairs["pass"] == pass_name)]
    channels, kernels = sorted(grid["channels_in"].unique()), sorted(grid["kernel"].unique())
    values = np.full((len(channels), len(kernels)), np.nan)
    straddling = np.zeros((len(channels), len(kernels)), bool)
    for row in grid.to_dict("records"):
        where = channels.index(row["channels_in"]), kernels.index(row["kernel"])
        values[where] = row["time_ratio"]
        straddling[where] = row["time_ratio_low"] <= 1 <= row["time_ratio_high"]
    return [int(c) for c in channels], [int(k) for k in kernels], values, straddling


def mac_ratio_values(channels: list[int], kernels: list[int]) -> np.ndarray:
    """1/N + 1/K^2 for every channel count N and kernel K: the ratio of multiplications."""
    return np.array([[separable_ratio(n, k) for k in kernels] for n in channels])


@dataclass(frozen=True)
class ModelFit:
    """The fitted roofline model of one layer kind and pass, and how well it predicts the measured times."""

    layer: str
    pass_name: str
    efficiency: float  # the fraction of the roofline's rate the layer reaches (1 / slowdown); inf: no roofline term
    fixed_s: float  # fixed cost per call
    median_error: float  # median of |predicted - measured| / measured
    worst_error: float
    points: int

    def predict_s(self, roofline_s) -> np.ndarray:
        return np.asarray(roofline_s) / self.efficiency + self.fixed_s

    def efficiency_text(self) -> str:
        """'42.6%', or why there is no share: the fit put all the time in the fixed cost."""
        if math.isinf(self.efficiency):
            return "none (all fixed cost)"
        return units.percent(self.efficiency, 1)


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
    candidates = [(max(only_slowdown, 1e-9), 0.0), (0.0, max(only_fixed, 0.0))]
    return min(candidates, key=lambda pair: loss(*pair))


def _fit(layer: str, pass_name: str, group: pd.DataFrame) -> ModelFit:
    """The model fitted to these points of one layer kind and pass, with its errors on the same points."""
    slowdown, fixed_s = fit_time_model(group["roofline_s"], group["median_s"])
    predicted = group["roofline_s"] * slowdown + fixed_s
    errors = (predicted - group["median_s"]).abs() / group["median_s"]
    efficiency = 1 / slowdown if slowdown > 0 else math.inf  # no roofline term: every call its fixed cost
    return ModelFit(layer, pass_name, efficiency, fixed_s, float(errors.median()), float(errors.max()), len(group))


def _fits_on(frame: pd.DataFrame) -> dict[tuple[str, str], ModelFit]:
    fits = {}
    for layer in LAYERS:
        for pass_name in PASSES:
            group = frame[(frame["layer"] == layer) & (frame["pass"] == pass_name)]
            if len(group) >= 2:
                fits[(layer, pass_name)] = _fit(layer, pass_name, group)
    return fits


def model_fits(record: dict) -> list[ModelFit]:
    """The fit of each layer kind and pass over every point of the record: a description of these timings,
    in-sample, not a prediction of them."""
    return list(_fits_on(points_frame(record)).values())


def predicted_crossover_frame(record: dict) -> pd.DataFrame:
    """For each kernel, batch and pass of the grid: the crossover the roofline alone predicts (no fit), and the one
    of the model fitted to every point (in-sample: it describes the timings, it does not predict them)."""
    frame = points_frame(record)
    roofline = _predicted_crossovers(_grid(frame), None)
    fitted = _predicted_crossovers(_grid(frame), _fits_on(frame))
    rows = [
        {
            "kernel": kernel,
            "batch": batch,
            "pass": pass_name,
            "roofline_crossover_channels": roofline[(kernel, batch, pass_name)],
            "fitted_crossover_channels": fitted[(kernel, batch, pass_name)],
        }
        for kernel, batch, pass_name in roofline
    ]
    return pd.DataFrame(rows)


def _grid(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["book_layer"].isna()]


def _predicted_s(frame: pd.DataFrame, fits: dict | None) -> np.ndarray:
    """Each point's predicted time: the fitted model of its layer and pass, or the roofline alone (fits None)."""
    if fits is None:
        return frame["roofline_s"].to_numpy()
    return np.array(
        [float(fits[(row["layer"], row["pass"])].predict_s(row["roofline_s"])) for row in frame.to_dict("records")]
    )


def _predicted_crossovers(grid: pd.DataFrame, fits: dict | None) -> dict[tuple[int, int, str], int | None]:
    """The crossover of the predicted times (`crossover`) for each kernel, batch and pass of these grid points."""
    grid = grid.assign(predicted_s=_predicted_s(grid, fits))
    found = {}
    for (kernel, batch, pass_name), group in grid.groupby(["kernel", "batch", "pass"]):
        standard = group[group["layer"] == "Conv2D"].sort_values("channels_in")
        separable = group[group["layer"] == "SeparableConv2D"].sort_values("channels_in")
        ratios = separable["predicted_s"].to_numpy() / standard["predicted_s"].to_numpy()
        found[(int(kernel), int(batch), pass_name)] = crossover(list(standard["channels_in"]), list(ratios))
    return found


@dataclass(frozen=True)
class Prediction:
    """A prediction of points it was not made from, and how far it fell from them.

    The error of one point is the factor between predicted and measured time (the larger over the smaller: 1 is
    exact). A crossover agrees when the predicted one lies within the measured crossover's interval."""

    kind: str  # "roofline", "batch" or "kernel": what is held out
    name: str  # what it is made from, and what it predicts
    held_out_points: int
    median_factor: float
    worst_factor: float
    crossovers_checked: int  # held-out crossovers whose measured interval is resolved
    crossovers_agreeing: int
    crossovers_unresolved: int  # held-out crossovers that the measurement does not resolve

    def crossover_text(self) -> str:
        """'2 of 3 checked (9 more not resolved by the measurement)'."""
        text = f"{self.crossovers_agreeing} of {self.crossovers_checked} checked"
        if self.crossovers_unresolved:
            text += f" ({self.crossovers_unresolved} more not resolved by the measurement)"
        return text


def _prediction(kind: str, name: str, record: dict, held_out: pd.DataFrame, fits: dict | None) -> Prediction:
    predicted_s = _predicted_s(held_out, fits)
    factors = np.maximum(predicted_s / held_out["median_s"], held_out["median_s"] / predicted_s)
    measured = {
        (row["kernel"], row["batch"], row["pass"]): row["crossover"]
        for row in crossover_frame(record).to_dict("records")
    }
    verdicts = [measured[key].holds(found) for key, found in _predicted_crossovers(_grid(held_out), fits).items()]
    return Prediction(
        kind,
        name,
        len(held_out),
        float(np.median(factors)),
        float(np.max(factors)),
        sum(verdict is not None for verdict in verdicts),
        sum(verdict is True for verdict in verdicts),
        sum(verdict is None for verdict in verdicts),
    )


def predictions(record: dict) -> list[Prediction]:
    """The roofline alone (counts and ceilings, no fit: every grid point is held out), then the model fitted at the
    training batch predicting batch 1, and, where the grid has several kernels, fitted on the smallest kernel
    predicting the others; each where its fitted part has two points or more of each layer kind and pass. The
    book's own layers are left out (they are neither)."""
    grid = _grid(points_frame(record))
    made = [_prediction("roofline", "the roofline alone, no fit", record, grid, None)]
    batches, kernels = sorted(grid["batch"].unique()), sorted(grid["kernel"].unique())
    if len(batches) > 1:
        fits = _fits_on(grid[grid["batch"] == batches[-1]])
        name = f"fitted at batch {batches[-1]}, predicting batch {batches[0]}"
        if len(fits) == len(LAYERS) * len(PASSES):  # two points or more of each layer kind and pass to fit
            made.append(_prediction("batch", name, record, grid[grid["batch"] == batches[0]], fits))
    if len(kernels) > 1:
        fits = _fits_on(grid[grid["kernel"] == kernels[0]])
        others = " and ".join(f"{k}x{k}" for k in kernels[1:])
        name = f"fitted on {kernels[0]}x{kernels[0]} kernels, predicting {others}"
        if len(fits) == len(LAYERS) * len(PASSES):
            made.append(_prediction("kernel", name, record, grid[grid["kernel"] != kernels[0]], fits))
    return made


def fixed_cost_violations(record: dict) -> pd.DataFrame:
    """The points measured faster than the fixed cost per call that the fit gives their layer kind and pass:
    a fixed cost no call can have."""
    frame = points_frame(record)
    fits = _fits_on(frame)
    fixed_s = [
        fits[(row["layer"], row["pass"])].fixed_s if (row["layer"], row["pass"]) in fits else 0.0  # no fit: no bound
        for row in frame.to_dict("records")
    ]
    return frame[frame["median_s"] < np.array(fixed_s)].reset_index(drop=True)


def checks_summary(record: dict) -> dict[str, int]:
    """Violations of each physical check (recomputed from the timings, whatever the record stores), and of the
    fit's fixed cost."""
    return {**violation_counts(physical_checks(record)), FIXED_COST_CHECK: len(fixed_cost_violations(record))}


FIXED_COST_CHECK = "faster than the fitted fixed cost"


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
# What the analysis adds to each point: the work of the pass as it ran (`TRAINING_RULE`).
WORK_FIELDS = ("input_gradient", "work_macs", "work_bytes", "intermediate_bytes")


def json_points(record: dict) -> list[dict]:
    """One object per point and layer: the record's fields of `JSON_FIELDS`, every sample where the record keeps
    them, and the work of `WORK_FIELDS`."""
    from convcarbon.atlas.measure.checks import point_shape
    from convcarbon.atlas.measure.grid import layer_intermediate_bytes

    frame = points_frame(record)
    points = []
    for point, row in zip(record["points"], frame.to_dict("records")):
        shown = {field: point[field] for field in JSON_FIELDS}
        if point_samples(point) is not None:
            shown[SAMPLES_FIELD] = point_samples(point)
        shown.update(
            input_gradient=bool(row["input_gradient"]),
            work_macs=int(row["work_macs"]),
            work_bytes=int(row["work_bytes"]),
            intermediate_bytes=layer_intermediate_bytes(point_shape(point), point["layer"]),
        )
        points.append(shown)
    return points


def json_crossovers(record: dict) -> list[dict]:
    """One object per kernel, batch and pass: the crossover with its interval, and the median ratios' crossover."""
    return [
        {
            "kernel": row["kernel"],
            "batch": row["batch"],
            "pass": row["pass"],
            "crossover": row["crossover"].kind,
            "low_channels": row["crossover"].low_channels,
            "high_channels": row["crossover"].high_channels,
            "text": row["crossover"].text(),
            "ratio_interval": row["interval_kind"],
            "ratios_straddling_1": row["straddling"],
            "median_ratio_crossover_channels": None
            if _missing(row["crossover_channels"])
            else int(row["crossover_channels"]),
        }
        for row in crossover_frame(record).to_dict("records")
    ]


def atlas_json(record: dict) -> dict:
    """What `atlas --json` prints: every field of the record but its points (so whatever a record keeps about its
    machine, its harness and its quietness comes along), the rule its work is counted by, the points with their
    work, the crossovers with their intervals, the physical checks, and the predictions checked on held-out points."""
    shown = {key: value for key, value in record.items() if key not in ("points", "path")}
    return {
        **shown,
        "training_rule": TRAINING_RULE,
        "points": json_points(record),
        "crossovers": json_crossovers(record),
        "checks": {**physical_checks(record), "counts": checks_summary(record)},
        "predictions": [dataclasses.asdict(prediction) for prediction in predictions(record)],
    }


def _missing(channels: float | None) -> bool:
    return channels is None or math.isnan(channels)


def crossover_text(channels: float | None) -> str:
    """'64 channels', or 'never' (None or NaN, as a table column of whole numbers holds a missing one)."""
    if _missing(channels):
        return NEVER
    return f"{int(channels)} channels"


def format_atlas(record: dict) -> str:
    """The atlas for a terminal: machine, ceilings, every pair's times and ratios, the crossovers, the checks,
    the model and the predictions."""
    from convcarbon.safe import terminal_text

    hardware, ceilings = record["hardware"], record["ceilings"]
    measured_energy = record["energy"]["method"] == "counter"  # never an estimate: none is made
    lines = [
        f"atlas ({terminal_text(record['profile'])}) on {terminal_text(hardware['cpu_model'])}, "
        f"{hardware['cpu_count']} logical CPUs, Keras backend {terminal_text(record['versions']['keras_backend'])}",
        f"ceilings: matrix product {units.number(ceilings['matmul_macs_per_s'] / 1e9)} billion MACs/s, "
        f"copy {units.number(ceilings['copy_bytes_per_s'] / 1e9)} GB/s "
        f"({terminal_text(drawn_ceilings(record)[0], 300)})",
        f"energy: {'measured, ' if measured_energy else ''}{terminal_text(record['energy']['note'], 600)}",
        f"work: {TRAINING_RULE}",
        "",
        f"{'pass':<10} {'batch':>5} {'kernel':>6} {'channels':>9} {'picture':>8} "
        f"{'Conv2D':>10} {'Separable':>10} {'time ratio':>10} {'ratio interval':>14} {'MAC ratio':>9}"
        + (f" {'energy ratio':>12}" if measured_energy else ""),
    ]
    for row in pairs_frame(record).to_dict("records"):
        name = f"{row['channels_in']}->{row['channels_out']}"
        picture = f"{row['height']}x{row['width']}"
        interval = units.span(row["time_ratio_low"], row["time_ratio_high"], units.ratio)
        lines.append(
            f"{row['pass']:<10} {row['batch']:>5} {row['kernel']:>6} {name:>9} {picture:>8} "
            f"{units.DURATION_S.text(row['standard_s']):>10} {units.DURATION_S.text(row['separable_s']):>10} "
            f"{units.ratio(row['time_ratio']):>10} {interval:>14} {units.ratio(row['mac_ratio']):>9}"
            + (f" {units.ratio(row['energy_ratio']):>12}" if measured_energy else "")
            + (f"  the book's {row['book_layer']}" if row["book_layer"] else "")
        )
    lines += ["", "crossover: where the separable layer becomes faster, from each ratio's interval"]
    for row in crossover_frame(record).to_dict("records"):
        lines.append(
            f"  {row['pass']:<10} batch {row['batch']:>4}, kernel {row['kernel']}: {row['crossover'].text()} "
            f"(median ratios: {crossover_text(row['crossover_channels'])})"
        )
    lines += ["", "physical checks (violations):"]
    lines += [f"  {check}: {count}" for check, count in checks_summary(record).items()]
    lines += ["", "model fitted to every point (in-sample): time = roofline time / efficiency + fixed cost per call"]
    for fit in model_fits(record):
        lines.append(
            f"  {fit.layer:<16} {fit.pass_name:<10} efficiency {fit.efficiency_text()}, "
            f"fixed {units.DURATION_S.text(fit.fixed_s)}, median error {units.percent(fit.median_error)}"
        )
    lines += ["", "predictions, checked on held-out points only (factor: predicted vs measured time, 1 is exact)"]
    for prediction in predictions(record):
        lines.append(
            f"  {prediction.name}: {prediction.held_out_points} points, median factor "
            f"{units.number(prediction.median_factor)}, worst {units.number(prediction.worst_factor)}; "
            f"crossovers within the measured interval: {prediction.crossover_text()}"
        )
    return "\n".join(lines)
