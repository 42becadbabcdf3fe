"""Where a cold expand call's time goes: `python -X importtime` of one call, grouped by the
top-level package each import belongs to, plus the call's wall time and the bare interpreter's.

Usage: .venv/bin/python bench/breakdown.py   (prints a small table; best of 5 runs each)
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import KRMFN  # noqa: E402
from startup import expand_input  # noqa: E402

GROUPS = ("pydantic", "pydantic_core", "annotated_types", "typing_extensions", "jinja2", "markupsafe", "yaml",
          "krmfn")


def imports(stdin: bytes) -> dict[str, float]:
    """Self time (ms) of every import of one call, summed per group (best of 5 per group)."""
    best: dict[str, float] = {}
    for _ in range(5):
        proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "krmfn"], input=stdin, capture_output=True)
        totals: dict[str, float] = defaultdict(float)
        for line in proc.stderr.decode().splitlines():
            if not line.startswith("import time:") or "|" not in line or "self [us]" in line:
                continue
            self_us, name = _fields(line)
            top = name.strip().split(".")[0]
            group = top if top in GROUPS else "stdlib and others"
            if name.strip().startswith(("krmfn.kagent.models",)):
                group = "krmfn.kagent.models"
            elif name.strip().startswith("krmfn.api"):
                group = "krmfn.api (config models)"
            totals[group] += self_us / 1000
        for group, ms in totals.items():
            best[group] = min(best.get(group, ms), ms)
    return best


def _fields(line: str) -> tuple[float, str]:
    """(self time in us, module name) of one `-X importtime` line."""
    parts = line.replace("import time:", "").split("|")
    return float(parts[0]), parts[2]


def wall(argv: list[str], stdin: bytes = b"") -> float:
    times = []
    for _ in range(7):
        start = time.perf_counter()
        subprocess.run(argv, input=stdin, capture_output=True)
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def main() -> int:
    data = expand_input()
    krmfn = [KRMFN] if KRMFN else [sys.executable, "-m", "krmfn"]
    print(f"{'python -c pass':<36} {wall([sys.executable, '-c', 'pass']):7.1f} ms")
    print(f"{'python -c import yaml':<36} {wall([sys.executable, '-c', 'import yaml']):7.1f} ms")
    print(f"{'cold expand call (wall)':<36} {wall(krmfn, data):7.1f} ms")
    print("imports of that call (self time, -X importtime, which inflates them):")
    for group, ms in sorted(imports(data).items(), key=lambda kv: -kv[1]):
        print(f"  {group:<34} {ms:7.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
