"""What a result record may hold: checked before any record is used, since anyone can commit one.

A record from another machine is untrusted input. It is read only if it
matches this JSON schema (types, known profiles and models, physical bounds on
every number, size limits on every string and list), if its runs agree with
its own configuration and with themselves (epochs that add up to the run,
energy that the machine could have drawn in the time), and if it is not dated
in the future. Anything else is skipped with the reason, never shown.

The bounds are physical, not statistical: wide enough for any single machine
this book could run on (a GPU server included), so that they refuse only what
no machine can produce (a run of 1e308 s, a NaN accuracy, an epoch of 1e-300 s).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from convcarbon.anatomy.measure.schema import ANATOMY_KEYS, anatomy_problem, anatomy_properties
from convcarbon.architecture import ARCHITECTURES, DISPLAY_NAMES
from convcarbon.config import MAX_PUE, MAX_REPEATS, RECORD_PROFILES
from convcarbon.safe import NO_CONTROL_PATTERN

MAX_RECORD_BYTES = 5 * 2**20
MAX_EPOCHS = 1000
# 2: repeats, per-epoch energy, idle; 3: the clean-up after the epochs; 4: machine identity, power assumptions;
# 5: physical bounds on every number, the dataset named by its file name (never a local path), and the wattages
# pinned on every tracker of the experiment (power_assumptions: cpu_pinned_power_w, ram_pinned_power_w,
# power_pinning). Records of schema 4 are migrated by bench/migrate_records.py. 6: every run's epochs timed step by
# step (`epoch_steps`, required); records of schema 5, which lack it, are still read as they are. 7: the evidence
# that the machine was quiet (`quietness`, required: records/quietness.py); records of schemas 5 and 6 lack it.
SCHEMA_VERSION = 7
READABLE_SCHEMA_VERSIONS = (5, 6, 7)

# Physical bounds. Durations: a millisecond to a week (a run, an epoch, the idle measurement); the clean-up
# after the epochs may take 0 s. Power of one machine, before its PUE: a CPU part up to 2 kW (four 500 W
# server sockets), a GPU part up to 16 kW (eight 1 kW accelerators, doubled), RAM up to 2 kW, the whole
# machine up to 20 kW; a reported power or energy includes the PUE, itself at most MAX_PUE (3, in config).
MIN_DURATION_S = 0.001
MAX_DURATION_S = 7 * 24 * 3600.0
MAX_CPU_POWER_W = 2_000.0
MAX_GPU_POWER_W = 16_000.0
MAX_RAM_POWER_W = 2_000.0
MAX_MACHINE_POWER_W = 20_000.0
SECONDS_PER_HOUR = 3600.0
MAX_ENERGY_KWH = MAX_MACHINE_POWER_W * MAX_PUE * MAX_DURATION_S / SECONDS_PER_HOUR / 1000  # 10,080 kWh
MAX_CARBON_INTENSITY_G_PER_KWH = 2_000.0  # the dirtiest grids are near 1,000 g CO2eq/kWh
MAX_EMISSIONS_KG = MAX_ENERGY_KWH * MAX_CARBON_INTENSITY_G_PER_KWH / 1000
MAX_EMISSIONS_RATE_KG_PER_S = MAX_MACHINE_POWER_W * MAX_PUE / 1000 * MAX_CARBON_INTENSITY_G_PER_KWH / 1000 / 3600
# Cross-entropy over 10 classes: about 2.3 untrained; Keras clips probabilities at 1e-7, so about 16 at worst.
MAX_LOSS = 100.0
MAX_PARAMETERS = 10**9
MAX_MULTIPLICATIONS_PER_IMAGE = 10**12
# The epochs and the clean-up add up to the run's duration (CodeCarbon's clock, from the tracker's start to its
# stop) within this tolerance. In the committed records they differ by 3 to 10 ms; the tolerance leaves room for
# a slow tracker start or stop, which our own clock counts when CodeCarbon fails.
EPOCH_SUM_TOLERANCE_S = 2.0
EPOCH_SUM_TOLERANCE_FRACTION = 0.02
# An epoch's steps, its wait for the first batch and its validation fit inside the epoch, within this tolerance (the
# clock is read by callbacks inside the epoch's window; the tolerance only absorbs rounding).
STEPS_IN_EPOCH_TOLERANCE_S = 0.001
MAX_STEPS_PER_EPOCH = 10**7
# A record dated later than now plus this much is refused: clocks of two machines may disagree a little.
CLOCK_SKEW = timedelta(minutes=10)
# A record's date (ISO 8601 with its offset) and the commit it was made at, in training and atlas records alike.
CREATED_UTC = {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$"}
GIT_COMMIT = {"type": ["string", "null"], "pattern": "^[0-9a-f]{40}$"}

# A name (a CPU, a country, a version) holds no control character, nothing that reorders or hides text.
NAME = {"type": "string", "maxLength": 200, "pattern": NO_CONTROL_PATTERN}
TEXT = {"type": "string", "maxLength": 600}
OPTIONAL_NAME = {"type": ["string", "null"], "maxLength": 200, "pattern": NO_CONTROL_PATTERN}
OPTIONAL_TEXT = {"type": ["string", "null"], "maxLength": 600}
SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
FLAG = {"type": "boolean"}
OPTIONAL_FLAG = {"type": ["boolean", "null"]}


def _bounded(low: float, high: float, optional: bool = False, integer: bool = False) -> dict:
    """A number in [low, high]; null too when `optional`."""
    kind = "integer" if integer else "number"
    return {"type": [kind, "null"] if optional else kind, "minimum": low, "maximum": high}


DURATION_S = _bounded(MIN_DURATION_S, MAX_DURATION_S)
CLEAN_UP_DURATION_S = _bounded(0, MAX_DURATION_S)
ENERGY_KWH = _bounded(0, MAX_ENERGY_KWH, optional=True)
CPU_POWER_W = _bounded(0, MAX_CPU_POWER_W * MAX_PUE, optional=True)
GPU_POWER_W = _bounded(0, MAX_GPU_POWER_W * MAX_PUE, optional=True)
RAM_POWER_W = _bounded(0, MAX_RAM_POWER_W * MAX_PUE, optional=True)
MACHINE_POWER_W = _bounded(0, MAX_MACHINE_POWER_W * MAX_PUE, optional=True)
ASSUMED_CPU_POWER_W = _bounded(0, MAX_CPU_POWER_W, optional=True)
ASSUMED_RAM_POWER_W = _bounded(0, MAX_RAM_POWER_W, optional=True)
FRACTION = _bounded(0, 1)
LOSS = _bounded(0, MAX_LOSS)
SMALL_INTEGER = _bounded(0, 100_000, optional=True, integer=True)


def exact_object(properties: dict, optional: tuple = ()) -> dict:
    """An object with exactly these properties, all required except `optional`."""
    return {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "required": [name for name in properties if name not in optional],
    }


# The evidence of a quiet machine (records/quietness.py), in training and atlas records alike.
MAX_CALIBRATIONS = 5000
DRIFT = {"type": "number", "minimum": -1, "maximum": 1e6}  # a relative change: -100% to a million-fold
CALIBRATION = exact_object(
    {
        "position": {"enum": ["before", "between", "after"]},
        "duration_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600},
        "drift": DRIFT,
        "load_average_1m": {"type": ["number", "null"], "minimum": 0, "maximum": 100_000},
        "steal_fraction": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
    }
)
PHRASE = {"type": "string", "maxLength": 600, "pattern": NO_CONTROL_PATTERN}  # made by this package: no controls
QUIETNESS_FIELDS = {
    "quiet": FLAG,
    "summary": PHRASE,
    "reasons": {"type": "array", "maxItems": 10, "items": PHRASE},
    "max_drift": DRIFT,
    "drift_bound": {"type": "number", "minimum": 0, "maximum": 10},
    "steal_readable": FLAG,
    "calibration_task": PHRASE,  # what was timed: since the one-thread sort; the first schema-2 atlas lacks it
    "calibrations": {"type": "array", "minItems": 2, "maxItems": MAX_CALIBRATIONS, "items": CALIBRATION},
}
QUIETNESS = exact_object(QUIETNESS_FIELDS)

ENERGY = {
    "duration_s": DURATION_S,
    "energy_consumed_kwh": ENERGY_KWH,
    "cpu_energy_kwh": ENERGY_KWH,
    "gpu_energy_kwh": ENERGY_KWH,
    "ram_energy_kwh": ENERGY_KWH,
    "cpu_power_w": CPU_POWER_W,
    "gpu_power_w": GPU_POWER_W,
    "ram_power_w": RAM_POWER_W,
    "emissions_kg": _bounded(0, MAX_EMISSIONS_KG, optional=True),
    "emissions_rate_kg_per_s": _bounded(0, MAX_EMISSIONS_RATE_KG_PER_S, optional=True),
    "country_iso_code": {"type": "string", "pattern": "^[A-Z]{3}$"},
    "country_name": NAME,
    "carbon_intensity_g_per_kwh": _bounded(0, MAX_CARBON_INTENSITY_G_PER_KWH),
    "grid_data_year": {"type": "integer", "minimum": 1900, "maximum": 2200},
    "pue": _bounded(1, MAX_PUE),
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
IDLE = exact_object(
    {
        **ENERGY,
        "idle_power_w": MACHINE_POWER_W,
        "idle_cpu_power_w": CPU_POWER_W,
        "idle_gpu_power_w": GPU_POWER_W,
        "idle_ram_power_w": RAM_POWER_W,
    }
)
# One epoch timed step by step (`epochs.step_account`): the wait before its first step, the first step, the median
# step, the sum of its steps and their count, and its validation (0 s without a validation split).
EPOCH_STEPS = exact_object(
    {
        "steps": _bounded(1, MAX_STEPS_PER_EPOCH, integer=True),
        "input_wait_s": CLEAN_UP_DURATION_S,
        "first_step_s": CLEAN_UP_DURATION_S,
        "median_step_s": CLEAN_UP_DURATION_S,
        "steps_s": CLEAN_UP_DURATION_S,
        "validation_s": CLEAN_UP_DURATION_S,
    }
)
LOSSES = {"type": "array", "maxItems": MAX_EPOCHS, "items": LOSS}
ACCURACIES = {"type": "array", "maxItems": MAX_EPOCHS, "items": FRACTION}
RUN = exact_object(
    {
        **ENERGY,
        "architecture": {"enum": list(ARCHITECTURES)},
        "model": {"enum": list(DISPLAY_NAMES.values())},
        "repeat": {"type": "integer", "minimum": 0, "maximum": MAX_REPEATS - 1},
        "position": {"type": "integer", "minimum": 0, "maximum": 2 * MAX_REPEATS - 1},
        "seed": _bounded(0, 2**32 - 1, integer=True),
        "parameters": _bounded(0, MAX_PARAMETERS, integer=True),
        "multiplications_per_image": _bounded(0, MAX_MULTIPLICATIONS_PER_IMAGE, integer=True),
        "test_accuracy": FRACTION,
        "test_loss": LOSS,
        "history": {
            "type": "object",
            "maxProperties": 8,
            "additionalProperties": False,
            "patternProperties": {"^(val_)?loss$": LOSSES, "^(val_)?accuracy$": ACCURACIES},
        },
        "epoch_duration_s": {"type": "array", "minItems": 1, "maxItems": MAX_EPOCHS, "items": DURATION_S},
        "epoch_energy_kwh": {"type": "array", "minItems": 1, "maxItems": MAX_EPOCHS, "items": ENERGY_KWH},
        "clean_up_duration_s": CLEAN_UP_DURATION_S,
        "clean_up_energy_kwh": ENERGY_KWH,
        "epoch_steps": {"type": "array", "minItems": 1, "maxItems": MAX_EPOCHS, "items": EPOCH_STEPS},
    },
    optional=("epoch_steps",),  # required from schema 6 on (`_consistency_problem`)
)
GPU = exact_object({"name": NAME, "memory_gb": _bounded(0, 100_000), "driver": NAME})
HARDWARE = exact_object(
    {
        "cpu_model": NAME,
        "cpu_vendor": OPTIONAL_NAME,
        "cpu_family": SMALL_INTEGER,
        "cpu_model_number": SMALL_INTEGER,
        "cpu_stepping": SMALL_INTEGER,
        "vector_extension": {"enum": ["AVX-512", "AVX2", "AVX", "SSE4.2", "SVE2", "SVE", "NEON", None]},
        "virtual_machine": OPTIONAL_FLAG,
        "cpu_count": {"type": "integer", "minimum": 1, "maximum": 100_000},
        "ram_total_gb": _bounded(0, 1_000_000),
        "gpus": {"type": "array", "maxItems": 64, "items": GPU},
        "machine": NAME,
        "os": NAME,
    }
)
POWER_ASSUMPTIONS = exact_object(
    {
        "cpu_power_model": {"enum": ["counter", "load model", "constant model", "other model", "none", "unknown"]},
        "cpu_table_match": OPTIONAL_NAME,
        "cpu_table_power_w": ASSUMED_CPU_POWER_W,
        "cpu_chip_logical_cpus": _bounded(1, 100_000, optional=True, integer=True),
        "cpu_machine_share": _bounded(0, 1, optional=True),
        "cpu_assumed_power_w": ASSUMED_CPU_POWER_W,
        "cpu_power_scaled": FLAG,
        "cpu_power_basis": OPTIONAL_TEXT,
        "ram_assumed_power_w": ASSUMED_RAM_POWER_W,
        # What was forced on every tracker of the experiment (CodeCarbon's force_cpu_power, force_ram_power);
        # null when nothing was, and `power_pinning` says why.
        "cpu_pinned_power_w": ASSUMED_CPU_POWER_W,
        "ram_pinned_power_w": ASSUMED_RAM_POWER_W,
        "power_pinning": TEXT,
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
    "properties": {  # the numbers a page prints or computes with; ExperimentConfig checks the rest of their ranges
        "epochs": _bounded(1, MAX_EPOCHS, integer=True),
        "batch_size": _bounded(1, 100_000, integer=True),
        "train_images": _bounded(1, 100_000, integer=True),
        "test_images": _bounded(1, 100_000, integer=True),
        "validation_split": _bounded(0, 1),
        "repeats": _bounded(1, MAX_REPEATS, integer=True),
        "seed": _bounded(0, 2**32 - 1, integer=True),
        "idle_duration_s": _bounded(0, MAX_DURATION_S),
        "pue": _bounded(1, MAX_PUE),
        "measure_power_secs": _bounded(MIN_DURATION_S, MAX_DURATION_S),
    },
    "additionalProperties": {
        "type": ["string", "number", "boolean", "null"],
        "maxLength": 200,
        "pattern": NO_CONTROL_PATTERN,
    },
}
# The dataset is named by its file name or as the Keras download: never a path of the machine that made the record.
DATASET_SOURCE = {
    "type": "string",
    "maxLength": 200,
    "pattern": "^[^/\\\\:~]+$",
    "allOf": [{"pattern": NO_CONTROL_PATTERN}],
}
RECORD = exact_object(
    {
        "schema_version": {"enum": list(READABLE_SCHEMA_VERSIONS)},
        "fingerprint": SHA256,
        "profile": {"enum": list(RECORD_PROFILES)},
        "config": CONFIG,
        "created_utc": CREATED_UTC,
        "git_commit": GIT_COMMIT,
        "git_dirty": OPTIONAL_FLAG,
        "hardware": HARDWARE,
        "versions": {
            "type": "object",
            "maxProperties": 20,
            "propertyNames": {"pattern": NO_CONTROL_PATTERN},
            "additionalProperties": {"type": ["string", "null"], "maxLength": 60, "pattern": NO_CONTROL_PATTERN},
            "required": ["python", "keras", "keras_backend", "codecarbon"],
        },
        "source_sha256": SHA256,
        "dataset": exact_object({"source": DATASET_SOURCE, "sha256": SHA256}),
        "codecarbon_csv": {"const": "emissions.csv"},
        "power_assumptions": POWER_ASSUMPTIONS,
        "idle": {"oneOf": [{"type": "null"}, IDLE]},
        "runs": {"type": "array", "minItems": 2, "maxItems": 2 * MAX_REPEATS, "items": RUN},
        "quietness": QUIETNESS,  # from schema 7 on (_quietness_problem)
        # Optional: prediction cost per run and the per-layer time of a step (issue 17); older records lack them.
        **anatomy_properties(ENERGY, exact_object),
    },
    optional=("git_commit", "git_dirty", "quietness", *ANATOMY_KEYS),
)


def record_problem(record, now: datetime | None = None) -> str | None:
    """Why a record cannot be used, in one line; None when it can. `now` (default: the clock) dates it."""
    if isinstance(record, dict) and "schema_version" in record and not _readable(record["schema_version"]):
        version = record["schema_version"]
        shown = version if isinstance(version, int) else "of another kind"
        readable = " and ".join(str(number) for number in READABLE_SCHEMA_VERSIONS)
        return (
            f"written as record schema {shown}; this version of convcarbon reads schemas {readable} "
            "(run again to measure with it)"
        )
    return (
        schema_mismatch(RECORD, record, "record")
        or _consistency_problem(record)
        or _physics_problem(record)
        or date_problem(record, now)
    )


def _readable(version) -> bool:
    return isinstance(version, int) and not isinstance(version, bool) and version in READABLE_SCHEMA_VERSIONS


def schema_mismatch(schema: dict, document, schema_name: str, top: str = "the record") -> str | None:
    """How `document` fails `schema`, in one line: where (`top` when at the top level) and the validator's short
    message for its best-matching error; None when it fits. Training records, atlas records and counters reports
    are all checked so."""
    import jsonschema

    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(document))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or top
    return f"does not match the {schema_name} schema at {where[:80]}: {short_message(error)}"


def short_message(error) -> str:
    """The validator's message without echoing a long or hostile value back at length, and in words where
    a name holds a control character (the pattern itself says nothing to a reader).
    Used by `schema_mismatch`."""
    if error.validator == "pattern" and error.validator_value == NO_CONTROL_PATTERN:
        return "a name may hold no control character and nothing that reorders or hides text"
    message = error.message
    return message if len(message) <= 160 else message[:157] + "..."


def _consistency_problem(record: dict) -> str | None:
    """The runs must be the ones the record's own configuration describes."""
    from convcarbon.config import ExperimentConfig
    from convcarbon.errors import ConfigError

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
        steps_problem = _epoch_steps_problem(record["schema_version"], run, config.epochs)
        if steps_problem:
            return steps_problem
    return _quietness_problem(record) or anatomy_problem(record)


