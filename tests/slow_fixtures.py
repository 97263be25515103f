"""The suite's slow fixtures: what each trains or builds, and their start, together, in background threads.

Each slow fixture is one or two real commands (a training, a build of the book) in child processes, and one
such command keeps about one of a 2-core machine's cores busy (training and building use two at times, and
wait at others). Started one after another, as pytest asks for them, they left the second core idle for much
of the suite. So at the start of a session (`SlowFixtures`), every slow fixture that a selected test needs
starts in a background thread of its own (`STEPS`), once the fixture it is made from is ready. A fixture in
conftest.py waits for its own result (`SlowFixtures.result`); a failure is raised there, in the tests that use
it, as before. The commands, their options and every check on their output are unchanged. The two whose time
a test limits, the smoke training and the fresh build of the book, run first, one after the other, at normal
priority; the other slow fixtures start once they are made, and those and the tests in pytest's own thread
yield the CPU to them (`yield_cpu`). On the AMD EPYC VM the smoke training then took 32 s (25 s alone) and the
fresh build 71 s (53 s alone), against their limits of 180 s. The machine is busier during the trainings,
which the tests allow: a record's quietness evidence may say busy.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from threading import Thread

from helpers import (
    FAULT_RUN_OPTIONS,
    NETWORK_GUARD,
    SMOKE_RUN_ARGUMENTS,
    STALE_RESULT,
    TRACKER_FAULT,
    child_environment,
    convcarbon_command,
    copy_book,
    copy_store,
    plant_bad_records,
    plant_hostile_records,
    run_book_command,
    stored_folders,
    write_runner_artifacts,
)

from convcarbon.records.store import ResultStore


def smoke_store(folder: Path, mnist_path: str) -> dict:
    """`python -m convcarbon run` with SMOKE_RUN_ARGUMENTS, started twice at once on an empty store, as two
    terminals or CI jobs might: one trains, the other waits for the store's lock and reuses the record."""
    results_dir = folder / "results"
    command = convcarbon_command("run", *SMOKE_RUN_ARGUMENTS, results_dir=results_dir)
    environment = child_environment(mnist_path, PYTHONFAULTHANDLER="1")
    started = time.perf_counter()
    processes = [
        subprocess.Popen(command, env=environment, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=600) for process in processes]
    runs = [
        subprocess.CompletedProcess(command, process.returncode, out, err)
        for process, (out, err) in zip(processes, outputs)
    ]
    elapsed_s = time.perf_counter() - started
    assert [run.returncode for run in runs] == [0, 0], [run.stderr[-3000:] for run in runs]
    (record_folder,) = stored_folders(results_dir)
    return {
        "results_dir": results_dir,
        "folder": record_folder,
        "record": json.loads((record_folder / "record.json").read_text()),
        "arguments": SMOKE_RUN_ARGUMENTS,
        "runs": runs,
        "trainer": next((run for run in runs if "Training both models" in run.stderr), None),
        "elapsed_s": elapsed_s,
    }


def built_book(folder: Path, mnist_path: str) -> dict:
    """`python -m convcarbon book --profile smoke` in a copy of the book, from nothing, under the network guard,
    with a hostile and an invalid committed record and a stale result in the store (conftest.built_book)."""
    root = copy_book(folder)
    plant_hostile_records(root / "book" / "records")
    results_dir = root / "results"
    # A result left in the store by an older version, as after an upgrade: skipped, said, never fatal.
    (results_dir / STALE_RESULT).mkdir(parents=True)
    (results_dir / STALE_RESULT / "record.json").write_text(
        json.dumps({"schema_version": 2, "profile": "quick", "runs": []})
    )
    network_log = root.parent / "network.log"
    started = time.perf_counter()
    completed = run_book_command(
        root, results_dir, mnist_path, sitecustomize_dir=NETWORK_GUARD, CONVCARBON_NETWORK_LOG=str(network_log)
    )
    elapsed_s = time.perf_counter() - started
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    (record_folder,) = [path for path in stored_folders(results_dir) if path.name != STALE_RESULT]
    return {
        "root": root,
        "html": root / "_build" / "html",
        "results_dir": results_dir,
        "record": json.loads((record_folder / "record.json").read_text()),
        "elapsed_s": elapsed_s,
        "completed": completed,
        "network_log": network_log,
    }


def hostile_reference_book(folder: Path, mnist_path: str, store: dict) -> dict:
    """The Pages job's build (conftest.hostile_reference_book): `collect` of the runners' records (with the
    session's real smoke record, `store`), then `book --no-measure`."""
    root = copy_book(folder / "book")
    just_before_now = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat(timespec="seconds")
    plant_hostile_records(root / "book" / "records", created_utc=just_before_now)
    plant_bad_records(root / "book" / "records")
    write_runner_artifacts(folder / "artifacts", store["folder"])
    environment = child_environment(mnist_path)
    environment.pop("CONVCARBON_PROFILE", None)
    collected, completed = (
        subprocess.run(
            [sys.executable, "-m", "convcarbon", *arguments],
            cwd=root,
            env=environment,
            capture_output=True,
            text=True,
            timeout=900,
        )
        for arguments in (["collect", str(folder / "artifacts")], ["book", "--no-measure"])
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return {"root": root, "html": root / "_build" / "html", "completed": completed, "collected": collected}


def jupyter_book_build(root: Path, environment: dict) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).parent / "jupyter-book"), "build", ".", "-W", "-n", "--keep-going"]
    return subprocess.run(command, cwd=root, env=environment, capture_output=True, text=True, timeout=900)


