"""Training without tf.data's autotuning (`epochs.input_without_autotuning`) changes nothing but how the input
pipeline runs: the same images, in the same batches and order, so the same loss after every step."""

import numpy as np
import pytest

from convcarbon.config import resolve_config
from convcarbon.data import load_mnist, prepare


class StepLosses:
    """Every step's running loss, and validation's, epoch after epoch."""

    @staticmethod
    def callback():
        import keras

        class Losses(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.steps, self.validation = [], []

            def on_train_batch_end(self, batch, logs=None):
                self.steps.append(float(logs["loss"]))

            def on_epoch_end(self, epoch, logs=None):
                self.validation.append(float(logs["val_loss"]))

        return Losses()


def train(data, config, without_autotuning: bool):
    import contextlib

    import keras

    from convcarbon.models import build_model
    from convcarbon.training.measure.epochs import input_without_autotuning
    from convcarbon.training.measure.experiment import fit_as_protocol

    keras.utils.set_random_seed(config.seed)
    model, losses = build_model("separable"), StepLosses.callback()
    with input_without_autotuning() if without_autotuning else contextlib.nullcontext():
        fit_as_protocol(model, data, config, callbacks=[losses])
    return losses


@pytest.mark.training
def test_the_same_batches_in_the_same_order_with_and_without_autotuning(mnist_path):
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    config = resolve_config("smoke", environ={})
    data = prepare(load_mnist(mnist_path), config)
    keras_builder = ArrayDataAdapter.get_tf_dataset
    as_keras = train(data, config, without_autotuning=False)
    without = train(data, config, without_autotuning=True)
    steps = config.epochs * -(-(config.train_images - int(config.train_images * config.validation_split)) // 250)
    assert len(as_keras.steps) == len(without.steps) == steps
    # Equal to float32 rounding: another batch, or another order, would move the loss at the first step already.
    np.testing.assert_allclose(without.steps, as_keras.steps, rtol=1e-5)
    np.testing.assert_allclose(without.validation, as_keras.validation, rtol=1e-5)
    assert len(set(as_keras.steps)) == steps  # every step moved the loss: the comparison is not of constants
    assert ArrayDataAdapter.get_tf_dataset is keras_builder  # Keras's builder is given back after the block


@pytest.mark.training
def test_the_pipeline_built_inside_the_block_has_autotuning_off():
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    from convcarbon.training.measure.epochs import input_without_autotuning

    images, labels = np.zeros((10, 28, 28, 1), "float32"), np.zeros((10, 10), "float32")
    with input_without_autotuning():
        inside = ArrayDataAdapter(images, labels, batch_size=5, shuffle=True).get_tf_dataset()
    outside = ArrayDataAdapter(images, labels, batch_size=5, shuffle=True).get_tf_dataset()
    assert inside.options().autotune.enabled is False
    assert outside.options().autotune.enabled is not False
