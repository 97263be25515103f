"""A class's records side by side: `python -m convcarbon report --class-table DIR`.

Students hand in their training records as `<name>/record.json` folders or as loose
`<name>.json` files, and their atlas records (`atlas --profile quick`) as the
folder the atlas wrote (`atlas-<profile>-<fingerprint>/record.json`) or any folder
holding its `record.json`, all in one folder. Every file is untrusted: a training
record goes through `store.read_record_file` (no links, regular files of limited
size, the record schema) and must be one that can be summarised
(`discovery.summary_problem`); an atlas goes through `atlas_store.read_atlas_record`,
the reader `collect` uses; anything else is skipped with its reason. Each atlas's
crossovers stand beside the training record of the same machine and backend
(`machines.machine_key`), or on a row of their own. Strings from records and file
names are printed only after `safe.terminal_text` has made them inert.

Used by: book/instructors.md
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from convcarbon.atlas.analyze import analysis as atlas_analysis
from convcarbon.atlas.measure.schema import MAX_ATLAS_RECORD_BYTES
from convcarbon.atlas.measure.store import FOLDER_PREFIX as ATLAS_FOLDER_PREFIX
from convcarbon.atlas.measure.store import read_atlas_record
from convcarbon.config import same_profile
from convcarbon.errors import ConvCarbonError
from convcarbon.records.store import RECORD_FILE, read_record_file
from convcarbon.records.untrusted import read_untrusted_json
from convcarbon.safe import TerminalText, csv_cell, terminal_text
from convcarbon.training.analyze.analysis import energy_verdict, repeats, separable_ratio_interval
from convcarbon.training.analyze.discovery import summary_problem
from convcarbon.training.analyze.machines import energy_method, machine_key
from convcarbon.training.analyze.report import machine_label
from convcarbon.training.analyze.tables import TERMINAL_BREAK
from convcarbon.training.measure.schema import MAX_RECORD_BYTES

# The machine's label is long and comes last, where its length pushes no other column apart.
COLUMNS = (
    "record",
    "backend",
    "profile",
    "runs per model",
    "energy",
    "time ratio",
    "energy ratio",
    "verdict",
    "atlas",
    "crossover, training",
    "crossover, inference",
    "machine",
)
TRAINING_COLUMNS = COLUMNS[1:8]  # left empty on the row of an atlas with no training record of its machine
CELL_LIMIT = 60  # characters of a cell of the terminal table before the last one


def collect(root: Path) -> tuple[list[tuple[str, dict]], list[tuple[str, str]]]:
    """(name, record) for every sound record in `root`, training records and atlases alike (an atlas has
    `kind` "atlas"), and (name, reason) for every entry skipped; both in the order of the names. Hidden
    entries (".DS_Store") are passed over silently."""
    root = Path(root)
    if not root.is_dir():
        raise ConvCarbonError(f"no folder {terminal_text(str(root))} to read a class's records from")
    try:
        entries = sorted(root.iterdir(), key=lambda path: path.name)
    except OSError as error:
        raise ConvCarbonError(f"cannot read the folder {terminal_text(str(root))} ({error.strerror})") from None
    found, skipped = [], []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        record, problem = _read_entry(entry)
        if problem is None:
            problem = atlas_problem(record) if is_atlas(record) else summary_problem(record)
        if problem:
            skipped.append((entry.name, problem))
        else:
            found.append((entry.name, record))
    return found, skipped


def is_atlas(record: dict) -> bool:
    return record.get("kind") == "atlas"


def _read_entry(entry: Path) -> tuple[dict | None, str | None]:
    if entry.is_symlink():  # checked here too: is_dir() would follow a link to a folder
        return None, "a symbolic link, which is refused"
    if entry.is_dir():
        return read_atlas_record(entry) if _holds_atlas(entry) else read_record_file(entry / RECORD_FILE)
    if entry.suffix.lower() == ".json":
        if _holds_atlas_file(entry):
            return None, f"an atlas record: hand it in as the folder the atlas wrote, <name>/{RECORD_FILE}"
        return read_record_file(entry)
    return None, f"neither a .json file nor a folder holding {RECORD_FILE}"


def _holds_atlas(folder: Path) -> bool:
    """An atlas's folder by its name, or a hand-in folder whose record says it is an atlas; the record is
    validated afterwards by the atlas's own reader."""
    return folder.name.startswith(ATLAS_FOLDER_PREFIX) or _holds_atlas_file(folder / RECORD_FILE)


def _holds_atlas_file(path: Path) -> bool:
    record, problem = read_untrusted_json(path, max(MAX_RECORD_BYTES, MAX_ATLAS_RECORD_BYTES))
    return problem is None and is_atlas(record)


def atlas_problem(atlas: dict) -> str | None:
    """Why a valid atlas record still gives no crossovers, in one line; None when it does."""
    try:
        crossovers(atlas)
    except Exception as error:  # any failure: the atlas is skipped, named with it
        return f"its crossovers cannot be computed ({type(error).__name__}: {str(error)[:120]})"
    return None


