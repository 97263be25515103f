"""The build key: what makes `python -m convcarbon book` re-execute every chapter."""

import json

from synthetic import make_record, make_run

from convcarbon.analyze.discovery import COMMITTED_RECORDS
from convcarbon.measure.store import ResultStore
from convcarbon.publish.build import build_key
from convcarbon.publish.shown import Shown


def pages(tmp_path, measured=True) -> Shown:
    """The pages of a record stored in tmp_path/results, measured for this build or as the reference record."""
    store = ResultStore(tmp_path / "results")
    if not list(store.root.glob("*/record.json")):
        with store.locked(), store.staging() as staging:
            store.commit(staging, make_record([make_run("Conv2D", 0), make_run("SeparableConv2D", 0)]))
    (folder,) = [path.parent for path in store.root.glob("*/record.json")]
    return Shown.assemble(folder if measured else None, store.root, tmp_path / COMMITTED_RECORDS)


def test_a_record_committed_with_the_book_changes_the_build_key(tmp_path):
    before = build_key(pages(tmp_path))
    assert build_key(pages(tmp_path)) == before  # nothing changed, nothing to re-execute
    folder = tmp_path / COMMITTED_RECORDS / "seed-gpu"
    folder.mkdir(parents=True)
    other = make_record(
        [make_run("Conv2D", 0, gpu_measured=True), make_run("SeparableConv2D", 0, gpu_measured=True)],
        gpus=("NVIDIA H200",),
        backend="jax",
        fingerprint="cd" * 32,
    )
    (folder / "record.json").write_text(json.dumps(other))
    assert build_key(pages(tmp_path)) != before


def test_a_change_to_the_package_changes_the_build_key(tmp_path, monkeypatch):
    """A book built from its reference record trains nothing, so no new fingerprint shows a new package:
    the key itself covers the source that writes the pages."""
    from convcarbon.publish import build

    reference = pages(tmp_path, measured=False)
    before = build_key(reference)
    assert build_key(pages(tmp_path, measured=True)) != before  # measured or the reference: other pages
    monkeypatch.setattr("convcarbon.measure.provenance.source_sha256", lambda: "0" * 64)
    assert build.build_key(reference) != before
