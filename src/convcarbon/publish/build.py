"""What a build of the book shows, and when its chapters must run again.

Used by the package's Sphinx extension (`convcarbon.sphinx_results`) at the
start of every build, whichever command started it. The notebook cache keys on
the chapters' code alone, so it cannot notice new measurements, a changed
package or a changed store: the build key covers the results the pages show,
and every chapter runs again when it changes.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..analyze.machines import COMMITTED_RECORDS, book_records
from ..errors import ConvCarbonError
from ..measure.store import CODECARBON_CSV, RECORD_FILE, ResultStore, log_skipped, read_record
from .shown import measuring, reference_record

BUILD_KEY_FILE = ".convcarbon-build-key"
CHAPTERS_DIR = Path("book")
DOWNLOADS_DIR = CHAPTERS_DIR / "_generated"


def shown_record(results_root: Path, root: Path) -> tuple[dict, Path, bool]:
    """(record, its folder, measured): the record this build's pages show.

    Named in CONVCARBON_RECORD (by `python -m convcarbon book`), else measured or reused now
    under the profile of the environment, and named there for the chapters' kernels; with
    CONVCARBON_MEASURE=no, the reference record, and nothing trains.
    """
    if not measuring():
        os.environ.pop("CONVCARBON_RECORD", None)  # each chapter finds the same reference record
        record = reference_record(book_records(results_root, root / COMMITTED_RECORDS)[0])
        return record, Path(record["path"]), False
    named = os.environ.get("CONVCARBON_RECORD")
    if named:
        record, problem = read_record(Path(named))
        if problem:
            raise ConvCarbonError(f"the record named by CONVCARBON_RECORD ({named}) is unusable: {problem}")
        return record, Path(named), True
    from ..config import resolve_config
    from ..data import resolve_mnist_path
    from ..measure.experiment import run_experiment

    store = ResultStore(results_root)
    record, _ = run_experiment(resolve_config(), store, resolve_mnist_path(None))
    folder = store.folder(record["profile"], record["fingerprint"])
    os.environ["CONVCARBON_RECORD"] = str(folder.resolve())
    return record, folder, True


def build_key(record: dict, results_root: Path, root: Path, measured: bool = True) -> str:
    """Changes whenever the shown record, whether it was measured for this build or is the reference
    record, the package's source, any record in the store or any record committed with the book changes. Reading them
    reports, once, every folder the book will skip."""
    from ..measure.provenance import source_sha256

    digest = hashlib.sha256(record["fingerprint"].encode() + record["created_utc"].encode())
    digest.update(b"measured" if measured else b"reference")
    digest.update(source_sha256().encode())  # the package writes the pages: a reference record stays, the text changes
    records, skipped = book_records(results_root, root / COMMITTED_RECORDS)
    log_skipped(skipped)
    for other in records:
        digest.update(other["fingerprint"].encode() + other["created_utc"].encode())
    return digest.hexdigest()


def copy_downloads(folder: Path, target: Path) -> None:
    """The shown record's files, where the reproducibility chapter links them for download.

    When CodeCarbon failed before writing anything, the CSV offered says so instead.
    """
    target.mkdir(parents=True, exist_ok=True)
    csv = folder / CODECARBON_CSV
    contents = {
        RECORD_FILE: (folder / RECORD_FILE).read_bytes(),
        CODECARBON_CSV: csv.read_bytes()
        if csv.exists()
        else b"note\nCodeCarbon wrote no output in this build; see record.json\n",
    }
    for name, content in contents.items():
        if not (target / name).exists() or (target / name).read_bytes() != content:  # else Sphinx re-reads the page
            (target / name).write_bytes(content)
