"""A class's records side by side: `python -m convcarbon report --class-table DIR`.

Students hand in their records as `<name>/record.json` folders or as loose
`<name>.json` files, in one folder. Every file is untrusted: it goes through
`store.read_record_file` (no links, regular files of limited size, the record
schema) and must be one that can be summarised (`discovery.summary_problem`);
anything else is skipped with its reason. Strings from records
and file names are printed only after `safe.terminal_text` has made them inert.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..errors import ConvCarbonError
from ..measure.store import RECORD_FILE, read_record_file
from ..safe import terminal_text
from .analysis import VERDICTS, repeats, saving_shown, separable_ratio_interval
from .discovery import summary_problem
from .machines import energy_method
from .report import machine_label
from .tables import TERMINAL_BREAK

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
    "machine",
)
CELL_LIMIT = 60  # characters of a cell of the terminal table before the last one
SPREADSHEET_FORMULA_STARTS = ("=", "+", "-", "@")


def collect(root: Path) -> tuple[list[tuple[str, dict]], list[tuple[str, str]]]:
    """(name, record) for every sound record in `root`, and (name, reason) for every entry skipped;
    both in the order of the names. Hidden entries (".DS_Store") are passed over silently."""
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
        problem = problem or summary_problem(record)
        if problem:
            skipped.append((entry.name, problem))
        else:
            found.append((entry.name, record))
    return found, skipped


def _read_entry(entry: Path) -> tuple[dict | None, str | None]:
    if entry.is_symlink():  # checked here too: is_dir() would follow a link to a folder
        return None, "a symbolic link, which is refused"
    if entry.is_dir():
        return read_record_file(entry / RECORD_FILE)
    if entry.suffix.lower() == ".json":
        return read_record_file(entry)
    return None, f"neither a .json file nor a folder holding {RECORD_FILE}"


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
        "verdict": VERDICTS[saving_shown(energy, repeats(record))].cell,
    }


def format_text(table: list[dict]) -> str:
    """A plain text table, one line per record, columns padded to their widest cell."""
    cells = [list(COLUMNS)] + [
        [terminal_text(row[column], CELL_LIMIT) for column in COLUMNS[:-1]] + [terminal_text(row[COLUMNS[-1]])]
        for row in table
    ]
    widths = [max(len(line[index]) for line in cells) for index in range(len(COLUMNS))]
    return "".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() + "\n" for line in cells)


def format_csv(table: list[dict]) -> str:
    """The same table as CSV. A cell that a spreadsheet would run as a formula gets a leading quote."""
    output = io.StringIO()
    writer = csv.DictWriter(output, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in table:
        writer.writerow({column: _spreadsheet_cell(terminal_text(row[column])) for column in COLUMNS})
    return output.getvalue()


def _spreadsheet_cell(text: str) -> str:
    return "'" + text if text.startswith(SPREADSHEET_FORMULA_STARTS) else text


def skipped_lines(skipped: list[tuple[str, str]]) -> list[str]:
    """One line per entry skipped, naming it and the reason."""
    return [f"skipped {terminal_text(name, CELL_LIMIT)}: {terminal_text(reason)}" for name, reason in skipped]
