"""The example overlays: valid for the cluster, different only where they say so, and guarded."""

from __future__ import annotations

import shutil
import re
import subprocess
from pathlib import Path

import pytest

import support
from krmfn.runtime import yamlio

ROOT = Path(__file__).resolve().parents[1]
ENVIRONMENTS = ("dev", "staging", "prod")
EXTERNAL = ["Secret/*/openai-api-key", "Secret/*/anthropic-api-key", "Secret/*/billing-api-token"]
pytestmark = pytest.mark.e2e


def build(path: Path) -> subprocess.CompletedProcess:
    return support.module("build", str(path), timeout=120, text=False)


@pytest.fixture(scope="module")
def renders() -> dict[str, bytes]:
    out = {}
    for target in ("base",) + tuple(f"overlays/{e}" for e in ENVIRONMENTS):
        proc = build(ROOT / target)
        assert proc.returncode == 0, proc.stderr.decode()
        out[target] = proc.stdout
    return out


def _declared_kagent(target: str) -> str:
    """The kagentVersion the target's ModelEnvironment declares (krmfn's default when it says none)."""
    from krmfn.api.environment import DEFAULT_KAGENT_VERSION

    for path in sorted((ROOT / target).glob("*.yaml")):
        for doc in yamlio.load_all(path.read_text(), str(path)):
            if doc.get("kind") == "ModelEnvironment":
                return (doc.get("spec") or {}).get("kagentVersion", DEFAULT_KAGENT_VERSION)
    return DEFAULT_KAGENT_VERSION


# every render against the CRDs of each kagent release it can run on: a v0.9 render also runs on
# v0.10; a render for v0.10 (prod declares it) writes v0.10-only fields, for v0.10 only
@pytest.mark.parametrize("target,version", [
    (target, version) for target in ("base",) + tuple(f"overlays/{e}" for e in ENVIRONMENTS)
    for version in ("v0.9.12", "v0.10.0-rc3") if version.startswith("v0.10") or not _declared_kagent(target).startswith("v0.10")])
def test_render_conforms_to_the_kagent_crds(renders, target, version, crd_root, tmp_path):
    rendered = tmp_path / "render.yaml"
    rendered.write_bytes(renders[target])
    args = ["validate", "--crds", str(crd_root / version), str(rendered)]
    for external in EXTERNAL:
        args += ["--external", external]
    proc = support.module(*args, timeout=120, text=False)
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


# What a version's own object says of it: another version rolled out differs in these.
ALLOWED_VERSION_DIFFERENCES = {".metadata.annotations.krmfn.dev/server-version",
                               ".metadata.annotations.krmfn.dev/tool-risks", ".spec.url", ".spec.deployment.image"}


def _rollouts(environment: str) -> dict:
    path = ROOT / "overlays" / environment / "expand.yaml"
    config = yamlio.load_one(path.read_bytes(), str(path))
    return config["spec"].get("serverVersions", {})


def _unversioned(render: bytes, servers: set[str]) -> bytes:
    """The render with the version suffix of `servers`' objects (and references to them) taken off."""
    for server in sorted(servers):
        render = re.sub(rb"\b(" + re.escape(server.encode()) + rb")-v[0-9a-z-]+", rb"\1", render)
    return render


@pytest.mark.parametrize("a,b", [("dev", "staging"), ("staging", "prod"), ("dev", "prod")])
def test_environments_differ_only_in_models_replicas_and_what_overlays_state(renders, a, b):
    rolled = {server.rsplit("/", 1)[-1] for server, _ in set(_rollouts(a).items()) ^ set(_rollouts(b).items())}
    left = _by_key(_unversioned(renders[f"overlays/{a}"], rolled))
    right = _by_key(_unversioned(renders[f"overlays/{b}"], rolled))
    for key in sorted(set(left) | set(right)):
        if key[0] == "ModelConfig":
            continue  # the point of an environment
        assert key in left and key in right, f"{key} is only in one of {a}, {b}"
        allowed = ALLOWED_AGENT_DIFFERENCES | (ALLOWED_VERSION_DIFFERENCES if key[2] in rolled else set())
        extra = set(_leaves(left[key], right[key])) - allowed
        assert not extra, f"{key}: {a} and {b} differ in {sorted(extra)}"


def test_dev_rolls_a_skill_version_out_and_a_pin_holds_everywhere(renders):
    """overlays/dev runs grafana-mcp 0.5.0, the others the catalog's default 0.4.0; billing-assistant
    pins billing-api 1.4.2 in every environment, though the catalog's default is 1.5.0."""
    for environment in ENVIRONMENTS:
        objects = _by_key(renders[f"overlays/{environment}"])
        grafana = "0.5.0" if environment == "dev" else "0.4.0"
        slug = grafana.replace(".", "-")
        server = objects[("RemoteMCPServer", "observability", f"grafana-mcp-v{slug}")]
        assert server["metadata"]["annotations"]["krmfn.dev/server-version"] == f"observability/grafana-mcp@{grafana}"
        assert server["spec"]["url"] == f"http://grafana-mcp-{slug}.observability.svc.cluster.local:8000/mcp"
        promql = objects[("Agent", "platform-agents", "promql-agent")]
        assert promql["spec"]["declarative"]["tools"][0]["mcpServer"]["name"] == f"grafana-mcp-v{slug}"
        billing = objects[("Agent", "platform-agents", "billing-assistant")]
        assert billing["spec"]["declarative"]["tools"][0]["mcpServer"]["name"] == "billing-api-v1-4-2"
        assert objects[("RemoteMCPServer", "platform-agents", "billing-api-v1-4-2")]["spec"]["url"] \
            == "http://billing-mcp-1-4-2.platform-agents.svc.cluster.local:3000/mcp"
        # one object per version in use: no agent gets 1.5.0 or the other grafana version
        names = {k[2] for k in objects if k[0] in ("RemoteMCPServer", "MCPServer")}
        assert names == {"kagent-tools", f"grafana-mcp-v{slug}", "billing-api-v1-4-2"}, names


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
