"""The crossover atlas: counts by hand, the crossover and the model fit on synthetic timings, energy counters
with a fake counter, hostile atlas records, and a smoke atlas run end to end."""

import copy
import hashlib
import json
import math
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from synthetic import make_atlas_record as synthetic_record

from convcarbon.atlas.analyze import analysis
from convcarbon.atlas.measure.grid import Shape, book_shapes, byte_count, grid_shapes, macs
from convcarbon.atlas.measure.schema import atlas_record_problem
from convcarbon.atlas.measure.store import AtlasStore, folder_name, read_atlas_record, scan_atlas_records
from convcarbon.config import PROFILES, canonical_profile
from convcarbon.energy.counter_reading import EnergyCounter, measure_block, rapl_counter
from convcarbon.records.store import scan_records

# --- counts, by hand -------------------------------------------------------------------------------------------


def test_standard_counts_by_hand():
    # 56x56, 16 -> 16 channels, 3x3, same padding, batch 2: every output pixel of every image does 3*3*16 MACs
    # for each of 16 filters.
    shape = Shape(16, 16, 3, 56, 56, "same", 2)
    assert macs(shape, "Conv2D") == 2 * 56 * 56 * 9 * 16 * 16 == 14_450_688
    # input 2*56*56*16, weights 9*16*16 + 16 biases, output 2*56*56*16, four bytes each
    assert byte_count(shape, "Conv2D") == 4 * (100_352 + 2_320 + 100_352) == 812_096


def test_separable_counts_by_hand():
    # 7x7, 512 -> 512, 5x5: depthwise 25*512 MACs per pixel, pointwise 512*512 per pixel, 49 pixels, batch 1.
    shape = Shape(512, 512, 5, 7, 7, "same", 1)
    assert macs(shape, "SeparableConv2D") == 49 * (25 * 512 + 512 * 512) == 13_472_256
    assert byte_count(shape, "SeparableConv2D") == 4 * (25_088 + (12_800 + 262_144 + 512) + 25_088) == 1_302_528
    assert macs(shape, "SeparableConv2D") / macs(shape, "Conv2D") == pytest.approx(1 / 512 + 1 / 25)


def test_the_book_layers_at_batch_250_as_the_models_run_them():
    first, second = book_shapes()
    assert (first.height, first.channels_in, first.channels_out, first.padding) == (28, 1, 32, "valid")
    assert (second.height, second.channels_in, second.channels_out) == (13, 32, 64)  # 26x26, pooled by 2
    assert macs(first, "Conv2D") == 250 * 26 * 26 * 9 * 1 * 32
    assert macs(second, "SeparableConv2D") == 250 * 11 * 11 * (9 * 32 + 32 * 64)
    assert byte_count(second, "Conv2D") == 4 * (250 * 13 * 13 * 32 + 9 * 32 * 64 + 64 + 250 * 11 * 11 * 64)


def test_the_full_grid_covers_what_the_issue_asks():
    shapes = grid_shapes("full")
    grid = [shape for shape in shapes if shape.book_layer is None]
    assert {shape.kernel for shape in grid} == {3, 5, 7}
    assert {shape.batch for shape in grid} == {1, 32}
    assert min(shape.channels_in for shape in grid) == 8 and max(shape.channels_in for shape in grid) == 512
    by_channels = {shape.channels_in: shape.height for shape in grid}
    assert by_channels[8] == 56 and by_channels[512] == 7  # the picture shrinks as channels grow
    assert [shape.book_layer for shape in shapes if shape.book_layer] == ["conv_1", "conv_2"]
    assert max(shape.channels_in for shape in grid_shapes("quick")) >= 256


@pytest.mark.parametrize(
    "fields, message",
    [
        (dict(kernel=0), "kernel must be a positive whole number"),
        (dict(padding="full"), "padding must be"),
        (dict(kernel=9, height=7, padding="valid"), "does not fit"),
    ],
)
def test_impossible_shapes_are_refused(fields, message):
    with pytest.raises(ValueError, match=message):
        Shape(**{**dict(channels_in=8, channels_out=8, kernel=3, height=7, width=7, padding="same", batch=1), **fields})


# --- the crossover and the model, on synthetic timings ---------------------------------------------------------


