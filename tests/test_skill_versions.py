"""Skill (tool server) versions end to end, on a real temporary git repository of the example:
`krmfn build` (the real kustomize) of each overlay, `krmfn diff --git` of a rollout step, pins,
the policy on a version's own classes, and the one-line refusals. The function-level behaviour is
in the golden cases functions/{expand,policy}/testdata/*version*; the review's classification in
tests/review_cases/skill-version-changed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import support
from krmfn.runtime import yamlio

ROOT = support.ROOT
ENVIRONMENTS = ("overlays/dev", "overlays/staging", "overlays/prod")


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env).stdout


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path}: {old!r} not found"
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def repo(tmp_path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "base", repo / "base")
    shutil.copytree(ROOT / "overlays", repo / "overlays")
    shutil.copytree(ROOT / "vendor", repo / "vendor")  # the prod overlays' CRDs
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", ".")
    git(repo, "commit", "--quiet", "-m", "agents")
    return repo


def diff(repo: Path, *args: str) -> tuple[int, dict]:
    proc = support.installed("diff", "--git", "HEAD~1..HEAD", *ENVIRONMENTS, "--format", "json", *args, cwd=repo)
    assert proc.returncode in (0, 3), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def findings(doc: dict) -> dict[str, dict[str, list[dict]]]:
    """environment -> agent -> findings."""
    return {env["name"]: {a["agent"]: a["findings"] for a in env["agents"]} for env in doc["environments"]}


def build(repo: Path, overlay: str) -> subprocess.CompletedProcess:
    return support.installed("build", overlay, cwd=repo)


def test_the_next_rollout_step_is_one_skill_version_change_in_staging_only(repo):
    """dev runs grafana-mcp 0.5.0; rolling it out to staging is one line and one finding there."""
    expand = repo / "overlays" / "staging" / "expand.yaml"
    expand.write_text(expand.read_text() + "  serverVersions:\n    grafana-mcp: 0.5.0\n")
    git(repo, "commit", "--quiet", "-am", "staging: grafana-mcp 0.5.0")
    code, doc = diff(repo, "--fail-on", "skill-version-changed")
    assert code == 3  # the gate trips
    by_env = findings(doc)
    assert by_env["overlays/dev"] == {} and by_env["overlays/prod"] == {}, by_env
    # the supervisor reaches the same tools through promql-agent: no reach change for it
    assert list(by_env["overlays/staging"]) == ["platform-agents/promql-agent"], by_env
    [finding] = by_env["overlays/staging"]["platform-agents/promql-agent"]
    assert finding["class"] == "skill-version-changed"
    assert (finding["server"], finding["oldVersion"], finding["newVersion"]) == ("observability/grafana-mcp", "0.4.0", "0.5.0")
    assert finding["toolsAdded"] == [{"tool": "list_alert_rules", "risk": "read"}]
    assert finding["toolsRemoved"] == [] and finding["riskChanges"] == [] and not finding["destructive"]
    staging = next(e for e in doc["environments"] if e["name"] == "overlays/staging")
    assert {(o["change"], o["name"]) for o in staging["objects"]} == {
        ("added", "grafana-mcp-v0-5-0"), ("removed", "grafana-mcp-v0-4-0")}


def test_a_pin_beats_the_rollout(repo):
    """dev rolls billing-api out to 1.4.2's successor; billing-assistant pins 1.4.2 and keeps it."""
    expand = repo / "overlays" / "dev" / "expand.yaml"
    edit(expand, "    grafana-mcp: 0.5.0\n", "    grafana-mcp: 0.5.0\n    billing-api: 1.5.0\n")
    git(repo, "commit", "--quiet", "-am", "dev: billing-api 1.5.0")
    code, doc = diff(repo)
    assert code == 0 and all(not env["agents"] and not env["objects"] for env in doc["environments"]), doc
    render = yamlio.load_all(build(repo, "overlays/dev").stdout, "dev")
    billing = next(o for o in render if o["kind"] == "Agent" and o["metadata"]["name"] == "billing-assistant")
    assert billing["spec"]["declarative"]["tools"][0]["mcpServer"]["name"] == "billing-api-v1-4-2"


