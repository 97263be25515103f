"""The sentences the chapters glue: they must follow the numbers, whichever way they go."""

import math

from convcarbon.book import energy_sentence, paper_against_measured, ram_share_sentence, trade_off_sentence


def numbers(**changes):
    base = {"multiplication_ratio": 0.25, "energy_ratio": 0.6, "duration_ratio": 0.58,
            "accuracy_gap_points": 1.7, "conv2d_emissions_g": 0.13, "separable_emissions_g": 0.08}
    return {**base, **changes}


def test_paper_against_measured_follows_the_gap():
    assert "much smaller than the saving on paper" in paper_against_measured(numbers())
    assert "smaller than the saving on paper" in paper_against_measured(numbers(energy_ratio=0.35))
    assert "about as large" in paper_against_measured(numbers(energy_ratio=0.27))
    assert "saved no energy at all" in paper_against_measured(numbers(energy_ratio=1.05))
    assert "25% of the standard model's multiplications" in paper_against_measured(numbers())


def test_trade_off_sentence_follows_the_signs():
    assert trade_off_sentence(numbers()) == (
        "the separable model made about 170 more mistakes on the 10,000 test images than the standard model, "
        "and its training emitted 0.05 g CO2eq less.")
    reversed_sentence = trade_off_sentence(numbers(accuracy_gap_points=-0.3, separable_emissions_g=0.2))
    assert "about 30 fewer mistakes" in reversed_sentence and "0.07 g CO2eq more" in reversed_sentence


def test_missing_energy_is_said_in_words_never_as_a_number():
    missing = numbers(energy_ratio=math.nan, separable_emissions_g=math.nan, conv2d_emissions_g=math.nan,
                      ram_share=math.nan, separable_energy_wh=math.nan, conv2d_energy_wh=math.nan)
    for sentence in (paper_against_measured(missing), energy_sentence(missing), ram_share_sentence(missing),
                     trade_off_sentence(missing)):
        assert "not measured" in sentence and "nan" not in sentence
    assert "took 58% of its training time" in paper_against_measured(missing)
