"""The sentences the chapters glue. Each follows the numbers: their signs, their
intervals, and whether they were measured at all ("not measured", never "nan")."""

from __future__ import annotations

import math

from .. import units
from ..analyze.analysis import saving_shown
from ..analyze.report import energy_is_estimated, energy_missing_reasons
from ..analyze.stats import CONFIDENCE, RatioInterval
from ..safe import markdown_text

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
    (("_points",), lambda points: f"{units.number(points)} percentage points"),
    (("carbon_intensity",), lambda g_per_kwh: f"{units.number(g_per_kwh)} g CO2eq/kWh"),
    (("epochs", "train_images", "repeats", "_multiplications"), lambda count: f"{round(count):,}"),
    (("_loss",), units.number),
)


def number_texts(numbers: dict) -> dict[str, str]:
    """Every number of `book.key_numbers` as the prose shows it, with its unit, under the same name."""
    return {
        name: next(text for endings, text in NUMBER_TEXTS if name.endswith(endings))(value)
        for name, value in numbers.items()
    }


def ratio_text(numbers: dict, name: str) -> str:
    """A ratio as the prose quotes it: with its interval, or saying why there is none."""
    point, low, high = numbers[f"{name}_ratio"], numbers[f"{name}_ratio_low"], numbers[f"{name}_ratio_high"]
    if math.isnan(point):
        return "not measured"
    if math.isnan(low):
        return f"{units.ratio(point)} (one run per model, so no interval)"
    return f"{units.ratio(point)} (95% interval {units.ratio(low)} to {units.ratio(high)})"


def paper_against_measured(numbers: dict) -> str:
    """One sentence comparing the saving on paper with the saving measured in this build."""
    paper, energy = numbers["multiplication_ratio"], numbers["energy_ratio"]
    head = (
        f"The separable model needs {paper:.0%} of the standard model's multiplications; "
        f"in this build it took {ratio_text(numbers, 'duration')} times the standard model's training time"
    )
    energy_interval = RatioInterval(energy, numbers["energy_ratio_low"], numbers["energy_ratio_high"], CONFIDENCE)
    shown = saving_shown(energy_interval, numbers["repeats"])
    if shown == "not measured":
        return head + "; its energy was not measured, so the energy saving cannot be compared."
    if shown != "saved":
        verdict = {
            "no interval": "with one run per model, the saving cannot be told apart from noise",
            "too few runs": (
                f"with only {numbers['repeats']} runs per model, the interval is too coarse to tell "
                "the saving from noise"
            ),
            "used more": "on this machine the separable model saved no energy at all",
            "no saving shown": "the interval includes 1, so no saving is shown",
        }[shown]
    elif energy - paper > 0.25:
        verdict = "the measured saving is much smaller than the saving on paper"
    elif energy - paper > 0.05:
        verdict = "the measured saving is smaller than the saving on paper"
    else:
        verdict = "the measured saving is about as large as the saving on paper"
    return f"{head} and {ratio_text(numbers, 'energy')} times its energy: {verdict}."


def energy_sentence(numbers: dict) -> str:
    """The time and energy of the separable model relative to the standard one."""
    time_part = f"It trained in {ratio_text(numbers, 'duration')} times the time of the standard model"
    if math.isnan(numbers["energy_ratio"]):
        return time_part + "; its energy was not measured in this build."
    return (
        f"{time_part} and used {ratio_text(numbers, 'energy')} times its energy: a median of "
        f"{_energy(numbers['separable_energy_wh'])} against {_energy(numbers['conv2d_energy_wh'])}."
    )


def _energy(wh: float) -> str:
    return units.ENERGY_KWH.text(wh / 1000)


def rate_sentence(numbers: dict) -> str:
    if math.isnan(numbers["emissions_rate_ratio"]):
        return "The emissions *rate* (emissions per second) was not measured in this build."
    return (
        f"The emissions *rate* (emissions per second) of the separable model is "
        f"{ratio_text(numbers, 'emissions_rate')} times the standard model's."
    )


