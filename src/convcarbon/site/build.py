"""When a build's chapters must run again, and the shown record's files for download.

Used by the package's Sphinx extension (`convcarbon.site.sphinx_results`) at the
start of every build, whichever command started it. The notebook cache keys on
the chapters' code alone, so it cannot notice new measurements, a changed
package or a changed store: the build key covers the results the pages show,
and every chapter runs again when it changes.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from convcarbon.records.store import CODECARBON_CSV, MAX_CODECARBON_CSV_BYTES, RECORD_FILE, log_skipped
from convcarbon.records.untrusted import read_untrusted_bytes
from convcarbon.safe import csv_cell, terminal_text
from convcarbon.training.measure.schema import MAX_RECORD_BYTES

from .shown import Shown

BUILD_KEY_FILE = ".convcarbon-build-key"
CHAPTERS_DIR = Path("book")
DOWNLOADS_DIR = CHAPTERS_DIR / "_generated"
OFFERED_FILES = {RECORD_FILE: MAX_RECORD_BYTES, CODECARBON_CSV: MAX_CODECARBON_CSV_BYTES}

logger = logging.getLogger(__name__)


def build_key(shown: Shown) -> str:
    """Changes whenever the shown record, whether it was measured for this build or is the reference
    record, the package's source, any record in the store or any record committed with the book, or the
    atlas shown or any atlas record, changes. Reports,
    once, every folder the book will skip."""
    from convcarbon.records.provenance import source_sha256

    record = shown.record
    digest = hashlib.sha256(record["fingerprint"].encode() + record["created_utc"].encode())
    digest.update(b"measured" if shown.measured else b"reference")
    digest.update(source_sha256().encode())  # the package writes the pages: a reference record stays, the text changes
    log_skipped(list(shown.skipped))
    for other in shown.records:
        digest.update(other["fingerprint"].encode() + other["created_utc"].encode())
    digest.update(str(shown.atlas_folder or "reference atlas").encode())  # book/atlas.md
    for atlas in shown.atlases:
        digest.update(atlas["fingerprint"].encode() + atlas["created_utc"].encode())
    return digest.hexdigest()


def copy_downloads(folder: Path, target: Path) -> None:
    """The shown record's files, where the reproducibility chapter links them for download.

    Each is read as untrusted input (`read_untrusted_bytes`: a regular file of limited size, never through a
    link), since a record committed to book/records is shown as it is. A file refused is not offered: the file
    offered in its place says why, and so does the build, on stderr. When CodeCarbon failed before writing
    anything, the CSV offered says so instead.
    """
    target.mkdir(parents=True, exist_ok=True)
    contents = {name: _offered(folder / name, max_bytes) for name, max_bytes in OFFERED_FILES.items()}
    for name, content in contents.items():
        if not (target / name).exists() or (target / name).read_bytes() != content:  # else Sphinx re-reads the page
            (target / name).write_bytes(content)


def _offered(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, or a note in the file's own format saying why they are not offered."""
    if path.name == CODECARBON_CSV and not path.exists() and not path.is_symlink():
        return b"note\nCodeCarbon wrote no output in this build; see record.json\n"
    content, problem = read_untrusted_bytes(path, max_bytes)
    if problem is None:
        return content
    logger.warning("the shown record's %s is not offered for download: %s", path.name, terminal_text(problem))
    note = f"not offered for download: {problem}"
    if path.name == CODECARBON_CSV:
        return f"note\n{csv_cell(note)}\n".encode()
    return json.dumps({"note": note}).encode()
