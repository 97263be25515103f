"""What an atlas record may hold: checked before any atlas record is used, since anyone can commit one.

Strict: every object lists its properties and refuses others, every number is
bounded, every string and list is size-limited. Beyond the schema a record is
refused when it holds NaN or Infinity, an absolute path, a date in the future, a
count that does not follow from its own shape, or a median outside its range.

Used by: book/atlas.md
"""

from __future__ import annotations

import math
import re
import statistics

from convcarbon.config import RECORD_PROFILES
from convcarbon.safe import NO_CONTROL_PATTERN
from convcarbon.training.measure.schema import (  # as in a training record
    CREATED_UTC,
    DRIFT,
    GIT_COMMIT,
    HARDWARE,
    QUIETNESS_FIELDS,
    date_problem,
    exact_object,
    schema_mismatch,
)

from .checks import CHECKS
from .grid import LAYERS, PASSES, Shape, byte_count, macs

ATLAS_SCHEMA_VERSION = 2
READABLE_SCHEMA_VERSIONS = (1, 2)  # version 1 (before the passes, samples and quietness evidence) stays readable
MAX_ATLAS_RECORD_BYTES = 4 * 2**20
MAX_POINTS = 4000
MAX_SECONDS = 3600.0
MAX_COUNT = 10**16  # multiply-accumulates or bytes of one call: far beyond any layer
MAX_RATE = 10**18  # per second: far beyond any machine
MAX_CHANNELS = 65_536
MAX_SIDE = 4096
MAX_BATCH = 65_536
MAX_KERNEL = 31
MAX_SAMPLES = 200  # timed samples of one point
MAX_CEILING_MEASUREMENTS = 100

NAME = {"type": "string", "maxLength": 200}
OPTIONAL_NAME = {"type": ["string", "null"], "maxLength": 200, "pattern": NO_CONTROL_PATTERN}
TEXT = {"type": "string", "maxLength": 600}
SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
SECONDS = {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_SECONDS}
COUNT = {"type": "integer", "minimum": 1, "maximum": MAX_COUNT}
RATE = {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_RATE}
OPTIONAL_FLAG = {"type": ["boolean", "null"]}


def _whole(minimum: int, maximum: int) -> dict:
    return {"type": "integer", "minimum": minimum, "maximum": maximum}


POINT_V1 = exact_object(
    {
        "layer": {"enum": list(LAYERS)},
        "channels_in": _whole(1, MAX_CHANNELS),
        "channels_out": _whole(1, MAX_CHANNELS),
        "kernel": _whole(1, MAX_KERNEL),
        "height": _whole(1, MAX_SIDE),
        "width": _whole(1, MAX_SIDE),
        "padding": {"enum": ["same", "valid"]},
        "batch": _whole(1, MAX_BATCH),
        "book_layer": {"enum": ["conv_1", "conv_2", None]},
        "pass": {"enum": list(PASSES)},
        "macs": COUNT,
        "bytes": COUNT,
        "median_s": SECONDS,
        "low_s": SECONDS,
        "high_s": SECONDS,
        "samples": _whole(1, 1000),
        "calls_per_sample": _whole(1, 100_000),
        "energy_j": {"type": ["number", "null"], "minimum": 0, "maximum": 1e6},
    }
)
CONFIG_V1 = exact_object(
    {
        "profile": {"enum": list(RECORD_PROFILES)},
        "channel_levels": {
            "type": "array",
            "maxItems": 64,
            "items": {"type": "array", "items": _whole(1, MAX_CHANNELS), "minItems": 2, "maxItems": 2},
        },
        "kernels": {"type": "array", "maxItems": 16, "items": _whole(1, MAX_KERNEL)},
        "batches": {"type": "array", "maxItems": 16, "items": _whole(1, MAX_BATCH)},
        "book_batch": _whole(1, MAX_BATCH),
        "repeats": _whole(1, 1000),
        "min_block_s": {"type": "number", "minimum": 0, "maximum": 60},
        "warm_up_calls": _whole(0, 1000),
        "seed": _whole(0, 2**32),
    }
)
ENERGY = exact_object(
    {
        "method": {"enum": ["counter", "none"]},
        "counter": OPTIONAL_NAME,
        "note": TEXT,
        "assumed_power_w": {"type": "null"},  # the atlas never assumes a wattage
    }
)
CEILINGS_V1 = exact_object(
    {
        "matmul_size": _whole(1, 1_000_000),
        "matmul_macs_per_s": RATE,
        "copy_bytes": COUNT,
        "copy_bytes_per_s": RATE,
    }
)
# What `atlas_checks.physical_checks` found when the atlas was made: the ceilings checked against, every violation.
VIOLATION = exact_object(
    {
        "check": {"enum": list(CHECKS)},
        "layer": {"enum": list(LAYERS)},
        "pass": {"enum": list(PASSES)},
        **{field: POINT_V1["properties"][field] for field in Shape.__dataclass_fields__},
        "measured_s": SECONDS,
        "bound_s": {"type": "number", "minimum": 0, "maximum": MAX_SECONDS},
    }
)
CHECKS_FOUND = exact_object(
    {"ceilings": TEXT, "violations": {"type": "array", "maxItems": MAX_POINTS, "items": VIOLATION}}
)
_RECORD_FIELDS = {
    "kind": {"const": "atlas"},
    "fingerprint": SHA256,
    "profile": {"enum": list(RECORD_PROFILES)},
    "created_utc": CREATED_UTC,
    "duration_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 86_400},
    "git_commit": GIT_COMMIT,
    "git_dirty": OPTIONAL_FLAG,
    "hardware": HARDWARE,
    "versions": {
        "type": "object",
        "maxProperties": 20,
        "propertyNames": {"pattern": "^[a-z_]{1,40}$"},
        "additionalProperties": {"type": ["string", "null"], "maxLength": 60, "pattern": NO_CONTROL_PATTERN},
        "required": ["python", "keras", "keras_backend"],
    },
    "source_sha256": SHA256,
    "energy": ENERGY,
}
ATLAS_RECORD_V1 = exact_object(
    {
        **_RECORD_FIELDS,
        "schema_version": {"const": 1},
        "config": CONFIG_V1,
        "ceilings": CEILINGS_V1,
        "points": {"type": "array", "minItems": 4, "maxItems": MAX_POINTS, "items": POINT_V1},
        "checks": CHECKS_FOUND,
    },
    optional=("git_commit", "git_dirty", "checks"),
)

