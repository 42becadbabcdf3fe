"""Delegation graphs of hostile shape through the real CLI: a 3,000-agent chain and a 12-agent
fully connected mesh, through `krmfn validate`, `krmfn diff` and a policy run.

Every walk over delegations must be linear: the commands below once enumerated paths (a mesh
grew by 7x per agent), recursed (a RecursionError on a long chain) or were cubic (a policy reach
rule on a 1,000-agent chain took a minute). Each run is bounded by a timeout far above what a
linear walk needs and far below what any of those took; timings themselves are in bench/.
"""

from __future__ import annotations

import subprocess

import pytest
import yaml

import support

from conftest import SHARED

CRDS = SHARED / "kagent-crds" / "v0.10.0-rc3"
BOUND = 60  # seconds: a linear walk needs one or two; a quadratic one over 3,000 agents, minutes
NAMESPACE = "agents"


def agent(name: str, delegates: list[str], tools: list[str]) -> dict:
    entries = [{"type": "McpServer", "mcpServer": {"apiGroup": "kagent.dev", "kind": "RemoteMCPServer",
                                                   "name": "kagent-tool-server", "namespace": "kagent",
                                                   "toolNames": tools}}] if tools else []
    entries += [{"type": "Agent", "agent": {"name": d}} for d in delegates]
    return {"apiVersion": "kagent.dev/v1alpha2", "kind": "Agent",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {"type": "Declarative", "description": name,
                     "declarative": {"modelConfig": "model", "systemMessage": f"You are {name}.",
                                     "tools": entries}}}


def model_config() -> dict:
    return {"apiVersion": "kagent.dev/v1alpha2", "kind": "ModelConfig",
            "metadata": {"name": "model", "namespace": NAMESPACE},
            "spec": {"provider": "Ollama", "model": "llama3.2", "ollama": {"host": "http://ollama:11434"}}}


def chain(n: int, bottom_tools: list[str]) -> list[dict]:
    """a0 -> a1 -> ... -> a(n-1); every agent holds a read tool, the last one `bottom_tools` too."""
    return [model_config()] + [agent(f"a{i}", [f"a{i + 1}"] if i + 1 < n else [],
                                     ["k8s_get_resources"] + (bottom_tools if i + 1 == n else []))
                               for i in range(n)]


def mesh(n: int) -> list[dict]:
    names = [f"m{i}" for i in range(n)]
    return [model_config()] + [agent(x, [y for y in names if y != x], ["k8s_get_resources"]) for x in names]


def write(path, objects) -> str:
    path.write_text(yaml.safe_dump_all(objects, sort_keys=False))
    return str(path)


def krmfn(*args: str) -> subprocess.CompletedProcess:
    return support.module(*args, timeout=BOUND)  # `python -m krmfn` from this checkout


def assert_clean_failure(proc: subprocess.CompletedProcess) -> list[str]:
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr[-2000:]
    lines = proc.stderr.splitlines()
    assert all(line.startswith(("[error]", "[warning]", "[info]")) for line in lines), lines[:5]
    return lines


needs_crds = pytest.mark.skipif(not CRDS.is_dir(), reason=f"{CRDS} is absent: the kagent CRDs live in ../shared")


@needs_crds
def test_validate_a_3000_agent_chain(tmp_path):
    proc = krmfn("validate", "--crds", str(CRDS), write(tmp_path / "chain.yaml", chain(3000, [])))
    assert proc.returncode == 1
    deep = [line for line in assert_clean_failure(proc) if "levels deep" in line]
    # every agent more than 10 hops from the end, one line each, the chain shown shortened
    assert len(deep) == 3000 - 11
    assert "Agent/agents/a0 spec.declarative.tools[1].agent.name: delegation chain is 2999 levels deep" in deep[0]
    assert "... (3000 agents)" in deep[0]


