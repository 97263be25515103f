import shutil

from synthetic import make_hardware

from convcarbon.records import provenance
from convcarbon.records.hardware import hardware_info

BASE = dict(
    config={"profile": "smoke", "epochs": 1},
    source="s" * 64,
    dataset_sha256="d" * 64,
    versions={"keras": "3", "keras_backend": "tensorflow"},
    hardware=make_hardware("A", os="Linux 1"),
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
    assert fingerprint(hardware=make_hardware("A", gpus=["NVIDIA H100"], os="Linux 1")) != base
    assert fingerprint(hardware={**BASE["hardware"], "cpu_family": 23}) != base
    assert fingerprint(hardware={**BASE["hardware"], "vector_extension": "AVX2"}) != base


def test_kernel_version_alone_does_not_change_it():
    assert fingerprint(hardware={**BASE["hardware"], "os": "Linux 2"}) == fingerprint()


def test_changing_any_package_file_changes_the_source_hash_and_so_the_fingerprint(tmp_path, monkeypatch):
    """A stale result must never be reused: every module of the package counts, even a comment."""
    copy = tmp_path / "convcarbon"
    shutil.copytree(provenance.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(provenance, "PACKAGE_DIR", copy)
    original = provenance.source_sha256()
    modules = sorted(copy.rglob("*.py"))
    assert len(modules) >= 20 and original == provenance.source_sha256()
    for module in modules:
        text = module.read_text()
        module.write_text(text + "\n# edited\n")
        edited = provenance.source_sha256()
        assert edited != original, module.name
        assert fingerprint(source=edited) != fingerprint(source=original)
        module.write_text(text)
    (copy / "new_module.py").write_text("")
    assert provenance.source_sha256() != original


def test_hardware_and_versions_are_filled():
    hardware, versions = hardware_info(), provenance.versions()
    assert hardware["cpu_model"] and hardware["cpu_count"] >= 1 and hardware["ram_total_gb"] > 0
    assert versions["keras"] and versions["keras_backend"] and versions["codecarbon"] and versions["python"]
