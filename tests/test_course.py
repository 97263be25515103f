"""The checked exercises (`course.checks`) and the instructor's grading (`course.grade`, `python -m convcarbon grade`):
each check with a right, a wrong and a hostile answer; a folder of good, bad and hostile hand-ins."""

import csv
import io
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import HOSTILE, REPO_ROOT, valid_record
from synthetic import THIRD_LAYER, THIRD_LAYER_DEPTHWISE, THIRD_LAYER_STANDARD, saving_record

from convcarbon import cli
from convcarbon.course import checks, grade

ATLAS_RECORD = REPO_ROOT / "book" / "records" / "atlas-seed-26218680eb6f85bb" / "record.json"
ANSI = "\x1b[31mred\x1b[0m\x1b]8;;http://x\x07"
# Answers no check may echo: markup, terminal escapes, huge and non-finite numbers, wrong types.
HOSTILE_ANSWERS = [HOSTILE, ANSI, 10**400, math.nan, math.inf, -5, True, ["1"], {"a": 1}, 1.5]
HOSTILE_NAME = '=HYPERLINK("x")\x1b[31mred\x1b[0m\x07<b>'  # a folder name: anything but a slash
BEFORE_THE_ATLAS = BEFORE_MEASURING = "2025-06-01T00:00:00+00:00"  # before the atlas and the synthetic records
# The separable model's conv_2 by hand: 13x13x32 in, 11x11 out; depthwise 121*9*32, pointwise 121*32*64.
SEPARABLE_CONV_2 = 121 * 9 * 32 + 121 * 32 * 64
STANDARD_CONV_2 = 121 * 9 * 32 * 64


def assert_inert(result: checks.CheckResult) -> None:
    """Nothing of a hostile answer in the feedback: no markup, no escape, no number from it."""
    text = result.text()
    assert not result.passed
    assert "<" not in text and "\x1b" not in text and "\x07" not in text and "**" not in text
    assert "1" * 40 not in text and "nan" not in text.lower().replace("not a finite number (nan", "")


@pytest.fixture(scope="module")
def atlas_record():
    return json.loads(ATLAS_RECORD.read_text())


@pytest.fixture
def energy_record():
    return saving_record()


# --- the multiplications of a layer ----------------------------------------------------------------------------
def test_multiplications_right():
    result = checks.check_multiplications(THIRD_LAYER)
    assert result.passed and result.summary == "right"
    assert "costs.md" in result.text() and "chapter-costs" in result.text()
    book_conv_2 = dict(height=13, width=13, channels=32, filters=64, kernel_size=3)
    assert checks.check_multiplications(SEPARABLE_CONV_2, kind="separable", **book_conv_2).passed
    assert checks.check_multiplications(STANDARD_CONV_2, kind="standard", **book_conv_2).passed


def test_multiplications_wrong_says_how_far_not_where():
    result = checks.check_multiplications(THIRD_LAYER_DEPTHWISE)
    assert not result.passed
    assert result.summary == "93% too low"  # 5,184 against 78,912
    assert "depthwise part alone" in result.text()
    assert f"{THIRD_LAYER:,}" not in result.text() and str(THIRD_LAYER) not in result.text()
    standard = checks.check_multiplications(THIRD_LAYER_STANDARD)
    assert "standard layer of the same shape" in standard.text()
    assert checks.check_multiplications(THIRD_LAYER + 1).summary == "less than 0.1% too high"


@pytest.mark.parametrize("answer", HOSTILE_ANSWERS + [None])
def test_multiplications_hostile(answer):
    result = checks.check_multiplications(answer)
    assert_inert(result)
    assert result.summary == "no valid answer"


def test_multiplications_of_an_unknown_kind_is_a_value_error():
    with pytest.raises(ValueError, match="kind"):
        checks.check_multiplications(1, kind="dense", height=5, width=5, channels=1, filters=1, kernel_size=3)


# --- the crossover, predicted before the atlas -----------------------------------------------------------------
def test_measured_crossover_is_the_atlas_s_own_with_its_interval(atlas_record):
    from convcarbon.atlas.analyze.analysis import crossover_frame

    frame = crossover_frame(atlas_record)
    row = frame[(frame["kernel"] == 3) & (frame["batch"] == 32) & (frame["pass"] == "training")].iloc[0]
    measured = checks.measured_crossover(atlas_record, 3, 32, "training")
    assert measured == row["crossover"] and measured.kind == "between"  # 16 to 512 channels in this atlas
    assert checks.measured_crossover(atlas_record, 4, 32, "training") is None


