"""Measuring on a shared machine: its facts, where the CPU went, waiting for
quiet, tables, and reading cProfile dumps."""

from __future__ import annotations

import contextlib
import os
import platform
import time
from pathlib import Path


def machine() -> str:
    """nproc, memory, CPU model and Python: the context every figure needs."""
    memory = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = Path("/proc/loadavg").read_text().split()[:3]
    return (
        f"machine:  {os.cpu_count()} CPUs ({cpu}), {memory} RAM, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
        f"\nload:     {' '.join(load)} (1/5/15 min) at start; CPU reference "
        f"{cpu_reference():.0f} ms"
    )


def cpu_reference() -> float:
    """Milliseconds for a fixed pure-Python loop (best of 3): on a virtual machine
    the same code runs slower when the host is busy, and this says how much."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(3_000_000):
            total += i * i
        best = min(best, time.perf_counter() - started)
    return best * 1000


def table(headers: list[str], rows: list[list], *, markdown: bool = False) -> str:
    """A plain table for the terminal, or Markdown to paste into the docs."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def line(row: list[str]) -> str:
        if markdown:
            padded = (c.ljust(w) for c, w in zip(row, widths, strict=True))
            return "| " + " | ".join(padded) + " |"
        return "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True))

    if markdown:
        rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    else:
        rule = line(["-" * w for w in widths])
    return "\n".join([line(headers), rule, *map(line, cells)])


_TICK = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[str, int, float]]:
    """pid -> (command name, parent pid, CPU seconds incl. reaped children)."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            raw = Path(entry.path, "stat").read_text()
            comm = raw[raw.index("(") + 1 : raw.rindex(")")]
            fields = raw[raw.rindex(")") + 2 :].split()
            # utime, stime, cutime, cstime: fields 14-17 of proc(5)
            ticks = sum(int(x) for x in fields[11:15])
            found[int(entry.name)] = (comm, int(fields[1]), ticks / _TICK)
    return found


def _system_busy() -> float:
    """CPU seconds all CPUs spent not idle since boot."""
    values = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / _TICK


def wait_for_quiet(
    *, limit: float = 0.15, window: float = 2.0, max_wait: float = 120.0
) -> float:
    """Wait (up to ``max_wait`` s) until the machine is nearly idle between runs.

    On a shared machine other people's test suites come and go; a run that
    starts while they are busy measures them. Returns the busy fraction seen
    last, so the caller can report a run that had to start on a busy machine.
    """
    cpus = os.cpu_count() or 1
    deadline = time.monotonic() + max_wait
    while True:
        before = _system_busy()
        time.sleep(window)
        busy = (_system_busy() - before) / (window * cpus)
        if busy <= limit or time.monotonic() > deadline:
            return busy


class CpuMeter:
    """Where the machine's CPU went during a measurement, by process group.

    Groups are the process trees of given root pids, PostgreSQL and Redis server
    processes by name; "others" is everything else (on a shared machine, other
    people's work), so a figure taken while the machine was busy says so.
    """

    def __init__(self, roots: dict[str, list[int]]) -> None:
        self.roots = roots

    def _snapshot(self) -> tuple[dict[str, float], float]:
        procs = _processes()
        totals = {name: 0.0 for name in [*self.roots, "postgres", "redis"]}
        for pid, (comm, _ppid, cpu) in procs.items():
            group = self._group(pid, comm, procs)
            if group:
                totals[group] += cpu
        return totals, _system_busy()

    def _group(self, pid: int, comm: str, procs) -> str | None:
        seen, current = set(), pid
        while current > 1 and current not in seen:
            seen.add(current)
            for name, pids in self.roots.items():
                if current in pids:
                    return name
            current = procs.get(current, ("", 0, 0))[1]
        if comm == "postgres" or comm.startswith("postgres:"):
            return "postgres"
        if comm.startswith("redis-server"):
            return "redis"
        return None

    def __enter__(self) -> CpuMeter:
        self.before, self.busy_before = self._snapshot()
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        after, busy_after = self._snapshot()
        self.wall = time.perf_counter() - self.started
        self.used = {k: max(after[k] - self.before.get(k, 0.0), 0.0) for k in after}
        self.busy = busy_after - self.busy_before
        self.used["others"] = max(self.busy - sum(self.used.values()), 0.0)

    def summary(self, per: int, unit: str) -> str:
        """CPU ms per ``unit`` for each group, and the machine's utilisation."""
        cpus = os.cpu_count() or 1
        parts = [f"{k} {v * 1000 / per:.2f}" for k, v in self.used.items()]
        return (
            f"CPU ms per {unit}: {', '.join(parts)}; machine busy "
            f"{100 * self.busy / (self.wall * cpus):.0f}% of {cpus} CPUs"
        )


def profile_breakdown(
    stats_path: str, phases: list[tuple[str, str, str, str, str]], per: int
) -> list[list[str]]:
    """Rows of (phase, ms per item, share) from a cProfile dump.

    Each phase is (label, file suffix, function, caller file suffix, caller
    function); an empty caller means the function's whole cumulative time. The
    first phase is the whole (100 %). Profiled times are inflated by the
    profiler, more for pure Python than for waiting, so read shares, not ms.
    """
    import pstats

    stats = pstats.Stats(stats_path).stats  # type: ignore[attr-defined]

    def cumulative(suffix, name, caller_suffix, caller_name) -> float:
        total = 0.0
        for (path, _line, func), (_cc, _nc, _tt, ct, callers) in stats.items():
            if func != name or not path.endswith(suffix):
                continue
            if not caller_name:
                total += ct
                continue
            for (cpath, _cl, cfunc), caller_stats in callers.items():
                if cfunc == caller_name and cpath.endswith(caller_suffix):
                    total += caller_stats[3]
        return total

    values = [(label, cumulative(*where)) for label, *where in phases]
    whole = values[0][1] or 1.0
    return [
        [label, f"{value * 1000 / per:.2f}", f"{100 * value / whole:.0f}%"]
        for label, value in values
    ]


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started
