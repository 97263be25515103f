"""The built book, read as HTML: chapters, tables, notes, citations and glued numbers.

The book is built once per test session (see `built_book` in conftest.py), from
nothing, on the smoke profile, with real training under CodeCarbon. Using that
fixture marks a test `book` and `training`.
"""

import json
import re
import statistics

import pytest
from bs4 import BeautifulSoup
from helpers import (
    FRAMEWORK_LINE,
    HOSTILE_SHOWN,
    REPO_ROOT,
    STALE_RESULT,
    copy_book,
    hostile_record,
    run_book_command,
    toc_chapters,
)

from convcarbon.units import CARBON_INTENSITY_G_PER_KWH

TUTORIAL_METRICS = ("accuracy", "loss", "duration", "energy_consumed", "emissions", "emissions_rate")
PAGES_WITH_MEASUREMENTS = ("index", "measuring", "experiment", "results", "ethics", "reproducibility")


def page(built_book, name: str) -> BeautifulSoup:
    return BeautifulSoup((built_book["html"] / "book" / f"{name}.html").read_text(), "html.parser")


def glued_texts(soup: BeautifulSoup) -> list[str]:
    return [span.get_text(strip=True) for span in soup.select("span.pasted-text")]


def test_fresh_smoke_build_is_quick(built_book):
    assert built_book["elapsed_s"] < 180
    assert "[Conv2D, repeat 1/2] epoch 1/2" in built_book["completed"].stderr  # progress was visible
    for output in (built_book["completed"].stderr, built_book["completed"].stdout):
        assert not FRAMEWORK_LINE.search(output), output[:2000]  # the framework's log lines stayed out


def test_every_chapter_exists_as_a_page(built_book):
    chapters = toc_chapters()
    assert len(chapters) >= 8
    for chapter in chapters:
        path = built_book["html"] / f"{chapter}.html"
        assert path.exists(), chapter
        assert "Traceback" not in path.read_text(), chapter


def table_rows(table) -> tuple[list[str], dict[str, list[str]]]:
    """The one header row, and each row's cells by its heading."""
    (header,) = table.find("thead").find_all("tr")  # one header row: no row of index names under it
    rows = {
        row.find("th").get_text(strip=True): [cell.get_text() for cell in row.find_all("td")]
        for row in table.find("tbody").find_all("tr")
    }
    return [cell.get_text(strip=True) for cell in header.find_all("th")], rows


HEADLINE_ROWS = ("test accuracy (%)", "test loss", "training time (", "energy (", "emissions (", "emission rate (")
MEDIAN_AND_RANGE = re.compile(r"^([\d,.]+)\n\(([\d,.]+)–([\d,.]+)\)$")


def number(text: str) -> float:
    return float(text.replace(",", ""))


def test_headline_table_holds_both_models_and_the_six_metrics_with_units(built_book):
    record = built_book["record"]
    tables = page(built_book, "experiment").select("table.convcarbon-table")
    # The page shows the models' layer tables first (the code a student copies), then the results.
    headline = next(index for index, table in enumerate(tables) if "separable / standard" in table.thead.get_text())
    headers, rows = table_rows(tables[headline])
    assert headers[1:] == ["Conv2D", "SeparableConv2D", "separable / standard"]
    assert len(rows) == len(HEADLINE_ROWS)
    for label, start in zip(rows, HEADLINE_ROWS):
        assert label.startswith(start), (label, start)
        for cell in rows[label][:2]:
            median, low, high = (number(part) for part in MEDIAN_AND_RANGE.match(cell).groups())
            assert 0 < low <= median <= high, (label, cell)
        point, low, high = (number(part) for part in MEDIAN_AND_RANGE.match(rows[label][2]).groups())
        assert low <= point <= high, (label, rows[label][2])
    accuracy = statistics.median(run["test_accuracy"] for run in record["runs"] if run["model"] == "Conv2D")
    assert rows["test accuracy (%)"][0].startswith(f"{accuracy * 100:.1f}\n")
    energy_label = next(label for label in rows if label.startswith("energy ("))
    assert energy_label in ("energy (mWh)", "energy (Wh)", "energy (kWh)")
    _, details = table_rows(tables[headline + 1])
    assert any(label.startswith("each later epoch (") for label in details)
    assert details["CPU energy obtained by"][0] == record["runs"][0]["cpu_tracking_method"]


