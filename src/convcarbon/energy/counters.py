"""`python -m convcarbon counters`: the energy counters this machine has, whether this user can read them, what
`run` and `atlas` will therefore use, and how to enable each one that cannot be read.

Three kinds of counter:

- RAPL domains under /sys/class/powercap (`intel-rapl:0` is CPU package 0, `intel-rapl:0:0` its cores, ...;
  AMD CPUs appear there too). Since CVE-2020-8694 (PLATYPUS) `energy_uj` is readable by root only: a counter
  readable by everyone lets any local user watch the power the CPU draws, a side channel on the data it works on.
- NVIDIA GPUs through NVML (`pynvml`, else only listed through `nvidia-smi`): the total energy since the driver
  loaded, readable by every user on Volta and later GPUs, absent on older ones.
- macOS `powermetrics`, which needs root: readable when `sudo -n` lets this user run it without a password.

What each command uses follows the code it runs, not what the machine could do:

- `run` trains under CodeCarbon 3.3.2 (`ResourceTracker._try_platform_cpu_backend`, `cpu.is_rapl_available`):
  on Linux it reads RAPL when a package domain (`intel-rapl*` entries whose `name` holds "package", or whose
  folder ends in ":0") has a readable `energy_uj`; on Apple silicon it picks its CPU load model *before*
  powermetrics (so there the CPU stays estimated even with powermetrics readable); on an Intel Mac it tries
  powermetrics; the GPU is read through NVML wherever `nvidia-smi` runs. Otherwise the CPU is estimated
  (load x an assumed wattage: `energy/power.py`).
- `atlas` (`measure/atlas_energy.find_counter`) reads NVML when every GPU's energy is readable, else RAPL when
  every CPU package (`intel-rapl:N`) is readable, else, on macOS, powermetrics through `sudo -n`; else it
  measures no energy.

Everything the answer depends on (the powercap folder, the operating system, which programs are on PATH, how
a file is read, NVML, running a program) can be passed in, so tests run on fake trees.

`--json` prints `CounterReport.to_dict()`, of schema `COUNTERS_SCHEMA_VERSION` (`energy/counters_report.py` reads
it back as untrusted input, for book/measuring.md's table of the Pages runners' counters).

Used by: book/instructors.md ("Measured or estimated on each student's machine"), .github/workflows/pages.yml
"""

from __future__ import annotations

import getpass
import platform
import shlex
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from convcarbon.records.hardware import cpu_identity
from convcarbon.safe import TerminalText, terminal_text

POWERCAP_ROOT = Path("/sys/class/powercap")
RAPL_PATTERNS = ("intel-rapl*:*", "amd-rapl*:*")  # AMD CPUs are usually listed as intel-rapl too
PROBE_TIMEOUT_S = 1.0  # nvidia-smi and sudo -n powermetrics: the whole answer stays under 2 s
CODECARBON_RULES_READ = "3.3.2"  # the CodeCarbon whose choice of method the rules below follow
POWERMETRICS_SUDOERS = Path("/etc/sudoers.d/convcarbon-powermetrics")
# Version 1 added `schema_version` and `cpu_model` to the JSON that `counters --json` printed before; nothing else.
COUNTERS_SCHEMA_VERSION = 1

RAPL_SECURITY = (
    "CVE-2020-8694 (PLATYPUS): a RAPL counter readable by every user lets any local program infer what the CPU "
    "computes from the power it draws; that is why the kernel made energy_uj root-only. The permission lasts "
    "until the next boot; undo it sooner with: sudo chmod go-r {path}"
)
POWERMETRICS_SECURITY = (
    "lets {user} run powermetrics as root without a password (it reads every process's power and can write "
    "its output to any file); unlike the RAPL permission it survives a reboot: remove it with: sudo rm {path}"
)


