"""Analytic multiplication and parameter counts, from layer shapes alone: the one place where work is counted.

One multiplication is counted per multiply-accumulate. Bias additions,
activations, pooling and dropout are not counted. No Keras is needed here;
the tests check these counts against Keras's `count_params()`, and the work of a
pass by hand.

Work counted as it runs. Inference is the forward pass. Training is, per part of
a layer (a standard convolution or a dense layer is one part, a separable
convolution two: depthwise, then pointwise), the forward pass, the gradient of
the part's weights and the gradient of its input; each of the three does the
part's forward multiply-accumulates (the weight gradient multiplies each input
value by each output gradient it touched, the input gradient each weight by each
output gradient) and touches the part's input, weights and output once (the
forward pass reads input and weights and writes the output; the weight gradient
reads input and output gradient and writes the weights' gradient; the input
gradient reads output gradient and weights and writes the input's gradient). A
layer whose input needs no gradient (the first layer of a model: its input is
data) skips its first part's input gradient; a separable layer's pointwise part
always computes its input gradient, since the depthwise weights' gradient needs
it. So, per layer kind, with forward counts F (standard), D and P (depthwise,
pointwise): training inside a model is 3F, or 3D + 3P; as a first layer 2F, or
2D + 3P. A separable layer's bytes include its intermediate picture, written by
the depthwise part and read by the pointwise part (the memory access cost of Ma
et al. 2018, ShuffleNet V2).

Used by: book/costs.md, book/results.md, book/atlas.md
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from .architecture import (
    ARCHITECTURES,
    CONV_FILTERS,
    DENSE_UNITS,
    DISPLAY_NAMES,
    INPUT_SHAPE,
    KERNEL_SIZE,
    NUM_CLASSES,
    POOL_SIZE,
    check_architecture,
)


@dataclass(frozen=True)
class LayerCost:
    model: str
    layer: str  # the Keras layer name; a separable layer has two rows with the same name
    part: str  # "standard", "depthwise", "pointwise" or "dense"
    input_shape: tuple
    output_shape: tuple
    parameters: int
    multiplications: int

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def conv_output_size(size: int, kernel_size: int, padding: str = "valid") -> int:
    """Output height or width of a stride-1 convolution."""
    if padding == "valid":
        if size < kernel_size:
            raise ValueError(f"a {kernel_size}x{kernel_size} kernel does not fit a {size}-pixel input")
        return size - kernel_size + 1
    if padding == "same":
        return size
    raise ValueError(f"padding must be 'valid' or 'same', not {padding!r}")


def conv2d_cost(model, layer, height, width, channels, filters, kernel_size, padding="valid", use_bias=True):
    """A standard convolution: every filter spans all input channels at every output pixel."""
    out_h = conv_output_size(height, kernel_size, padding)
    out_w = conv_output_size(width, kernel_size, padding)
    weights = kernel_size * kernel_size * channels * filters
    return [
        LayerCost(
            model,
            layer,
            "standard",
            (height, width, channels),
            (out_h, out_w, filters),
            parameters=weights + (filters if use_bias else 0),
            multiplications=out_h * out_w * weights,
        )
    ]


def separable_conv2d_cost(model, layer, height, width, channels, filters, kernel_size, padding="valid", use_bias=True):
    """A depthwise separable convolution: one KxK filter per channel, then a 1x1 mix across channels."""
    out_h = conv_output_size(height, kernel_size, padding)
    out_w = conv_output_size(width, kernel_size, padding)
    depthwise_weights = kernel_size * kernel_size * channels
    pointwise_weights = channels * filters
    depthwise = LayerCost(
        model,
        layer,
        "depthwise",
        (height, width, channels),
        (out_h, out_w, channels),
        parameters=depthwise_weights,
        multiplications=out_h * out_w * depthwise_weights,
    )
    pointwise = LayerCost(
        model,
        layer,
        "pointwise",
        (out_h, out_w, channels),
        (out_h, out_w, filters),
        parameters=pointwise_weights + (filters if use_bias else 0),
        multiplications=out_h * out_w * pointwise_weights,
    )
    return [depthwise, pointwise]


def dense_cost(model, layer, inputs, units, use_bias=True):
    return [
        LayerCost(
            model,
            layer,
            "dense",
            (inputs,),
            (units,),
            parameters=inputs * units + (units if use_bias else 0),
            multiplications=inputs * units,
        )
    ]


def book_model_costs(architecture: str) -> list[LayerCost]:
    """Per-layer costs of one of the book's two models, for one image (forward pass)."""
    check_architecture(architecture)
    conv_cost = conv2d_cost if architecture == "conv2d" else separable_conv2d_cost
    model = DISPLAY_NAMES[architecture]
    height, width, channels = INPUT_SHAPE
    rows: list[LayerCost] = []
    for index, filters in enumerate(CONV_FILTERS, start=1):
        rows += conv_cost(model, f"conv_{index}", height, width, channels, filters, KERNEL_SIZE)
        height, width, channels = rows[-1].output_shape
        height, width = height // POOL_SIZE, width // POOL_SIZE  # MaxPooling2D, then Dropout
    flat = height * width * channels
    rows += dense_cost(model, "dense_1", flat, DENSE_UNITS)
    rows += dense_cost(model, "dense_2", DENSE_UNITS, NUM_CLASSES)
    return rows


# The classic worked example: a 15x15x3 input and ten 3x3 filters, no padding.
WORKED_EXAMPLE = dict(height=15, width=15, channels=3, filters=10, kernel_size=3)