def test_crossover_right_and_wrong(atlas_record):
    measured = checks.measured_crossover(atlas_record, 3, 32, "training")
    right = checks.check_crossover(
        checks.Prediction(measured.high_channels, 3, "training", None, BEFORE_THE_ATLAS), atlas_record
    )
    assert right.passed and f"measured: {measured.text()}" in right.text()
    low = checks.check_crossover(
        checks.Prediction(measured.low_channels, 3, "training", None, BEFORE_THE_ATLAS), atlas_record
    )
    assert not low.passed and low.summary == "too low"
    high = checks.check_crossover(
        checks.Prediction(measured.high_channels + 1, 3, "training", None, BEFORE_THE_ATLAS), atlas_record
    )
    assert high.summary == "too high"
    never = checks.check_crossover(checks.Prediction(None, 3, "training", None, BEFORE_THE_ATLAS), atlas_record)
    assert not never.passed and never.summary == f"it paid, {measured.text()}"
    assert "atlas.md" in never.text()


def test_an_unresolved_crossover_checks_nothing(atlas_record):
    """Where a ratio's interval straddles 1 where it would decide, no prediction is right or wrong."""
    measured = checks.measured_crossover(atlas_record, 7, 32, "training")
    assert measured.kind == "not resolved"
    result = checks.check_crossover(checks.Prediction(64, 7, "training", None, BEFORE_THE_ATLAS), atlas_record)
    assert not result.passed and result.summary == "not resolved" and "cannot check" in result.text()


def test_never_is_any_count_above_the_grid():
    from convcarbon.atlas.analyze.analysis import Crossover

    never = Crossover("never", low_channels=512)
    assert checks._within(None, never) and checks._within(1024, never) and not checks._within(512, never)
    measured = Crossover("between", low_channels=128, high_channels=256)
    assert checks._within(129, measured) and checks._within(256, measured)
    assert not checks._within(128, measured) and not checks._within(None, measured)
    assert checks._within(64, Crossover("not resolved")) is None


def test_a_crossover_predicted_after_the_atlas_does_not_count(atlas_record):
    measured = checks.measured_crossover(atlas_record, 3, 32, "training")
    now = checks.predict_crossover(measured.high_channels)  # dated now, after the committed atlas
    result = checks.check_crossover(now, atlas_record)
    assert not result.passed and result.summary == "predicted after measuring"
    assert measured.text() not in result.text()  # the measurement is not revealed


@pytest.mark.parametrize("prediction", [HOSTILE, ANSI, 64, None, {"channels": 64}])
def test_crossover_hostile_prediction(atlas_record, prediction):
    result = checks.check_crossover(prediction, atlas_record)
    assert_inert(result)
    assert result.summary == "no prediction"


def test_crossover_undated_prediction(atlas_record):
    result = checks.check_crossover(checks.Prediction(64, 3, "training", None, HOSTILE), atlas_record)
    assert_inert(result)
    assert result.summary == "undated"


@pytest.mark.parametrize("channels", [HOSTILE, math.nan, 10**400, True, 1.5])
def test_predict_crossover_refuses_what_is_not_a_count(channels):
    with pytest.raises(ValueError, match="channels"):
        checks.predict_crossover(channels)


def test_predict_crossover_refuses_an_unknown_pass():
    with pytest.raises(ValueError, match="pass_name"):
        checks.predict_crossover(64, pass_name="backward")


# --- the break-even, predicted before measuring -----------------------------------------------------------------
def break_even(predictions, made_utc=BEFORE_MEASURING):
    return checks.BreakEvenPrediction(predictions, "Conv2D", 1, made_utc)


def test_break_even_right(energy_record):
    by_hand = 0.011 / 1e-8  # median training energy over energy per prediction: 1,100,000
    result = checks.check_break_even(break_even(by_hand * 1.9), energy_record)
    assert result.passed and "measured: 1,100,000" in result.text()  # measured: shown once predicted
    assert checks.check_break_even(break_even(by_hand / 1.9), energy_record).passed


