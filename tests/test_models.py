import keras
import pytest

from convcarbon.models import build_model


@pytest.mark.parametrize("architecture, parameters", [("conv2d", 431_242), ("separable", 414_899)])
def test_parameter_counts_of_the_original_tutorial(architecture, parameters):
    assert build_model(architecture).count_params() == parameters


def test_models_differ_only_in_the_convolutions():
    standard, separable = build_model("conv2d"), build_model("separable")

    def kinds(model):
        return [type(layer).__name__ for layer in model.layers]

    differences = [(a, b) for a, b in zip(kinds(standard), kinds(separable)) if a != b]
    assert differences == [("Conv2D", "SeparableConv2D")] * 2
    assert len(standard.layers) == len(separable.layers) == 9


def test_models_are_compiled_as_the_tutorial():
    model = build_model("conv2d")
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert model.loss == "categorical_crossentropy"
    assert model.output_shape == (None, 10)


def test_unknown_architecture_is_a_value_error():
    with pytest.raises(ValueError, match="unknown architecture"):
        build_model("dense")
