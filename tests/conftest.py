"""Shared fixtures. What the slow ones build is built once per session and shared; a test that changes it
works on a copy (helpers.copy_book, helpers.copy_store).

- `mnist_path`: the real MNIST file named by CONVCARBON_MNIST.
- `write_npz`: small fake MNIST files, broken on purpose.
- `smoke_store`: ONE real smoke training, by the command line: a results store holding one smoke record.
- `built_book`: ONE real build of the whole book from nothing, by `python -m convcarbon book --profile smoke`
  (it trains), under the network guard, with a hostile and an invalid committed record and a stale result.
- `site`, `browser`: that build served on loopback, and Debian's chromium to read it.
- `hostile_reference_book` (the Pages job's build), `plain_builds` (plain jupyter-book), `faulty_run` (failing
  trackers) and `damaged_rerun` (its record truncated, then the same work again).

What each slow fixture runs is in slow_fixtures.py: every one the selected tests need starts at the beginning of
the session, in background threads (`slow_fixtures` below), and the fixture waits for its own.

A test that uses `built_book` (or `site`) is marked `book` and `training`, one that uses `smoke_store` is marked
`training`, by `pytest_collection_modifyitems` below: `pytest -m "not training and not book"` leaves them out.
Helpers (copying the book, the command line, hostile records) are in helpers.py; synthetic records in synthetic.py.

Before a new test trains or builds anything of its own:
- a built smoke book to read (HTML, the build's output, its record): `built_book`; in a browser: `site`, `browser`;
- one trained smoke record (a record, a store to run `run` again on, its terminal output): `smoke_store`;
- a book built another way (plain jupyter-book, `--no-measure`, other records): `helpers.copy_book`, then copy
  built_book's record into the copy's results/ so that the build trains nothing (test_plain_build does), and
  `helpers.plant_hostile_records` for the hostile committed records;
- records with chosen numbers: synthetic.py, no training at all.
A test that builds or trains by itself carries `@pytest.mark.book` or `@pytest.mark.training` (--strict-markers).
"""

import os
from pathlib import Path

import numpy as np
import pytest
from slow_fixtures import SLOW_FIXTURES, SlowFixtures, yield_cpu

# The markers each shared fixture brings to every test that uses it, directly or through another fixture.
FIXTURE_MARKERS = {
    "built_book": ("book", "training"),
    "smoke_store": ("training",),
    "hostile_reference_book": ("book", "training"),
    "faulty_run": ("training",),
    "damaged_rerun": ("training",),
}


def pytest_collection_modifyitems(items):
    """Marks each test by the shared fixtures it uses, then runs the modules that wait for a slow fixture last
    (in their order, each module's tests together), so that the others run while those are being made; the tests
    marked `timing` run after everything else."""
    for item in items:
        for fixture, markers in FIXTURE_MARKERS.items():
            if fixture in getattr(item, "fixturenames", ()):
                for marker in markers:
                    item.add_marker(marker)
    waiting = {item.module for item in items if SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))}
    items.sort(
        key=lambda item: (item.get_closest_marker("timing") is not None, getattr(item, "module", None) in waiting)
    )


@pytest.fixture(autouse=True)
def quiet_for_timing(request, slow_fixtures):
    """A test marked `timing` compares two timings: it starts once the background work has finished."""
    if slow_fixtures is not None and request.node.get_closest_marker("timing"):
        slow_fixtures.join()


def named_mnist() -> str | None:
    """The absolute path of the real mnist.npz named by CONVCARBON_MNIST (child processes run in other folders),
    or None when it names no file."""
    path = os.environ.get("CONVCARBON_MNIST")
    return str(Path(path).resolve()) if path and Path(path).is_file() else None


@pytest.fixture(scope="session")
def mnist_path() -> str:
    """`named_mnist`, or the test fails saying what to set."""
    path = named_mnist()
    if path is None:
        pytest.fail("set CONVCARBON_MNIST to a local mnist.npz (CI uses ../shared/data/mnist.npz)")
    return path


@pytest.fixture
def write_npz(tmp_path):
    """Write arrays to an .npz file in tmp_path and return its path."""

    def write(name: str = "mnist.npz", **arrays) -> Path:
        path = tmp_path / name
        np.savez_compressed(path, **arrays)
        return path

    return write


