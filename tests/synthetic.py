"""Records built by hand, with known numbers, for the analysis and the multi-machine tables.

Only tests use them; the book never shows a record that was not measured.
"""

from convcarbon.atlas.measure.grid import atlas_config, byte_count, grid_shapes, macs
from convcarbon.config import PROFILES, canonical_profile
from convcarbon.training.measure.schema import SCHEMA_VERSION

MULTIPLICATIONS = {"Conv2D": 2_836_800, "SeparableConv2D": 722_536}


def make_run(
    model, repeat, energy_kwh=0.01, duration_s=100.0, accuracy=0.98, epoch_duration_s=(30.0, 10.0), gpu_measured=False
):
    """One run; its clean-up after the epochs takes the rest of `duration_s`, so that they add up (schema 5), and
    each epoch is timed step by step (schema 6, `make_epoch_steps`)."""
    return {
        "model": model,
        "architecture": {"Conv2D": "conv2d", "SeparableConv2D": "separable"}[model],
        "repeat": repeat,
        "position": 0,
        "seed": 42 + repeat,
        "test_accuracy": accuracy,
        "test_loss": 0.05,
        "duration_s": duration_s,
        "energy_consumed_kwh": energy_kwh,
        "cpu_energy_kwh": energy_kwh / 4,
        "gpu_energy_kwh": 0.0,
        "ram_energy_kwh": energy_kwh * 3 / 4,
        "emissions_kg": energy_kwh * 0.4,
        "emissions_rate_kg_per_s": energy_kwh * 0.4 / duration_s,
        "epoch_duration_s": list(epoch_duration_s),
        "epoch_energy_kwh": [energy_kwh / 2] * len(epoch_duration_s),
        "history": {name: [0.5] * len(epoch_duration_s) for name in ("loss", "accuracy", "val_loss", "val_accuracy")},
        "parameters": 431_242 if model == "Conv2D" else 414_899,
        "cpu_power_w": 8.0,
        "gpu_power_w": 0.0,
        "ram_power_w": 20.0,
        "pue": 1.0,
        "codecarbon_cpu_model": "AMD EPYC",
        "codecarbon_gpu_model": None,
        "codecarbon_run_id": f"run-{repeat}",
        "country_iso_code": "USA",
        "clean_up_duration_s": max(duration_s - sum(epoch_duration_s), 0.0),
        "clean_up_energy_kwh": 0.0,
        "multiplications_per_image": MULTIPLICATIONS[model],
        "carbon_intensity_g_per_kwh": 400.0,
        "country_name": "United States",
        "grid_data_year": 2023,
        "cpu_tracking_method": "estimated: CPU load x 8 W TDP",
        "gpu_tracking_method": "measured: NVML energy counter" if gpu_measured else "none: no GPU found",
        "ram_tracking_method": "estimated: RAM power model (20 W)",
        "cpu_energy_measured": False,
        "gpu_energy_measured": gpu_measured,
        "energy_missing_reason": None,
        "epoch_steps": [make_epoch_steps(epoch_s) for epoch_s in epoch_duration_s],
    }


STEPS_PER_EPOCH = 192  # 48,000 training images in batches of 250


def make_epoch_steps(epoch_s, input_wait_s=0.01, validation_share=0.1, steps=STEPS_PER_EPOCH):
    """One epoch's `epoch_steps` entry: equal steps filling 85% of what the wait and validation leave, so that
    the rest of the epoch (callbacks, the tracker's reading) is 15% of it."""
    validation_s = validation_share * epoch_s
    steps_s = 0.85 * (epoch_s - input_wait_s - validation_s)
    return {
        "steps": steps,
        "input_wait_s": input_wait_s,
        "first_step_s": steps_s / steps,
        "median_step_s": steps_s / steps,
        "steps_s": steps_s,
        "validation_s": validation_s,
    }