def _quietness_problem(record: dict) -> str | None:
    """From schema 7 on, a record stores the evidence of a quiet machine; before, none."""
    version, evidence = record["schema_version"], record.get("quietness")
    if version < 7:
        return None if evidence is None else f"it has quietness evidence, which schema {version} lacks"
    if evidence is None:
        return "it stores no evidence of how quiet its machine was (quietness)"
    calibrations = evidence["calibrations"]
    if calibrations[0]["position"] != "before" or calibrations[-1]["position"] != "after":
        return "its calibrations do not run from before the training to after it"
    if len(calibrations) != len(record["runs"]) + 1:
        return (
            f"it should hold one calibration before the training and one after each of its {len(record['runs'])} runs"
        )
    return None


def _epoch_steps_problem(version: int, run: dict, epochs: int) -> str | None:
    """From schema 6 on, every epoch is timed step by step (`_steps_fit_problem` checks the times); before, none is."""
    steps = run.get("epoch_steps")
    if version < 6:
        return None if steps is None else f"a run of {run['model']} has epoch_steps, which schema {version} lacks"
    if steps is None or len(steps) != epochs:
        return f"a run of {run['model']} does not time the steps of each of its {epochs} epochs (epoch_steps)"
    return None


def _steps_fit_problem(run: dict) -> str | None:
    """Each epoch's wait, steps and validation fit inside it, and no step is longer than all of them together."""
    for number, (account, epoch_s) in enumerate(zip(run.get("epoch_steps", ()), run["epoch_duration_s"]), start=1):
        inside_s = account["input_wait_s"] + account["steps_s"] + account["validation_s"]
        where = f"epoch {number} of a run of {run['model']}"
        if inside_s > epoch_s + STEPS_IN_EPOCH_TOLERANCE_S:
            return (
                f"{where} lasted {epoch_s:.6g} s but its steps do not fit in it (its wait, steps and validation "
                f"took {inside_s:.6g} s)"
            )
        if max(account["first_step_s"], account["median_step_s"]) > account["steps_s"]:
            return f"{where}: its steps do not fit in it (one step is longer than all its steps together)"
    return None


