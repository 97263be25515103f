"""How the atlas times: the calibration's drift on fake clocks, resampling to a settled interval and its bounds,
the version-2 record (valid, bad values refused, version 1 still read with its evidence missing), the profile
table, and a second, separately written timing method that the atlas must agree with."""

import copy
import importlib.util
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from synthetic import make_atlas_record

from convcarbon.atlas.measure import schema as atlas_schema
from convcarbon.atlas.measure import timing as atlas_module
from convcarbon.atlas.measure.grid import ATLAS_PROFILES, Shape, atlas_config, grid_shapes
from convcarbon.atlas.measure.run import measurement_evidence
from convcarbon.atlas.measure.schema import atlas_record_problem
from convcarbon.atlas.measure.store import scan_atlas_records
from convcarbon.atlas.measure.timing import (
    convolution_product,
    is_settled,
    merge_ceilings,
    middle_interval,
    recheck_beaten_ceilings,
    sample_until_settled,
    summarize_ceilings,
)
from convcarbon.config import PROFILES, AtlasSettings, Profile, resolve_config
from convcarbon.errors import ConfigError


def synthetic_record(**options) -> dict:
    """A valid schema-2 atlas record of the smoke grid (tests/synthetic.py)."""
    return make_atlas_record(schema_version=2, **options)


# --- resampling -------------------------------------------------------------------------------------------------

SETTINGS = AtlasSettings(
    channel_levels=((8, 14),),
    kernels=(3,),
    training_batch=2,
    first_samples=3,
    max_samples=8,
    max_spread=1.10,
    point_budget_s=1.0,
    min_block_s=0.01,
    calibration_retries=1,
    square_sizes=(64,),
)


def fake_sampler(times: dict[str, list[float]], block_s=0.01):
    """Samples from fixed lists; records the order in which layers were sampled."""
    order, left = [], {layer: iter(values) for layer, values in times.items()}

    def take(layer: str) -> tuple[float, float]:
        order.append(layer)
        return next(left[layer]), block_s

    return take, order


def test_middle_interval_drops_outliers_as_samples_come():
    assert middle_interval([3.0, 1.0, 2.0]) == (1.0, 3.0)  # three samples: their whole range
    assert middle_interval([1.0, 1.01, 1.02, 1.03, 9.0]) == (1.01, 1.03)  # the outlier is left out
    assert is_settled([1.0, 1.01, 1.02, 1.03, 9.0], 1.10) and not is_settled([1.0, 1.5, 2.0], 1.10)


def test_a_settled_point_takes_only_its_first_samples_interleaved():
    take, order = fake_sampler({"A": [1.0, 1.01, 1.02], "B": [2.0, 2.02, 2.01]})
    seconds = sample_until_settled(("A", "B"), take, SETTINGS)
    assert seconds == {"A": [1.0, 1.01, 1.02], "B": [2.0, 2.02, 2.01]}
    assert order == ["A", "B", "B", "A", "A", "B"]  # A B, B A, A B: drift falls on both alike


def test_resampling_goes_on_until_the_interval_is_tight():
    # B's third sample is twice too slow; two more samples put it outside the middle half
    take, order = fake_sampler({"A": [1.0, 1.0, 1.0], "B": [2.0, 2.0, 4.0, 2.0, 2.0]})
    seconds = sample_until_settled(("A", "B"), take, SETTINGS)
    assert seconds["A"] == [1.0] * 3 and seconds["B"] == [2.0, 2.0, 4.0, 2.0, 2.0]
    assert order[6:] == ["B", "B"] and is_settled(seconds["B"], SETTINGS.max_spread)


def test_resampling_stops_at_the_sample_limit():
    noisy = [1.0, 2.0] * 10
    take, _ = fake_sampler({"A": list(noisy), "B": [1.0] * 20})
    seconds = sample_until_settled(("A", "B"), take, SETTINGS)
    assert len(seconds["A"]) == SETTINGS.max_samples and not is_settled(seconds["A"], SETTINGS.max_spread)
    assert len(seconds["B"]) == SETTINGS.first_samples