IDLE = {
    "duration_s": 60.0,
    "energy_consumed_kwh": 20.0 * 60 / 3.6e6,
    "cpu_energy_kwh": 0.0,
    "gpu_energy_kwh": 0.0,
    "ram_energy_kwh": 20.0 * 60 / 3.6e6,
    "cpu_power_w": 0.8,
    "gpu_power_w": 0.0,
    "ram_power_w": 20.0,
    "emissions_kg": 0.0001,
    "emissions_rate_kg_per_s": 1e-6,
    "country_iso_code": "USA",
    "country_name": "United States",
    "carbon_intensity_g_per_kwh": 400.0,
    "grid_data_year": 2023,
    "pue": 1.0,
    "codecarbon_cpu_model": "AMD EPYC",
    "codecarbon_gpu_model": None,
    "codecarbon_run_id": "idle",
    "cpu_tracking_method": "estimated: CPU load x 8 W TDP",
    "gpu_tracking_method": "none: no GPU found",
    "ram_tracking_method": "estimated: RAM power model (20 W)",
    "cpu_energy_measured": False,
    "gpu_energy_measured": False,
    "energy_missing_reason": None,
    "idle_cpu_power_w": 0.0,
    "idle_gpu_power_w": 0.0,
    "idle_ram_power_w": 20.0,
}


def make_hardware(cpu="CPU A", gpus=(), **fields):
    """Schema-4 hardware of a 2-CPU VM; `gpus` are names, given 80 GB and one driver each."""
    return {
        "cpu_model": cpu,
        "cpu_vendor": "AuthenticAMD",
        "cpu_family": 25,
        "cpu_model_number": 17,
        "cpu_stepping": 1,
        "vector_extension": "AVX-512",
        "virtual_machine": True,
        "cpu_count": 2,
        "ram_total_gb": 24.0,
        "gpus": [{"name": name, "memory_gb": 80.0, "driver": "570.1"} for name in gpus],
        "machine": "x86_64",
        "os": "Linux",
        **fields,
    }


POWER_ASSUMPTIONS = {
    "cpu_power_model": "load model",
    "cpu_table_match": None,
    "cpu_table_power_w": None,
    "cpu_chip_logical_cpus": None,
    "cpu_machine_share": None,
    "cpu_assumed_power_w": 8.0,
    "cpu_power_scaled": False,
    "cpu_power_basis": "CodeCarbon's default for a CPU not in its table: 8 W for 2 logical CPU(s)",
    "ram_assumed_power_w": 20.0,
    "cpu_pinned_power_w": 8.0,
    "ram_pinned_power_w": 20.0,
    "power_pinning": "the same on every tracker of this record: CPU pinned at 8 W; RAM at 20 W",
}


def make_quietness(runs: int, drift=0.02) -> dict:
    """A training record's evidence of a quiet machine: a calibration before the first run and after each run."""
    positions = ["before"] + ["between"] * (runs - 1) + ["after"]
    calibrations = [
        {
            "position": position,
            "duration_s": 7e-3,
            "drift": 0.0 if index == 0 else drift,
            "load_average_1m": 0.9,
            "steal_fraction": None if index == 0 else 0.001,
        }
        for index, position in enumerate(positions)
    ]
    return {
        "quiet": True,
        "summary": f"quiet: {len(calibrations)} calibrations within 10% of the first (at most {drift:+.0%})",
        "reasons": [],
        "max_drift": drift,
        "drift_bound": 0.1,
        "steal_readable": True,
        "calibration_task": "NumPy sorting 65,536 float32 numbers on one thread",
        "calibrations": calibrations,
    }


def make_record(
    runs,
    cpu="CPU A",
    gpus=(),
    backend="tensorflow",
    profile="full",
    created="2026-01-01T00:00:00+00:00",
    idle_power_w=20.0,
    fingerprint="ab" * 32,
    hardware=None,
):
    return {
        "schema_version": SCHEMA_VERSION,
        "fingerprint": fingerprint,
        "profile": profile,
        "config": {
            "profile": profile,
            "epochs": len(runs[0]["epoch_duration_s"]),
            "batch_size": 250,
            "train_images": 60_000,
            "test_images": 10_000,
            "validation_split": 0.2,
            "repeats": max(run["repeat"] for run in runs) + 1,
            "country_iso_code": "USA",
            "country_source": "default",
            "pue": 1.0,
        },
        "idle": None if idle_power_w is None else {**IDLE, "idle_power_w": idle_power_w},
        "git_commit": "0" * 40,
        "git_dirty": False,
        "source_sha256": "5" * 64,
        "dataset": {"source": "mnist.npz", "sha256": "d" * 64},
        "codecarbon_csv": "emissions.csv",
        "runs": runs,
        "quietness": make_quietness(len(runs)),
        "hardware": hardware or make_hardware(cpu, gpus),
        "power_assumptions": dict(POWER_ASSUMPTIONS),
        "versions": {
            "keras": "3",
            "keras_backend": backend,
            "codecarbon": "3.3.2",
            "python": "3.12",
            "tensorflow": "2.21.0" if backend == "tensorflow" else None,
        },
        "created_utc": created,
    }


