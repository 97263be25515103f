"""Records built by hand, with known numbers, for the analysis and the multi-machine tables.

Only tests use them; the book never shows a record that was not measured.
"""

from convcarbon.store import SCHEMA_VERSION

MULTIPLICATIONS = {"Conv2D": 2_836_800, "SeparableConv2D": 722_536}


def make_run(model, repeat, energy_kwh=0.01, duration_s=100.0, accuracy=0.98, epoch_duration_s=(30.0, 10.0),
             gpu_measured=False):
    return {
        "model": model, "architecture": model.lower(), "repeat": repeat, "position": 0, "seed": 42 + repeat,
        "test_accuracy": accuracy, "test_loss": 0.05, "duration_s": duration_s,
        "energy_consumed_kwh": energy_kwh, "cpu_energy_kwh": energy_kwh / 4, "gpu_energy_kwh": 0.0,
        "ram_energy_kwh": energy_kwh * 3 / 4, "emissions_kg": energy_kwh * 0.4,
        "emissions_rate_kg_per_s": energy_kwh * 0.4 / duration_s,
        "epoch_duration_s": list(epoch_duration_s), "epoch_energy_kwh": [energy_kwh / 2, energy_kwh / 2],
        "clean_up_duration_s": 0.2, "clean_up_energy_kwh": 0.0,
        "multiplications_per_image": MULTIPLICATIONS[model],
        "carbon_intensity_g_per_kwh": 400.0, "country_name": "United States", "grid_data_year": 2023,
        "cpu_tracking_method": "estimated: CPU load x 8 W TDP",
        "gpu_tracking_method": "measured: NVML energy counter" if gpu_measured else "none: no GPU found",
        "ram_tracking_method": "estimated: RAM power model (20 W)",
        "cpu_energy_measured": False, "gpu_energy_measured": gpu_measured, "energy_missing_reason": None,
    }


def make_record(runs, cpu="CPU A", gpus=(), backend="tensorflow", profile="seed",
                created="2026-01-01T00:00:00+00:00", idle_power_w=20.0, fingerprint="ab" * 32):
    return {
        "schema_version": SCHEMA_VERSION, "fingerprint": fingerprint, "profile": profile,
        "config": {"profile": profile, "epochs": 2, "batch_size": 250, "train_images": 60_000,
                   "validation_split": 0.2, "repeats": max(run["repeat"] for run in runs) + 1,
                   "country_iso_code": "USA", "country_source": "default", "pue": 1.0},
        "idle": None if idle_power_w is None else {"idle_power_w": idle_power_w, "duration_s": 60.0,
                                                   "energy_missing_reason": None},
        "runs": runs,
        "hardware": {"cpu_model": cpu, "cpu_count": 2, "ram_total_gb": 24, "gpu_models": list(gpus)},
        "versions": {"keras": "3", "keras_backend": backend, "codecarbon": "3.3.2", "python": "3.12"},
        "created_utc": created,
    }


def paired_record(standard_energies, separable_energies, **record_options):
    """A record whose repeats have the given energies (kWh), everything else equal."""
    runs = [make_run("Conv2D", repeat, energy_kwh=energy) for repeat, energy in enumerate(standard_energies)]
    runs += [make_run("SeparableConv2D", repeat, energy_kwh=energy) for repeat, energy in enumerate(separable_energies)]
    return make_record(runs, **record_options)
