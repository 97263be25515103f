"""Interleaving, idle subtraction, throughput, verdicts, and records of several machines side by side."""

import math

import pytest
from synthetic import make_record, make_run, paired_record

from convcarbon.costs import training_multiplications_per_epoch
from convcarbon.energy.idle import energy_above_idle_kwh, mean_power_w
from convcarbon.records.store import ResultStore
from convcarbon.site.prose import gpu_counter_machines, verdicts_markdown
from convcarbon.site.shown import machine_records
from convcarbon.training.analyze.analysis import saving_verdict, separable_ratio_interval, summary
from convcarbon.training.analyze.machines import analytic_frame, energy_method, spread_frame, summary_frame
from convcarbon.training.measure.experiment import interleaved_order


def test_interleaved_order_alternates_which_model_runs_first():
    assert interleaved_order(("A", "B"), 4) == [
        (0, "A"),
        (0, "B"),
        (1, "B"),
        (1, "A"),
        (2, "A"),
        (2, "B"),
        (3, "B"),
        (3, "A"),
    ]


@pytest.mark.parametrize("repeats", [2, 4, 6])
def test_with_an_even_number_of_repeats_each_model_runs_first_and_last_equally_often(repeats):
    order = interleaved_order(("A", "B"), repeats)
    positions = {model: [index for index, (_, name) in enumerate(order) if name == model] for model in "AB"}
    assert sum(positions["A"]) == sum(positions["B"])
    assert [repeat for repeat, _ in order] == sorted(repeat for repeat, _ in order)


def test_idle_power_and_energy_above_idle():
    assert mean_power_w(0.001, 180.0) == pytest.approx(20.0)  # 1 Wh in 3 minutes is 20 W
    assert energy_above_idle_kwh(0.003, 360.0, 20.0) == pytest.approx(0.001)  # 3 Wh less 20 W for 6 min
    assert energy_above_idle_kwh(0.001, 360.0, 20.0) == pytest.approx(-0.001)  # not clipped
    assert energy_above_idle_kwh(None, 360.0, 20.0) is None
    assert energy_above_idle_kwh(0.003, 360.0, None) is None
    assert mean_power_w(None, 10.0) is None


def test_energy_above_idle_per_run_and_its_ratio():
    # 100 s at 20 W at rest is 2000 J = 0.000556 kWh.
    record = paired_record([0.002, 0.002], [0.001, 0.001], idle_power_w=20.0)
    at_rest_kwh = 20.0 * 100.0 / 3.6e6
    assert summary(record, "Conv2D", "energy above idle").median == pytest.approx(0.002 - at_rest_kwh)
    interval = separable_ratio_interval(record, "energy above idle")
    assert interval.ratio == pytest.approx((0.001 - at_rest_kwh) / (0.002 - at_rest_kwh))
    assert math.isnan(summary(paired_record([0.002], [0.001], idle_power_w=None), "Conv2D", "energy above idle").median)


def test_throughput_counts_forward_and_backward_over_a_steady_epoch():
    per_epoch = training_multiplications_per_epoch(1000, train_images=60_000, validation_split=0.2)
    assert per_epoch == 1000 * (3 * 48_000 + 12_000)
    record = make_record(
        [
            make_run("Conv2D", 0, epoch_duration_s=(30.0, 10.0)),
            make_run("SeparableConv2D", 0, epoch_duration_s=(30.0, 8.0)),
        ]
    )
    expected = training_multiplications_per_epoch(2_836_800, 60_000, 0.2) / 10.0
    assert summary(record, "Conv2D", "throughput").median == pytest.approx(expected)


@pytest.mark.parametrize(
    "separable, verdict",
    [
        ([0.5, 0.55, 0.6], "yes, it saved energy"),
        ([1.5, 1.55, 1.6], "no, it used more energy"),
        ([0.5, 1.0, 1.5], "no saving shown"),
    ],
)
def test_verdict_follows_the_interval(separable, verdict):
    record = paired_record([1.0, 1.02, 0.98], separable)
    assert saving_verdict(record).startswith(verdict)


def test_one_run_each_gives_no_verdict_and_two_are_too_few():
    assert "so no interval and no verdict" in saving_verdict(paired_record([1.0], [0.5]))
    assert "too few runs for a verdict (at least 3 per model" in saving_verdict(paired_record([1.0, 1.01], [0.5, 0.51]))


def test_the_verdict_has_one_wording_for_the_terminal_the_tables_and_the_prose():
    from convcarbon.course.classtable import table_row
    from convcarbon.training.analyze.analysis import VERDICTS
    from convcarbon.training.analyze.report import format_report

    two_runs = paired_record([1.0, 1.01], [0.5, 0.51])
    cell = VERDICTS["too few runs"].cell
    assert table_row("bob", two_runs)["verdict"] == cell
    assert summary_frame([two_runs], shown=two_runs).data["verdict"].iloc[0] == cell
    assert VERDICTS["too few runs"].phrase.startswith(cell) and VERDICTS["too few runs"].phrase in format_report(
        two_runs
    )
    assert VERDICTS["too few runs"].phrase in verdicts_markdown([two_runs])