@dataclass(frozen=True)
class Counter:
    """One energy counter of this machine and whether this user can read it; for an unreadable one, the command
    that makes it readable and what that gives away (`security_note`)."""

    kind: str  # "RAPL", "NVML" or "powermetrics"
    name: str
    source: str  # the file, library or program it is read through
    readable: bool
    detail: str
    enable_command: str | None = None
    security_note: str | None = None
    package: bool = False  # a RAPL CPU package domain (what CodeCarbon and the atlas read)
    codecarbon_package: bool = False  # a package domain by CodeCarbon's own rule (`_is_main_domain`)


@dataclass(frozen=True)
class CounterReport:
    system: str
    cpu_model: str
    user: str
    counters: list[Counter]
    run_cpu: str
    run_gpu: str
    atlas: str
    codecarbon: str | None
    notes: list[str] = field(default_factory=list)

    @property
    def any_readable(self) -> bool:
        return any(counter.readable for counter in self.counters)

    def to_dict(self) -> dict:
        return {"schema_version": COUNTERS_SCHEMA_VERSION, **asdict(self), "any_readable": self.any_readable}


@dataclass(frozen=True)
class Gpu:
    """One NVIDIA GPU as NVML (or nvidia-smi) shows it."""

    name: str
    energy_readable: bool
    detail: str


def can_read(path: Path) -> bool:
    """Whether this process can read the file: opened and read, as CodeCarbon and the atlas would."""
    try:
        with open(path) as handle:
            handle.read(64)
        return True
    except OSError:
        return False


def rapl_counters(root: Path = POWERCAP_ROOT, readable: Callable[[Path], bool] = can_read) -> list[Counter]:
    """Every RAPL domain under `root` that has an `energy_uj`, in folder order."""
    if not root.is_dir():
        return []
    folders = sorted({path for pattern in RAPL_PATTERNS for path in root.glob(pattern)}, key=lambda p: p.name)
    counters = []
    for folder in folders:
        energy = folder / "energy_uj"
        if not energy.exists():
            continue
        domain = _domain_name(folder)
        package = folder.name.startswith("intel-rapl:") and folder.name.count(":") == 1
        main_domain = "package" in domain.lower() or folder.name.endswith(":0")  # CodeCarbon's `_is_main_domain`
        counters.append(_rapl_counter(folder, domain, readable(energy), package, main_domain))
    return counters


def _domain_name(folder: Path) -> str:
    try:
        return (folder / "name").read_text().strip()[:60] or "unnamed"
    except OSError:
        return "unnamed"


def _rapl_counter(folder: Path, domain: str, readable: bool, package: bool, codecarbon_package: bool) -> Counter:
    energy = folder / "energy_uj"
    quoted = shlex.quote(str(energy))
    return Counter(
        kind="RAPL",
        name=f"{folder.name} ({domain})",
        source=str(energy),
        readable=readable,
        detail="readable by this user" if readable else "readable by root only (since CVE-2020-8694)",
        enable_command=None if readable else f"sudo chmod a+r {quoted}",
        security_note=None if readable else RAPL_SECURITY.format(path=quoted),
        package=package,
        codecarbon_package=folder.name.startswith("intel-rapl") and codecarbon_package,
    )


def nvml_gpus(
    which: Callable[[str], str | None] = shutil.which, run: Callable[[list[str]], tuple[int, str]] | None = None
) -> tuple[list[Gpu], str]:
    """(the NVIDIA GPUs and whether each one's energy is readable, how they were found)."""
    try:
        import pynvml
    except ImportError:
        return _nvidia_smi_gpus(which, run or _run)
    try:
        pynvml.nvmlInit()
    except Exception:  # no driver, no library: no NVIDIA GPU this process can use
        return [], "NVML (pynvml): no NVIDIA driver"
    try:
        gpus = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            name = pynvml.nvmlDeviceGetName(handle)
            name = name.decode() if isinstance(name, bytes) else str(name)
            try:
                pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)
                gpus.append(Gpu(name, True, "total energy readable by every user"))
            except pynvml.NVMLError as error:
                gpus.append(
                    Gpu(name, False, f"no total-energy counter on this GPU ({error}); Volta and later have one")
                )
        return gpus, "NVML (pynvml)"
    finally:
        pynvml.nvmlShutdown()


