"""The evidence of a quiet machine that atlas and training records store (records/quietness.py): the calibration's
drift on fake clocks, steal time from /proc/stat, the summary and its reasons, and the real one-thread task."""

import numpy as np
import pytest

from convcarbon.records.quietness import (
    CALIBRATION_REPEATS,
    CALIBRATION_TASK,
    MAX_DRIFT,
    Calibrator,
    calibration_task,
    cpu_times,
    drifted,
    quietness,
)


def fake_calibrator(task_s: list[float], load=0.1, cpu=None) -> Calibrator:
    """A calibrator whose every task takes the next of `task_s` seconds on a fake clock."""
    durations, cpu_readings, now = iter(task_s), iter(cpu or []), [0.0]

    def task() -> None:
        now[0] += next(durations)

    return Calibrator(
        task=task,
        clock=lambda: now[0],
        read_cpu_times=lambda: next(cpu_readings, None),
        read_load=lambda: load,
    )


def test_a_calibration_is_the_fastest_of_its_tasks_and_drift_is_from_the_first():
    n = CALIBRATION_REPEATS
    burst = [1.05] * (n - 1) + [9.0]  # a burst slows one task: the fastest ignores it
    tasks = [1.0] * n + burst + [1.3] * n
    calibrator = fake_calibrator(tasks)
    first, steady, busy = (calibrator.calibrate(position) for position in ("before", "between", "after"))
    assert first["duration_s"] == pytest.approx(1.0) and first["drift"] == 0
    assert steady["drift"] == pytest.approx(0.05) and not drifted(steady)
    assert busy["drift"] == pytest.approx(0.3) and drifted(busy)
    assert [reading["position"] for reading in calibrator.readings] == ["before", "between", "after"]


def test_steal_is_the_share_since_the_previous_calibration():
    # (steal, total) jiffies: 10 of 1000 stolen between the first and second reading, 0 of 500 after
    calibrator = fake_calibrator([1.0] * 3 * CALIBRATION_REPEATS, cpu=[(100, 10_000), (110, 11_000), (110, 11_500)])
    readings = [calibrator.calibrate("between") for _ in range(3)]
    assert readings[0]["steal_fraction"] is None  # nothing to compare the first reading with
    assert readings[1]["steal_fraction"] == pytest.approx(0.01) and readings[2]["steal_fraction"] == 0


def test_steal_is_read_from_proc_stat_and_missing_where_it_has_no_steal_column(tmp_path):
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 2 30 4000 5 0 1 7 0 0\ncpu0 50 1 15 2000 2 0 0 3 0 0\n")
    assert cpu_times(stat) == (7, 100 + 2 + 30 + 4000 + 5 + 0 + 1 + 7)
    stat.write_text("cpu  100 2 30 4000\n")  # an old kernel: no steal column
    assert cpu_times(stat) is None
    assert cpu_times(tmp_path / "absent") is None


def test_quiet_only_without_drift_load_or_steal_and_each_reason_says_its_numbers():
    def reading(drift, load=0.2, steal=0.0):
        return {
            "position": "between",
            "duration_s": 1.0,
            "drift": drift,
            "load_average_1m": load,
            "steal_fraction": steal,
        }

    quiet = quietness([reading(0.0), reading(0.08)], cpu_count=2, remeasured_blocks=0)
    assert quiet["quiet"] and quiet["summary"] == "quiet: 2 calibrations within 10% of the first (at most +8%)"
    busy = quietness([reading(0.0, load=3.5), reading(0.25, steal=0.04)], cpu_count=2, remeasured_blocks=1)
    assert not busy["quiet"] and busy["remeasured_blocks"] == 1 and busy["max_drift"] == pytest.approx(0.25)
    assert busy["reasons"] == [
        f"the calibration drifted by up to +25% (bound {MAX_DRIFT:.0%})",
        "the load average was 3.5 on 2 logical CPUs as the measurement began",
        "the hypervisor stole up to 4% of the processor time",
    ]
    assert busy["summary"] == "busy: " + "; ".join(busy["reasons"]) + "; 1 block(s) of points measured again"
    unknown = quietness([reading(0.0, load=None, steal=None), reading(-0.02, steal=None)], 2, 0)
    assert unknown["quiet"] and not unknown["steal_readable"]