def plain_builds(folder: Path, mnist_path: str, book: dict) -> dict:
    """Plain `jupyter-book build` twice in a fresh copy of the book whose store holds `book`'s record
    (conftest.plain_builds)."""
    root = copy_book(folder)
    record = book["record"]
    stored = book["results_dir"] / ResultStore.key(record["profile"], record["fingerprint"])
    shutil.copytree(stored, root / "results" / stored.name)  # the default store: ./results
    environment = child_environment(mnist_path, CONVCARBON_PROFILE="smoke")
    for name in ("CONVCARBON_RECORD", "CONVCARBON_RESULTS", "CONVCARBON_MEASURE"):
        environment.pop(name, None)
    first = jupyter_book_build(root, environment)
    started = time.perf_counter()
    second = jupyter_book_build(root, environment)
    return {"root": root, "first": first, "second": second, "second_s": time.perf_counter() - started}


def fault_run_command(results_dir: Path) -> list[str]:
    """The faulty run's work (FAULT_RUN_OPTIONS on the smoke profile), as `faulty_run` and `damaged_rerun` run it."""
    return convcarbon_command("run", *FAULT_RUN_OPTIONS, "--profile", "smoke", results_dir=results_dir)


def faulty_run(folder: Path, mnist_path: str) -> tuple[subprocess.CompletedProcess, Path]:
    """One smoke run whose trackers fail (tests/tracker_fault, `mixed`): its CompletedProcess and results store."""
    results_dir = folder / "results"
    environment = child_environment(mnist_path, TRACKER_FAULT, CONVCARBON_TEST_TRACKER_FAULT="mixed")
    completed = subprocess.run(
        fault_run_command(results_dir),
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return completed, results_dir


def damaged_rerun(folder: Path, mnist_path: str, faulty: tuple) -> dict:
    """The faulty run's record in a store of its own, truncated, and the same work run again with its trackers
    working (conftest.damaged_rerun): the record as it was, the record's path, and the second run."""
    _, faulty_results = faulty
    (record_folder,) = stored_folders(faulty_results)
    results_dir = copy_store(record_folder, folder / "results")
    record_path = results_dir / record_folder.name / "record.json"
    record = json.loads(record_path.read_text())
    record_path.write_text(record_path.read_text()[:200])
    again = subprocess.run(
        fault_run_command(results_dir),
        env=child_environment(mnist_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    return {"again": again, "record": record, "record_path": record_path}


@dataclass(frozen=True)
class Step:
    """How a slow fixture is made: by `make`, given the result of the fixture it is `made_from` (if any), and not
    before the fixture it comes `after` is made, where the session needs that one too. One that `yields` starts
    once every one that does not is made, and runs at a lower priority (nice 10: its thread and every process it
    starts)."""

    make: Callable
    made_from: str | None = None
    after: str | None = None
    yields: bool = False


# The smoke training and the fresh build of the book, whose times tests limit (180 s each), run first, one after
# the other, at normal priority; the other slow fixtures start after them, and they and the tests themselves
# (conftest.slow_fixtures) yield the CPU.
STEPS = {
    "smoke_store": Step(smoke_store),
    "built_book": Step(built_book, after="smoke_store"),
    "faulty_run": Step(faulty_run, yields=True),
    "damaged_rerun": Step(damaged_rerun, made_from="faulty_run", yields=True),
    "hostile_reference_book": Step(hostile_reference_book, made_from="smoke_store", yields=True),
    "plain_builds": Step(plain_builds, made_from="built_book", yields=True),
}
SLOW_FIXTURES = set(STEPS)
LOWER_PRIORITY = 10


def yield_cpu() -> None:
    """The calling thread, and every process it starts from now on, yield the CPU: on Linux a thread's nice
    value is its own (setpriority(2)), and a child process inherits its thread's."""
    if hasattr(os, "setpriority"):
        os.setpriority(os.PRIO_PROCESS, 0, LOWER_PRIORITY)


class SlowFixtures:
    """The slow fixtures a session needs, each being made in a background thread of its own (`STEPS`):
    `result(name)` waits for one."""

    def __init__(self, wanted: set[str], folder_for, mnist_path: str):
        needed = set()
        for name in wanted & SLOW_FIXTURES:
            while name is not None and name not in needed:
                needed.add(name)
                name = STEPS[name].made_from
        self.futures: dict[str, Future] = {name: Future() for name in needed}
        folders = {name: folder_for(name) for name in sorted(needed)}  # made here: pytest's factory is not threadsafe
        self.threads = [
            Thread(target=self._make, args=(name, folders[name], mnist_path), daemon=True) for name in sorted(needed)
        ]
        for thread in self.threads:
            thread.start()

    def _make(self, name: str, folder: Path, mnist_path: str) -> None:
        step, future = STEPS[name], self.futures[name]
        try:
            if step.after in self.futures:
                self.futures[step.after].exception()  # made, or failed: either way this one may start
            if step.yields:  # starts once the fixtures whose time is limited are made, niced as the tests are
                for other, future_of_other in self.futures.items():
                    if not STEPS[other].yields:
                        future_of_other.exception()
                yield_cpu()
            given = () if step.made_from is None else (self.futures[step.made_from].result(),)
            future.set_result(step.make(folder, mnist_path, *given))
        except BaseException as error:  # noqa: BLE001 (raised again where a test asks for it)
            future.set_exception(error)

    def result(self, name: str):
        return self.futures[name].result()

    def join(self) -> None:
        for thread in self.threads:
            thread.join()
