"""The checked exercises: a student's answer against the book's counts and against the student's own records.

Four checks, one per kind of exercise:

- `check_multiplications`: the multiplications of one layer, exact (book/costs.md);
- `check_crossover`: the channel count from which a separable layer is faster, predicted with
  `predict_crossover` before the atlas is measured, then checked against the student's atlas (book/atlas.md);
- `check_break_even`: the predictions that use as much energy as one training run, predicted with
  `predict_break_even` before measuring, then checked against the student's own training record (book/ethics.md);
- `check_energy_reading`: what the interval of the energy ratio lets one say (book/experiment.md).

Each returns a `CheckResult`: what was right, what was off and by how much, and the chapter section that
gives the reason. What a wrong answer reveals depends on what was asked:

- A count the student computes with a formula (the multiplications) is never revealed: a wrong answer is told
  only its direction and its distance ("12% too high"), so a second try is still the student's own
  computation, and the check stays a check when the grading runs it again.
- A measured value (the crossover, the break-even, the energy ratio's interval) is the student's own
  measurement, printed by their own command anyway: it is shown once the answer is committed. A prediction is
  committed by `predict_crossover` or `predict_break_even`, which date it; one dated after the measurement
  does not count.

No string of an answer is ever echoed: an answer of the wrong type is named by its type only, so that
markup or terminal escapes in a hand-in reach no page or terminal through a check.

Used by: book/costs.md, book/atlas.md, book/ethics.md, book/experiment.md, book/instructors.md (Otter-Grader),
`course.grade`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from convcarbon import units
from convcarbon.anatomy.analyze import inference
from convcarbon.atlas.analyze import analysis as atlas
from convcarbon.atlas.measure.grid import PASSES
from convcarbon.costs import conv2d_cost, separable_conv2d_cost
from convcarbon.training.analyze import analysis

# Counts larger than any layer or class could have: a bigger answer is refused as not a count.
MAX_ANSWER = 10**15
# A break-even predicted before measuring is right within this factor of the measured one: the energy of a
# prediction and of a training run both move with the machine, and a prediction that gets their ratio to within
# a factor of two has understood what scales with what.
BREAK_EVEN_FACTOR = 2
BREAK_EVEN_MODEL = "Conv2D"
CREATED_UTC_FRACTION = re.compile(r"\.\d+")
# The crossover the atlas chapter's exercise asks for; its batch is the atlas's training batch.
CROSSOVER_KERNEL, CROSSOVER_PASS = 3, "training"


@dataclass(frozen=True)
class Section:
    """Where in the book the reason is: the chapter's file and label, and the section's heading."""

    chapter_file: str
    chapter_label: str
    heading: str

    def text(self) -> str:
        return f"'{self.heading}' in book/{self.chapter_file} (label {self.chapter_label})"


SECTIONS = {
    "multiplications": Section("costs.md", "chapter-costs", "The worked example"),
    "crossover": Section("atlas.md", "chapter-atlas", "The crossover"),
    "break_even": Section("ethics.md", "chapter-ethics", "Training once, predicting many times"),
    "energy_reading": Section("results.md", "chapter-results", "Did the separable model save energy?"),
}
EXERCISES = tuple(SECTIONS)


@dataclass(frozen=True)
class CheckResult:
    """One checked answer. `summary` is a short cell for a class's table; `text()` the full feedback."""

    exercise: str
    passed: bool
    summary: str
    section: Section
    right: tuple[str, ...] = ()
    off: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [f"{self.exercise}: {'right' if self.passed else 'not yet'}"]
        lines += [f"  right: {line}" for line in self.right]
        lines += [f"  off: {line}" for line in self.off]
        lines.append(f"  why: see {self.section.text()}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer, cycle) -> None:  # how IPython and Jupyter show it: the feedback as text
        printer.text(self.text())


def _result(exercise: str, passed: bool, summary: str, right=(), off=()) -> CheckResult:
    return CheckResult(exercise, passed, summary, SECTIONS[exercise], tuple(right), tuple(off))


def _type_name(value) -> str:
    return "text" if isinstance(value, str) else type(value).__name__


def _count_problem(value, whole: bool) -> str | None:
    """Why `value` is not a count (a whole one when `whole`); None when it is one. The value is never quoted."""
    if value is None:
        return "no answer yet: put your number in place of None"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"the answer must be a number, not {_type_name(value)}"
    if isinstance(value, float) and not math.isfinite(value):
        return "the answer is not a finite number (NaN or infinity)"
    if value < 0 or value > MAX_ANSWER:
        return f"the answer must lie between 0 and {MAX_ANSWER:,}"
    if whole and value != int(value):
        return "the answer must be a whole number"
    return None


def relative_distance(answer: float, expected: float) -> str:
    """'12% too high', '0.4% too low': how far an answer is, never where the right one lies."""
    fraction = (answer - expected) / expected
    size = abs(fraction)
    text = units.percent(size, 1 if size < 0.1 else 0)
    if text in ("0.0%", "0%"):
        text = "less than 0.1%"
    return f"{text} too {'high' if fraction > 0 else 'low'}"


# --- the multiplications of one layer (exact) ------------------------------------------------------------------
LAYER_KINDS = {"standard": conv2d_cost, "separable": separable_conv2d_cost}
# The costs chapter's exercise: a third separable layer of 128 3x3 filters after the book's second pooling (5x5x64).
THIRD_LAYER = {"kind": "separable", "height": 5, "width": 5, "channels": 64, "filters": 128, "kernel_size": 3}


def layer_parts(kind: str, **shape) -> dict[str, int]:
    """The multiplications per image of each part of one layer ('standard', or 'depthwise' and 'pointwise'),
    from `costs`; `shape` as `costs.conv2d_cost` takes it (height, width, channels, filters, kernel_size, padding)."""
    if kind not in LAYER_KINDS:
        raise ValueError(f"kind must be one of {', '.join(LAYER_KINDS)}, not {kind!r}")
    try:
        rows = LAYER_KINDS[kind]("question", "layer", **shape)
    except TypeError as error:  # a shape missing a size, or naming one the layer does not have
        raise ValueError(f"the layer's shape: {error}") from None
    return {row.part: row.multiplications for row in rows}


def check_multiplications(answer, **question) -> CheckResult:
    """The multiplications per image (forward pass) of one layer, checked exactly. `question` (default
    `THIRD_LAYER`): the layer's kind ('standard' or 'separable') and its shape, as `layer_parts` takes them."""
    question = question or THIRD_LAYER
    kind, shape = question["kind"], {key: value for key, value in question.items() if key != "kind"}
    parts = layer_parts(kind, **shape)
    expected = sum(parts.values())
    problem = _count_problem(answer, whole=True)
    if problem:
        return _result("multiplications", False, "no valid answer", off=[problem])
    if answer == expected:
        return _result("multiplications", True, "right", right=[f"the multiplications per image of the {kind} layer"])
    distance = relative_distance(answer, expected)
    off = [f"your count for the {kind} layer is {distance}"]
    if len(parts) > 1 and answer in parts.values():
        part = next(part for part, count in parts.items() if count == answer)
        off.append(f"it is the {part} part alone: the layer has {' and '.join(parts)} parts")
    other = "standard" if kind == "separable" else "separable"
    if answer == sum(layer_parts(other, **shape).values()):
        off.append(f"it is the count of the {other} layer of the same shape")
    return _result("multiplications", False, distance, off=off)


# --- the crossover, predicted before the atlas is measured -----------------------------------------------------
@dataclass(frozen=True)
class Prediction:
    """A crossover predicted and dated before the atlas: `channels` None means "never, in this grid"."""

    channels: int | None
    kernel: int
    pass_name: str
    batch: int | None  # None: the atlas's training batch
    made_utc: str

    def answer(self) -> dict:
        """The prediction as a hand-in's answers.json holds it (`course.grade`)."""
        return {"channels": self.channels, "predicted_utc": self.made_utc}


def predict_crossover(
    channels, kernel: int = CROSSOVER_KERNEL, pass_name: str = CROSSOVER_PASS, batch: int | None = None
) -> Prediction:
    """Commit a prediction now, before measuring: the check compares its date with the atlas's."""
    if channels is not None:
        problem = _count_problem(channels, whole=True)
        if problem:
            raise ValueError(f"channels: {problem} (or None for 'never')")
        channels = int(channels)
    for name, value in (("kernel", kernel), ("batch", batch)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be a positive whole number, not {value!r}")
    if pass_name not in PASSES:
        raise ValueError(f"pass_name must be one of {', '.join(PASSES)}, not {pass_name!r}")
    return Prediction(channels, kernel, pass_name, batch, _now_utc())


def _now_utc() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def measured_crossover(record: dict, kernel: int, batch: int, pass_name: str) -> atlas.Crossover | None:
    """The crossover of one row of the atlas with its interval, as far as the time ratios' intervals tell
    (`atlas.analyze.analysis.Crossover`: between two channel counts, at or below the smallest, never, or not
    resolved), or None when its grid has no such row. The one call of the atlas's crossover
    (`atlas.analyze.analysis.crossover_frame`)."""
    frame = atlas.crossover_frame(record)
    rows = frame[(frame["kernel"] == kernel) & (frame["batch"] == batch) & (frame["pass"] == pass_name)]
    return None if rows.empty else rows.iloc[0]["crossover"]


def _within(channels: int | None, measured: atlas.Crossover) -> bool | None:
    """Whether a predicted crossover agrees with the measured one: inside its interval, or, where the separable
    layer was never faster, no crossover or any count above the largest measured; None where the measurement does
    not resolve the crossover, so that nothing can be checked against it."""
    if measured.kind == atlas.NEVER:
        return channels is None or channels > measured.low_channels
    return measured.holds(channels)


def check_crossover(prediction, record: dict) -> CheckResult:
    """A prediction from `predict_crossover` against the student's own atlas record."""
    if not isinstance(prediction, Prediction):
        return _result(
            "crossover",
            False,
            "no prediction",
            off=[f"expected a prediction from predict_crossover(...), not {_type_name(prediction)}"],
        )
    batch = prediction.batch if prediction.batch is not None else max(record["config"]["batches"])
    where = f"{prediction.kernel}x{prediction.kernel} kernels, batch {batch}, {prediction.pass_name} pass"
    measured = measured_crossover(record, prediction.kernel, batch, prediction.pass_name)
    if measured is None:
        return _result("crossover", False, "not in this atlas", off=[f"this atlas measured no {where}"])
    late = _dated_after(prediction, record, "crossover", "this atlas was measured: predict first, then run the atlas")
    if late:
        return late
    said = "never" if prediction.channels is None else f"{prediction.channels} channels"
    agrees = _within(prediction.channels, measured)
    measured_text = f"measured: {measured.text()}"
    if agrees is None:
        return _result(
            "crossover",
            False,
            "not resolved",
            off=[
                f"at {where} you predicted {said}; {measured_text}: a time ratio's interval straddles 1 where it "
                "would decide, so this atlas cannot check the prediction (run it again on a quieter machine)"
            ],
        )
    if agrees:
        return _result("crossover", True, "right", right=[f"at {where} you predicted {said}; {measured_text}"])
    return _result(
        "crossover",
        False,
        _crossover_summary(prediction.channels, measured),
        off=[f"at {where} you predicted {said}; {measured_text}"],
    )


def _crossover_summary(channels: int | None, measured: atlas.Crossover) -> str:
    if measured.kind == atlas.NEVER:
        return "it never paid"
    if channels is None:
        return f"it paid, {measured.text()}"
    return "too low" if measured.low_channels is not None and channels <= measured.low_channels else "too high"


def _dated_after(prediction, record: dict, check: str, measured: str) -> CheckResult | None:
    """The result of a prediction that does not count, because its date cannot be read or falls after the
    measurement (`measured`: what was measured, and what to do instead); None for one made before."""
    before = _made_before(prediction.made_utc, record["created_utc"])
    if before is None:
        return _result(check, False, "undated", off=["the prediction's date cannot be read"])
    if not before:
        return _result(check, False, "predicted after measuring", off=[f"the prediction is dated after {measured}"])
    return None


def _made_before(predicted_utc, measured_utc: str) -> bool | None:
    """Whether the prediction was dated before the measurement; None when its date cannot be read."""
    try:
        return _utc(predicted_utc) < _utc(measured_utc)
    except (TypeError, ValueError):
        return None


def _utc(text: str) -> datetime:
    whole_seconds = CREATED_UTC_FRACTION.sub("", text.replace("Z", "+00:00"))  # Python 3.10 reads 6 digits at most
    moment = datetime.fromisoformat(whole_seconds)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def prediction_from_answer(answer: dict) -> Prediction:
    """A hand-in's crossover answer (validated by `grade`'s schema) as the prediction it records, for the
    crossover the chapter's exercise asks (`CROSSOVER_KERNEL`, `CROSSOVER_PASS`, the atlas's training batch)."""
    return Prediction(answer["channels"], CROSSOVER_KERNEL, CROSSOVER_PASS, None, answer["predicted_utc"])


# --- the break-even, predicted before the student's own training record -------------------------------------
@dataclass(frozen=True)
class BreakEvenPrediction:
    """A break-even predicted and dated before the training record: predictions per training run's energy."""

    predictions: float
    model: str
    batch_size: int
    made_utc: str

    def answer(self) -> dict:
        """The prediction as a hand-in's answers.json holds it (`course.grade`)."""
        return {"predictions": self.predictions, "predicted_utc": self.made_utc}


def predict_break_even(predictions, model: str = BREAK_EVEN_MODEL, batch_size: int = 1) -> BreakEvenPrediction:
    """Commit a prediction now, before measuring: the check compares its date with the record's."""
    problem = _count_problem(predictions, whole=False)
    if problem:
        raise ValueError(f"predictions: {problem}")
    if model not in analysis.MODELS:
        raise ValueError(f"model must be one of {', '.join(analysis.MODELS)}, not {model!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive whole number, not {batch_size!r}")
    return BreakEvenPrediction(float(predictions), model, batch_size, _now_utc())


def check_break_even(prediction, record: dict) -> CheckResult:
    """A prediction from `predict_break_even` against the student's own training record: right within a factor
    of `BREAK_EVEN_FACTOR` of the record's break-even (medians over the runs)."""
    if not isinstance(prediction, BreakEvenPrediction):
        return _result(
            "break_even",
            False,
            "no prediction",
            off=[f"expected a prediction from predict_break_even(...), not {_type_name(prediction)}"],
        )
    if not inference.has_inference(record) or prediction.batch_size not in inference.batch_sizes(record):
        return _result("break_even", False, "not in this record", off=["this record measured no such predictions"])
    measured = inference.break_even_predictions(record, prediction.model, prediction.batch_size)
    if math.isnan(measured):
        return _result("break_even", False, "energy not measured", off=["this record's energy was not measured"])
    late = _dated_after(prediction, record, "break_even", "this record was measured: predict first, then measure")
    if late:
        return late
    name = f"{prediction.model} at batch {prediction.batch_size}"
    said = f"you predicted {units.number(prediction.predictions)} predictions for {name}"
    measured_text = f"measured: {inference.three_digits(measured)} ({inference.inference_energy_reading(record)})"
    factor = prediction.predictions / measured
    if 1 / BREAK_EVEN_FACTOR <= factor <= BREAK_EVEN_FACTOR:
        return _result(
            "break_even", True, "right", right=[f"{said}, within a factor {BREAK_EVEN_FACTOR} of it; {measured_text}"]
        )
    summary = f"{units.number(factor if factor > 1 else 1 / factor, 2)} times too {'high' if factor > 1 else 'low'}"
    return _result("break_even", False, summary, off=[f"{said}, {summary}; {measured_text}"])


def break_even_from_answer(answer: dict) -> BreakEvenPrediction:
    """A hand-in's break-even answer (validated by `grade`'s schema) as the prediction it records, for the
    break-even the chapter's exercise asks (`BREAK_EVEN_MODEL` at batch 1)."""
    return BreakEvenPrediction(float(answer["predictions"]), BREAK_EVEN_MODEL, 1, answer["predicted_utc"])


# --- reading the energy ratio's interval ----------------------------------------------------------------------
READINGS = tuple(analysis.VERDICTS)


def check_energy_reading(answer, record: dict) -> CheckResult:
    """What the record's energy ratio and its interval say, as one of `READINGS` ("saved": below 1 beyond
    its interval; "no saving shown": the interval includes 1; ...)."""
    if not isinstance(answer, str) or answer not in READINGS:
        shown = "no answer yet" if answer is None else f"not one of the readings ({_type_name(answer)})"
        return _result("energy_reading", False, "no valid answer", off=[f"{shown}: choose one of {READINGS}"])
    answer = READINGS[READINGS.index(answer)]  # the package's own string from here on, whatever was passed
    interval = analysis.separable_ratio_interval(record, "energy_consumed")
    expected = analysis.saving_shown(interval, analysis.repeats(record))
    measured = f"your record's energy ratio is {interval.sentence()}, {analysis.repeats(record)} run(s) per model"
    if answer == expected:
        return _result("energy_reading", True, "right", right=[f"'{answer}': {measured}"])
    return _result(
        "energy_reading",
        False,
        f"not '{answer}'",
        off=[f"'{answer}' is not what it shows: {measured}, which reads '{expected}'"],
    )