# --- version 2: the passes' rule, every sample, the harness, the ceilings named, the quietness evidence -------
SAMPLES = {"type": "array", "minItems": 1, "maxItems": MAX_SAMPLES, "items": SECONDS}
TIMING = {
    "median_s": SECONDS,
    "low_s": SECONDS,
    "high_s": SECONDS,
    "interval_low_s": SECONDS,
    "interval_high_s": SECONDS,
    "samples": _whole(1, MAX_SAMPLES),
    "samples_s": SAMPLES,
    "calls_per_sample": _whole(1, 100_000),
}
POINT = exact_object(
    {
        **{key: value for key, value in POINT_V1["properties"].items() if key not in TIMING},
        **TIMING,
        "settled": {"type": "boolean"},
        "energy_samples_j": {
            "type": ["array", "null"],
            "minItems": 1,
            "maxItems": MAX_SAMPLES,
            "items": {"type": "number", "minimum": 0, "maximum": 1e6},
        },
        "calibration_drift": DRIFT,
    }
)
CONFIG = exact_object(
    {
        "profile": {"enum": list(RECORD_PROFILES)},
        "channel_levels": CONFIG_V1["properties"]["channel_levels"],
        "kernels": CONFIG_V1["properties"]["kernels"],
        "batches": CONFIG_V1["properties"]["batches"],
        "book_batch": _whole(1, MAX_BATCH),
        "first_samples": _whole(1, MAX_SAMPLES),
        "max_samples": _whole(1, MAX_SAMPLES),
        "max_spread": {"type": "number", "minimum": 1, "maximum": 100},
        "point_budget_s": {"type": "number", "minimum": 0, "maximum": 600},
        "min_block_s": {"type": "number", "minimum": 0, "maximum": 60},
        "calibration_retries": _whole(0, 100),
        "square_sizes": {"type": "array", "minItems": 1, "maxItems": 16, "items": _whole(1, 65_536)},
        "warm_up_calls": _whole(0, 1000),
        "seed": _whole(0, 2**32),
    }
)
_LIBRARY = exact_object(
    {
        "library": NAME,
        "matmul": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_CEILING_MEASUREMENTS,
            "items": exact_object({"m": COUNT, "k": COUNT, "n": COUNT, "macs_per_s": RATE}),
        },
        "copy": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_CEILING_MEASUREMENTS,
            "items": exact_object({"bytes": COUNT, "bytes_per_s": RATE}),
        },
    }
)
CEILINGS = exact_object(
    {
        "matmul_macs_per_s": RATE,  # the backend's own best: what the roofline draws
        "copy_bytes_per_s": RATE,
        "machine_matmul_macs_per_s": RATE,  # NumPy's BLAS: the machine's best
        "machine_copy_bytes_per_s": RATE,
        "backend": _LIBRARY,
        "machine": _LIBRARY,
    }
)
PASSES_RULE = exact_object({"inference": TEXT, "training": TEXT, "harness": TEXT})
HARNESS = exact_object({pass_name: exact_object(TIMING) for pass_name in PASSES})
# The quietness evidence of a training record, with the blocks of points measured again.
QUIETNESS = exact_object({**QUIETNESS_FIELDS, "remeasured_blocks": _whole(0, 100_000)}, optional=("calibration_task",))
ATLAS_RECORD = exact_object(
    {
        **_RECORD_FIELDS,
        "schema_version": {"const": ATLAS_SCHEMA_VERSION},
        "config": CONFIG,
        "passes": PASSES_RULE,
        "harness": HARNESS,
        "quietness": QUIETNESS,
        "ceilings": CEILINGS,
        "points": {"type": "array", "minItems": 4, "maxItems": MAX_POINTS, "items": POINT},
        "checks": CHECKS_FOUND,
    },
    optional=("git_commit", "git_dirty", "checks"),
)
SCHEMAS = {1: ATLAS_RECORD_V1, 2: ATLAS_RECORD}