def paired_record(standard_energies, separable_energies, **record_options):
    """A record whose repeats have the given energies (kWh), everything else equal."""
    runs = [make_run("Conv2D", repeat, energy_kwh=energy) for repeat, energy in enumerate(standard_energies)]
    runs += [make_run("SeparableConv2D", repeat, energy_kwh=energy) for repeat, energy in enumerate(separable_energies)]
    return make_record(runs, **record_options)


def make_inference_entry(run, energy_per_prediction_kwh=1e-8, time_per_prediction_s=1e-3, test_images=10_000):
    """The prediction cost of one run (`anatomy.measure.inference`): batch 1 and batch 250, one pass each,
    batch 250 ten times cheaper per prediction."""
    batches = [
        {
            "batch_size": size,
            "passes": 1,
            "predictions": test_images,
            "duration_s": time_per_prediction_s / factor * test_images,
            "energy_kwh": energy_per_prediction_kwh / factor * test_images,
        }
        for size, factor in ((1, 1), (250, 10))
    ]
    energy = {key: value for key, value in IDLE.items() if not key.startswith("idle_")}
    return {
        **energy,
        "architecture": run["architecture"],
        "model": run["model"],
        "repeat": run["repeat"],
        "position": run["position"],
        "test_images": test_images,
        "method": "compiled call",
        "warm_up_duration_s": 0.5,
        "warm_up_energy_kwh": 1e-6,
        "batches": batches,
    }


def with_inference(record, energy_per_prediction_kwh=None):
    """The record with an inference entry per run; `energy_per_prediction_kwh` maps a model to its
    energy per prediction at batch 1 (default 1e-8 kWh for both)."""
    energies = energy_per_prediction_kwh or {}
    for position, run in enumerate(record["runs"]):
        run["position"] = position
    record["inference"] = [make_inference_entry(run, energies.get(run["model"], 1e-8)) for run in record["runs"]]
    return record


def make_breakdown(step_s=0.1, convolution_s=0.05, other_s=0.004):
    """A breakdown whose two convolution layers take `convolution_s` together (forward and backward) and
    every other part `other_s`, for both models."""
    from convcarbon.anatomy.measure.schema import LAYER_NAMES

    def parts():
        rows = []
        for layer in (*LAYER_NAMES, "loss"):
            share = convolution_s / 4 if layer.startswith("conv_") else other_s / 2
            rows += [
                {"layer": layer, "phase": "forward", "duration_s": share},
                {"layer": layer, "phase": "backward", "duration_s": share},
            ]
        return rows + [{"layer": "optimizer", "phase": "update", "duration_s": other_s}]

    return {
        "method": "timed sub-models",
        "batch_size": 250,
        "rounds": 7,
        "call_overhead_s": 1e-4,
        "models": [
            {"architecture": "conv2d", "model": "Conv2D", "step_duration_s": step_s, "parts": parts()},
            {"architecture": "separable", "model": "SeparableConv2D", "step_duration_s": step_s, "parts": parts()},
        ],
    }


