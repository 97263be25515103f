"""One wording per kind of sentence: how energy was obtained (report.ENERGY_WORDINGS), the verdict
(analysis.energy_verdict) and the machine's name (report.machine_label), wherever they are said; and energy
that says what it is: each assumption's share, and the break-even from time alone beside the estimate."""

import math
import re
from types import SimpleNamespace

import pytest
from helpers import REPO_ROOT, committed_reference_record
from synthetic import make_hardware, paired_record, with_inference

from convcarbon.anatomy.analyze import inference
from convcarbon.course import classtable
from convcarbon.site import prose
from convcarbon.training.analyze import machines
from convcarbon.training.analyze.analysis import VERDICTS, energy_verdict, saving_verdict
from convcarbon.training.analyze.report import ENERGY_WORDINGS, energy_reading, energy_shares, machine_label


def predicting_record() -> dict:
    """Training energy 0.01 kWh (standard) and 0.005 kWh (separable) in 100 s runs; predictions at 1e-8 and
    5e-9 kWh each, 1 ms each."""
    return with_inference(paired_record([0.01] * 3, [0.005] * 3), {"Conv2D": 1e-8, "SeparableConv2D": 5e-9})


# --- the verdict -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "standard_kwh, separable_kwh, reading",
    [
        ([0.01] * 3, [0.006, 0.0061, 0.0059], "saved"),
        ([0.01] * 3, [0.0105, 0.0106, 0.0104], "used more"),
        ([0.01] * 3, [0.009, 0.0102, 0.0098], "no saving shown"),
        ([0.01] * 2, [0.006] * 2, "too few runs"),
        ([0.01], [0.006], "no interval"),
    ],
)
def test_every_table_and_the_terminal_look_the_verdict_up_once(standard_kwh, separable_kwh, reading):
    from convcarbon.cli import _book_summary

    record = paired_record(standard_kwh, separable_kwh)
    verdict = VERDICTS[reading]
    assert energy_verdict(record) == verdict
    assert classtable.table_row("student", record)["verdict"] == verdict.cell
    assert machines.summary_frame([record], record).data["verdict"].tolist() == [verdict.cell]
    summary = _book_summary(SimpleNamespace(record=record, measured=True), REPO_ROOT)
    assert f"verdict        {verdict.cell}" in summary
    assert saving_verdict(record).startswith(verdict.phrase)


# --- how energy was obtained -----------------------------------------------------------------------


def unmeasured(record: dict) -> dict:
    record["runs"][0].update(energy_consumed_kwh=None, energy_missing_reason="CodeCarbon failed")
    return record


def test_how_energy_was_obtained_is_worded_from_one_table_everywhere():
    estimated = paired_record([0.01] * 3, [0.006] * 3)
    measured = paired_record([0.01] * 3, [0.006] * 3)
    for run in measured["runs"]:
        run["gpu_energy_measured"] = True
    missing = unmeasured(paired_record([0.01] * 3, [0.006] * 3))
    for record, reading in ((estimated, "estimated"), (measured, "measured"), (missing, "not measured")):
        wording = ENERGY_WORDINGS[reading]
        assert energy_reading(record) == reading
        assert prose.energy_status_phrase(record) == wording.phrase
        assert f"energy {wording.cell})" in prose.verdicts_markdown([record])
    assert machines.energy_method(missing) == ENERGY_WORDINGS["not measured"].cell


def test_how_prediction_energy_was_obtained_comes_from_the_same_table():
    from convcarbon.anatomy.publish import page as anatomy

    record = predicting_record()
    assert inference.inference_energy_reading(record) == "estimated"
    assert anatomy.inference_texts(record)["prediction_energy_kind"] == ENERGY_WORDINGS["estimated"].cell
    before = paired_record([0.01] * 3, [0.006] * 3)  # a record made before predictions were measured
    assert inference.inference_energy_reading(before) == "not in record"
    assert prose.prediction_energy_shares(before) == ENERGY_WORDINGS["not in record"].cell


def test_the_report_warns_of_an_estimate_in_the_tables_words():
    from convcarbon.training.analyze.report import provenance_lines

    lines = provenance_lines(paired_record([0.01] * 3, [0.006] * 3))
    assert f"WARNING: {ENERGY_WORDINGS['estimated'].warning}." in lines


# --- each assumption's share ------------------------------------------------------------------------


def test_each_parts_share_comes_from_the_stored_energies():
    record = paired_record([0.01] * 3, [0.006] * 3)  # the synthetic runs: a quarter CPU, three quarters RAM
    shares = energy_shares(record["runs"])
    assert shares == pytest.approx({"cpu": 0.25, "gpu": 0.0, "ram": 0.75})
    record["runs"][0]["ram_energy_kwh"] = None
    assert all(math.isnan(share) for share in energy_shares(record["runs"]).values())


def test_the_shares_name_the_wattage_each_part_was_assumed_to_draw():
    record = paired_record([0.01] * 3, [0.006] * 3)
    record["power_assumptions"].update(cpu_assumed_power_w=12.5, ram_assumed_power_w=30.0)
    assert prose.training_energy_shares(record) == (
        "75% from RAM, assumed to draw a constant 30.0 W, and 25% from the CPU, its load times an assumed 12.5 W"
    )
    assert prose.training_energy_shares(unmeasured(record)) == "not known, since the energy was not measured"


