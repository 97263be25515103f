"""Every number a person reads, in one style: a unit scaled to the quantity, about three
significant digits, never scientific notation, and "not measured" where there is no number.

Records store SI-ish base units (kWh, kg CO2eq, s, multiplications/s). A `Quantity`
picks the unit a reader sees: the largest whose size the value reaches, so that
0.000189 kWh reads "189 mWh" and 5.321e10 multiplications/s reads "53.2 billion/s".
A table picks one unit per row (`Quantity.scale_for` of the row's largest value), so
that the numbers side by side can be compared digit by digit.

An `Amount` is a value that carries its quantity: what the chapters glue (`site.book.key_numbers`),
so that the unit, not the glue key's name, chooses how it reads, and no value is scaled on its way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

NOT_MEASURED = "not measured"
SIGNIFICANT_DIGITS = 3


def number(value: float | None, digits: int = SIGNIFICANT_DIGITS) -> str:
    """`value` rounded to `digits` significant digits, in fixed notation with thousands separators;
    whole numbers keep all their digits (45,630, not 45,600)."""
    if value is None or math.isnan(value):
        return NOT_MEASURED
    if value == 0:
        return "0"
    rounded = float(f"{value:.{digits}g}")  # to significant digits first, so that 9.996 becomes 10.0
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(rounded))))
    if decimals == 0:
        return f"{round(value):,}"
    return f"{rounded:,.{decimals}f}"


def ratio(value: float | None) -> str:
    """A ratio of two medians, to two decimals: differences between ratios of a few percent show."""
    if value is None or math.isnan(value):
        return NOT_MEASURED
    return f"{value:.2f}"


def whole(value: float | None) -> str:
    """A count, all its digits with thousands separators: '25', '2,837,120'."""
    if value is None or math.isnan(value):
        return NOT_MEASURED
    return f"{round(value):,}"


def span(low: float, high: float, text=number) -> str:
    """'1.87–1.91': the range or interval shown beside a median, in the median's unit;
    '-7.40 to 3.47' where a dash would read as a minus."""
    return f"{text(low)}{' to ' if low < 0 or high < 0 else '–'}{text(high)}"


def percent(fraction: float | None, decimals: int = 0) -> str:
    if fraction is None or math.isnan(fraction):
        return NOT_MEASURED
    return f"{fraction * 100:.{decimals}f}%"


@dataclass(frozen=True)
class Scale:
    """A unit a reader sees: its symbol, its size in the record's unit, and the value from which it is used."""

    symbol: str
    size: float
    from_value: float | None = None  # default: from one of this unit

    @property
    def threshold(self) -> float:
        return self.size if self.from_value is None else self.from_value


@dataclass(frozen=True)
class Quantity:
    """A kind of number in a record, with the units it can be shown in, largest first, and how a value
    in one of them is written (`style`: three significant digits unless the kind says otherwise)."""

    scales: tuple[Scale, ...]
    style: Callable[[float | None], str] = number

    def scale_for(self, values: Iterable[float | None]) -> Scale:
        """The unit for a set of values shown together: the largest that their largest value reaches."""
        measured = [abs(value) for value in values if value is not None and not math.isnan(value)]
        largest = max(measured, default=0.0)
        return next((scale for scale in self.scales if largest >= scale.threshold), self.scales[-1])

    def number(self, value: float | None, scale: Scale) -> str:
        """The value in `scale`, without its symbol (for a table whose row or column names the unit)."""
        if value is None or math.isnan(value):
            return NOT_MEASURED
        return self.style(value / scale.size)

    def text(self, value: float | None, scale: Scale | None = None) -> str:
        """'189 mWh': the value with its unit, scaled to the value itself unless `scale` is given."""
        if value is None or math.isnan(value):
            return NOT_MEASURED
        scale = scale or self.scale_for([value])
        return f"{self.number(value, scale)} {scale.symbol}".rstrip()


ENERGY_KWH = Quantity((Scale("kWh", 1.0), Scale("Wh", 1e-3), Scale("mWh", 1e-6)))
EMISSIONS_KG = Quantity((Scale("kg CO2eq", 1.0), Scale("g CO2eq", 1e-3), Scale("mg CO2eq", 1e-6)))
# Emissions per second are tiny numbers; per hour they read as what a machine emits while it works.
EMISSION_RATE_KG_PER_S = Quantity(
    (Scale("kg CO2eq/h", 1 / 3600), Scale("g CO2eq/h", 1e-3 / 3600), Scale("mg CO2eq/h", 1e-6 / 3600))
)
# Seconds up to ten minutes, minutes up to five hours: 540 s and 95 min read better than 9 min or 1.58 h.
DURATION_S = Quantity(
    (
        Scale("h", 3600.0, from_value=5 * 3600.0),
        Scale("min", 60.0, from_value=600.0),
        Scale("s", 1.0),
        Scale("ms", 1e-3),
    )
)
THROUGHPUT_PER_S = Quantity((Scale("billion multiplications/s", 1e9, from_value=0.0),))
FRACTION = Quantity((Scale("%", 0.01, from_value=0.0),))
PLAIN = Quantity((Scale("", 1.0, from_value=0.0),))  # a number without a unit, such as a loss or a count
POWER_W = Quantity((Scale("kW", 1000.0), Scale("W", 1.0, from_value=0.0)))
CARBON_INTENSITY_G_PER_KWH = Quantity((Scale("g CO2eq/kWh", 1.0, from_value=0.0),))
RATIO = Quantity((Scale("", 1.0, from_value=0.0),), style=ratio)  # one median over another, two decimals
COUNT = Quantity((Scale("", 1.0, from_value=0.0),), style=whole)  # epochs, images, runs, multiplications
SHARE = Quantity((Scale("", 1.0, from_value=0.0),), style=percent)  # a part of a whole, '80%'
# A difference between two fractions (accuracies), read in points: 0.017 reads '1.70 percentage points'.
PERCENTAGE_POINTS = Quantity((Scale("percentage points", 0.01, from_value=0.0),))


@dataclass(frozen=True)
class Amount:
    """A value with its kind: it reads in the unit its kind gives it ('38.9 mWh'), or "not measured"."""

    value: float | None
    quantity: Quantity

    def text(self) -> str:
        return self.quantity.text(self.value)