def test_resampling_stops_at_the_point_budget():
    take, _ = fake_sampler({"A": [1.0, 2.0] * 10, "B": [1.0] * 20}, block_s=0.3)
    seconds = sample_until_settled(("A", "B"), take, SETTINGS)
    assert len(seconds["A"]) == 4  # 4 x 0.3 s reach the 1 s budget, before the limit of 8
    assert not is_settled(seconds["A"], SETTINGS.max_spread)


def test_the_convolution_shaped_product_is_the_layer_as_im2col_and_stays_bounded():
    shape = Shape(64, 128, 3, 14, 14, "same", 8)
    assert convolution_product(shape) == (8 * 14 * 14, 9 * 64, 128)
    m, k, n = convolution_product(Shape(512, 512, 7, 56, 56, "same", 256))
    assert (k, n) == (49 * 512, 512) and m * k * n <= 2 * 10**10


def _library(library, macs_per_s, bytes_per_s):
    return {
        "library": library,
        "matmul": [{"m": 64, "k": 64, "n": 64, "macs_per_s": macs_per_s}],
        "copy": [{"bytes": 2**20, "bytes_per_s": bytes_per_s}],
    }


def test_the_roofline_draws_the_backends_best_and_the_machines_best_is_numpys():
    before = summarize_ceilings(_library("tensorflow", 4e10, 1e10), _library("numpy", 6e10, 2e10))
    after = summarize_ceilings(_library("tensorflow", 5e10, 0.8e10), _library("numpy", 5e10, 2.5e10))
    merged = merge_ceilings(before, after)
    assert (merged["matmul_macs_per_s"], merged["copy_bytes_per_s"]) == (5e10, 1e10)  # the best of both runs
    assert (merged["machine_matmul_macs_per_s"], merged["machine_copy_bytes_per_s"]) == (6e10, 2.5e10)
    assert len(merged["backend"]["matmul"]) == 2 and merged["machine"]["library"] == "numpy"


class _FakeLibrary:
    """Stands in for the backend: a product of the point's own size reaches 2e10 MAC/s, a copy 3e10 B/s."""

    measured = []

    def __init__(self, backend):
        assert backend

    def matmul(self, m, k, n):
        self.measured.append(("matmul", m, k, n))
        return {"m": m, "k": k, "n": n, "macs_per_s": 2e10}

    def copy(self, values):
        self.measured.append(("copy", values))
        return {"bytes": 8 * values, "bytes_per_s": 3e10}


def test_a_ceiling_that_a_point_beats_is_measured_again_at_that_points_size(monkeypatch):
    monkeypatch.setattr(atlas_module, "_Library", _FakeLibrary)
    _FakeLibrary.measured = []
    ceilings = summarize_ceilings(_library("tensorflow", 1e10, 1e10), _library("numpy", 1e10, 1e10))
    point = synthetic_record()["points"][0]
    shape = Shape(**{key: point[key] for key in Shape.__dataclass_fields__})
    slow = {**point, "median_s": point["macs"] / 1e9}  # 1e9 MAC/s and a few bytes per second: under both
    assert recheck_beaten_ceilings(ceilings, [slow]) is ceilings and _FakeLibrary.measured == []
    fast = {**point, "median_s": point["macs"] / 1.5e10}  # beats the 1e10 MAC/s product
    fast["median_s"] = min(fast["median_s"], point["bytes"] / 1.2e10)  # and the copy
    checked = recheck_beaten_ceilings(ceilings, [fast])
    assert ("matmul", *convolution_product(shape)) in _FakeLibrary.measured
    assert checked["matmul_macs_per_s"] == 2e10 and checked["copy_bytes_per_s"] == 3e10
    assert checked["machine"] == ceilings["machine"]  # NumPy's measurements are left as they were


# --- the record -------------------------------------------------------------------------------------------------