@pytest.fixture(scope="session", autouse=True)
def slow_fixtures(request, tmp_path_factory):
    """Every slow fixture the selected tests need, started at once in the background (tests/slow_fixtures.py).
    Without a readable CONVCARBON_MNIST nothing starts, and each slow fixture fails in mnist_path, saying so."""
    wanted = {name for item in request.session.items for name in item.fixturenames if name in SLOW_FIXTURES}
    path = named_mnist()
    if not wanted or path is None:
        yield None
        return
    started = SlowFixtures(wanted, tmp_path_factory.mktemp, path)
    yield_cpu()  # the tests, in this thread, yield to the slow fixtures whose time a test limits
    yield started
    started.join()  # no child process outlives the session


@pytest.fixture(scope="session")
def smoke_store(slow_fixtures, mnist_path) -> dict:
    """The one real smoke training of the session: `python -m convcarbon run` with SMOKE_RUN_ARGUMENTS, started
    twice at once on an empty store, as two terminals or CI jobs might: one trains, the other waits for the
    store's lock and reuses the record. Read it; to change the store, copy it first (helpers.copy_store).

    Holds: results_dir, folder (the record's folder), record, arguments (to run the same work again),
    runs (both CompletedProcess), trainer (the one that trained), elapsed_s (until both had finished).
    """
    return slow_fixtures.result("smoke_store")


@pytest.fixture(scope="session")
def built_book(slow_fixtures, mnist_path) -> dict:
    """The whole book built from nothing, by `python -m convcarbon book --profile smoke` in a temporary copy: it
    trains both models, then builds every chapter. Read it; never change its files (copy_book for a book of
    your own, copy_store on results_dir / the record's folder for its record).

    The copy carries what a careless or hostile contributor could leave: a valid committed record with markup in
    every text field (helpers.HOSTILE_RECORD), an invalid one (helpers.INVALID_RECORD), and in the results store a
    result written by an older version (STALE_RESULT). The build runs under tests/network_guard: every attempt
    to reach the network is written to network_log.

    Holds: root, html (the site), results_dir, record (the smoke record it trained), elapsed_s, completed (the
    CompletedProcess), network_log.
    """
    return slow_fixtures.result("built_book")


@pytest.fixture(scope="session")
def site(built_book):
    """The built book served on loopback, as a reader's browser would fetch it: its base URL."""
    yield from _served(built_book["html"])


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


# ---- The Pages job's build: the runners' records collected, the hostile record as the book's reference record,
# and bad records beside it (issue 15, point 3; issue 21: one build for all three) ----
# A committed, schema-valid seed record with markup and script in every string field, dated just before
# now (so newer than every committed seed record, but not in the future), shown by `book --no-measure`
# as the Pages job builds: every page shows its strings, and must show them as text. The same build carries
# the bad records (NaN, Infinity, absurd numbers, a future date, a home path, epochs that do not add up) and
# a record of mixed wattages: one bad record never stops the book (test_bad_records). Before it builds, as the
# Pages job does, `collect` brings in the runners' records (helpers.write_runner_artifacts, with the session's
# real smoke record): the valid ones are shown, the others skipped with their reason (test_publish).


@pytest.fixture(scope="session")
def hostile_reference_book(slow_fixtures, mnist_path, smoke_store) -> dict:
    """Holds: root, html, completed (the book command), collected (the collect command)."""
    return slow_fixtures.result("hostile_reference_book")


@pytest.fixture(scope="session")
def plain_builds(slow_fixtures, mnist_path, built_book) -> dict:
    """Plain `jupyter-book build . -W -n --keep-going` twice, in a fresh copy of the book whose default store
    (./results) holds built_book's record, so that neither build trains (test_plain_build).
    Holds: root, first and second (CompletedProcess), second_s."""
    return slow_fixtures.result("plain_builds")


@pytest.fixture(scope="session")
def faulty_run(slow_fixtures, mnist_path):
    """The CompletedProcess of one smoke run whose trackers fail (tests/tracker_fault, `mixed`: the Conv2D
    model's at start, the others at stop), and its results store (test_reliability)."""
    return slow_fixtures.result("faulty_run")


@pytest.fixture(scope="session")
def damaged_rerun(slow_fixtures, mnist_path, faulty_run) -> dict:
    """faulty_run's record truncated in a store of its own, and the same work run again (test_reliability).
    Holds: again (CompletedProcess), record (as it was before), record_path."""
    return slow_fixtures.result("damaged_rerun")


@pytest.fixture(scope="session")
def hostile_reference_site(hostile_reference_book):
    """The hostile reference book served on loopback."""
    yield from _served(hostile_reference_book["html"])


def _served(html: Path):
    """`html` served on loopback (a free port) while the generator is suspended: its base URL."""
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