def bad_records() -> dict[str, tuple[str, str]]:
    """Records a runner or a pull request could hand in, each wrong in one way that schema 5 refuses:
    folder name -> (the text of its record.json, the start of the reason it is refused with)."""
    import json

    def record(**changes):
        return paired_record([0.010, 0.011, 0.012], [0.008, 0.009, 0.010], cpu="Bad Record CPU", **changes)

    # The issue's record: one duration of 1e308, one accuracy of NaN, one epoch of 1e-300 s.
    issue = record(fingerprint="e1" * 32)
    issue["runs"][0]["duration_s"] = 1e308
    issue["runs"][1]["test_accuracy"] = float("nan")
    issue["runs"][2]["epoch_duration_s"][0] = 1e-300
    absurd = record(fingerprint="e2" * 32)  # the same, less the NaN: within JSON, outside the bounds
    absurd["runs"][0]["duration_s"] = 1e308
    absurd["runs"][2]["epoch_duration_s"][0] = 1e-300
    infinite = json.dumps(record(fingerprint="e3" * 32)).replace('"test_loss": 0.05', '"test_loss": Infinity', 1)
    future = record(fingerprint="e4" * 32, created="2099-01-01T00:00:00+00:00")
    leaking = record(fingerprint="e5" * 32)
    leaking["dataset"]["source"] = "/home/alice/convcarbon/mnist.npz"
    unsummed = record(fingerprint="e6" * 32)
    unsummed["runs"][3]["epoch_duration_s"] = [0.5, 0.5]
    return {
        "seed-issue-15-record": (json.dumps(issue), "record.json holds NaN, which is not a number"),
        "seed-absurd-durations": (json.dumps(absurd), "does not match the record schema at runs/0/duration_s"),
        "seed-infinite-loss": (infinite, "record.json holds Infinity, which is not a number"),
        "seed-from-the-future": (json.dumps(future), "it is dated 2099-01-01T00:00:00+00:00, in the future"),
        "seed-with-a-home-path": (json.dumps(leaking), "does not match the record schema at dataset/source"),
        "seed-epochs-not-adding-up": (json.dumps(unsummed), "a run of SeparableConv2D lasted 100 s but its epochs"),
    }


def make_atlas(
    cpu="CPU A",
    backend="tensorflow",
    profile="smoke",
    created="2026-01-02T00:00:00+00:00",
    standard_s=None,
    separable_s=None,
    schema_version=1,
    **hardware,
):
    """A valid atlas record of `profile`'s grid on `make_hardware(cpu, **hardware)`, with times from the given
    functions of (shape, pass). By default multiplications run at 10 billion per second, and a call costs 0.1 ms
    more (0.2 ms for the separable layer, two steps), so the separable layer is faster only where the work is
    large: from 64 channels on in the smoke grid. Schema 1 as the committed atlases, or 2 (`atlas_v2_fields`)."""
    standard_s = standard_s or (lambda shape, pass_name: 1e-4 + macs(shape, "Conv2D") / 1e10)
    separable_s = separable_s or (lambda shape, pass_name: 2e-4 + macs(shape, "SeparableConv2D") / 1e10)
    points = []
    for shape in grid_shapes(canonical_profile(profile)):  # an old name (`seed`) times its profile's grid
        for pass_name in ("inference", "training"):
            for layer, timing in (("Conv2D", standard_s), ("SeparableConv2D", separable_s)):
                seconds = timing(shape, pass_name)
                points.append(
                    {
                        "layer": layer,
                        **shape.to_dict(),
                        "pass": pass_name,
                        "macs": macs(shape, layer),
                        "bytes": byte_count(shape, layer),
                        "median_s": seconds,
                        "low_s": seconds * 0.9,
                        "high_s": seconds * 1.2,
                        "samples": 3,
                        "calls_per_sample": 2,
                        "energy_j": None,
                    }
                )
    record = {
        "kind": "atlas",
        "schema_version": 1,
        "fingerprint": "a" * 64,
        "profile": profile,
        "config": atlas_config_v1(profile),
        "created_utc": created,
        "duration_s": 12.5,
        "git_commit": "b" * 40,
        "git_dirty": False,
        "hardware": make_hardware(cpu, **hardware),
        "versions": {"python": "3.12", "keras": "3", "keras_backend": backend},
        "source_sha256": "c" * 64,
        "energy": {"method": "none", "counter": None, "note": "no counter", "assumed_power_w": None},
        "ceilings": {"matmul_size": 2048, "matmul_macs_per_s": 5e10, "copy_bytes": 2**28, "copy_bytes_per_s": 1e10},
        "points": points,
    }
    return record if schema_version == 1 else atlas_v2_fields(record)


def atlas_config_v1(profile: str) -> dict:
    """The configuration a schema-1 atlas stored (its sample count and block length as the profiles had them)."""
    settings = PROFILES[canonical_profile(profile)].atlas
    return {
        "profile": profile,
        "channel_levels": [list(level) for level in settings.channel_levels],
        "kernels": list(settings.kernels),
        "batches": [1, settings.training_batch],
        "book_batch": PROFILES["full"].batch_size,
        "repeats": {"full": 5}.get(canonical_profile(profile), 3),
        "min_block_s": {"full": 0.05, "quick": 0.03}.get(canonical_profile(profile), 0.01),
        "warm_up_calls": 2,
        "seed": 42,
    }


