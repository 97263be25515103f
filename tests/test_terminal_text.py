"""Nothing from a record, an atlas, a hand-in or a folder name reaches a terminal or a CSV raw (issue 21).

Every string field of a record holds, in turn, ANSI escapes, C0 and C1 controls, a right-to-left override and
a formula (helpers.TERMINAL_HOSTILE), in folders whose very names hold them too. `report`, `report --class-table`
(text, CSV and JSON), `collect` and `atlas` must show them all as escapes: a free-text field is shown, escaped;
a name with a control character is refused by the schema, and the reason, naming the folder, is escaped too.
"""

import ast
import csv
import io
import json
import logging

import pytest
from helpers import RAW_CONTROL, REPO_ROOT, TERMINAL_HOSTILE, string_fields, terminal_hostile_records, with_field

from convcarbon.cli import main
from convcarbon.safe import terminal_text
from convcarbon.training.measure.schema import record_problem

SHOWN = terminal_text(TERMINAL_HOSTILE)  # as the terminal shows it: every control an escape
FOLDER_HOSTILE = "\x1b[31m\u202e\x85"


def run_cli(capsys, *arguments):
    code = main(list(arguments))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_inert(*texts):
    for text in texts:
        found = RAW_CONTROL.search(text)
        assert found is None, f"a raw {found.group()!r} reached the terminal: ...{text[found.start() - 80 :][:160]!r}"


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory) -> dict:
    """One folder per string field, named with controls too, each holding the record with that field hostile."""
    root = tmp_path_factory.mktemp("hostile-terminal") / "results"
    folders = {}
    for index, (path, record) in enumerate(terminal_hostile_records().items()):
        folder = root / f"seed-{index}{FOLDER_HOSTILE}"
        folder.mkdir(parents=True)
        (folder / "record.json").write_text(json.dumps(record))
        folders[path] = folder
    return {"root": root, "folders": folders}


def test_every_string_field_is_either_free_text_or_refused_with_controls_in_it():
    valid = {path for path, record in terminal_hostile_records().items() if record_problem(record) is None}
    assert ("runs", "*", "cpu_tracking_method") in valid and ("power_assumptions", "cpu_power_basis") in valid
    assert ("hardware", "cpu_model") not in valid and ("versions", "keras_backend") not in valid  # names
    assert all(path[-1].endswith(("method", "basis", "pinning", "reason")) for path in valid), valid


def test_report_shows_every_hostile_string_and_folder_name_escaped(capsys, caplog, hostile_store):
    with caplog.at_level(logging.WARNING):
        code, out, err = run_cli(capsys, "report", "--results-dir", str(hostile_store["root"]))
    assert code == 0
    assert_inert(out, err, caplog.text)
    shown_folder = terminal_text(FOLDER_HOSTILE)
    assert out.count(f"{shown_folder}\n") >= 5 and out.count(SHOWN) >= 5  # the valid records, shown escaped
    assert f"{shown_folder}: does not match the record schema at hardware/cpu_model" in caplog.text  # refused
    code, out, err = run_cli(capsys, "report", "--json", "--results-dir", str(hostile_store["root"]))
    provenance = [line for entry in json.loads(out) for line in entry["provenance"]]
    assert code == 0 and any(TERMINAL_HOSTILE in line for line in provenance)  # JSON keeps them, as \u escapes
    assert_inert(out, err)


@pytest.mark.parametrize("output", ["text", "--csv", "--json"])
def test_the_class_table_shows_every_hostile_string_and_name_escaped(capsys, hostile_store, output):
    options = [] if output == "text" else [output]
    code, out, err = run_cli(capsys, "report", "--class-table", str(hostile_store["root"]), *options)
    assert code == 0
    assert_inert(out, err)
    assert err.count("convcarbon: skipped seed-") >= 30 and "does not match the record schema at hardware/os" in err
    if output == "--csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        assert len(rows) >= 5 and all(
            not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values()
        )
        assert all(row["record"].endswith(terminal_text(FOLDER_HOSTILE)) for row in rows)
    elif output == "--json":
        assert all(row["record"].endswith(FOLDER_HOSTILE) for row in json.loads(out))


def test_collect_shows_every_folder_it_skips_escaped(capsys, hostile_store, tmp_path):
    code, out, err = run_cli(capsys, "collect", str(hostile_store["root"]), "--into", str(tmp_path / "records"))
    assert code == 1  # no folder is named after its record: nothing collected
    assert_inert(out, err)
    assert out.count(f"{terminal_text(FOLDER_HOSTILE)}: ") == len(hostile_store["folders"])
    assert out.count("its folder name does not match its profile and fingerprint") >= 5


def test_an_error_naming_a_hostile_folder_is_escaped(capsys, tmp_path):
    missing = tmp_path / f"no{FOLDER_HOSTILE}"
    for arguments in (["collect", str(missing)], ["report", "--class-table", str(missing)]):
        code, _, err = run_cli(capsys, *arguments)
        assert code == 1 and terminal_text(FOLDER_HOSTILE) in err
        assert_inert(err)


def committed_atlas() -> dict:
    from convcarbon.atlas.measure.store import scan_atlas_records

    atlases, _ = scan_atlas_records(REPO_ROOT / "book" / "records")
    assert atlases, "the book commits at least one atlas record"
    record = atlases[-1]
    record.pop("path")
    return record


def test_the_atlas_table_shows_every_hostile_string_escaped(capsys, monkeypatch, tmp_path):
    record = committed_atlas()
    for path in string_fields(record):
        if path[0] in ("hardware", "versions", "energy") or path == ("profile",):
            record = with_field(record, path, TERMINAL_HOSTILE)
    record = with_field(record, ("energy", "counter"), TERMINAL_HOSTILE)
    for point in record["points"]:
        if point["book_layer"]:
            point["book_layer"] = TERMINAL_HOSTILE + point["book_layer"]
    monkeypatch.setattr("convcarbon.atlas.measure.run.run_atlas", lambda *arguments, **options: (record, True))
    code, out, err = run_cli(capsys, "atlas", "--profile", "smoke", "--results-dir", str(tmp_path))
    assert code == 0 and out.count(SHOWN) >= 4  # the profile, the CPU, the backend, the note, the book's layers
    assert_inert(out, err)
    code, out, err = run_cli(capsys, "atlas", "--profile", "smoke", "--json", "--results-dir", str(tmp_path))
    assert code == 0
    assert_inert(out, err)


def test_the_atlas_schema_refuses_a_counter_or_version_with_controls():
    from convcarbon.atlas.measure.schema import atlas_record_problem

    record = committed_atlas()
    assert atlas_record_problem(record) is None
    for path in (("energy", "counter"), ("versions", "keras")):
        problem = atlas_record_problem(with_field(record, path, "RAPL\u202e"))
        assert problem is not None and "/".join(path) in problem


# The modules that print progress lines of the package's own words to a stream (the training's and the atlas's
# progress, CodeCarbon's failures); every other module prints only through safe.show.
PROGRESS_PRINTERS = {
    "training/measure/progress.py",
    "training/measure/experiment.py",
    "training/measure/epochs.py",
    "anatomy/measure/run.py",
    "atlas/measure/timing.py",
    "atlas/measure/run.py",
    "energy/tracking.py",
}


def test_the_package_prints_only_through_safe_show():
    package = REPO_ROOT / "src" / "convcarbon"
    printers = set()
    for path in package.rglob("*.py"):
        calls = [
            node
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
        ]
        if calls:
            printers.add(path.relative_to(package).as_posix())
    assert printers - PROGRESS_PRINTERS == {"safe.py"}, "print through safe.show, which takes safe.TerminalText"
