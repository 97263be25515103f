"""The numbers and the short data-dependent phrases the chapters glue; the chapters own every
other word. Each follows the data: their signs, their intervals, and whether they were measured
at all ("not measured", never "nan"). Every text here is `safe.OwnMarkdown`, with a record's
strings escaped into it.

Used by: book/experiment.md, book/measuring.md, book/results.md, book/ethics.md.
"""

from __future__ import annotations

import math

from .. import units
from ..analyze.analysis import VERDICTS, saving_shown, saving_verdict, separable_ratio_interval
from ..analyze.report import energy_is_estimated, energy_missing_reasons
from ..analyze.stats import CONFIDENCE, RatioInterval
from ..safe import OwnMarkdown, markdown_text

# How each of `book.key_numbers` reads, found by the end of its name (its unit): first match wins.
NUMBER_TEXTS = (
    (("_ratio", "_ratio_low", "_ratio_high"), units.ratio),
    (("_accuracy",), units.FRACTION.text),
    (("_throughput_g",), lambda billions: units.THROUGHPUT_PER_S.text(billions * 1e9)),
    (("_wh",), lambda wh: units.ENERGY_KWH.text(wh / 1000)),
    (("_emissions_g",), lambda grams: units.EMISSIONS_KG.text(grams / 1000)),
    (("_s",), units.DURATION_S.text),
    (("_w",), units.POWER_W.text),
    (("_share",), units.percent),
    (("_factor",), units.number),
    (("_points",), lambda points: f"{units.number(points)} percentage points"),
    (("carbon_intensity",), lambda g_per_kwh: f"{units.number(g_per_kwh)} g CO2eq/kWh"),
    (("epochs", "train_images", "repeats", "_multiplications"), lambda count: f"{round(count):,}"),
    (("_loss",), units.number),
)


def number_texts(numbers: dict) -> dict[str, OwnMarkdown]:
    """Every number of `book.key_numbers` as the prose shows it, with its unit, under the same name."""
    return {
        name: OwnMarkdown(next(text for endings, text in NUMBER_TEXTS if name.endswith(endings))(value))
        for name, value in numbers.items()
    }


# glue name -> metric of `analysis.METRICS`: a ratio with its interval, as a sentence quotes it.
RATIO_TEXTS = {
    "duration_ratio_text": "duration",
    "later_epoch_ratio_text": "later epoch duration",
    "energy_ratio_text": "energy_consumed",
    "above_idle_ratio_text": "energy above idle",
    "emissions_ratio_text": "emissions",
    "emissions_rate_ratio_text": "emissions_rate",
    "throughput_ratio_text": "throughput",
}


def ratio_texts(record: dict) -> dict[str, OwnMarkdown]:
    """Each ratio of `RATIO_TEXTS` as a sentence quotes it: '0.60 (95% interval 0.55 to 0.65)'."""
    return {
        name: OwnMarkdown(separable_ratio_interval(record, metric).sentence()) for name, metric in RATIO_TEXTS.items()
    }


def saving_against_paper(numbers: dict) -> OwnMarkdown:
    """The verdict on the energy ratio (`analysis.VERDICTS`) and, for a saving, how it compares with
    the saving on paper: "it saved energy, but much less than on paper"."""
    paper, energy = numbers["multiplication_ratio"], numbers["energy_ratio"]
    interval = RatioInterval(energy, numbers["energy_ratio_low"], numbers["energy_ratio_high"], CONFIDENCE)
    reading = saving_shown(interval, numbers["repeats"])
    if reading != "saved":
        return OwnMarkdown(VERDICTS[reading].phrase)
    if energy - paper > 0.25:
        gap = "but much less than on paper"
    elif energy - paper > 0.05:
        gap = "but less than on paper"
    else:
        gap = "about as much as on paper"
    return OwnMarkdown(f"{VERDICTS['saved'].phrase}, {gap}")


# The first epoch counts as clearly slower only if it took this much longer than a later one.
CLEAR_WARM_UP_FACTOR = 1.1