def test_crossover_is_where_the_separable_layer_stays_faster():
    channels = [8, 16, 32, 64, 128]
    assert analysis.crossover(channels, [1.5, 1.2, 0.9, 0.7, 0.5]) == 32
    assert analysis.crossover(channels, [0.9, 1.2, 1.1, 0.7, 0.5]) == 64  # faster at 8, then not: not yet a crossover
    assert analysis.crossover(channels, [0.9, 0.8, 0.7, 0.6, 0.5]) == 8
    assert analysis.crossover(channels, [0.5, 0.6, 0.8, 0.9, 1.0]) is None  # a ratio of exactly 1 is not faster
    assert analysis.crossover(list(reversed(channels)), [0.5, 0.7, 0.9, 1.2, 1.5]) == 32  # order does not matter


def test_fit_recovers_a_known_model():
    roofline_s = np.array([1e-4, 1e-3, 1e-2, 1e-1])
    slowdown, fixed_s = analysis.fit_time_model(roofline_s, 2.5 * roofline_s + 3e-4)
    assert slowdown == pytest.approx(2.5, rel=1e-6) and fixed_s == pytest.approx(3e-4, rel=1e-6)


def test_fit_keeps_the_fixed_cost_from_going_negative():
    roofline_s = np.array([1e-3, 2e-3, 4e-3])
    slowdown, fixed_s = analysis.fit_time_model(roofline_s, 3 * roofline_s - 1e-3)
    assert fixed_s == 0 and slowdown > 0


def test_crossover_frame_on_synthetic_timings():
    # The separable layer costs 4 ms more per call and its multiplications run at a quarter of the rate: it wins
    # only where the standard layer's work is large, at 64 channels and batch 8 in the smoke grid.
    def standard_s(shape, pass_name):
        return 1e-3 + macs(shape, "Conv2D") / 1e9

    def separable_s(shape, pass_name):
        return 5e-3 + macs(shape, "SeparableConv2D") / 2.5e8

    frame = analysis.crossover_frame(synthetic_record(standard_s, separable_s))
    found = {(row["batch"], row["pass"]): row["crossover_channels"] for row in frame.to_dict("records")}
    expected = {}
    for batch in (1, 8):
        small, large = Shape(8, 8, 3, 28, 28, "same", batch), Shape(64, 64, 3, 14, 14, "same", batch)
        ratios = [separable_s(shape, "") / standard_s(shape, "") for shape in (small, large)]
        expected[batch] = analysis.crossover([8, 64], ratios)
    assert expected == {1: None, 8: 64}  # the synthetic case has one of each
    for (batch, _), value in found.items():
        assert (None if value is None or math.isnan(value) else value) == expected[batch]
    assert analysis.crossover_text(float("nan")) == "never" and analysis.crossover_text(64) == "64 channels"


def test_model_fit_on_a_record_predicts_its_own_synthetic_times():
    fits = analysis.model_fits(synthetic_record())
    assert {(fit.layer, fit.pass_name) for fit in fits} == {
        (layer, pass_name) for layer in ("Conv2D", "SeparableConv2D") for pass_name in ("inference", "training")
    }
    assert all(fit.median_error < 0.5 and fit.fixed_s >= 0 and fit.efficiency > 0 for fit in fits)


def test_json_points_hold_exactly_the_issue_fields_and_the_work_as_it_ran():
    points = analysis.json_points(synthetic_record())
    assert set(points[0]) == {
        "layer",
        "channels_in",
        "channels_out",
        "kernel",
        "height",
        "width",
        "padding",
        "batch",
        "pass",
        "macs",
        "bytes",
        "median_s",
        "low_s",
        "high_s",
        "input_gradient",
        "work_macs",
        "work_bytes",
        "intermediate_bytes",
    }


# --- energy counters, with a fake one ---------------------------------------------------------------------------


def test_a_block_is_measured_on_the_counter_across_a_wrap():
    readings = iter([990.0, 15.0])
    counter = EnergyCounter("fake", lambda: next(readings), wrap_j=1000.0)
    calls = []
    duration_s, energy_j = measure_block(counter, lambda: calls.append(1))
    assert calls == [1] and duration_s >= 0 and energy_j == pytest.approx(25.0)


def test_a_counter_that_goes_backwards_without_a_wrap_is_an_error():
    with pytest.raises(ValueError, match="went backwards"):
        EnergyCounter("fake", lambda: 0.0).joules_between(5.0, 1.0)