def atlas_timing(seconds: float) -> dict:
    """Three samples around `seconds` and what follows from them (their median is `seconds`), as schema 2 stores."""
    return {
        "median_s": seconds,
        "low_s": seconds * 0.9,
        "high_s": seconds * 1.2,
        "interval_low_s": seconds * 0.9,
        "interval_high_s": seconds * 1.2,
        "samples": 3,
        "samples_s": [seconds * 1.2, seconds, seconds * 0.9],
        "calls_per_sample": 2,
    }


def atlas_v2_fields(record: dict) -> dict:
    """A schema-1 atlas record made schema 2: every sample, the passes' rule, the harness, the quietness evidence
    and the ceilings named, with the same medians and ceilings."""
    from convcarbon.atlas.measure.passes import PASS_RULES

    calibration = {"position": "before", "duration_s": 1e-3, "drift": 0.0, "load_average_1m": 0.2}
    matmul, copy = record["ceilings"]["matmul_macs_per_s"], record["ceilings"]["copy_bytes_per_s"]
    return {
        **record,
        "schema_version": 2,
        "config": {**atlas_config(canonical_profile(record["profile"])), "profile": record["profile"]},  # as stored
        "passes": dict(PASS_RULES),
        "harness": {"inference": atlas_timing(2e-4), "training": atlas_timing(3e-4)},
        "quietness": {
            "quiet": True,
            "summary": "quiet: 2 calibrations within 10% of the first (at most +2%)",
            "reasons": [],
            "max_drift": 0.02,
            "drift_bound": 0.1,
            "remeasured_blocks": 0,
            "steal_readable": True,
            "calibrations": [
                {**calibration, "steal_fraction": None},
                {**calibration, "position": "after", "drift": 0.02, "steal_fraction": 0.001},
            ],
        },
        "ceilings": {
            "matmul_macs_per_s": matmul,
            "copy_bytes_per_s": copy,
            "machine_matmul_macs_per_s": 1.2 * matmul,
            "machine_copy_bytes_per_s": 1.2 * copy,
            "backend": {
                "library": record["versions"]["keras_backend"],
                "matmul": [{"m": 2048, "k": 2048, "n": 2048, "macs_per_s": matmul}],
                "copy": [{"bytes": 2**26, "bytes_per_s": copy}],
            },
            "machine": {
                "library": "numpy 2.4.6 (its BLAS)",
                "matmul": [{"m": 2048, "k": 2048, "n": 2048, "macs_per_s": 1.2 * matmul}],
                "copy": [{"bytes": 2**26, "bytes_per_s": 1.2 * copy}],
            },
        },
        "points": [
            {
                **point,
                **atlas_timing(point["median_s"]),
                "settled": False,
                "calibration_drift": 0.02,
                "energy_samples_j": None,
            }
            for point in record["points"]
        ],
    }


def make_atlas_record(standard_s=None, separable_s=None, profile="smoke", schema_version=1) -> dict:
    """A valid atlas record of `profile`'s grid on a test CPU, with times from the given functions of the shape
    (by default the separable layer's multiplications run 10 times slower, after 2 ms against 1 ms)."""
    return make_atlas(
        cpu="Test CPU",
        profile=profile,
        created="2026-11-30T10:00:00+00:00",
        standard_s=standard_s or (lambda shape, pass_name: 1e-3 + macs(shape, "Conv2D") / 1e10),
        separable_s=separable_s or (lambda shape, pass_name: 2e-3 + macs(shape, "SeparableConv2D") / 1e9),
        schema_version=schema_version,
    )


# The costs chapter's checked exercise (course.checks.THIRD_LAYER), by hand: a separable layer of 128 3x3 filters on
# the 5x5x64 picture after the second pooling, 3x3 out; depthwise 3*3*9*64, pointwise 3*3*64*128.
THIRD_LAYER_DEPTHWISE = 3 * 3 * 9 * 64
THIRD_LAYER = THIRD_LAYER_DEPTHWISE + 3 * 3 * 64 * 128
THIRD_LAYER_STANDARD = 3 * 3 * 9 * 64 * 128


def saving_record() -> dict:
    """Three runs per model, the separable model's energy clearly below: its energy ratio's interval lies below 1.
    Each prediction at batch 1 costs 1e-8 kWh; the standard model's median training run 0.011 kWh."""
    return with_inference(paired_record([0.010, 0.011, 0.012], [0.005, 0.0055, 0.006]))
