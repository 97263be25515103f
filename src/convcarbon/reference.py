"""What the original tutorial reported: cited data, not measurements of this project.

Source: Nicholas Kluge Corrêa, "Architectural choices in computer vision and
their impact on energy consumption", Teeny-Tiny Castle (`TUTORIAL_SOURCE`).
One run of each model on Google Colab with an NVIDIA T4 GPU, TensorFlow 2.15,
and CodeCarbon's online EmissionsTracker (grid located from the IP address);
the standard model was trained first, in a fresh session, then the separable one.
`TUTORIAL_REPORTED` is copied from the notebook's published output table; the
per-epoch times are copied from the same notebook's Keras progress log
(`verbose=1`), which prints each epoch's time in whole seconds and its
milliseconds per step.

Used by: book/results.md ("What the original tutorial reported").
"""

from __future__ import annotations

TUTORIAL_SOURCE = {
    "repository": "Nkluge-correa/TeenyTinyCastle",
    "path": "ML-Accountability/CO2-Emission-tracking/carbon_emission_cv.ipynb",
    "commit": "09d919b9e8a82383399201e401ff7d37e7be19f3",
}

# metric -> (Conv2D, SeparableConv2D), in the units of this package's comparison table.
TUTORIAL_REPORTED = {
    "accuracy": (0.9931, 0.9895),
    "loss": (0.0235841, 0.0362006),
    "duration": (83.0816, 40.3688),
    "energy_consumed": (0.00216531, 0.00122606),
    "emissions": (0.00105654, 0.000598241),
    "emissions_rate": (1.27168e-05, 1.48194e-05),
}

# Keras's progress log, one entry per epoch (25 epochs of 192 steps of 250 images each):
# "192/192 [====] - 7s 10ms/step - loss: ...". Seconds are printed rounded to whole seconds.
TUTORIAL_STEPS_PER_EPOCH = 192
TUTORIAL_EPOCH_ROUNDING_S = 0.5  # each printed epoch time is within half a second of the real one
TUTORIAL_EPOCH_S = {
    "Conv2D": (7, 2, 2, 1, 2, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 2, 2),
    "SeparableConv2D": (4, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 2),
}
TUTORIAL_STEP_ROUNDING_MS = 0.5  # each printed time per step is within half a millisecond of the real one
TUTORIAL_MS_PER_STEP = {
    "Conv2D": (10, 9, 9, 8, 8, 7, 7, 7, 9, 13, 10, 7, 7, 7, 8, 8, 10, 8, 7, 8, 8, 8, 7, 8, 10),
    "SeparableConv2D": (10, 11, 11, 10, 11, 8, 8, 9, 7, 7, 7, 7, 7, 7, 7, 7, 9, 7, 7, 7, 7, 7, 7, 7, 8),
}
TUTORIAL_MODELS = ("Conv2D", "SeparableConv2D")


def tutorial_duration_s(model: str) -> float:
    """The duration CodeCarbon tracked around the model's whole `fit` (the published table)."""
    return TUTORIAL_REPORTED["duration"][_index(model)]


def tutorial_epoch_sum_s(model: str) -> int:
    """The sum of the epoch times Keras printed for the model: the time inside its epochs."""
    return sum(TUTORIAL_EPOCH_S[_index_name(model)])


def tutorial_epoch_sum_error_s(model: str) -> float:
    """The most the sum of the printed (rounded) epoch times can be off by."""
    return TUTORIAL_EPOCH_ROUNDING_S * len(TUTORIAL_EPOCH_S[_index_name(model)])


def tutorial_outside_epochs_s(model: str) -> float:
    """Tracked duration minus the sum of the epoch times: what the tracker timed outside Keras's epochs."""
    return tutorial_duration_s(model) - tutorial_epoch_sum_s(model)


def tutorial_steps_sum_s(model: str) -> float:
    """The time of the model's steps from the ms/step column (ms per step x steps, summed over the epochs): an
    estimate of the time inside the epochs independent of the printed seconds, and without what an epoch does
    besides its steps (validation, callbacks, a one-off cost)."""
    return sum(TUTORIAL_MS_PER_STEP[_index_name(model)]) * TUTORIAL_STEPS_PER_EPOCH / 1000


def tutorial_steps_sum_error_s(model: str) -> float:
    """The most `tutorial_steps_sum_s` can be off by, from the rounding of the ms/step column alone."""
    return TUTORIAL_STEP_ROUNDING_MS * TUTORIAL_STEPS_PER_EPOCH * len(TUTORIAL_MS_PER_STEP[_index_name(model)]) / 1000


def tutorial_outside_difference_share(inside_difference_s: float) -> float:
    """The share of the published difference in tracked time (standard minus separable) that lies outside the
    epochs, given how much the two models' time inside the epochs differs."""
    difference_s = tutorial_duration_s("Conv2D") - tutorial_duration_s("SeparableConv2D")
    return (difference_s - inside_difference_s) / difference_s


def tutorial_outside_difference_share_range(inside_difference_s: float, error_s: float) -> tuple[float, float]:
    """The lowest and highest `tutorial_outside_difference_share` when the difference inside the epochs can be
    off by `error_s` either way (the two models' rounding bounds added)."""
    shares = (tutorial_outside_difference_share(inside_difference_s + sign * error_s) for sign in (1, -1))
    return tuple(sorted(shares))


def _index(model: str) -> int:
    return TUTORIAL_MODELS.index(_index_name(model))


def _index_name(model: str) -> str:
    if model not in TUTORIAL_MODELS:
        raise ValueError(f"the tutorial trained {' and '.join(TUTORIAL_MODELS)}, not {model!r}")
    return model
