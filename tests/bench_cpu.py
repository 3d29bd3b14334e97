"""The CPU the benchmark gives the function: the deploy's share, and a cgroup that holds it to that share.

``deploy_share()`` reads the memory and CPU that ``deploy/function.sh`` deploys with by default and
turns them into Cloud Run's vCPUs: an explicit ``--cpu`` is what it says; without one, Cloud Run
functions give CPU by memory size (``CPU_BY_MEMORY``, from Google's "Configure memory and vCPU limits",
https://cloud.google.com/functions/docs/configuring/memory): 512 MiB is 0.333 vCPU.

``CpuQuota.make(vcpus)`` is a cgroup whose processes share that many CPUs (CFS bandwidth: ``quota`` of
every 100 ms period), under cgroup v2 (``cpu.max``) or v1 (``cpu.cfs_quota_us``); it needs root. When
no cgroup can be made, ``CpuQuota.make`` raises ``NoQuota`` saying why.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPLOY_SCRIPT = ROOT / "deploy" / "function.sh"
#: Cloud Run functions' vCPUs for a memory size when ``--cpu`` is not set (MiB, vCPU), from Google's
#: table (https://cloud.google.com/functions/docs/configuring/memory). A size between two rows gets the
#: larger row's CPU, as Google rounds memory up to a tier.
CPU_BY_MEMORY: tuple[tuple[int, float], ...] = (
    (128, 0.083),
    (256, 0.167),
    (512, 0.333),
    (1024, 0.583),
    (2048, 1.0),
    (4096, 2.0),
    (8192, 2.0),
    (16384, 4.0),
    (32768, 8.0),
)
#: gcloud's --memory units (k, M, G are powers of ten; Ki, Mi, Gi of two; MB and GB as gcloud reads them).
_UNITS = {
    "": 1,
    "k": 10**3,
    "K": 10**3,
    "M": 10**6,
    "G": 10**9,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "KB": 2**10,
    "MB": 2**20,
    "GB": 2**30,
}
PERIOD_US = 100_000


class NoQuota(Exception):
    """No cgroup could hold the function to its share; the message says why."""


@dataclass(frozen=True)
class Share:
    """The CPU the function is deployed with, and where that figure comes from."""

    vcpus: float
    memory: str
    cpu: str | None
    source: str


def memory_mib(text: str) -> float:
    """A gcloud ``--memory`` value (``512Mi``, ``1Gi``, ``512M``, ``2GB``) in MiB."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", text)
    if match is None or match.group(2) not in _UNITS:
        raise ValueError(f"not a memory size: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)] / 2**20


def vcpus_for_memory(memory: str) -> float:
    """The vCPUs Cloud Run functions give ``memory`` when no ``--cpu`` is set."""
    mib = memory_mib(memory)
    for tier, vcpus in CPU_BY_MEMORY:
        if mib <= tier * 1.001:
            return vcpus
    raise ValueError(f"{memory} is more than Cloud Run functions offer")


def deploy_share(script: str, *, override: float | None = None) -> Share:
    """The function's vCPUs as ``script`` (the text of deploy/function.sh) deploys it by default."""
    memory = _default(script, "MEMORY") or "256Mi"
    cpu = _default(script, "CPU")
    if override is not None:
        return Share(override, memory, cpu, f"--cpu {override:g} given to the benchmark")
    if cpu:
        return Share(float(cpu), memory, cpu, f"deploy/function.sh: --memory {memory} --cpu {cpu}")
    vcpus = vcpus_for_memory(memory)
    source = f"deploy/function.sh: --memory {memory}, no --cpu: Cloud Run functions give {vcpus:g} vCPU"
    return Share(vcpus, memory, None, source)


def _default(script: str, name: str) -> str | None:
    """The default of ``NAME="${NAME:-default}"`` in a shell script."""
    match = re.search(rf'^{name}="\$\{{{name}:-([^}}]*)\}}"', script, re.MULTILINE)
    return match.group(1).strip() or None if match else None


def quota_us(vcpus: float, period_us: int = PERIOD_US) -> int:
    """CFS quota for ``vcpus`` CPUs in each period (at least 1 ms, the kernel's smallest)."""
    if vcpus <= 0:
        raise ValueError("a share of CPU is more than 0")
    return max(1000, round(vcpus * period_us))


# ------------------------------------------------------------------------------------ finding cgroups


@dataclass(frozen=True)
class Hierarchy:
    """Where the cpu controller is mounted, and this process's cgroup in it."""

    version: int
    mountpoint: Path
    cgroup: str  # this process's cgroup, relative to the mount

    @property
    def own(self) -> Path:
        return self.mountpoint / self.cgroup.lstrip("/")


def find_cpu_hierarchy(mountinfo: str, proc_cgroup: str, v2_controllers: dict[str, str]) -> Hierarchy:
    """The cpu controller's hierarchy from /proc/self/mountinfo and /proc/self/cgroup; v2 preferred.

    ``v2_controllers`` maps each cgroup2 mountpoint to the text of its ``cgroup.controllers``.
    """
    own: dict[str, str] = {}  # "cpu" (v1) or "" (v2) -> this process's cgroup
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(",") if parts[1] else [""]:
                own[controller] = parts[2]
    v1: Hierarchy | None = None
    for line in mountinfo.splitlines():
        fields = line.split()
        if " - " not in line or len(fields) < 5:
            continue
        root, mountpoint = fields[3], Path(fields[4].replace("\\040", " "))
        fstype, _, options = line.split(" - ", 1)[1].split()[:3]
        if fstype == "cgroup2" and "cpu" in v2_controllers.get(str(mountpoint), "").split():
            return Hierarchy(2, mountpoint, _relative(own.get("", "/"), root))
        if fstype == "cgroup" and "cpu" in options.split(",") and v1 is None:
            v1 = Hierarchy(1, mountpoint, _relative(own.get("cpu", "/"), root))
    if v1 is None:
        raise NoQuota("no cgroup hierarchy here has the cpu controller (neither cgroup v2 nor v1)")
    return v1


def _relative(path: str, root: str) -> str:
    """A cgroup path as seen inside a mount whose root is ``root`` (a container's cgroup namespace)."""
    if root != "/" and path.startswith(root):
        return path[len(root) :] or "/"
    return path


# ------------------------------------------------------------------------------------------- the quota


class CpuQuota:
    """A cgroup of its own holding whatever joins it (``procs``) to ``vcpus`` CPUs; ``remove()`` it after."""

    def __init__(self, hierarchy: Hierarchy, path: Path, vcpus: float) -> None:
        self.hierarchy = hierarchy
        self.path = path
        self.vcpus = vcpus

    @classmethod
    def make(cls, vcpus: float, name: str | None = None) -> CpuQuota:
        """A new cgroup under this process's own, with the quota written; raises NoQuota saying why."""
        if os.geteuid() != 0:
            raise NoQuota("the benchmark is not running as root, and making a cgroup needs root")
        try:
            mountinfo = Path("/proc/self/mountinfo").read_text()
            proc_cgroup = Path("/proc/self/cgroup").read_text()
        except OSError as exc:
            raise NoQuota(f"cannot read this process's cgroups: {exc}") from exc
        v2 = {}
        for line in mountinfo.splitlines():
            if " - cgroup2 " in line:
                mountpoint = line.split()[4]
                with contextlib.suppress(OSError):
                    v2[mountpoint] = Path(mountpoint, "cgroup.controllers").read_text()
        hierarchy = find_cpu_hierarchy(mountinfo, proc_cgroup, v2)
        path = hierarchy.own / (name or f"callmarker-bench-{os.getpid()}")
        try:
            if hierarchy.version == 2:
                _enable_cpu(hierarchy.own)
            path.mkdir()
            quota = cls(hierarchy, path, vcpus)
            quota._write_quota()
        except OSError as exc:
            with contextlib.suppress(OSError):
                path.rmdir()
            raise NoQuota(f"cgroup v{hierarchy.version} at {hierarchy.own}: {exc}") from exc
        return quota

    def _write_quota(self) -> None:
        quota = quota_us(self.vcpus)
        if self.hierarchy.version == 2:
            (self.path / "cpu.max").write_text(f"{quota} {PERIOD_US}")
        else:
            (self.path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            (self.path / "cpu.cfs_quota_us").write_text(str(quota))

    @property
    def procs(self) -> Path:
        """Write a process id here to move that process (and the children it starts after) in."""
        return self.path / "cgroup.procs"

    def describe(self) -> str:
        return (
            f"cgroup v{self.hierarchy.version} {self.path}: {quota_us(self.vcpus)} µs of CPU "
            f"every {PERIOD_US} µs ({self.vcpus:g} of a core)"
        )

    def throttled(self) -> dict[str, float]:
        """How often the group was held back: periods, periods throttled, seconds throttled."""
        stat = {}
        with contextlib.suppress(OSError):
            for line in (self.path / "cpu.stat").read_text().splitlines():
                key, _, value = line.partition(" ")
                stat[key] = int(value)
        seconds = stat.get("throttled_usec", 0) / 1e6 or stat.get("throttled_time", 0) / 1e9
        return {
            "periods": stat.get("nr_periods", 0),
            "throttled_periods": stat.get("nr_throttled", 0),
            "throttled_s": round(seconds, 3),
        }

    def remove(self, timeout: float = 10.0) -> None:
        """Remove the cgroup once the processes in it are gone (a process is reaped a little after)."""
        end = time.monotonic() + timeout
        while True:
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError as exc:
                if exc.errno != errno.EBUSY or time.monotonic() > end:
                    raise
                time.sleep(0.05)


def _enable_cpu(parent: Path) -> None:
    """cgroup v2 hands a controller to children only when the parent's subtree_control lists it."""
    control = parent / "cgroup.subtree_control"
    if "cpu" not in control.read_text().split():
        control.write_text("+cpu")


def cores() -> int:
    return os.cpu_count() or 1


def whole_cores_note(vcpus: float) -> str:
    """What the figures mean when the function could not be held to ``vcpus``."""
    return (
        f"the function runs on this machine's {cores()} cores, not on {vcpus:g} vCPU: where it works the "
        f"CPU, its wall times are up to {max(1.0, 1 / vcpus):.1f}x shorter than deployed, and its ratios "
        "to the floor flatter it; its CPU seconds, memory, steps and Sheets calls still hold"
    )