def test_rapl_is_read_from_powercap_packages(tmp_path):
    for index, energy_uj in ((0, 2_000_000), (1, 3_000_000)):
        package = tmp_path / f"intel-rapl:{index}"
        (package / f"intel-rapl:{index}:0").mkdir(parents=True)  # a sub-domain, not summed again
        (package / "energy_uj").write_text(str(energy_uj))
        (package / "max_energy_range_uj").write_text("262143328850")
    counter = rapl_counter(tmp_path)
    assert counter is not None and counter.read() == pytest.approx(5.0)
    assert counter.wrap_j == pytest.approx(262143.32885)


def test_no_rapl_when_the_counter_is_unreadable(tmp_path):
    assert rapl_counter(tmp_path) is None  # no packages at all
    (tmp_path / "intel-rapl:0").mkdir()
    assert rapl_counter(tmp_path) is None  # energy_uj absent (unreadable without root on many machines)


# --- hostile atlas records -----------------------------------------------------------------------------------


def test_the_synthetic_record_is_valid():
    assert atlas_record_problem(synthetic_record()) is None


@pytest.mark.parametrize("schema_version", [1, 2])
def test_an_atlas_stored_under_the_old_profile_name_seed_is_valid(schema_version):
    """The committed `atlas-seed-*` records were made before `seed` was renamed `full`: they stay valid."""
    for profile in ("full", "seed"):
        assert atlas_record_problem(synthetic_record(profile=profile, schema_version=schema_version)) is None
    unknown = synthetic_record(profile="full", schema_version=schema_version)
    unknown["profile"] = unknown["config"]["profile"] = "huge"
    assert "profile" in atlas_record_problem(unknown)


def _mutated(change):
    record = synthetic_record()
    change(record)
    return record


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda r: r["points"][0].update(median_s=float("nan")), "not a number"),
        (lambda r: r["ceilings"].update(matmul_macs_per_s=float("inf")), "not a number"),
        (lambda r: r["points"][0].update(median_s=1e9), "atlas record schema"),
        (lambda r: r["points"][0].update(macs=10**20), "atlas record schema"),
        (lambda r: r["points"][0].update(channels_in=-3), "atlas record schema"),
        (lambda r: r["hardware"].update(cpu_model="x" * 5000), "atlas record schema"),
        (lambda r: r.update(extra="field"), "atlas record schema"),
        (lambda r: r["energy"].update(assumed_power_w=45), "atlas record schema"),
        (lambda r: r.update(created_utc=(datetime.now(timezone.utc) + timedelta(days=30)).isoformat()), "future"),
        (lambda r: r.update(created_utc=(datetime.now(timezone.utc) + timedelta(hours=2)).isoformat()), "future"),
        (lambda r: r.update(created_utc="2026-13-45T00:00:00+00:00"), "not a real date"),
        (lambda r: r["hardware"].update(os="/home/someone/secret"), "absolute path"),
        (lambda r: r["hardware"].update(machine="C:\\Users\\someone"), "absolute path"),
        (lambda r: r["points"][0].update(macs=r["points"][0]["macs"] + 1), "do not follow from its shape"),
        (lambda r: r["points"][0].update(low_s=r["points"][0]["high_s"] * 2), "outside its range"),
        (lambda r: r["points"].pop(0), "but no Conv2D"),
        (lambda r: r["points"].append(copy.deepcopy(r["points"][0])), "appears twice"),
        (lambda r: r["points"][0].update(energy_j=3.0), "energy disagrees"),
        (lambda r: r.update(schema_version=99), "atlas schema 99"),
    ],
)
def test_hostile_atlas_records_are_refused(change, message):
    problem = atlas_record_problem(_mutated(change))
    assert problem is not None and message in problem


def test_markup_in_strings_is_stored_but_shown_as_text():
    record = _mutated(lambda r: r["hardware"].update(cpu_model="<script>alert(1)</script> **bold** $x$"))
    assert atlas_record_problem(record) is None  # a strange CPU name is not a reason to refuse a record ...
    from convcarbon.atlas.publish import figures as atlas_figures
    from convcarbon.atlas.publish import page as atlas_page

    label = atlas_page.machine_text(record)
    assert "<script>" not in label and "\\<script\\>" in label and "\\*\\*bold" in label  # ... it is shown inert
    assert r"\$x\$" in atlas_figures.record_label(record)