def warm_up_reading(numbers: dict) -> OwnMarkdown:
    """Whether the first epoch was clearly slower than the later ones, for both models."""
    factors = {"standard": numbers["conv2d_warm_up_factor"], "separable": numbers["separable_warm_up_factor"]}
    if any(math.isnan(factor) for factor in factors.values()):
        return OwnMarkdown("not comparable: with a single epoch per run there is no later epoch")
    not_slower = [model for model, factor in factors.items() if factor < CLEAR_WARM_UP_FACTOR]
    if not not_slower:
        return OwnMarkdown("clearly slower for both models")
    return OwnMarkdown(
        "not clearly slower for either model"
        if len(not_slower) == 2
        else f"not clearly slower for the {not_slower[0]} model"
    )


def trade_off_phrases(numbers: dict) -> dict[str, OwnMarkdown]:
    """How many more (or fewer) mistakes the separable model made, and how much less (or more) its training
    emitted: 'about 170 more mistakes', '50.0 mg CO2eq less'."""
    mistakes = numbers["accuracy_gap_points"] * 100  # per 10,000 test images
    saved_g = numbers["conv2d_emissions_g"] - numbers["separable_emissions_g"]
    return {
        "mistakes_phrase": OwnMarkdown(f"about {abs(mistakes):.0f} {'more' if mistakes > 0 else 'fewer'} mistakes"),
        "emissions_difference_phrase": OwnMarkdown(
            "an amount that was not measured"
            if math.isnan(saved_g)
            else f"{units.EMISSIONS_KG.text(abs(saved_g) / 1000)} {'less' if saved_g > 0 else 'more'}"
        ),
    }


def energy_status_phrase(record: dict) -> OwnMarkdown:
    """How this build's compute energy was obtained, in a few words."""
    if energy_missing_reasons(record):
        return OwnMarkdown("**not measured at all**: CodeCarbon failed (see the note above)")
    if energy_is_estimated(record):
        return OwnMarkdown("**estimated** from a power model, not measured")
    return OwnMarkdown("**measured** by a hardware counter")


def verdicts_markdown(records: list[dict]) -> OwnMarkdown:
    """One bullet per machine: did the separable model save energy there, and was its energy measured.
    The table below the bullets says how, with the wattage assumed."""
    from ..analyze.machines import machine_title

    return OwnMarkdown(
        "\n".join(
            f"- On **{markdown_text(machine_title(record))}** ({record['profile']} profile, energy "
            f"{_energy_kind(record)}): {saving_verdict(record)}."
            for record in records
        )
    )


def _energy_kind(record: dict) -> str:
    if energy_missing_reasons(record):
        return "not measured"
    return "estimated" if energy_is_estimated(record) else "measured by a counter"


def gpu_counter_machines(records: list[dict]) -> OwnMarkdown:
    """The machines whose GPU energy was read from NVML, by name, or "none" among these records."""
    from ..analyze.machines import gpu_records, machine_title

    measured = gpu_records(records)
    if not measured:
        return OwnMarkdown("none among the records of this build")
    return OwnMarkdown(", ".join(f"**{markdown_text(machine_title(record))}**" for record in measured))


def footprint_numbers(records: list[dict]) -> dict:
    """What the measurements shown in this build cost in all: every training run and every idle
    measurement of every record shown, with the epochs trained; glued with `number_texts`-like texts."""
    parts = [part for record in records for part in (record["idle"], *record["runs"]) if part is not None]
    runs = [run for record in records for run in record["runs"]]
    measured = [part for part in parts if part["energy_consumed_kwh"] is not None]
    estimated = sum(energy_is_estimated(record) for record in records)
    return {
        "footprint_records": OwnMarkdown(f"{len(records)}"),
        "footprint_runs": OwnMarkdown(f"{len(runs)}"),
        "footprint_epochs": OwnMarkdown(f"{sum(len(run['epoch_duration_s']) for run in runs):,}"),
        "footprint_measurements": OwnMarkdown(f"{len(parts)}"),
        "footprint_unmeasured": OwnMarkdown(f"{len(parts) - len(measured)}"),
        "footprint_energy": OwnMarkdown(units.ENERGY_KWH.text(sum(part["energy_consumed_kwh"] for part in measured))),
        "footprint_emissions": OwnMarkdown(units.EMISSIONS_KG.text(sum(part["emissions_kg"] for part in measured))),
        "footprint_estimated": OwnMarkdown(f"{estimated}"),
    }
