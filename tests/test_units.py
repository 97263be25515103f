"""Numbers as a person reads them: scaled units, about three significant digits, never 1e-05."""

import math
import re

import pytest

from convcarbon.units import (
    DURATION_S,
    EMISSION_RATE_KG_PER_S,
    EMISSIONS_KG,
    ENERGY_KWH,
    NOT_MEASURED,
    THROUGHPUT_PER_S,
    number,
    percent,
    ratio,
    span,
)


@pytest.mark.parametrize(
    "value, text",
    [
        (0.0001889, "0.000189"),
        (1.8889, "1.89"),
        (18.889, "18.9"),
        (188.89, "189"),
        (1888.9, "1,889"),
        (45_630, "45,630"),
        (9.996, "10.0"),
        (0.999, "0.999"),
        (-0.0523, "-0.0523"),
        (0, "0"),
        (1.0, "1.00"),
    ],
)
def test_number_has_three_significant_digits_in_fixed_notation(value, text):
    assert number(value) == text


@pytest.mark.parametrize("value", [1e-12, 3.3e-7, 5.321e10, 1.2e-05, 7e21])
def test_number_is_never_scientific(value):
    assert not re.search(r"\d[eE][+-]?\d", number(value))


@pytest.mark.parametrize(
    "quantity, value, text",
    [
        (ENERGY_KWH, 0.0001889, "189 mWh"),
        (ENERGY_KWH, 0.00189, "1.89 Wh"),
        (ENERGY_KWH, 0.0189, "18.9 Wh"),
        (ENERGY_KWH, 2.5, "2.50 kWh"),
        (ENERGY_KWH, 1.889e-6, "1.89 mWh"),
        (EMISSIONS_KG, 7.2e-5, "72.0 mg CO2eq"),
        (EMISSIONS_KG, 0.0131, "13.1 g CO2eq"),
        (EMISSION_RATE_KG_PER_S, 1e-6, "3.60 g CO2eq/h"),
        (EMISSION_RATE_KG_PER_S, 2e-8, "72.0 mg CO2eq/h"),
        (DURATION_S, 12.34, "12.3 s"),
        (DURATION_S, 540.0, "540 s"),
        (DURATION_S, 5700.0, "95.0 min"),
        (DURATION_S, 36000.0, "10.0 h"),
        (DURATION_S, 0.0052, "5.20 ms"),
        (THROUGHPUT_PER_S, 5.321e10, "53.2 billion multiplications/s"),
        (THROUGHPUT_PER_S, 4.2e8, "0.420 billion multiplications/s"),
    ],
)
def test_quantities_scale_their_unit_to_the_value(quantity, value, text):
    assert quantity.text(value) == text


def test_a_row_shares_the_unit_of_its_largest_value():
    scale = ENERGY_KWH.scale_for([0.0021, 0.00093, None, math.nan])
    assert scale.symbol == "Wh"
    assert ENERGY_KWH.number(0.00093, scale) == "0.930"
    assert ENERGY_KWH.text(0.00093, scale) == "0.930 Wh"
    assert ENERGY_KWH.scale_for([]).symbol == "mWh"  # nothing measured: the smallest unit, never an error


def test_missing_values_are_said_in_words():
    for text in (
        number(math.nan),
        number(None),
        ratio(math.nan),
        percent(math.nan),
        ENERGY_KWH.text(None),
        ENERGY_KWH.number(math.nan, ENERGY_KWH.scales[0]),
    ):
        assert text == NOT_MEASURED


def test_ratios_spans_and_percentages():
    assert ratio(0.84321) == "0.84"
    assert span(1.8666, 1.9123) == "1.87–1.91"
    assert span(0.55, 0.65, ratio) == "0.55–0.65"
    assert span(-7.4, 3.47) == "-7.40 to 3.47"
    assert percent(0.2) == "20%" and percent(0.98123, 2) == "98.12%"


def test_fractions_read_as_percent_and_plain_numbers_carry_no_unit():
    from convcarbon.units import FRACTION, PLAIN

    assert FRACTION.text(0.98123) == "98.1 %" and FRACTION.number(0.0512, FRACTION.scales[0]) == "5.12"
    assert PLAIN.text(0.061234) == "0.0612" and PLAIN.text(5_321_024) == "5,321,024"


def test_an_amount_reads_in_the_unit_of_its_kind_never_by_its_name():
    from convcarbon.units import (
        CARBON_INTENSITY_G_PER_KWH,
        COUNT,
        PERCENTAGE_POINTS,
        RATIO,
        SHARE,
        Amount,
    )

    # Stored as the record stores it (kWh, kg, a fraction), never scaled on its way to the page.
    assert Amount(0.0000389, ENERGY_KWH).text() == "38.9 mWh"
    assert Amount(0.0000143, EMISSIONS_KG).text() == "14.3 mg CO2eq"
    assert Amount(5.321e10, THROUGHPUT_PER_S).text() == "53.2 billion multiplications/s"
    assert Amount(0.6049, RATIO).text() == "0.60"
    assert Amount(2_837_120, COUNT).text() == "2,837,120"
    assert Amount(0.794, SHARE).text() == "79%"
    assert Amount(0.017, PERCENTAGE_POINTS).text() == "1.70 percentage points"
    assert Amount(369.473, CARBON_INTENSITY_G_PER_KWH).text() == "369 g CO2eq/kWh"
    for quantity in (ENERGY_KWH, RATIO, COUNT, SHARE, PERCENTAGE_POINTS):
        assert Amount(math.nan, quantity).text() == Amount(None, quantity).text() == NOT_MEASURED
