"""What a result record may hold: checked before any record is used, since anyone can commit one.

A record from another machine is untrusted input. It is read only if it
matches this JSON schema (types, known profiles and models, value ranges,
size limits on every string and list) and if its runs agree with its own
configuration. Anything else is skipped with the reason, never shown.
"""

from __future__ import annotations

from ..architecture import ARCHITECTURES, DISPLAY_NAMES
from ..config import MAX_REPEATS, PROFILES
from .anatomy_schema import ANATOMY_KEYS, anatomy_problem, anatomy_properties

MAX_RECORD_BYTES = 5 * 2**20
MAX_EPOCHS = 1000
SCHEMA_VERSION = (
    4  # 2: repeats, per-epoch energy, idle; 3: the clean-up after the epochs; 4: machine identity, power assumptions
)

NAME = {"type": "string", "maxLength": 200}
TEXT = {"type": "string", "maxLength": 600}
OPTIONAL_NAME = {"type": ["string", "null"], "maxLength": 200}
OPTIONAL_TEXT = {"type": ["string", "null"], "maxLength": 600}
SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
NON_NEGATIVE = {"type": "number", "minimum": 0}
POSITIVE = {"type": "number", "exclusiveMinimum": 0}
OPTIONAL_NON_NEGATIVE = {"type": ["number", "null"], "minimum": 0}
OPTIONAL_INTEGER = {"type": ["integer", "null"]}
FLAG = {"type": "boolean"}
OPTIONAL_FLAG = {"type": ["boolean", "null"]}


def _object(properties: dict, optional: tuple = ()) -> dict:
    """An object with exactly these properties, all required except `optional`."""
    return {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "required": [name for name in properties if name not in optional],
    }


ENERGY = {
    "duration_s": POSITIVE,
    "energy_consumed_kwh": OPTIONAL_NON_NEGATIVE,
    "cpu_energy_kwh": OPTIONAL_NON_NEGATIVE,
    "gpu_energy_kwh": OPTIONAL_NON_NEGATIVE,
    "ram_energy_kwh": OPTIONAL_NON_NEGATIVE,
    "cpu_power_w": OPTIONAL_NON_NEGATIVE,
    "gpu_power_w": OPTIONAL_NON_NEGATIVE,
    "ram_power_w": OPTIONAL_NON_NEGATIVE,
    "emissions_kg": OPTIONAL_NON_NEGATIVE,
    "emissions_rate_kg_per_s": OPTIONAL_NON_NEGATIVE,
    "country_iso_code": {"type": "string", "pattern": "^[A-Z]{3}$"},
    "country_name": NAME,
    "carbon_intensity_g_per_kwh": NON_NEGATIVE,
    "grid_data_year": {"type": "integer", "minimum": 1900, "maximum": 2200},
    "pue": {"type": "number", "minimum": 1},
    "codecarbon_cpu_model": OPTIONAL_NAME,
    "codecarbon_gpu_model": OPTIONAL_NAME,
    "codecarbon_run_id": OPTIONAL_NAME,
    "cpu_tracking_method": TEXT,
    "gpu_tracking_method": TEXT,
    "ram_tracking_method": TEXT,
    "cpu_energy_measured": FLAG,
    "gpu_energy_measured": FLAG,
    "energy_missing_reason": OPTIONAL_TEXT,
}
IDLE = _object(
    {
        **ENERGY,
        "idle_power_w": OPTIONAL_NON_NEGATIVE,
        "idle_cpu_power_w": OPTIONAL_NON_NEGATIVE,
        "idle_gpu_power_w": OPTIONAL_NON_NEGATIVE,
        "idle_ram_power_w": OPTIONAL_NON_NEGATIVE,
    }
)
NUMBERS = {"type": "array", "maxItems": MAX_EPOCHS, "items": {"type": "number"}}
RUN = _object(
    {
        **ENERGY,
        "architecture": {"enum": list(ARCHITECTURES)},
        "model": {"enum": list(DISPLAY_NAMES.values())},
        "repeat": {"type": "integer", "minimum": 0, "maximum": MAX_REPEATS - 1},
        "position": {"type": "integer", "minimum": 0, "maximum": 2 * MAX_REPEATS - 1},
        "seed": {"type": "integer"},
        "parameters": {"type": "integer", "minimum": 0},
        "multiplications_per_image": {"type": "integer", "minimum": 0},
        "test_accuracy": {"type": "number", "minimum": 0, "maximum": 1},
        "test_loss": NON_NEGATIVE,
        "history": {
            "type": "object",
            "maxProperties": 8,
            "additionalProperties": False,
            "patternProperties": {"^(val_)?(loss|accuracy)$": NUMBERS},
        },
        "epoch_duration_s": {"type": "array", "minItems": 1, "maxItems": MAX_EPOCHS, "items": POSITIVE},
        "epoch_energy_kwh": {"type": "array", "minItems": 1, "maxItems": MAX_EPOCHS, "items": OPTIONAL_NON_NEGATIVE},
        "clean_up_duration_s": NON_NEGATIVE,
        "clean_up_energy_kwh": OPTIONAL_NON_NEGATIVE,
    }
)
GPU = _object({"name": NAME, "memory_gb": NON_NEGATIVE, "driver": NAME})
HARDWARE = _object(
    {
        "cpu_model": NAME,
        "cpu_vendor": OPTIONAL_NAME,
        "cpu_family": OPTIONAL_INTEGER,
        "cpu_model_number": OPTIONAL_INTEGER,
        "cpu_stepping": OPTIONAL_INTEGER,
        "vector_extension": {"enum": ["AVX-512", "AVX2", "AVX", "SSE4.2", "SVE2", "SVE", "NEON", None]},
        "virtual_machine": OPTIONAL_FLAG,
        "cpu_count": {"type": "integer", "minimum": 1, "maximum": 100_000},
        "ram_total_gb": NON_NEGATIVE,
        "gpus": {"type": "array", "maxItems": 64, "items": GPU},
        "machine": NAME,
        "os": NAME,
    }
)
POWER_ASSUMPTIONS = _object(
    {
        "cpu_power_model": {"enum": ["counter", "load model", "constant model", "other model", "none", "unknown"]},
        "cpu_table_match": OPTIONAL_NAME,
        "cpu_table_power_w": OPTIONAL_NON_NEGATIVE,
        "cpu_chip_logical_cpus": {"type": ["integer", "null"], "minimum": 1},
        "cpu_machine_share": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
        "cpu_assumed_power_w": OPTIONAL_NON_NEGATIVE,
        "cpu_power_scaled": FLAG,
        "cpu_power_basis": OPTIONAL_TEXT,
        "ram_assumed_power_w": OPTIONAL_NON_NEGATIVE,
    },
    optional=(
        "cpu_table_match",
        "cpu_table_power_w",
        "cpu_chip_logical_cpus",
        "cpu_machine_share",
        "cpu_assumed_power_w",
        "cpu_power_scaled",
        "ram_assumed_power_w",
    ),
)
CONFIG = {
    "type": "object",
    "maxProperties": 40,
    "required": ["profile", "epochs", "repeats"],
    "additionalProperties": {"type": ["string", "number", "boolean", "null"], "maxLength": 200},
}
RECORD = _object(
    {
        "schema_version": {"const": SCHEMA_VERSION},
        "fingerprint": SHA256,
        "profile": {"enum": list(PROFILES)},
        "config": CONFIG,
        "created_utc": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$"},
        "git_commit": {"type": ["string", "null"], "pattern": "^[0-9a-f]{40}$"},
        "git_dirty": OPTIONAL_FLAG,
        "hardware": HARDWARE,
        "versions": {
            "type": "object",
            "maxProperties": 20,
            "additionalProperties": {"type": ["string", "null"], "maxLength": 60},
            "required": ["python", "keras", "keras_backend", "codecarbon"],
        },
        "source_sha256": SHA256,
        "dataset": _object({"source": TEXT, "sha256": SHA256}),
        "codecarbon_csv": {"const": "emissions.csv"},
        "power_assumptions": POWER_ASSUMPTIONS,
        "idle": {"oneOf": [{"type": "null"}, IDLE]},
        "runs": {"type": "array", "minItems": 2, "maxItems": 2 * MAX_REPEATS, "items": RUN},
        # Optional: prediction cost per run and the per-layer time of a step (issue 17); older records lack them.
        **anatomy_properties(ENERGY, _object),
    },
    optional=("git_commit", "git_dirty", *ANATOMY_KEYS),
)