def test_the_real_task_sorts_the_same_numbers_and_a_reading_names_it():
    task = calibration_task(1000)
    first, second = task(), task()
    assert np.array_equal(first, second) and np.all(np.diff(first) >= 0)
    calibrator = Calibrator(task=task)
    reading = calibrator.calibrate("before")
    assert reading["duration_s"] > 0 and reading["drift"] == 0
    summary = quietness(calibrator.readings + [calibrator.calibrate("after")], cpu_count=2)
    assert summary["calibration_task"] == CALIBRATION_TASK and "remeasured_blocks" not in summary


# --- the training record's evidence (record schema 7) -------------------------------------------------------------


def test_a_training_record_of_schema_7_stores_one_calibration_before_and_one_after_each_run():
    from helpers import valid_record

    from convcarbon.training.measure.schema import record_problem

    record = valid_record()
    assert record["schema_version"] == 7 and record_problem(record) is None
    missing = valid_record()
    missing.pop("quietness")
    assert "stores no evidence of how quiet" in record_problem(missing)
    short = valid_record()
    short["quietness"]["calibrations"].pop(1)
    assert "one calibration before the training and one after each" in record_problem(short)
    unordered = valid_record()
    unordered["quietness"]["calibrations"][0]["position"] = "between"
    assert "from before the training to after it" in record_problem(unordered)
    old = valid_record()
    old["schema_version"] = 6
    assert "quietness evidence, which schema 6 lacks" in record_problem(old)
    old.pop("quietness")
    assert record_problem(old) is None


@pytest.mark.parametrize("field", ["summary", "calibration_task"])
@pytest.mark.parametrize("hostile", ["\x1b[31mquiet", "quiet\u202e", "quiet\x85"])
def test_the_phrases_of_a_record_hold_no_control_character(field, hostile):
    from helpers import valid_record

    from convcarbon.training.measure.schema import record_problem

    record = valid_record()
    record["quietness"][field] = hostile
    assert "control character" in record_problem(record)


def test_the_report_and_the_page_say_how_quiet_the_machine_was_or_that_no_record_says():
    from helpers import valid_record

    from convcarbon.training.analyze.report import provenance_lines, quietness_phrase

    record = valid_record()
    assert quietness_phrase(record) == record["quietness"]["summary"]
    assert f"machine while training: {record['quietness']['summary']}" in provenance_lines(record)
    record.pop("quietness")
    record["schema_version"] = 6
    assert quietness_phrase(record) == "not recorded (record schema 6 stores no such evidence)"


def test_an_atlas_whose_drifted_blocks_were_measured_again_within_the_bound_is_quiet_and_says_so():
    def reading(drift):
        return {"position": "between", "duration_s": 1.0, "drift": drift, "load_average_1m": 0.2, "steal_fraction": 0}

    readings = [reading(0.0), reading(0.22), reading(0.01), reading(0.0)]
    resolved = quietness(readings, cpu_count=2, remeasured_blocks=1, kept_drifts=[0.01, 0.0])
    assert resolved["quiet"] and resolved["max_drift"] == pytest.approx(0.22)
    assert resolved["summary"] == (
        "quiet: 4 calibrations; 1 block(s) of points measured again after the calibration drifted by up to +22%, "
        f"then kept within {MAX_DRIFT:.0%} of the first"
    )
    kept = quietness(readings, cpu_count=2, remeasured_blocks=1, kept_drifts=[0.22, 0.0])
    assert not kept["quiet"]
    assert kept["reasons"] == [f"the calibration drifted by up to +22% while points were kept (bound {MAX_DRIFT:.0%})"]
    training = quietness(readings, cpu_count=2)  # nothing is measured again: every reading counts
    assert not training["quiet"] and "remeasured_blocks" not in training
