"""Records a stranger commits under book/records are shown as text on every page, never as markup.

The built book (conftest.built_book) carries a valid record whose every text field holds HTML, script,
event handlers, Markdown, MyST roles and TeX, and an invalid one in a folder named as markup. Links in the
committed folders (helpers.plant_hostile_records) point at files outside the book: never read, never published.
"""

import re

from helpers import HOSTILE_RECORD, INVALID_RECORD, LINKED_CPU, LINKED_RECORD, LINKED_SECRET


def pages(built_book):
    return sorted(
        path.relative_to(built_book["html"]).as_posix() for path in (built_book["html"] / "book").glob("*.html")
    )


def test_the_hostile_record_is_shown_and_the_invalid_one_skipped_with_its_reason(built_book):
    results = (built_book["html"] / "book" / "results.html").read_text()
    assert "window.__pwned=1" in results  # the hostile machine is on the page, as text
    reproducibility = (built_book["html"] / "book" / "reproducibility.html").read_text()
    assert "does not match the record schema at profile" in reproducibility
    assert f"{INVALID_RECORD}: does not match the record schema at profile" in built_book["completed"].stderr
    assert HOSTILE_RECORD not in built_book["completed"].stderr  # a valid record is shown, not skipped


def test_no_markup_from_a_record_reaches_any_html_file(built_book):
    for page in pages(built_book):
        html = (built_book["html"] / page).read_text()
        assert '<img src="x"' not in html and "<img src=x" not in html, page
        assert "<script>window.__pwned" not in html, page
        assert not re.search(r"<[a-z]+\s[^>]*onerror=", html), page  # as text, &lt;img ... onerror= is harmless


def test_no_script_from_a_record_runs_on_any_page(built_book, site, browser):
    page = browser.new_page()
    for path in pages(built_book):
        page.goto(f"{site}/{path}", wait_until="load")
        page.wait_for_timeout(200)
        assert page.evaluate("typeof window.__pwned") == "undefined", path
        assert page.locator("img[src='x']").count() == 0, path
        assert page.locator("a[href^='javascript:']").count() == 0, path
    page.goto(f"{site}/book/results.html", wait_until="load")
    assert "<script>window.__pwned=2</script>" in page.inner_text("main")
    page.close()


# ---- The hostile record as the book's reference record, built as the Pages job builds (--no-measure) ----

PAGES_WITH_MEASUREMENTS = ("index", "experiment", "measuring", "results", "ethics", "reproducibility")


def every_html_page(html):
    return sorted(path for path in html.rglob("*.html") if not path.relative_to(html).parts[0].startswith("_"))


def test_a_hostile_reference_record_is_shown_as_text_on_every_page(hostile_reference_book):
    from bs4 import BeautifulSoup

    html = hostile_reference_book["html"]
    assert "the book's reference record" in hostile_reference_book["completed"].stdout
    for path in every_html_page(html):
        source = path.read_text()
        assert "<script>window.__pwned" not in source, path
        assert '<img src="x"' not in source and "<img src=x" not in source, path
        assert not re.search(r"<[a-z]+\s[^>]*onerror=", source), path
        assert 'href="javascript:' not in source, path
    for name in PAGES_WITH_MEASUREMENTS:
        text = BeautifulSoup((html / "book" / f"{name}.html").read_text(), "html.parser").get_text(" ")
        assert "stored, not measured for this page" in text, name  # the note says it is the reference record
        assert "<script>window.__pwned=2</script>" in text, name  # the hostile machine, shown as text
    measuring = BeautifulSoup((html / "book" / "measuring.html").read_text(), "html.parser").get_text(" ")
    measuring = " ".join(measuring.split())
    # The tracking methods glued into the prose, as text (Sphinx's smart quotes curl the record's quotes).
    shown_as_text = "<script>window.__pwned=2</script>**b** $x$ {abbr}`a` [l](javascript:x)."
    for part in ("CPU", "GPU", "RAM"):
        assert f"{part}: <img src=x onerror=" in measuring
    assert measuring.count(shown_as_text) >= 3


def test_no_file_a_link_points_at_is_published_and_the_build_says_why(hostile_reference_book):
    """The shown record's emissions.csv is a link (to a runner's secret), and a newer record's record.json is
    a link: the download says why it holds no CSV, the linked record is skipped, and neither target's content
    is anywhere in the site."""
    html, stderr = hostile_reference_book["html"], hostile_reference_book["completed"].stderr
    for path in html.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".csv", ".json", ".txt", ".ipynb", ".js"):
            content = path.read_text(errors="replace")
            assert LINKED_SECRET not in content and LINKED_CPU not in content, path
    (offered,) = html.rglob("_downloads/*/emissions.csv")
    assert offered.read_text() == "note\nnot offered for download: emissions.csv is a symbolic link, which is refused\n"
    assert "the shown record's emissions.csv is not offered for download: emissions.csv is a symbolic link" in stderr
    assert f"{LINKED_RECORD}: record.json is a symbolic link, which is refused" in stderr
