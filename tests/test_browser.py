"""The results page in a real browser: Debian's chromium, driven by Playwright, on loopback."""

from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.training


@pytest.mark.parametrize("viewport", [{"width": 1400, "height": 1000}, {"width": 390, "height": 844}])
def test_results_page_renders_table_and_figures_without_console_errors(browser, site, viewport):
    page = browser.new_page(viewport=viewport)
    errors = []
    page.on("console", lambda message: errors.append(message) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(error))
    page.goto(f"{site}/book/experiment.html", wait_until="load")

    table = page.locator("table", has_text="energy_consumed")
    assert table.count() == 1 and table.is_visible()
    assert table.locator("th", has_text="SeparableConv2D").count() >= 1
    widths = page.eval_on_selector_all("figure img", "images => images.map(image => image.naturalWidth)")
    assert len(widths) >= 3 and all(width > 0 for width in widths)
    assert page.locator("text=Where these numbers come from").is_visible()

    # This machine has no internet: only the MathJax script from its CDN may fail,
    # and only because it cannot be fetched. Every other console error counts.
    own_errors = [error for error in errors if not _offline_cdn_failure(error)]
    assert own_errors == []
    page.close()


def _offline_cdn_failure(error) -> bool:
    location = getattr(error, "location", None) or {}
    host = urlparse(location.get("url", "")).hostname or ""
    return host not in ("127.0.0.1", "") and "Failed to load resource" in getattr(error, "text", "")
