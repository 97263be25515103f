"""When a build's chapters must run again, and the shown record's files for download.

Used by the package's Sphinx extension (`convcarbon.publish.sphinx_results`) at the
start of every build, whichever command started it. The notebook cache keys on
the chapters' code alone, so it cannot notice new measurements, a changed
package or a changed store: the build key covers the results the pages show,
and every chapter runs again when it changes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..measure.store import CODECARBON_CSV, RECORD_FILE, log_skipped
from .shown import Shown

BUILD_KEY_FILE = ".convcarbon-build-key"
CHAPTERS_DIR = Path("book")
DOWNLOADS_DIR = CHAPTERS_DIR / "_generated"


def build_key(shown: Shown) -> str:
    """Changes whenever the shown record, whether it was measured for this build or is the reference
    record, the package's source, any record in the store or any record committed with the book, or the
    atlas shown or any atlas record, changes. Reports,
    once, every folder the book will skip."""
    from ..measure.provenance import source_sha256

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
