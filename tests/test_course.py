"""The checked exercises (`course.checks`) and the instructor's grading (`course.grade`, `python -m convcarbon grade`):
each check with a right, a wrong and a hostile answer; a folder of good, bad and hostile hand-ins."""

import csv
import io
import json
import math
import os
import re
from pathlib import Path

import pytest
from helpers import HOSTILE, REPO_ROOT, valid_record
from synthetic import paired_record, with_inference

from convcarbon import cli
from convcarbon.course import checks, grade

ATLAS_RECORD = REPO_ROOT / "book" / "records" / "atlas-seed-26218680eb6f85bb" / "record.json"
ANSI = "\x1b[31mred\x1b[0m\x1b]8;;http://x\x07"
# Answers no check may echo: markup, terminal escapes, huge and non-finite numbers, wrong types.
HOSTILE_ANSWERS = [HOSTILE, ANSI, 10**400, math.nan, math.inf, -5, True, ["1"], {"a": 1}, 1.5]
HOSTILE_NAME = '=HYPERLINK("x")\x1b[31mred\x1b[0m\x07<b>'  # a folder name: anything but a slash
BEFORE_THE_ATLAS = "2026-01-01T00:00:00+00:00"
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
    """Three runs per model, the separable model's energy clearly below: the interval lies below 1.
    Each prediction at batch 1 costs 1e-8 kWh; the standard model's median training run 0.011 kWh."""
    return with_inference(paired_record([0.010, 0.011, 0.012], [0.005, 0.0055, 0.006]))


# --- the multiplications of a layer ----------------------------------------------------------------------------
def test_multiplications_right():
    result = checks.check_multiplications(SEPARABLE_CONV_2, "separable", "conv_2")
    assert result.passed and result.summary == "right"
    assert checks.check_multiplications(STANDARD_CONV_2, "conv2d", "conv_2").passed
    assert "costs.md" in result.text() and "chapter-costs" in result.text()


def test_multiplications_wrong_says_how_far_not_where():
    depthwise_only = 121 * 9 * 32
    result = checks.check_multiplications(depthwise_only, "separable", "conv_2")
    assert not result.passed
    assert result.summary == "88% too low"  # 34,848 against 282,656
    assert "depthwise part alone" in result.text()
    assert f"{SEPARABLE_CONV_2:,}" not in result.text() and str(SEPARABLE_CONV_2) not in result.text()
    standard = checks.check_multiplications(STANDARD_CONV_2, "separable", "conv_2")
    assert "same layer in the Conv2D model" in standard.text()
    assert checks.check_multiplications(SEPARABLE_CONV_2 + 1, "separable", "conv_2").summary == (
        "less than 0.1% too high"
    )


@pytest.mark.parametrize("answer", HOSTILE_ANSWERS + [None])
def test_multiplications_hostile(answer):
    result = checks.check_multiplications(answer, "separable", "conv_2")
    assert_inert(result)
    assert result.summary == "no valid answer"


def test_multiplications_of_an_unknown_layer_is_a_value_error():
    with pytest.raises(ValueError, match="no layer"):
        checks.check_multiplications(1, "separable", "conv_9")
    with pytest.raises(ValueError, match="unknown architecture"):
        checks.check_multiplications(1, "dense", "conv_1")


# --- the crossover, predicted before the atlas -----------------------------------------------------------------
def test_measured_crossover_is_the_atlas_s_own_with_the_grid_step_as_interval(atlas_record):
    from convcarbon.analyze.atlas import crossover_frame

    frame = crossover_frame(atlas_record)
    row = frame[(frame["kernel"] == 3) & (frame["batch"] == 32) & (frame["pass"] == "training")].iloc[0]
    measured = checks.measured_crossover(atlas_record, 3, 32, "training")
    assert measured.channels == row["crossover_channels"] == measured.high_channels
    grid = sorted({level[0] for level in atlas_record["config"]["channel_levels"]})
    assert measured.low_channels == grid[grid.index(measured.channels) - 1]
    assert checks.measured_crossover(atlas_record, 4, 32, "training") is None


def test_crossover_right_and_wrong(atlas_record):
    measured = checks.measured_crossover(atlas_record, 3, 32, "training")
    right = checks.check_crossover(
        checks.Prediction(measured.channels, 3, "training", None, BEFORE_THE_ATLAS), atlas_record
    )
    assert right.passed and f"measured: {measured.channels} channels" in right.text()
    low = checks.check_crossover(
        checks.Prediction(measured.low_channels, 3, "training", None, BEFORE_THE_ATLAS), atlas_record
    )
    assert not low.passed and low.summary == "too low"
    high = checks.check_crossover(
        checks.Prediction(measured.channels + 1, 3, "training", None, BEFORE_THE_ATLAS), atlas_record
    )
    assert high.summary == "too high"
    never = checks.check_crossover(checks.Prediction(None, 3, "training", None, BEFORE_THE_ATLAS), atlas_record)
    assert not never.passed and never.summary == f"it paid from {measured.channels} channels"
    assert "atlas.md" in never.text()


def test_a_crossover_predicted_after_the_atlas_does_not_count(atlas_record):
    measured = checks.measured_crossover(atlas_record, 3, 32, "training")
    now = checks.predict_crossover(measured.channels)  # dated now, after the committed atlas
    result = checks.check_crossover(now, atlas_record)
    assert not result.passed and result.summary == "predicted after measuring"
    assert f"{measured.channels} channels" not in result.text()  # the measurement is not revealed


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


