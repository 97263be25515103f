"""`python -m convcarbon collect`: records from other machines, validated, copied into the book's."""

import json
import shutil
import subprocess
import sys

from helpers import write_record
from synthetic import bad_records, paired_record

from convcarbon.records.collect import collect


def machine_record(cpu, fingerprint, profile="full"):
    return paired_record([0.01, 0.011, 0.012], [0.008, 0.009, 0.01], cpu=cpu, fingerprint=fingerprint, profile=profile)


def test_valid_records_are_copied_with_their_two_files_only(tmp_path):
    source, target = tmp_path / "artifacts", tmp_path / "records"
    first = write_record(source, machine_record("CPU A", "a1" * 32))
    (first / "notes.html").write_text("<script>alert(1)</script>")
    write_record(source, machine_record("CPU B", "b2" * 32, profile="seed"), csv=None)  # made before `full`
    collection = collect(source, target)
    assert sorted(collection.added) == ["full-a1a1a1a1a1a1a1a1", "seed-b2b2b2b2b2b2b2b2"]  # each its stored name
    assert sorted(path.name for path in (target / first.name).iterdir()) == ["emissions.csv", "record.json"]
    assert [path.name for path in target.iterdir() if path.name.startswith(".staging")] == []
    again = collect(source, target)  # a second collection of the same records changes nothing
    assert again.added == [] and len(again.already_there) == 2


def test_invalid_hostile_and_conflicting_folders_are_skipped_with_their_reason(tmp_path):
    source, target = tmp_path / "artifacts", tmp_path / "records"
    write_record(source, {**machine_record("CPU A", "a1" * 32), "schema_version": 2}, name="old")
    write_record(source, machine_record("CPU B", "b2" * 32), name="renamed")
    linked = write_record(source, machine_record("CPU C", "c3" * 32), csv=None)
    (linked / "emissions.csv").symlink_to("/etc/passwd")
    conflicting = machine_record("CPU D", "d4" * 32)
    write_record(source, conflicting)
    write_record(target, {**conflicting, "created_utc": "2025-01-01T00:00:00+00:00"})
    reasons = dict(collect(source, target).skipped)
    assert "written as record schema 2" in reasons["old"]
    assert reasons["renamed"] == "its folder name does not match its profile and fingerprint"
    assert reasons["full-c3c3c3c3c3c3c3c3"] == "its emissions.csv is a symbolic link, which is refused"
    assert "already holds a different record of that name; not overwritten" in reasons["full-d4d4d4d4d4d4d4d4"]
    assert json.loads((target / "full-d4d4d4d4d4d4d4d4" / "record.json").read_text())["created_utc"].startswith("2025")
    assert not (target / "full-c3c3c3c3c3c3c3c3").exists()


def test_the_command_prints_each_skipped_folder_and_fails_when_nothing_is_valid(tmp_path):
    source = tmp_path / "artifacts"
    write_record(source, {"schema_version": 2}, name="bad\x1b[31mname")
    completed = subprocess.run(
        [sys.executable, "-m", "convcarbon", "collect", str(source), "--into", str(tmp_path / "records")],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 1
    assert "skipped bad\\x1b[31mname: written as record schema 2" in completed.stdout
    assert "\x1b" not in completed.stdout
    wanted = f"convcarbon: error: no valid record or counters report in {source}; nothing was collected\n"
    assert completed.stderr == wanted


def test_one_bad_record_of_any_kind_is_refused_by_the_command_with_its_reason_and_the_rest_collected(tmp_path):
    """As the Pages job runs it: the runners' good records still go in, each bad one is named with its reason."""
    source, target = tmp_path / "artifacts", tmp_path / "records"
    for name, (text, _reason) in bad_records().items():
        write_record(source, {}, name=name)
        (source / name / "record.json").write_text(text)
    good = write_record(source, machine_record("Good CPU", "a1" * 32))
    command = [sys.executable, "-m", "convcarbon", "collect", str(source), "--into", str(target)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    for name, (_text, reason) in bad_records().items():
        assert f"skipped {name}: {reason}" in completed.stdout
        assert not (target / name).exists()
    assert "collected 1 new record(s)" in completed.stdout and (target / good.name / "record.json").is_file()
    shutil.rmtree(good)
    only_bad = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert only_bad.returncode == 1 and "nothing was collected" in only_bad.stderr


def test_without_into_the_records_go_into_the_book_that_holds_the_working_folder(tmp_path, monkeypatch, capsys):
    """Run from any folder of a book, `collect` adds to that book's book/records, not to a new book/records
    below the working folder; outside a book it asks for --into; a folder given with --into is taken relative
    to the working folder, as every path on the command line."""
    from helpers import copy_book

    from convcarbon.cli import main

    book = copy_book(tmp_path / "book")
    source = tmp_path / "artifacts"
    folder = write_record(source, machine_record("Subfolder CPU", "a7" * 32))
    monkeypatch.chdir(book / "book")  # a chapter's folder, as after `cd book`
    assert main(["collect", str(source)]) == 0
    assert (book / "book" / "records" / folder.name / "record.json").is_file()
    assert not (book / "book" / "book").exists()
    assert f"into {book / 'book' / 'records'}" in capsys.readouterr().out
    monkeypatch.chdir(tmp_path)
    assert main(["collect", str(source)]) == 1
    error = capsys.readouterr().err
    assert "no convcarbon book (_config.yml) above" in error and "name the records folder with --into" in error
    assert main(["collect", str(source), "--into", "records"]) == 0  # relative to the working folder
    assert (tmp_path / "records" / folder.name / "record.json").is_file()
