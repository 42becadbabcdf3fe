"""Nothing a pull request author controls lowers a verdict (issues 13 and 19).

What an object says about itself (its `krmfn.dev/tool-risks` and `krmfn.dev/environment`
annotations), a team's own ToolCatalog and a missing namespace must never make a grant look less
risky than the catalogs say. Each case runs through the real CLI (`krmfn diff`, `krmfn run`) or
the real kustomize build of the example repository (`krmfn build`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

import support

from conftest import ROOT

PROD_POLICY = ROOT / "overlays" / "prod" / "policy.yaml"


def krmfn(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return support.module(*args, cwd=cwd)  # `python -m krmfn` from this checkout


def agent(name: str, namespace: str, tools: list[str], *, server: str = "kagent-tool-server",
          server_namespace: str = "kagent", annotations: dict | None = None) -> dict:
    meta = {"name": name, "namespace": namespace}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "kagent.dev/v1alpha2", "kind": "Agent", "metadata": meta,
            "spec": {"type": "Declarative", "description": name,
                     "declarative": {"modelConfig": "model-standard", "systemMessage": f"You are {name}.",
                                     "tools": [{"type": "McpServer", "mcpServer": {
                                         "apiGroup": "kagent.dev", "kind": "RemoteMCPServer", "name": server,
                                         "namespace": server_namespace, "toolNames": tools}}]}}}


def claims(server: str, **risks: str) -> dict:
    return {"krmfn.dev/tool-risks": json.dumps({server: risks})}


def write(path: Path, objects: list[dict]) -> str:
    path.write_text(yaml.safe_dump_all(objects, sort_keys=False))
    return str(path)


# --- the review ---------------------------------------------------------------------------------


def test_diff_is_not_talked_out_of_a_destructive_grant(tmp_path):
    """Issue 13, defect 1: the annotation says "read"; the built-in catalog says destructive."""
    old = agent("helper", "team", ["k8s_get_resources"])
    new = agent("helper", "team", ["k8s_get_resources", "cilium_delete_service"],
                annotations=claims("kagent/kagent-tool-server", cilium_delete_service="read"))
    args = [write(tmp_path / "old.yaml", [old]), write(tmp_path / "new.yaml", [new])]
    proc = krmfn("diff", *args, "--fail-on", "destructive-grant")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "cilium_delete_service" in proc.stdout and "(destructive)" in proc.stdout
    doc = json.loads(krmfn("diff", *args, "--format", "json").stdout)
    [grant] = [f for a in doc["environments"][0]["agents"] for f in a["findings"] if f["class"] == "tool-granted"]
    assert (grant["tool"], grant["risk"], grant["destructive"]) == ("cilium_delete_service", "destructive", True)


def test_an_annotation_may_raise_a_risk_in_the_review(tmp_path):
    old = agent("helper", "team", ["k8s_get_resources"])
    new = agent("helper", "team", ["k8s_get_resources", "k8s_get_events"],
                annotations=claims("kagent/kagent-tool-server", k8s_get_events="destructive"))
    proc = krmfn("diff", write(tmp_path / "old.yaml", [old]), write(tmp_path / "new.yaml", [new]),
                 "--fail-on", "destructive-grant")
    assert proc.returncode == 3, proc.stdout + proc.stderr


# --- the policy ---------------------------------------------------------------------------------


def run_policy(tmp_path: Path, objects: list[dict], policy: Path = PROD_POLICY) -> subprocess.CompletedProcess:
    return krmfn("run", str(policy), write(tmp_path / "input.yaml", objects))


def namespace(name: str, **labels: str) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def test_policy_is_not_talked_out_of_a_destructive_grant(tmp_path):
    objects = [namespace("team"), agent("helper", "team", ["cilium_delete_service"],
                                        annotations=claims("kagent/kagent-tool-server", cilium_delete_service="read"))]
    proc = run_policy(tmp_path, objects)
    assert proc.returncode == 1
    assert "cilium_delete_service (destructive) must be listed in requireApproval" in proc.stderr, proc.stderr


def test_a_claimed_risk_of_a_team_tool_is_not_trusted(tmp_path):
    """A hand-written Agent says the billing API's delete_customer is "read": the catalog decides."""
    catalog = yaml.safe_load((ROOT / "base" / "agents" / "catalog.yaml").read_text())
    objects = [catalog, namespace("platform-agents"),
               agent("sneaky", "platform-agents", ["delete_customer"], server="billing-api",
                     server_namespace="platform-agents",
                     annotations=claims("platform-agents/billing-api", delete_customer="read"))]
    objects[-1]["spec"]["declarative"]["tools"][0]["mcpServer"]["kind"] = "MCPServer"
    proc = run_policy(tmp_path, objects)
    assert proc.returncode == 1
    assert "sneaky" in proc.stderr and "delete_customer (destructive)" in proc.stderr, proc.stderr


