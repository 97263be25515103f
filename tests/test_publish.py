"""The Pages workflow's last job, run here: collect the runners' records, validate them, build without training.

The runners' artifacts are stood in for by this session's real smoke record
(from `built_book`) and synthetic records of two other machines, next to an
invalid folder and a hostile one.
"""

import shutil
import subprocess
import sys

import pytest
from bs4 import BeautifulSoup
from helpers import child_environment, copy_book, write_record
from synthetic import paired_record

from convcarbon.records.store import ResultStore

OTHER_MACHINES = ("Arm Neoverse-N2 runner CPU", "Apple M1 runner CPU")


@pytest.fixture(scope="module")
def published(built_book, mnist_path, tmp_path_factory):
    base = tmp_path_factory.mktemp("publish")
    artifacts, root = base / "artifacts", copy_book(base / "book")
    real = built_book["results_dir"] / ResultStore.key(
        built_book["record"]["profile"], built_book["record"]["fingerprint"]
    )
    shutil.copytree(real, artifacts / real.name)
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
    secret = base / "secret.txt"
    secret.write_text("runner-token-123")
    hostile = write_record(artifacts, paired_record([0.01], [0.01], cpu="Linked CPU", fingerprint="9e" * 32), csv=None)
    (hostile / "emissions.csv").symlink_to(secret)
    environment = child_environment(mnist_path)
    environment.pop("CONVCARBON_PROFILE", None)
    collected = subprocess.run(
        [sys.executable, "-m", "convcarbon", "collect", str(artifacts)],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    built = subprocess.run(
        [sys.executable, "-m", "convcarbon", "book", "--no-measure"],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return {"root": root, "collected": collected, "built": built, "secret": secret.read_text()}


def test_valid_records_are_collected_and_the_invalid_ones_skipped_with_their_reason(published):
    collected = published["collected"]
    assert collected.returncode == 0, collected.stderr
    assert "skipped quick-from-an-old-runner: written as record schema 2" in collected.stdout
    assert "skipped full-9e9e9e9e9e9e9e9e: its emissions.csv is a symbolic link, which is refused" in collected.stdout
    assert "collected 3 new record(s)" in collected.stdout


def test_the_book_is_built_from_every_machine_without_training(published):
    built, root = published["built"], published["root"]
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    assert "epoch" not in built.stderr and "Training both models" not in built.stderr
    assert not list((root / "results").glob("*/record.json"))
    results = BeautifulSoup((root / "_build/html/book/results.html").read_text(), "html.parser").get_text(" ")
    for cpu in OTHER_MACHINES:
        assert cpu in results
    assert "Linked CPU" not in results
    assert "These numbers come from the reference record of this book, stored, not measured for this page" in results
    assert "measured when this page was built" not in results
    site = "".join(path.read_text(errors="replace") for path in (root / "_build/html").rglob("*") if path.is_file())
    assert published["secret"] not in site