def test_the_shares_of_the_reference_record_follow_its_numbers():
    record = committed_reference_record()
    runs = record["runs"]
    ram = sum(run["ram_energy_kwh"] for run in runs) / sum(
        run[f"{part}_energy_kwh"] for run in runs for part in ("cpu", "gpu", "ram")
    )
    phrase = prose.training_energy_shares(record)
    assert f"{ram * 100:.0f}% from RAM" in phrase
    ram_w = record["power_assumptions"]["ram_assumed_power_w"]
    assert f"a constant {ram_w:.1f} W" in phrase


def test_the_break_even_from_time_alone_assumes_no_wattage():
    record = predicting_record()
    from_time = inference.break_even_from_time(record, "Conv2D", 1)
    for run in record["runs"]:
        run["energy_consumed_kwh"] *= 3  # another assumed wattage triples the estimate ...
    assert inference.break_even_from_time(record, "Conv2D", 1) == from_time  # ... and leaves time alone
    assert inference.break_even_predictions(record, "Conv2D", 1) == pytest.approx(3e6)


def test_every_statement_of_the_break_even_says_estimated_and_gives_the_time_alone_beside_it():
    ethics = (REPO_ROOT / "book" / "ethics.md").read_text()
    words = re.sub(r"```\{code-cell\}.*?```", "", ethics, flags=re.DOTALL)  # the chapter's words, not its code
    said = re.findall(r"(\S+)\s+break-even", words)
    assert len(said) >= 4 and set(said) == {"estimated"}, said
    chunks = [chunk for chunk in re.split(r"\n\s*\n", words) if chunk.strip()]  # paragraphs; a list is one
    for before, chunk in zip(["", *chunks], chunks):
        if re.search(r"`(conv2d|separable)_break_even_(b1|batch)`", chunk):
            # The estimate is said in its own sentence, or in the one that introduces its list.
            assert "estimated" in chunk or "estimated" in before, chunk
            assert "_break_even_time_" in chunk, chunk  # and the count from time alone stands beside it


# --- the machine's name ----------------------------------------------------------------------------


def test_one_builder_names_every_machine():
    record = paired_record(
        [0.01] * 3, [0.009] * 3, hardware=make_hardware("AMD EPYC 9654", gpus=("NVIDIA H200",)), backend="jax"
    )
    assert machine_label(record) == (
        "AMD EPYC 9654 (family 25, model 17; AVX-512), 2 logical CPUs, virtual machine, 24.0 GB RAM"
        " + NVIDIA H200 (80.0 GB, driver 570.1)"
    )
    assert machine_label(record, short=True, backend=True, profile=True) == (
        "AMD EPYC 9654 (family 25, model 17; AVX-512) + NVIDIA H200, 2 logical CPUs, Keras backend jax, full profile"
    )


def test_the_atlas_pages_name_machines_with_the_same_builder():
    from convcarbon.atlas.publish import figures as atlas_figures
    from convcarbon.atlas.publish import page as atlas_page

    record = committed_reference_record()  # an atlas's hardware and versions have the same fields
    assert atlas_figures.record_label(record) == machine_label(record, short=True, backend=True, profile=True)
    assert atlas_page.machine_text(record).replace("\\", "") == machine_label(record, short=True, backend=True)


# --- the tutorial's log ----------------------------------------------------------------------------


def test_the_tutorials_log_gives_the_share_outside_the_epochs_two_ways():
    from convcarbon.anatomy.publish import page as anatomy
    from convcarbon.reference import (
        TUTORIAL_MS_PER_STEP,
        TUTORIAL_REPORTED,
        TUTORIAL_STEPS_PER_EPOCH,
        tutorial_steps_sum_s,
    )

    # Recomputed by hand from the log: ms per step times 192 steps, summed over the 25 epochs.
    conv2d_steps_s = sum(TUTORIAL_MS_PER_STEP["Conv2D"]) * TUTORIAL_STEPS_PER_EPOCH / 1000
    assert tutorial_steps_sum_s("Conv2D") == pytest.approx(conv2d_steps_s)
    published_s = TUTORIAL_REPORTED["duration"][0] - TUTORIAL_REPORTED["duration"][1]
    inside_s = conv2d_steps_s - tutorial_steps_sum_s("SeparableConv2D")
    texts = anatomy.tutorial_texts(paired_record([0.01] * 3, [0.006] * 3))
    assert texts["tutorial_steps_outside_difference_share"] == f"{(published_s - inside_s) / published_s:.0%}"
    assert texts["tutorial_steps_outside_difference_share"] == "96%"  # the log's own estimate (issue 20)
    # The printed seconds are rounded: each sum within 12.5 s, so the difference within 25 s either way.
    printed_inside_s = 40 - 37
    low, high = ((published_s - printed_inside_s - sign * 25) / published_s for sign in (1, -1))
    assert texts["tutorial_outside_difference_share_range"] == f"{low:.0%}–{high:.0%}"
    assert texts["tutorial_conv2d_first_epoch_steps_s"] == "1.92 s"  # 10 ms x 192 steps, in an epoch printed 7 s
