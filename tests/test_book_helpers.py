"""The numbers and short phrases the chapters glue: they must follow the numbers, whichever way they go."""

import math

import pytest

from convcarbon.publish.prose import (
    number_texts,
    saving_against_paper,
    trade_off_phrases,
    warm_up_reading,
)
from convcarbon.safe import OwnMarkdown


def numbers(**changes):
    base = {
        "multiplication_ratio": 0.25,
        "energy_ratio": 0.6,
        "energy_ratio_low": 0.55,
        "energy_ratio_high": 0.65,
        "duration_ratio": 0.58,
        "duration_ratio_low": 0.5,
        "duration_ratio_high": 0.66,
        "above_idle_ratio": 0.4,
        "above_idle_ratio_low": 0.3,
        "above_idle_ratio_high": 0.5,
        "emissions_ratio": 0.62,
        "emissions_ratio_low": 0.5,
        "emissions_ratio_high": 0.7,
        "accuracy_gap_points": 1.7,
        "conv2d_emissions_g": 0.13,
        "separable_emissions_g": 0.08,
        "idle_power_w": 20.7,
        "idle_share": 0.8,
        "repeats": 3,
        "conv2d_first_epoch_s": 30.0,
        "conv2d_later_epoch_s": 20.0,
        "separable_first_epoch_s": 25.0,
        "separable_later_epoch_s": 10.0,
        "conv2d_clean_up_s": 0.21,
        "separable_clean_up_s": 0.0052,
        "clean_up_min_s": 0.004,
        "clean_up_max_s": 8.9,
        "conv2d_warm_up_factor": 1.5,
        "separable_warm_up_factor": 2.5,
    }
    return {**base, **changes}


def test_the_saving_against_paper_follows_the_verdict_and_the_gap():
    assert saving_against_paper(numbers()) == "yes, it saved energy, but much less than on paper"
    assert saving_against_paper(numbers(energy_ratio=0.35)) == "yes, it saved energy, but less than on paper"
    assert saving_against_paper(numbers(energy_ratio=0.27)) == "yes, it saved energy, about as much as on paper"
    assert saving_against_paper(numbers(energy_ratio=1.05, energy_ratio_low=1.01, energy_ratio_high=1.1)) == (
        "no, it used more energy"
    )
    assert saving_against_paper(numbers(energy_ratio_high=1.02)) == "no saving shown (the interval includes 1)"
    single = saving_against_paper(numbers(energy_ratio_low=math.nan, energy_ratio_high=math.nan))
    assert single == "one run per model, so no interval and no verdict"
    assert saving_against_paper(numbers(repeats=2)).startswith("too few runs for a verdict")
    assert saving_against_paper(numbers(energy_ratio=math.nan)) == "energy not measured, so no verdict"


def test_the_warm_up_reading_follows_both_models():
    assert warm_up_reading(numbers()) == "clearly slower for both models"
    assert warm_up_reading(numbers(conv2d_warm_up_factor=0.7)) == "not clearly slower for the standard model"
    both = numbers(conv2d_warm_up_factor=0.7, separable_warm_up_factor=1.05)
    assert warm_up_reading(both) == "not clearly slower for either model"
    assert warm_up_reading(numbers(conv2d_warm_up_factor=math.nan)).startswith("not comparable")


def test_trade_off_phrases_follow_the_signs():
    assert trade_off_phrases(numbers()) == {
        "mistakes_phrase": "about 170 more mistakes",
        "emissions_difference_phrase": "50.0 mg CO2eq less",
    }
    reversed_phrases = trade_off_phrases(numbers(accuracy_gap_points=-0.3, separable_emissions_g=0.2))
    assert reversed_phrases == {
        "mistakes_phrase": "about 30 fewer mistakes",
        "emissions_difference_phrase": "70.0 mg CO2eq more",
    }
    missing = trade_off_phrases(numbers(separable_emissions_g=math.nan))
    assert missing["emissions_difference_phrase"] == "an amount that was not measured"


def test_missing_numbers_read_not_measured_never_nan():
    texts = number_texts(numbers(energy_ratio=math.nan, idle_power_w=math.nan, idle_share=math.nan))
    assert texts["energy_ratio"] == texts["idle_power_w"] == texts["idle_share"] == "not measured"


def test_only_the_packages_own_markdown_is_glued_and_record_strings_only_escaped(monkeypatch):
    from helpers import HOSTILE

    from convcarbon.publish import book

    glued = {}
    monkeypatch.setattr("myst_nb.glue", lambda name, value, display: glued.update({name: value.data}))
    with pytest.raises(TypeError, match="only the package's own Markdown"):
        book.glue_text("cpu_method", "<script>window.__pwned=1</script>")
    with pytest.raises(TypeError):
        book.displayed("**raw**")
    book.glue_plain("cpu_method", HOSTILE)
    assert isinstance(glued["cpu_method"], str) and "<" not in glued["cpu_method"].replace("\\<", "")
    book.glue_texts(number_texts(numbers()))
    assert glued["energy_ratio"] == "0.60"
    assert all(isinstance(text, OwnMarkdown) for text in number_texts(numbers()).values())


