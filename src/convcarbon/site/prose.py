"""The numbers and the short data-dependent phrases the chapters glue; the chapters own every
other word. Each follows the data: their signs, their intervals, and whether they were measured
at all ("not measured", never "nan"). Every text here is `safe.OwnMarkdown`, with a record's
strings escaped into it.

Used by: book/experiment.md, book/measuring.md, book/results.md, book/ethics.md.
"""

from __future__ import annotations

import math

from convcarbon import units
from convcarbon.anatomy.analyze import inference
from convcarbon.safe import OwnMarkdown, markdown_text
from convcarbon.training.analyze.analysis import (
    MODELS,
    VERDICTS,
    energy_verdict,
    repeats,
    saving_shown,
    saving_verdict,
    separable_ratio_interval,
    summary,
)
from convcarbon.training.analyze.report import (
    ENERGY_WORDINGS,
    energy_is_estimated,
    energy_reading,
    energy_shares,
    machine_label,
    quietness_summary,
)
from convcarbon.training.analyze.stats import RatioInterval


def number_texts(numbers: dict[str, units.Amount | RatioInterval]) -> dict[str, OwnMarkdown]:
    """Every number of `book.key_numbers` as the prose shows it, under the same name: a value in the unit
    its kind calls for ('38.9 mWh'), a ratio with its interval or the reason it has none
    ('0.60 (95% interval 0.55 to 0.65)')."""
    return {name: OwnMarkdown(_text(value)) for name, value in numbers.items()}


def _text(value: units.Amount | RatioInterval) -> str:
    if isinstance(value, RatioInterval):
        return value.sentence()
    if isinstance(value, units.Amount):
        return value.text()
    raise TypeError(f"a glued number carries its unit (units.Amount) or its interval, not {type(value).__name__}")


# The saving read from the energy ratio is set against the saving on paper by how far apart the two ratios are.
MUCH_LESS_THAN_PAPER, LESS_THAN_PAPER = 0.25, 0.05


def saving_against_paper(record: dict) -> OwnMarkdown:
    """The verdict on the energy ratio (`analysis.VERDICTS`) and, for a saving, how it compares with
    the saving on paper: "it saved energy, but much less than on paper"."""
    energy = separable_ratio_interval(record, "energy_consumed")
    paper = separable_ratio_interval(record, "multiplications").ratio
    if saving_shown(energy, repeats(record)) != "saved":
        return OwnMarkdown(energy_verdict(record).phrase)
    if energy.ratio - paper > MUCH_LESS_THAN_PAPER:
        gap = "but much less than on paper"
    elif energy.ratio - paper > LESS_THAN_PAPER:
        gap = "but less than on paper"
    else:
        gap = "about as much as on paper"
    return OwnMarkdown(f"{VERDICTS['saved'].phrase}, {gap}")


# The first epoch counts as clearly slower only if it took this much longer than a later one.
CLEAR_WARM_UP_FACTOR = 1.1


def warm_up_reading(numbers: dict[str, units.Amount | RatioInterval]) -> OwnMarkdown:
    """Whether the first epoch was clearly slower than the later ones, for both models."""
    factors = {
        "standard": numbers["conv2d_warm_up_factor"].value,
        "separable": numbers["separable_warm_up_factor"].value,
    }
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


def trade_off_phrases(record: dict) -> dict[str, OwnMarkdown]:
    """How many more (or fewer) mistakes the separable model made on the test images the record evaluated,
    and how much less (or more) its training emitted (medians over the repeats): 'about 170 more mistakes
    on the 10,000 test images', '50.0 mg CO2eq less'."""
    standard, separable = MODELS
    test_images = record["config"]["test_images"]
    gap = summary(record, standard, "accuracy").median - summary(record, separable, "accuracy").median
    mistakes = f"about {units.whole(abs(gap) * test_images)} {'more' if gap > 0 else 'fewer'} mistakes"
    saved_kg = summary(record, standard, "emissions").median - summary(record, separable, "emissions").median
    return {
        "mistakes_phrase": OwnMarkdown(f"{mistakes} on the {test_images:,} test images"),
        "emissions_difference_phrase": OwnMarkdown(
            "an amount that was not measured"
            if math.isnan(saved_kg)
            else f"{units.EMISSIONS_KG.text(abs(saved_kg))} {'less' if saved_kg > 0 else 'more'}"
        ),
    }


def energy_status_phrase(record: dict) -> OwnMarkdown:
    """How this build's compute energy was obtained, in a few words (`report.ENERGY_WORDINGS`)."""
    return OwnMarkdown(ENERGY_WORDINGS[energy_reading(record)].phrase)


