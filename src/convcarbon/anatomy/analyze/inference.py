"""What one prediction costs, from the record's `inference`, and when serving overtakes training.

Each run's trained model predicted the test images at batch 1 and at the training batch size
(`anatomy.measure.inference`). Per prediction: that window's time (or energy) divided by the
predictions it made. Across the runs of a model: the median and range, and the
separable/standard ratio with its bootstrap interval, as for training (`analysis`).

The break-even is the number of predictions whose energy equals one training run's:
median training energy over median energy per prediction. Energy that CodeCarbon
estimated stays an estimate here (`energy_is_estimated`).

Used by: book/ethics.md ("Training once, predicting many times"), book/results.md.
"""

from __future__ import annotations

import math

from convcarbon import units
from convcarbon.training.analyze.analysis import MODELS, summary
from convcarbon.training.analyze.report import ENERGY_WORDINGS, energy_shares
from convcarbon.training.analyze.stats import RatioInterval, Summary, ratio_of_medians, summarize

TIME, ENERGY = "time", "energy"
# Per prediction, times and energies are far below the book's usual units.
TIME_PER_PREDICTION_S = units.Quantity(
    (units.Scale("s", 1.0), units.Scale("ms", 1e-3), units.Scale("µs", 1e-6, from_value=0.0))
)
ENERGY_PER_PREDICTION_KWH = units.Quantity(
    (
        units.Scale("J", 1 / 3.6e6),
        units.Scale("mJ", 1e-3 / 3.6e6),
        units.Scale("µJ", 1e-6 / 3.6e6, from_value=0.0),
    )
)


def has_inference(record: dict) -> bool:
    """False for a record measured before predictions were (it is read, and says "not measured")."""
    return bool(record.get("inference"))


def batch_sizes(record: dict) -> tuple[int, ...]:
    """Batch 1, then the training batch size (one size when training used batch 1)."""
    return tuple(sorted({1, record["config"]["batch_size"]}))


def per_prediction_values(record: dict, model: str, batch_size: int, kind: str) -> list[float | None]:
    """One value per run of the model: seconds or kWh per prediction at this batch size."""
    if kind not in (TIME, ENERGY):
        raise ValueError(f"kind must be {TIME!r} or {ENERGY!r}, not {kind!r}")
    entries = sorted(
        (entry for entry in record.get("inference") or () if entry["model"] == model), key=lambda e: e["repeat"]
    )
    values: list[float | None] = []
    for entry in entries:
        window = next(batch for batch in entry["batches"] if batch["batch_size"] == batch_size)
        amount = window["duration_s"] if kind == TIME else window["energy_kwh"]
        values.append(None if amount is None else amount / window["predictions"])
    return values


def per_prediction(record: dict, model: str, batch_size: int, kind: str) -> Summary:
    """Median and range over the runs; NaN when not measured (or when the record has no inference)."""
    return summarize(per_prediction_values(record, model, batch_size, kind))


def per_prediction_ratio(record: dict, batch_size: int, kind: str) -> RatioInterval:
    """SeparableConv2D / Conv2D per prediction, with its bootstrap interval across the runs."""
    return ratio_of_medians(
        per_prediction_values(record, "SeparableConv2D", batch_size, kind),
        per_prediction_values(record, "Conv2D", batch_size, kind),
    )


def break_even_predictions(record: dict, model: str, batch_size: int) -> float:
    """How many predictions use as much energy as one training run of the model (medians over the runs);
    NaN when either energy was not measured."""
    training_kwh = summary(record, model, "energy_consumed").median
    prediction_kwh = per_prediction(record, model, batch_size, ENERGY).median
    if math.isnan(training_kwh) or math.isnan(prediction_kwh) or prediction_kwh <= 0:
        return math.nan
    return training_kwh / prediction_kwh


def break_even_from_time(record: dict, model: str, batch_size: int) -> float:
    """How many predictions take as long as one training run of the model (medians over the runs): the
    break-even from time alone, free of every assumed wattage; NaN when there is no prediction time."""
    training_s = summary(record, model, "duration").median
    prediction_s = per_prediction(record, model, batch_size, TIME).median
    if math.isnan(training_s) or math.isnan(prediction_s) or prediction_s <= 0:
        return math.nan
    return training_s / prediction_s


def inference_energy_reading(record: dict) -> str:
    """How the prediction energy was obtained, as a key of `report.ENERGY_WORDINGS`: "measured" (a hardware
    counter), "estimated" (a power model), "not measured" (CodeCarbon failed for some run), or "not in record"."""
    entries = record.get("inference") or ()
    if not entries:
        return "not in record"
    windows = [batch["energy_kwh"] for entry in entries for batch in entry["batches"]]
    if any(entry["energy_missing_reason"] for entry in entries) or None in windows:
        return "not measured"
    if any(entry["cpu_energy_measured"] or entry["gpu_energy_measured"] for entry in entries):
        return "measured"
    return "estimated"


def prediction_energy_shares(record: dict) -> dict[str, float]:
    """Each part's share (CPU, GPU, RAM) of the energy tracked while the models predicted, from the stored
    energies of every prediction window (`report.energy_shares`); NaN when not measured."""
    return energy_shares(list(record.get("inference") or ()))


def inference_rows(record: dict) -> list[dict]:
    """One row per batch size and model: time and energy per prediction (median, range), and the break-even."""
    rows = []
    energy_column = f"energy per prediction ({ENERGY_WORDINGS[inference_energy_reading(record)].cell})"
    for size in batch_sizes(record):
        for model in MODELS:
            time_seen = per_prediction(record, model, size, TIME)
            energy_seen = per_prediction(record, model, size, ENERGY)
            rows.append(
                {
                    "batch size": size,
                    "model": model,
                    "time per prediction": _with_range(time_seen, TIME_PER_PREDICTION_S),
                    energy_column: _with_range(energy_seen, ENERGY_PER_PREDICTION_KWH),
                    "predictions that use one training run's energy": three_digits(
                        break_even_predictions(record, model, size)
                    ),
                }
            )
    return rows


def three_digits(count: float) -> str:
    """A count from a ratio of measurements, to three significant digits (107,229 reads 107,000)."""
    return units.NOT_MEASURED if math.isnan(count) else f"{round(float(f'{count:.3g}')):,}"


def _with_range(seen: Summary, quantity: units.Quantity) -> str:
    if math.isnan(seen.median):
        return units.NOT_MEASURED
    scale = quantity.scale_for([seen.low, seen.high])
    middle = quantity.number(seen.median, scale)
    if seen.count < 2:
        return f"{middle} {scale.symbol}"
    return f"{middle} {scale.symbol}\n({quantity.number(seen.low, scale)}–{quantity.number(seen.high, scale)})"