def test_each_machine_and_framework_shows_its_best_record_beside_the_builds_own(tmp_path):
    shown = paired_record([1.0, 1.1], [0.5, 0.6], cpu="CPU A", profile="smoke", created="2026-03-01T00:00:00+00:00")
    gpu_old = paired_record(
        [1.0, 1.1, 1.2],
        [0.9, 0.95, 1.0],
        cpu="CPU B",
        gpus=["NVIDIA H100"],
        backend="jax",
        profile="seed",  # the old name of full: the newer full record of this machine speaks for it
        created="2026-01-01T00:00:00+00:00",
        fingerprint="01" * 32,
    )
    gpu_new = paired_record(
        [1.0, 1.1, 1.2],
        [0.7, 0.75, 0.8],
        cpu="CPU B",
        gpus=["NVIDIA H100"],
        backend="jax",
        created="2026-02-01T00:00:00+00:00",
        fingerprint="02" * 32,
    )
    gpu_smoke = paired_record(
        [1.0, 1.1],
        [0.2, 0.2],
        cpu="CPU B",
        gpus=["NVIDIA H100"],
        backend="jax",
        profile="smoke",
        created="2026-04-01T00:00:00+00:00",
        fingerprint="03" * 32,
    )
    same_machine_smoke = paired_record([1.0], [1.0], cpu="CPU A", profile="smoke", fingerprint="04" * 32)
    same_machine_full = paired_record([1.0] * 3, [0.9] * 3, cpu="CPU A", fingerprint="05" * 32)
    records = machine_records(shown, [gpu_old, same_machine_smoke, gpu_smoke, gpu_new, same_machine_full, shown])
    # CPUs before GPUs; the build's own smoke record beside its machine's original-protocol record.
    assert records == [same_machine_full, shown, gpu_new]

    table = summary_frame(records, shown=shown).data
    assert list(table["class"]) == ["x86 CPU", "", "GPU"]  # each class named once, above its machines
    assert table["machine"][1].endswith("(this build)") and "NVIDIA H100" in table["machine"][2]
    assert list(table["backend, profile, runs"]) == [
        "tensorflow, full, 3 run(s) per model",
        "tensorflow, smoke, 2 run(s) per model",
        "jax, full, 3 run(s) per model",
    ]
    assert list(table["verdict"]) == ["saved energy", "too few runs for a verdict", "saved energy"]
    assert (
        "CPU estimated: load x 8.00 W (CodeCarbon's default for a CPU not in its table)"
        in table["energy obtained"].iloc[0]
    )
    spread = spread_frame(records).data
    assert list(spread["model"]) == ["Conv2D", "SeparableConv2D"] * 3
    assert list(spread["machine, profile"])[1::2] == ["", "", ""]  # each record named once, above its two models
    assert spread["machine, profile"][0].endswith("; full") and spread["machine, profile"][2].endswith("; smoke")
    assert spread["energy (kWh)"].iloc[0] == "1.00"  # one unit per column; identical runs show no range
    assert spread["energy (kWh)"].iloc[2] == "1.05\n(1.00–1.10)"  # the range below the median
    assert len(analytic_frame(records).data) == 3
    assert verdicts_markdown(records).count("\n- On **") == 2


def test_a_scaled_chip_says_so_in_the_table():
    record = paired_record([1.0] * 3, [0.9] * 3)
    record["power_assumptions"].update(
        cpu_table_match="AMD EPYC 7763",
        cpu_table_power_w=280.0,
        cpu_power_scaled=True,
        cpu_machine_share=4 / 128,
        cpu_assumed_power_w=8.75,
    )
    assert "load x 8.75 W (280 W chip scaled to 3.1% of its logical CPUs)" in energy_method(record)


def test_a_dozen_machines_stay_readable():
    """Twelve machines: one row each in the table and the figure, grouped by class, with bounded cells."""
    from synthetic import make_hardware

    from convcarbon.site.figures import ratio_intervals_figure

    records = [
        paired_record(
            [1.0, 1.1, 1.2],
            [0.8, 0.85, 0.9],
            fingerprint=f"{index:02d}" * 32,
            backend=("tensorflow", "jax")[index % 2],
            hardware=make_hardware(f"CPU model number {index}", gpus=["NVIDIA L4"] * (index % 3 == 0)),
        )
        for index in range(12)
    ]
    shown = machine_records(records[0], records)
    assert len(shown) == 12
    table = summary_frame(shown, shown=records[0]).data
    classes = [label for label in table["class"] if label]
    assert classes == sorted(classes, key=["x86 CPU", "Arm CPU", "Apple silicon", "GPU"].index)
    assert len(classes) == len(set(classes))
    cells = table.drop(columns="machine").to_numpy().ravel()  # the machine, as before, is the row's label
    assert len(table.columns) <= 8 and all(len(str(cell)) <= 120 for cell in cells)
    figure = ratio_intervals_figure(shown)
    axes = figure.axes[0]
    assert len(axes.get_yticklabels()) == 12 and figure.get_size_inches()[1] <= 16
    assert all(label.get_text().count("\n") <= 4 for label in axes.get_yticklabels())


def test_measured_gpu_energy_is_told_apart_from_estimated():
    cpu_only = paired_record([1.0, 1.1], [0.5, 0.6])
    assert gpu_counter_machines([cpu_only]) == "none among the records of this build"
    gpu_runs = [
        make_run(model, repeat, gpu_measured=True) for model in ("Conv2D", "SeparableConv2D") for repeat in (0, 1)
    ]
    gpu = make_record(gpu_runs, cpu="CPU B", gpus=["NVIDIA H200"], backend="jax")
    names = gpu_counter_machines([cpu_only, gpu])
    assert "NVIDIA H200" in names and "CPU B" in names and "CPU A" not in names


def test_committed_records_are_read_beside_the_local_store(tmp_path):
    committed = ResultStore(tmp_path / "committed")
    record = paired_record([0.1], [0.05], cpu="CPU C")
    with committed.locked(), committed.staging() as folder:
        committed.commit(folder, record)
    from convcarbon.records.store import read_records

    (found,) = read_records(tmp_path / "committed")
    assert found["hardware"]["cpu_model"] == "CPU C"
    assert read_records(tmp_path / "nothing-here") == []
