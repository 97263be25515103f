"""A class's hand-ins checked: `python -m convcarbon grade HANDINS_DIR [--csv]`, one row per student.

A hand-in is one folder per student in HANDINS_DIR:

    <student>/answers.json        the answers (`ANSWERS_SCHEMA`; every answer optional)
    <student>/record.json         the student's training record (for the break-even and the energy reading)
    <student>/atlas/record.json   the student's atlas record (for the crossover)

answers.json, for example:

    {"multiplications": 722536,
     "crossover": {"channels": 64, "predicted_utc": "2026-12-01T09:00:00+00:00"},
     "break_even": {"predictions": 100000, "predicted_utc": "2026-12-01T09:00:00+00:00"},
     "energy_reading": "no saving shown"}

Every file of a hand-in is untrusted: answers.json is read as records are (`untrusted.read_untrusted_json`:
no links, a regular file of limited size, strict JSON) and must match a strict schema; the records go through
their own readers (`store.read_record_file`, `atlas_store.read_atlas_record`). A bad hand-in is one row with
its reason, never a crash; each of its strings reaches the terminal only through `safe.terminal_text`, the CSV
only through `safe.csv_cell`.
Nothing is trained.

Used by: book/instructors.md, cli.py (`grade`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import jsonschema

from convcarbon.atlas.measure.store import read_atlas_record
from convcarbon.errors import ConvCarbonError
from convcarbon.records.store import RECORD_FILE, read_record_file
from convcarbon.records.untrusted import read_untrusted_json
from convcarbon.safe import TerminalText, csv_cell, terminal_text
from convcarbon.training.analyze.discovery import summary_problem
from convcarbon.training.measure.schema import CREATED_UTC

from . import checks

ANSWERS_FILE = "answers.json"
ATLAS_FOLDER = "atlas"
MAX_ANSWERS_BYTES = 64 * 2**10
COUNT = {"type": "integer", "minimum": 0, "maximum": checks.MAX_ANSWER}
ANSWERS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "multiplications": COUNT,
        "crossover": {
            "type": "object",
            "additionalProperties": False,
            "required": ["channels", "predicted_utc"],
            "properties": {
                "channels": {"type": ["integer", "null"], "minimum": 1, "maximum": checks.MAX_ANSWER},
                "predicted_utc": CREATED_UTC,
            },
        },
        "break_even": {
            "type": "object",
            "additionalProperties": False,
            "required": ["predictions", "predicted_utc"],
            "properties": {
                "predictions": {"type": "number", "minimum": 0, "maximum": checks.MAX_ANSWER},
                "predicted_utc": CREATED_UTC,
            },
        },
        "energy_reading": {"enum": list(checks.READINGS)},
    },
}
COLUMNS = ("hand-in", *checks.EXERCISES, "right", "problem")
NOT_ANSWERED = "not answered"
CELL_LIMIT = 60


@dataclass(frozen=True)
class HandIn:
    """One student's folder, read: the answers and the records that passed their readers, and every problem."""

    name: str
    answers: dict | None
    record: dict | None
    atlas: dict | None
    problems: tuple[str, ...]


def answers_problem(answers) -> str | None:
    """Why `answers` does not match `ANSWERS_SCHEMA`, in one line that quotes no value; None when it does."""
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(ANSWERS_SCHEMA).iter_errors(answers))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "the top level"
    return f"{ANSWERS_FILE} does not match the answers' schema at {where[:60]} ({error.validator} {_rule(error)})"


def _rule(error) -> str:
    """The schema's rule that failed (from the schema, never from the hand-in)."""
    if error.validator == "additionalProperties":
        return f"allows only {', '.join(error.schema.get('properties', {}))}"
    return str(error.validator_value)[:120]