def test_claiming_a_server_does_not_make_it_known(tmp_path):
    """An empty tool list under a server the Agent alone vouches for grants every tool of an
    unknown server: fail closed."""
    objects = [namespace("team"), agent("helper", "team", [], server="shadow", server_namespace="team",
                                        annotations=claims("team/shadow", anything="read"))]
    proc = run_policy(tmp_path, objects)
    assert proc.returncode == 1
    assert "every tool of team/shadow" in proc.stderr and "in no catalog" in proc.stderr, proc.stderr


def test_an_agent_without_a_namespace_is_refused(tmp_path):
    objects = [agent("helper", "team", ["k8s_get_resources"])]
    del objects[0]["metadata"]["namespace"]
    proc = run_policy(tmp_path, objects)
    assert proc.returncode == 1
    assert "metadata.namespace: not set" in proc.stderr, proc.stderr


def test_a_tool_less_twin_cannot_hide_an_agent(tmp_path):
    real = agent("helper", "team", ["k8s_delete_resource"])
    twin = {"apiVersion": "kagent.dev/v1alpha2", "kind": "Agent", "metadata": {"name": "helper", "namespace": "team"},
            "spec": {"type": "Declarative", "declarative": {"modelConfig": "m", "systemMessage": "x"}}}
    proc = run_policy(tmp_path, [namespace("team"), twin, real])
    assert proc.returncode == 1
    assert "duplicate Agent team/helper" in proc.stderr, proc.stderr


# --- a team catalog, through the real build of the example repository ----------------------------


def repo_copy(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    for folder in ("base", "overlays", "vendor"):
        shutil.copytree(ROOT / folder, repo / folder)
    return repo


def test_a_team_catalog_cannot_downgrade_a_built_in_risk(tmp_path):
    """Issue 19: `toolsFrom: kagent-tool-server` plus `k8s_delete_resource: read` must not let prod
    grant a destructive tool without approval."""
    repo = repo_copy(tmp_path)
    catalog_file = repo / "base" / "agents" / "catalog.yaml"
    catalog = yaml.safe_load(catalog_file.read_text())
    [tools] = [s for s in catalog["spec"]["servers"] if s.get("toolsFrom") == "kagent-tool-server"]
    tools["tools"] = {"k8s_delete_resource": "read"}
    catalog_file.write_text(yaml.safe_dump(catalog, sort_keys=False))
    agent_file = repo / "base" / "agents" / "k8s-readonly.yaml"
    description = yaml.safe_load(agent_file.read_text())
    description["spec"]["tools"][0]["allow"].append("k8s_delete_resource")
    agent_file.write_text(yaml.safe_dump(description, sort_keys=False))

    proc = krmfn("build", "overlays/prod", cwd=repo)
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert proc.stdout == ""
    assert "k8s_delete_resource (destructive) must be listed in requireApproval" in proc.stderr, proc.stderr
    # the rendered catalog reached the policy but not the build's output
    dev = krmfn("build", "overlays/dev", cwd=repo)
    assert dev.returncode == 0, dev.stderr
    assert "kind: ToolCatalog" not in dev.stdout
    assert '"k8s_delete_resource":"destructive"' in dev.stdout.replace(" ", "")


def test_no_function_config_echoes_a_literal_credential(tmp_path):
    """Issue 19: ToolPolicy and AgentExpansion gave their config back unredacted. Every kind's config
    is scanned by the engine: the credential is refused (one line naming the field) and the
    ResourceList that goes back out holds no trace of it."""
    from krmfn.runtime import yamlio
    from krmfn.runtime.registry import FUNCTIONS

    secret = "sk-proj-" + "a1B2c3D4" * 6
    for kind, entry in FUNCTIONS.items():
        folder = ROOT / "functions" / entry.module.rsplit(".", 1)[1] / "testdata"
        case = sorted(folder.glob("*/expected.yaml"))[0].parent
        config = yamlio.load_one((case / "config.yaml").read_bytes(), str(case))
        config.setdefault("metadata", {}).setdefault("annotations", {})["note"] = secret
        stdin = yaml.safe_dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
                                "items": [namespace("team")], "functionConfig": config})
        proc = support.module(stdin=stdin, cwd=ROOT)
        assert proc.returncode == 1, (kind, proc.stderr)
        assert secret not in proc.stdout and secret not in proc.stderr, kind
        assert "metadata.annotations.note: literal credential refused" in proc.stderr, (kind, proc.stderr)
        assert yaml.safe_load(proc.stdout)["items"] == [namespace("team")], kind  # the input, unchanged


