"""The shapes the crossover atlas times, by profile, and the counts of each layer at each shape.

Channels grow as the picture shrinks, as in real networks (56x56 at 8 and 16
channels down to 7x7 at 512), for kernels 3, 5 and 7, at batch 1 and at a
training-size batch; the book's own two convolution layers are timed exactly as
the book's models run them (MNIST, batch 250, no padding). No Keras is needed
here: the counts are analytic (`costs`, where the rule for each pass is written), and the tests check them by
hand.

Used by: book/atlas.md
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from convcarbon.architecture import CONV_FILTERS, INPUT_SHAPE, KERNEL_SIZE, POOL_SIZE
from convcarbon.config import DEFAULT_PROFILE, PROFILES, AtlasSettings
from convcarbon.costs import (
    BYTES_PER_VALUE,
    LayerCost,
    conv2d_cost,
    conv_output_size,
    intermediate_bytes,
    pass_bytes,
    pass_multiplications,
    separable_conv2d_cost,
    total_parameters,
)
from convcarbon.costs import PASSES as COUNTED_PASSES

LAYERS = ("Conv2D", "SeparableConv2D")
PASSES = COUNTED_PASSES  # the passes the atlas times are the ones the counts know
BOOK_BATCH = PROFILES[DEFAULT_PROFILE].batch_size  # the original protocol's
WARM_UP_CALLS = 2
ATLAS_PROFILES = tuple(PROFILES)  # each profile's atlas settings are its entry's `atlas` (config.PROFILES)


@dataclass(frozen=True)
class Shape:
    """One convolution: its input picture and channels, output channels, kernel, padding and batch."""

    channels_in: int
    channels_out: int
    kernel: int
    height: int
    width: int
    padding: str
    batch: int
    book_layer: str | None = None  # "conv_1" or "conv_2" for the book's own layers

    def __post_init__(self) -> None:
        for name in ("channels_in", "channels_out", "kernel", "height", "width", "batch"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive whole number, not {getattr(self, name)!r}")
        conv_output_size(self.height, self.kernel, self.padding)  # checks the padding and that the kernel fits

    @property
    def output_height(self) -> int:
        return conv_output_size(self.height, self.kernel, self.padding)

    @property
    def output_width(self) -> int:
        return conv_output_size(self.width, self.kernel, self.padding)

    def to_dict(self) -> dict:
        return asdict(self)


def layer_parts(shape: Shape, layer: str) -> list[LayerCost]:
    """The parts of the layer at this shape, per image (`costs`): one standard convolution, or a depthwise and a
    pointwise one. Every count of the atlas follows from these, so that the atlas and the book's model tables
    never disagree."""
    if layer not in LAYERS:
        raise ValueError(f"layer must be one of {', '.join(LAYERS)}, not {layer!r}")
    cost = conv2d_cost if layer == "Conv2D" else separable_conv2d_cost
    return cost(
        "atlas", layer, shape.height, shape.width, shape.channels_in, shape.channels_out, shape.kernel, shape.padding
    )


def macs(shape: Shape, layer: str) -> int:
    """Forward multiply-accumulates of one call of the layer, for the whole batch (bias additions not counted):
    a record's `macs`."""
    return pass_multiplications(layer_parts(shape, layer), shape.batch, "inference", input_gradient=False)


def weight_count(shape: Shape, layer: str) -> int:
    """The layer's weights and biases."""
    return total_parameters(layer_parts(shape, layer))


def byte_count(shape: Shape, layer: str) -> int:
    """A record's `bytes` (schema 1): the layer's input, weights and output (float32). The separable layer's
    intermediate picture is not in it; `work_bytes` counts it."""
    parts = layer_parts(shape, layer)
    values = shape.batch * (math.prod(parts[0].input_shape) + math.prod(parts[-1].output_shape))
    return BYTES_PER_VALUE * (values + total_parameters(parts))


def input_gradient_timed(schema_version: int, book_layer: str | None) -> bool:
    """Whether a record's training pass computed the layer's input gradient. Schema 1 timed Keras's
    `train_on_batch` of a one-layer model, whose input is data: no input gradient anywhere. Later schemas time a
    layer as it runs inside a model: the input gradient everywhere but for the book's first layer, whose input is
    the picture."""
    return schema_version > 1 and book_layer != "conv_1"


def work_macs(shape: Shape, layer: str, pass_name: str, input_gradient: bool) -> int:
    """Multiply-accumulates of one call in one pass, as it runs (`costs.pass_multiplications`)."""
    return pass_multiplications(layer_parts(shape, layer), shape.batch, pass_name, input_gradient)


def work_bytes(shape: Shape, layer: str, pass_name: str, input_gradient: bool) -> int:
    """Bytes of one call in one pass, as it runs, the separable layer's intermediate picture included
    (`costs.pass_bytes`)."""
    return pass_bytes(layer_parts(shape, layer), shape.batch, pass_name, input_gradient)


def layer_intermediate_bytes(shape: Shape, layer: str) -> int:
    """Bytes of the separable layer's intermediate picture in one forward call, written and read; 0 for Conv2D."""
    return intermediate_bytes(layer_parts(shape, layer), shape.batch)


def book_shapes(batch: int = BOOK_BATCH) -> list[Shape]:
    """The book models' two convolution layers, as they run: MNIST pictures, no padding, 3x3 kernels,
    each layer's input the previous one's output after 2x2 pooling."""
    height, width, channels = INPUT_SHAPE
    shapes = []
    for index, filters in enumerate(CONV_FILTERS, start=1):
        shape = Shape(channels, filters, KERNEL_SIZE, height, width, "valid", batch, book_layer=f"conv_{index}")
        shapes.append(shape)
        height, width, channels = shape.output_height // POOL_SIZE, shape.output_width // POOL_SIZE, filters
    return shapes


def atlas_settings(profile: str) -> AtlasSettings:
    """The atlas settings of a profile (config.PROFILES), or a ValueError naming the profiles."""
    if profile not in PROFILES:
        raise ValueError(f"unknown atlas profile {profile!r}; choose one of: {', '.join(ATLAS_PROFILES)}")
    return PROFILES[profile].atlas


def grid_shapes(profile: str) -> list[Shape]:
    """Every shape a profile times: the grid (same padding, channels in = channels out), then the book's layers."""
    settings = atlas_settings(profile)
    shapes = [
        Shape(channels, channels, kernel, side, side, "same", batch)
        for batch in (1, settings.training_batch)
        for kernel in settings.kernels
        for channels, side in settings.channel_levels
    ]
    return shapes + book_shapes()


def atlas_config(profile: str) -> dict:
    """Everything that decides what an atlas run times and how: stored in its record and fingerprinted."""
    settings = atlas_settings(profile)
    return {
        "profile": profile,
        **{key: value for key, value in settings.to_dict().items() if key != "training_batch"},
        "batches": [1, settings.training_batch],  # the grid's batches, as the pages read them
        "book_batch": BOOK_BATCH,
        "warm_up_calls": WARM_UP_CALLS,
        "seed": 42,
    }