def read_hand_in(folder: Path) -> HandIn:
    """One folder's answers and records, each read by its reader; problems collected, never raised."""
    name = folder.name
    if folder.is_symlink():
        return HandIn(name, None, None, None, ("a symbolic link, which is refused",))
    if not folder.is_dir():
        return HandIn(name, None, None, None, (f"not a folder holding {ANSWERS_FILE}",))
    problems = []
    answers, problem = read_untrusted_json(folder / ANSWERS_FILE, MAX_ANSWERS_BYTES)
    problem = problem or answers_problem(answers)
    if problem:
        answers = None
        problems.append(problem)
    record = atlas = None
    if (folder / RECORD_FILE).exists() or (folder / RECORD_FILE).is_symlink():
        record, problem = read_record_file(folder / RECORD_FILE)
        problem = problem or summary_problem(record)
        if problem:
            record = None
            problems.append(f"{RECORD_FILE}: {problem}")
    if (folder / ATLAS_FOLDER).exists() or (folder / ATLAS_FOLDER).is_symlink():
        atlas, problem = read_atlas_record(folder / ATLAS_FOLDER)
        if problem:
            problems.append(f"{ATLAS_FOLDER}/{RECORD_FILE}: {problem}")
    return HandIn(name, answers, record, atlas, tuple(problems))


def check_hand_in(hand_in: HandIn) -> dict[str, checks.CheckResult | str]:
    """Each exercise's result, or a short reason why it was not checked."""
    if hand_in.answers is None:
        return {exercise: "" for exercise in checks.EXERCISES}
    answers = hand_in.answers
    results: dict[str, checks.CheckResult | str] = {}
    if "multiplications" in answers:
        results["multiplications"] = checks.check_multiplications(answers["multiplications"])
    if "crossover" in answers:
        prediction = checks.prediction_from_answer(answers["crossover"])
        results["crossover"] = checks.check_crossover(prediction, hand_in.atlas) if hand_in.atlas else "no usable atlas"
    if "break_even" in answers:
        prediction = checks.break_even_from_answer(answers["break_even"])
        results["break_even"] = (
            checks.check_break_even(prediction, hand_in.record) if hand_in.record else "no usable record"
        )
    if "energy_reading" in answers:
        reading = answers["energy_reading"]
        results["energy_reading"] = (
            checks.check_energy_reading(reading, hand_in.record) if hand_in.record else "no usable record"
        )
    return {exercise: results.get(exercise, NOT_ANSWERED) for exercise in checks.EXERCISES}


def grade_row(hand_in: HandIn) -> dict[str, str]:
    """The class table's row of one hand-in: each exercise's summary, the count right, and its problems."""
    results = check_hand_in(hand_in)
    row = {"hand-in": hand_in.name}
    for exercise, result in results.items():
        row[exercise] = result.summary if isinstance(result, checks.CheckResult) else result
    passed = sum(isinstance(result, checks.CheckResult) and result.passed for result in results.values())
    row["right"] = f"{passed} of {len(checks.EXERCISES)}" if hand_in.answers is not None else ""
    row["problem"] = "; ".join(hand_in.problems)
    return row


def grade_folder(root: Path) -> list[dict[str, str]]:
    """One row per entry of `root`, in the order of the names; hidden entries (".DS_Store") are passed over."""
    root = Path(root)
    if not root.is_dir():
        raise ConvCarbonError(f"no folder {terminal_text(str(root))} to read hand-ins from")
    try:
        entries = sorted((entry for entry in root.iterdir() if not entry.name.startswith(".")), key=lambda p: p.name)
    except OSError as error:
        raise ConvCarbonError(f"cannot read the folder {terminal_text(str(root))} ({error.strerror})") from None
    if not entries:
        raise ConvCarbonError(f"no hand-in in {terminal_text(str(root))}: expected one folder per student")
    return [grade_row(read_hand_in(entry)) for entry in entries]


def format_text(rows: list[dict[str, str]]) -> TerminalText:
    """A plain text table, one line per hand-in, every cell through `safe.terminal_text`; the problem comes
    last, where its length pushes nothing apart."""
    cells = [list(COLUMNS)] + [
        [terminal_text(row[column], CELL_LIMIT) for column in COLUMNS[:-1]] + [terminal_text(row[COLUMNS[-1]])]
        for row in rows
    ]
    widths = [max(len(line[index]) for line in cells) for index in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() + "\n" for line in cells]
    return TerminalText("".join(lines))  # every cell through terminal_text


def format_csv(rows: list[dict[str, str]]) -> TerminalText:
    """The same table as CSV, every cell through `safe.csv_cell`: controls escaped, and a cell that a
    spreadsheet would run as a formula kept as text."""
    output = io.StringIO()
    writer = csv.DictWriter(output, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({column: csv_cell(row[column], 1000) for column in COLUMNS})
    return TerminalText(output.getvalue())  # every cell through csv_cell, whose text terminal_text escaped