def energy_status_phrase(record: dict) -> str:
    """How this build's compute energy was obtained, in a few words."""
    if energy_missing_reasons(record):
        return "**not measured at all**: CodeCarbon failed (see the note above)"
    if energy_is_estimated(record):
        return "**estimated** from a power model, not measured"
    return "**measured** by a hardware counter"


def ram_share_sentence(numbers: dict) -> str:
    if math.isnan(numbers["ram_share"]):
        return "The RAM share of the energy cannot be given: the energy was not measured in this build."
    return f"RAM accounts for {numbers['ram_share']:.0%} of the energy reported for both models together."


def idle_sentence(numbers: dict) -> str:
    """How much of the training energy the machine would have drawn at rest anyway."""
    if math.isnan(numbers["idle_power_w"]):
        return "The machine's power at rest was not measured in this build, so energy above idle cannot be given."
    if math.isnan(numbers["idle_share"]):
        return (
            f"At rest the machine drew {units.POWER_W.text(numbers['idle_power_w'])}; the training energy was not "
            "measured, so the share above idle cannot be given."
        )
    return (
        f"At rest the machine drew {units.POWER_W.text(numbers['idle_power_w'])}. Over the same time as the "
        f"training, that alone is {units.percent(numbers['idle_share'])} of the energy reported; the models added "
        f"the other {units.percent(1 - numbers['idle_share'])}. Above idle, the separable model used "
        f"{ratio_text(numbers, 'above_idle')} times the standard model's energy."
    )


# The first epoch counts as clearly slower only if it took this much longer than a later one.
CLEAR_WARM_UP_RATIO = 1.1


def warm_up_sentence(numbers: dict) -> str:
    """The first epoch against the later ones, for both models, in words that follow the numbers."""
    parts, not_slower = [], []
    for name, model in (("conv2d", "standard"), ("separable", "separable")):
        first, later = numbers[f"{name}_first_epoch_s"], numbers[f"{name}_later_epoch_s"]
        if math.isnan(later):
            return "With a single epoch per run there is no steady state to set the first epoch against."
        parts.append(
            f"{first / later:.1f} times as long as a later one for the {model} model "
            f"({units.DURATION_S.text(first)} against {units.DURATION_S.text(later)})"
        )
        if first / later < CLEAR_WARM_UP_RATIO:
            not_slower.append(model)
    sentence = (
        f"The first epoch, which carries the warm-up, took {parts[0]}, and {parts[1]} (medians over the repeats)."
    )
    if not not_slower:
        return (
            sentence + " That extra time is paid once per run, whatever the architecture: graph tracing, "
            "the choice of kernels, filling caches. A study with one short run per model mostly measures it; "
            "the later epochs show the cost of the model itself."
        )
    which = "either model" if len(not_slower) == 2 else f"the {not_slower[0]} model"
    return (
        sentence + f" Here the first epoch was not clearly slower for {which}: "
        "the machine's own variation from one epoch to the next was as large as the warm-up, which is why "
        "the later epochs are summarised by their median."
    )


def clean_up_sentence(numbers: dict) -> str:
    """Why the epochs do not add up to a run: the time `fit` takes to return after the last one."""
    texts = {
        name: units.DURATION_S.text(numbers[name])
        for name in ("conv2d_clean_up_s", "separable_clean_up_s", "clean_up_min_s", "clean_up_max_s")
    }
    return (
        f"After its last epoch, `fit` took a further {texts['conv2d_clean_up_s']} to return for the "
        f"standard model and {texts['separable_clean_up_s']} for the separable one (medians; from "
        f"{texts['clean_up_min_s']} to {texts['clean_up_max_s']} across the runs), time that no "
        "callback can see. It counts in each run's total "
        "time and energy, and so in the time and energy ratios, but in no epoch of the figure: the later-epoch "
        "ratio below leaves it out."
    )


