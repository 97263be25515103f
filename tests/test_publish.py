"""The Pages workflow's last job, run here: collect the runners' records, validate them, build without training.

The build is conftest's `hostile_reference_book`: the runners' artifacts are stood in for by this session's real
smoke record (from `smoke_store`, trained by `convcarbon run` as a runner trains) and synthetic records of two
other machines, next to an invalid folder and a hostile one (helpers.write_runner_artifacts); the committed
records beside them carry the hostile reference record and the bad records that test_hostile_records and
test_bad_records read on the same pages.
"""

from bs4 import BeautifulSoup
from helpers import OTHER_MACHINES, RUNNER_SECRET


def test_valid_records_are_collected_and_the_invalid_ones_skipped_with_their_reason(hostile_reference_book):
    collected = hostile_reference_book["collected"]
    assert collected.returncode == 0, collected.stderr
    assert "skipped quick-from-an-old-runner: written as record schema 2" in collected.stdout
    assert "skipped full-9e9e9e9e9e9e9e9e: its emissions.csv is a symbolic link, which is refused" in collected.stdout
    assert "collected 3 new record(s)" in collected.stdout


def test_the_book_is_built_from_every_machine_without_training(hostile_reference_book):
    built, root = hostile_reference_book["completed"], hostile_reference_book["root"]
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    # "epoch" in no line but the skipped bad records' reasons (one is about epochs that do not add up).
    assert [line for line in built.stderr.splitlines() if "epoch" in line and "skipping result " not in line] == []
    assert "Training both models" not in built.stderr
    assert not list((root / "results").glob("*/record.json"))
    results = BeautifulSoup((root / "_build/html/book/results.html").read_text(), "html.parser").get_text(" ")
    for cpu in OTHER_MACHINES:
        assert cpu in results
    assert "Linked CPU" not in results
    assert "These numbers come from the reference record of this book, stored, not measured for this page" in results
    assert "measured when this page was built" not in results
    site = "".join(path.read_text(errors="replace") for path in (root / "_build/html").rglob("*") if path.is_file())
    assert RUNNER_SECRET not in site
