"""The build key: what makes `python -m convcarbon book` re-execute every chapter."""

import json

from synthetic import make_record, make_run

from convcarbon.analyze.machines import COMMITTED_RECORDS
from convcarbon.measure.store import ResultStore
from convcarbon.publish.build import build_key


def test_a_record_committed_with_the_book_changes_the_build_key(tmp_path):
    shown = make_record([make_run("Conv2D", 0), make_run("SeparableConv2D", 0)])
    store = ResultStore(tmp_path / "results")
    before = build_key(shown, store.root, tmp_path)
    assert build_key(shown, store.root, tmp_path) == before  # nothing changed, nothing to re-execute
    folder = tmp_path / COMMITTED_RECORDS / "seed-gpu"
    folder.mkdir(parents=True)
    other = make_record(
        [make_run("Conv2D", 0, gpu_measured=True), make_run("SeparableConv2D", 0, gpu_measured=True)],
        gpus=("NVIDIA H200",),
        backend="jax",
        fingerprint="cd" * 32,
    )
    (folder / "record.json").write_text(json.dumps(other))
    assert build_key(shown, store.root, tmp_path) != before


def test_a_change_to_the_package_changes_the_build_key(tmp_path, monkeypatch):
    """A book built from its reference record trains nothing, so no new fingerprint shows a new package:
    the key itself covers the source that writes the pages."""
    from convcarbon.publish import build

    shown = make_record([make_run("Conv2D", 0), make_run("SeparableConv2D", 0)])
    before = build_key(shown, tmp_path / "results", tmp_path, measured=False)
    monkeypatch.setattr("convcarbon.measure.provenance.source_sha256", lambda: "0" * 64)
    assert build.build_key(shown, tmp_path / "results", tmp_path, measured=False) != before