def trade_off_sentence(numbers: dict) -> str:
    """The accuracy and emissions difference of this build, in words that follow their signs."""
    mistakes = numbers["accuracy_gap_points"] * 100  # per 10,000 test images
    saved_g = numbers["conv2d_emissions_g"] - numbers["separable_emissions_g"]
    accuracy = (
        f"about {abs(mistakes):.0f} {'more' if mistakes > 0 else 'fewer'} mistakes on the 10,000 test images "
        f"than the standard model"
    )
    if math.isnan(saved_g):
        return f"the separable model made {accuracy}; the emissions of its training were not measured."
    emissions = f"{units.EMISSIONS_KG.text(abs(saved_g) / 1000)} {'less' if saved_g > 0 else 'more'}"
    return (
        f"the separable model made {accuracy}, and its training emitted {emissions} (medians over the "
        f"repeats: {ratio_text(numbers, 'emissions')} times the standard model's emissions)."
    )


def verdicts_markdown(records: list[dict]) -> str:
    """One bullet per machine: did the separable model save energy there, and was its energy measured.
    The table below the bullets says how, with the wattage assumed."""
    from ..analyze.analysis import saving_verdict
    from ..analyze.machines import machine_title

    return "\n".join(
        f"- On **{markdown_text(machine_title(record))}** ({record['profile']} profile, energy "
        f"{_energy_kind(record)}): {saving_verdict(record)}."
        for record in records
    )


def _energy_kind(record: dict) -> str:
    if energy_missing_reasons(record):
        return "not measured"
    return "estimated" if energy_is_estimated(record) else "measured by a counter"


def measured_against_estimated(records: list[dict]) -> str:
    """What the records at hand can say about measured against estimated energy."""
    from ..analyze.machines import gpu_records, machine_title

    measured = gpu_records(records)
    estimated = [record for record in records if energy_is_estimated(record)]
    if not measured:
        return (
            "No record from a machine with a GPU energy counter is in this build's results or committed "
            "with the book yet, so every energy figure here is "
            + ("an estimate." if estimated else "from the machines listed above.")
            + " A record made with `python -m convcarbon run` on such a machine and committed under "
            "`book/records/` appears here at the next build."
        )
    names = ", ".join(f"**{markdown_text(machine_title(record))}**" for record in measured)
    return (
        f"The GPU energy of {names} was read from the GPU's own counter through NVML: a measurement, "
        "within the counter's accuracy. Its CPU and RAM shares are still modelled. "
        + (
            "The CPU-only machines above had no counter, so their energy is a load model on an assumed "
            "wattage: their energy ratio largely repeats their time ratio."
            if estimated
            else ""
        )
    )


def footprint_sentence(records: list[dict]) -> str:
    """What the measurements shown in this build cost in all: every training run and every idle
    measurement of every record shown, in Wh and g CO2eq, with the epochs trained."""
    parts = [part for record in records for part in (record["idle"], *record["runs"]) if part is not None]
    runs = [run for record in records for run in record["runs"]]
    epochs = sum(len(run["epoch_duration_s"]) for run in runs)
    measured = [part for part in parts if part["energy_consumed_kwh"] is not None]
    energy_kwh = sum(part["energy_consumed_kwh"] for part in measured)
    emissions_kg = sum(part["emissions_kg"] for part in measured)
    machines = f"{len(records)} record{'s' if len(records) != 1 else ''}"
    sentence = (
        f"The measurements shown in this build ({machines}: {len(runs)} training runs of {epochs} epochs "
        f"in all, plus their idle measurements) used {units.ENERGY_KWH.text(energy_kwh)} and emitted "
        f"{units.EMISSIONS_KG.text(emissions_kg)}, each on its own machine's grid"
    )
    unmeasured = len(parts) - len(measured)
    if unmeasured:
        sentence += f"; {unmeasured} of the {len(parts)} measurements have no energy, so the true total is higher"
    estimated = sum(energy_is_estimated(record) for record in records)
    if estimated:
        share = "all" if estimated == len(records) else "part"
        sentence += f"; {share} of it is estimated, like the figures it sums"
    return sentence + "."
