from convcarbon import provenance

BASE = dict(
    config={"profile": "smoke", "epochs": 1},
    source="s" * 64,
    dataset_sha256="d" * 64,
    versions={"keras": "3", "keras_backend": "tensorflow"},
    hardware={"cpu_model": "A", "cpu_count": 2, "ram_total_gb": 24.0, "gpu_models": [], "os": "Linux 1"},
)


def fingerprint(**changes):
    return provenance.fingerprint(**{**BASE, **changes})


def test_fingerprint_is_stable():
    assert fingerprint() == fingerprint()
    assert len(fingerprint()) == 64


def test_everything_that_changes_a_result_changes_the_fingerprint():
    base = fingerprint()
    assert fingerprint(config={"profile": "smoke", "epochs": 2}) != base
    assert fingerprint(source="t" * 64) != base
    assert fingerprint(dataset_sha256="e" * 64) != base
    assert fingerprint(versions={"keras": "3", "keras_backend": "jax"}) != base
    assert fingerprint(hardware={**BASE["hardware"], "gpu_models": ["NVIDIA H100"]}) != base


def test_kernel_version_alone_does_not_change_it():
    assert fingerprint(hardware={**BASE["hardware"], "os": "Linux 2"}) == fingerprint()


def test_source_hash_covers_the_package():
    assert len(provenance.source_sha256()) == 64


def test_hardware_and_versions_are_filled():
    hardware, versions = provenance.hardware_info(), provenance.versions()
    assert hardware["cpu_model"] and hardware["cpu_count"] >= 1 and hardware["ram_total_gb"] > 0
    assert versions["keras"] and versions["keras_backend"] and versions["codecarbon"] and versions["python"]