def test_dropping_a_pin_moves_the_agent_to_the_default_in_every_environment(repo):
    agent = repo / "base" / "agents" / "billing-assistant.yaml"
    text = agent.read_text()
    agent.write_text("\n".join(line.split("@")[0] if "server: billing-api@" in line else line
                               for line in text.splitlines()) + "\n")
    git(repo, "commit", "--quiet", "-am", "billing-assistant: follow the catalog's default")
    _, doc = diff(repo)
    for environment, agents in findings(doc).items():
        [finding] = agents["platform-agents/billing-assistant"]
        assert finding["class"] == "skill-version-changed", environment
        assert (finding["oldVersion"], finding["newVersion"]) == ("1.4.2", "1.5.0")
        assert finding["toolsAdded"] == [{"tool": "list_refunds", "risk": "read"}]


def test_kagent_1_0_renders_the_same_rollout_as_a_version_change(repo):
    expand = repo / "overlays" / "prod-kagent-1.0" / "expand.yaml"
    expand.write_text(expand.read_text() + "  serverVersions:\n    grafana-mcp: 0.5.0\n")
    git(repo, "commit", "--quiet", "-am", "prod (kagent 1.0): grafana-mcp 0.5.0")
    proc = support.installed("diff", "--git", "HEAD~1..HEAD", "overlays/prod-kagent-1.0", "--format", "json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    [finding] = findings(json.loads(proc.stdout))["overlays/prod-kagent-1.0"]["platform-agents/promql-agent"]
    assert finding["class"] == "skill-version-changed" and finding["newVersion"] == "0.5.0"
    render = yamlio.load_all(build(repo, "overlays/prod-kagent-1.0").stdout, "1.0")
    servers = {(o["metadata"]["namespace"], o["metadata"]["name"]): o["spec"]["url"]
               for o in render if o["kind"] == "RemoteMCPServer"}
    assert servers[("observability", "grafana-mcp-v0-5-0")] == \
        "http://grafana-mcp-0-5-0.observability.svc.cluster.local:8000/mcp"
    assert servers[("platform-agents", "billing-api-v1-4-2")].startswith("http://billing-mcp-1-4-2.")


def test_the_policy_judges_the_version_the_agent_gets(repo):
    """prod's customer-facing rule: only 1.4.2 (billing-assistant's pin) calling get_customer
    destructive fails the render; the same class in 1.5.0, which no agent of prod gets, does not."""
    catalog = repo / "base" / "agents" / "catalog.yaml"
    text = catalog.read_text()
    first, second = text.split("    - version: 1.5.0", 1)
    catalog.write_text(first + "    - version: 1.5.0" + second.replace("get_customer: read", "get_customer: destructive"))
    assert build(repo, "overlays/prod").returncode == 0
    catalog.write_text(first.replace("        get_customer: read\n        issue_refund: write\n        delete_customer",
                                     "        get_customer: destructive\n        issue_refund: write\n        delete_customer")
                       + "    - version: 1.5.0" + second)
    proc = build(repo, "overlays/prod")
    assert proc.returncode == 1 and proc.stdout == ""
    assert "rule customer-facing-agents: get_customer (destructive) is not allowed for agent billing-assistant" \
        in proc.stderr, proc.stderr


@pytest.mark.parametrize("line,field,message", [
    ("  - server: billing-api@1.3.0", "spec.tools[0].server",
     "server platform-agents/billing-api has no version 1.3.0 (versions: 1.4.2, 1.5.0)"),
    ("  - server: billing-api\n    version: 1.3.0", "spec.tools[0].version",
     "server platform-agents/billing-api has no version 1.3.0 (versions: 1.4.2, 1.5.0)"),
])
def test_a_pin_to_an_unknown_version_is_one_line(repo, line, field, message):
    agent = repo / "base" / "agents" / "billing-assistant.yaml"
    text = agent.read_text()
    agent.write_text("\n".join(line if "server: billing-api@" in old else old for old in text.splitlines()) + "\n")
    proc = build(repo, "overlays/dev")
    assert proc.returncode == 1 and proc.stdout == "" and "Traceback" not in proc.stderr
    errors = [l for l in proc.stderr.splitlines() if l.startswith("[error] krmfn.dev")]
    assert errors == [f"[error] krmfn.dev/v1alpha1/AgentDescription/platform-agents/billing-assistant {field}: {message}"
                      " (base/agents/billing-assistant.yaml)"], \
        proc.stderr


def test_a_pinned_agent_cannot_allow_a_tool_its_version_lacks(repo):
    agent = repo / "base" / "agents" / "billing-assistant.yaml"
    edit(agent, "    - issue_refund\n    requireApproval", "    - issue_refund\n    - list_refunds\n    requireApproval")
    proc = build(repo, "overlays/dev")
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith(
        "[error] krmfn.dev/v1alpha1/AgentDescription/platform-agents/billing-assistant spec.tools[0].allow[4]: "
        "tool 'list_refunds' is not in version 1.4.2 of server platform-agents/billing-api (pinned by this agent)"), \
        proc.stderr
    # without the pin the agent gets the default 1.5.0, which has the tool
    edit(agent, "billing-api@1.4.2", "billing-api")
    assert build(repo, "overlays/dev").returncode == 0


def test_a_rollout_of_an_unknown_version_fails_closed(repo):
    edit(repo / "overlays" / "dev" / "expand.yaml", "grafana-mcp: 0.5.0", "grafana-mcp: 0.6.0")
    proc = build(repo, "overlays/dev")
    assert proc.returncode == 1 and proc.stdout == ""
    assert ("[error] krmfn.dev/v1alpha1/AgentExpansion/expand spec.serverVersions.grafana-mcp: server "
            "observability/grafana-mcp has no version 0.6.0 (versions: 0.4.0, 0.5.0) (overlays/dev/expand.yaml)") \
        in proc.stderr.splitlines(), \
        proc.stderr


def test_tools_lists_each_version_with_its_own_tools():
    proc = support.installed("tools", "base/agents", "--server", "grafana-mcp@*", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    by_version = {}
    for row in rows:
        by_version.setdefault(row["version"], set()).add(row["tool"])
    assert by_version["0.5.0"] - by_version["0.4.0"] == {"list_alert_rules"}
    assert {r["object"] for r in rows} == {"grafana-mcp-v0-4-0", "grafana-mcp-v0-5-0"}
    assert {r["version"] for r in rows if r["default"]} == {"0.4.0"}
    text = support.installed("tools", "base/agents", "--server", "billing-api").stdout.splitlines()
    assert any(l.startswith("platform-agents/billing-api@1.5.0 ") and "list_refunds" in l and "default version" in l
               for l in text), text


def test_versioned_output_is_deterministic_across_hash_seeds_and_item_order(tmp_path):
    import random

    case = ROOT / "functions" / "expand" / "testdata" / "versioned-servers"
    items = yamlio.load_all((case / "input.yaml").read_bytes(), "input.yaml")
    outputs = set()
    for seed in (1, 7920, 15839, 23758):
        shuffled = list(items)
        random.Random(seed).shuffle(shuffled)
        (tmp_path / "input.yaml").write_text(yamlio.dump_all(shuffled))
        proc = support.module("run", str(case / "config.yaml"), str(tmp_path / "input.yaml"),
                              env={"PYTHONHASHSEED": str(seed)})
        assert proc.returncode == 0, proc.stderr
        outputs.add(proc.stdout)
    assert len(outputs) == 1
    assert outputs.pop() == (case / "expected.yaml").read_text()


@pytest.mark.parametrize("grant,line", [
    ({"server": "billing-api@"}, "spec.tools[0].server: 'billing-api@': write NAME@VERSION (or NAMESPACE/NAME@VERSION)"),
    ({"server": "billing-api@1.4.2", "version": "1.5.0"},
     "spec.tools[0]: server 'billing-api@1.4.2' pins 1.4.2 and version pins 1.5.0: pin once"),
    ({"server": "billing-api", "version": "latest!"}, "spec.tools[0].version: 'latest!' is not a version"),
])
def test_a_malformed_pin_is_one_line(grant, line):
    catalog = yamlio.load_one((ROOT / "base" / "agents" / "catalog.yaml").read_bytes(), "catalog.yaml")
    catalog["metadata"]["namespace"] = "platform-agents"
    description = {"apiVersion": "krmfn.dev/v1alpha1", "kind": "AgentDescription",
                   "metadata": {"name": "a", "namespace": "platform-agents"},
                   "spec": {"description": "d", "prompt": {"text": "hi"}, "tools": [{**grant, "allow": ["get_invoice"]}]}}
    config = {"apiVersion": "krmfn.dev/v1alpha1", "kind": "AgentExpansion", "metadata": {"name": "expand"}}
    code, rl = support.in_process(config, [catalog, description])
    from krmfn.runtime import engine

    lines = engine.error_lines(rl.results)
    assert code == 1 and len(lines) == 1, lines
    assert lines[0].startswith(f"[error] krmfn.dev/v1alpha1/AgentDescription/platform-agents/a {line}"), lines


def test_a_version_cannot_lower_the_built_in_floor():
    """A version that calls k8s_delete_resource "read" still grants a destructive tool (krmfn.risk)."""
    catalog = {"apiVersion": "krmfn.dev/v1alpha1", "kind": "ToolCatalog", "metadata": {"name": "t", "namespace": "team"},
               "spec": {"servers": [{"name": "k8s", "remote": {"url": "http://k8s/mcp"}, "default": "2.0.0",
                                     "versions": [{"version": "2.0.0", "tools": {"k8s_delete_resource": "read"}}]}]}}
    description = {"apiVersion": "krmfn.dev/v1alpha1", "kind": "AgentDescription",
                   "metadata": {"name": "a", "namespace": "team"},
                   "spec": {"description": "d", "prompt": {"text": "hi"},
                            "tools": [{"server": "k8s", "allow": ["k8s_delete_resource"]}]}}
    config = {"apiVersion": "krmfn.dev/v1alpha1", "kind": "AgentExpansion", "metadata": {"name": "expand"}}
    code, rl = support.in_process(config, [catalog, description])
    assert code == 0
    agent = next(o for o in rl.items if o["kind"] == "Agent")
    assert json.loads(agent["metadata"]["annotations"]["krmfn.dev/tool-risks"]) == \
        {"team/k8s-v2-0-0": {"k8s_delete_resource": "destructive"}}
    policy = {"apiVersion": "krmfn.dev/v1alpha1", "kind": "ToolPolicy", "metadata": {"name": "p"},
              "spec": {"rules": [{"name": "reads-only", "allowedRisks": ["read"]}]}}
    code, checked = support.in_process(policy, rl.items)
    from krmfn.runtime import engine

    assert code == 1 and any("k8s_delete_resource (destructive) is not allowed" in line
                             for line in engine.error_lines(checked.results))


def test_a_policy_failure_on_a_pinned_server_names_the_description_field(repo):
    """Issue 17's example on a versioned server: the Agent names `billing-api-v1-4-2`, the user
    edited `billing-api@1.4.2`'s allow list; the line names that field and file."""
    agent = repo / "base" / "agents" / "billing-assistant.yaml"
    edit(agent, "    - issue_refund\n    requireApproval:\n    - issue_refund",
         "    - issue_refund\n    - delete_customer\n    requireApproval:\n    - issue_refund\n    - delete_customer")
    proc = build(repo, "overlays/prod")
    assert proc.returncode == 1 and proc.stdout == ""
    failing = [line for line in proc.stderr.splitlines() if "delete_customer" in line and "[error]" in line]
    assert failing, proc.stderr
    assert all(line.endswith("; from krmfn.dev/v1alpha1/AgentDescription/platform-agents/billing-assistant "
                             "spec.tools[0].allow[4] (base/agents/billing-assistant.yaml)") for line in failing), \
        proc.stderr
