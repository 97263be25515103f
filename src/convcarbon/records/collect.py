"""`python -m convcarbon collect SOURCE --into DIR`: records made elsewhere, validated, into the book.

The records come from other machines (CI runners' artifacts, students' uploads)
and are untrusted: each folder is read with the store's reader, which validates
it, and only its `record.json` and `emissions.csv` are copied, each read through
`untrusted.read_untrusted_bytes` (a regular file of limited size, never a link),
never over a different record. Each folder is copied into a staging folder and
renamed into place, so an interrupted collection leaves nothing half-written.

The energy counters reports of the Pages workflow's runners (`counters-<runner class>.json`, written by
`python -m convcarbon counters --json`) are collected the same way: each file at the top of the source folder,
validated by `energy.counters_report`, is copied to the top of the target folder (book/measuring.md shows them);
a bad one is skipped with its reason, and one never replaces a different report of the same name.

Without --into, the records go into the book's own `book/records`, found from the
working folder upwards as the book's commands find the book; a folder given with
--into is taken as given, relative to the working folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from convcarbon.atlas.measure.store import folder_name as atlas_folder_name
from convcarbon.atlas.measure.store import scan_atlas_records
from convcarbon.energy.counters_report import MAX_COUNTERS_BYTES, counters_files, read_counters_report
from convcarbon.errors import ConvCarbonError
from convcarbon.safe import TerminalText, terminal_lines, terminal_text
from convcarbon.training.measure.schema import MAX_RECORD_BYTES

from .store import CODECARBON_CSV, MAX_CODECARBON_CSV_BYTES, RECORD_FILE, ResultStore, scan_records
from .untrusted import read_untrusted_bytes

# Each file copied, with the most bytes it may hold (an atlas record's limit is below a training record's).
COPIED_FILES = {RECORD_FILE: MAX_RECORD_BYTES, CODECARBON_CSV: MAX_CODECARBON_CSV_BYTES}


@dataclass
class Collection:
    added: list[str] = field(default_factory=list)
    already_there: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (folder name, reason)


def collect(source: Path, target: Path) -> Collection:
    """Copy every valid record folder under `source` (a store's layout) into the store `target`: training
    records (with CodeCarbon's CSV) and atlas records (`atlas-*`, book/atlas.md), each validated by its reader."""
    if not Path(source).is_dir():
        raise ConvCarbonError(f"no folder {terminal_text(source, 1000)} to collect records from")
    records, invalid = scan_records(Path(source))
    atlases, invalid_atlases = scan_atlas_records(Path(source))
    collection = Collection(skipped=[(folder.name, problem) for folder, problem in invalid + invalid_atlases])
    store = ResultStore(target)
    expected = [(record, store.key(record["profile"], record["fingerprint"])) for record in records]
    expected += [(atlas, atlas_folder_name(atlas["profile"], atlas["fingerprint"])) for atlas in atlases]
    with store.locked():
        for record, name in expected:
            folder = Path(record["path"])
            files, problem = _copied_files(folder, name)
            if problem is None and (store.root / folder.name).exists():
                problem = _compare(files, store.root / folder.name)
                if problem is None:
                    collection.already_there.append(folder.name)
                    continue
            if problem:
                collection.skipped.append((folder.name, problem))
                continue
            with store.staging() as staging:
                for file_name, content in files.items():
                    (staging / file_name).write_bytes(content)
                os.replace(staging, store.root / folder.name)
            collection.added.append(folder.name)
        _collect_counters_reports(Path(source), store, collection)
    return collection


def _collect_counters_reports(source: Path, store: ResultStore, collection: Collection) -> None:
    """Copy each valid counters report at the top of `source` to the top of the store (its lock held)."""
    for path in counters_files(source):
        _, content, problem = read_counters_report(path)
        existing = store.root / path.name
        if problem is None and (existing.exists() or existing.is_symlink()):
            theirs, _ = read_untrusted_bytes(existing, MAX_COUNTERS_BYTES)
            if theirs == content:
                collection.already_there.append(path.name)
                continue
            problem = f"{existing} already holds a different counters report; not overwritten"
        if problem:
            collection.skipped.append((path.name, problem))
            continue
        with store.staging() as staging:
            (staging / path.name).write_bytes(content)
            os.replace(staging / path.name, existing)
        collection.added.append(path.name)


def _copied_files(folder: Path, expected_name: str) -> tuple[dict[str, bytes], str | None]:
    """({file name: its bytes}, None) for the files of `folder` to copy (a missing CSV left out), else
    ({}, why the folder is not copied)."""
    if folder.name != expected_name:
        return {}, "its folder name does not match its profile and fingerprint"
    if folder.is_symlink():
        return {}, "it is a symbolic link"
    files = {}
    for name, max_bytes in COPIED_FILES.items():
        path = folder / name
        if name == CODECARBON_CSV and not path.exists() and not path.is_symlink():
            continue
        content, problem = read_untrusted_bytes(path, max_bytes)
        if problem:
            return {}, f"its {problem}"
        files[name] = content
    return files, None


def _compare(files: dict[str, bytes], existing: Path) -> str | None:
    """None when `existing` holds the same files, else why it is not replaced."""
    for name, max_bytes in COPIED_FILES.items():
        theirs, _ = read_untrusted_bytes(existing / name, max_bytes)
        if files.get(name) != theirs:
            return f"{existing} already holds a different record of that name; not overwritten"
    return None


def summary_text(collection: Collection, source: Path, target: Path) -> TerminalText:
    """What was collected, for the terminal: each folder skipped with its reason, then the counts."""
    lines = [f"skipped {terminal_text(name)}: {terminal_text(reason)}" for name, reason in collection.skipped]
    lines.append(
        f"collected {len(collection.added)} new record(s) or counters report(s) from {terminal_text(source, 1000)} "
        f"into {terminal_text(target, 1000)}; {len(collection.already_there)} already there, "
        f"{len(collection.skipped)} skipped"
    )
    return terminal_lines(lines)
