"""Helpers shared by the test modules: the book's files, the command line, child environments, hostile records.

Test modules import from here (or from synthetic.py), never from one another. The fixtures built on these
helpers are in conftest.py.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import yaml
from synthetic import make_hardware, paired_record

from convcarbon.atlas.measure.store import FOLDER_PREFIX as ATLAS_FOLDER_PREFIX
from convcarbon.records.store import ResultStore

REPO_ROOT = Path(__file__).resolve().parents[1]
NETWORK_GUARD = REPO_ROOT / "tests" / "network_guard"  # a sitecustomize: no network but loopback
TRACKER_FAULT = REPO_ROOT / "tests" / "tracker_fault"  # a sitecustomize: CodeCarbon fails on purpose

BOOK_FILES = ("_config.yml", "_toc.yml", "book")


def copy_book(target: Path) -> Path:
    """A copy of the book's sources (not the package, which is installed) in `target`."""
    target.mkdir(parents=True, exist_ok=True)
    for name in BOOK_FILES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("_generated", "*.ipynb_checkpoints"))
        else:
            shutil.copyfile(source, target / name)
    return target


def stub_chapters(root: Path, keep: tuple[str, ...]) -> None:
    """In a copy of the book, every page of the table of contents but `keep` (and the bibliography, which the
    kept pages cite) becomes a stub of its title and its labels, with no code: a build of the copy, with the
    real configuration and `-n -W`, executes only the kept chapters, and every cross-reference still resolves."""
    for page in toc_chapters():
        if page in keep or page == "book/bibliography":
            continue
        source = root / f"{page}.md"
        lines = source.read_text().splitlines()
        title = next(line for line in lines if line.startswith("# "))
        labels = [line for line in lines if re.fullmatch(r"\(\S+\)=", line)]
        source.write_text("\n".join([title, *(f"{label}\n## {label[1:-2]}" for label in labels)]) + "\n")


def toc_chapters() -> list[str]:
    """Every page of the book, as _toc.yml names it (book/index, book/costs, ...)."""
    toc = yaml.safe_load((REPO_ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [entry["file"] for entry in toc["chapters"]]


def convcarbon_command(*arguments, results_dir) -> list[str]:
    """The command line a user types, run by this interpreter, on a given results store."""
    return [sys.executable, "-m", "convcarbon", *arguments, "--results-dir", str(results_dir)]


def child_environment(mnist_path: str, sitecustomize_dir: Path | None = None, **variables) -> dict:
    """This environment with MNIST named, optionally loading a test-only sitecustomize first."""
    environment = {**os.environ, "CONVCARBON_MNIST": mnist_path, **variables}
    if sitecustomize_dir is not None:
        environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(sitecustomize_dir), os.environ.get("PYTHONPATH")])
        )
    return environment


def run_book_command(root: Path, results_dir: Path, mnist_path: str, *options, **environment):
    """`python -m convcarbon book --profile smoke [options]` in `root`, as a user runs it."""
    return subprocess.run(
        convcarbon_command("book", "--profile", "smoke", *options, results_dir=results_dir),
        cwd=root,
        env=child_environment(mnist_path, **environment),
        capture_output=True,
        text=True,
        timeout=900,
    )


# The session's one smoke training (conftest.smoke_store) runs with these: a grid and a PUE other than the
# defaults, so that the emissions identity is tested where it can fail. Run them again to reuse its record.
SMOKE_RUN_ARGUMENTS = ("--profile", "smoke", "--country", "FRA", "--pue", "1.25")
# A faulty run (tests/tracker_fault) trains one repeat per model, without the idle measurement.
FAULT_RUN_OPTIONS = ("--repeats", "1", "--idle-seconds", "0")


def copy_store(store_folder: Path, target: Path) -> Path:
    """A results store in `target` holding a copy of one stored record's folder; returns the store."""
    shutil.copytree(store_folder, target / store_folder.name)
    return target


def stored_folders(results_dir: Path) -> list[Path]:
    """The training-record folders of a results store (not its lock, a staging folder or an atlas)."""
    return [path for path in results_dir.iterdir() if not path.name.startswith((".", ATLAS_FOLDER_PREFIX))]


def valid_mnist_arrays() -> dict:
    """Arrays of MNIST's shapes and dtypes, all zeros: valid layout, not real data."""
    return {
        "x_train": np.zeros((60_000, 28, 28), dtype=np.uint8),
        "y_train": np.zeros((60_000,), dtype=np.uint8),
        "x_test": np.zeros((10_000, 28, 28), dtype=np.uint8),
        "y_test": np.zeros((10_000,), dtype=np.uint8),
    }


# What TensorFlow's C++ logging writes on a CPU-only machine (absl's format: severity, date, time, thread,
# file:line]), and the notebook kernels' warning: none of it may reach the terminal unless asked for.
FRAMEWORK_LINE = re.compile(
    r"^[IWEF]\d{4} \d\d:\d\d:\S+ +\d+ \S+:\d+\]|absl::InitializeLog|oneDNN|cuInit"
    r"|Kernel is running over TCP",
    re.MULTILINE,
)

