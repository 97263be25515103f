"""Plain `jupyter-book build . -W -n --keep-going`, as every Jupyter Book user types it, on a fresh copy.

The package's Sphinx extension measures (or reuses) at the start of the build and hands the record
to the chapters' kernels; a second build with nothing changed trains and executes nothing.
The launch buttons of every page name notebooks that exist where they point.

The builds are conftest's `plain_builds` (tests/slow_fixtures.py). The copy's results store holds the smoke
record `built_book` trained, so these builds train nothing:
that the extension trains, with progress on the terminal, when nothing is stored is the same
`run_experiment` that `built_book` and `smoke_store` run with progress on the terminal.
"""

import json
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import nbformat
import yaml
from bs4 import BeautifulSoup
from helpers import REPO_ROOT


def test_plain_build_finds_the_stored_record_and_shows_it(plain_builds, built_book):
    first = plain_builds["first"]
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "Reusing the stored result" in first.stderr and "epoch" not in first.stderr
    assert "Executing" in first.stdout  # a fresh copy: every chapter ran, each kernel finding the record
    assert len(list((plain_builds["root"] / "results").glob("smoke-*/record.json"))) == 1
    downloads = plain_builds["root"] / "_build" / "html" / "_downloads"
    assert list(downloads.rglob("emissions.csv"))
    (shown,) = downloads.rglob("record.json")
    assert json.loads(shown.read_text())["fingerprint"] == built_book["record"]["fingerprint"]
    experiment = (plain_builds["root"] / "_build" / "html" / "book" / "experiment.html").read_text()
    assert "measured when this page was built" in experiment  # the measured record, not the reference


def test_a_second_plain_build_with_nothing_changed_trains_nothing_and_is_fast(plain_builds):
    second = plain_builds["second"]
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert "Reusing the stored result" in second.stderr and "epoch" not in second.stderr
    assert "Executing" not in second.stdout  # every chapter's outputs came from the notebook cache
    assert plain_builds["second_s"] < 60


def launch_links(html_dir: Path) -> list[str]:
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text())["launch_buttons"]
    services = (config["colab_url"], config["binderhub_url"])
    return [
        link["href"]
        for page in html_dir.rglob("*.html")
        for link in BeautifulSoup(page.read_text(), "html.parser").find_all("a", href=True)
        if link["href"].startswith(services)
    ]


def test_every_launch_url_names_a_notebook_that_exists_on_the_published_branch(plain_builds):
    """Colab opens only .ipynb; Binder opens .md only with jupytext. The notebooks sit next to the
    chapters in the build and the Pages workflow pushes them to the branch the buttons name."""
    root = plain_builds["root"]
    repository = yaml.safe_load((REPO_ROOT / "_config.yml").read_text())["repository"]
    owner_and_name = urlparse(repository["url"]).path.strip("/")
    workflow = (REPO_ROOT / ".github" / "workflows" / "pages.yml").read_text()
    assert f"git push --force origin HEAD:refs/heads/{repository['branch']}" in workflow
    assert "git add --force book/*.ipynb" in workflow
    links = launch_links(root / "_build" / "html")
    chapters = [path for path in (root / "book").glob("*.md") if "```{code-cell}" in path.read_text()]
    assert len(links) == 2 * len(chapters)  # a Colab and a Binder button on every chapter with code
    for link in links:
        url = urlparse(link)
        if url.hostname == "colab.research.google.com":
            prefix = f"/github/{owner_and_name}/blob/{repository['branch']}/"
            assert url.path.startswith(prefix), link
            path = url.path.removeprefix(prefix)
        else:
            assert url.path == f"/v2/gh/{owner_and_name}/{repository['branch']}", link
            path = parse_qs(url.query)["urlpath"][0].removeprefix("tree/")
        assert path.endswith(".ipynb") and (root / path).is_file(), link
        notebook = nbformat.read(root / path, as_version=4)
        nbformat.validate(notebook)
        assert "convcarbon @ git+" in notebook.cells[[cell.cell_type for cell in notebook.cells].index("code")].source
