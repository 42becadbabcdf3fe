"""Where a cold expand call's time goes: the call's wall time beside the bare interpreter's, `import
yaml` (the baseline) and `import yaml, jinja2.sandbox` (the example's prompts are templates), all
measured taking turns; then `python -X importtime` of one call, grouped by where each import belongs.

Usage: .venv/bin/python bench/breakdown.py   (prints a small table; best of 5 runs each)
"""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import KRMFN, time_interleaved  # noqa: E402
from startup import PASS_THROUGH, expand_input  # noqa: E402

GROUPS = ("jinja2", "markupsafe", "yaml", "krmfn", "pydantic", "pydantic_core")
# krmfn modules shown on their own (the rest of krmfn is one group)
OWN = (("krmfn.kagent.models", "krmfn.kagent.models (input schemas)"),
       ("krmfn.api", "krmfn.api (config models)"),
       ("krmfn.runtime.model", "krmfn.runtime.model (the validator)"))


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
            for prefix, label in OWN:
                if name.strip().startswith(prefix):
                    group = label
            totals[group] += self_us / 1000
        for group, ms in totals.items():
            best[group] = min(best.get(group, ms), ms)
    return best


def _fields(line: str) -> tuple[float, str]:
    """(self time in us, module name) of one `-X importtime` line."""
    parts = line.replace("import time:", "").split("|")
    return float(parts[0]), parts[2]


def main() -> int:
    data = expand_input()
    krmfn = [KRMFN] if KRMFN else [sys.executable, "-m", "krmfn"]
    best = time_interleaved({
        "python -c pass": ([sys.executable, "-c", "pass"], b""),
        "python -c 'import yaml' (baseline)": ([sys.executable, "-c", "import yaml"], b""),
        "python -c 'import yaml, jinja2.sandbox'": ([sys.executable, "-c", "import yaml, jinja2.sandbox"], b""),
        "cold pass-through call": (krmfn, PASS_THROUGH),
        "cold expand call": (krmfn, data),
    }, n=15)
    base = best["python -c 'import yaml' (baseline)"]
    for name, seconds in best.items():
        print(f"{name:<40} {seconds * 1000:7.1f} ms  {seconds / base:5.2f}x")
    print("imports of that call (self time, -X importtime, which inflates them):")
    for group, ms in sorted(imports(data).items(), key=lambda kv: -kv[1]):
        print(f"  {group:<38} {ms:7.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
