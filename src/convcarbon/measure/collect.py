"""`python -m convcarbon collect SOURCE --into DIR`: records made elsewhere, validated, into the book.

The records come from other machines (CI runners' artifacts, students' uploads)
and are untrusted: each folder is read with the store's reader, which validates
it, and only its `record.json` and `emissions.csv` are copied, never a link and
never over a different record. Each folder is copied into a staging folder and
renamed into place, so an interrupted collection leaves nothing half-written.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConvCarbonError
from ..safe import terminal_text
from .atlas_store import folder_name as atlas_folder_name
from .atlas_store import scan_atlas_records
from .store import CODECARBON_CSV, RECORD_FILE, ResultStore, scan_records

COPIED_FILES = (RECORD_FILE, CODECARBON_CSV)
MAX_FILE_BYTES = 20 * 1024 * 1024  # far above any real record or CodeCarbon CSV


@dataclass
class Collection:
    added: list[str] = field(default_factory=list)
    already_there: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (folder name, reason)


def collect(source: Path, target: Path) -> Collection:
    """Copy every valid record folder under `source` (a store's layout) into the store `target`: training
    records (with CodeCarbon's CSV) and atlas records (`atlas-*`, book/atlas.md), each validated by its reader."""
    if not Path(source).is_dir():
        raise ConvCarbonError(f"no folder {source} to collect records from")
    records, invalid = scan_records(Path(source))
    atlases, invalid_atlases = scan_atlas_records(Path(source))
    collection = Collection(skipped=[(folder.name, problem) for folder, problem in invalid + invalid_atlases])
    store = ResultStore(target)
    expected = [(record, store.key(record["profile"], record["fingerprint"])) for record in records]
    expected += [(atlas, atlas_folder_name(atlas["profile"], atlas["fingerprint"])) for atlas in atlases]
    with store.locked():
        for record, name in expected:
            folder = Path(record["path"])
            problem = _unsafe_folder(folder, name)
            if problem is None and (store.root / folder.name).exists():
                problem = _compare(folder, store.root / folder.name)
                if problem is None:
                    collection.already_there.append(folder.name)
                    continue
            if problem:
                collection.skipped.append((folder.name, problem))
                continue
            with store.staging() as staging:
                for name in COPIED_FILES:
                    if (folder / name).exists():
                        shutil.copyfile(folder / name, staging / name)
                os.replace(staging, store.root / folder.name)
            collection.added.append(folder.name)
    return collection


def _unsafe_folder(folder: Path, expected_name: str) -> str | None:
    if folder.name != expected_name:
        return "its folder name does not match its profile and fingerprint"
    if folder.is_symlink():
        return "it is a symbolic link"
    for name in COPIED_FILES:
        path = folder / name
        if path.is_symlink() or (path.exists() and not path.is_file()):
            return f"its {name} is not a plain file"
        if path.exists() and path.stat().st_size > MAX_FILE_BYTES:
            return f"its {name} is larger than {MAX_FILE_BYTES // 2**20} MiB"
    return None


def _compare(folder: Path, existing: Path) -> str | None:
    """None when `existing` holds the same files as `folder`, else why it is not replaced."""
    for name in COPIED_FILES:
        ours, theirs = folder / name, existing / name
        if ours.exists() != theirs.exists() or (ours.exists() and ours.read_bytes() != theirs.read_bytes()):
            return f"{existing} already holds a different record of that name; not overwritten"
    return None


def summary_lines(collection: Collection, source: Path, target: Path) -> list[str]:
    lines = [f"skipped {terminal_text(name)}: {terminal_text(reason)}" for name, reason in collection.skipped]
    lines.append(
        f"collected {len(collection.added)} new record(s) from {source} into {target}; "
        f"{len(collection.already_there)} already there, {len(collection.skipped)} folder(s) skipped"
    )
    return lines