def _physics_problem(record: dict) -> str | None:
    """Numbers within their bounds that still cannot belong together: epochs that do not add up to their run,
    or more energy than a machine can draw in the time."""
    for run in record["runs"]:
        inside_s = math.fsum(run["epoch_duration_s"]) + run["clean_up_duration_s"]
        tolerance_s = EPOCH_SUM_TOLERANCE_S + EPOCH_SUM_TOLERANCE_FRACTION * run["duration_s"]
        if abs(run["duration_s"] - inside_s) > tolerance_s:
            return (
                f"a run of {run['model']} lasted {run['duration_s']:.6g} s but its epochs and clean-up add up to "
                f"{inside_s:.6g} s"
            )
        steps_problem = _steps_fit_problem(run)
        if steps_problem:
            return steps_problem
    parts = [("the idle measurement", record["idle"])] if record["idle"] else []
    parts += [(f"a run of {run['model']}", run) for run in record["runs"]]
    for label, part in parts:
        most_kwh = MAX_MACHINE_POWER_W * part["pue"] * part["duration_s"] / SECONDS_PER_HOUR / 1000
        for field in ("energy_consumed_kwh", "cpu_energy_kwh", "gpu_energy_kwh", "ram_energy_kwh"):
            if part[field] is not None and part[field] > most_kwh:
                return (
                    f"{label} reports {field} = {part[field]:.6g} kWh in {part['duration_s']:.6g} s, more than "
                    f"{MAX_MACHINE_POWER_W / 1000:g} kW (times its PUE) could draw"
                )
    return None


def date_problem(record: dict, now: datetime | None = None) -> str | None:
    """A record must be dated, and not in the future: a future date would win every choice of the newest record.
    Used for training records here and for atlas records (`atlas_schema`)."""
    try:
        created = datetime.fromisoformat(record["created_utc"].replace("Z", "+00:00"))
    except ValueError:
        return "its created_utc is not a real date and time"
    now = now or datetime.now(timezone.utc)
    if created > now + CLOCK_SKEW:
        return f"it is dated {created.isoformat()}, in the future (now {now.isoformat(timespec='seconds')})"
    return None