def test_glued_numbers_match_the_stored_result(built_book):
    record = built_book["record"]

    def median(model, field):
        return statistics.median(run[field] for run in record["runs"] if run["model"] == model)

    experiment = page(built_book, "experiment")
    text = " ".join(experiment.get_text(" ", strip=True).split())
    assert f"a median test accuracy of {median('SeparableConv2D', 'test_accuracy') * 100:.3g} % against " in text
    energy_ratio = median("SeparableConv2D", "energy_consumed_kwh") / median("Conv2D", "energy_consumed_kwh")
    assert f"its energy ratio was {energy_ratio:.2f} (95% interval " in text  # a glued ratio, with its interval
    results = " ".join(page(built_book, "results").get_text(" ", strip=True).split())
    intensity = CARBON_INTENSITY_G_PER_KWH.text(record["runs"][0]["carbon_intensity_g_per_kwh"])
    assert f"This build used {intensity}" in results  # carbon intensity reads one way


def test_every_chapter_glued_exactly_the_keys_it_declares(built_book):
    """The glue surface as built: what each chapter's executed notebook glued is what it declares
    (site.glue_keys) and so, by test_glue_keys, what its Markdown places."""
    from convcarbon.site.glue_keys import CHAPTER_GLUE_KEYS

    executed = built_book["root"] / "_build" / "jupyter_execute" / "book"
    for chapter, declared in CHAPTER_GLUE_KEYS.items():
        glued = set(json.loads((executed / f"{chapter}.glue.json").read_text()))  # myst-nb's record of the glue
        assert glued == declared, (chapter, sorted(glued - declared), sorted(declared - glued))


def test_results_chapter_gives_a_verdict_warm_up_and_idle_for_every_machine(built_book):
    record = built_book["record"]
    text = page(built_book, "results").get_text(" ", strip=True)
    assert f"On {record['hardware']['cpu_model']}" in text
    assert "too few runs for a verdict (at least 3 per model are needed)" in text  # smoke: 2 repeats
    assert "The first epoch, which carries the warm-up, took" in text
    assert "After its last epoch, fit took a further" in text
    assert f"power at rest: {record['idle']['idle_power_w']:.1f} W" in text
    committed = [  # the book's training records (the atlas-* folders hold no runs)
        json.loads(path.read_text())
        for path in (REPO_ROOT / "book" / "records").glob("*/record.json")
        if not path.parent.name.startswith("atlas-")
    ]
    compared = [record, hostile_record(), *committed]  # the built record, the planted one, the book's own
    if any(run["gpu_energy_measured"] for other in compared for run in other["runs"]):
        assert "none among the records of this build" not in text
    else:
        assert "through NVML, a measurement within the counter" in " ".join(text.split())
        assert "accuracy: none among the records of this build" in " ".join(text.split())
    assert "nan" not in text.split()


def test_worked_example_is_glued_from_the_counts(built_book):
    glued = glued_texts(page(built_book, "costs"))
    assert "45,630" in glued and "9,633" in glued


def test_provenance_note_on_every_page_with_measurements(built_book):
    record = built_book["record"]
    estimated = not any(run["cpu_energy_measured"] or run["gpu_energy_measured"] for run in record["runs"])
    for name in PAGES_WITH_MEASUREMENTS:
        text = page(built_book, name).get_text(" ", strip=True)
        assert "Where these numbers come from" in text, name
        assert "profile smoke" in text, name
        assert "1,600 training and 400 validation images" in text, name  # smoke: 2,000 images, 20% validate
        assert record["hardware"]["cpu_model"] in text, name
        if estimated:
            assert "Energy here is estimated, not measured" in text, name


def test_bibliography_resolves(built_book):
    bibliography = page(built_book, "bibliography").get_text(" ", strip=True)
    for title in ("Xception", "MobileNets", "Architectural choices in computer vision"):
        assert title in bibliography
    costs_links = [link.get_text() for link in page(built_book, "costs").select("a.reference.internal")]
    assert any("Chollet" in text for text in costs_links)