@needs_crds
def test_validate_a_12_agent_mesh(tmp_path):
    proc = krmfn("validate", "--crds", str(CRDS), write(tmp_path / "mesh.yaml", mesh(12)))
    assert proc.returncode == 1
    lines = assert_clean_failure(proc)
    cycles = [line for line in lines if "delegation cycle" in line]
    assert len(cycles) == 1 and "agents/m0 -> agents/m1 -> agents/m0" in cycles[0], cycles


def test_diff_of_a_3000_agent_chain_gaining_a_destructive_tool(tmp_path):
    old = write(tmp_path / "old.yaml", chain(3000, []))
    new = write(tmp_path / "new.yaml", chain(3000, ["k8s_delete_resource"]))
    proc = krmfn("diff", old, new, "--format", "json", "--fail-on", "destructive-grant")
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    import json

    [env] = json.loads(proc.stdout)["environments"]
    by_agent = {a["agent"]: [f["class"] for f in a["findings"]] for a in env["agents"]}
    assert by_agent["agents/a2999"] == ["tool-granted"]
    # every agent above it now reaches a destructive tool: one finding each, chains shortened
    assert sum(1 for classes in by_agent.values() if classes == ["reach-changed"]) == 2999
    top = next(a for a in env["agents"] if a["agent"] == "agents/a0")["findings"][0]
    assert top["gained"][0]["via"][-1] == "agents/a2999"
    assert len(top["gained"][0]["via"]) <= 12


def test_diff_of_a_12_agent_mesh(tmp_path):
    objects = mesh(12)
    changed = mesh(12)
    changed[5]["spec"]["declarative"]["tools"][0]["mcpServer"]["toolNames"].append("k8s_delete_resource")
    proc = krmfn("diff", write(tmp_path / "old.yaml", objects), write(tmp_path / "new.yaml", changed),
                 "--fail-on", "destructive-grant")
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr


def reach_policy(holder: str) -> dict:
    """Every agent of the namespace but `holder` must never reach a destructive tool: the rule
    applies to (nearly) every agent, the case where walking each one's chains is cubic."""
    return {"apiVersion": "krmfn.dev/v1alpha1", "kind": "ToolPolicy", "metadata": {"name": "p"},
            "spec": {"rules": [{"name": "never-reaches-destructive", "match": {"namespaces": [NAMESPACE]},
                                "exclude": {"agents": [holder]}, "allowedRisks": ["read", "write"]}]}}


def test_policy_reach_on_a_3000_agent_chain(tmp_path):
    config = write(tmp_path / "policy.yaml", [reach_policy("a2999")])
    proc = krmfn("run", config, write(tmp_path / "chain.yaml", chain(3000, ["k8s_delete_resource"])))
    assert proc.returncode == 1
    lines = assert_clean_failure(proc)
    reach = [line for line in lines if "never-reaches-destructive" in line]
    assert len(reach) == 2999, reach[:3]  # one line per agent above the holder
    [top] = [line for line in reach if "Agent/agents/a0 " in line]
    assert "a0 -> a1 -> " in top and "more agents) -> a2999 holds k8s_delete_resource (destructive)" in top
    depth = [line for line in lines if "delegation-depth" in line]
    assert len(depth) == 3000 - 11


def test_policy_on_a_12_agent_mesh(tmp_path):
    objects = mesh(12)
    [m7] = [o for o in objects if o["metadata"]["name"] == "m7"]
    m7["spec"]["declarative"]["tools"][0]["mcpServer"]["toolNames"].append("k8s_delete_resource")
    proc = krmfn("run", write(tmp_path / "policy.yaml", [reach_policy("m7")]), write(tmp_path / "mesh.yaml", objects))
    assert proc.returncode == 1
    lines = assert_clean_failure(proc)
    assert sum("delegation-cycle" in line for line in lines) == 1
    reach = [line for line in lines if "never-reaches-destructive" in line]
    # each agent reaches m7's destructive tool directly and through every other: one line each
    assert len(reach) == 11 and all("m7 holds k8s_delete_resource (destructive)" in line for line in reach), reach
