"""The energy counters of the Pages workflow's runner classes, for the page: one row per valid
`counters-<runner class>.json` in the book's records (copied there by `collect`), every string from a report
made inert (`safe.plain_text`, then `page_table`'s HTML escaping), and the count of reports as a glued phrase.
A build without such reports (any local build) shows no table; the chapter's sentence around the count says so.

Used by: book/measuring.md
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
from pandas.io.formats.style import Styler

from convcarbon.energy.counters_report import scan_counters_reports
from convcarbon.safe import OwnMarkdown, plain_text, terminal_text
from convcarbon.training.analyze.tables import page_table

from .shown import committed_records_dir

logger = logging.getLogger(__name__)

CPU_COUNTER_KINDS = ("RAPL", "powermetrics")
GPU_COUNTER_KINDS = ("NVML",)


def runner_counters(records_dir: Path | None = None) -> list[dict]:
    """The valid counters reports in `records_dir` (default: the book's records), by runner class; each file
    refused is logged with its reason."""
    reports, skipped = scan_counters_reports(records_dir or committed_records_dir())
    for name, problem in skipped:
        logger.warning("skipping counters report %s: %s", terminal_text(name, 200), terminal_text(problem, 1000))
    return reports


def counters_cell(report: dict, kinds: tuple[str, ...]) -> str:
    """Which counters of these kinds the runner has and how many of each this user could read, or "none"."""
    parts = []
    for kind in kinds:
        found = [counter for counter in report["counters"] if counter["kind"] == kind]
        if found:
            readable = sum(counter["readable"] for counter in found)
            parts.append(f"{kind}: {readable} of {len(found)} readable")
    return "; ".join(parts) or "none"


def runner_counters_table(reports: list[dict]) -> Styler | None:
    """One row per runner class; None when there is no report, so that the page shows no empty table."""
    if not reports:
        return None
    rows = [
        {
            "runner class": report["runner_class"],
            "system, CPU": f"{report['system']}, {report['cpu_model']}",
            "CPU counters": counters_cell(report, CPU_COUNTER_KINDS),
            "run, CPU": report["run_cpu"],
            "GPU counters": counters_cell(report, GPU_COUNTER_KINDS),
            "run, GPU": report["run_gpu"],
            "atlas": report["atlas"],
        }
        for report in reports
    ]
    return page_table(pd.DataFrame(rows).map(lambda cell: plain_text(cell, 2000)))


def runner_counters_count(reports: list[dict]) -> OwnMarkdown:
    """How many counters reports the build holds, as a phrase: "no counters report", "3 counters reports"."""
    if not reports:
        return OwnMarkdown("no counters report")
    return OwnMarkdown(f"{len(reports)} counters report{'s' if len(reports) > 1 else ''}")
