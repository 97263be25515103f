"""Migrate stored records from schema 4 to schema 5, changing only what schema 5 changed.

    .venv/bin/python bench/migrate_records.py book/records [MORE_FOLDERS ...]

Each argument is a store (folders of `<profile>-<fingerprint[:16]>/record.json`) or one record folder.
For every record of schema 4 it:

- names the dataset by its file name: `dataset.source` "/home/me/data/mnist.npz" becomes "mnist.npz"
  (the Keras download keeps its name; the dataset's sha256 is untouched);
- adds the keys of `power_assumptions` that schema 5 added, filled honestly: nothing was pinned then, so
  `cpu_pinned_power_w` and `ram_pinned_power_w` are null and `power_pinning` says
  "not pinned: measured before schema 5" (no wattage is invented);
- sets `schema_version` to 5.

Nothing else changes: every measured number, the fingerprint and the folder's name stay as they were. A record
of schema 5 is left alone, so running it again changes nothing; a record of any other schema is reported and
left alone. Each file is rewritten atomically, as the store writes it, then validated against schema 5 (which
adds physical bounds: a record outside them is reported, not changed).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from convcarbon.records.store import RECORD_FILE
from convcarbon.records.untrusted import strict_json
from convcarbon.training.measure.schema import record_problem

FROM_VERSION = 4
TO_VERSION = 5  # still read as it is: schema 6 only added the step timings, which no migration can invent
NOT_PINNED = "not pinned: measured before schema 5"


def migrated(record: dict) -> dict:
    """The schema-4 record as schema 5: the dataset's file name, the pinning keys, the version."""
    source = record["dataset"]["source"]
    assumptions = {
        **record["power_assumptions"],
        "cpu_pinned_power_w": None,
        "ram_pinned_power_w": None,
        "power_pinning": NOT_PINNED,
    }
    return {
        **record,
        "schema_version": TO_VERSION,
        "dataset": {**record["dataset"], "source": source.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]},
        "power_assumptions": assumptions,
    }


def record_files(arguments: list[str]) -> list[Path]:
    files = []
    for argument in map(Path, arguments):
        if (argument / RECORD_FILE).is_file():
            files.append(argument / RECORD_FILE)
        else:
            files += sorted(argument.glob(f"*/{RECORD_FILE}"))
    return files


def migrate_file(path: Path) -> str:
    """What was done to one record file, in a line."""
    record = strict_json(path.read_text())
    version = record.get("schema_version")
    if version == FROM_VERSION:
        record = migrated(record)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(record, indent=2, sort_keys=True))
        os.replace(temporary, path)
        action = "migrated to schema 5"
    elif version == TO_VERSION:
        action = "already schema 5, unchanged"
    else:
        return f"{path}: schema {version!r}, neither 4 nor 5: left alone"
    problem = record_problem(record)
    return f"{path}: {action}" + (f"; INVALID: {problem}" if problem else "; valid")


def main(arguments: list[str]) -> int:
    if not arguments:
        print(__doc__, file=sys.stderr)
        return 2
    lines = [migrate_file(path) for path in record_files(arguments)]
    print("\n".join(lines) or "no record found")
    return 1 if not lines or any("INVALID" in line or "left alone" in line for line in lines) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
