"""Where a result came from: hardware, versions, source, commit, and the fingerprint of all of it.

The fingerprint covers everything that changes a result, so that a stored
result is reused only when the same work would be done again.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from .hardware import IDENTITY_FIELDS

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the whole convcarbon package, every stage


def versions() -> dict:
    import keras  # imported here: it pulls in the backend, which takes seconds

    return {
        "python": platform.python_version(),
        "convcarbon": _distribution_version("convcarbon"),
        "keras": keras.__version__,
        "keras_backend": keras.config.backend(),
        "tensorflow": _distribution_version("tensorflow"),
        "jax": _distribution_version("jax"),
        "codecarbon": _distribution_version("codecarbon"),
        "numpy": _distribution_version("numpy"),
    }


def source_sha256() -> str:
    """A hash of the package's own Python source: editing it invalidates stored results."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def git_commit() -> dict:
    """The commit of the checkout the package runs from, if it is one."""

    def git(*args: str) -> str | None:
        try:
            completed = subprocess.run(["git", *args], cwd=PACKAGE_DIR, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return completed.stdout.strip() if completed.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    dirty = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"git_commit": commit, "git_dirty": bool(dirty) if commit else None}


def fingerprint(config: dict, source: str, dataset_sha256: str, versions: dict, hardware: dict) -> str:
    """sha256 over the canonical JSON of everything that changes the result."""
    inputs = {
        "config": config,
        "source_sha256": source,
        "dataset_sha256": dataset_sha256,
        "versions": versions,
        "hardware": {key: hardware[key] for key in IDENTITY_FIELDS},
    }
    canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _distribution_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
