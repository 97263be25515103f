"""Which atlas record a page shows: the one measured (or reused) for this build, else the reference atlas.

A build that measures runs or reuses the atlas on its training record's profile
(`prepare_build_atlas`, called once where the build resolves its record) and names
its folder in CONVCARBON_ATLAS. With CONVCARBON_MEASURE=no, and in a chapter run on
its own, the page shows the reference atlas: the newest `seed` atlas of the
TensorFlow backend among the stored and committed ones, else the newest `seed`
atlas, else the newest atlas; with none, one clear error.

Used by: book/atlas.md
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from ..errors import ConvCarbonError
from ..measure.atlas_store import read_atlas_record, scan_atlas_records
from .shown import REFERENCE_PROFILE, measuring

ATLAS_VARIABLE = "CONVCARBON_ATLAS"
REFERENCE_BACKEND = "tensorflow"


def prepare_build_atlas(results_root: Path, profile: str, measured: bool, progress=sys.stderr) -> str:
    """Run or reuse this build's atlas when the build measures, and name it for the chapters' kernels;
    return a key that changes whenever the atlas the pages show, or any atlas they compare, changes."""
    from ..measure.atlas_run import run_atlas
    from ..measure.atlas_store import AtlasStore

    if measured:
        record, _ = run_atlas(profile, AtlasStore(results_root), progress=progress)
        os.environ[ATLAS_VARIABLE] = str(Path(record["path"]).resolve())
    else:
        os.environ.pop(ATLAS_VARIABLE, None)
    digest = hashlib.sha256(os.environ.get(ATLAS_VARIABLE, "reference").encode())
    for record in atlas_records(results_root):
        digest.update(record["fingerprint"].encode() + record["created_utc"].encode())
    return digest.hexdigest()


def atlas_records(results_root: Path | None = None) -> list[dict]:
    """Every valid atlas record in the local results store and among the book's committed records, oldest first."""
    from .book import committed_records_dir, results_dir

    found = []
    for root in (results_root or results_dir(), committed_records_dir()):
        found += scan_atlas_records(root)[0]
    unique = {record["fingerprint"]: record for record in found}  # a committed copy of a local record counts once
    return sorted(unique.values(), key=lambda record: record["created_utc"])


def reference_atlas(records: list[dict]) -> dict:
    """The newest seed atlas of the reference backend, else the newest seed atlas, else the newest atlas."""
    if not records:
        raise ConvCarbonError(
            "no atlas record to show: nothing is measured for this page (CONVCARBON_MEASURE=no, or a chapter "
            "run on its own) and no valid atlas record is in the results store or among the book's records "
            "(book/records); run `python -m convcarbon atlas` first"
        )
    seed = [record for record in records if record["profile"] == REFERENCE_PROFILE]
    backend = [record for record in seed if record["versions"]["keras_backend"] == REFERENCE_BACKEND]
    return max(backend or seed or records, key=lambda record: record["created_utc"])


def atlas_for_page() -> tuple[dict, bool]:
    """(record, measured): the atlas measured for this build (named in CONVCARBON_ATLAS), else the reference atlas."""
    named = os.environ.get(ATLAS_VARIABLE)
    if named and measuring():
        record, problem = read_atlas_record(Path(named))
        if problem:
            raise ConvCarbonError(f"the atlas named by {ATLAS_VARIABLE} ({named}) is unusable: {problem}")
        record["path"] = named
        return record, True
    return reference_atlas(atlas_records()), False
