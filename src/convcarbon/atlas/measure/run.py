"""Run the atlas on one profile, or reuse its stored record when nothing that changes it has changed.

The fingerprint covers the grid and its settings, the package's source, the
package versions (Keras backend included) and the machine's identity, so a
second run on the same machine with the same code reuses the record in seconds.

Used by: book/atlas.md
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from datetime import datetime, timezone
from importlib import metadata

from convcarbon.energy.counter_reading import NO_COUNTER_NOTE, find_counter
from convcarbon.records.hardware import IDENTITY_FIELDS, hardware_info
from convcarbon.records.provenance import git_commit, source_sha256, versions
from convcarbon.records.quietness import Calibrator, quietness
from convcarbon.safe import terminal_text

from .checks import physical_checks
from .grid import atlas_config, atlas_settings, grid_shapes
from .passes import PASS_RULES
from .schema import ATLAS_SCHEMA_VERSION, atlas_record_problem
from .store import AtlasStore
from .timing import measure_ceilings, merge_ceilings, recheck_beaten_ceilings, time_grid

# The backends Keras 3 can run on, each recorded with its version where installed.
BACKEND_DISTRIBUTIONS = ("tensorflow", "jax", "jaxlib", "torch")


def atlas_versions() -> dict:
    found = versions()
    for name in BACKEND_DISTRIBUTIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def atlas_fingerprint(config: dict, source: str, versions: dict, hardware: dict) -> str:
    """sha256 over the canonical JSON of everything that changes an atlas."""
    inputs = {
        "kind": "atlas",
        "schema_version": ATLAS_SCHEMA_VERSION,
        "config": config,
        "source_sha256": source,
        "versions": versions,
        "hardware": {key: hardware[key] for key in IDENTITY_FIELDS},
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _measure(profile: str, config: dict, counter, progress) -> dict:
    """The record's measured parts: the harness, the quietness evidence, the ceilings and the points.
    The calibration runs first, after each shape and last; the ceilings before and after the grid."""
    calibrator, shapes, settings = Calibrator(), grid_shapes(profile), atlas_settings(profile)
    calibrator.calibrate("before")
    ceilings = measure_ceilings(shapes, settings.square_sizes)
    points, harness, remeasured = time_grid(shapes, settings, counter, calibrator, config["seed"], progress)
    after = measure_ceilings(shapes, settings.square_sizes)
    ceilings = recheck_beaten_ceilings(merge_ceilings(ceilings, after), points)
    calibrator.calibrate("after")
    kept_drifts = [point["calibration_drift"] for point in points]
    summary = quietness(calibrator.readings, os.cpu_count() or 1, remeasured, kept_drifts)
    return {
        "harness": harness,
        "quietness": {**summary, "calibrations": calibrator.readings},
        "ceilings": ceilings,
        "points": points,
    }


def measurement_evidence(record: dict) -> dict:
    """What `atlas --json` shows beside the points: the passes' rule, the harness's cost per call, the
    quietness evidence and the ceilings. A version-1 atlas stored none of the first three: they are None,
    and `missing` says so."""
    evidence = {key: record.get(key) for key in ("passes", "harness", "quietness")}
    missing = [key for key, value in evidence.items() if value is None]
    return {
        "schema_version": record["schema_version"],
        **evidence,
        "ceilings": record["ceilings"],
        "missing": (
            f"not recorded (atlas schema {record['schema_version']}): {', '.join(missing)}" if missing else None
        ),
    }


STDERR = object()  # the progress default: the standard error stream of the moment the atlas runs


def run_atlas(profile: str, store: AtlasStore, refresh: bool = False, progress=STDERR) -> tuple[dict, bool]:
    """(record, reused): the stored atlas of this work, or a new one measured now and stored. Progress lines
    go to `progress` (None: silent), by default to sys.stderr as it is when this runs (a default bound at
    import would keep whichever stream was current then, as a test's captured one)."""
    if progress is STDERR:
        progress = sys.stderr
    config = atlas_config(profile)
    hardware, found_versions, source = hardware_info(), atlas_versions(), source_sha256()
    fingerprint = atlas_fingerprint(config, source, found_versions, hardware)
    with store.locked():
        if not refresh:
            record, problem = store.load(profile, fingerprint)
            if record is not None:
                if progress is not None:
                    print(f"atlas: reusing {store.folder(profile, fingerprint)}", file=progress, flush=True)
                return record, True
            if problem and progress is not None:
                print(
                    f"atlas: the stored atlas is unusable ({terminal_text(problem)}); measuring again",
                    file=progress,
                    flush=True,
                )
        counter, commit = find_counter(), git_commit()  # the commit as the run starts, before any later edit
        start = time.perf_counter()
        try:
            measured = _measure(profile, config, counter, progress)
        finally:
            if counter is not None:
                counter.close()
        record = {
            "kind": "atlas",
            "schema_version": ATLAS_SCHEMA_VERSION,
            "fingerprint": fingerprint,
            "profile": profile,
            "config": config,
            "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "duration_s": time.perf_counter() - start,
            **commit,
            "hardware": hardware,
            "versions": found_versions,
            "source_sha256": source,
            "energy": {
                "method": "none" if counter is None else "counter",
                "counter": None if counter is None else counter.name,
                "note": NO_COUNTER_NOTE
                if counter is None
                else f"the energy of each block of calls, read on the counter before and after ({counter.name})",
                "assumed_power_w": None,
            },
            "passes": dict(PASS_RULES),
            **measured,
        }
        record["checks"] = physical_checks(record)
        if record["git_commit"] is None:
            del record["git_commit"], record["git_dirty"]
        problem = atlas_record_problem(record)
        if problem:  # a measurement this code cannot store is a bug here, not the user's fault
            raise RuntimeError(f"the atlas just measured fails its own schema: {problem}")
        with store.staging() as staging:
            folder = store.commit(staging, record)
        record["path"] = str(folder)
        if progress is not None:
            print(f"atlas: stored {folder}", file=progress, flush=True)
        return record, False
