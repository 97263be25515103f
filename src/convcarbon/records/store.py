"""The results store: one folder per record, written atomically, shared by many machines and by two kinds of record.

Layout: `<root>/<prefix><profile>-<fingerprint[:16]>/record.json`, where each kind of record
(`RecordFolders`) names its prefix and its reader: training records (no prefix; their folder also
holds `emissions.csv`, CodeCarbon's own CSV) and atlas records (`atlas-`, `atlas_store`). One
`FolderStore` serves both: a run writes into a hidden staging folder and renames it into place only
when everything is written, so an interrupted run leaves no partial record, and one file lock per
store keeps any two runs on it (a training, an atlas, a `collect`) from racing.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from convcarbon.errors import StoreError
from convcarbon.safe import terminal_text
from convcarbon.training.measure.schema import MAX_RECORD_BYTES, record_problem

from .untrusted import read_untrusted_json, scan_folders

COMMITTED_RECORDS = Path("book") / "records"  # the book's records, relative to the book's folder

RECORD_FILE = "record.json"
CODECARBON_CSV = "emissions.csv"
MAX_CODECARBON_CSV_BYTES = 20 * 2**20  # far above any CodeCarbon CSV of a record
STAGING_PREFIX = ".staging-"
LOCK_FILE = ".lock"
ATLAS_FOLDER_PREFIX = "atlas-"  # atlas records (`atlas_store`) share the folder; not training records

logger = logging.getLogger(__name__)

Reader = Callable[[Path], tuple[dict | None, str | None]]


@dataclass(frozen=True)
class RecordFolders:
    """One kind of record in a results store: the prefix of its folders' names, the reader of its record file
    (`(record, None)` or `(None, what is wrong with it)`), and the prefixes of other kinds that it leaves alone."""

    prefix: str
    read_file: Reader
    others: tuple[str, ...] = ()

    def folder_name(self, profile: str, fingerprint: str) -> str:
        return f"{self.prefix}{profile}-{fingerprint[:16]}"

    def owns(self, name: str) -> bool:
        """Whether a folder of this name holds this kind; hidden folders (staging, the lock) never do."""
        return name.startswith(self.prefix) and not name.startswith((".", *self.others))

    def read(self, folder: Path) -> tuple[dict | None, str | None]:
        """(record, None) for the sound record of one of its folders, or (None, what is wrong with it)."""
        if Path(folder).is_symlink():
            return None, "a symbolic link, which is refused"
        return self.read_file(Path(folder) / RECORD_FILE)

    def scan(self, root: os.PathLike | str) -> tuple[list[dict], list[tuple[Path, str]]]:
        """Every valid record of this kind under `root` (a store's layout), oldest first, each with its folder
        as `path`, and every folder of this kind skipped, with the reason. `root` need not exist."""
        root = Path(root)
        folders = sorted(root.iterdir()) if root.is_dir() else []
        return scan_folders((folder for folder in folders if folder.is_dir() and self.owns(folder.name)), self.read)


def writable_store_root(root: os.PathLike | str) -> Path:
    """The results folder, created if missing; one clear error when it cannot be written."""
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(f"results directory {root}: cannot create it ({error.strerror})") from None
    if not root.is_dir() or not os.access(root, os.W_OK | os.X_OK):
        raise StoreError(f"results directory {root}: not a writable directory")
    return root


class FolderStore:
    """The records of one kind (`kind`) in the results folder `root`: one lock, one atomic commit, one load,
    one scan. `ResultStore` (training records) and `atlas_store.AtlasStore` are this store, told their kind."""

    def __init__(self, root: os.PathLike | str, kind: RecordFolders):
        self.root = writable_store_root(root)
        self.kind = kind

    def folder(self, profile: str, fingerprint: str) -> Path:
        return self.root / self.kind.folder_name(profile, fingerprint)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's one lock (every kind's); clear staging folders that a killed run left behind."""
        with FileLock(self.root / LOCK_FILE):
            for stale in self.root.glob(STAGING_PREFIX + "*"):
                shutil.rmtree(stale, ignore_errors=True)
            yield

    def load(self, profile: str, fingerprint: str) -> tuple[dict | None, str | None]:
        """(the stored record of this fingerprint, None); (None, None) when there is none; (None, what is wrong
        with it) when its folder holds no usable record of this fingerprint."""
        folder = self.folder(profile, fingerprint)
        if not folder.exists():
            return None, None
        record, problem = self.kind.read(folder)
        if problem is None and record["fingerprint"] != fingerprint:
            problem = "its fingerprint does not match its folder"
        return (None, problem) if problem else (record, None)

    @contextmanager
    def staging(self) -> Iterator[Path]:
        """A fresh folder to write a result into; removed unless `commit` moved it."""
        folder = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.root))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def commit(self, staging_folder: Path, record: dict) -> Path:
        """Write the record last, then rename the whole staging folder into place (over an older one)."""
        _write_json_atomically(staging_folder / RECORD_FILE, record)
        target = self.folder(record["profile"], record["fingerprint"])
        if target.exists():  # --refresh, or a damaged record being replaced
            retired = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.root))
            os.replace(target, retired / "old")
            shutil.rmtree(retired, ignore_errors=True)
        os.replace(staging_folder, target)
        return target

    def records(self) -> list[dict]:
        """Every valid record of this kind in the store, from every machine, oldest first; each folder skipped
        is logged."""
        records, skipped = self.kind.scan(self.root)
        log_skipped(skipped)
        return records


def read_record_file(path: Path) -> tuple[dict | None, str | None]:
    """(record, None) for a sound training record file, or (None, what is wrong with it).

    Every record is untrusted (anyone can commit or hand in one): it is read only through
    `read_untrusted_json`, and used only if it matches the record schema.
    """
    record, problem = read_untrusted_json(Path(path), MAX_RECORD_BYTES)
    if problem is None:
        problem = record_problem(record)
    return (None, problem) if problem else (record, None)


TRAINING_RECORDS = RecordFolders(prefix="", read_file=read_record_file, others=(ATLAS_FOLDER_PREFIX,))


class ResultStore(FolderStore):
    """The training records of a results store."""

    key = staticmethod(TRAINING_RECORDS.folder_name)

    def __init__(self, root: os.PathLike | str):
        super().__init__(root, TRAINING_RECORDS)

    def reusable(self, profile: str, fingerprint: str) -> dict | None:
        """The stored record of this work if it can stand for a new measurement; else None, with the reason
        logged: a damaged record, or one whose energy was not measured, is measured again."""
        record, problem = self.load(profile, fingerprint)
        folder = self.folder(profile, fingerprint)
        if problem:
            logger.warning(
                "ignoring damaged result %s: %s; measuring again",
                terminal_text(folder, 1000),
                terminal_text(problem, 1000),
            )
            return None
        if record is not None and any(
            part and part.get("energy_missing_reason") for part in (record["idle"], *record["runs"])
        ):
            logger.warning(
                "the stored result %s has no energy measurement; measuring again", terminal_text(folder, 1000)
            )
            return None
        return record


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
    """Every valid training record under `root`, oldest first, and every folder skipped, with the reason."""
    return TRAINING_RECORDS.scan(root)


def read_record(folder: Path) -> tuple[dict | None, str | None]:
    """(record, None) for the sound training record of a store's folder, or (None, what is wrong with it)."""
    return TRAINING_RECORDS.read(folder)


def _write_json_atomically(path: Path, payload: dict) -> None:
    temporary = path.with_suffix(".tmp")
    with open(temporary, "w") as handle:
        json.dump(payload, handle, indent=1, sort_keys=True, allow_nan=False)  # the reader refuses NaN too
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
