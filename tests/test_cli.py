"""The command line's output and its errors: one line, non-zero exit, no traceback."""

import json
from pathlib import Path

import pytest

from convcarbon.cli import main


def run_cli(capsys, *arguments):
    code = main(list(arguments))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_costs_prints_the_worked_example(capsys):
    code, out, _ = run_cli(capsys, "costs")
    assert code == 0
    assert "45,630" in out and "9,633" in out
    assert "431,242" in out and "414,899" in out


def test_costs_json(capsys):
    code, out, _ = run_cli(capsys, "costs", "--json")
    tables = json.loads(out)
    worked = next(rows for name, rows in tables.items() if name.startswith("worked example"))
    assert sum(row["multiplications"] for row in worked if row["model"] == "standard") == 45_630


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["run", "--profile", "huge"], "unknown profile 'huge'"),
        (["run", "--profile", "smoke", "--country", "ZZZ"], "unknown country code 'ZZZ'"),
        (["run", "--profile", "smoke", "--pue", "0.3"], "PUE must be 1.0 or more"),
        (["run", "--profile", "smoke", "--mnist", "/nonexistent/mnist.npz"], "no such file"),
        (["run", "--profile", "smoke", "--repeats", "0"], "repeats must be between 1 and 50, not 0"),
        (["run", "--profile", "smoke", "--idle-seconds", "-5"], "idle duration must be between 0 and 3600 s"),
        (["report", "--results-dir", "/nonexistent/results"], "no results directory"),
        (["report", "--profile", "huge"], "unknown profile"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_1(capsys, tmp_path, arguments, message):
    if arguments[0] == "run":
        arguments = arguments + ["--results-dir", str(tmp_path / "results")]
    code, out, err = run_cli(capsys, *arguments)
    assert code == 1
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not list((tmp_path / "results").glob("*-*")), "nothing is stored after an error"


def test_unwritable_results_directory(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = run_cli(capsys, "run", "--profile", "smoke", "--results-dir", str(blocker / "results"))
    assert code == 1 and "results directory" in err and len(err.strip().splitlines()) == 1


def test_bad_pue_type_and_unknown_command_are_usage_errors(capsys):
    for arguments in (["run", "--pue", "high"], ["train"]):
        with pytest.raises(SystemExit) as caught:
            main(arguments)
        assert caught.value.code == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1


def test_empty_store_report(capsys, tmp_path):
    code, _, err = run_cli(capsys, "report", "--results-dir", str(tmp_path))
    assert code == 1 and "no stored results" in err


@pytest.mark.parametrize(
    "variable, value, message",
    [
        ("CONVCARBON_PROFILE", "fast", "unknown profile 'fast'"),
        ("CONVCARBON_COUNTRY", "Quebec", "unknown country code 'QUEBEC'"),
        ("CONVCARBON_MNIST", "/nonexistent/mnist.npz", "no such file"),
    ],
)
def test_bad_environment_values_give_one_line_and_exit_1(capsys, monkeypatch, tmp_path, variable, value, message):
    monkeypatch.setenv(variable, value)
    results_dir = tmp_path / "results"
    code, _, err = run_cli(
        capsys,
        "run",
        "--results-dir",
        str(results_dir),
        *([] if variable == "CONVCARBON_PROFILE" else ["--profile", "smoke"]),
    )
    assert code == 1 and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not [path for path in results_dir.glob("*") if not path.name.startswith(".")]


def test_the_book_command_ends_with_the_ratios_the_verdict_and_where_the_site_is(tmp_path):
    from synthetic import paired_record

    from convcarbon.cli import _book_summary
    from convcarbon.records.store import ResultStore
    from convcarbon.site.shown import Shown
    from convcarbon.training.analyze.analysis import VERDICTS

    store = ResultStore(tmp_path / "results")
    with store.locked(), store.staging() as staging:
        folder = store.commit(staging, paired_record([0.010, 0.011, 0.012], [0.006, 0.0065, 0.007]))
    measured = _book_summary(Shown.assemble(folder, store.root, tmp_path / "none"), tmp_path)
    assert "measured for this build" in measured
    assert "energy         0.59 (95% interval " in measured and "training time  " in measured
    assert f"verdict        {VERDICTS['saved'].cell}" in measured
    assert f"The site: {tmp_path.resolve() / '_build' / 'html' / 'index.html'}" in measured
    reference = _book_summary(Shown.assemble(None, store.root, tmp_path / "none"), tmp_path)
    assert "the book's reference record (nothing trained)" in reference


def test_the_commands_and_the_build_measure_or_reuse_through_one_function(tmp_path, monkeypatch, capsys):
    """`run`, `atlas` and the build (`sphinx_results.prepare_build`) ask `reuse.measure_or_reuse` for their
    results, with the work and the flags they were given; what they show then comes from its answer."""
    from synthetic import paired_record

    from convcarbon.records import reuse
    from convcarbon.records.store import ResultStore
    from convcarbon.site import shown
    from convcarbon.site.sphinx_results import prepare_build

    store = ResultStore(tmp_path / "results")
    record = paired_record([0.010, 0.011, 0.012], [0.006, 0.0065, 0.007], profile="smoke")
    with store.locked(), store.staging() as staging:
        folder = store.commit(staging, record)
    asked = []

    def answered(work, results_root, refresh=False, log=None):
        asked.append((work, Path(results_root), refresh))
        if isinstance(work, reuse.Training):
            return reuse.Measured(record, folder, reused=True)
        return reuse.Measured({"profile": work.profile}, store.root / f"atlas-{work.profile}-x", reused=True)

    monkeypatch.setattr(reuse, "measure_or_reuse", answered)
    code, out, _ = run_cli(capsys, "run", "--profile", "smoke", "--refresh", "--results-dir", str(store.root))
    assert code == 0 and "Conv2D" in out
    (work, root, refresh), *_ = asked
    assert isinstance(work, reuse.Training) and work.config.profile == "smoke" and (root, refresh) == (store.root, True)

    asked.clear()
    monkeypatch.setenv("CONVCARBON_RESULTS", str(store.root))
    monkeypatch.setenv("CONVCARBON_PROFILE", "smoke")
    monkeypatch.setenv("CONVCARBON_MEASURE", "yes")
    for variable in ("CONVCARBON_RECORD", "CONVCARBON_ATLAS"):
        monkeypatch.setenv(variable, "")  # restored after the test, whatever the build hands its chapters
    page = prepare_build(tmp_path)
    assert [type(work).__name__ for work, _, _ in asked] == ["Training", "Atlas"]
    assert asked[1][0] == reuse.Atlas("smoke")  # the atlas of the training record's profile
    assert page.measured and page.folder == folder and page.atlas_folder == store.root / "atlas-smoke-x"
    assert shown.Shown.resolve().folder == folder  # the chapters' kernels are handed the same record


def test_shown_decides_what_is_shown_and_starts_no_measurement():
    import ast

    from helpers import REPO_ROOT

    tree = ast.parse((REPO_ROOT / "src" / "convcarbon" / "site" / "shown.py").read_text())
    imports = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    modules = {part for node in imports for part in (node.module or "").split(".")}
    names = {alias.name for node in imports for alias in node.names}
    assert modules & {"records", "analyze"}  # it reads the store and the records ...
    assert not (modules | names) & {"reuse", "experiment", "run"}  # ... and measures nothing


def test_the_old_profile_name_seed_asks_for_the_full_profile_with_one_note(tmp_path, monkeypatch, capsys):
    """`seed` was the full profile's name until issue 21. `--profile seed` and CONVCARBON_PROFILE=seed ask for the
    same work as `--profile full`, with one note on stderr that names the new name; `report --profile` of either
    name shows the records stored under both."""
    from synthetic import paired_record

    from convcarbon.records import reuse
    from convcarbon.records.store import ResultStore

    store = ResultStore(tmp_path / "results")
    old = paired_record([0.010, 0.011, 0.012], [0.006, 0.0065, 0.007], profile="seed", fingerprint="aa" * 32)
    new = paired_record([0.010, 0.011, 0.012], [0.006, 0.0065, 0.007], profile="full", fingerprint="bb" * 32)
    quick = paired_record([0.010, 0.011], [0.006, 0.0065], profile="quick", fingerprint="cc" * 32)
    for record in (old, new, quick):
        with store.locked(), store.staging() as staging:
            store.commit(staging, record)
    asked = []

    def answered(work, results_root, refresh=False, log=None):
        asked.append(work.config)
        return reuse.Measured(new, store.folder("full", new["fingerprint"]), reused=True)

    monkeypatch.setattr(reuse, "measure_or_reuse", answered)
    monkeypatch.delenv("CONVCARBON_PROFILE", raising=False)
    notes = []
    for arguments, variable in ((["--profile", "full"], None), (["--profile", "seed"], None), ([], "seed")):
        if variable:
            monkeypatch.setenv("CONVCARBON_PROFILE", variable)
        code, _, err = run_cli(capsys, "run", *arguments, "--results-dir", str(store.root))
        assert code == 0
        notes.append([line for line in err.splitlines() if "profile 'seed' is now called 'full'" in line])
    assert asked[1] == asked[2] == asked[0] and asked[0].profile == "full"
    assert [len(found) for found in notes] == [0, 1, 1]

    monkeypatch.delenv("CONVCARBON_PROFILE")
    for name in ("full", "seed"):
        code, out, _ = run_cli(capsys, "report", "--profile", name, "--results-dir", str(store.root))
        shown = sorted(line.split("/")[-1] for line in out.splitlines() if line.startswith("== "))
        assert code == 0 and shown == ["full-" + "bb" * 8, "seed-" + "aa" * 8]
