"""The build key: what makes `python -m convcarbon book` re-execute every chapter."""

import json

from synthetic import make_record, make_run

from convcarbon.records.store import COMMITTED_RECORDS, ResultStore
from convcarbon.site.build import build_key
from convcarbon.site.shown import Shown


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
    from convcarbon.site import build

    reference = pages(tmp_path, measured=False)
    before = build_key(reference)
    assert build_key(pages(tmp_path, measured=True)) != before  # measured or the reference: other pages
    monkeypatch.setattr("convcarbon.records.provenance.source_sha256", lambda: "0" * 64)
    assert build.build_key(reference) != before


# ---- The files a page offers for download are read as untrusted input (issue 21) ----


def test_downloads_are_the_shown_record_s_own_files(tmp_path):
    from convcarbon.site.build import copy_downloads

    folder = tmp_path / "seed-record"
    folder.mkdir()
    (folder / "record.json").write_text('{"a": 1}')
    (folder / "emissions.csv").write_text("timestamp,energy_consumed\n")
    copy_downloads(folder, tmp_path / "downloads")
    assert (tmp_path / "downloads" / "record.json").read_text() == '{"a": 1}'
    assert (tmp_path / "downloads" / "emissions.csv").read_text() == "timestamp,energy_consumed\n"
    (folder / "emissions.csv").unlink()
    copy_downloads(folder, tmp_path / "downloads")
    assert "CodeCarbon wrote no output" in (tmp_path / "downloads" / "emissions.csv").read_text()


def test_a_linked_or_odd_download_is_not_offered_and_the_build_says_why(tmp_path, caplog):
    import os

    from convcarbon.site.build import copy_downloads

    secret = tmp_path / "secret.txt"
    secret.write_text("runner-token-123")
    folder = tmp_path / "seed-record"
    folder.mkdir()
    (folder / "record.json").symlink_to(secret)
    os.mkfifo(folder / "emissions.csv")  # would block a plain read for ever
    target = tmp_path / "downloads"
    copy_downloads(folder, target)
    offered = {name: (target / name).read_text() for name in ("record.json", "emissions.csv")}
    assert all("runner-token" not in text for text in offered.values())
    assert json.loads(offered["record.json"]) == {
        "note": "not offered for download: record.json is a symbolic link, which is refused"
    }
    assert offered["emissions.csv"] == "note\nnot offered for download: emissions.csv is not a regular file\n"
    assert "the shown record's record.json is not offered for download: record.json is a symbolic link" in caplog.text
    assert "the shown record's emissions.csv is not offered for download: emissions.csv is not a regular" in caplog.text