# Text a stranger could put in any free-text field of a record: markup, script, event handlers, Markdown,
# MyST roles and TeX. It must always show as these characters.
HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>**b** $x$ {abbr}`a` [l](javascript:x)'
# The hostile markup as a page shows it, as text: not stray TeX.
HOSTILE_SHOWN = HOSTILE[HOSTILE.index("**b**") : HOSTILE.index(" {abbr}")]


def valid_record() -> dict:
    """A valid full record with three repeats per model."""
    return paired_record([0.01, 0.011, 0.012], [0.009, 0.0095, 0.01])


def hostile_record() -> dict:
    """Valid in every way except that every free-text field carries markup, script and event handlers."""
    record = valid_record()
    record["hardware"] = make_hardware(HOSTILE, gpus=[HOSTILE], os=HOSTILE, machine=HOSTILE, cpu_vendor=HOSTILE)
    record["hardware"]["gpus"][0]["driver"] = HOSTILE
    record["power_assumptions"].update(cpu_power_basis=HOSTILE, cpu_table_match=HOSTILE)
    record["versions"] = {key: HOSTILE[:60] for key in ("python", "keras", "keras_backend", "codecarbon")}
    record["config"]["country_source"] = HOSTILE
    record["dataset"]["source"] = HOSTILE.replace("/", "").replace(":", "")  # a file name: no folder, no drive
    for part in (record["idle"], *record["runs"]):
        part.update(
            country_name=HOSTILE,
            cpu_tracking_method=HOSTILE,
            gpu_tracking_method=HOSTILE,
            ram_tracking_method=HOSTILE,
            codecarbon_cpu_model=HOSTILE,
            codecarbon_gpu_model=HOSTILE,
            codecarbon_run_id=HOSTILE,
        )
    return record


# A result left in a store by an older version of the package (conftest.built_book plants one).
STALE_RESULT = "quick-written-by-an-older-version"

# Records as a stranger could commit them: one valid but with markup and script in every text field,
# one invalid, in a folder whose very name is markup. Neither may ever render as HTML.
HOSTILE_RECORD = "seed-hostile-contributor"
INVALID_RECORD = '<img src=x onerror="window.__pwned=3">'


# Files outside the book that links in a committed record folder point at: never read, never published.
LINKED_RECORD = "seed-linked-record"
LINKED_SECRET = "runner-token-linked-csv-4242"
LINKED_CPU = "Linked Record CPU 4242"


def plant_hostile_records(records_dir: Path, created_utc: str | None = None) -> None:
    """Commit HOSTILE_RECORD (valid, markup everywhere) and INVALID_RECORD (invalid) under `records_dir`; with
    `created_utc` (newer than every committed seed record), the hostile record becomes the book's reference.

    The hostile record's emissions.csv is a link to a file outside the book holding LINKED_SECRET, and
    LINKED_RECORD's record.json a link to a valid record outside it (of LINKED_CPU, newer than the hostile one):
    neither may be read, and so neither published."""
    hostile = hostile_record() if created_utc is None else {**hostile_record(), "created_utc": created_utc}
    for name, record in (
        (HOSTILE_RECORD, hostile),
        (INVALID_RECORD, {**hostile_record(), "profile": "<script>window.__pwned=4</script>"}),
    ):
        (records_dir / name).mkdir(parents=True)
        (records_dir / name / "record.json").write_text(json.dumps(record))
    book = records_dir.parents[1]
    outside = book.parent / f"{book.name}-outside"  # beside the book's copy, not in it
    outside.mkdir()
    (outside / "linked-secret.csv").write_text(f"timestamp,energy_consumed\n{LINKED_SECRET},1\n")
    (records_dir / HOSTILE_RECORD / "emissions.csv").symlink_to(outside / "linked-secret.csv")
    linked = paired_record([0.01, 0.011, 0.012], [0.009, 0.0095, 0.01], cpu=LINKED_CPU, fingerprint="5e" * 32)
    created = datetime.fromisoformat(hostile["created_utc"]) + timedelta(seconds=30)  # newer, not in the future
    linked["created_utc"] = created.isoformat(timespec="seconds")
    (outside / "linked-record.json").write_text(json.dumps(linked))
    (records_dir / LINKED_RECORD).mkdir()
    (records_dir / LINKED_RECORD / "record.json").symlink_to(outside / "linked-record.json")


def write_record(root: Path, record: dict, name: str | None = None, csv: str | None = "timestamp,energy_consumed\n"):
    """A record folder as a runner's artifact holds it (record.json, and emissions.csv unless csv is None)."""
    folder = root / (name or ResultStore.key(record["profile"], record["fingerprint"]))
    folder.mkdir(parents=True)
    (folder / "record.json").write_text(json.dumps(record))
    if csv is not None:
        (folder / "emissions.csv").write_text(csv)
    return folder


