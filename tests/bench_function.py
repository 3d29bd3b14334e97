"""The function as the benchmark serves it: functions-framework in a process of its own, as deployed,
alone in a cgroup that holds it to the deploy's CPU share, and, for a profiled run, sampled.

``python -m tests.bench_function [--cgroup-procs PATH] [--profile PATH] -- ARGS`` moves itself into
the cgroup (before anything is imported, so the imports count too), starts a sampler in gunicorn's
worker when asked, then runs ``functions-framework ARGS`` as usual. ``FunctionProcess`` starts it and
reads, from /proc, the CPU and the peak memory of its processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
MAIN = ROOT / "function" / "main.py"
_TICKS = os.sysconf("SC_CLK_TCK")


class FunctionProcess:
    """``upload_rows`` served on 127.0.0.1 by functions-framework (gunicorn, one worker).

    ``procs`` is a cgroup's ``cgroup.procs``: the process joins it first thing, and gunicorn's worker,
    forked later, is in it too. A ``profiled`` function has a sampler in the worker (``figures()``).
    ``start_s`` is how long it took from launch to serving (its cold start, under the quota).
    """

    def __init__(self, env: Mapping[str, str], *, procs: Path | None = None, profiled: bool = False) -> None:
        from tests.stack import free_port

        port = free_port()
        command = [sys.executable, "-m", "tests.bench_function"]
        if procs is not None:
            command += ["--cgroup-procs", str(procs)]
        self._files = tempfile.TemporaryDirectory(prefix="callmarker-function-")
        self.profile = Path(self._files.name, "profile.json") if profiled else None
        if self.profile is not None:
            command += ["--profile", str(self.profile)]
        command += ["--", "--target", "upload_rows", "--source", str(MAIN), "--host", "127.0.0.1"]
        command += ["--port", str(port)]
        self.url = f"http://127.0.0.1:{port}/"
        self._log: IO[str] = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - kept open while it runs
        launched = time.monotonic()
        self.process = subprocess.Popen(
            command,
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._wait_until_serving()
        self.start_s = time.monotonic() - launched

    def _wait_until_serving(self, timeout: float = 60.0) -> None:
        import httpx

        end = time.monotonic() + timeout
        with httpx.Client(timeout=1.0) as http:
            while time.monotonic() < end:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the function exited: {self.log()[-2000:]}")
                try:
                    http.get(self.url)
                    return
                except httpx.TransportError:
                    time.sleep(0.02)
        raise RuntimeError(f"the function did not serve within {timeout} s: {self.log()[-2000:]}")

    def log(self) -> str:
        self._log.seek(0)
        return self._log.read()

    def pids(self) -> list[int]:
        """The function's processes: functions-framework's (gunicorn's arbiter) and its descendants."""
        return descendants(self.process.pid)

    def cpu_s(self) -> float:
        """CPU seconds its processes have used so far (user and system, every thread)."""
        return cpu_s(self.pids())

    def peak_rss_mb(self) -> float:
        """The largest peak resident memory (VmHWM) of its processes, in MB."""
        return peak_rss_mb(self.process.pid)

    def figures(self) -> dict[str, Any]:
        """The sampler's figures so far (a profiled process only)."""
        from tests.bench_profile import ask_for_figures

        if self.profile is None:
            raise RuntimeError("this function is not profiled")
        return ask_for_figures(self.profile)

    def close(self) -> None:
        """Stop it, gunicorn's worker included (only then can its cgroup be removed)."""
        from tests.stack import stop_process_group

        stop_process_group(self.process)
        self._log.close()
        self._files.cleanup()


def cpu_s(pids: Iterable[int]) -> float:
    """CPU seconds these processes have used so far (user and system, every thread), from /proc."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICKS


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    # the command name may hold spaces: the fields after it start past the last ")"
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def main(argv: Sequence[str]) -> None:
    arguments = list(argv)
    split = arguments.index("--") if "--" in arguments else len(arguments)
    ours, theirs = arguments[:split], arguments[split + 1 :]
    options = dict(zip(ours[::2], ours[1::2], strict=True))
    if "--cgroup-procs" in options:
        Path(options["--cgroup-procs"]).write_text(str(os.getpid()))
    if "--profile" in options:
        from tests.bench_profile import sample_each_worker

        sample_each_worker(Path(options["--profile"]))
    import runpy

    sys.argv = ["functions-framework", *theirs]
    runpy.run_module("functions_framework", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])


def peak_rss_mb(pid: int) -> float:
    """The largest peak resident memory (VmHWM) of a process and its descendants, in MB."""
    peak = 0
    for one in descendants(pid):
        try:
            with open(f"/proc/{one}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        except OSError:
            continue
    return peak / 1024
