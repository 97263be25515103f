"""Atlas records in a results store, beside the training records: `<root>/atlas-<profile>-<fingerprint[:16]>/`.

The results store (`store.FolderStore`) told the atlas's folder prefix and its reader: the same lock,
staging folder and atomic commit as the training records. Every record read is untrusted: read only
from a regular file (never through a link), up to a size limit, with NaN and Infinity refused, and used
only if it passes the atlas schema. The training store skips these folders.

Used by: book/atlas.md
"""

from __future__ import annotations

import os
from pathlib import Path

from convcarbon.records.store import ATLAS_FOLDER_PREFIX as FOLDER_PREFIX
from convcarbon.records.store import FolderStore, RecordFolders
from convcarbon.records.untrusted import read_untrusted_json

from .schema import MAX_ATLAS_RECORD_BYTES, atlas_record_problem


def read_atlas_record_file(path: Path) -> tuple[dict | None, str | None]:
    """(record, None) for a sound atlas record file, or (None, what is wrong with it): read as every record is
    (`untrusted.read_untrusted_json`), then checked against the atlas schema."""
    record, problem = read_untrusted_json(Path(path), MAX_ATLAS_RECORD_BYTES)
    if problem is None:
        problem = atlas_record_problem(record)
    return (None, problem) if problem else (record, None)


ATLAS_RECORDS = RecordFolders(prefix=FOLDER_PREFIX, read_file=read_atlas_record_file)
folder_name = ATLAS_RECORDS.folder_name
read_atlas_record = ATLAS_RECORDS.read  # one atlas folder: (record, None) or (None, what is wrong with it)
scan_atlas_records = ATLAS_RECORDS.scan  # every atlas folder under a root: (records oldest first, skipped)


class AtlasStore(FolderStore):
    """The atlas records of a results store."""

    def __init__(self, root: os.PathLike | str):
        super().__init__(root, ATLAS_RECORDS)
