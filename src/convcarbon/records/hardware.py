"""What machine a result was measured on, precisely enough to tell two machines apart.

Two cloud VMs can both call their processor "AMD EPYC" while one is a Zen 2
with AVX2 and the other a Zen 5 with AVX-512, three times faster on this
work. So the identity holds the CPU's vendor, family, model and stepping, its
widest vector extension, whether it runs in a virtual machine, its logical CPU
count, and each GPU's name, memory and driver.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

# Widest first: the first one a CPU has is the one recorded.
X86_VECTOR_EXTENSIONS = (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"), ("sse4_2", "SSE4.2"))
ARM_VECTOR_EXTENSIONS = (("sve2", "SVE2"), ("sve", "SVE"), ("asimd", "NEON"))
# The hardware fields that decide whether two results came from the same machine.
IDENTITY_FIELDS = (
    "cpu_model",
    "cpu_vendor",
    "cpu_family",
    "cpu_model_number",
    "cpu_stepping",
    "vector_extension",
    "virtual_machine",
    "cpu_count",
    "ram_total_gb",
    "gpus",
)


def hardware_info() -> dict:
    cpu = cpu_identity()
    return {
        **cpu,
        "cpu_count": os.cpu_count(),
        "ram_total_gb": round(_ram_total_bytes() / 2**30, 1),
        "gpus": list(gpu_identity()),
        "machine": platform.machine(),
        "os": platform.platform(),
    }


def cpu_identity(cpuinfo: str | None = None, system: str | None = None) -> dict:
    """Vendor, family, model, stepping, model name, widest vector extension and VM flag.

    Read from /proc/cpuinfo on Linux (x86 and Arm) and from sysctl on macOS;
    a field that the system does not tell is None, never guessed.
    """
    system = system or platform.system()
    if system == "Darwin" and cpuinfo is None:
        return _macos_cpu_identity()
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    fields = _first_processor(cpuinfo)
    if "vendor_id" in fields:
        return _x86_identity(fields)
    if "CPU implementer" in fields:
        return _arm_identity(fields)
    return _unknown_identity(platform.processor() or platform.machine() or "unknown")


def _first_processor(cpuinfo: str) -> dict:
    """The `key: value` lines of the first processor block (all blocks agree on these)."""
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        if not line.strip():
            if fields:
                break
            continue
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields


def _x86_identity(fields: dict) -> dict:
    flags = set(fields.get("flags", "").split())
    return {
        "cpu_model": fields.get("model name") or "unknown",
        "cpu_vendor": fields.get("vendor_id"),
        "cpu_family": _integer(fields.get("cpu family")),
        "cpu_model_number": _integer(fields.get("model")),
        "cpu_stepping": _integer(fields.get("stepping")),
        "vector_extension": _widest(flags, X86_VECTOR_EXTENSIONS),
        "virtual_machine": "hypervisor" in flags,
    }


def _arm_identity(fields: dict) -> dict:
    features = set(fields.get("Features", "").split())
    implementer, part = fields.get("CPU implementer"), fields.get("CPU part")
    return {
        "cpu_model": fields.get("model name") or f"Arm CPU (implementer {implementer}, part {part})",
        "cpu_vendor": f"Arm implementer {implementer}",
        "cpu_family": _integer(fields.get("CPU architecture")),
        "cpu_model_number": _integer(part),
        "cpu_stepping": _integer(fields.get("CPU revision")),
        "vector_extension": _widest(features, ARM_VECTOR_EXTENSIONS),
        "virtual_machine": _linux_virtualization(),
    }


def _macos_cpu_identity() -> dict:
    brand = _sysctl("machdep.cpu.brand_string") or platform.processor() or "unknown"
    arm = platform.machine() == "arm64"
    return {
        "cpu_model": brand,
        "cpu_vendor": "Apple" if arm else _sysctl("machdep.cpu.vendor"),
        "cpu_family": _integer(_sysctl("hw.cpufamily")),
        "cpu_model_number": None if arm else _integer(_sysctl("machdep.cpu.model")),
        "cpu_stepping": None if arm else _integer(_sysctl("machdep.cpu.stepping")),
        "vector_extension": "NEON"
        if arm
        else _widest(
            set((_sysctl("machdep.cpu.features") or "").lower().replace(".", "_").split())
            | set((_sysctl("machdep.cpu.leaf7_features") or "").lower().replace(".", "_").split()),
            X86_VECTOR_EXTENSIONS,
        ),
        "virtual_machine": {"1": True, "0": False}.get(_sysctl("kern.hv_vmm_present") or ""),
    }


def _unknown_identity(model: str) -> dict:
    return {
        "cpu_model": model,
        "cpu_vendor": None,
        "cpu_family": None,
        "cpu_model_number": None,
        "cpu_stepping": None,
        "vector_extension": None,
        "virtual_machine": None,
    }


def _widest(flags: set, extensions) -> str | None:
    return next((name for flag, name in extensions if flag in flags), None)


def _integer(text: str | None) -> int | None:
    """'25' or '0xd0c' as a number; None when absent or not a number."""
    if not text:
        return None
    try:
        return int(text, 0)
    except ValueError:
        return None


def _linux_virtualization() -> bool | None:
    """Whether Linux runs under a hypervisor, from systemd-detect-virt; None if it cannot tell."""
    if not shutil.which("systemd-detect-virt"):
        return None
    try:
        completed = subprocess.run(["systemd-detect-virt", "--vm"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip() not in ("", "none")


def _sysctl(name: str) -> str | None:
    try:
        completed = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip() or None if completed.returncode == 0 else None


def _ram_total_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


@lru_cache(maxsize=1)
def gpu_identity() -> tuple:
    """Each NVIDIA GPU's name, memory and driver through NVML (nvidia-ml-py, as CodeCarbon uses).

    A tuple of dicts, cached: NVML is slow to start and the GPUs do not change during a run.
    """
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:
        return ()
    try:
        driver = _text(pynvml.nvmlSystemGetDriverVersion())
        gpus = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            memory_bytes = pynvml.nvmlDeviceGetMemoryInfo(handle).total
            gpus.append(
                {
                    "name": _text(pynvml.nvmlDeviceGetName(handle)),
                    "memory_gb": round(memory_bytes / 2**30, 1),
                    "driver": driver,
                }
            )
        return tuple(gpus)
    finally:
        pynvml.nvmlShutdown()


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def core_count_in_name(cpu_model: str) -> int | None:
    """The cores a model name states, as AMD's do ("AMD EPYC 7763 64-Core Processor"); else None."""
    match = re.search(r"\b(\d+)-Core\b", cpu_model, flags=re.IGNORECASE)
    return int(match.group(1)) if match else None