def energy_shares_phrase(record: dict, shares: dict[str, float], measured: dict[str, bool]) -> OwnMarkdown:
    """Each part's share of an energy, largest first, with how that part was obtained: measured, or the
    assumption it rests on, from the record's own `power_assumptions`: "80% from RAM, assumed to draw a
    constant 20 W, and 20% from the CPU, its load times an assumed 8 W". `shares` from `report.energy_shares`;
    `measured`: which parts (cpu, gpu) a hardware counter measured."""
    if any(math.isnan(share) for share in shares.values()):
        return OwnMarkdown("not known, since the energy was not measured")
    parts = sorted((part for part, share in shares.items() if share > 0), key=lambda part: -shares[part])
    if not parts:
        return OwnMarkdown("not known, since no energy was reported")
    said = [
        f"{units.percent(shares[part])} from {_part_basis(record, part, measured.get(part, False))}" for part in parts
    ]
    return OwnMarkdown(said[0] if len(said) == 1 else ", ".join(said[:-1]) + ", and " + said[-1])


def _part_basis(record: dict, part: str, measured: bool) -> str:
    """A part of the machine and how its energy was obtained, in a few words."""
    assumptions = record["power_assumptions"]
    if part == "gpu":
        return "the GPU, measured" if measured else "the GPU, estimated"
    if part == "ram":
        ram_w = assumptions.get("ram_assumed_power_w")
        return (
            "RAM, estimated by CodeCarbon's RAM model"
            if ram_w is None
            else (f"RAM, assumed to draw a constant {units.POWER_W.text(ram_w)}")
        )
    cpu_w = assumptions.get("cpu_assumed_power_w")
    if measured or cpu_w is None:
        return "the CPU, measured" if measured else "the CPU, estimated"
    if assumptions["cpu_power_model"] == "load model":
        return f"the CPU, its load times an assumed {units.POWER_W.text(cpu_w)}"
    return f"the CPU, assumed to draw {units.POWER_W.text(cpu_w)}"


def training_energy_shares(record: dict) -> OwnMarkdown:
    """`energy_shares_phrase` for the training runs of a record."""
    return energy_shares_phrase(record, energy_shares(record["runs"]), _measured_parts(record["runs"]))


def prediction_energy_shares(record: dict) -> OwnMarkdown:
    """`energy_shares_phrase` for the prediction windows of a record; "not measured in this record" before
    predictions were measured."""
    if not inference.has_inference(record):
        return OwnMarkdown(ENERGY_WORDINGS["not in record"].cell)
    entries = record["inference"]
    return energy_shares_phrase(record, inference.prediction_energy_shares(record), _measured_parts(entries))


def _measured_parts(parts: list[dict]) -> dict[str, bool]:
    return {part: any(entry[f"{part}_energy_measured"] for entry in parts) for part in ("cpu", "gpu")}


def verdicts_markdown(records: list[dict]) -> OwnMarkdown:
    """One bullet per machine: did the separable model save energy there, and was its energy measured.
    The table below the bullets says how, with the wattage assumed."""
    return OwnMarkdown(
        "\n".join(
            f"- On **{markdown_text(machine_label(record, backend=True))}** ({record['profile']} profile, energy "
            f"{ENERGY_WORDINGS[energy_reading(record)].cell}): {saving_verdict(record)}."
            for record in records
        )
    )


def gpu_counter_machines(records: list[dict]) -> OwnMarkdown:
    """The machines whose GPU energy was read from NVML, by name, or "none" among these records."""
    from convcarbon.training.analyze.machines import gpu_records

    measured = gpu_records(records)
    if not measured:
        return OwnMarkdown("none among the records of this build")
    return OwnMarkdown(", ".join(f"**{markdown_text(machine_label(record, backend=True))}**" for record in measured))


def footprint_numbers(records: list[dict]) -> dict[str, units.Amount]:
    """What the measurements shown in this build cost in all: every training run and every idle
    measurement of every record shown, with the epochs trained; glued through `number_texts`."""
    parts = [part for record in records for part in (record["idle"], *record["runs"]) if part is not None]
    runs = [run for record in records for run in record["runs"]]
    measured = [part for part in parts if part["energy_consumed_kwh"] is not None]

    def count(value: int) -> units.Amount:
        return units.Amount(value, units.COUNT)

    return {
        "footprint_records": count(len(records)),
        "footprint_runs": count(len(runs)),
        "footprint_epochs": count(sum(len(run["epoch_duration_s"]) for run in runs)),
        "footprint_measurements": count(len(parts)),
        "footprint_unmeasured": count(len(parts) - len(measured)),
        "footprint_energy": units.Amount(sum(part["energy_consumed_kwh"] for part in measured), units.ENERGY_KWH),
        "footprint_emissions": units.Amount(sum(part["emissions_kg"] for part in measured), units.EMISSIONS_KG),
        "footprint_estimated": count(sum(energy_is_estimated(record) for record in records)),
    }


NOT_RECORDED = "not recorded"


def quietness_text(record: dict) -> OwnMarkdown:
    """The record's own summary of how quiet its machine was (`report.quietness_summary`) as inert Markdown, or
    "not recorded"."""
    summary = quietness_summary(record)
    return OwnMarkdown(NOT_RECORDED) if summary is None else markdown_text(summary, 300)
