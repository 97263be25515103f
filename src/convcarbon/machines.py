"""Records from several machines side by side, each labelled with its hardware, backend and tracking.

The book shows the record of its own build and, for every other machine, the
newest record found in the local results store or committed under
`book/records/` (records made elsewhere, such as on a GPU machine).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from .hardware import IDENTITY_FIELDS
from .analysis import MODELS, idle_power_w, repeats, runs_of, separable_ratio_interval, summary
from .report import NOT_MEASURED, energy_is_estimated, energy_missing_reasons, machine_label, measured_text, summary_text
from .stats import RatioInterval
from .store import scan_records

COMMITTED_RECORDS = Path("book") / "records"


def book_records(results_root: Path, repository_root: Path) -> tuple[list[dict], list[tuple[Path, str]]]:
    """Every record the book can show, from the local results store and from `book/records/`,
    oldest first, and every folder it skips, with the reason."""
    local, local_skipped = scan_records(results_root)
    committed, committed_skipped = scan_records(repository_root / COMMITTED_RECORDS)
    return sorted(local + committed, key=lambda record: record["created_utc"]), local_skipped + committed_skipped


def machine_key(record: dict) -> str:
    """Which machine and framework a record belongs to: its hardware identity (CPU vendor, family,
    model, stepping, vector extension, VM, logical CPUs, RAM, GPUs) and its Keras backend."""
    identity = {field: record["hardware"][field] for field in IDENTITY_FIELDS}
    return json.dumps([identity, record["versions"]["keras_backend"]], sort_keys=True)


def machine_title(record: dict) -> str:
    """The machine and framework in words (plain text from an untrusted record)."""
    return f"{machine_label(record)}, Keras backend {record['versions']['keras_backend']}"


def machine_records(shown: dict, candidates: list[dict]) -> list[dict]:
    """`shown` first, then the newest record of every other machine (of `shown`'s profile if it has one)."""
    best: dict[str, tuple] = {}
    for record in candidates:
        key = machine_key(record)
        if key == machine_key(shown):
            continue
        rank = (record["profile"] == shown["profile"], record["created_utc"])
        if key not in best or rank > best[key][0]:
            best[key] = (rank, record)
    return [shown] + [record for _, record in sorted(best.values(), key=lambda item: machine_title(item[1]))]


def energy_method(record: dict) -> str:
    """How the compute energy of a record was obtained, in a few words."""
    if energy_missing_reasons(record):
        return "not measured (CodeCarbon failed)"
    run = runs_of(record, MODELS[0])[0]
    if energy_is_estimated(record):
        return f"estimated ({run['cpu_tracking_method'].removeprefix('estimated: ')})"
    measured = [run[f"{part}_tracking_method"] for part in ("gpu", "cpu") if run[f"{part}_energy_measured"]]
    return "; ".join(measured)


def interval_text(interval: RatioInterval, digits: str = ".2f") -> str:
    """'0.84 [0.69, 1.02]': a ratio and its 95% interval, or why there is none."""
    if math.isnan(interval.ratio):
        return NOT_MEASURED
    if not interval.has_interval:
        return f"{interval.ratio:{digits}} (no interval)"
    return f"{interval.ratio:{digits}} [{interval.low:{digits}}, {interval.high:{digits}}]"


def spread_text(record: dict, model: str, metric: str, scale: float = 1.0, digits: str = ".3g") -> str:
    return summary_text(summary(record, model, metric), digits, scale)


def verdict_frame(records: list[dict]) -> pd.DataFrame:
    """One row per machine: how energy was obtained, and the ratios with their intervals."""
    rows = []
    for record in records:
        idle_w = idle_power_w(record)
        rows.append({
            "machine": machine_title(record),
            "energy": energy_method(record),
            "profile": f"{record['profile']}, {repeats(record)} repeat(s)",
            "at rest (W)": measured_text(idle_w, ".1f"),
            "time ratio": interval_text(separable_ratio_interval(record, "duration")),
            "energy ratio": interval_text(separable_ratio_interval(record, "energy_consumed")),
            "energy above idle ratio": interval_text(separable_ratio_interval(record, "energy above idle")),
        })
    return pd.DataFrame(rows).set_index("machine")


def spread_frame(records: list[dict]) -> pd.DataFrame:
    """Each machine's two models: median (min to max) of accuracy, time and energy over the repeats."""
    rows = []
    for record in records:
        for model in MODELS:
            rows.append({
                "machine": machine_title(record), "model": model,
                "test accuracy": spread_text(record, model, "accuracy", digits=".4f"),
                "training time (s)": spread_text(record, model, "duration"),
                "first epoch (s)": spread_text(record, model, "first epoch duration"),
                "later epochs (s each)": spread_text(record, model, "later epoch duration"),
                "energy (Wh)": spread_text(record, model, "energy_consumed", 1000),
                "above idle (Wh)": spread_text(record, model, "energy above idle", 1000),
            })
    return pd.DataFrame(rows).set_index(["machine", "model"])


def analytic_frame(records: list[dict]) -> pd.DataFrame:
    """Per machine: the ratio of multiplications against the ratios of time and energy,
    and the multiplications per second each model achieved (forward and backward)."""
    rows = []
    for record in records:
        throughput = {model: summary(record, model, "throughput").median / 1e9 for model in MODELS}
        rows.append({
            "machine": machine_title(record),
            "multiplications ratio": f"{separable_ratio_interval(record, 'multiplications').ratio:.3f}",
            "later-epoch time ratio": interval_text(separable_ratio_interval(record, "later epoch duration")),
            "later-epoch energy ratio": interval_text(separable_ratio_interval(record, "later epoch energy")),
            "Conv2D (G mult/s)": measured_text(throughput["Conv2D"], ".3g"),
            "SeparableConv2D (G mult/s)": measured_text(throughput["SeparableConv2D"], ".3g"),
            "throughput ratio": interval_text(separable_ratio_interval(record, "throughput")),
        })
    return pd.DataFrame(rows).set_index("machine")


def gpu_records(records: list[dict]) -> list[dict]:
    return [record for record in records if any(run["gpu_energy_measured"] for run in record["runs"])]
