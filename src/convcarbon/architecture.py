"""The shape of the book's two CNNs, shared by the Keras models and the analytic counts.

Both models follow the original tutorial exactly and differ only in the
convolution layer: `Conv2D` in one, depthwise `SeparableConv2D` in the other.
"""

INPUT_SHAPE = (28, 28, 1)
CONV_FILTERS = (32, 64)
KERNEL_SIZE = 3
POOL_SIZE = 2
DROPOUT_RATE = 0.25
DENSE_UNITS = 256
NUM_CLASSES = 10

# Short names used in records and on the command line, with the Keras layer each one means.
ARCHITECTURES = ("conv2d", "separable")
DISPLAY_NAMES = {"conv2d": "Conv2D", "separable": "SeparableConv2D"}


def check_architecture(architecture: str) -> None:
    if architecture not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {architecture!r}; choose one of: {', '.join(ARCHITECTURES)}")