def committed(store, record):
    """Store a record as a run does: under the store's lock, through a staging folder."""
    with store.locked(), store.staging() as staging:
        return store.commit(staging, record)


def _write(folder, text):
    folder.mkdir(parents=True)
    (folder / "record.json").write_text(text)


def test_nan_in_a_record_file_is_refused(tmp_path):
    text = json.dumps(synthetic_record()).replace('"duration_s": 12.5', '"duration_s": NaN')
    _write(tmp_path / "atlas-smoke-aaaaaaaaaaaaaaaa", text)
    record, problem = read_atlas_record(tmp_path / "atlas-smoke-aaaaaaaaaaaaaaaa")
    assert record is None and "holds NaN, which is not a number" in problem


def test_store_skips_damaged_and_linked_atlas_folders_and_the_training_store_ignores_them(tmp_path):
    good = synthetic_record()
    committed(AtlasStore(tmp_path), good)
    _write(tmp_path / "atlas-smoke-bbbbbbbbbbbbbbbb", "{not json")
    (tmp_path / "atlas-smoke-cccccccccccccccc").symlink_to(tmp_path / folder_name("smoke", good["fingerprint"]))
    records, skipped = scan_atlas_records(tmp_path)
    assert [record["fingerprint"] for record in records] == [good["fingerprint"]]
    assert sorted(folder.name[-4:] for folder, _ in skipped) == ["bbbb", "cccc"]
    assert scan_records(tmp_path) == ([], [])  # the training store neither reads nor complains about them
    assert AtlasStore(tmp_path).load("smoke", good["fingerprint"])[0]["points"] == good["points"]


# --- end to end ------------------------------------------------------------------------------------------------


@pytest.mark.training
def test_smoke_atlas_end_to_end_then_reused(tmp_path, capsys):
    from convcarbon.cli import main

    assert main(["atlas", "--profile", "smoke", "--json", "--results-dir", str(tmp_path)]) == 0
    first = capsys.readouterr()
    shown = json.loads(first.out)
    points = shown["points"]
    assert shown["training_rule"] and len(shown["crossovers"]) == 4 and "violations" in shown["checks"]
    assert len(points) == len(grid_shapes("smoke")) * 4
    # beside the points: the passes' rule, the harness's own cost per call, the quietness evidence, the ceilings
    assert shown["schema_version"] == 2 and shown["missing"] is None and "input" in shown["passes"]["training"]
    assert all(shown["harness"][pass_name]["median_s"] > 0 for pass_name in ("inference", "training"))
    calibrations = shown["quietness"]["calibrations"]
    assert calibrations[0]["position"] == "before" and calibrations[-1]["position"] == "after"
    assert len(calibrations) >= len(grid_shapes("smoke")) + 2 and isinstance(shown["quietness"]["quiet"], bool)
    assert shown["ceilings"]["machine"]["library"].startswith("numpy") and shown["ceilings"]["backend"]["library"]
    for point in points:
        assert point["low_s"] <= point["median_s"] <= point["high_s"] and point["median_s"] > 0
        assert point["macs"] == macs(
            Shape(**{**{k: point[k] for k in Shape.__dataclass_fields__ if k in point}}), point["layer"]
        )
    records, skipped = scan_atlas_records(tmp_path)
    assert len(records) == 1 and not skipped
    assert records[0]["energy"]["method"] in ("none", "counter") and records[0]["ceilings"]["matmul_macs_per_s"] > 0
    for point in records[0]["points"]:  # every sample is stored, and the point follows from them
        assert point["samples"] == len(point["samples_s"]) >= 3 and point["low_s"] == min(point["samples_s"])
    assert main(["atlas", "--profile", "smoke", "--results-dir", str(tmp_path)]) == 0
    second = capsys.readouterr()
    assert "atlas: reusing" in second.err and "crossover" in second.out
    assert len(list(tmp_path.glob("atlas-*"))) == 1


def test_powermetrics_power_is_summed_into_joules():
    # A stand-in for `sudo powermetrics`: five samples of 2 W, 100 ms apart, among other lines.
    script = "import time\nfor _ in range(5):\n    print('GPU Power: 50 mW'); print('CPU Power: 2000 mW', flush=True)\n"
    from convcarbon.energy.counter_reading import powermetrics_counter

    counter = powermetrics_counter((sys.executable, "-c", script), interval_s=0.1)
    assert counter is not None and counter.min_block_s >= 0.5
    deadline = time.time() + 10
    while counter.read() < 1.0 and time.time() < deadline:
        time.sleep(0.05)
    counter.close()
    assert counter.read() == pytest.approx(1.0)  # 5 x 2 W x 0.1 s; the GPU's lines are not counted


