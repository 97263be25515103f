"""Which records the book can show: found in the results store and among the book's committed records, each
validated by its schema (the store's readers) and, for training records, by `summary_problem`.

Every folder that is not shown is named with its reason. Nothing here draws a table or a page: what a page
draws from these records is `machines` (and `publish`).

Used by: every chapter that shows a record (through `site.shown`; the skipped ones: book/reproducibility.md),
book/atlas.md, `python -m convcarbon report` and the class table.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np

from convcarbon.atlas.measure.store import scan_atlas_records
from convcarbon.records.store import scan_records

from .analysis import METRICS, MODELS, separable_ratio_interval, summary


def book_records(results_root: Path, committed_root: Path) -> tuple[list[dict], list[tuple[Path, str]]]:
    """Every training record the book can show, from the local results store and from the committed records
    (`book/records/`, or the copy installed with the package), oldest first, and every folder it skips, with the
    reason: invalid (the record schema), or valid but impossible to summarise (`summary_problem`)."""
    local, local_skipped = scan_records(results_root)
    committed, committed_skipped = scan_records(committed_root)
    shown, unsummarised = [], []
    for record in local + committed:
        problem = summary_problem(record)
        if problem:
            unsummarised.append((Path(record["path"]), problem))
        else:
            shown.append(record)
    return sorted(shown, key=lambda record: record["created_utc"]), local_skipped + committed_skipped + unsummarised


def book_atlases(results_root: Path, committed_root: Path) -> list[dict]:
    """Every valid atlas record in the local results store and among the book's committed records, oldest
    first; a committed copy of a local record counts once."""
    found = [record for root in (results_root, committed_root) for record in scan_atlas_records(root)[0]]
    unique = {record["fingerprint"]: record for record in found}
    return sorted(unique.values(), key=lambda record: record["created_utc"])


def summary_problem(record: dict) -> str | None:
    """Why a record that passed the schema still cannot be summarised, in one line; None when it can.

    Every number that a page, a table or the terminal shows of one record is a model's median, lowest or
    highest value of a metric over its repeats (`analysis.METRICS`), or the ratio of the two models' medians
    with its interval: each must be a finite number, or NaN where nothing was measured. The schema's bounds
    should leave nothing else, but a page must never be the first to find out: the book, the report and the
    class table skip such a record with this reason."""
    key = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()
    if key not in _SUMMARY_PROBLEMS:  # a process reads the same records more than once (the report, the tests)
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is what this looks for, and names
            _SUMMARY_PROBLEMS[key] = _first_infinite(record)
    return _SUMMARY_PROBLEMS[key]


_SUMMARY_PROBLEMS: dict[str, str | None] = {}


def _first_infinite(record: dict) -> str | None:
    for metric in METRICS:
        for model in MODELS:
            seen = summary(record, model, metric.name)
            if _infinite(seen.median, seen.low, seen.high):
                return f"it cannot be summarised: the {metric.name} of {model} is not a finite number"
        interval = separable_ratio_interval(record, metric.name)
        if _infinite(interval.ratio, interval.low, interval.high):
            return f"it cannot be summarised: the ratio of {metric.name} is not a finite number"
    return None


def _infinite(*values: float) -> bool:
    return any(math.isinf(value) for value in values)