# The Pages workflow's runners, stood in for (conftest.hostile_reference_book, test_publish).
OTHER_MACHINES = ("Arm Neoverse-N2 runner CPU", "Apple M1 runner CPU")
RUNNER_SECRET = "runner-token-123"


def write_runner_artifacts(artifacts: Path, real_record: Path) -> None:
    """What the Pages job downloads from its runners, in `artifacts`: a real record's folder, valid synthetic
    records of OTHER_MACHINES, a record of an old schema, and a record whose emissions.csv is a link to a file
    beside `artifacts` holding RUNNER_SECRET."""
    shutil.copytree(real_record, artifacts / real_record.name)
    for number, cpu in enumerate(OTHER_MACHINES):
        write_record(
            artifacts,
            paired_record(
                [0.010, 0.011, 0.012],
                [0.008, 0.009, 0.010],
                cpu=cpu,
                profile="quick",
                created="2026-01-01T00:00:00+00:00",
                fingerprint=f"{number}f" * 32,
            ),
        )
    write_record(artifacts, {"schema_version": 2, "profile": "quick"}, name="quick-from-an-old-runner")
    secret = artifacts.parent / "secret.txt"
    secret.write_text(RUNNER_SECRET)
    linked = write_record(artifacts, paired_record([0.01], [0.01], cpu="Linked CPU", fingerprint="9e" * 32), csv=None)
    (linked / "emissions.csv").symlink_to(secret)


MIXED_CPU = "Mixed Wattage CPU"


def mixed_record() -> dict:
    """Valid, older than the reference records, of another machine: its first run's RAM model at 24 W."""
    record = paired_record([0.010, 0.011, 0.012], [0.008, 0.009, 0.010], cpu=MIXED_CPU, fingerprint="f7" * 32)
    record["runs"][0].update(ram_power_w=24.0, ram_tracking_method="estimated: RAM power model (24 W)")
    return record


def plant_bad_records(records_dir: Path) -> None:
    """Commit every record of `synthetic.bad_records` (each wrong in one way) and the mixed-wattage record."""
    from synthetic import bad_records

    for name, (text, _reason) in bad_records().items():
        (records_dir / name).mkdir()
        (records_dir / name / "record.json").write_text(text)
    (records_dir / "seed-mixed-wattages").mkdir()
    (records_dir / "seed-mixed-wattages" / "record.json").write_text(json.dumps(mixed_record()))


# What a stranger could put in a string to take over a terminal or a spreadsheet: ANSI CSI and OSC sequences,
# C0 and C1 controls, DEL, line breaks, a right-to-left override, an isolate, a zero-width space, a formula.
TERMINAL_HOSTILE = "=1+\x1b[2J\x1b]0;owned\x07\x00\x08\x7f\x85\x9b\u202e\u2066\u200b\r\nx"
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b\ufeff]")  # not "\n"


def string_fields(value, path=()):
    """The path of every string in a record ("*" for every item of a list), once each."""
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from string_fields(item, (*path, key))
    elif isinstance(value, list) and value:
        yield from dict.fromkeys(
            found for index, item in enumerate(value) for found in string_fields(item, (*path, "*"))
        )


def with_field(record: dict, path: tuple, text: str) -> dict:
    """A deep copy of `record` with `text` at `path` ("*": in every item of that list)."""
    import copy

    changed = copy.deepcopy(record)
    parents = [changed]
    for key in path[:-1]:
        parents = [item for parent in parents for item in (parent if key == "*" else [parent[key]])]
    for parent in parents:
        parent[path[-1]] = text
    return changed


def terminal_hostile_records() -> dict[tuple, dict]:
    """A valid record (with a GPU and every optional text filled) and, for every string field it holds, the
    same record with TERMINAL_HOSTILE in that field: the free-text fields stay valid, the others are refused."""
    base = valid_record()
    base["hardware"] = make_hardware(gpus=["GPU A"])
    base["power_assumptions"]["cpu_table_match"] = "AMD EPYC 7B13"
    for part in (base["idle"], *base["runs"]):
        part["codecarbon_gpu_model"] = "GPU A"
    variants = {path: with_field(base, path, TERMINAL_HOSTILE) for path in string_fields(base)}
    variants[("versions", "<key>")] = {**base, "versions": {**base["versions"], TERMINAL_HOSTILE: "1"}}
    variants[("idle", "energy_missing_reason")] = with_field(base, ("idle", "energy_missing_reason"), TERMINAL_HOSTILE)
    return variants


def committed_reference_record() -> dict:
    """The book's reference record, read as the book reads it (the newest committed `full` record; the
    committed ones carry its old name, `seed`): real
    numbers, with predictions and a breakdown."""
    from convcarbon.site.shown import committed_records_dir, reference_record
    from convcarbon.training.analyze.discovery import book_records

    records, _skipped = book_records(REPO_ROOT / "no-results-here", committed_records_dir())
    return reference_record(records)
