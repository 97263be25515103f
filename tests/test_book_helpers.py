"""The numbers and short phrases the chapters glue: they must follow the numbers, whichever way they go."""

import math
import re

import pytest

from convcarbon import units
from convcarbon.safe import OwnMarkdown
from convcarbon.site import book
from convcarbon.site.prose import (
    number_texts,
    saving_against_paper,
    trade_off_phrases,
    warm_up_reading,
)


def saving(standard_kwh, separable_kwh) -> str:
    from synthetic import paired_record

    return saving_against_paper(paired_record(standard_kwh, separable_kwh))


def test_the_saving_against_paper_follows_the_verdict_and_the_gap():
    # The synthetic models' multiplications give a ratio on paper of 0.25.
    assert saving([0.01] * 3, [0.006, 0.0061, 0.0059]) == "yes, it saved energy, but much less than on paper"
    assert saving([0.01] * 3, [0.0035, 0.00352, 0.00348]) == "yes, it saved energy, but less than on paper"
    assert saving([0.01] * 3, [0.0027, 0.00272, 0.00268]) == "yes, it saved energy, about as much as on paper"
    assert saving([0.01] * 3, [0.0105, 0.0106, 0.0104]) == "no, it used more energy"
    assert saving([0.01] * 3, [0.009, 0.0102, 0.0098]) == "no saving shown (the interval includes 1)"
    assert saving([0.01], [0.006]) == "one run per model, so no interval and no verdict"
    assert saving([0.01] * 2, [0.006] * 2).startswith("too few runs for a verdict")


def test_the_saving_against_paper_of_unmeasured_energy_is_no_verdict():
    from synthetic import paired_record

    record = paired_record([0.01] * 3, [0.006] * 3)
    record["runs"][0].update(energy_consumed_kwh=None, energy_missing_reason="CodeCarbon failed")
    assert saving_against_paper(record) == "energy not measured, so no verdict"


def factors(standard, separable) -> dict:
    return {
        "conv2d_warm_up_factor": units.Amount(standard, units.RATIO),
        "separable_warm_up_factor": units.Amount(separable, units.RATIO),
    }


def test_the_warm_up_reading_follows_both_models():
    assert warm_up_reading(factors(1.5, 2.5)) == "clearly slower for both models"
    assert warm_up_reading(factors(0.7, 2.5)) == "not clearly slower for the standard model"
    assert warm_up_reading(factors(0.7, 1.05)) == "not clearly slower for either model"
    assert warm_up_reading(factors(math.nan, 2.5)).startswith("not comparable")


def test_trade_off_phrases_follow_the_signs():
    from synthetic import make_record, make_run

    def record(separable_accuracy, separable_kwh):
        runs = [make_run("Conv2D", repeat, energy_kwh=0.01, accuracy=0.98) for repeat in range(3)]
        runs += [
            make_run("SeparableConv2D", repeat, energy_kwh=separable_kwh, accuracy=separable_accuracy)
            for repeat in range(3)
        ]
        return make_record(runs)

    # Emissions are 0.4 kg per kWh in the synthetic runs: 0.01 kWh emits 4 g, 0.006 kWh 2.4 g.
    assert trade_off_phrases(record(0.963, 0.006)) == {
        "mistakes_phrase": "about 170 more mistakes on the 10,000 test images",
        "emissions_difference_phrase": "1.60 g CO2eq less",
    }
    assert trade_off_phrases(record(0.983, 0.0125)) == {
        "mistakes_phrase": "about 30 fewer mistakes on the 10,000 test images",
        "emissions_difference_phrase": "1.00 g CO2eq more",
    }
    smoke = record(0.876, 0.006)
    smoke["config"]["test_images"] = 1_000  # the smoke profile evaluates on 1,000: the count follows the record
    assert trade_off_phrases(smoke)["mistakes_phrase"] == "about 104 more mistakes on the 1,000 test images"
    assert trade_off_phrases(record(0.876, 0.006))["mistakes_phrase"].startswith("about 1,040 more")
    missing = record(0.98, 0.006)
    for run in missing["runs"]:
        run.update(emissions_kg=None, energy_missing_reason="CodeCarbon failed")
    assert trade_off_phrases(missing)["emissions_difference_phrase"] == "an amount that was not measured"


