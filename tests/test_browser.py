"""Every page of the book in a real browser (Debian's chromium, driven by Playwright, see the `browser`
and `site` fixtures) at desktop and phone size, with every request off loopback aborted: the book
must read offline."""

from urllib.parse import urlparse

import pytest
from helpers import HOSTILE_SHOWN, toc_chapters

VIEWPORTS = {"desktop": {"width": 1400, "height": 1000}, "phone": {"width": 390, "height": 844}}
# Resources a page may fail to load, by URL. None: the site serves everything it needs itself.
ALLOWED_FAILED_LOADS: tuple[str, ...] = ()
RAW_TEX = ("\\(", "\\)", "\\[", "\\]", "$")


def _loopback(url: str) -> bool:
    return urlparse(url).hostname in ("127.0.0.1", "localhost") or url.startswith(("data:", "blob:"))


@pytest.fixture(params=list(VIEWPORTS))
def offline_page(request, browser):
    """A page of the given size whose every request off loopback is aborted; it records what failed."""
    context = browser.new_context(viewport=VIEWPORTS[request.param])
    context.route("**/*", lambda route: route.continue_() if _loopback(route.request.url) else route.abort())
    page = context.new_page()
    page.problems = []
    page.on("console", lambda message: page.problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    page.on(
        "requestfailed",
        lambda failed: (
            page.problems.append(f"failed to load {failed.url}") if failed.url not in ALLOWED_FAILED_LOADS else None
        ),
    )
    page.viewport_name = request.param
    yield page
    context.close()


@pytest.mark.parametrize("chapter", toc_chapters())
def test_every_page_reads_offline_at_desktop_and_phone_size(offline_page, site, chapter):
    page = offline_page
    page.goto(f"{site}/{chapter}.html", wait_until="load")
    width = VIEWPORTS[page.viewport_name]["width"]

    formulas = page.locator("article .math")
    if formulas.count():
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("() => MathJax.startup.promise")
        untypeset = page.eval_on_selector_all(
            "article .math", "all => all.filter(m => !m.querySelector('mjx-container')).length"
        )
        assert untypeset == 0, f"{untypeset} of {formulas.count()} formulas not typeset"
    text = page.inner_text("article").replace(HOSTILE_SHOWN, "")
    assert not [tex for tex in RAW_TEX if tex in text], [tex for tex in RAW_TEX if tex in text]

    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
    if page.viewport_name == "desktop":
        overflowing = page.evaluate("""() => {
            const article = document.querySelector('article');
            const style = getComputedStyle(article), box = article.getBoundingClientRect();
            const right = box.right - parseFloat(style.paddingRight);
            return [...article.querySelectorAll('table')]
                .filter(table => table.getBoundingClientRect().right > right + 1)
                .map(table => table.innerText.slice(0, 80));
        }""")
        assert overflowing == [], f"tables wider than the content column: {overflowing}"
    images = page.eval_on_selector_all("article img", "images => images.map(image => image.naturalWidth)")
    assert all(width > 0 for width in images)
    assert page.problems == []


def test_the_headline_numbers_are_visible_on_a_phone(browser, site):
    page = browser.new_page(viewport=VIEWPORTS["phone"])
    page.goto(f"{site}/book/experiment.html", wait_until="load")
    # The models' layer tables come first on the page; the headline table is the one comparing the two models.
    headline = page.locator("table.convcarbon-table", has_text="separable / standard").first
    assert headline.locator("th", has_text="SeparableConv2D").count() == 1
    cells = headline.locator("td")
    assert cells.count() == 6 * 3
    outside = page.evaluate(
        """table => [...table.querySelectorAll('td, th')]
        .filter(cell => cell.getBoundingClientRect().right > window.innerWidth || cell.getBoundingClientRect().left < 0)
        .map(cell => cell.innerText)""",
        headline.element_handle(),
    )
    assert outside == [], f"cells off the screen: {outside}"
    assert page.locator("text=Where these numbers come from").is_visible()
    page.close()


def test_no_script_of_a_hostile_reference_record_runs_and_its_strings_show_as_text(
    hostile_reference_book, hostile_reference_site, browser
):
    """The hostile record wins the reference choice of a build without training (as the Pages job builds)."""
    html = hostile_reference_book["html"]
    page = browser.new_page()
    for path in sorted(html.rglob("*.html")):
        relative = path.relative_to(html)
        if relative.parts[0].startswith("_"):
            continue
        page.goto(f"{hostile_reference_site}/{relative.as_posix()}", wait_until="load")
        page.wait_for_timeout(200)
        assert page.evaluate("typeof window.__pwned") == "undefined", relative
        assert page.locator("img[src='x']").count() == 0, relative
        assert page.locator("a[href^='javascript:']").count() == 0, relative
    page.goto(f"{hostile_reference_site}/book/measuring.html", wait_until="load")
    text = page.inner_text("main")
    assert "CPU: <img src=x onerror=" in text  # Sphinx's smart quotes curl the record's quotes
    assert "<script>window.__pwned=2</script>**b** $x$ {abbr}`a` [l](javascript:x). GPU: <img src=x" in text
    page.close()
