"""Every chapter as a notebook on its own, as a student runs it in Colab or in any folder.

Each chapter is converted to .ipynb (as the build does for the launch buttons)
and executed alone in an empty folder: no _config.yml, no results store, no
CONVCARBON_* variable, and no network (tests/network_guard). It must raise
nothing, show the book's reference records, train nothing and finish quickly.
The chapters run one per CPU at a time, each in its own process and folder.
"""

import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from helpers import NETWORK_GUARD, REPO_ROOT

from convcarbon.site.notebooks import write_notebooks
from convcarbon.site.sphinx_parallel import chapter_jobs

CHAPTER_TIMEOUT_S = 300
RUN_ALONE_TEST = "test_chapter_runs_alone_in_an_empty_folder_offline"


def chapter_notebooks(folder: Path) -> list[Path]:
    folder.mkdir()
    for chapter in (REPO_ROOT / "book").glob("*.md"):
        shutil.copyfile(chapter, folder / chapter.name)
    return write_notebooks(folder)


NOTEBOOK_NAMES = [path.stem for path in (REPO_ROOT / "book").glob("*.md") if "```{code-cell}" in path.read_text()]


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory) -> dict[str, Path]:
    return {path.stem: path for path in chapter_notebooks(tmp_path_factory.mktemp("chapters") / "book")}


def run_alone(notebook_source: Path, tmp_path: Path) -> dict:
    """Execute a copy of the chapter's notebook alone, offline, in an empty folder, as a student would."""
    folder = tmp_path / "student"
    folder.mkdir()
    notebook = folder / notebook_source.name
    shutil.copyfile(notebook_source, notebook)
    network_log = tmp_path / "network.log"
    environment = {key: value for key, value in os.environ.items() if not key.startswith("CONVCARBON_")}
    environment.update(
        CONVCARBON_NETWORK_LOG=str(network_log),
        PYTHONPATH=os.pathsep.join([str(NETWORK_GUARD), str(REPO_ROOT / "src")]),
    )
    started = time.perf_counter()
    completed = subprocess.run(
        [
            str(Path(sys.executable).parent / "jupyter-execute"),
            "--inplace",
            f"--timeout={CHAPTER_TIMEOUT_S}",
            notebook.name,
        ],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=CHAPTER_TIMEOUT_S + 60,
    )
    elapsed_s = time.perf_counter() - started
    return {
        "folder": folder,
        "notebook": notebook,
        "network_log": network_log,
        "completed": completed,
        "elapsed_s": elapsed_s,
    }


@pytest.fixture(scope="module")
def chapters_run_alone(request, notebooks, tmp_path_factory) -> dict[str, dict]:
    """Every chapter this session's tests ask for, each run alone (`run_alone`), one per CPU at a time: each
    is its own process in its own folder, as on separate students' machines."""
    wanted = sorted(
        {item.callspec.params["name"] for item in request.session.items if item.originalname == RUN_ALONE_TEST}
    )
    with ThreadPoolExecutor(max_workers=chapter_jobs("auto")) as pool:
        runs = {name: pool.submit(run_alone, notebooks[name], tmp_path_factory.mktemp(name)) for name in wanted}
        return {name: run.result() for name, run in runs.items()}


@pytest.mark.book  # executes a chapter, as a build does: out of the fast path
@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_chapter_runs_alone_in_an_empty_folder_offline(name, notebooks, chapters_run_alone):
    run = chapters_run_alone[name]
    completed, notebook, network_log = run["completed"], run["notebook"], run["network_log"]
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert run["elapsed_s"] < CHAPTER_TIMEOUT_S
    assert not network_log.exists(), network_log.read_text()
    assert sorted(path.name for path in run["folder"].iterdir()) == [
        notebook.name
    ]  # no store, no download, nothing trained
    outputs = [output for cell in nbformat.read(notebook, as_version=4).cells for output in cell.get("outputs", [])]
    assert [output for output in outputs if output.output_type == "error" or output.get("name") == "stderr"] == []
    outputs = "".join(str(output) for output in outputs)
    if "book.current_record()" in notebooks[name].read_text():
        assert (
            "These numbers come from the reference record of this book, stored, not measured for this page" in outputs
        )


def test_every_chapter_starts_with_the_cell_that_installs_the_package_from_this_repository():
    """Colab has no convcarbon: the first code cell installs it from the repository the book names
    (the Pages workflow rewrites that address in _config.yml and the chapters alike)."""
    import jupytext
    import yaml

    url = yaml.safe_load((REPO_ROOT / "_config.yml").read_text())["repository"]["url"]
    for name in NOTEBOOK_NAMES:
        notebook = jupytext.read(REPO_ROOT / "book" / f"{name}.md", fmt="md:myst")
        first = next(cell for cell in notebook.cells if cell.cell_type == "code")
        assert f'"convcarbon @ git+{url}"' in first.source and 'find_spec("convcarbon") is None' in first.source, name
        assert first.metadata["tags"] == ["remove-cell"], name


@pytest.mark.training
def test_measure_trains_only_when_asked_with_progress_in_the_notebook(tmp_path, monkeypatch, capsys, mnist_path):
    monkeypatch.chdir(tmp_path)  # outside any book, as in Colab
    monkeypatch.setenv("CONVCARBON_MNIST", mnist_path)  # absolute: the README's default is relative to the checkout
    for name in ("CONVCARBON_RECORD", "CONVCARBON_RESULTS", "CONVCARBON_PROFILE"):
        monkeypatch.setenv(name, "")  # so that the test's end restores each to what it was
        monkeypatch.delenv(name)
    from convcarbon.site import book

    assert book.current_record()["shown_as_reference"]
    record = book.measure_this_machine(profile="smoke", repeats=1, idle_seconds=0)  # one run per model is enough
    printed = capsys.readouterr()
    assert "[Conv2D] epoch 1/2" in printed.out and "[SeparableConv2D] epoch 2/2" in printed.out
    assert "epoch" not in printed.err
    shown = book.current_record()
    assert shown["fingerprint"] == record["fingerprint"] and "shown_as_reference" not in shown
    assert list((tmp_path / "results").glob("smoke-*/record.json"))
    assert "measured when this page was built" in book.provenance_note(shown).data
