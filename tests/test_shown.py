"""Which record the pages show (`site.shown`): the one measured for this build, else the reference
record, else one clear error; and the one default of the results store."""

import json
import shutil
import subprocess
import sys

import pytest
from helpers import REPO_ROOT, copy_book
from synthetic import paired_record

from convcarbon.errors import ConvCarbonError
from convcarbon.site import shown
from convcarbon.site.shown import Shown, measuring, reference_record


def record(profile, created):
    return paired_record([0.01], [0.009], profile=profile, created=created)


def test_the_reference_is_the_newest_full_record_of_either_name_else_the_newest_record():
    """A record stored under the full profile's old name, `seed`, is a full record: the newest of both names wins."""
    old_seed, new_quick = record("seed", "2026-01-01T00:00:00+00:00"), record("quick", "2026-03-01T00:00:00+00:00")
    full = record("full", "2026-02-01T00:00:00+00:00")
    assert reference_record([old_seed, new_quick, full]) is full
    newer_seed = record("seed", "2026-02-15T00:00:00+00:00")
    assert reference_record([old_seed, new_quick, full, newer_seed]) is newer_seed
    assert reference_record([old_seed, new_quick]) is old_seed
    assert reference_record([new_quick, record("smoke", "2026-01-01T00:00:00+00:00")]) is new_quick
    with pytest.raises(ConvCarbonError, match="no stored record to show"):
        reference_record([])


def test_measuring_is_on_unless_said_no():
    assert measuring({}) and measuring({"CONVCARBON_MEASURE": "yes"})
    assert not measuring({"CONVCARBON_MEASURE": "No"})
    with pytest.raises(ConvCarbonError, match="use yes or no"):
        measuring({"CONVCARBON_MEASURE": "0"})