def test_break_even_wrong_says_how_far(energy_record):
    result = checks.check_break_even(break_even(5_500_000), energy_record)
    assert not result.passed and result.summary == "5.0 times too high"
    assert "ethics.md" in result.text()
    assert checks.check_break_even(break_even(100_000), energy_record).summary == "11 times too low"


def test_a_break_even_predicted_after_measuring_does_not_count(energy_record):
    result = checks.check_break_even(checks.predict_break_even(1_100_000), energy_record)
    assert not result.passed and result.summary == "predicted after measuring"
    assert "1,100,000" not in result.text()


@pytest.mark.parametrize("prediction", [HOSTILE, ANSI, 1_100_000, None, {"predictions": 1}])
def test_break_even_hostile_prediction(energy_record, prediction):
    result = checks.check_break_even(prediction, energy_record)
    assert_inert(result)
    assert result.summary == "no prediction"


@pytest.mark.parametrize("predictions", [HOSTILE, ANSI, math.nan, math.inf, 10**400, -1, True, ["1"]])
def test_predict_break_even_refuses_what_is_not_a_count(predictions):
    with pytest.raises(ValueError, match="predictions"):
        checks.predict_break_even(predictions)


def test_break_even_undated_and_unmeasured(energy_record):
    assert checks.check_break_even(break_even(1_100_000, HOSTILE), energy_record).summary == "undated"
    result = checks.check_break_even(break_even(1000), valid_record())
    assert not result.passed and result.summary == "not in this record"


# --- the energy ratio's interval --------------------------------------------------------------------------------
def test_energy_reading_right_and_wrong(energy_record):
    assert checks.check_energy_reading("saved", energy_record).passed
    wrong = checks.check_energy_reading("no saving shown", energy_record)
    assert not wrong.passed and "reads 'saved'" in wrong.text() and "results.md" in wrong.text()


@pytest.mark.parametrize("answer", HOSTILE_ANSWERS + [None, "Saved", "saved "])
def test_energy_reading_hostile(energy_record, answer):
    result = checks.check_energy_reading(answer, energy_record)
    assert_inert(result)
    assert result.summary == "no valid answer"


def test_each_check_names_a_section_that_the_chapter_has():
    for section in checks.SECTIONS.values():
        chapter = (REPO_ROOT / "book" / section.chapter_file).read_text()
        assert f"({section.chapter_label})=" in chapter
        assert re.search(rf"^##+ {re.escape(section.heading)}$", chapter, re.MULTILINE), section


# --- grading a folder of hand-ins --------------------------------------------------------------------------------
def hand_in(root: Path, name: str, answers, record=None, atlas=None) -> Path:
    folder = root / name
    folder.mkdir()
    if answers is not None:
        (folder / "answers.json").write_text(answers if isinstance(answers, str) else json.dumps(answers))
    if record is not None:
        (folder / "record.json").write_text(record if isinstance(record, str) else json.dumps(record))
    if atlas is not None:
        (folder / "atlas").mkdir()
        (folder / "atlas" / "record.json").write_text(atlas)
    return folder


@pytest.fixture
def class_folder(tmp_path, atlas_record, energy_record):
    root = tmp_path / "handins"
    root.mkdir()
    measured = checks.measured_crossover(atlas_record, 3, 32, "training")
    right = {
        "multiplications": THIRD_LAYER,
        "crossover": {"channels": measured.high_channels, "predicted_utc": BEFORE_THE_ATLAS},
        "break_even": {"predictions": 1_000_000, "predicted_utc": BEFORE_MEASURING},
        "energy_reading": "saved",
    }
    atlas_text = ATLAS_RECORD.read_text()
    hand_in(root, "ada", right, energy_record, atlas_text)
    hand_in(root, "bob", {"multiplications": THIRD_LAYER_DEPTHWISE, "energy_reading": "no saving shown"}, energy_record)
    hand_in(root, "cy", "{not json")
    hand_in(root, "dee", {"multiplications": THIRD_LAYER, HOSTILE: 1})
    hand_in(root, HOSTILE_NAME, {"energy_reading": HOSTILE})
    hand_in(root, "eve", {"multiplications": 10**400})
    hand_in(root, "fay", {**right}, {**energy_record, "profile": HOSTILE}, atlas_text.replace("2026", "2090"))
    hand_in(root, "gus", None, energy_record)
    os.symlink(root / "ada" / "answers.json", hand_in(root, "hal", None) / "answers.json")
    (root / "loose.json").write_text("{}")
    os.symlink(root / "ada", root / "link")
    (root / ".DS_Store").write_text("")
    return root