@pytest.mark.parametrize("labels,fragment", [
    ({"team": "x" * 64}, "label 'team': value"),
    ({"bad key!": "v"}, "label key 'bad key!'"),
    ({"a/b/c": "v"}, "label key 'a/b/c'"),
    ({"ok": "trailing-"}, "label 'ok': value 'trailing-'"),
])
def test_labels_the_api_server_would_refuse_are_refused_by_expand(labels, fragment, tmp_path):
    """Issue 19: expand copied label keys and values onto what it emits that only the API server
    would refuse (asynchronously, after the merge). Refused at the description's metadata.labels."""
    description = {"apiVersion": "krmfn.dev/v1alpha1", "kind": "AgentDescription",
                   "metadata": {"name": "a", "namespace": "team", "labels": labels},
                   "spec": {"description": "x", "prompt": {"text": "hi"}, "model": "standard"}}
    proc = krmfn("run", str(ROOT / "functions/expand/example/expand.yaml"), write(tmp_path / "a.yaml", [description]))
    assert proc.returncode == 1 and proc.stdout == ""
    [line] = proc.stderr.splitlines()
    assert "AgentDescription/team/a metadata.labels: " in line and fragment in line, line


@pytest.mark.parametrize("where,value,field", [
    ("spec.description", "calls with sk-proj-" + "a1B2c3D4" * 5, "spec.description"),
    ("spec.deployment.env", [{"name": "DB_PASSWORD", "value": "hunter2hunter2"}], "spec.deployment.env[0].value"),
    ("spec.deployment.env", [{"name": "GITHUB", "value": "ghp_" + "a" * 36}], "spec.deployment.env[0].value"),
])
def test_literal_credentials_in_a_description_are_refused_never_emitted(where, value, field, tmp_path):
    description = {"apiVersion": "krmfn.dev/v1alpha1", "kind": "AgentDescription",
                   "metadata": {"name": "a", "namespace": "team"},
                   "spec": {"description": "x", "prompt": {"text": "hi"}, "model": "standard"}}
    parent = description["spec"]
    *path, last = where.split(".")[1:]
    for part in path:
        parent = parent.setdefault(part, {})
    parent[last] = value
    proc = krmfn("run", str(ROOT / "functions/expand/example/expand.yaml"), write(tmp_path / "a.yaml", [description]))
    assert proc.returncode == 1 and proc.stdout == ""
    secret = value if isinstance(value, str) else value[0]["value"]
    assert secret.split()[-1] not in proc.stderr
    assert any(f"AgentDescription/team/a {field}: literal credential refused" in line for line in proc.stderr.splitlines()), proc.stderr


def test_a_catalog_server_env_with_a_literal_credential_is_refused(tmp_path):
    catalog = {"apiVersion": "krmfn.dev/v1alpha1", "kind": "ToolCatalog", "metadata": {"name": "t", "namespace": "team"},
               "spec": {"servers": [{"name": "billing", "tools": {"get": "read"},
                                     "mcpServer": {"image": "example/billing:1", "transport": "stdio",
                                                   "env": {"API_TOKEN": "t0ps3cr3tt0ps3cr3t"}}}]}}
    proc = krmfn("run", str(ROOT / "functions/expand/example/expand.yaml"), write(tmp_path / "c.yaml", [catalog]))
    assert proc.returncode == 1 and "t0ps3cr3t" not in proc.stderr + proc.stdout
    assert "ToolCatalog/team/t spec.servers[0].mcpServer.env.API_TOKEN: literal credential refused" in proc.stderr, proc.stderr


def test_errors_do_not_cascade_and_never_suggest_an_agent_to_itself(tmp_path):
    """Issue 17: a description with a schema error made its delegators report it as missing, with a
    did-you-mean of another agent; and an agent was offered itself as the delegate it misspelt."""
    def description(name, **spec):
        return {"apiVersion": "krmfn.dev/v1alpha1", "kind": "AgentDescription",
                "metadata": {"name": name, "namespace": "team"},
                "spec": {"description": "x", "prompt": {"text": "hi"}, "model": "standard", **spec}}

    objects = [description("helper", bogus=1), description("helpers", delegates=["helper"]),
               description("selfie", delegates=["selfi"]), description("k8s-reader"),
               description("boss", delegates=["k8s-readr"])]
    proc = krmfn("run", str(ROOT / "functions/expand/example/expand.yaml"), write(tmp_path / "a.yaml", objects))
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert any("team/helper spec.bogus: unknown field" in line for line in lines)
    assert not any("team/helpers " in line for line in lines), lines  # no cascade from helper's error
    [selfie] = [line for line in lines if "team/selfie " in line]
    assert "did you mean" not in selfie, selfie
    [boss] = [line for line in lines if "team/boss " in line]
    assert "did you mean 'team/k8s-reader'?" in boss, boss
