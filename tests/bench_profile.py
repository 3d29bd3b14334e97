"""Where the function's CPU goes, measured from outside its code: a sampling profiler for its process.

``Sampler`` is a thread of the profiled process. Every few milliseconds it reads each thread's own CPU
clock and its Python stack: the CPU a thread used since the last look is charged to the part of a step
its stack shows (``classify``, by module and function names, innermost frame first). The cyclic garbage
collector is timed apart, by ``gc.callbacks``: each collection's CPU is charged to the collector and
taken out of its thread's next share, so nothing is counted twice. What the process used but no look
saw (a thread that ended between two looks) is left unattributed, and shown as such.

``tests/bench_function.py`` starts the function with a sampler in gunicorn's worker; the figures are
written to a file when asked (``ask_for_figures``).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

#: One frame: (where its code lives, e.g. "callmarker_sheets/sheet.py", its qualified name, e.g.
#: "Sheet.read" or "Sheet.read.<locals>.<genexpr>").
Frame = tuple[str, str]
GC = "cyclic garbage collector"
UNATTRIBUTED = "unattributed"
PROFILER = "the profiler itself"


def _in(*paths: str) -> Callable[[Frame], bool]:
    return lambda frame: frame[0].startswith(paths)


def _function(path: str, *names: str) -> Callable[[Frame], bool]:
    """Frames of these functions of ``path`` (``Class.*``: any of its methods), and of the
    comprehensions and closures inside them."""
    prefixes = tuple(name[:-1] if name.endswith(".*") else f"{name}.<locals>." for name in names)
    return lambda frame: frame[0] == path and (frame[1] in names or frame[1].startswith(prefixes))


_SHEET = "callmarker_sheets/sheet.py"
#: What a stack is working for, when any of its frames says so; the first rule that matches wins (a
#: json.dumps under a fingerprint is the fingerprint's, a Google answer decoded while writing is decoding).
PURPOSES: tuple[tuple[str, Callable[[Frame], bool]], ...] = (
    (
        "fingerprints",
        _function(
            _SHEET, "row_fingerprint", "_text_fingerprint", "Selection.fingerprint", "Selection.user_values"
        ),
    ),
    ("validation", _in("callmarker_sheets/validate.py", "callmarker_sheets/fields.py")),
    ("Sheets decoding", _function("requests/models.py", "Response.json")),
    ("Sheets decoding", _function(_SHEET, "_decoded")),
    ("CallMarker body encoding", _function("httpx/_content.py", "encode_json", "encode_request")),
    ("CallMarker answers", _in("callmarker_sheets/callmarker_answers.py")),
    (
        "status write",
        _function(_SHEET, "Sheet.write", "Sheet.rows_now", "Sheet._status_ranges", "number_runs"),
    ),
    ("caller check", _in("callmarker_sheets/auth.py")),
    ("logs", _in("logging/", "callmarker_sheets/logs.py")),
)
#: Otherwise, the layer its innermost recognised frame belongs to.
LAYERS: tuple[tuple[str, Callable[[Frame], bool]], ...] = (
    (
        "building rows",
        _function(
            _SHEET, "Sheet.read", "Sheet._built", "_trimmed", "_is_blank", "_raw_place", "_answered_through"
        ),
    ),
    ("Sheets HTTP (requests, urllib3)", _in("requests/", "urllib3/", "http/client.py", "gspread/")),
    ("Sheets HTTP (requests, urllib3)", _function(_SHEET, "RetryingHTTPClient.*", "Sheet._batch_get")),
    ("httpx/asyncio", _in("httpx/", "httpcore/", "h11/", "anyio/", "sniffio/", "asyncio/", "selectors.py")),
    ("CallMarker client", _in("callmarker_sheets/callmarker.py", "callmarker_sheets/retry.py")),
    ("statuses and the answer", _in("callmarker_sheets/", "main.py")),
    ("serving (gunicorn, Flask)", _in("gunicorn/", "flask/", "werkzeug/", "functions_framework/")),
)
#: Frames where a thread waits: CPU seen there was spent before it began to wait, at its last stack.
WAITS = frozenset(
    {
        ("threading.py", "Condition.wait"),
        ("threading.py", "Event.wait"),
        ("threading.py", "Thread.join"),
        ("threading.py", "Thread._wait_for_tstate_lock"),
        ("queue.py", "Queue.get"),
        ("queue.py", "Queue.put"),
        ("selectors.py", "EpollSelector.select"),
    }
)
#: The parts in the order they were first measured in, then the others.
PARTS = (
    "validation",
    GC,
    "fingerprints",
    "httpx/asyncio",
    "building rows",
    "status write",
    "Sheets decoding",
    "CallMarker body encoding",
    "CallMarker answers",
    "CallMarker client",
    "Sheets HTTP (requests, urllib3)",
    "statuses and the answer",
    "caller check",
    "logs",
    "serving (gunicorn, Flask)",
    "other",
    PROFILER,
    UNATTRIBUTED,
)


def classify(stack: Sequence[Frame]) -> str:
    """The part of a step a stack (innermost frame first) is working for."""
    for part, recognises in PURPOSES:
        if any(recognises(frame) for frame in stack):
            return part
    for frame in stack:
        for part, recognises in LAYERS:
            if recognises(frame):
                return part
    return "other"


_OWN = "bench_profile.py"
_MARKERS = ("/site-packages/", "/function/", "/lib/python3.11/", "/tests/")


def where(code: CodeType) -> str:
    """A code object's file, from its package down ("callmarker_sheets/sheet.py", "json/decoder.py")."""
    filename = code.co_filename.replace("\\", "/")
    for marker in _MARKERS:
        if marker in filename:
            return filename.rsplit(marker, 1)[1]
    return filename.rsplit("/", 1)[-1]


