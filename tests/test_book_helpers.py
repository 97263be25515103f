"""The sentences the chapters glue: they must follow the numbers, whichever way they go."""

import math

from convcarbon.publish.prose import (
    clean_up_sentence,
    energy_sentence,
    idle_sentence,
    number_texts,
    paper_against_measured,
    ram_share_sentence,
    trade_off_sentence,
    warm_up_sentence,
)


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
    }
    return {**base, **changes}


def test_paper_against_measured_follows_the_gap():
    assert "much smaller than the saving on paper" in paper_against_measured(numbers())
    assert "smaller than the saving on paper" in paper_against_measured(numbers(energy_ratio=0.35))
    assert "about as large" in paper_against_measured(numbers(energy_ratio=0.27))
    assert "saved no energy at all" in paper_against_measured(
        numbers(energy_ratio=1.05, energy_ratio_low=1.01, energy_ratio_high=1.1)
    )
    assert "25% of the standard model's multiplications" in paper_against_measured(numbers())


def test_the_interval_is_quoted_and_decides_the_verdict():
    sentence = paper_against_measured(numbers())
    assert "0.60 (95% interval 0.55 to 0.65) times its energy" in sentence
    assert "0.58 (95% interval 0.50 to 0.66) times the standard model's training time" in sentence
    assert "no saving is shown" in paper_against_measured(numbers(energy_ratio_high=1.02))
    single = paper_against_measured(numbers(energy_ratio_low=math.nan, energy_ratio_high=math.nan))
    assert "one run per model, so no interval" in single and "cannot be told apart from noise" in single
    assert "only 2 runs per model, the interval is too coarse" in paper_against_measured(numbers(repeats=2))


def test_idle_and_warm_up_sentences_quote_their_numbers():
    assert idle_sentence(numbers()).startswith("At rest the machine drew 20.7 W.")
    assert "that alone is 80% of the energy reported" in idle_sentence(numbers())
    assert "not measured" in idle_sentence(numbers(idle_power_w=math.nan))
    assert "took 1.5 times as long as a later one for the standard model" in warm_up_sentence(numbers())
    assert "That extra time is paid once per run" in warm_up_sentence(numbers())
    noisy = warm_up_sentence(numbers(conv2d_first_epoch_s=13.0, conv2d_later_epoch_s=18.1))
    assert "0.7 times as long" in noisy and "not clearly slower for the standard model" in noisy
    assert "extra time" not in noisy
    both = warm_up_sentence(
        numbers(
            conv2d_first_epoch_s=13.0,
            conv2d_later_epoch_s=18.1,
            separable_first_epoch_s=8.3,
            separable_later_epoch_s=8.5,
        )
    )
    assert "not clearly slower for either model" in both
    assert "no steady state" in warm_up_sentence(numbers(conv2d_later_epoch_s=math.nan))
    assert "a further 210 ms to return for the standard model and 5.20 ms for the separable one" in (
        clean_up_sentence(numbers())
    )
    assert "from 4.00 ms to 8.90 s across the runs" in clean_up_sentence(numbers())


def test_trade_off_sentence_follows_the_signs():
    assert trade_off_sentence(numbers()) == (
        "the separable model made about 170 more mistakes on the 10,000 test images than the standard model, "
        "and its training emitted 50.0 mg CO2eq less (medians over the repeats: "
        "0.62 (95% interval 0.50 to 0.70) times the standard model's emissions)."
    )
    reversed_sentence = trade_off_sentence(numbers(accuracy_gap_points=-0.3, separable_emissions_g=0.2))
    assert "about 30 fewer mistakes" in reversed_sentence and "70.0 mg CO2eq more" in reversed_sentence


def test_missing_energy_is_said_in_words_never_as_a_number():
    missing = numbers(
        energy_ratio=math.nan,
        separable_emissions_g=math.nan,
        conv2d_emissions_g=math.nan,
        energy_ratio_low=math.nan,
        energy_ratio_high=math.nan,
        ram_share=math.nan,
        separable_energy_wh=math.nan,
        conv2d_energy_wh=math.nan,
    )
    for sentence in (
        paper_against_measured(missing),
        energy_sentence(missing),
        ram_share_sentence(missing),
        trade_off_sentence(missing),
    ):
        assert "not measured" in sentence and "nan" not in sentence
    assert "took 0.58 (95% interval 0.50 to 0.66) times" in paper_against_measured(missing)


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
    from helpers import REPO_ROOT

    from convcarbon.publish import book

    for name in ("_config.yml", "_toc.yml"):
        (tmp_path / name).write_text((REPO_ROOT / name).read_text())
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONVCARBON_RESULTS", raising=False)
    assert book.skipped_note() is None  # a cell showing None shows nothing, not `<IPython...Markdown object>`