_ABSOLUTE_PATH = re.compile(r"^(/|\\|~|[A-Za-z]:[\\/])")


def atlas_record_problem(record) -> str | None:
    """Why an atlas record cannot be used, in one line; None when it can."""
    non_finite = _non_finite_number(record)
    if non_finite:
        return f"holds {non_finite}, which is not a number a measurement can have"
    version = record.get("schema_version") if isinstance(record, dict) else None
    if version not in READABLE_SCHEMA_VERSIONS or isinstance(version, bool):
        readable = " and ".join(str(number) for number in READABLE_SCHEMA_VERSIONS)
        return f"written as atlas schema {str(version)[:20]}; this version reads schemas {readable}"
    return schema_mismatch(SCHEMAS[version], record, "atlas record") or _consistency_problem(record)


def _non_finite_number(value) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return next((found for item in value.values() if (found := _non_finite_number(item))), None)
    if isinstance(value, list):
        return next((found for item in value if (found := _non_finite_number(item))), None)
    return None


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _consistency_problem(record: dict) -> str | None:
    if any(_ABSOLUTE_PATH.match(text) for text in _strings(record)):
        return "it holds an absolute path; a record names no file of the machine that wrote it"
    problem = date_problem(record)  # the training records' rule: a real date, at most 10 minutes ahead
    if problem:
        return problem
    if record["config"]["profile"] != record["profile"]:
        return "its configuration names another profile than the record"
    seen = set()
    for point in record["points"]:
        shape_fields = {key: point[key] for key in Shape.__dataclass_fields__}
        try:
            shape = Shape(**shape_fields)
        except ValueError as error:
            return f"a point's shape is impossible: {str(error)[:120]}"
        if point["macs"] != macs(shape, point["layer"]) or point["bytes"] != byte_count(shape, point["layer"]):
            return f"a point's counts do not follow from its shape ({point['layer']}, {point['pass']})"
        if not point["low_s"] <= point["median_s"] <= point["high_s"]:
            return "a point's median lies outside its range"
        problem = _samples_problem(point) if "samples_s" in point else None
        if problem:
            return problem
        if point.get("energy_samples_j") is not None and (
            len(point["energy_samples_j"]) != point["samples"]
            or not math.isclose(point["energy_j"], statistics.median(point["energy_samples_j"]), rel_tol=1e-9)
        ):
            return "a point's energy is not the median of one energy sample per time sample"
        if (record["energy"]["method"] == "none") != (point["energy_j"] is None):
            return "a point's energy disagrees with how the record says energy was obtained"
        key = (tuple(shape_fields.values()), point["layer"], point["pass"])
        if key in seen:
            return "a point appears twice"
        seen.add(key)
    if "harness" in record:
        problem = next(filter(None, (_samples_problem(timing) for timing in record["harness"].values())), None)
        if problem:
            return f"the harness: {problem}"
    for shape_key, layer, pass_name in seen:
        for other in LAYERS:
            if (shape_key, other, pass_name) not in seen:
                return f"a shape has {layer} but no {other} for the {pass_name} pass"
    return None


def _samples_problem(timing: dict) -> str | None:
    """A version-2 timing must follow from its own samples: count, lowest, highest, median and middle interval."""
    samples = timing["samples_s"]
    if timing["samples"] != len(samples):
        return "a timing's sample count differs from its samples"
    if timing["low_s"] != min(samples) or timing["high_s"] != max(samples):
        return "a timing's range is not that of its samples"
    if not math.isclose(timing["median_s"], statistics.median(samples), rel_tol=1e-9):
        return "a timing's median is not that of its samples"
    if not timing["low_s"] <= timing["interval_low_s"] <= timing["interval_high_s"] <= timing["high_s"]:
        return "a timing's interval lies outside its range"
    return None
