"""One bad record, of any kind, never stops the book: `book --no-measure`, as the Pages job builds it.

Several bad records are committed at once (one build, 1 to 2 minutes): the issue's record (a duration of 1e308,
an accuracy of NaN, an epoch of 1e-300 s) and others each wrong in one way. The book still builds from the
committed records, shows none of the bad ones, and lists each as skipped with its reason. A valid record whose
runs assumed different wattages is shown, and flagged.
"""

import subprocess
import sys

import pytest
from bs4 import BeautifulSoup
from helpers import copy_book
from synthetic import bad_records, paired_record

pytestmark = pytest.mark.training  # builds the whole book (it trains nothing)

MIXED_CPU = "Mixed Wattage CPU"


def mixed_record() -> dict:
    """Valid, older than the reference records, of another machine: its first run's RAM model at 24 W."""
    record = paired_record([0.010, 0.011, 0.012], [0.008, 0.009, 0.010], cpu=MIXED_CPU, fingerprint="f7" * 32)
    record["runs"][0].update(ram_power_w=24.0, ram_tracking_method="estimated: RAM power model (24 W)")
    return record


@pytest.fixture(scope="module")
def built_with_bad_records(tmp_path_factory):
    import json

    root = copy_book(tmp_path_factory.mktemp("bad-records"))
    records = root / "book" / "records"
    for name, (text, _reason) in bad_records().items():
        (records / name).mkdir()
        (records / name / "record.json").write_text(text)
    (records / "seed-mixed-wattages").mkdir()
    (records / "seed-mixed-wattages" / "record.json").write_text(json.dumps(mixed_record()))
    completed = subprocess.run(
        [sys.executable, "-m", "convcarbon", "book", "--no-measure", "--results-dir", str(root / "results")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return root, completed


def page_text(root, name: str) -> str:
    html = (root / "_build" / "html" / "book" / f"{name}.html").read_text()
    return " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())


def test_the_book_builds_without_the_bad_records_lists_each_with_its_reason_and_flags_mixed_wattages(
    built_with_bad_records,
):
    root, completed = built_with_bad_records
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    reproducibility = page_text(root, "reproducibility")
    assert f"Not shown: {len(bad_records())} stored result(s)" in reproducibility
    for name, (_text, reason) in bad_records().items():
        assert f"{name}: {reason}" in completed.stderr, name
        assert name in reproducibility and reason in reproducibility, name
    results = page_text(root, "results")
    # The future-dated record would have won the reference choice; the newest real seed record is shown instead.
    assert "Intel(R) Xeon(R) Processor" in results and "2099" not in results
    assert "Bad Record CPU" not in results
    assert MIXED_CPU in results and "mixes assumed wattages between its runs" in results
