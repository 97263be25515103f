"""The cost of grading a class: `python -m convcarbon grade` over 30 hand-ins, and one check in a notebook.

Run from the repository root:

    .venv/bin/python bench/grade_class.py [--students 30] [--repeats 5]

Writes a class of hand-ins into a temporary folder, each with a full answers.json, a copy of the book's `full`
training record that measured predictions and a copy of one of its atlases; times the whole command (a fresh
Python: imports included) and each check alone, as a student's cell calls it (after a first, discarded call).
Not a test: nothing here passes or fails (BENCHMARKS.md, "Grading a class").
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from convcarbon.atlas.measure.store import read_atlas_record
from convcarbon.config import same_profile
from convcarbon.course import checks
from convcarbon.records.store import read_record_file

RECORDS = Path(__file__).resolve().parents[1] / "book" / "records"
BEFORE = "2026-01-01T00:00:00+00:00"


def training_record() -> Path:
    """The newest committed `full` record (of either name: `config.same_profile`) that measured predictions
    (needed by the break-even)."""
    records = [json.loads(path.read_text()) | {"path": path} for path in RECORDS.glob("*/record.json")]
    found = [
        record
        for record in records
        if record.get("kind") != "atlas" and same_profile(record["profile"], "full") and record.get("inference")
    ]
    if not found:
        raise SystemExit("no committed full record measured predictions")
    return max(found, key=lambda record: record["created_utc"])["path"]


def write_class(root: Path, students: int) -> None:
    record, atlas = training_record(), sorted(RECORDS.glob("atlas-*/record.json"))[0]
    answers = {
        "multiplications": 78_912,
        "crossover": {"channels": 64, "predicted_utc": BEFORE},
        "break_even": {"predictions": 100_000, "predicted_utc": BEFORE},
        "energy_reading": "no saving shown",
    }
    for index in range(students):
        folder = root / f"student-{index:02d}"
        (folder / "atlas").mkdir(parents=True)
        (folder / "answers.json").write_text(json.dumps(answers))
        shutil.copy(record, folder / "record.json")
        shutil.copy(atlas, folder / "atlas" / "record.json")


def median_s(call, repeats: int) -> float:
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "class"
        write_class(root, arguments.students)
        command = [sys.executable, "-m", "convcarbon", "grade", str(root), "--csv"]
        command_s = []
        for _ in range(arguments.repeats):
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            command_s.append(time.perf_counter() - start)
        print(f"grade, {arguments.students} hand-ins: " + ", ".join(f"{s:.2f}" for s in command_s) + " s")
        print(f"  median {statistics.median(command_s):.2f} s")
        student = root / "student-00"
        record, _ = read_record_file(student / "record.json")
        atlas, _ = read_atlas_record(student / "atlas")
        crossover = checks.Prediction(64, 3, "training", None, BEFORE)
        break_even = checks.BreakEvenPrediction(100_000, "Conv2D", 1, BEFORE)
        for name, call in (
            ("check_multiplications", lambda: checks.check_multiplications(78_912)),
            ("check_crossover", lambda: checks.check_crossover(crossover, atlas)),
            ("check_break_even", lambda: checks.check_break_even(break_even, record)),
            ("check_energy_reading", lambda: checks.check_energy_reading("saved", record)),
        ):
            print(f"{name}: median {median_s(call, arguments.repeats) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