def test_no_powermetrics_counter_when_it_prints_no_power():
    from convcarbon.energy.counter_reading import powermetrics_counter

    assert (
        powermetrics_counter((sys.executable, "-c", "print('powermetrics must be invoked as the superuser')")) is None
    )


# --- the chapter -----------------------------------------------------------------------------------------------


def test_the_chapter_follows_reading_the_results_and_the_browser_test_opens_it():
    from helpers import toc_chapters  # the list of pages the browser test opens at desktop and phone width

    chapters = toc_chapters()
    assert chapters[chapters.index("book/results") + 1] == "book/atlas"


@pytest.mark.training
def test_the_atlas_chapter_is_in_the_built_book(built_book):
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((built_book["html"] / "book" / "atlas.html").read_text(), "html.parser")
    text = " ".join(soup.get_text(" ", strip=True).split())
    assert "When a separable convolution pays" in text
    assert len(soup.select("article img")) >= 3  # two heat maps and the roofline
    assert "separable faster" in text and "fitted model (in-sample)" in text  # the crossover table
    assert "measured (or reused, when nothing had changed) for this build" in text
    assert "No atlas comes yet from" in text or "Every hardware class" in text


def test_the_page_shows_the_build_atlas_else_the_reference_else_says_why(tmp_path, monkeypatch):
    from convcarbon.errors import ConvCarbonError
    from convcarbon.site import shown as shown_module

    def made(backend, profile, created):
        record = synthetic_record(profile=profile)
        record["versions"]["keras_backend"] = backend
        record["created_utc"] = created
        record["fingerprint"] = hashlib.sha256(f"{backend} {profile} {created}".encode()).hexdigest()
        return record

    tensorflow = made("tensorflow", "seed", "2026-11-01T00:00:00+00:00")  # `seed`: the old name of full
    jax_newer = made("jax", "full", "2026-11-20T00:00:00+00:00")
    smoke_newest = made("tensorflow", "smoke", "2026-11-30T00:00:00+00:00")
    assert shown_module.reference_atlas([tensorflow, jax_newer, smoke_newest]) is tensorflow  # full, TensorFlow
    assert shown_module.reference_atlas([jax_newer, smoke_newest]) is jax_newer  # else the newest full
    assert shown_module.reference_atlas([smoke_newest]) is smoke_newest  # else the newest
    with pytest.raises(ConvCarbonError, match="no atlas record to show"):
        shown_module.reference_atlas([])

    folder = committed(AtlasStore(tmp_path), smoke_newest)
    measured = shown_module.page_atlas(folder, [tensorflow, jax_newer])
    assert measured["fingerprint"] == smoke_newest["fingerprint"]  # measured for this build
    assert shown_module.page_atlas(None, [tensorflow, jax_newer]) is tensorflow  # else the reference atlas
    (folder / "record.json").write_text("{}")
    with pytest.raises(ConvCarbonError, match="is unusable"):
        shown_module.page_atlas(folder, [tensorflow])


def test_the_build_hands_no_stale_atlas_to_its_chapters(tmp_path, monkeypatch):
    """A build without training shows the reference atlas even when an atlas was named before it started;
    the `book` command never hands an atlas of its own environment to the build."""
    from convcarbon.site import shown as shown_module

    monkeypatch.setenv("CONVCARBON_ATLAS", str(tmp_path / "atlas-stale"))
    monkeypatch.setenv("CONVCARBON_MEASURE", "no")
    monkeypatch.setenv("CONVCARBON_RESULTS", str(tmp_path / "results"))
    monkeypatch.delenv("CONVCARBON_RECORD", raising=False)
    from convcarbon.site.sphinx_results import prepare_build

    page = prepare_build(shown_module.repository_root())
    assert page.atlas_folder is None and not page.atlas_measured
    # the reference atlas is a committed one of the full profile (under its name now, or its old name `seed`)
    assert (
        canonical_profile(page.atlas["profile"]) == "full" and page.atlas["versions"]["keras_backend"] == "tensorflow"
    )
    environment = page.build_environment({"CONVCARBON_ATLAS": "elsewhere"})
    assert "CONVCARBON_ATLAS" not in environment


