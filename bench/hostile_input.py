"""Hostile input is refused within 2 s and 300 MB (issue 19): the absolute figures the bad-input
tests only check with a wide margin. Baseline: the same call on a one-item ResourceList."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from common import Row, ROOT

INPUTS = {  # each under the 16 MiB size limit, each far costlier to load than its size
    "2 MB of dense scalars": b"a: [" + b"1," * 1_000_000 + b"1]\n",
    "15 MB of dense scalars": b"a: [" + b"1," * 7_500_000 + b"1]\n",
    "760 KB of deeply nested lists": b"a:\n" + (b"- " + b"[" * 190 + b"]" * 190 + b"\n") * 1980,
    "4 MB of wide maps": b"a: {" + b"".join(b"key%d: v, " % i for i in range(400_000)) + b"z: 1}\n",
}
HEAD = b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n  "
# A prompt that grows 4x per filter (each step within the operator checks): the render's memory
# budget stops it. Jinja2 used to fold the chain while compiling, once per level (10-55 s).
TEMPLATE_BOMB = b"""apiVersion: config.kubernetes.io/v1
kind: ResourceList
functionConfig: {apiVersion: krmfn.dev/v1alpha1, kind: AgentExpansion, metadata: {name: e}, spec: {environment: dev}}
items:
- apiVersion: krmfn.dev/v1alpha1
  kind: ToolCatalog
  metadata: {name: tools, namespace: team-a}
  spec: {servers: [{name: kagent-tools, toolsFrom: kagent-tool-server, remote: {url: "http://t.kagent.svc:8084/mcp"}}]}
- apiVersion: krmfn.dev/v1alpha1
  kind: AgentDescription
  metadata: {name: helper, namespace: team-a}
  spec:
    description: Helps.
    model: standard
    tools: [{server: kagent-tools, allow: [k8s_get_resources]}]
    prompt: {text: "{{ 'aaaa' """ + b"| replace('a', 'aaaa') " * 20 + b"""}}"}
"""
MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
subprocess.run(sys.argv[2:], stdin=open(sys.argv[1], "rb"), capture_output=True)
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _measure(path: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one `python -m krmfn` in a fresh parent, best of 3 for time."""
    best, peak = float("inf"), 0.0
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", MEASURE, str(path), sys.executable, "-m", "krmfn"],
                             capture_output=True, check=True, cwd=ROOT,
                             env={"PYTHONPATH": str(ROOT), "KRMFN_WORKER": "0", "PATH": "/usr/bin:/bin"}).stdout
        seconds, rss = out.split()
        best, peak = min(best, float(seconds)), max(peak, int(rss) / 1024)
    return best, peak


def run() -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        small = Path(tmp) / "small.yaml"
        small.write_bytes(HEAD + b"{apiVersion: krmfn.dev/v1alpha1, kind: ToolPolicy, metadata: {name: p}}\n")
        baseline, _ = _measure(small)
        for name, body in INPUTS.items():
            path = Path(tmp) / "hostile.yaml"
            path.write_bytes(HEAD + body.replace(b"\n", b"\n  ").rstrip() + b"\n")
            seconds, peak = _measure(path)
            verdict = "met" if seconds < 2 and peak < 300 else "MISSED"
            rows.append(Row(f"refuse {name}", seconds, "a one-item ResourceList", baseline, None,
                            note=f"peak RSS {peak:.0f} MB; target < 2 s and < 300 MB: {verdict}"))
        path = Path(tmp) / "template-bomb.yaml"
        path.write_bytes(TEMPLATE_BOMB)
        seconds, peak = _measure(path)
        rows.append(Row("refuse a prompt of 20 chained replaces", seconds, "a one-item ResourceList", baseline, None,
                        note=f"peak RSS {peak:.0f} MB (the render budget is 256 MiB); the run's render budget is 10 s"))
    return rows