def _mutated(change):
    record = synthetic_record()
    change(record)
    return record


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda r: r["points"][0].update(samples=4), "sample count differs"),
        (lambda r: r["points"][0].update(samples_s=[1e-3] * 201, samples=201), "atlas record schema"),
        (lambda r: r["points"][0]["samples_s"].__setitem__(0, -1.0), "atlas record schema"),
        (lambda r: r["points"][0]["samples_s"].__setitem__(0, r["points"][0]["median_s"] * 1.1), "range is not"),
        (lambda r: r["points"][0].update(median_s=r["points"][0]["high_s"]), "median is not"),
        (lambda r: r["points"][0].update(interval_low_s=r["points"][0]["low_s"] / 2), "interval lies outside"),
        (lambda r: r["harness"]["training"].update(samples=9), "the harness: a timing's sample count"),
        (lambda r: r["points"][0].update(energy_j=3.0, energy_samples_j=[3.0] * 3), "energy disagrees"),
        (lambda r: r["points"][0].update(energy_j=3.0, energy_samples_j=[3.0]), "one energy sample per time sample"),
        (lambda r: r["points"][0].update(energy_j=3.0, energy_samples_j=[1.0, 2.0, 9.0]), "not the median"),
        (lambda r: r["quietness"]["calibrations"][1].update(steal_fraction=1.5), "atlas record schema"),
        (lambda r: r["quietness"]["calibrations"][1].update(position="during"), "atlas record schema"),
        (lambda r: r["quietness"]["calibrations"].pop(), "atlas record schema"),
        (lambda r: r["quietness"].update(reasons=["x" * 700]), "atlas record schema"),
        (lambda r: r.pop("harness"), "atlas record schema"),
        (lambda r: r.pop("quietness"), "atlas record schema"),
        (lambda r: r["ceilings"]["backend"].update(matmul=[]), "atlas record schema"),
        (lambda r: r["ceilings"].update(matmul_size=2048), "atlas record schema"),  # a version-1 field
        (lambda r: r["passes"].update(training="<b>" * 300), "atlas record schema"),
        (lambda r: r.update(schema_version=True), "atlas schema True"),
    ],
)
def test_bad_version_2_records_are_refused(change, message):
    problem = atlas_record_problem(_mutated(change))
    assert problem is not None and message in problem


def test_the_committed_version_1_atlases_stay_readable_with_their_evidence_missing():
    committed, skipped = scan_atlas_records(Path(__file__).resolve().parents[1] / "book" / "records")
    records = [record for record in committed if record["schema_version"] == 1]
    assert not skipped and len(records) >= 3  # the TensorFlow, JAX and PyTorch atlases made before schema 2
    evidence = measurement_evidence(records[0])
    assert evidence["harness"] is None and evidence["quietness"] is None and evidence["passes"] is None
    assert evidence["missing"] == "not recorded (atlas schema 1): passes, harness, quietness"
    version_1_with_samples = copy.deepcopy(records[0])
    version_1_with_samples["points"][0]["samples_s"] = [1.0]
    assert "atlas record schema" in atlas_record_problem(version_1_with_samples)  # no version-2 field in version 1


def test_a_version_2_record_shows_its_evidence():
    evidence = measurement_evidence(synthetic_record())
    assert evidence["missing"] is None and evidence["quietness"]["quiet"]
    from convcarbon.training.analyze.report import quietness_summary

    assert quietness_summary(synthetic_record()).startswith("quiet: 2 calibrations")  # the page reads it
    assert evidence["harness"]["training"]["median_s"] == pytest.approx(3e-4)
    assert "gradients of its weights and of its input" in evidence["passes"]["training"]
    assert evidence["ceilings"]["machine"]["library"].startswith("numpy")
    assert not hasattr(atlas_schema, "OPTIONAL_INTEGER")


# --- the profile table ------------------------------------------------------------------------------------------


def test_each_profile_is_one_typed_entry_holding_its_atlas_settings():
    assert tuple(PROFILES) == ATLAS_PROFILES
    for name, profile in PROFILES.items():
        assert isinstance(profile, Profile) and isinstance(profile.atlas, AtlasSettings)
        config = resolve_config(name, environ={})
        assert (config.epochs, config.batch_size, config.repeats) == (
            profile.epochs,
            profile.batch_size,
            profile.repeats,
        )
        atlas = atlas_config(name)
        assert atlas["first_samples"] == profile.atlas.first_samples <= profile.atlas.max_samples
        assert atlas["channel_levels"] == [list(level) for level in profile.atlas.channel_levels]
        assert jsonschema.Draft202012Validator(atlas_schema.CONFIG).is_valid(atlas)
    with pytest.raises(ValueError, match="unknown atlas profile 'huge'"):
        atlas_config("huge")


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(first_samples=9, max_samples=3), "first_samples <= max_samples"),
        (dict(first_samples=0), "first_samples <= max_samples"),
        (dict(max_spread=0.9), "at least 1"),
        (dict(point_budget_s=-1.0), "cannot be negative"),
    ],
)
def test_impossible_atlas_settings_are_refused(change, message):
    with pytest.raises(ConfigError, match=message):
        replace(SETTINGS, **change)


