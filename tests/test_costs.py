"""The analytic counts, against hand-worked arithmetic and against Keras's own count_params()."""

import pytest

from convcarbon.architecture import ARCHITECTURES
from convcarbon.costs import (
    book_model_costs,
    conv2d_cost,
    dense_cost,
    separable_conv2d_cost,
    separable_ratio,
    total_multiplications,
    total_parameters,
    worked_example_costs,
)


def test_worked_example_standard_layer_by_hand():
    # 15x15 input, 3x3 kernel, no padding: 13x13 output positions.
    # Each of the 10 filters does 3*3*3 = 27 multiplications per position.
    (row,) = conv2d_cost("m", "l", 15, 15, 3, filters=10, kernel_size=3)
    assert row.output_shape == (13, 13, 10)
    assert row.multiplications == 13 * 13 * 27 * 10 == 45_630
    assert row.parameters == 27 * 10 + 10


def test_worked_example_separable_layer_by_hand():
    depthwise, pointwise = separable_conv2d_cost("m", "l", 15, 15, 3, filters=10, kernel_size=3)
    # Depthwise: one 3x3 filter per channel at each of 13x13 positions.
    assert depthwise.multiplications == 13 * 13 * 9 * 3 == 4_563
    # Pointwise: a 1x1x3 filter for each of 10 outputs at each position.
    assert pointwise.multiplications == 13 * 13 * 3 * 10 == 5_070
    assert depthwise.multiplications + pointwise.multiplications == 9_633
    assert depthwise.parameters == 27 and pointwise.parameters == 30 + 10


def test_worked_example_table_holds_both_layers():
    rows = worked_example_costs()
    standard = [row for row in rows if row.model == "standard"]
    separable = [row for row in rows if row.model == "depthwise separable"]
    assert total_multiplications(standard) == 45_630
    assert total_multiplications(separable) == 9_633


def test_ratio_formula_matches_the_worked_example():
    assert pytest.approx(separable_ratio(filters=10, kernel_size=3)) == 9_633 / 45_630


def test_same_padding_keeps_the_size():
    (row,) = conv2d_cost("m", "l", 8, 8, 2, filters=4, kernel_size=3, padding="same")
    assert row.output_shape == (8, 8, 4)
    assert row.multiplications == 8 * 8 * 9 * 2 * 4


def test_bad_shapes_raise_value_errors():
    with pytest.raises(ValueError, match="does not fit"):
        conv2d_cost("m", "l", 2, 2, 1, filters=1, kernel_size=3)
    with pytest.raises(ValueError, match="padding"):
        conv2d_cost("m", "l", 8, 8, 1, filters=1, kernel_size=3, padding="full")
    with pytest.raises(ValueError, match="unknown architecture"):
        book_model_costs("resnet")


def test_dense_counts():
    (row,) = dense_cost("m", "l", 1600, 256)
    assert row.multiplications == 409_600 and row.parameters == 409_856


@pytest.mark.parametrize("architecture, parameters", [("conv2d", 431_242), ("separable", 414_899)])
def test_book_model_totals(architecture, parameters):
    assert total_parameters(book_model_costs(architecture)) == parameters


def test_book_models_multiplications_by_hand():
    # conv_1: 26*26 positions x 9 x 32 filters; conv_2: 11*11 x 9*32 x 64; dense: 1600*256 + 256*10.
    dense = 1600 * 256 + 256 * 10
    assert total_multiplications(book_model_costs("conv2d")) == 26 * 26 * 9 * 32 + 11 * 11 * 288 * 64 + dense
    separable = (26 * 26 * 9 + 26 * 26 * 32) + (11 * 11 * 9 * 32 + 11 * 11 * 32 * 64) + dense
    assert total_multiplications(book_model_costs("separable")) == separable


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_parameters_match_keras_layer_by_layer(architecture):
    from convcarbon.models import build_model

    model = build_model(architecture)
    analytic: dict[str, int] = {}
    for row in book_model_costs(architecture):
        analytic[row.layer] = analytic.get(row.layer, 0) + row.parameters
    keras_counts = {layer.name: layer.count_params() for layer in model.layers if layer.count_params()}
    assert analytic == keras_counts
    assert sum(analytic.values()) == model.count_params()


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_shapes_match_keras(architecture):
    from convcarbon.models import build_model

    model = build_model(architecture)
    for row in book_model_costs(architecture):
        if row.part in ("standard", "pointwise"):
            assert tuple(model.get_layer(row.layer).output.shape[1:]) == row.output_shape


def test_training_and_validation_images_are_given_apart():
    from convcarbon.costs import images_text

    assert images_text(60_000, 0.2) == "48,000 training and 12,000 validation images"
    assert images_text(2_001, 0.2) == "1,601 training and 400 validation images"  # Keras trains on ceil(n (1 - split))
