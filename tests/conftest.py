"""Shared test fixtures: the real MNIST file, and small fake ones that are broken on purpose."""

import os
import re
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def mnist_path() -> str:
    path = os.environ.get("CONVCARBON_MNIST")
    if not path or not Path(path).is_file():
        pytest.fail("set CONVCARBON_MNIST to a local mnist.npz (CI uses ../shared/data/mnist.npz)")
    return str(Path(path).resolve())  # absolute: child processes run in other folders


def valid_mnist_arrays() -> dict:
    """Arrays of MNIST's shapes and dtypes, all zeros: valid layout, not real data."""
    return {
        "x_train": np.zeros((60_000, 28, 28), dtype=np.uint8),
        "y_train": np.zeros((60_000,), dtype=np.uint8),
        "x_test": np.zeros((10_000, 28, 28), dtype=np.uint8),
        "y_test": np.zeros((10_000,), dtype=np.uint8),
    }


@pytest.fixture
def write_npz(tmp_path):
    """Write arrays to an .npz file in tmp_path and return its path."""

    def write(name: str = "mnist.npz", **arrays) -> Path:
        path = tmp_path / name
        np.savez_compressed(path, **arrays)
        return path

    return write


BOOK_FILES = ("_config.yml", "_toc.yml", "book")


def copy_book(target: Path) -> Path:
    """A copy of the book's sources (not the package, which is installed) in `target`."""
    import shutil

    target.mkdir(parents=True, exist_ok=True)
    for name in BOOK_FILES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("_generated", "*.ipynb_checkpoints"))
        else:
            shutil.copyfile(source, target / name)
    return target


def convcarbon_command(*arguments, results_dir) -> list[str]:
    """The command line a user types, run by this interpreter, on a given results store."""
    import sys

    return [sys.executable, "-m", "convcarbon", *arguments, "--results-dir", str(results_dir)]


def child_environment(mnist_path: str, sitecustomize_dir: Path | None = None, **variables) -> dict:
    """This environment with MNIST named, optionally loading a test-only sitecustomize first."""
    environment = {**os.environ, "CONVCARBON_MNIST": mnist_path, **variables}
    if sitecustomize_dir is not None:
        environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(sitecustomize_dir), os.environ.get("PYTHONPATH")])
        )
    return environment


# What TensorFlow's C++ logging writes on a CPU-only machine (absl's format: severity, date, time, thread,
# file:line]), and the notebook kernels' warning: none of it may reach the terminal unless asked for.
FRAMEWORK_LINE = re.compile(
    r"^[IWEF]\d{4} \d\d:\d\d:\S+ +\d+ \S+:\d+\]|absl::InitializeLog|oneDNN|cuInit"
    r"|Kernel is running over TCP",
    re.MULTILINE,
)


def run_book_command(root: Path, results_dir: Path, mnist_path: str, **environment):
    import subprocess

    return subprocess.run(
        convcarbon_command("book", "--profile", "smoke", results_dir=results_dir),
        cwd=root,
        env=child_environment(mnist_path, **environment),
        capture_output=True,
        text=True,
        timeout=900,
    )


STALE_RESULT = "quick-written-by-an-older-version"
# Records as a stranger could commit them: one valid but with markup and script in every text field,
# one invalid, in a folder whose very name is markup. Neither may ever render as HTML.
HOSTILE_RECORD = "seed-hostile-contributor"
INVALID_RECORD = '<img src=x onerror="window.__pwned=3">'


def plant_hostile_records(records_dir: Path, created_utc: str | None = None) -> None:
    """Plant both; with `created_utc` (newer than every committed seed record), the hostile record
    becomes the book's reference record."""
    import json

    from test_records import hostile_record

    hostile = hostile_record() if created_utc is None else {**hostile_record(), "created_utc": created_utc}
    for name, record in (
        (HOSTILE_RECORD, hostile),
        (INVALID_RECORD, {**hostile_record(), "profile": "<script>window.__pwned=4</script>"}),
    ):
        (records_dir / name).mkdir(parents=True)
        (records_dir / name / "record.json").write_text(json.dumps(record))


@pytest.fixture(scope="session")
def built_book(tmp_path_factory, mnist_path):
    """The whole book built from nothing on the smoke profile, in a temporary copy."""
    import json
    import time

    root = copy_book(tmp_path_factory.mktemp("book"))
    plant_hostile_records(root / "book" / "records")
    results_dir = root / "results"
    # A result left in the store by an older version, as after an upgrade: skipped, said, never fatal.
    (results_dir / STALE_RESULT).mkdir(parents=True)
    (results_dir / STALE_RESULT / "record.json").write_text(
        json.dumps({"schema_version": 2, "profile": "quick", "runs": []})
    )
    started = time.perf_counter()
    completed = run_book_command(root, results_dir, mnist_path)
    elapsed_s = time.perf_counter() - started
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    (record_folder,) = [path for path in results_dir.iterdir() if not path.name.startswith((".", STALE_RESULT))]
    record = json.loads((record_folder / "record.json").read_text())
    return {
        "root": root,
        "html": root / "_build" / "html",
        "results_dir": results_dir,
        "record": record,
        "elapsed_s": elapsed_s,
        "completed": completed,
    }


@pytest.fixture(scope="session")
def site(built_book):
    """The built book served on loopback, as a reader's browser would fetch it."""
    import functools
    import http.server
    import threading

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *arguments):
            pass

    handler = functools.partial(QuietHandler, directory=str(built_book["html"]))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium, driven by Playwright (which downloads no browser of its own)."""
    import shutil

    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is missing: run tests/setup.sh (the README's test command does)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield launched
        launched.close()


# ---- The hostile record as the book's reference record (issue 15, point 3) ----
# A committed, schema-valid seed record with markup and script in every string field, dated just before
# now (so newer than every committed seed record, but not in the future), shown by `book --no-measure`
# as the Pages job builds: every page shows its strings, and must show them as text.


@pytest.fixture(scope="session")
def hostile_reference_book(tmp_path_factory, mnist_path):
    import subprocess
    import sys
    from datetime import datetime, timedelta, timezone

    root = copy_book(tmp_path_factory.mktemp("hostile-reference"))
    just_before_now = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat(timespec="seconds")
    plant_hostile_records(root / "book" / "records", created_utc=just_before_now)
    completed = subprocess.run(
        [sys.executable, "-m", "convcarbon", "book", "--no-measure", "--results-dir", str(root / "results")],
        cwd=root,
        env=child_environment(mnist_path),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return {"root": root, "html": root / "_build" / "html", "completed": completed}


@pytest.fixture(scope="session")
def hostile_reference_site(hostile_reference_book):
    """The hostile reference book served on loopback."""
    yield from _served(hostile_reference_book["html"])


def _served(html: Path):
    import functools
    import http.server
    import threading

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *arguments):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(html)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
