"""The book's two CNNs in Keras 3. They differ only in the convolution layer.

Written against the backend-neutral `keras` API, so the same code trains with
TensorFlow here and with `KERAS_BACKEND=jax` on a GPU machine. The experiment
chapter shows `build_model` itself, once per model (`site.code_page`): only
the line that picks the convolution may depend on the architecture.

Used by: book/experiment.md
"""

from __future__ import annotations

import keras

from .architecture import (
    CONV_FILTERS,
    DENSE_UNITS,
    DROPOUT_RATE,
    INPUT_SHAPE,
    KERNEL_SIZE,
    NUM_CLASSES,
    POOL_SIZE,
    check_architecture,
)

CONVOLUTION_LAYERS = {"conv2d": keras.layers.Conv2D, "separable": keras.layers.SeparableConv2D}


def build_model(architecture: str) -> keras.Model:
    """Build and compile one model: Adam, categorical cross-entropy, accuracy."""
    check_architecture(architecture)
    convolution = CONVOLUTION_LAYERS[architecture]
    layers = [keras.Input(shape=INPUT_SHAPE)]
    for index, filters in enumerate(CONV_FILTERS, start=1):
        layers += [
            convolution(filters, (KERNEL_SIZE, KERNEL_SIZE), activation="relu", name=f"conv_{index}"),
            keras.layers.MaxPooling2D((POOL_SIZE, POOL_SIZE), name=f"pool_{index}"),
            keras.layers.Dropout(DROPOUT_RATE, name=f"dropout_{index}"),
        ]
    layers += [
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(DENSE_UNITS, activation="relu", name="dense_1"),
        keras.layers.Dense(NUM_CLASSES, activation="softmax", name="dense_2"),
    ]
    model = keras.Sequential(layers, name=convolution.__name__)  # "Conv2D" or "SeparableConv2D"
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model
