"""The record's optional `inference` and `breakdown` keys: what they may hold, and how they must agree with the runs.

Both are optional: a record measured before them stays readable, and the pages say
"not measured in this record". When present they are checked as strictly as the rest
(`schema.record_problem`): bounded numbers (every one finite, with a physical upper
bound), known layer names, bounded strings and lists, and one inference entry per run.
"""

from __future__ import annotations

import math

from convcarbon.architecture import ARCHITECTURES, DISPLAY_NAMES
from convcarbon.config import MAX_REPEATS, MNIST_TEST_IMAGES

MAX_DURATION_S = 7 * 24 * 3600.0  # a week: any longer window is not this experiment
MAX_ENERGY_KWH = 1000.0
MAX_PASSES = 1000
MAX_BATCH_SIZE = 100_000
# Keras layer names of the book's models (models.build_model), and the parts of a step that are not layers.
LAYER_NAMES = ("conv_1", "pool_1", "dropout_1", "conv_2", "pool_2", "dropout_2", "flatten", "dense_1", "dense_2")
STEP_PARTS = (*LAYER_NAMES, "loss", "optimizer")
PHASES = ("forward", "backward", "update")

DURATION = {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_DURATION_S}
SHORT_DURATION = {"type": "number", "minimum": 0, "maximum": MAX_DURATION_S}
ENERGY_OR_NONE = {"type": ["number", "null"], "minimum": 0, "maximum": MAX_ENERGY_KWH}
METHOD_TEXT = {"type": "string", "maxLength": 400}


def anatomy_properties(energy_properties: dict, object_of) -> dict:
    """{"inference": ..., "breakdown": ...} for the RECORD schema: `energy_properties` are the tracker's
    fields (schema.ENERGY), `object_of` builds a closed object (schema.exact_object)."""
    batch = object_of(
        {
            "batch_size": {"type": "integer", "minimum": 1, "maximum": MAX_BATCH_SIZE},
            "passes": {"type": "integer", "minimum": 1, "maximum": MAX_PASSES},
            "predictions": {"type": "integer", "minimum": 1, "maximum": MAX_PASSES * MNIST_TEST_IMAGES},
            "duration_s": DURATION,
            "energy_kwh": ENERGY_OR_NONE,
        }
    )
    inference_entry = object_of(
        {
            **energy_properties,
            "architecture": {"enum": list(ARCHITECTURES)},
            "model": {"enum": list(DISPLAY_NAMES.values())},
            "repeat": {"type": "integer", "minimum": 0, "maximum": MAX_REPEATS - 1},
            "position": {"type": "integer", "minimum": 0, "maximum": 2 * MAX_REPEATS - 1},
            "test_images": {"type": "integer", "minimum": 1, "maximum": MNIST_TEST_IMAGES},
            "method": METHOD_TEXT,
            "warm_up_duration_s": DURATION,
            "warm_up_energy_kwh": ENERGY_OR_NONE,
            "batches": {"type": "array", "minItems": 1, "maxItems": 2, "items": batch},
        }
    )
    part = object_of(
        {"layer": {"enum": list(STEP_PARTS)}, "phase": {"enum": list(PHASES)}, "duration_s": SHORT_DURATION}
    )
    model_breakdown = object_of(
        {
            "architecture": {"enum": list(ARCHITECTURES)},
            "model": {"enum": list(DISPLAY_NAMES.values())},
            "step_duration_s": DURATION,
            "parts": {"type": "array", "minItems": 1, "maxItems": 2 * len(STEP_PARTS), "items": part},
        }
    )
    breakdown = object_of(
        {
            "method": METHOD_TEXT,
            "batch_size": {"type": "integer", "minimum": 1, "maximum": MAX_BATCH_SIZE},
            "rounds": {"type": "integer", "minimum": 1, "maximum": 10_000},
            "call_overhead_s": SHORT_DURATION,
            "models": {"type": "array", "minItems": 1, "maxItems": len(ARCHITECTURES), "items": model_breakdown},
        }
    )
    return {
        "inference": {"type": "array", "minItems": 1, "maxItems": 2 * MAX_REPEATS, "items": inference_entry},
        "breakdown": breakdown,
    }


ANATOMY_KEYS = ("inference", "breakdown")


def anatomy_problem(record: dict) -> str | None:
    """Why the record's inference or breakdown cannot be used (a number that is not finite, an entry
    that matches no run, a batch size other than 1 and the training batch); None when they can."""
    for key in ANATOMY_KEYS:
        if key in record and not _all_finite(record[key]):
            return f"its {key} holds a number that is not finite"
    if "inference" in record:
        runs = {(run["position"], run["architecture"], run["repeat"]) for run in record["runs"]}
        entries = [(entry["position"], entry["architecture"], entry["repeat"]) for entry in record["inference"]]
        if sorted(entries) != sorted(runs):
            return "its inference entries are not one per run (position, model and repeat)"
        expected = sorted({1, record["config"].get("batch_size", 1)})
        for entry in record["inference"]:
            if DISPLAY_NAMES[entry["architecture"]] != entry["model"]:
                return f"an inference entry names architecture {entry['architecture']!r} but model {entry['model']!r}"
            if sorted(batch["batch_size"] for batch in entry["batches"]) != expected:
                return f"an inference entry of {entry['model']} does not hold batch sizes {expected}"
            for batch in entry["batches"]:
                if batch["predictions"] != batch["passes"] * entry["test_images"]:
                    return f"an inference entry of {entry['model']} counts its predictions wrongly"
    if "breakdown" in record:
        models = [model["architecture"] for model in record["breakdown"]["models"]]
        if len(set(models)) != len(models):
            return "its breakdown holds a model twice"
        for model in record["breakdown"]["models"]:
            if DISPLAY_NAMES[model["architecture"]] != model["model"]:
                return f"a breakdown names architecture {model['architecture']!r} but model {model['model']!r}"
            keys = [(part["layer"], part["phase"]) for part in model["parts"]]
            if len(set(keys)) != len(keys):
                return f"the breakdown of {model['model']} holds a part twice"
    return None


def _all_finite(value) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_all_finite(item) for item in value.values())
    if isinstance(value, list):
        return all(_all_finite(item) for item in value)
    return True
