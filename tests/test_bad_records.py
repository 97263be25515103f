"""One bad record, of any kind, never stops the book: `book --no-measure`, as the Pages job builds it.

Several bad records are committed at once, in the build of conftest's `hostile_reference_book`: the issue's
record (a duration of 1e308, an accuracy of NaN, an epoch of 1e-300 s) and others each wrong in one way. The
book still builds from the committed records, shows none of the bad ones, and lists each as skipped with its
reason. A valid record whose runs assumed different wattages is shown, and flagged.
"""

from bs4 import BeautifulSoup
from helpers import MIXED_CPU
from synthetic import bad_records


def page_text(root, name: str) -> str:
    html = (root / "_build" / "html" / "book" / f"{name}.html").read_text()
    return " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())


def test_the_book_builds_without_the_bad_records_lists_each_with_its_reason_and_flags_mixed_wattages(
    hostile_reference_book,
):
    root, completed = hostile_reference_book["root"], hostile_reference_book["completed"]
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    reproducibility = page_text(root, "reproducibility")
    # And the invalid hostile one and the linked one (helpers.plant_hostile_records).
    assert f"Not shown: {len(bad_records()) + 2} stored result(s)" in reproducibility
    for name, (_text, reason) in bad_records().items():
        assert f"{name}: {reason}" in completed.stderr, name
        assert name in reproducibility and reason in reproducibility, name
    results = page_text(root, "results")
    # The future-dated record would have won the reference choice; the newest valid full record (the hostile
    # one, dated a minute before the build) is shown instead.
    assert "the book's reference record" in completed.stdout
    assert "2099" not in results
    assert "Bad Record CPU" not in results
    assert MIXED_CPU in results and "mixes assumed wattages between its runs" in results