class Sampler:
    """Samples every thread of this process every ``interval_s`` seconds of wall time (see the module)."""

    def __init__(self, interval_s: float = 0.005) -> None:
        self.interval_s = interval_s
        self._lock = threading.Lock()
        self._labels: dict[CodeType, str] = {}
        self._cpu_seen: dict[int, float] = {}
        self._gc_seen: dict[int, float] = {}
        self._gc_cpu: dict[int, float] = {}  # thread -> CPU of its collections so far
        self._gc_started: dict[int, float] = {}
        self._last: dict[int, tuple[str, tuple[str, ...]]] = {}  # thread -> its last working stack
        self.parts: defaultdict[str, float] = defaultdict(float)
        self.stacks: defaultdict[tuple[str, ...], float] = defaultdict(float)
        self._own_cpu = 0.0
        self.collections = [0, 0, 0]
        self.gc_s = 0.0
        self.samples = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started_cpu = time.process_time()
        self.ask: Path | None = None
        self.out: Path | None = None

    # ----------------------------------------------------------------------------- the collector

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        ident = threading.get_ident()
        now = time.thread_time()
        if phase == "start":
            self._gc_started[ident] = now
            return
        spent = now - self._gc_started.get(ident, now)
        with self._lock:
            self._gc_cpu[ident] = self._gc_cpu.get(ident, 0.0) + spent
            self.collections[info["generation"]] += 1
            self.gc_s += spent
        # only now may the sampler look at this thread again: its collection is counted
        self._gc_started.pop(ident, None)

    # ---------------------------------------------------------------------------------- sampling

    def start(self) -> None:
        # threads alive now are charged only for what they use from now on; later ones for all they use
        for ident in sys._current_frames():
            with contextlib.suppress(OSError):
                self._cpu_seen[ident] = time.clock_gettime(time.pthread_getcpuclockid(ident))
        self._started_cpu = time.process_time()
        gc.callbacks.append(self._on_gc)
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self._on_gc)

    def _run(self) -> None:
        own = threading.get_ident()
        while not self._stop.wait(self.interval_s):
            self.sample(own)
            self._own_cpu = time.thread_time()
            if self.ask is not None and self.ask.exists():
                self.write()

    def sample(self, own: int) -> None:
        """One look at every thread but ``own``: charge each its CPU since the last look."""
        frames = sys._current_frames()
        with self._lock:
            gc_cpu = dict(self._gc_cpu)
        for ident, frame in frames.items():
            if ident == own or ident in self._gc_started:
                continue  # a collection under way is charged whole when it ends
            try:
                cpu = time.clock_gettime(time.pthread_getcpuclockid(ident))
            except OSError:  # the thread ended since
                continue
            used = cpu - self._cpu_seen.get(ident, 0.0)
            self._cpu_seen[ident] = cpu
            collected = gc_cpu.get(ident, 0.0) - self._gc_seen.get(ident, 0.0)
            self._gc_seen[ident] = gc_cpu.get(ident, 0.0)
            used -= collected
            if used <= 0:
                continue
            stack = self._stack(frame)
            if stack and stack[0] in WAITS and ident in self._last:
                part, key = self._last[ident]
            else:
                part = classify(stack)
                key = (part, *(f"{file}:{name}" for file, name in stack[:8]))
                self._last[ident] = (part, key)
            with self._lock:
                self.parts[part] += used
                self.stacks[key] += used
                self.samples += 1
        del frames

    def _stack(self, frame: FrameType | None) -> list[Frame]:
        stack: list[Frame] = []
        labels = self._labels
        while frame is not None:
            code = frame.f_code
            label = labels.get(code)
            if label is None:
                label = labels[code] = where(code)
            if label != _OWN:  # the collector's callback, caught as it starts: its thread's work is below
                stack.append((label, code.co_qualname))
            frame = frame.f_back
        return stack

    # ----------------------------------------------------------------------------------- figures

    def figures(self) -> dict[str, Any]:
        """Every figure so far: CPU by part (seconds), the collector, the process's own CPU."""
        process = time.process_time() - self._started_cpu
        with self._lock:
            parts = dict(self.parts)
            parts[GC] = self.gc_s
            top = sorted(self.stacks.items(), key=lambda item: item[1], reverse=True)[:10]
            collections = list(self.collections)
            samples = self.samples
        parts[PROFILER] = self._own_cpu
        parts[UNATTRIBUTED] = max(0.0, process - sum(parts.values()))
        return {
            "pid": os.getpid(),
            "process_cpu_s": process,
            "parts_s": parts,
            "gc": {"collections": collections, "full_collections": collections[2], "seconds": self.gc_s},
            "samples": samples,
            "top_stacks": [[seconds, list(stack)] for stack, seconds in top],
        }

    def write(self) -> None:
        """Write the figures to ``out`` (whole, by renaming), then take the request away."""
        assert self.out is not None
        temporary = self.out.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.figures()))
        temporary.replace(self.out)
        if self.ask is not None:
            with contextlib.suppress(FileNotFoundError):
                self.ask.unlink()


def sample_each_worker(out: Path) -> None:
    """Start a sampler in every process forked from here (gunicorn's worker), writing to ``out``."""

    def start() -> None:
        sampler = Sampler()
        sampler.out, sampler.ask = out, asking_path(out)
        sampler.start()

    os.register_at_fork(after_in_child=start)


def asking_path(out: Path) -> Path:
    return out.with_suffix(".ask")


def ask_for_figures(out: Path, timeout: float = 30.0) -> dict[str, Any]:
    """Ask the sampler writing to ``out`` for its figures, and wait for them."""
    ask = asking_path(out)
    ask.touch()
    end = time.monotonic() + timeout
    while ask.exists():
        if time.monotonic() > end:
            raise TimeoutError(f"no figures from the profiled function in {timeout} s")
        time.sleep(0.01)
    figures: dict[str, Any] = json.loads(out.read_text())
    return figures