def gpu_measured_record():
    from synthetic import make_record, make_run

    runs = [
        make_run(model, repeat, gpu_measured=True) for model in ("Conv2D", "SeparableConv2D") for repeat in range(3)
    ]
    return make_record(runs, cpu="AMD EPYC 9654 96-Core Processor", gpus=["NVIDIA H200"], backend="jax")


def test_provenance_note_and_prose_on_measured_gpu_energy():
    from convcarbon.publish.book import provenance_note
    from convcarbon.publish.prose import energy_status_phrase

    record = gpu_measured_record()
    note = provenance_note(record).data
    assert ":class: note" in note  # seed profile, GPU energy measured: nothing to warn about
    assert "GPU energy: measured: NVML energy counter" in note.replace("\\", "")
    assert "estimated, not measured" not in note
    assert "NVIDIA H200" in note
    assert energy_status_phrase(record) == "**measured** by a hardware counter"


def test_provenance_note_on_estimated_energy_states_the_assumed_wattage():
    from synthetic import paired_record

    from convcarbon.publish.book import provenance_note

    note = provenance_note(paired_record([0.01] * 3, [0.009] * 3)).data
    assert ":class: warning" in note and "Energy here is estimated, not measured" in note
    assert "CPU power assumed: load model: CodeCarbon's default for a CPU not in its table: 8 W" in note.replace(
        "\\", ""
    )


def test_provenance_note_shows_a_hostile_record_as_text():
    from helpers import hostile_record
    from markdown_it import MarkdownIt

    from convcarbon.publish.book import provenance_note

    fence, class_line, *body, closing = provenance_note(hostile_record()).data.splitlines()
    assert fence.startswith("```{admonition}") and closing == "```"
    html = MarkdownIt("commonmark").render("\n".join(body))  # the admonition's body, parsed as MyST parses it
    assert "<img" not in html and "<script" not in html and "&lt;script&gt;" in html


def test_profiles_frame_counts_what_each_profile_trains():
    from convcarbon.publish.book import profiles_frame

    frame = profiles_frame().data
    assert list(frame.index) == ["seed", "quick", "smoke"]
    # seed: 25 epochs, 3 runs per model, 2 models, on the 48,000 of 60,000 images that the 20% split leaves
    assert frame.loc["seed", "epochs in all"] == 150 and frame.loc["seed", "images per epoch"] == "48,000"
    assert frame.loc["seed", "images trained in all"] == "7,200,000"
    assert frame.loc["smoke", "images per epoch"] == "1,600" and frame.loc["smoke", "epochs in all"] == 8


def test_every_key_number_reads_with_its_unit_and_never_in_scientific_notation():
    texts = number_texts(
        numbers(
            conv2d_energy_wh=0.0389,
            conv2d_throughput_g=53.21,
            conv2d_accuracy=0.98123,
            conv2d_emissions_g=0.0143,
            carbon_intensity=369.4,
            epochs=25,
            conv2d_multiplications=2_837_120.0,
        )
    )
    assert texts["conv2d_energy_wh"] == "38.9 mWh" and texts["conv2d_emissions_g"] == "14.3 mg CO2eq"
    assert texts["conv2d_throughput_g"] == "53.2 billion multiplications/s"
    assert texts["conv2d_accuracy"] == "98.1 %" and texts["accuracy_gap_points"] == "1.70 percentage points"
    assert texts["carbon_intensity"] == "369 g CO2eq/kWh" and texts["epochs"] == "25"
    assert texts["conv2d_multiplications"] == "2,837,120" and texts["idle_power_w"] == "20.7 W"
    assert texts["energy_ratio"] == "0.60" and texts["idle_share"] == "80%" and texts["conv2d_clean_up_s"] == "210 ms"


def test_no_skipped_records_show_nothing(tmp_path, monkeypatch):
    import json

    from helpers import REPO_ROOT
    from synthetic import paired_record

    from convcarbon.publish import book

    for name in ("_config.yml", "_toc.yml"):
        (tmp_path / name).write_text((REPO_ROOT / name).read_text())
    (tmp_path / "book" / "records" / "seed-one").mkdir(parents=True)
    (tmp_path / "book" / "records" / "seed-one" / "record.json").write_text(json.dumps(paired_record([0.01], [0.009])))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONVCARBON_RESULTS", raising=False)
    assert book.skipped_note() is None  # a cell showing None shows nothing, not `<IPython...Markdown object>`
