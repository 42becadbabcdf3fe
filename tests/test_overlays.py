"""The example overlays: valid for the cluster, different only where they say so, and guarded."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from krmfn.runtime import yamlio

ROOT = Path(__file__).resolve().parents[1]
ENVIRONMENTS = ("dev", "staging", "prod")
EXTERNAL = ["Secret/*/openai-api-key", "Secret/*/anthropic-api-key", "Secret/*/billing-api-token"]
pytestmark = pytest.mark.e2e


def build(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "krmfn", "build", str(path)], capture_output=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)


@pytest.fixture(scope="module")
def renders() -> dict[str, bytes]:
    out = {}
    for target in ("base",) + tuple(f"overlays/{e}" for e in ENVIRONMENTS):
        proc = build(ROOT / target)
        assert proc.returncode == 0, proc.stderr.decode()
        out[target] = proc.stdout
    return out


@pytest.mark.parametrize("version", ["v0.9.12", "v0.10.0-rc3"])
@pytest.mark.parametrize("target", ("base",) + tuple(f"overlays/{e}" for e in ENVIRONMENTS))
def test_render_conforms_to_the_kagent_crds(renders, target, version, crd_root, tmp_path):
    rendered = tmp_path / "render.yaml"
    rendered.write_bytes(renders[target])
    args = [sys.executable, "-m", "krmfn", "validate", "--crds", str(crd_root / version), str(rendered)]
    for external in EXTERNAL:
        args += ["--external", external]
    proc = subprocess.run(args, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()


def _by_key(render: bytes) -> dict:
    return {(d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"]): d for d in yamlio.load_all(render)}


def _leaves(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        return [p for k in sorted(set(a) | set(b)) for p in _leaves(a.get(k), b.get(k), f"{path}.{k}")]
    return [] if a == b else [path]


ALLOWED_AGENT_DIFFERENCES = {
    ".metadata.annotations.krmfn.dev/environment",   # which environment rendered it
    ".metadata.annotations.krmfn.dev/prompt-digest",  # prompts name their environment
    ".spec.declarative.systemMessage",
    ".metadata.annotations.krmfn.dev/canary",         # staging's canary
    ".spec.declarative.modelConfig",                  # ... which moves one agent to another tier
    ".spec.declarative.deployment.replicas",          # prod's patches
}


@pytest.mark.parametrize("a,b", [("dev", "staging"), ("staging", "prod"), ("dev", "prod")])
def test_environments_differ_only_in_models_replicas_and_what_overlays_state(renders, a, b):
    left, right = _by_key(renders[f"overlays/{a}"]), _by_key(renders[f"overlays/{b}"])
    for key in sorted(set(left) | set(right)):
        if key[0] == "ModelConfig":
            continue  # the point of an environment
        assert key in left and key in right, f"{key} is only in one of {a}, {b}"
        extra = set(_leaves(left[key], right[key])) - ALLOWED_AGENT_DIFFERENCES
        assert not extra, f"{key}: {a} and {b} differ in {sorted(extra)}"


def test_models_per_environment(renders):
    def providers(target):
        return {(d["metadata"]["namespace"], d["metadata"]["name"]): d["spec"]["provider"]
                for d in yamlio.load_all(renders[target]) if d["kind"] == "ModelConfig"}
    assert set(providers("overlays/dev").values()) == {"Ollama"}
    assert "Ollama" not in providers("overlays/prod").values()
    assert providers("overlays/staging")[("platform-agents", "model-candidate")] == "Anthropic"
    agents = {d["metadata"]["name"]: d for d in yamlio.load_all(renders["overlays/prod"]) if d["kind"] == "Agent"}
    assert agents["k8s-readonly"]["spec"]["declarative"]["deployment"]["replicas"] == 3


def test_prod_policy_fails_a_destructive_grant_to_the_customer_facing_agent(tmp_path):
    for folder in ("base", "overlays", "vendor"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)  # the repository root lines name paths from
    source = tmp_path / "base/agents/billing-assistant.yaml"
    source.write_text(source.read_text().replace("    - issue_refund\n    requireApproval:",
                                                 "    - issue_refund\n    - delete_customer\n    requireApproval:"))
    prod = build(tmp_path / "overlays/prod")
    assert prod.returncode == 1 and prod.stdout == b""
    lines = [l for l in prod.stderr.decode().splitlines() if l.startswith("[error] kagent.dev")]
    assert lines == [
        "[error] kagent.dev/v1alpha2/Agent/platform-agents/billing-assistant spec.declarative.tools[0].mcpServer."
        "toolNames[4]: rule customer-facing-agents: delete_customer (destructive) is not allowed for agent "
        "billing-assistant (allowed: read, write); from krmfn.dev/v1alpha1/AgentDescription/platform-agents/"
        "billing-assistant spec.tools[0].allow[4] (base/agents/billing-assistant.yaml)",
        "[error] kagent.dev/v1alpha2/Agent/platform-agents/billing-assistant spec.declarative.tools[0].mcpServer."
        "toolNames[4]: rule destructive-needs-approval: delete_customer (destructive) must be listed in requireApproval; "
        "from krmfn.dev/v1alpha1/AgentDescription/platform-agents/billing-assistant spec.tools[0].allow[4] "
        "(base/agents/billing-assistant.yaml)",
    ]
    assert lines[0] in (ROOT / "README.md").read_text()  # the README shows what users really see
    assert build(tmp_path / "overlays/dev").returncode == 0  # dev has no such policy
