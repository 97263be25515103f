"""The shapes the crossover atlas times, by profile, and the counts of each layer at each shape.

Channels grow as the picture shrinks, as in real networks (56x56 at 8 and 16
channels down to 7x7 at 512), for kernels 3, 5 and 7, at batch 1 and at a
training-size batch; the book's own two convolution layers are timed exactly as
the book's models run them (MNIST, batch 250, no padding). No Keras is needed
here: the counts are analytic, and the tests check them by hand.

Used by: book/atlas.md
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..architecture import CONV_FILTERS, INPUT_SHAPE, KERNEL_SIZE, POOL_SIZE
from ..config import PROFILES, AtlasSettings
from ..costs import conv_output_size

LAYERS = ("Conv2D", "SeparableConv2D")
PASSES = ("inference", "training")
BYTES_PER_VALUE = 4  # float32
BOOK_BATCH = PROFILES["seed"].batch_size
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


def macs(shape: Shape, layer: str) -> int:
    """Forward multiply-accumulates of one call of the layer, for the whole batch (bias additions not counted)."""
    pixels = shape.batch * shape.output_height * shape.output_width
    if layer == "Conv2D":
        return pixels * shape.kernel**2 * shape.channels_in * shape.channels_out
    if layer == "SeparableConv2D":  # a KxK filter per input channel, then a 1x1 mix across channels
        return pixels * (shape.kernel**2 * shape.channels_in + shape.channels_in * shape.channels_out)
    raise ValueError(f"layer must be one of {', '.join(LAYERS)}, not {layer!r}")


def weight_count(shape: Shape, layer: str) -> int:
    """The layer's weights and biases."""
    if layer == "Conv2D":
        return shape.kernel**2 * shape.channels_in * shape.channels_out + shape.channels_out
    if layer == "SeparableConv2D":
        return shape.kernel**2 * shape.channels_in + shape.channels_in * shape.channels_out + shape.channels_out
    raise ValueError(f"layer must be one of {', '.join(LAYERS)}, not {layer!r}")


def byte_count(shape: Shape, layer: str) -> int:
    """Bytes that the layer's input, weights and output occupy (float32); the separable layer's
    intermediate picture, between its depthwise and pointwise parts, is not counted."""
    inputs = shape.batch * shape.height * shape.width * shape.channels_in
    outputs = shape.batch * shape.output_height * shape.output_width * shape.channels_out
    return BYTES_PER_VALUE * (inputs + weight_count(shape, layer) + outputs)


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
