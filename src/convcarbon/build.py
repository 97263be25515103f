"""`python -m convcarbon book`: measure (or reuse), then build the Jupyter Book.

The notebook cache keys on the chapters' code alone, so it cannot notice new
measurements, a changed package or a changed store. This module keys the
whole build on the results it shows and rebuilds every page when they change.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .machines import book_records
from .shown import MEASURE_VARIABLE
from .store import CODECARBON_CSV, RECORD_FILE, ResultStore, log_skipped

BUILD_KEY_FILE = ".convcarbon-build-key"
DOWNLOADS_DIR = Path("book") / "_generated"


def build_book(record: dict, folder: Path, store: ResultStore, root: Path, measured: bool) -> int:
    """Build the site into root/_build/html, showing `record` (stored in `folder`) as measured for this
    build or, with measured=False, as the reference record; return jupyter-book's exit code."""
    _copy_downloads(folder, root / DOWNLOADS_DIR)
    build_dir = root / "_build"
    key = build_key(record, store, root, measured)
    key_file = build_dir / BUILD_KEY_FILE
    command = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(root), "-W", "-n", "--keep-going"]
    if not key_file.exists() or key_file.read_text() != key:
        # New results: drop cached notebook outputs and re-read every page.
        shutil.rmtree(build_dir / ".jupyter_cache", ignore_errors=True)
        command.append("--all")
    environment = {name: value for name, value in os.environ.items() if name != "CONVCARBON_RECORD"}
    environment.update({"CONVCARBON_RESULTS": str(store.root.resolve()), MEASURE_VARIABLE: "yes" if measured else "no"})
    if measured:  # else each chapter finds the same reference record
        environment["CONVCARBON_RECORD"] = str(folder.resolve())
    print(f"Building the book from result {folder.name}: {' '.join(command[1:])}", file=sys.stderr, flush=True)
    completed = subprocess.run(command, env=environment, cwd=root)
    if completed.returncode == 0:
        key_file.write_text(key)
    elif key_file.exists():
        key_file.unlink()
    return completed.returncode


def build_key(record: dict, store: ResultStore, root: Path, measured: bool = True) -> str:
    """Changes whenever the shown record, whether it was measured for this build or is the reference
    record, any record in the store or any record committed with the book changes. Reading them
    reports, once, every folder the book will skip."""
    digest = hashlib.sha256(record["fingerprint"].encode() + record["created_utc"].encode())
    digest.update(b"measured" if measured else b"reference")
    records, skipped = book_records(store.root, root)
    log_skipped(skipped)
    for other in records:
        digest.update(other["fingerprint"].encode() + other["created_utc"].encode())
    return digest.hexdigest()


def _copy_downloads(folder: Path, target: Path) -> None:
    """The shown record's files, where the reproducibility chapter links them for download.

    When CodeCarbon failed before writing anything, the CSV offered says so instead.
    """
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(folder / RECORD_FILE, target / RECORD_FILE)
    if (folder / CODECARBON_CSV).exists():
        shutil.copyfile(folder / CODECARBON_CSV, target / CODECARBON_CSV)
    else:
        (target / CODECARBON_CSV).write_text("note\nCodeCarbon wrote no output in this build; see record.json\n")