# --- the break-even ---------------------------------------------------------------------------------------------
def test_break_even_right(energy_record):
    by_hand = 0.011 / 1e-8  # median training energy over energy per prediction
    assert checks.check_break_even(by_hand, energy_record).passed
    assert checks.check_break_even(round(by_hand, -4) * 1.01, energy_record).passed  # computed from rounded numbers


def test_break_even_wrong_says_how_far_not_where(energy_record):
    result = checks.check_break_even(2_000_000, energy_record)
    assert not result.passed and result.summary == "82% too high"
    assert "1,100,000" not in result.text() and "1100000" not in result.text()
    assert "ethics.md" in result.text()


@pytest.mark.parametrize("answer", [answer for answer in HOSTILE_ANSWERS if answer != 1.5])  # 1.5: a count here
def test_break_even_hostile(energy_record, answer):
    assert_inert(checks.check_break_even(answer, energy_record))


def test_break_even_without_predictions_measured():
    result = checks.check_break_even(1000, valid_record())
    assert not result.passed and result.summary == "no predictions measured"


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
        "multiplications": SEPARABLE_CONV_2,
        "crossover": {"channels": measured.channels, "predicted_utc": BEFORE_THE_ATLAS},
        "break_even": 1_100_000,
        "energy_reading": "saved",
    }
    atlas_text = ATLAS_RECORD.read_text()
    hand_in(root, "ada", right, energy_record, atlas_text)
    hand_in(root, "bob", {"multiplications": 34_848, "energy_reading": "no saving shown"}, energy_record)
    hand_in(root, "cy", "{not json")
    hand_in(root, "dee", {"multiplications": SEPARABLE_CONV_2, HOSTILE: 1})
    hand_in(root, HOSTILE_NAME, {"energy_reading": HOSTILE})
    hand_in(root, "eve", {"multiplications": 10**400})
    hand_in(root, "fay", {**right}, {**energy_record, "profile": HOSTILE}, atlas_text.replace("2026", "2090"))
    (root / "loose.json").write_text("{}")
    os.symlink(root / "ada", root / "link")
    (root / ".DS_Store").write_text("")
    return root


def test_grade_folder_one_row_per_hand_in(class_folder):
    rows = {row["hand-in"]: row for row in grade.grade_folder(class_folder)}
    assert len(rows) == 9  # every entry but the hidden one
    ada = rows["ada"]
    assert [ada[exercise] for exercise in checks.EXERCISES] == ["right"] * 4 and ada["right"] == "4 of 4"
    bob = rows["bob"]
    assert bob["multiplications"] == "88% too low" and bob["crossover"] == "not answered"
    assert bob["energy_reading"] == "not 'no saving shown'" and bob["right"] == "0 of 4"
    assert "not readable JSON" in rows["cy"]["problem"] and rows["cy"]["right"] == ""
    assert "does not match the answers' schema" in rows["dee"]["problem"]
    assert "does not match the answers' schema" in rows["eve"]["problem"]
    fay = rows["fay"]
    assert "record.json:" in fay["problem"] and "atlas/record.json:" in fay["problem"]
    assert fay["break_even"] == "no usable record" and fay["crossover"] == "no usable atlas"
    assert fay["multiplications"] == "right"
    assert "symbolic link" in rows["link"]["problem"] and "not a folder" in rows["loose.json"]["problem"]


def test_grade_text_and_csv_are_inert(class_folder):
    rows = grade.grade_folder(class_folder)
    for output in (grade.format_text(rows), grade.format_csv(rows)):
        # Markup is plain text on a terminal and in a spreadsheet; what must not pass is what a terminal runs.
        assert all(character.isprintable() for line in output.splitlines() for character in line)
    table = list(csv.DictReader(io.StringIO(grade.format_csv(rows))))
    assert len(table) == 9 and tuple(table[0]) == grade.COLUMNS
    hostile_name = next(row["hand-in"] for row in table if "HYPERLINK" in row["hand-in"])
    assert hostile_name.startswith("'=")  # a spreadsheet shows it, never runs it


def test_grade_command(class_folder, capsys):
    assert cli.main(["grade", str(class_folder), "--csv"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == ",".join(grade.COLUMNS) and len(out.splitlines()) == 10
    assert cli.main(["grade", str(class_folder)]) == 0
    assert "4 of 4" in capsys.readouterr().out


def test_grade_command_without_a_folder(tmp_path, capsys):
    assert cli.main(["grade", str(tmp_path / "missing")]) == cli.EXIT_ERROR
    assert "no folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert cli.main(["grade", str(tmp_path / "empty")]) == cli.EXIT_ERROR
    assert "no hand-in" in capsys.readouterr().err


def test_answers_schema_is_strict():
    assert grade.answers_problem({}) is None
    assert grade.answers_problem({"multiplications": 1.5})
    assert grade.answers_problem({"crossover": {"channels": 64}})  # undated
    assert grade.answers_problem({"crossover": {"channels": 64, "predicted_utc": "yesterday"}})
    assert grade.answers_problem({"energy_reading": "saved", "notes": "x"})
    assert grade.answers_problem([]) and grade.answers_problem("saved")
    assert HOSTILE not in (grade.answers_problem({HOSTILE: HOSTILE}) or "")