def test_a_change_to_a_profile_entry_changes_its_grid(monkeypatch):
    smoke = PROFILES["smoke"]
    monkeypatch.setitem(PROFILES, "smoke", replace(smoke, atlas=replace(smoke.atlas, kernels=(3, 5))))
    assert {shape.kernel for shape in grid_shapes("smoke") if shape.book_layer is None} == {3, 5}


# --- a second method ----------------------------------------------------------------------------------------------

SECOND_METHOD_RATIO_FACTOR = 2.5
SECOND_METHOD_TIME_FACTOR = 3.0
SAMPLES = 9


def _plain_timing():
    """The bench script's plain method (bench/atlas_agreement.py), loaded by its path."""
    path = Path(__file__).resolve().parents[1] / "bench" / "atlas_agreement.py"
    spec = importlib.util.spec_from_file_location("atlas_agreement", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.plain_sampler


@pytest.mark.training
@pytest.mark.timing  # a busy machine stretches one method's samples more than the other's
def test_the_atlas_agrees_with_a_separately_written_timing():
    """The atlas's passes, timed as the atlas times a sample, against raw-TensorFlow functions timed with
    perf_counter (bench/atlas_agreement.py), on three small shapes of a few ms a call.

    The two methods' samples alternate (atlas, plain, atlas, ...) so that a busy moment falls on both, and each
    gives its fastest sample, the least disturbed by other work. The factors are generous (the ratio within
    2.5x, the standard layer's time within 3x, where the issue's experiment on a quiet machine asks 1.5x and
    2x): up to eight sessions share this 2-core machine, and nine samples can all fall in a busy second (seen
    here: a plain ratio off by 2x at a load average of 7, against 1.1x at a higher priority). A wrong pass
    (an optimizer step, a harness that dominates, a loss over a copy of the output) moves them by more."""
    import keras
    import numpy as np

    from convcarbon.atlas.measure.passes import build_passes
    from convcarbon.atlas.measure.timing import _block, _calls_per_block, _layer, _timed, input_gradient

    plain_sampler = _plain_timing()
    shapes = [
        Shape(32, 32, 3, 28, 28, "same", 8),
        Shape(64, 64, 3, 14, 14, "same", 16),
        Shape(32, 64, 3, 13, 13, "valid", 32, book_layer="conv_2"),
    ]
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    for shape in shapes:
        best = {}
        for layer in ("Conv2D", "SeparableConv2D"):
            input_shape = (shape.batch, shape.height, shape.width, shape.channels_in)
            passes = build_passes(_layer(shape, layer), input_shape, rng, input_gradient(shape))
            for pass_name in ("inference", "training"):
                passes.wait(passes.run[pass_name]())
                count = _calls_per_block(passes, pass_name, SETTINGS.min_block_s)
                plain = plain_sampler(shape, layer, pass_name)
                atlas_s, plain_s = [], []
                for _ in range(SAMPLES):
                    atlas_s.append(_timed(_block(passes, pass_name, count), None)[0] / count)
                    plain_s.append(plain())
                best[layer, pass_name] = min(atlas_s), min(plain_s)
        for pass_name in ("inference", "training"):
            (atlas_standard, plain_standard), (atlas_separable, plain_separable) = (
                best["Conv2D", pass_name],
                best["SeparableConv2D", pass_name],
            )
            atlas_ratio, plain_ratio = atlas_separable / atlas_standard, plain_separable / plain_standard
            where = f"{shape}, {pass_name}: atlas ratio {atlas_ratio:.2f}, plain {plain_ratio:.2f}"
            assert 1 / SECOND_METHOD_RATIO_FACTOR <= atlas_ratio / plain_ratio <= SECOND_METHOD_RATIO_FACTOR, where
            standard = atlas_standard / plain_standard
            assert 1 / SECOND_METHOD_TIME_FACTOR <= standard <= SECOND_METHOD_TIME_FACTOR, f"{where}; {standard:.2f}"