def _nvidia_smi_gpus(which, run) -> tuple[list[Gpu], str]:
    if which("nvidia-smi") is None:
        return [], "neither pynvml nor nvidia-smi is installed"
    code, output = run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"])
    detail = "listed by nvidia-smi; install pynvml (nvidia-ml-py) to check its energy counter"
    names = [line.strip() for line in output.splitlines() if line.strip()] if code == 0 else []
    return [Gpu(name[:80], False, detail) for name in names], "nvidia-smi"


def _run(command: list[str]) -> tuple[int, str]:
    """(exit status, standard output) of a short probe; 1 and "" when it cannot run or takes too long."""
    try:
        done = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return 1, ""
    return done.returncode, done.stdout


def nvml_counters(gpus: list[Gpu], source: str) -> list[Counter]:
    return [
        Counter(
            kind="NVML",
            name=f"GPU {index}: {gpu.name}",
            source=source,
            readable=gpu.energy_readable,
            detail=gpu.detail,
        )
        for index, gpu in enumerate(gpus)
    ]


def powermetrics_counter(
    user: str,
    which: Callable[[str], str | None] = shutil.which,
    run: Callable[[list[str]], tuple[int, str]] | None = None,
) -> Counter | None:
    """macOS's powermetrics, readable when this user may run it through `sudo -n` (no password asked);
    None when it is not installed."""
    program = which("powermetrics")
    if program is None:
        return None
    code, _ = (run or _run)(["sudo", "-n", program, "--samplers", "cpu_power", "-n", "1", "-i", "1", "-o", "/dev/null"])
    readable = code == 0
    sudoers = shlex.quote(str(POWERMETRICS_SUDOERS))
    rule = shlex.quote(f"{user} ALL=(root) NOPASSWD: {program}")
    return Counter(
        kind="powermetrics",
        name="CPU and GPU power (Apple powermetrics)",
        source=program,
        readable=readable,
        detail="runs through sudo -n without a password" if readable else "needs root: sudo asks for a password",
        enable_command=None
        if readable
        else f"echo {rule} | sudo tee {sudoers} > /dev/null && sudo chmod 0440 {sudoers}",
        security_note=None if readable else POWERMETRICS_SECURITY.format(user=user, path=sudoers),
    )


def find_counters(
    root: Path = POWERCAP_ROOT,
    system: str | None = None,
    apple_silicon: bool | None = None,
    which: Callable[[str], str | None] = shutil.which,
    readable: Callable[[Path], bool] = can_read,
    gpus: tuple[list[Gpu], str] | None = None,
    run: Callable[[list[str]], tuple[int, str]] | None = None,
    user: str | None = None,
    cpu_model: str | None = None,
) -> CounterReport:
    """The counters of this machine (or of the fake one the arguments describe) and what `run` and `atlas` use."""
    system = system or platform.system()
    apple_silicon = (system == "Darwin" and platform.machine() == "arm64") if apple_silicon is None else apple_silicon
    user = user or _user()
    rapl = rapl_counters(root, readable) if system == "Linux" else []
    gpu_list, gpu_source = gpus if gpus is not None else nvml_gpus(which, run)
    nvml = nvml_counters(gpu_list, gpu_source)
    mac = powermetrics_counter(user, which, run) if system == "Darwin" else None
    counters = rapl + nvml + ([mac] if mac else [])
    return CounterReport(
        system=system,
        cpu_model=cpu_model or str(cpu_identity(system=system)["cpu_model"])[:200],
        user=user,
        counters=counters,
        run_cpu=_run_cpu(rapl, mac, apple_silicon),
        run_gpu=_run_gpu(nvml, which),
        atlas=_atlas(rapl, nvml, mac),
        codecarbon=_codecarbon_version(),
        notes=_notes(system, gpu_list, gpu_source),
    )


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown user"