def test_grade_folder_one_row_per_hand_in(class_folder):
    rows = {row["hand-in"]: row for row in grade.grade_folder(class_folder)}
    assert len(rows) == 11  # every entry but the hidden one
    assert rows["hal"]["problem"] == "answers.json is a symbolic link, which is refused"
    ada = rows["ada"]
    assert [ada[exercise] for exercise in checks.EXERCISES] == ["right"] * 4 and ada["right"] == "4 of 4"
    bob = rows["bob"]
    assert bob["multiplications"] == "93% too low" and bob["crossover"] == "not answered"
    assert bob["energy_reading"] == "not 'no saving shown'" and bob["right"] == "0 of 4"
    assert "not readable JSON" in rows["cy"]["problem"] and rows["cy"]["right"] == ""
    assert "does not match the answers' schema" in rows["dee"]["problem"]
    assert "does not match the answers' schema" in rows["eve"]["problem"]
    fay = rows["fay"]
    assert "record.json:" in fay["problem"] and "atlas/record.json:" in fay["problem"]
    assert fay["break_even"] == "no usable record" and fay["crossover"] == "no usable atlas"
    assert fay["multiplications"] == "right"
    assert rows["gus"]["problem"] == "no answers.json" and rows["gus"]["right"] == ""
    assert "symbolic link" in rows["link"]["problem"] and "not a folder" in rows["loose.json"]["problem"]


def test_grade_text_and_csv_are_inert(class_folder):
    rows = grade.grade_folder(class_folder)
    for output in (grade.format_text(rows), grade.format_csv(rows)):
        # Markup is plain text on a terminal and in a spreadsheet; what must not pass is what a terminal runs.
        assert all(character.isprintable() for line in output.splitlines() for character in line)
    table = list(csv.DictReader(io.StringIO(grade.format_csv(rows))))
    assert len(table) == 11 and tuple(table[0]) == grade.COLUMNS
    hostile_name = next(row["hand-in"] for row in table if "HYPERLINK" in row["hand-in"])
    assert hostile_name.startswith("'=")  # a spreadsheet shows it, never runs it


def test_grade_command(class_folder, capsys):
    assert cli.main(["grade", str(class_folder), "--csv"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == ",".join(grade.COLUMNS) and len(out.splitlines()) == 12
    assert cli.main(["grade", str(class_folder)]) == 0
    assert "4 of 4" in capsys.readouterr().out


def test_grade_trains_nothing_and_loads_no_keras(class_folder):
    script = "import sys; from convcarbon import cli; cli.main(['grade', sys.argv[1]]); print(sorted(sys.modules))"
    completed = subprocess.run(
        [sys.executable, "-c", script, str(class_folder)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")},
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    modules = completed.stdout.splitlines()[-1]
    assert "'keras'" not in modules and "'tensorflow'" not in modules


def test_grade_command_without_a_folder(tmp_path, capsys):
    assert cli.main(["grade", str(tmp_path / "missing")]) == cli.EXIT_ERROR
    assert "no folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert cli.main(["grade", str(tmp_path / "empty")]) == cli.EXIT_ERROR
    assert "no hand-in" in capsys.readouterr().err


def test_a_prediction_s_answer_is_what_the_answers_schema_takes():
    answers = {
        "crossover": checks.predict_crossover(64).answer(),
        "break_even": checks.predict_break_even(123_456.7).answer(),
    }
    assert grade.answers_problem(json.loads(json.dumps(answers))) is None
    assert checks.prediction_from_answer(answers["crossover"]).channels == 64
    assert checks.break_even_from_answer(answers["break_even"]).predictions == 123_456.7


def test_answers_schema_is_strict():
    assert grade.answers_problem({}) is None
    assert grade.answers_problem({"multiplications": 1.5})
    assert grade.answers_problem({"crossover": {"channels": 64}})  # undated
    assert grade.answers_problem({"crossover": {"channels": 64, "predicted_utc": "yesterday"}})
    assert grade.answers_problem({"energy_reading": "saved", "notes": "x"})
    assert grade.answers_problem([]) and grade.answers_problem("saved")
    assert HOSTILE not in (grade.answers_problem({HOSTILE: HOSTILE}) or "")