def test_an_unknown_atlas_profile_is_one_line_and_stores_nothing(tmp_path, capsys):
    from convcarbon.cli import main

    assert main(["atlas", "--profile", "huge", "--results-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown profile 'huge'" in err
    assert not list(tmp_path.iterdir())


@pytest.mark.training
def test_with_a_counter_each_point_gets_its_energy_per_call(tmp_path, monkeypatch):
    """The counter path, which no machine here can exercise: a fake 10 W counter read on the clock."""
    from convcarbon.atlas.measure import run as atlas_run

    counter = EnergyCounter("fake 10 W counter", lambda: 10 * time.perf_counter(), min_block_s=0.02)
    monkeypatch.setattr(atlas_run, "find_counter", lambda: counter)
    smoke = PROFILES["smoke"]
    monkeypatch.setitem(PROFILES, "smoke", replace(smoke, atlas=replace(smoke.atlas, channel_levels=((8, 14),))))
    record, reused = atlas_run.run_atlas("smoke", AtlasStore(tmp_path), progress=None)
    assert not reused and record["energy"]["method"] == "counter" and record["energy"]["counter"] == counter.name
    for point in record["points"]:
        # each sample's energy and time come from the same block: 10 W x the time per call, up to the median's pick
        assert point["energy_j"] == pytest.approx(10 * point["median_s"], rel=0.5)
        assert len(point["energy_samples_j"]) == point["samples"]
    assert atlas_record_problem({key: value for key, value in record.items() if key != "path"}) is None
    pairs = analysis.pairs_frame(record)
    assert pairs["energy_ratio"].notna().all()
    assert "energy ratio" in analysis.format_atlas(record)
    assert "energy ratio" not in analysis.format_atlas(synthetic_record())  # no counter: no energy column at all


def test_collect_validates_atlases_as_it_validates_training_records(tmp_path):
    """Runners hand in atlases beside their training records: `collect` copies a valid one and names a
    hostile one with its reason, as the Pages job runs it."""
    from convcarbon.records.collect import collect

    source = tmp_path / "runner-records"
    good = synthetic_record()
    good_folder = committed(AtlasStore(source), good)
    hostile = synthetic_record()
    hostile["points"][0]["median_s"] = 1e308
    _write(source / "atlas-smoke-bbbbbbbbbbbbbbbb", json.dumps(hostile))
    collection = collect(source, tmp_path / "book-records")
    assert collection.added == [good_folder.name]
    assert [name for name, _ in collection.skipped] == ["atlas-smoke-bbbbbbbbbbbbbbbb"]
    assert read_atlas_record(tmp_path / "book-records" / good_folder.name)[1] is None
    assert not (tmp_path / "book-records" / "atlas-smoke-bbbbbbbbbbbbbbbb").exists()


def test_training_records_and_atlases_share_one_store_each_kind_seeing_its_own(tmp_path):
    """One folder store told two kinds: the same lock, staging and commit, each kind's folders named by its prefix
    and read by its reader only."""
    from synthetic import paired_record

    from convcarbon.records.store import ResultStore, read_record

    training, atlases = ResultStore(tmp_path), AtlasStore(tmp_path)
    record, atlas = paired_record([0.01], [0.009], fingerprint="b" * 64), synthetic_record()
    trained_folder, atlas_folder = committed(training, record), committed(atlases, atlas)
    assert atlas_folder.name == folder_name("smoke", atlas["fingerprint"]) == "atlas-smoke-" + "a" * 16
    assert trained_folder.name == ResultStore.key(record["profile"], record["fingerprint"])
    assert sorted(path.name for path in tmp_path.iterdir()) == [".lock", atlas_folder.name, trained_folder.name]
    assert [one["fingerprint"] for one in scan_records(tmp_path)[0]] == ["b" * 64]
    assert [one["fingerprint"] for one in scan_atlas_records(tmp_path)[0]] == ["a" * 64]
    assert training.load(record["profile"], record["fingerprint"]) == (record, None)
    assert atlases.load("smoke", atlas["fingerprint"]) == (atlas, None)
    # each reader refuses the other kind's record, with the reason
    assert read_atlas_record(trained_folder)[0] is None and "atlas schema" in read_atlas_record(trained_folder)[1]
    assert read_record(atlas_folder)[0] is None and "record schema" in read_record(atlas_folder)[1]
