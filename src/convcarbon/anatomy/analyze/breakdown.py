"""Where a training step's time goes, from the record's `breakdown`: each layer's forward and backward
time beside its multiplications, the loss, the optimizer's update, and the rest of the step, named
"framework overhead", never hidden.

Used by: book/results.md ("Where a training step's time goes").
"""

from __future__ import annotations

from dataclasses import dataclass

from convcarbon.costs import book_model_costs

FRAMEWORK_OVERHEAD = "framework overhead"
UPDATE_PART = "optimizer"  # the part of a step that is no layer's: Adam's update of every weight
ADD_UP_TOLERANCE = 0.15  # the parts must account for the measured step within this fraction of it
CONVOLUTION_LAYERS = ("conv_1", "conv_2")
# The figure's groups of a step, in stacking order: layer names of models.build_model, and the other parts.
GROUPS = (
    ("convolutions", CONVOLUTION_LAYERS),
    ("pooling, dropout, flatten", ("pool_1", "dropout_1", "pool_2", "dropout_2", "flatten")),
    ("dense layers", ("dense_1", "dense_2")),
    ("loss", ("loss",)),
    ("optimizer update", ("optimizer",)),
)


@dataclass(frozen=True)
class LayerTime:
    """One layer (or the loss, or the optimizer) of a step: its forward, backward and update time
    (only the optimizer updates), and its forward multiplications per image (None where `costs`
    counts none)."""

    layer: str
    forward_s: float
    backward_s: float
    update_s: float
    multiplications: int | None

    @property
    def total_s(self) -> float:
        return self.forward_s + self.backward_s + self.update_s


def model_breakdown(record: dict, model: str) -> dict | None:
    """The record's breakdown entry of one model; None when the record has none (measured before it)."""
    breakdown = record.get("breakdown")
    if breakdown is None:
        return None
    return next((entry for entry in breakdown["models"] if entry["model"] == model), None)


def layer_times(entry: dict) -> list[LayerTime]:
    """The entry's parts, one row per layer in the model's order, then the loss and the optimizer."""
    architecture = entry["architecture"]
    multiplications: dict[str, int] = {}
    for row in book_model_costs(architecture):  # a separable layer has two rows (depthwise, pointwise)
        multiplications[row.layer] = multiplications.get(row.layer, 0) + row.multiplications
    times: dict[str, dict[str, float]] = {}
    for part in entry["parts"]:
        times.setdefault(part["layer"], {})[part["phase"]] = part["duration_s"]
    return [
        LayerTime(
            layer,
            phases.get("forward", 0.0),
            phases.get("backward", 0.0),
            phases.get("update", 0.0),
            multiplications.get(layer),
        )
        for layer, phases in times.items()
    ]


def sum_of_parts_s(entry: dict) -> float:
    return sum(part["duration_s"] for part in entry["parts"])


def framework_overhead_s(entry: dict) -> float:
    """The measured step minus the sum of its parts: what the framework adds around them
    (negative when the parts, timed alone, took longer than the step that runs them together)."""
    return entry["step_duration_s"] - sum_of_parts_s(entry)


def adds_up(entry: dict) -> bool:
    """Whether the parts account for the measured step within `ADD_UP_TOLERANCE`."""
    return abs(framework_overhead_s(entry)) <= ADD_UP_TOLERANCE * entry["step_duration_s"]


def group_times_s(entry: dict) -> dict[str, float]:
    """The step cut into the figure's groups (`GROUPS`), then the framework overhead (never below zero
    here: a negative remainder is said in words, `parts_share`)."""
    by_layer = {row.layer: row.total_s for row in layer_times(entry)}
    groups = {name: sum(by_layer.get(layer, 0.0) for layer in layers) for name, layers in GROUPS}
    groups[FRAMEWORK_OVERHEAD] = max(0.0, framework_overhead_s(entry))
    return groups


def convolution_share(entry: dict) -> float:
    """The fraction of the measured step spent in the convolution layers, forward and backward:
    the f of Amdahl's law in the results chapter's exercise (results-ex-amdahl)."""
    return group_times_s(entry)["convolutions"] / entry["step_duration_s"]


def parts_share(entry: dict) -> float:
    """The sum of the parts as a fraction of the measured step (1 would be a perfect account)."""
    return sum_of_parts_s(entry) / entry["step_duration_s"]