def _run_cpu(rapl: list[Counter], mac: Counter | None, apple_silicon: bool) -> str:
    if any(counter.codecarbon_package and counter.readable for counter in rapl):
        return "measured: RAPL (CodeCarbon reads the readable package domain)"
    if apple_silicon:
        return (
            "estimated: CPU load x an assumed wattage (on Apple silicon CodeCarbon picks its load model before "
            "powermetrics, readable or not)"
        )
    if mac is not None and mac.readable:
        return "measured: powermetrics (CodeCarbon runs sudo powermetrics)"
    why = "no RAPL package domain is readable" if rapl else "no RAPL counter and no powermetrics"
    return f"estimated: CPU load x an assumed wattage ({why})"


def _run_gpu(nvml: list[Counter], which: Callable[[str], str | None]) -> str:
    if not nvml:
        return "none: no NVIDIA GPU"
    if which("nvidia-smi") is None:
        return "none: CodeCarbon looks for GPUs by running nvidia-smi, which is not on PATH"
    if all(counter.readable for counter in nvml):
        return "measured: NVML energy counter"
    return "not measured where a GPU has no energy counter: " + ", ".join(c.name for c in nvml if not c.readable)


def _atlas(rapl: list[Counter], nvml: list[Counter], mac: Counter | None) -> str:
    """The counter `atlas_energy.find_counter` picks: NVML, else every CPU package's RAPL, else powermetrics."""
    if nvml and all(counter.readable for counter in nvml):  # only pynvml marks a GPU readable
        return f"measured: NVML total energy ({len(nvml)} GPU(s))"
    packages = [counter for counter in rapl if counter.package]
    if packages and all(counter.readable for counter in packages):
        return f"measured: RAPL ({len(packages)} CPU package(s))"
    if mac is not None and mac.readable:
        return "measured: powermetrics CPU power, summed"
    return "no energy: only the times are measured (no readable counter; the atlas never estimates)"


def _codecarbon_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("codecarbon")
    except PackageNotFoundError:
        return None


def _notes(system: str, gpus: list[Gpu], gpu_source: str) -> list[str]:
    notes = []
    installed = _codecarbon_version()
    if installed != CODECARBON_RULES_READ:
        notes.append(
            f"what run uses follows CodeCarbon {CODECARBON_RULES_READ}'s rules; installed: {installed or 'none'}"
        )
    if system not in ("Linux", "Darwin"):
        notes.append(f"no RAPL or powermetrics check on {system}")
    if not gpus:
        notes.append(f"GPUs: {gpu_source}")
    return notes


def format_report(report: CounterReport) -> TerminalText:
    """The report for a terminal; every string that came from the machine made inert."""

    lines = [
        f"Energy counters on this machine ({terminal_text(report.system)}, {terminal_text(report.cpu_model)}, "
        f"user {terminal_text(report.user)}):"
    ]
    if not report.counters:
        lines.append("  none found")
    for counter in report.counters:
        state = "readable" if counter.readable else "NOT readable"
        lines.append(
            f"  {counter.kind:<12} {terminal_text(counter.name, 120)}: {state}, {terminal_text(counter.detail)}"
        )
        lines.append(f"  {'':<12} read through {terminal_text(counter.source, 200)}")
        if counter.enable_command:
            lines.append(f"  {'':<12} enable: {terminal_text(counter.enable_command, 400)}")
            lines.append(f"  {'':<12} security: {terminal_text(counter.security_note, 600)}")
    lines += [
        "What the commands will use:",
        f"  run (CodeCarbon {terminal_text(report.codecarbon or 'not installed')}), "
        f"CPU: {terminal_text(report.run_cpu)}",
        f"  run, GPU: {terminal_text(report.run_gpu)}",
        "  run, RAM: estimated: CodeCarbon's RAM power model (no counter is read for RAM)",
        f"  atlas: {terminal_text(report.atlas)}",
    ]
    lines += [f"note: {terminal_text(note)}" for note in report.notes]
    return TerminalText("\n".join(lines))  # every outside string through terminal_text
