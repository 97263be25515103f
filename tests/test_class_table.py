"""`report --class-table DIR`: records handed in by students, each file untrusted."""

import csv
import io
import json
import os

import pytest
from matplotlib.collections import LineCollection, PathCollection
from synthetic import make_atlas, make_record, make_run, paired_record

from convcarbon.cli import main
from convcarbon.course import classtable
from convcarbon.training.measure.schema import MAX_RECORD_BYTES


def run_cli(capsys, *arguments):
    code = main(list(arguments))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def hand_in(folder, name, content):
    """Write `content` (a record, or raw text) as a loose file, or as `name/record.json` if `name` has no suffix."""
    path = folder / name / "record.json" if "." not in name else folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


SAVED = dict(standard_energies=[0.010, 0.011, 0.012], separable_energies=[0.006, 0.0065, 0.007])


@pytest.fixture
def class_folder(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    hand_in(folder, "alice", paired_record(**SAVED, cpu="CPU A"))
    hand_in(
        folder,
        "bob.json",
        paired_record(
            [0.01, 0.011], [0.0105, 0.0112], cpu="Colab CPU", gpus=["Tesla T4"], backend="jax", profile="quick"
        ),
    )
    return folder


def test_both_layouts_give_one_row_each(capsys, class_folder):
    code, out, err = run_cli(capsys, "report", "--class-table", str(class_folder))
    assert code == 0 and err == ""
    header, alice, bob = out.splitlines()
    assert header.split()[:2] == ["record", "backend"] and header.split()[-1] == "machine"
    assert alice.startswith("alice ") and "full" in alice and "tensorflow" in alice
    assert "0.59 (" in alice and " saved energy " in alice  # 0.0065 / 0.011, the whole interval below 1
    assert alice.endswith("24.0 GB RAM")
    assert bob.startswith("bob.json ") and bob.endswith("+ Tesla T4 (80.0 GB, driver 570.1)")
    assert "jax" in bob and "quick" in bob
    assert " too few runs for a verdict " in bob  # two runs per model give an interval but no verdict


def test_csv_and_json_carry_the_same_rows(capsys, class_folder):
    _, out, _ = run_cli(capsys, "report", "--class-table", str(class_folder), "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["record"] for row in rows] == ["alice", "bob.json"]
    assert rows[0]["runs per model"] == "3" and rows[1]["runs per model"] == "2"
    _, out, _ = run_cli(capsys, "report", "--class-table", str(class_folder), "--json")
    assert json.loads(out) == rows


def test_profile_filter(capsys, class_folder):
    _, out, _ = run_cli(capsys, "report", "--class-table", str(class_folder), "--profile", "quick", "--csv")
    assert [row["record"] for row in csv.DictReader(io.StringIO(out))] == ["bob.json"]
    code, _, err = run_cli(capsys, "report", "--class-table", str(class_folder), "--profile", "smoke")
    assert code == 1 and "no usable record of profile smoke" in err


def test_a_hand_in_of_the_old_profile_name_seed_is_a_full_record(capsys, class_folder):
    """A record made before `seed` was renamed `full` is shown under its stored name and chosen by either name."""
    hand_in(class_folder, "carol", paired_record(**SAVED, cpu="CPU C", profile="seed", fingerprint="cd" * 32))
    for name in ("full", "seed"):
        _, out, _ = run_cli(capsys, "report", "--class-table", str(class_folder), "--profile", name, "--csv")
        rows = list(csv.DictReader(io.StringIO(out)))
        assert [(row["record"], row["profile"]) for row in rows] == [("alice", "full"), ("carol", "seed")]


def test_every_bad_entry_is_skipped_with_one_line_naming_it(capsys, class_folder, tmp_path):
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps(paired_record(**SAVED)))
    (class_folder / "link.json").symlink_to(outside)
    (class_folder / "linked-folder").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere").mkdir()
    hand_in(tmp_path / "elsewhere", "record.json", paired_record(**SAVED))
    hand_in(class_folder, "broken.json", '{"schema_version": 3, "runs": [')
    hand_in(class_folder, "list.json", "[1, 2]")
    hand_in(class_folder, "deep.json", "[" * 100_000)
    hand_in(class_folder, "old.json", {**paired_record(**SAVED), "schema_version": 1})
    hand_in(class_folder, "huge.json", " " * (MAX_RECORD_BYTES + 1))
    hand_in(class_folder, "notes.txt", "my results were great")
    hand_in(class_folder, "half.json", {"schema_version": paired_record(**SAVED)["schema_version"]})
    (class_folder / "empty-folder").mkdir()
    os.mkfifo(class_folder / "pipe.json")  # would block a reader that opened it plainly
    hand_in(class_folder, ".DS_Store", "finder state")  # hidden: passed over silently

    code, out, err = run_cli(capsys, "report", "--class-table", str(class_folder))

    assert code == 0
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["alice", "bob.json"]
    reasons = dict(line.removeprefix("convcarbon: skipped ").split(": ", 1) for line in err.splitlines())
    assert set(reasons) == {
        "link.json",
        "linked-folder",
        "broken.json",
        "list.json",
        "deep.json",
        "old.json",
        "huge.json",
        "notes.txt",
        "half.json",
        "empty-folder",
        "pipe.json",
    }
    assert "symbolic link" in reasons["link.json"] and "symbolic link" in reasons["linked-folder"]
    assert "not readable JSON" in reasons["broken.json"] and "not readable JSON" in reasons["deep.json"]
    assert "does not hold an object" in reasons["list.json"]
    assert "schema 1" in reasons["old.json"]
    assert "larger than 5 MB" in reasons["huge.json"]
    assert "neither a .json file" in reasons["notes.txt"]
    assert "does not match the record schema" in reasons["half.json"]
    assert "no record.json" in reasons["empty-folder"]
    assert "not a regular file" in reasons["pipe.json"]


def test_a_record_whose_runs_do_not_match_its_configuration_is_skipped(capsys, tmp_path):
    only_separable = make_record([make_run("SeparableConv2D", repeat) for repeat in range(3)])
    hand_in(tmp_path, "one-model.json", only_separable)
    code, out, err = run_cli(capsys, "report", "--class-table", str(tmp_path))
    assert code == 1 and out == ""
    first, last = err.splitlines()
    assert first.startswith("convcarbon: skipped one-model.json: ") and "run(s) of Conv2D" in first
    assert last == f"convcarbon: error: no usable record in {tmp_path}"


def test_hostile_strings_reach_the_terminal_inert(capsys, tmp_path):
    hostile = "\x1b[2J\x1b]0;owned\x07CPU\nwith a new line\u202e"
    hand_in(tmp_path, "eve" + hostile, paired_record(**SAVED, backend='=HYPERLINK("x")'))  # eve.../record.json
    hand_in(tmp_path, "mallory.json", paired_record(**SAVED, cpu=hostile))  # a name with controls: refused
    hand_in(tmp_path, "\x1b[31mred.json", "{}")
    _, out, err = run_cli(capsys, "report", "--class-table", str(tmp_path))
    for text in (out, err):
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert len(out.splitlines()) == 2 and "\\x1b[2J\\x1b]0;owned\\x07CPU\\x0awith a new line\\u202e" in out
    assert len(err.splitlines()) == 2 and "skipped \\x1b[31mred.json" in err
    assert "skipped mallory.json: does not match the record schema at hardware/cpu_model" in err
    _, out, _ = run_cli(capsys, "report", "--class-table", str(tmp_path), "--csv")
    (row,) = csv.DictReader(io.StringIO(out))
    assert row["backend"] == '\'=HYPERLINK("x")'  # a spreadsheet shows it, never runs it
    assert row["record"] == "eve\\x1b[2J\\x1b]0;owned\\x07CPU\\x0awith a new line\\u202e"


def test_long_cells_but_the_machine_are_cut_in_the_terminal_table_only(capsys, tmp_path):
    record = paired_record(**SAVED, cpu="x" * 150)
    for run in record["runs"]:
        run.update(gpu_energy_measured=True, gpu_tracking_method="measured: " + "y" * 150)
    hand_in(tmp_path, "long.json", record)
    _, out, _ = run_cli(capsys, "report", "--class-table", str(tmp_path))
    assert "y" * (classtable.CELL_LIMIT - 1) not in out and "y…" in out
    assert "x" * 150 in out
    _, out, _ = run_cli(capsys, "report", "--class-table", str(tmp_path), "--csv")
    assert "y" * 150 in out


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["report", "--class-table", "/nonexistent/class"], "no folder /nonexistent/class"),
        (["report", "--csv"], "--csv prints the class table only"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_1(capsys, arguments, message):
    code, _, err = run_cli(capsys, *arguments)
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1


def test_unreadable_class_folder(capsys, monkeypatch, tmp_path):
    def refuse(path):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("pathlib.Path.iterdir", refuse)  # as for a folder this user may not list
    code, _, err = run_cli(capsys, "report", "--class-table", str(tmp_path))
    assert code == 1 and err.strip() == f"convcarbon: error: cannot read the folder {tmp_path} (Permission denied)"


def test_empty_class_folder(capsys, tmp_path):
    code, _, err = run_cli(capsys, "report", "--class-table", str(tmp_path))
    assert code == 1 and err.strip() == f"convcarbon: error: no usable record in {tmp_path}"


# --- atlas records (`atlas --profile quick` handed in) beside the training records -------------------------------
def hand_in_atlas(folder, name, atlas):
    return hand_in(folder, name, atlas)  # a folder <name>/record.json, as the atlas writes it


def test_an_atlas_stands_beside_the_training_record_of_its_machine(capsys, class_folder):
    hand_in_atlas(class_folder, "atlas-smoke-aaaaaaaaaaaaaaaa", make_atlas(cpu="CPU A"))  # alice's machine
    hand_in_atlas(class_folder, "carol", make_atlas(cpu="CPU C", backend="jax"))  # no training record of it
    code, out, err = run_cli(capsys, "report", "--class-table", str(class_folder), "--csv")
    assert code == 0 and err == ""
    rows = {row["record"] or row["atlas"]: row for row in csv.DictReader(io.StringIO(out))}
    assert list(rows) == ["alice", "bob.json", "carol (smoke)"]
    alice, bob, carol = rows.values()
    assert alice["atlas"] == "atlas-smoke-aaaaaaaaaaaaaaaa (smoke)"
    assert alice["crossover, training"] == "batch 8: 3x3 ≤ 8" and alice["crossover, inference"] == "batch 1: 3x3 8–64"
    assert bob["atlas"] == bob["crossover, training"] == ""  # a GPU machine with no atlas handed in
    assert carol["backend"] == "jax" and carol["verdict"] == carol["energy ratio"] == ""
    assert carol["machine"].startswith("CPU C (family 25") and carol["crossover, inference"] == "batch 1: 3x3 8–64"
    _, text, _ = run_cli(capsys, "report", "--class-table", str(class_folder))
    assert "crossover, training" in text.splitlines()[0] and "batch 1: 3x3 8–64" in text.splitlines()[3]
    _, out, _ = run_cli(capsys, "report", "--class-table", str(class_folder), "--json")
    assert json.loads(out) == list(rows.values())


def test_the_newest_atlas_of_a_machine_is_beside_its_record_and_an_older_one_has_its_own_row(capsys, class_folder):
    hand_in_atlas(class_folder, "alice-atlas-1", make_atlas(cpu="CPU A", created="2026-01-02T00:00:00+00:00"))
    hand_in_atlas(class_folder, "alice-atlas-2", make_atlas(cpu="CPU A", created="2026-01-03T00:00:00+00:00"))
    hand_in_atlas(class_folder, "alice-torch", make_atlas(cpu="CPU A", backend="torch"))  # another backend
    _, out, _ = run_cli(capsys, "report", "--class-table", str(class_folder), "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(row["record"], row["atlas"]) for row in rows] == [
        ("alice", "alice-atlas-2 (smoke)"),
        ("bob.json", ""),
        ("", "alice-atlas-1 (smoke)"),
        ("", "alice-torch (smoke)"),
    ]
    _, out, _ = run_cli(capsys, "report", "--class-table", str(class_folder), "--profile", "smoke", "--csv")
    assert [row["atlas"] for row in csv.DictReader(io.StringIO(out))] == [
        "alice-atlas-1 (smoke)",
        "alice-atlas-2 (smoke)",
        "alice-torch (smoke)",
    ]


def test_a_bad_atlas_is_skipped_by_the_reader_collect_uses(capsys, tmp_path):
    forged = make_atlas()
    forged["points"][0]["macs"] += 1  # a count that does not follow from its shape
    hand_in_atlas(tmp_path, "forged", forged)
    hand_in_atlas(tmp_path, "atlas-smoke-bbbbbbbbbbbbbbbb", "{not json")
    hand_in(tmp_path, "loose.json", make_atlas())
    (tmp_path / "atlas-linked").symlink_to(hand_in_atlas(tmp_path / "elsewhere", "real", make_atlas()).parent)
    hand_in_atlas(tmp_path, "good", make_atlas())
    code, out, err = run_cli(capsys, "report", "--class-table", str(tmp_path))
    assert code == 0 and [line.split()[0] for line in out.splitlines()[1:]] == ["tensorflow"]  # good: no record
    reasons = dict(line.removeprefix("convcarbon: skipped ").split(": ", 1) for line in err.splitlines())
    assert set(reasons) == {"forged", "atlas-smoke-bbbbbbbbbbbbbbbb", "loose.json", "atlas-linked", "elsewhere"}
    assert "counts do not follow from its shape" in reasons["forged"]
    assert "not readable JSON" in reasons["atlas-smoke-bbbbbbbbbbbbbbbb"]
    assert "hand it in as the folder the atlas wrote" in reasons["loose.json"]
    assert "symbolic link" in reasons["atlas-linked"]


def test_hostile_strings_of_an_atlas_reach_the_terminal_and_the_spreadsheet_inert(capsys, tmp_path):
    """A machine name with controls is refused by the schema, and the refusal names the hand-in inertly; a formula
    in a hand-in's name and a backend's name reaches the spreadsheet neutralised."""
    hostile = "\x1b[2J\x1b]0;owned\x07CPU\u202e"
    hand_in_atlas(tmp_path, "\x1b[31mmallory", make_atlas(cpu=hostile))
    hand_in_atlas(tmp_path, "=cmd|' -C calc'!A0", make_atlas(backend="@SUM(1)"))
    _, out, err = run_cli(capsys, "report", "--class-table", str(tmp_path))
    for stream in (out, err):
        assert "\x1b" not in stream and "\x07" not in stream and "\u202e" not in stream
    assert "skipped \\x1b[31mmallory" in err and "no control character" in err
    _, out, _ = run_cli(capsys, "report", "--class-table", str(tmp_path), "--csv")
    (row,) = csv.DictReader(io.StringIO(out))
    assert row["atlas"].startswith("'=cmd") and row["backend"] == "'@SUM(1)"


# --- the class figure (book/instructors.md) ------------------------------------------------------------------------
def slower_separable_training(atlas):
    """The atlas with the separable layer 100 times slower in training: its training crossover is 'never'."""
    for point in atlas["points"]:
        if point["layer"] == "SeparableConv2D" and point["pass"] == "training":
            for field in ("median_s", "low_s", "high_s"):
                point[field] *= 100
    return atlas


def markers(axes):
    return [collection for collection in axes.collections if isinstance(collection, PathCollection)]


def test_the_class_figure_sets_every_atlas_side_by_side():
    from convcarbon.course import class_figure

    atlases = [("alice", make_atlas(cpu="CPU A")), ("$\\alpha$ eve", slower_separable_training(make_atlas(cpu="$x$")))]
    figure = class_figure.class_crossover_figure(atlases)
    training, inference = figure.axes
    assert [axes.get_title() for axes in figure.axes] == ["training, largest batch", "inference, batch 1"]
    labels = [label.get_text() for label in training.get_yticklabels()]
    assert labels[0].startswith("alice\nCPU A") and labels[1].startswith(r"\$\alpha\$ eve")
    assert "tensorflow" in labels[0] and "smoke" in labels[0]
    assert r"\$x\$" in labels[1]  # no mathtext from a record
    never_at = 2 * 64  # twice the smoke grid's largest channel count
    (alice_training,), (eve_training,) = ([c.get_offsets()[0][0]] for c in markers(training))
    assert alice_training == 8 and eve_training == never_at
    assert [c.get_offsets()[0][0] for c in markers(inference)] == [64, 64]
    bars = [c for c in inference.collections if isinstance(c, LineCollection)]  # the interval, 8 to 64 channels
    assert [[tuple(point[0] for point in segment) for segment in bar.get_segments()] for bar in bars] == [[(8, 64)]] * 2
    assert [tick.get_text() for tick in training.get_xticklabels()][-1] == "never"


def test_the_class_figure_without_an_atlas_says_so_and_the_page_glues_the_committed_ones(monkeypatch, tmp_path):
    from helpers import REPO_ROOT

    from convcarbon.atlas.measure.store import scan_atlas_records
    from convcarbon.course import class_figure

    empty = class_figure.class_crossover_figure([])
    assert [text.get_text() for text in empty.axes[0].texts] == ["No valid atlas record to show"]
    glued = {}
    monkeypatch.setattr("myst_nb.glue", lambda name, value, display: glued.update({name: value}))
    records = REPO_ROOT / "book" / "records"
    class_figure.glue_class_atlas(records)
    assert glued["class_atlas_count"] == len(scan_atlas_records(records)[0]) > 0
    assert len(glued["class_crossover_figure"].axes[0].get_yticklabels()) == glued["class_atlas_count"]
    page = (REPO_ROOT / "book" / "instructors.md").read_text()
    assert "{glue:text}`class_atlas_count`" in page and "```{glue:figure} class_crossover_figure" in page


def test_the_instructors_page_shows_the_class_crossover_figure(built_book):
    """The built page: the committed atlases' figure under its caption, and their count glued in the prose."""
    from bs4 import BeautifulSoup

    from convcarbon.atlas.measure.store import scan_atlas_records

    soup = BeautifulSoup((built_book["html"] / "book" / "instructors.html").read_text(), "html.parser")
    figure = soup.find(id="instructors-class-crossover")
    assert figure is not None and figure.find("img") is not None and "one row per atlas" in figure.get_text()
    section = soup.find(id="instructors-class-atlas").find_parent("section")
    count = len(scan_atlas_records(built_book["root"] / "book" / "records")[0])  # the built copy's valid atlases
    assert f"here the {count} atlases committed with the book" in " ".join(section.get_text().split())