def record_problem(record) -> str | None:
    """Why a record cannot be used, in one line; None when it can."""
    import jsonschema

    if isinstance(record, dict) and record.get("schema_version") != SCHEMA_VERSION and "schema_version" in record:
        version = record["schema_version"]
        shown = version if isinstance(version, int) else "of another kind"
        return (
            f"written as record schema {shown}; this version of convcarbon reads schema {SCHEMA_VERSION} "
            "(run again to measure with it)"
        )
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(RECORD).iter_errors(record))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "the record"
        return f"does not match the record schema at {where[:80]}: {_short(error)}"
    return _consistency_problem(record)


def _short(error) -> str:
    """The validator's message without echoing a long or hostile value back at length."""
    message = error.message
    return message if len(message) <= 160 else message[:157] + "..."


def _consistency_problem(record: dict) -> str | None:
    """The runs must be the ones the record's own configuration describes."""
    from ..config import ExperimentConfig
    from ..errors import ConfigError

    try:
        config = ExperimentConfig(**record["config"])
    except (ConfigError, TypeError) as error:
        return f"its configuration is not valid: {str(error)[:160]}"
    if config.profile != record["profile"]:
        return f"its configuration says profile {config.profile!r} but the record says {record['profile']!r}"
    for model in DISPLAY_NAMES.values():
        repeats_seen = sorted(run["repeat"] for run in record["runs"] if run["model"] == model)
        if repeats_seen != list(range(config.repeats)):
            return f"it should hold {config.repeats} run(s) of {model}, one per repeat, but holds {len(repeats_seen)}"
    for run in record["runs"]:
        if DISPLAY_NAMES[run["architecture"]] != run["model"]:
            return f"a run names architecture {run['architecture']!r} but model {run['model']!r}"
        lengths = {
            len(run["epoch_duration_s"]),
            len(run["epoch_energy_kwh"]),
            *(len(values) for values in run["history"].values()),
        }
        if lengths != {config.epochs}:
            return f"a run of {run['model']} does not hold one value per epoch ({config.epochs} epochs)"
    return anatomy_problem(record)
