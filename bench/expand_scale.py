"""Expanding 2,000 AgentDescriptions in one invocation vs the libyaml load-and-dump floor.

The floor is what any Python KRM function must at least do: load the input ResourceList and dump
the output with libyaml (CSafeLoader/CSafeDumper), in a fresh process like the function's.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import yaml

from common import KRMFN, Row, best_of, run_command

AGENTS = 2000


def resource_list(n: int) -> dict:
    items = [{"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "agent-prompts", "namespace": f"team-{t}", "labels": {"krmfn.dev/prompt-library": "true"}},
              "data": {"agent.md": "You are {{ name }} in {{ namespace }}.\n{% for t in tools %}- {{ t.name }}\n{% endfor %}"}}
             for t in range(20)]
    for i in range(n):
        items.append({"apiVersion": "krmfn.dev/v1alpha1", "kind": "AgentDescription",
                      "metadata": {"name": f"agent-{i}", "namespace": f"team-{i % 20}"},
                      "spec": {"description": f"Agent number {i}.", "prompt": {"file": "agent.md"},
                               "model": "standard",
                               "tools": [{"server": "kagent/kagent-tool-server",
                                          "allow": ["k8s_get_resources", "k8s_get_pod_logs", "k8s_scale"],
                                          "requireApproval": ["k8s_scale"]}],
                               "skills": [{"id": "s", "name": "Skill", "examples": ["why?"]}],
                               "deployment": {"replicas": 1}}})
    return {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items,
            "functionConfig": {"apiVersion": "krmfn.dev/v1alpha1", "kind": "AgentExpansion",
                               "metadata": {"name": "expand"}}}


FLOOR = """
import sys, yaml
doc = yaml.load(open(sys.argv[1], 'rb'), Loader=yaml.CSafeLoader)
out = yaml.load(open(sys.argv[2], 'rb'), Loader=yaml.CSafeLoader)
sys.stdout.write(yaml.dump(out, Dumper=yaml.CSafeDumper, sort_keys=True, default_flow_style=False))
"""


def run() -> list[Row]:
    if not KRMFN:
        print("expand_scale: skipped (run scripts/setup)", file=sys.stderr)
        return []
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.yaml"
        source.write_bytes(yaml.dump(resource_list(AGENTS), Dumper=yaml.CSafeDumper).encode())
        data = source.read_bytes()
        output = Path(tmp) / "out.yaml"
        output.write_bytes(run_command([KRMFN], stdin=data, env={"KRMFN_WARNINGS": "0"}))
        ours = best_of(3, lambda: run_command([KRMFN], stdin=data))
        floor = best_of(3, lambda: run_command([sys.executable, "-c", FLOOR, str(source), str(output)]))
        peak = _peak_rss_mb([KRMFN], source)
    return [Row(f"expand {AGENTS} descriptions (one invocation)", ours, "libyaml load in+out, dump out", floor, 2.0,
                note=f"peak RSS {peak:.0f} MB, target <= 300 MB")]


MEASURE = """
import resource, subprocess, sys
subprocess.run(sys.argv[2:], stdin=open(sys.argv[1], "rb"), capture_output=True, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _peak_rss_mb(argv: list[str], source: Path) -> float:
    """Peak RSS of one call, measured from a fresh parent so no earlier child's peak counts."""
    out = run_command([sys.executable, "-c", MEASURE, str(source), *argv])
    return int(out) / 1024