def test_missing_numbers_read_not_measured_never_nan():
    from synthetic import paired_record

    record = paired_record([0.01] * 3, [0.006] * 3, idle_power_w=None)
    record["runs"][0].update(energy_consumed_kwh=None, energy_missing_reason="CodeCarbon failed")
    texts = number_texts(book.key_numbers(record))
    assert texts["energy_ratio_text"] == texts["idle_power_w"] == texts["idle_share"] == "not measured"
    assert texts["conv2d_energy_wh"] == "not measured" and texts["separable_energy_wh"] != "not measured"


def test_a_glued_number_must_carry_its_unit():
    with pytest.raises(TypeError, match="carries its unit"):
        number_texts({"energy": 0.01})


def test_only_the_packages_own_markdown_is_glued_and_record_strings_only_escaped(monkeypatch):
    from helpers import HOSTILE
    from synthetic import paired_record

    glued = {}
    monkeypatch.setattr("myst_nb.glue", lambda name, value, display: glued.update({name: value.data}))
    with pytest.raises(TypeError, match="only the package's own Markdown"):
        book.glue_text("cpu_method", "<script>window.__pwned=1</script>")
    with pytest.raises(TypeError):
        book.displayed("**raw**")
    book.glue_plain("cpu_method", HOSTILE)
    assert isinstance(glued["cpu_method"], str) and "<" not in glued["cpu_method"].replace("\\<", "")
    texts = number_texts(book.key_numbers(paired_record([0.01] * 3, [0.006, 0.0061, 0.0059])))
    book.glue_texts(texts)
    assert glued["energy_ratio_text"].startswith("0.60 (95% interval")
    assert all(isinstance(text, OwnMarkdown) for text in texts.values())


def gpu_measured_record():
    from synthetic import make_record, make_run

    runs = [
        make_run(model, repeat, gpu_measured=True) for model in ("Conv2D", "SeparableConv2D") for repeat in range(3)
    ]
    return make_record(runs, cpu="AMD EPYC 9654 96-Core Processor", gpus=["NVIDIA H200"], backend="jax")


def test_provenance_note_and_prose_on_measured_gpu_energy():
    from convcarbon.site.book import provenance_note
    from convcarbon.site.prose import energy_status_phrase

    record = gpu_measured_record()
    note = provenance_note(record).data
    assert ":class: note" in note  # full profile, GPU energy measured: nothing to warn about
    assert "GPU energy: measured: NVML energy counter" in note.replace("\\", "")
    assert "estimated, not measured" not in note
    assert "NVIDIA H200" in note
    assert energy_status_phrase(record) == "**measured** by a hardware counter"


def test_provenance_note_on_estimated_energy_states_the_assumed_wattage():
    from synthetic import paired_record

    from convcarbon.site.book import provenance_note

    note = provenance_note(paired_record([0.01] * 3, [0.009] * 3)).data
    assert ":class: warning" in note and "Energy here is estimated, not measured" in note
    assert "CPU power assumed: load model: CodeCarbon's default for a CPU not in its table: 8 W" in note.replace(
        "\\", ""
    )


def test_provenance_note_shows_a_hostile_record_as_text():
    from helpers import hostile_record
    from markdown_it import MarkdownIt

    from convcarbon.site.book import provenance_note

    fence, class_line, *body, closing = provenance_note(hostile_record()).data.splitlines()
    assert fence.startswith("```{admonition}") and closing == "```"
    html = MarkdownIt("commonmark").render("\n".join(body))  # the admonition's body, parsed as MyST parses it
    assert "<img" not in html and "<script" not in html and "&lt;script&gt;" in html


