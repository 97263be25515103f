"""Tables for reading: one unit per row, named in the row's label; each cell a median with its
range (or a ratio with its interval) below it, smaller; one header row.

Pages get a pandas Styler with HTML escaping on for every cell and header (records are
untrusted input). A cell holds "median\\n(lowest–highest)" and the class SPREAD_CLASS;
the book's stylesheet (book/_static/convcarbon.css) breaks the line and sets the
second one smaller. The terminal gets the same cells on one line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pandas as pd
from pandas.io.formats.style import Styler

from convcarbon import units

from .analysis import MODELS, separable_ratio_interval, summary
from .stats import Summary

PAGE_BREAK, TERMINAL_BREAK = "\n", " "
SPREAD_CLASS = "convcarbon-spread"  # a cell with a median (or ratio) and, below it, its range (or interval)
WORDS_CLASS = "convcarbon-words"  # a cell of text rather than a number: left-aligned
UNBROKEN_CLASS = "convcarbon-unbroken"  # text with a run of characters too long for a column: broken anywhere
NUMBER_START = re.compile(r"^-?\d")
LONGEST_WORD_CHARS = 24  # "SeparableConv2D", "(CodeCarbon's": words kept whole; a record's long string is not
RATIO_COLUMN = "separable / standard"


@dataclass(frozen=True)
class Reading:
    """How a metric of `analysis.METRICS` reads in a table: its label and its quantity."""

    label: str
    quantity: units.Quantity


READINGS = {
    "accuracy": Reading("test accuracy", units.FRACTION),
    "loss": Reading("test loss", units.PLAIN),
    "duration": Reading("training time", units.DURATION_S),
    "energy_consumed": Reading("energy", units.ENERGY_KWH),
    "emissions": Reading("emissions", units.EMISSIONS_KG),
    "emissions_rate": Reading("emission rate", units.EMISSION_RATE_KG_PER_S),
    "first epoch duration": Reading("first epoch", units.DURATION_S),
    "later epoch duration": Reading("each later epoch", units.DURATION_S),
    "clean-up after the epochs": Reading("clean-up after the epochs", units.DURATION_S),
    "energy above idle": Reading("energy above idle", units.ENERGY_KWH),
    "first epoch energy": Reading("first epoch energy", units.ENERGY_KWH),
    "later epoch energy": Reading("each later epoch's energy", units.ENERGY_KWH),
    "cpu_energy": Reading("CPU energy", units.ENERGY_KWH),
    "gpu_energy": Reading("GPU energy", units.ENERGY_KWH),
    "ram_energy": Reading("RAM energy", units.ENERGY_KWH),
    "throughput": Reading("throughput, forward and backward", units.THROUGHPUT_PER_S),
    "multiplications": Reading("multiplications per image, forward", units.PLAIN),
}
# The tutorial's six rows; every other metric goes to the detail table.
HEADLINE_METRICS = ("accuracy", "loss", "duration", "energy_consumed", "emissions", "emissions_rate")
DETAIL_METRICS = tuple(name for name in READINGS if name not in HEADLINE_METRICS)


def row_label(reading: Reading, scale: units.Scale) -> str:
    """'energy (mWh)': the label with the unit of the row."""
    return f"{reading.label} ({scale.symbol})" if scale.symbol else reading.label


def summary_cell(seen: Summary, quantity: units.Quantity, scale: units.Scale, line_break: str) -> str:
    """'189' above '(187–191)': a median and the range of the repeats, in the row's unit."""
    if math.isnan(seen.median):
        return units.NOT_MEASURED
    median = quantity.number(seen.median, scale)
    if seen.low == seen.high:  # one run, or runs that agree exactly (a count): no range to show
        return median
    return f"{median}{line_break}({units.span(seen.low, seen.high, lambda value: quantity.number(value, scale))})"


def comparison_frame(record: dict, metric_names, line_break: str = PAGE_BREAK) -> pd.DataFrame:
    """One row per metric, its unit in the label: each model's median (range), and the ratio (interval)."""
    rows = {}
    for name in metric_names:
        reading = READINGS[name]
        seen = {model: summary(record, model, name) for model in MODELS}
        scale = reading.quantity.scale_for(value for model in MODELS for value in (seen[model].low, seen[model].high))
        row = {model: summary_cell(seen[model], reading.quantity, scale, line_break) for model in MODELS}
        both_measured = not any(math.isnan(model_seen.median) for model_seen in seen.values())
        interval = separable_ratio_interval(record, name)
        # Both measured but no ratio is 0 / 0 (no GPU): nothing to divide, not a missing measurement.
        row[RATIO_COLUMN] = "" if both_measured and math.isnan(interval.ratio) else interval.cell(line_break)
        rows[row_label(reading, scale)] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def page_table(frame: pd.DataFrame, corner: str = "") -> Styler:
    """`frame` for a page: every cell, row label and header escaped, one header row.

    Row labels (the index) become row headings, with `corner` (default: the index's name)
    above them; a frame without row labels (a RangeIndex) shows none.
    """
    if frame.index.nlevels > 1:
        raise ValueError("page_table takes one level of row labels; make the others columns")
    unlabelled = isinstance(frame.index, pd.RangeIndex)
    frame = frame.rename_axis(index=None, columns=corner or frame.index.name)
    style = (
        frame.style.format(escape="html")
        .format_index(escape="html", axis=0)
        .format_index(escape="html", axis=1)
        .set_table_attributes('class="convcarbon-table"')
        .set_td_classes(frame.map(_cell_class))
    )
    return style.hide(axis="index") if unlabelled else style


def _cell_class(cell) -> str:
    text = str(cell)
    if PAGE_BREAK in text:
        return SPREAD_CLASS
    if NUMBER_START.match(text):
        return ""
    longest = max((len(word) for word in text.split()), default=0)
    return f"{WORDS_CLASS} {UNBROKEN_CLASS}" if longest > LONGEST_WORD_CHARS else WORDS_CLASS


def without_repeats(values) -> list:
    """Each value, blank where it repeats the one above: a group's label is written once."""
    values = list(values)
    return [value if index == 0 or value != values[index - 1] else "" for index, value in enumerate(values)]