def crossovers(atlas: dict) -> pd.DataFrame:
    """The atlas's crossovers: one row per kernel, batch and pass (`atlas.analyze.analysis.crossover_frame`).
    The one place the class table and its figure take them from."""
    return atlas_analysis.crossover_frame(atlas)


def crossover_passes(atlas: dict) -> dict[str, int]:
    """The batch each pass's crossover is shown at: training at the atlas's largest batch, inference at its
    smallest (one picture at a time, as a model is used)."""
    batches = atlas["config"]["batches"]
    return {"training": max(batches), "inference": min(batches)}


def crossover_cell(atlas: dict, pass_name: str) -> str:
    """'batch 32: 3x3 32–64, 5x5 ≤ 8, 7x7 never, ...': per kernel, the channel counts between which the separable
    layer becomes faster as far as the time ratios' intervals tell (`atlas.analyze.analysis.Crossover.short`), at
    the batch `crossover_passes` names; "not resolved" where an interval straddles 1 where it would decide."""
    batch = crossover_passes(atlas)[pass_name]
    frame = crossovers(atlas)
    rows = frame[(frame["pass"] == pass_name) & (frame["batch"] == batch)].sort_values("kernel")
    found = ", ".join(f"{row.kernel}x{row.kernel} {row.crossover.short()}" for row in rows.itertuples(index=False))
    return f"batch {batch}: {found}"


def class_rows(found: list[tuple[str, dict]], profile: str | None = None) -> list[dict]:
    """The class table: a row per training record, with the newest atlas of the same machine and backend
    beside it, then a row per atlas not shown so, in the order of the names. `profile`: only records (and
    atlases) of that profile."""
    chosen = [(name, record) for name, record in found if profile is None or same_profile(profile, record["profile"])]
    trainings = [(name, record) for name, record in chosen if not is_atlas(record)]
    atlases = [(name, record) for name, record in chosen if is_atlas(record)]
    by_date = sorted(atlases, key=lambda pair: pair[1]["created_utc"])
    newest = {machine_key(atlas): (name, atlas) for name, atlas in by_date}  # the newest comes last and stays
    rows, beside = [], set()
    for name, record in trainings:
        atlas_name, atlas = newest.get(machine_key(record), ("", None))
        beside.add(atlas_name)
        rows.append({**table_row(name, record), **atlas_cells(atlas_name, atlas)})
    for name, atlas in atlases:
        if name not in beside:
            rows.append(atlas_row(name, atlas))
    return [{column: row[column] for column in COLUMNS} for row in rows]


def atlas_row(name: str, atlas: dict) -> dict:
    """The row of an atlas with no training record of its machine and backend: the training columns empty."""
    return {
        **dict.fromkeys(TRAINING_COLUMNS, ""),
        "record": "",
        "backend": str(atlas["versions"]["keras_backend"]),
        "machine": machine_label(atlas),
        **atlas_cells(name, atlas),
    }


def atlas_cells(name: str, atlas: dict | None) -> dict:
    """The atlas's name and profile, and its crossovers; empty when the machine handed in no atlas."""
    if atlas is None:
        return {"atlas": "", "crossover, training": "", "crossover, inference": ""}
    return {
        "atlas": f"{name} ({atlas['profile']})",
        "crossover, training": crossover_cell(atlas, "training"),
        "crossover, inference": crossover_cell(atlas, "inference"),
    }


def table_row(name: str, record: dict) -> dict:
    """The class table's row of one record (valid: read through `read_record_file`)."""
    energy = separable_ratio_interval(record, "energy_consumed")
    return {
        "record": name,
        "machine": machine_label(record),
        "backend": str(record["versions"]["keras_backend"]),
        "profile": str(record["profile"]),
        "runs per model": str(repeats(record)),
        "energy": energy_method(record),
        "time ratio": separable_ratio_interval(record, "duration").cell(TERMINAL_BREAK),
        "energy ratio": energy.cell(TERMINAL_BREAK),
        "verdict": energy_verdict(record).cell,
    }


def format_text(table: list[dict]) -> TerminalText:
    """A plain text table, one line per record, columns padded to their widest cell."""
    cells = [list(COLUMNS)] + [
        [terminal_text(row[column], CELL_LIMIT) for column in COLUMNS[:-1]] + [terminal_text(row[COLUMNS[-1]])]
        for row in table
    ]
    widths = [max(len(line[index]) for line in cells) for index in range(len(COLUMNS))]
    lines = ("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() + "\n" for line in cells)
    return TerminalText("".join(lines))  # every cell through terminal_text


def format_csv(table: list[dict]) -> TerminalText:
    """The same table as CSV, every cell through `safe.csv_cell`: controls escaped, and a cell that a
    spreadsheet would run as a formula gets a leading quote."""
    output = io.StringIO()
    writer = csv.DictWriter(output, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in table:
        writer.writerow({column: csv_cell(row[column]) for column in COLUMNS})
    return TerminalText(output.getvalue())


def skipped_lines(skipped: list[tuple[str, str]]) -> list[str]:
    """One line per entry skipped, naming it and the reason."""
    return [f"skipped {terminal_text(name, CELL_LIMIT)}: {terminal_text(reason)}" for name, reason in skipped]
