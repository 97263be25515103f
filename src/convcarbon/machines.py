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
from .analysis import MODELS, repeats, runs_of, saving_shown, separable_ratio_interval, summary
from .report import NOT_MEASURED, energy_missing_reasons, machine_label, measured_text, summary_text
from .stats import RatioInterval
from .store import scan_records

COMMITTED_RECORDS = Path("book") / "records"


def book_records(results_root: Path, committed_root: Path) -> tuple[list[dict], list[tuple[Path, str]]]:
    """Every record the book can show, from the local results store and from the committed records
    (`book/records/`, or the copy installed with the package), oldest first, and every folder it
    skips, with the reason."""
    local, local_skipped = scan_records(results_root)
    committed, committed_skipped = scan_records(committed_root)
    return sorted(local + committed, key=lambda record: record["created_utc"]), local_skipped + committed_skipped


def machine_key(record: dict) -> str:
    """Which machine and framework a record belongs to: its hardware identity (CPU vendor, family,
    model, stepping, vector extension, VM, logical CPUs, RAM, GPUs) and its Keras backend."""
    identity = {field: record["hardware"][field] for field in IDENTITY_FIELDS}
    return json.dumps([identity, record["versions"]["keras_backend"]], sort_keys=True)


def figure_label(record: dict) -> str:
    """A short label for a figure's row: CPU, its family and vector extension, GPUs, backend and profile."""
    hardware = record["hardware"]
    cpu = hardware["cpu_model"] + "".join(f", {part}" for part in (
        f"family {hardware['cpu_family']}" if hardware["cpu_family"] is not None else None,
        hardware["vector_extension"]) if part)
    gpus = "".join(f" + {gpu['name']}" for gpu in hardware["gpus"][:2]) + (" ..." if len(hardware["gpus"]) > 2 else "")
    return f"{cpu}{gpus}; {record['versions']['keras_backend']}, {record['profile']}"


def machine_title(record: dict) -> str:
    """The machine and framework in words (plain text from an untrusted record)."""
    return f"{machine_label(record)}, Keras backend {record['versions']['keras_backend']}"


# Rows of one hardware class stand together, in this order.
HARDWARE_CLASSES = ("x86 CPU", "Arm CPU", "Apple silicon", "GPU")


def hardware_class(record: dict) -> str:
    hardware = record["hardware"]
    if hardware["gpus"]:
        return "GPU"
    if hardware["cpu_vendor"] == "Apple":
        return "Apple silicon"
    return "Arm CPU" if hardware["vector_extension"] in ("NEON", "SVE", "SVE2") else "x86 CPU"


def machine_records(shown: dict, candidates: list[dict]) -> list[dict]:
    """The record this build shows, and for every machine and framework its best record: the
    original protocol (`seed`) first, then the most runs, then the newest. A record of the build's own
    machine stays beside the build's record when it is of another profile, so a quick or smoke build
    still shows the original protocol's verdicts. Grouped by hardware class (`grouped`)."""
    best: dict[tuple, tuple] = {}
    for record in candidates:
        if record["fingerprint"] == shown["fingerprint"]:
            continue
        key = (machine_key(record), record["profile"] == "seed")
        rank = (repeats(record), record["created_utc"])
        if key not in best or rank > best[key][0]:
            best[key] = (rank, record)
    others = {}
    for (machine, is_seed), (rank, record) in best.items():
        seed_of_same = best.get((machine, True))
        if not is_seed and seed_of_same is not None:
            continue  # the machine's original-protocol record speaks for it
        if machine == machine_key(shown) and record["profile"] == shown["profile"]:
            continue  # the build's own record supersedes an older one of the same kind
        others[machine, is_seed] = record
    return grouped([shown, *others.values()])


def grouped(records: list[dict]) -> list[dict]:
    """Records ordered by hardware class, then by machine and framework."""
    return sorted(records, key=lambda record: (HARDWARE_CLASSES.index(hardware_class(record)), machine_title(record),
                                               record["profile"]))


def energy_method(record: dict) -> str:
    """How each part of a record's energy was obtained, with the wattage CodeCarbon assumed, in a few words:
    "CPU estimated: load x 8 W (CodeCarbon's default for an unknown CPU); RAM estimated: 20 W model"."""
    if energy_missing_reasons(record):
        return "not measured (CodeCarbon failed)"
    run, assumptions = runs_of(record, MODELS[0])[0], record["power_assumptions"]
    parts = []
    if run["gpu_energy_measured"]:
        parts.append("GPU measured (" + run["gpu_tracking_method"].removeprefix("measured: ") + ")")
    parts.append(_cpu_method(run, assumptions))
    ram_w = assumptions.get("ram_assumed_power_w")
    parts.append(f"RAM estimated: {ram_w:g} W model" if ram_w is not None else "RAM estimated: power model")
    return "; ".join(parts)


def _cpu_method(run: dict, assumptions: dict) -> str:
    if run["cpu_energy_measured"]:
        return "CPU measured (" + run["cpu_tracking_method"].removeprefix("measured: ") + ")"
    wattage = assumptions.get("cpu_assumed_power_w")
    if wattage is None:
        return "CPU " + run["cpu_tracking_method"]
    kind = {"load model": f"load x {wattage:g} W", "constant model": f"constant, {wattage:g} W"}.get(
        assumptions["cpu_power_model"], f"{wattage:g} W")
    if assumptions.get("cpu_power_scaled"):
        why = (f"{assumptions['cpu_table_power_w']:g} W chip scaled to {assumptions['cpu_machine_share']:.1%} "
               "of its logical CPUs")
    elif assumptions.get("cpu_table_match"):
        why = "the whole chip's TDP from CodeCarbon's table"
    else:
        why = "CodeCarbon's default for a CPU not in its table"
    return f"CPU estimated: {kind} ({why})"


def interval_text(interval: RatioInterval, digits: str = ".2f") -> str:
    """'0.84 [0.69, 1.02]': a ratio and its 95% interval, or why there is none."""
    if math.isnan(interval.ratio):
        return NOT_MEASURED
    if not interval.has_interval:
        return f"{interval.ratio:{digits}} (no interval)"
    return f"{interval.ratio:{digits}} [{interval.low:{digits}}, {interval.high:{digits}}]"


def spread_text(record: dict, model: str, metric: str, scale: float = 1.0, digits: str = ".3g") -> str:
    return summary_text(summary(record, model, metric), digits, scale)


# saving_shown's readings, as a table cell.
SHORT_VERDICTS = {"saved": "saved energy", "used more": "used more energy", "no saving shown": "no saving shown",
                  "too few runs": "too few runs for a verdict", "no interval": "one run: no verdict",
                  "not measured": "not measured"}


def summary_frame(records: list[dict], shown: dict) -> pd.DataFrame:
    """One row per machine and framework: hardware, backend, how energy was obtained with its assumptions,
    profile, runs per model, the time and energy ratios with their intervals, and the verdict."""
    rows = []
    for record in records:
        energy = separable_ratio_interval(record, "energy_consumed")
        rows.append({
            "class": hardware_class(record),
            "machine": machine_label(record) + (" (this build)" if record is shown else ""),
            "backend, profile, runs": f"{record['versions']['keras_backend']}, {record['profile']}, "
                                      f"{repeats(record)} run(s) per model",
            "energy obtained": energy_method(record),
            "time ratio": interval_text(separable_ratio_interval(record, "duration")),
            "energy ratio": interval_text(energy),
            "verdict": SHORT_VERDICTS[saving_shown(energy, repeats(record))],
        })
    return pd.DataFrame(rows).set_index(["class", "machine"])


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
