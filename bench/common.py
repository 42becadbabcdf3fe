"""Shared helpers for krmfn's benchmarks: best-of-N timing and the side-by-side table.

Every figure is printed next to its baseline, measured in the same run on the same machine, as a
ratio; absolute times differ between machines, the ratios are what the targets are about.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
KRMFN = str(VENV_BIN / "krmfn") if (VENV_BIN / "krmfn").exists() else None


@dataclass
class Row:
    name: str
    seconds: float
    baseline: str
    baseline_seconds: float
    target: float | None  # the ratio the issue asks for, None when only reported
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.seconds / self.baseline_seconds if self.baseline_seconds else float("inf")

    @property
    def verdict(self) -> str:
        if self.target is None:
            return "reported"
        return "met" if self.ratio <= self.target else f"missed by {self.ratio / self.target:.2f}x"


def best_of(n: int, fn) -> float:
    best = float("inf")
    for _ in range(n):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def run_command(argv: list[str], stdin: bytes = b"", env: dict | None = None, cwd: str | None = None) -> bytes:
    proc = subprocess.run(argv, input=stdin, capture_output=True, env={**os.environ, **(env or {})}, cwd=cwd)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {proc.stderr.decode()[-2000:]}")
    return proc.stdout


def time_command(argv: list[str], n: int = 7, **kwargs) -> float:
    run_command(argv, **kwargs)  # warm the page cache and .pyc files
    return best_of(n, lambda: run_command(argv, **kwargs))


def time_interleaved(commands: dict[str, tuple], n: int = 15) -> dict[str, float]:
    """Best of `n` for each command (`name: (argv, stdin[, env])`), the commands taking turns: on a
    shared machine the load changes from second to second, and a baseline measured minutes apart
    from its figure is not "the same run"."""
    return measure_interleaved(commands, n)[0]


def measure_interleaved(commands: dict[str, tuple], n: int = 15) -> tuple[dict[str, float], dict[str, float]]:
    """(best wall time, best CPU time: user + system of the command and its children) per command,
    taking turns as `time_interleaved`. CPU time barely moves with the machine's load, wall time does."""
    import resource

    for argv, stdin, *env in commands.values():
        run_command(argv, stdin, *env)  # warm the page cache and .pyc files
    wall = {name: float("inf") for name in commands}
    cpu = dict(wall)
    for _ in range(n):
        for name, (argv, stdin, *env) in commands.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            wall[name] = min(wall[name], best_of(1, lambda: run_command(argv, stdin, *env)))
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name] = min(cpu[name], after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, cpu


def print_table(rows: list[Row]) -> None:
    header = f"{'benchmark':<46} {'krmfn':>10} {'baseline':<40} {'baseline':>10} {'ratio':>7} {'target':>7}  verdict"
    print(header)
    print("-" * len(header))
    for row in rows:
        target = f"<={row.target:g}" if row.target is not None else "-"
        print(f"{row.name:<46} {row.seconds * 1000:>8.1f}ms {row.baseline:<40} {row.baseline_seconds * 1000:>8.1f}ms"
              f" {row.ratio:>7.2f} {target:>7}  {row.verdict}{'  (' + row.note + ')' if row.note else ''}")