def test_profiles_frame_counts_what_each_profile_trains():
    from convcarbon.site.book import profiles_frame

    frame = profiles_frame().data
    assert list(frame.index) == ["full", "quick", "smoke"]
    # full: 25 epochs, 3 runs per model, 2 models, on the 48,000 of 60,000 images that the 20% split leaves
    assert frame.loc["full", "epochs in all"] == 150 and frame.loc["full", "images per epoch"] == "48,000"
    assert frame.loc["full", "images trained in all"] == "7,200,000"
    assert frame.loc["smoke", "images per epoch"] == "1,600" and frame.loc["smoke", "epochs in all"] == 8


def test_every_key_number_reads_in_its_own_unit_and_never_in_scientific_notation():
    from synthetic import make_record, make_run

    runs = [make_run("Conv2D", repeat, energy_kwh=0.0000389, accuracy=0.98123) for repeat in range(3)]
    runs += [make_run("SeparableConv2D", repeat, energy_kwh=0.0000143, accuracy=0.9642) for repeat in range(3)]
    texts = number_texts(book.key_numbers(make_record(runs)))
    # One unit per kind of value, whatever the key's name ends with: `_wh` and `_g` are names only.
    assert texts["conv2d_energy_wh"] == "38.9 mWh" and texts["separable_energy_wh"] == "14.3 mWh"
    assert texts["conv2d_throughput_g"].endswith(" billion multiplications/s")
    assert texts["conv2d_accuracy"] == "98.1 %" and texts["accuracy_gap_points"] == "1.70 percentage points"
    assert texts["carbon_intensity"] == "400 g CO2eq/kWh" and texts["repeats"] == "3"
    assert texts["idle_power_w"] == "20.0 W" and texts["multiplication_ratio"] == "0.25"
    assert texts["conv2d_warm_up_factor"] == "3.00" and texts["conv2d_later_epoch_s"] == "10.0 s"
    assert texts["clean_up_min_s"] == "60.0 s"  # each run's 100 s less its epochs' 40 s
    assert all(not re.search(r"\d[eE][+-]?\d", text) for text in texts.values())


def test_a_ratio_without_an_interval_keeps_its_reason_in_the_prose():
    from synthetic import paired_record

    from convcarbon.training.analyze.analysis import separable_ratio_interval

    record = paired_record([0.01] * 3, [0.006] * 3)
    for run, clean_up_s in zip(record["runs"], (8.9, 0.008, 8.9, 2.0, 2.1, 1.9), strict=True):
        run["clean_up_duration_s"] = clean_up_s
    clean_up = separable_ratio_interval(record, "clean-up after the epochs")
    assert number_texts({"clean_up_ratio": clean_up})["clean_up_ratio"] == "0.22 (no interval: runs can be near zero)"


def test_carbon_intensity_reads_one_way_on_every_page_and_the_terminal():
    from synthetic import paired_record

    from convcarbon.training.analyze.report import provenance_lines

    record = paired_record([0.01] * 3, [0.006] * 3)
    written = units.CARBON_INTENSITY_G_PER_KWH.text(400.0)
    assert written == "400 g CO2eq/kWh"
    assert written in book.provenance_note(record).data
    assert any(written in line for line in provenance_lines(record))
    assert number_texts(book.key_numbers(record))["carbon_intensity"] == written


def test_no_skipped_records_show_nothing(tmp_path, monkeypatch):
    import json

    from helpers import REPO_ROOT
    from synthetic import paired_record

    from convcarbon.site import book

    for name in ("_config.yml", "_toc.yml"):
        (tmp_path / name).write_text((REPO_ROOT / name).read_text())
    (tmp_path / "book" / "records" / "seed-one").mkdir(parents=True)
    (tmp_path / "book" / "records" / "seed-one" / "record.json").write_text(json.dumps(paired_record([0.01], [0.009])))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONVCARBON_RESULTS", raising=False)
    assert book.skipped_note() is None  # a cell showing None shows nothing, not `<IPython...Markdown object>`
