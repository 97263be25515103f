"""A machine's `counters --json` report read back as untrusted input: the Pages workflow's runners each write
one, `counters-<runner class>.json`, and `collect` copies the valid ones into `book/records/` beside the records.

A report comes from a runner or from anyone's commit, so it is read only through `records.untrusted` (a regular
file of limited size, never a link, strict JSON) and validated by a strict schema: every object exact, every
string bounded and free of control characters and of the characters that reorder or hide text. A file that
fails is refused with one reason, naming the file.

Used by: records/collect.py, site/runner_counters.py (book/measuring.md)
"""

from __future__ import annotations

import re
from pathlib import Path

from convcarbon.records.untrusted import parse_untrusted_json, read_untrusted_bytes
from convcarbon.safe import NO_CONTROL_PATTERN
from convcarbon.training.measure.schema import schema_mismatch

from .counters import COUNTERS_SCHEMA_VERSION

COUNTERS_FILE_PREFIX, COUNTERS_FILE_SUFFIX = "counters-", ".json"
# A runner class as GitHub names it (ubuntu-latest, ubuntu-24.04-arm, macos-15): the file name's middle part.
RUNNER_CLASS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_COUNTERS_BYTES = 64 * 1024  # a real report is about 1 kB per counter, and a machine has a few dozen at most


def _text(max_length: int) -> dict:
    return {"type": "string", "maxLength": max_length, "pattern": NO_CONTROL_PATTERN}


def _optional_text(max_length: int) -> dict:
    return {"type": ["string", "null"], "maxLength": max_length, "pattern": NO_CONTROL_PATTERN}


COUNTER = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "kind",
        "name",
        "source",
        "readable",
        "detail",
        "enable_command",
        "security_note",
        "package",
        "codecarbon_package",
    ],
    "properties": {
        "kind": {"enum": ["RAPL", "NVML", "powermetrics"]},
        "name": _text(200),
        "source": _text(300),
        "readable": {"type": "boolean"},
        "detail": _text(300),
        "enable_command": _optional_text(600),
        "security_note": _optional_text(800),
        "package": {"type": "boolean"},
        "codecarbon_package": {"type": "boolean"},
    },
}
COUNTERS_REPORT = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "schema_version",
        "system",
        "cpu_model",
        "user",
        "counters",
        "run_cpu",
        "run_gpu",
        "atlas",
        "codecarbon",
        "notes",
        "any_readable",
    ],
    "properties": {
        "schema_version": {"const": COUNTERS_SCHEMA_VERSION},
        "system": _text(40),
        "cpu_model": _text(200),
        "user": _text(100),
        "counters": {"type": "array", "maxItems": 64, "items": COUNTER},
        "run_cpu": _text(400),
        "run_gpu": _text(2000),  # names every GPU without an energy counter
        "atlas": _text(400),
        "codecarbon": _optional_text(40),
        "notes": {"type": "array", "maxItems": 10, "items": _text(400)},
        "any_readable": {"type": "boolean"},
    },
}


def is_counters_file(name: str) -> bool:
    """Whether a file of this name is meant as a counters report (valid or not)."""
    return name.startswith(COUNTERS_FILE_PREFIX) and name.endswith(COUNTERS_FILE_SUFFIX)


def runner_class(name: str) -> str | None:
    """The runner class that `counters-<runner class>.json` names, or None for a name that is not one."""
    if not is_counters_file(name):
        return None
    middle = name[len(COUNTERS_FILE_PREFIX) : -len(COUNTERS_FILE_SUFFIX)]
    return middle if RUNNER_CLASS.match(middle) else None


def counters_report_problem(report) -> str | None:
    """Why a counters report cannot be used, in one line; None when it can."""
    if isinstance(report, dict) and report.get("schema_version", COUNTERS_SCHEMA_VERSION) != COUNTERS_SCHEMA_VERSION:
        return (
            f"written as counters schema {str(report['schema_version'])[:20]}; "
            f"this version reads schema {COUNTERS_SCHEMA_VERSION}"
        )
    return schema_mismatch(COUNTERS_REPORT, report, "counters report", top="the report")


def read_counters_report(path: Path) -> tuple[dict | None, bytes | None, str | None]:
    """(report with its `runner_class`, the file's bytes, None) for a valid `counters-<runner class>.json`, or
    (None, None, why not). The bytes are the ones validated, for `collect` to copy."""
    path = Path(path)
    runner = runner_class(path.name)
    if runner is None:
        return None, None, "its name is not counters-<runner class>.json (letters, digits, '.', '_', '-')"
    content, problem = read_untrusted_bytes(path, MAX_COUNTERS_BYTES)
    report, problem = (None, problem) if problem else parse_untrusted_json(content, path.name)
    if problem is None:
        problem = counters_report_problem(report)
        problem = problem and f"{path.name} {problem}"
    return (None, None, problem) if problem else ({**report, "runner_class": runner}, content, None)


def counters_files(folder: Path) -> list[Path]:
    """The files (and links) at the top of `folder` named as counters reports, in name order."""
    folder = Path(folder)
    entries = sorted(folder.iterdir()) if folder.is_dir() else []
    return [entry for entry in entries if is_counters_file(entry.name) and not entry.is_dir()]


def scan_counters_reports(folder: Path) -> tuple[list[dict], list[tuple[str, str]]]:
    """Every valid counters report at the top of `folder`, by runner class, and every file refused with its
    reason, as (file name, reason)."""
    reports, skipped = [], []
    for path in counters_files(folder):
        report, _, problem = read_counters_report(path)
        if problem:
            skipped.append((path.name, problem))
        else:
            reports.append(report)
    return sorted(reports, key=lambda report: report["runner_class"]), skipped
