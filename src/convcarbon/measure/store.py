"""The results store: one folder per fingerprint, written atomically, shared by many machines.

Layout: `<root>/<profile>-<fingerprint[:16]>/record.json` and `emissions.csv`
(CodeCarbon's own CSV). A run writes into a hidden staging folder and renames
it into place only when everything is written, so an interrupted run leaves
no partial record. A file lock keeps two runs on one store from racing.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock

from ..errors import StoreError
from ..safe import terminal_text
from .schema import MAX_RECORD_BYTES, record_problem
from .untrusted import read_untrusted_json, scan_folders

RECORD_FILE = "record.json"
CODECARBON_CSV = "emissions.csv"
MAX_CODECARBON_CSV_BYTES = 20 * 2**20  # far above any CodeCarbon CSV of a record
STAGING_PREFIX = ".staging-"
ATLAS_FOLDER_PREFIX = "atlas-"  # atlas records (`atlas_store`) share the folder; not training records

logger = logging.getLogger(__name__)


def writable_store_root(root: os.PathLike | str) -> Path:
    """The results folder, created if missing; one clear error when it cannot be written.
    Used by `ResultStore` and `atlas_store.AtlasStore`, which share one folder."""
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(f"results directory {root}: cannot create it ({error.strerror})") from None
    if not root.is_dir() or not os.access(root, os.W_OK | os.X_OK):
        raise StoreError(f"results directory {root}: not a writable directory")
    return root


class ResultStore:
    def __init__(self, root: os.PathLike | str):
        self.root = writable_store_root(root)

    @staticmethod
    def key(profile: str, fingerprint: str) -> str:
        return f"{profile}-{fingerprint[:16]}"

    def folder(self, profile: str, fingerprint: str) -> Path:
        return self.root / self.key(profile, fingerprint)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's lock; clear staging folders that a killed run left behind."""
        with FileLock(self.root / ".lock"):
            for stale in self.root.glob(STAGING_PREFIX + "*"):
                shutil.rmtree(stale, ignore_errors=True)
            yield

    def load(self, profile: str, fingerprint: str) -> dict | None:
        """The stored record for this fingerprint, or None if there is none or it is damaged."""
        folder = self.folder(profile, fingerprint)
        if not folder.exists():
            return None
        record, problem = read_record(folder)
        if problem is None and record["fingerprint"] != fingerprint:
            problem = "its fingerprint does not match its folder"
        if problem:
            logger.warning(
                "ignoring damaged result %s: %s; measuring again",
                terminal_text(folder, 1000),
                terminal_text(problem, 1000),
            )
            return None
        if any(part and part.get("energy_missing_reason") for part in (record["idle"], *record["runs"])):
            logger.warning(
                "the stored result %s has no energy measurement; measuring again", terminal_text(folder, 1000)
            )
            return None
        return record

    @contextmanager
    def staging(self) -> Iterator[Path]:
        """A fresh folder to write a result into; removed unless `commit` moved it."""
        folder = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.root))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def commit(self, staging_folder: Path, record: dict) -> Path:
        """Write the record last, then rename the whole folder into place."""
        _write_json_atomically(staging_folder / RECORD_FILE, record)
        target = self.folder(record["profile"], record["fingerprint"])
        if target.exists():  # --refresh, or a damaged record being replaced
            retired = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.root))
            os.replace(target, retired / "old")
            shutil.rmtree(retired, ignore_errors=True)
        os.replace(staging_folder, target)
        return target

    def records(self) -> list[dict]:
        """Every valid record in the store, from every machine, oldest first."""
        return read_records(self.root)


def read_records(root: Path) -> list[dict]:
    """Every valid record under `root` (a store's layout), oldest first; each folder skipped is logged."""
    records, skipped = scan_records(root)
    log_skipped(skipped)
    return records


def log_skipped(skipped: list[tuple[Path, str]]) -> None:
    """One warning per folder skipped; its name and the reason escaped for the terminal (`safe.terminal_text`)."""
    for folder, problem in skipped:
        logger.warning("skipping result %s: %s", terminal_text(folder, 1000), terminal_text(problem, 1000))


def scan_records(root: Path) -> tuple[list[dict], list[tuple[Path, str]]]:
    """Every valid record under `root`, oldest first, and every folder skipped, with the reason."""
    folders = sorted(Path(root).iterdir()) if Path(root).is_dir() else []
    # Hidden folders (staging, the lock) and atlases (atlas_store's) are not training records.
    return scan_folders(
        (folder for folder in folders if folder.is_dir() and not folder.name.startswith((".", ATLAS_FOLDER_PREFIX))),
        read_record,
    )


def read_record(folder: Path) -> tuple[dict | None, str | None]:
    """(record, None) for the sound record of a store's folder, or (None, what is wrong with it)."""
    if Path(folder).is_symlink():
        return None, "a symbolic link, which is refused"
    return read_record_file(Path(folder) / RECORD_FILE)


def read_record_file(path: Path) -> tuple[dict | None, str | None]:
    """(record, None) for a sound record file, or (None, what is wrong with it).

    Every record is untrusted (anyone can commit or hand in one): it is read only through
    `read_untrusted_json`, and used only if it matches the record schema.
    """
    record, problem = read_untrusted_json(Path(path), MAX_RECORD_BYTES)
    if problem is None:
        problem = record_problem(record)
    return (None, problem) if problem else (record, None)


def _write_json_atomically(path: Path, payload: dict) -> None:
    temporary = path.with_suffix(".tmp")
    with open(temporary, "w") as handle:
        json.dump(payload, handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