def test_results_are_downloadable(built_book):
    downloads = list((built_book["html"] / "_downloads").rglob("record.json"))
    assert len(downloads) == 1
    assert json.loads(downloads[0].read_text())["fingerprint"] == built_book["record"]["fingerprint"]
    assert list((built_book["html"] / "_downloads").rglob("emissions.csv"))


def test_a_result_this_version_cannot_read_is_said_once_and_never_fails_the_build(built_book):
    stderr = built_book["completed"].stderr
    assert stderr.count(f"skipping result {built_book['results_dir'] / STALE_RESULT}: written as record schema 2") == 1
    text = page(built_book, "reproducibility").get_text(" ", strip=True)
    # The stale result, and the invalid and the linked records planted under book/records
    # (helpers.plant_hostile_records).
    assert "Not shown: 3 stored result(s) that this version cannot read or that fail validation." in text
    assert STALE_RESULT in text and "does not match the record schema at profile" in text


BROKEN_CHAPTER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A chapter that breaks

```{code-cell} ipython3
print("before the break")
raise RuntimeError("chapter broke")
```
"""
ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")


@pytest.mark.book
def test_a_failing_chapter_fails_the_build(tmp_path, mnist_path):
    """The book's own configuration and the command's flags, on a book of one chapter: one notebook runs."""
    root = copy_book(tmp_path / "broken")
    (root / "book" / "broken.md").write_text(BROKEN_CHAPTER)
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/broken\n")
    completed = run_book_command(root, root / "results", mnist_path, "--no-measure")  # the reference record
    assert completed.returncode != 0
    assert "RuntimeError: chapter broke" in ANSI_CODE.sub("", completed.stdout + completed.stderr)


def test_instructors_page_maps_every_exercise_and_shows_what_each_profile_trains(built_book):
    chapters = [chapter.removeprefix("book/") for chapter in toc_chapters()]
    exercises = {
        f"{chapter}.html#{element['id']}"
        for chapter in chapters
        for element in page(built_book, chapter).select("div.exercise[id]")
    }
    instructors = page(built_book, "instructors")
    linked = {link["href"] for link in instructors.select("table a[href]") if "#" in link["href"]}
    assert len(exercises) >= 10 and exercises <= linked  # every exercise in the book has its objective
    table = next(table for table in instructors.find_all("table") if "epochs in all" in table.get_text())
    rows = {
        row.find("th").get_text(strip=True): [cell.get_text(strip=True) for cell in row.find_all("td")]
        for row in table.find("tbody").find_all("tr")
    }
    assert set(rows) == {"full", "quick", "smoke"} and rows["full"][3] == "150"


SCIENTIFIC = re.compile(r"\b\d+(?:\.\d+)?[eE][+-]?\d+\b")
PYTHON_OBJECT = re.compile(r"<IPython\.|<[\w.]+ object>|object at 0x[0-9a-f]+")
RAW_TEX = re.compile(r"\$|\\\(|\\\)|\\\[|\\\]")


def reader_text(soup: BeautifulSoup) -> BeautifulSoup:
    """The article as a person reads it: without code (cell inputs, code spans) and typeset math."""
    article = soup.select_one("article") or soup
    for hidden in article.select("div.cell_input, pre, code, span.math, div.math, script, style"):
        hidden.decompose()
    return article


def test_no_page_shows_scientific_notation_stray_tex_or_python_object_names(built_book):
    for name in (f"{chapter}.html" for chapter in toc_chapters()):
        article = reader_text(BeautifulSoup((built_book["html"] / name).read_text(), "html.parser"))
        text = article.get_text(" ", strip=True)
        assert not SCIENTIFIC.findall(text), (name, SCIENTIFIC.findall(text))
        assert not PYTHON_OBJECT.findall(text), (name, PYTHON_OBJECT.findall(text))
        for element in article.select("p, li, figcaption, td, th, dd, dt"):
            shown = element.get_text().replace(HOSTILE_SHOWN, "")
            assert not RAW_TEX.search(shown), (name, shown[:200])


def test_the_ratio_caption_keeps_its_formula(built_book):
    caption = page(built_book, "costs").select_one("#fig-ratio figcaption")
    assert [math.get_text() for math in caption.select("span.math")] == [r"\(1/N + 1/K^2\)", r"\(N\)"]