def worked_example_costs() -> list[LayerCost]:
    return conv2d_cost("standard", "example", **WORKED_EXAMPLE) + separable_conv2d_cost(
        "depthwise separable", "example", **WORKED_EXAMPLE
    )


def rows_by_model(rows: list[LayerCost]) -> dict[str, list[LayerCost]]:
    """The rows of each model, in their order; a table may hold several models."""
    grouped: dict[str, list[LayerCost]] = {}
    for row in rows:
        grouped.setdefault(row.model, []).append(row)
    return grouped


def format_shape(shape: tuple, separator: str = "x") -> str:
    return separator.join(str(size) for size in shape)


def total_multiplications(rows: list[LayerCost]) -> int:
    return sum(row.multiplications for row in rows)


def total_parameters(rows: list[LayerCost]) -> int:
    return sum(row.parameters for row in rows)


def separable_ratio(filters: int, kernel_size: int) -> float:
    """Multiplications of a depthwise separable layer over a standard one: 1/N + 1/K^2."""
    return 1 / filters + 1 / kernel_size**2


def all_cost_rows() -> dict[str, list[LayerCost]]:
    """The tables that `python -m convcarbon costs` prints."""
    tables = {"worked example (15x15x3 input, ten 3x3 filters)": worked_example_costs()}
    for architecture in ARCHITECTURES:
        tables[f"book model: {DISPLAY_NAMES[architecture]}"] = book_model_costs(architecture)
    return tables


# The epoch-level estimate of the results chapter counts every layer's backward pass as two forward passes (the
# gradient of its weights and of its input). It assumes the first layer's input gradient too, which training does not
# compute (`training_multiplications` leaves it out): an overcount of that layer's share of the forward
# multiplications divided by three, tested to stay below 3% for both book models.
BACKWARD_TO_FORWARD_MULTIPLICATIONS = 2


def trained_images(train_images: int, validation_split: float) -> int:
    """The images an epoch of `fit` trains on: Keras keeps the first ceil(n (1 - split)) for training."""
    return math.ceil(train_images * (1 - validation_split))


def images_text(train_images: int, validation_split: float) -> str:
    """'48,000 training and 12,000 validation images': what `fit` trained on, and what it only checked."""
    trained = trained_images(train_images, validation_split)
    return f"{trained:,} training and {train_images - trained:,} validation images"


def training_multiplications_per_epoch(
    multiplications_per_image: int, train_images: int, validation_split: float
) -> int:
    """Multiplications of one epoch of `fit`: forward and backward on the training part,
    forward only on the validation part.

    Only the layers' multiplications are counted, not pooling, activations or the optimiser.
    """
    trained = trained_images(train_images, validation_split)
    validated = train_images - trained
    return multiplications_per_image * ((1 + BACKWARD_TO_FORWARD_MULTIPLICATIONS) * trained + validated)


# --- work counted as it runs: one pass of a layer, in multiply-accumulates and bytes (the rule: above) ---------

BYTES_PER_VALUE = 4  # float32
PASSES = ("inference", "training")


def _values(shape: tuple) -> int:
    return math.prod(shape)


def _check_pass(pass_name: str) -> None:
    if pass_name not in PASSES:
        raise ValueError(f"pass must be one of {', '.join(PASSES)}, not {pass_name!r}")


def sub_passes(pass_name: str, first_part: bool, input_gradient: bool) -> int:
    """How many forward-sized computations one part of a layer does in a pass: 1 for inference; for training the
    forward pass and the weight gradient, plus the input gradient unless this is the layer's first part and the
    layer's input needs no gradient."""
    _check_pass(pass_name)
    if pass_name == "inference":
        return 1
    return 2 + (1 if input_gradient or not first_part else 0)


def part_bytes(part: LayerCost, batch: int) -> int:
    """Bytes one forward-sized computation of a part touches: its input and output for the whole batch, and its
    weights (and biases) once, four bytes each."""
    return BYTES_PER_VALUE * (batch * (_values(part.input_shape) + _values(part.output_shape)) + part.parameters)


def pass_multiplications(parts: list[LayerCost], batch: int, pass_name: str, input_gradient: bool) -> int:
    """Multiply-accumulates of one call of a layer (its parts, in order) over a batch, in one pass (rule above)."""
    return sum(
        batch * part.multiplications * sub_passes(pass_name, index == 0, input_gradient)
        for index, part in enumerate(parts)
    )


def pass_bytes(parts: list[LayerCost], batch: int, pass_name: str, input_gradient: bool) -> int:
    """Bytes one call of a layer touches in one pass (rule above); a separable layer's intermediate picture is
    counted each time a part writes or reads it."""
    return sum(
        part_bytes(part, batch) * sub_passes(pass_name, index == 0, input_gradient) for index, part in enumerate(parts)
    )


def intermediate_bytes(parts: list[LayerCost], batch: int) -> int:
    """Bytes of the pictures passed between a layer's parts in one forward pass, written once and read once
    (a separable layer's depthwise output); 0 for a one-part layer."""
    return sum(2 * BYTES_PER_VALUE * batch * _values(part.output_shape) for part in parts[:-1])


def training_multiplications(rows: list[LayerCost]) -> int:
    """Multiply-accumulates of one image's training step through a model's layers (rows in order, as
    `book_model_costs` gives them): the rule above, with no input gradient for the first layer."""
    first_layer = rows[0].layer
    return sum(
        row.multiplications * sub_passes("training", index == 0, input_gradient=row.layer != first_layer)
        for index, row in enumerate(rows)
    )