def test_building_without_training_and_without_any_record_is_one_clear_error(tmp_path):
    root = copy_book(tmp_path / "book")
    shutil.rmtree(root / "book" / "records")
    completed = subprocess.run(
        [sys.executable, "-m", "convcarbon", "book", "--no-measure"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 1
    assert (
        completed.stderr.startswith("convcarbon: error: no stored record to show") and completed.stderr.count("\n") == 1
    )
    assert not (root / "_build").exists()


def store_record(folder, record):
    folder.mkdir(parents=True)
    (folder / "record.json").write_text(json.dumps(record))
    return folder


@pytest.fixture
def book_folder(tmp_path, monkeypatch):
    """An empty book (its _config.yml and _toc.yml), as the working folder, with one committed seed record."""
    for name in ("_config.yml", "_toc.yml"):
        (tmp_path / name).write_text((REPO_ROOT / name).read_text())
    store_record(tmp_path / "book" / "records" / "seed-old", record("seed", "2026-01-01T00:00:00+00:00"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_record_measured_for_this_build_comes_first(book_folder):
    measured = store_record(
        book_folder / "results" / "smoke-new",
        paired_record([0.01], [0.009], profile="smoke", created="2026-02-01T00:00:00+00:00", fingerprint="ab" * 32),
    )
    pages = Shown.resolve({"CONVCARBON_RECORD": str(measured)})
    assert pages.measured and pages.record["fingerprint"] == "ab" * 32 and pages.folder == measured
    assert "shown_as_reference" not in pages.record
    assert [one["profile"] for one in pages.records] == ["seed", "smoke"]  # every record, oldest first
    assert pages.compared[0]["fingerprint"] in ("ab" * 32, pages.records[0]["fingerprint"])


def test_without_a_measured_record_the_reference_record_is_shown(book_folder):
    store_record(
        book_folder / "results" / "quick-newer",
        paired_record([0.01], [0.009], profile="quick", created="2026-03-01T00:00:00+00:00", fingerprint="cd" * 32),
    )
    pages = Shown.resolve({})
    assert not pages.measured and pages.record["shown_as_reference"]
    assert pages.record["profile"] == "seed" and pages.folder == book_folder / "book" / "records" / "seed-old"
    environment = pages.build_environment({"CONVCARBON_RECORD": "/elsewhere"})
    assert environment["CONVCARBON_MEASURE"] == "no" and "CONVCARBON_RECORD" not in environment


def test_no_record_at_all_is_one_clear_error_and_a_damaged_measured_one_too(book_folder):
    shutil.rmtree(book_folder / "book" / "records")
    with pytest.raises(ConvCarbonError, match="no stored record to show"):
        Shown.resolve({})
    with pytest.raises(ConvCarbonError, match="the record measured for this build .* is unusable"):
        Shown.resolve({"CONVCARBON_RECORD": str(book_folder / "missing")})


def test_the_results_store_has_one_default(book_folder, monkeypatch):
    (book_folder / "book" / "deeper").mkdir()
    monkeypatch.chdir(book_folder / "book" / "deeper")
    assert shown.results_dir(environ={}) == book_folder / "results"  # the book's folder, from anywhere inside it
    assert shown.results_dir(environ={"CONVCARBON_RESULTS": "/somewhere"}) == shown.Path("/somewhere")
    assert shown.results_dir("given", environ={"CONVCARBON_RESULTS": "/somewhere"}) == shown.Path("given")
    outside = book_folder.parent / "outside"
    outside.mkdir()
    monkeypatch.chdir(outside)
    assert shown.results_dir(environ={}) == outside / "results"
    from convcarbon.cli import build_parser

    monkeypatch.chdir(book_folder)
    monkeypatch.delenv("CONVCARBON_RESULTS", raising=False)
    for command in (["run"], ["book"], ["report"]):
        assert build_parser().parse_args(command).results_dir == book_folder / "results"


def test_only_shown_reads_or_writes_the_variables():
    """The `book` command hands them to jupyter-book through `Shown.build_environment`."""
    package = REPO_ROOT / "src" / "convcarbon"
    for variable in ("CONVCARBON_RECORD", "CONVCARBON_RESULTS", "CONVCARBON_MEASURE"):
        users = sorted(
            path.relative_to(package).as_posix() for path in package.rglob("*.py") if variable in path.read_text()
        )
        assert users == ["site/shown.py"], (variable, users)


def test_a_kernel_resolves_once_and_again_after_measuring_its_own_machine(book_folder, monkeypatch):
    for variable in ("CONVCARBON_RECORD", "CONVCARBON_RESULTS"):
        monkeypatch.delenv(variable, raising=False)
    first = shown.current()
    assert shown.current() is first and first.record["shown_as_reference"]
    measured = store_record(
        book_folder / "results" / "smoke-mine",
        paired_record([0.01], [0.009], profile="smoke", created="2026-02-01T00:00:00+00:00", fingerprint="ef" * 32),
    )
    monkeypatch.setenv("CONVCARBON_RECORD", "")  # restored after the test, whatever show_in_this_kernel sets
    shown.show_in_this_kernel(measured)
    assert shown.current().measured and shown.current().record["fingerprint"] == "ef" * 32


def test_the_reference_preference_is_said_once_and_every_choice_follows_it(monkeypatch):
    """Which profile is the original protocol is one setting (`shown.REFERENCE_PROFILE`, asked through
    `of_reference_protocol`): the reference record and atlas, the record that speaks for a machine, the order of
    the atlases a page compares and the provenance note all follow it when it changes."""
    from convcarbon.site import book

    def made(profile, created, fingerprint, cpu="CPU A"):
        return paired_record([0.01], [0.009], profile=profile, created=created, fingerprint=fingerprint, cpu=cpu)

    quick = made("quick", "2026-01-01T00:00:00+00:00", "11" * 32)
    full = made("full", "2026-02-01T00:00:00+00:00", "22" * 32)
    other_quick = made("quick", "2026-01-03T00:00:00+00:00", "33" * 32, cpu="CPU B")
    other_seed = made("seed", "2026-01-02T00:00:00+00:00", "44" * 32, cpu="CPU B")  # the old name of full
    other_smoke = made("smoke", "2026-01-04T00:00:00+00:00", "55" * 32, cpu="CPU B")

    def choices(shown_record):
        return (
            shown.reference_record([quick, full])["fingerprint"],
            shown.reference_atlas([quick, full])["fingerprint"],  # training records stand in for atlases here
            [one["fingerprint"] for one in shown.machine_records(shown_record, [other_quick, other_seed])],
            [
                one["fingerprint"]
                for one in shown.compared_atlases(shown_record, [other_seed, other_quick, other_smoke])
            ],
            "not the original protocol" in book.provenance_note(shown_record).data,
        )

    assert choices(full) == (
        "22" * 32,
        "22" * 32,
        ["22" * 32, "44" * 32],
        ["22" * 32, "44" * 32, "33" * 32, "55" * 32],
        False,
    )
    other_full = made("full", "2026-01-05T00:00:00+00:00", "66" * 32, cpu="CPU B")  # machine B's newer full record
    assert [one["fingerprint"] for one in shown.machine_records(full, [other_seed, other_full])] == [
        "22" * 32,
        "66" * 32,
    ]
    compared = shown.compared_atlases(full, [other_seed, other_full, other_quick])
    assert [one["fingerprint"] for one in compared] == ["22" * 32, "66" * 32, "33" * 32]  # one of either name
    monkeypatch.setattr(shown, "REFERENCE_PROFILE", "quick")
    assert choices(quick) == (
        "11" * 32,
        "11" * 32,
        ["11" * 32, "33" * 32],
        ["11" * 32, "33" * 32, "44" * 32, "55" * 32],
        False,
    )
    assert choices(full)[-1]  # the full record is now the one of another profile
    assert choices(other_seed)[-1]  # and so is the record of its old name


def test_the_preference_is_typed_out_nowhere_else():
    """The reference profile's name appears once in what analyses and publishes the records, and its old name
    (`seed`) nowhere there: `config.PROFILE_ALIASES` alone knows it."""
    package = REPO_ROOT / "src" / "convcarbon"
    analysing = [  # the modules of the analyze and publish stages (ARCHITECTURE.md)
        path
        for path in sorted(package.rglob("*.py"))
        if {"analyze", "publish", "site", "course"} & set(path.relative_to(package).parts)
    ]
    assert len(analysing) > 20

    def found(name):
        return [
            path.relative_to(package).as_posix()
            for path in analysing
            for line in path.read_text().splitlines()
            if f'"{name}"' in line or f"'{name}'" in line
        ]

    assert found("full") == ["site/shown.py"] and found("seed") == []
