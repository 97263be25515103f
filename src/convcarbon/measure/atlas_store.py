"""Atlas records in a results store, beside the training records: `<root>/atlas-<profile>-<fingerprint[:16]>/`.

The same rules as the training store: a run writes into a hidden staging folder
and renames it into place only when complete, a file lock keeps two runs apart,
and every record read is untrusted: read only from a regular file (never through a
link), up to a size limit, with NaN and Infinity refused, and used only if it
passes the atlas schema. The training store skips these folders.

Used by: book/atlas.md
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock

from .atlas_schema import MAX_ATLAS_RECORD_BYTES, atlas_record_problem
from .store import ATLAS_FOLDER_PREFIX as FOLDER_PREFIX
from .store import writable_store_root
from .untrusted import read_untrusted_json, scan_folders

RECORD_FILE = "record.json"
STAGING_PREFIX = ".staging-atlas-"


def folder_name(profile: str, fingerprint: str) -> str:
    return f"{FOLDER_PREFIX}{profile}-{fingerprint[:16]}"


class AtlasStore:
    def __init__(self, root: os.PathLike | str):
        self.root = writable_store_root(root)

    def folder(self, profile: str, fingerprint: str) -> Path:
        return self.root / folder_name(profile, fingerprint)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's atlas lock; clear atlas staging folders that a killed run left behind."""
        with FileLock(self.root / ".atlas.lock"):
            for stale in self.root.glob(STAGING_PREFIX + "*"):
                shutil.rmtree(stale, ignore_errors=True)
            yield

    def load(self, profile: str, fingerprint: str) -> tuple[dict | None, str | None]:
        """(the stored record for this fingerprint, None), or (None, why there is none usable)."""
        folder = self.folder(profile, fingerprint)
        if not folder.exists():
            return None, None
        record, problem = read_atlas_record(folder)
        if problem is None and record["fingerprint"] != fingerprint:
            problem = "its fingerprint does not match its folder"
        return (None, problem) if problem else (record, None)

    def commit(self, record: dict) -> Path:
        """Write the record into a staging folder, then rename the folder into place."""
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.root))
        try:
            path = staging / RECORD_FILE
            with open(path, "w") as handle:
                json.dump(record, handle, indent=1, sort_keys=True, allow_nan=False)
                handle.flush()
                os.fsync(handle.fileno())
            target = self.folder(record["profile"], record["fingerprint"])
            if target.exists():  # --refresh, or a damaged record being replaced
                retired = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.root))
                os.replace(target, retired / "old")
                shutil.rmtree(retired, ignore_errors=True)
            os.replace(staging, target)
            return target
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def scan_atlas_records(root: os.PathLike | str) -> tuple[list[dict], list[tuple[Path, str]]]:
    """Every valid atlas record under `root`, oldest first, each with its folder as `path`,
    and every atlas folder skipped, with the reason."""
    root = Path(root)
    return scan_folders(sorted(root.glob(FOLDER_PREFIX + "*")) if root.is_dir() else [], read_atlas_record)


def read_atlas_record(folder: Path) -> tuple[dict | None, str | None]:
    """(record, None) for a sound atlas record folder, or (None, what is wrong with it): read as every
    record is (`untrusted.read_untrusted_json`), then checked against the atlas schema."""
    folder = Path(folder)
    if folder.is_symlink():
        return None, "a symbolic link, which is refused"
    record, problem = read_untrusted_json(folder / RECORD_FILE, MAX_ATLAS_RECORD_BYTES)
    if problem is None:
        problem = atlas_record_problem(record)
    return (None, problem) if problem else (record, None)
