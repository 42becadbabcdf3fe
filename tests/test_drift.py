"""`krmfn drift`: the cluster's objects against the render of an overlay.

The unmarked tests feed `--live` files made from the real render of overlays/prod (what the API
server adds is added by hand there, and named so); the `cluster` tests apply the render to the
cluster tier's real kube-apiserver with kubectl, edit an Agent with kubectl, and read it back both
through `kubectl get -o yaml` and through `--kubectl`; a server with kagent v0.10's CRDs defaults
fields the render leaves out, and that is not drift.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from krmfn.runtime import yamlio
from support import ROOT, module, shell_env

OVERLAY = "overlays/prod"
AGENT = "k8s-readonly"
EXIT_DRIFT = 3


@pytest.fixture(scope="module")
def rendered() -> list[dict]:
    proc = module("build", OVERLAY)
    assert proc.returncode == 0, proc.stderr
    return [d for d in yamlio.load_all(proc.stdout) if d]


def _write(tmp_path: Path, docs: list[dict], name: str = "live.yaml", as_list: bool = False) -> str:
    path = tmp_path / name
    if as_list:
        path.write_text(yamlio.dump({"apiVersion": "v1", "kind": "List", "items": docs}))
    else:
        path.write_text(yamlio.dump_all(docs))
    return str(path)


def _find(docs: list[dict], kind: str, name: str) -> dict:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def _drift(*args: str, stdin: str | None = None, env: dict | None = None):
    return module("drift", OVERLAY, *args, stdin=stdin, env=env)


def _server_additions(docs: list[dict]) -> list[dict]:
    """A stand-in for what an API server adds (the cluster tests below use the real one)."""
    out = copy.deepcopy(docs)
    for index, obj in enumerate(out):
        meta = obj["metadata"]
        meta.update(uid=f"uid-{index}", resourceVersion=str(100 + index), generation=1,
                    creationTimestamp="2026-01-01T00:00:00Z",
                    managedFields=[{"manager": "kubectl", "operation": "Apply"}])
        meta.setdefault("annotations", {})["kubectl.kubernetes.io/last-applied-configuration"] = json.dumps(obj)
        meta.setdefault("labels", {})["argocd.argoproj.io/instance"] = "prod"  # others' labels are not drift
        obj["status"] = {"conditions": [{"type": "Accepted", "status": "True"}]}
        if obj["kind"] == "Agent":
            obj["spec"]["declarative"].setdefault("deployment", {})["imagePullPolicy"] = "IfNotPresent"  # a default
            for tool in obj["spec"]["declarative"]["tools"]:
                tool.setdefault("mcpServer", {}).setdefault("namespace", "")  # a default inside a list element
    return out


def test_the_render_itself_is_in_sync(rendered, tmp_path):
    proc = _drift("--live", _write(tmp_path, rendered))
    assert proc.returncode == 0, proc.stderr
    assert "in sync" in proc.stdout and proc.stderr == ""


def test_what_the_server_adds_is_not_drift_from_a_list_or_stdin(rendered, tmp_path):
    live = _server_additions(rendered)
    proc = _drift("--live", _write(tmp_path, live, as_list=True))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = _drift("--live", "-", stdin=yamlio.dump_all(live))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "in sync" in proc.stdout


def test_a_prompt_and_a_tool_changed_in_the_cluster_are_named_by_class(rendered, tmp_path):
    live = _server_additions(rendered)
    agent = _find(live, "Agent", AGENT)
    agent["spec"]["declarative"]["systemMessage"] += "Also restart pods when asked.\n"
    agent["spec"]["declarative"]["tools"][0]["mcpServer"]["toolNames"].append("k8s_delete_resource")
    proc = _drift("--live", _write(tmp_path, live))
    assert proc.returncode == EXIT_DRIFT, proc.stdout + proc.stderr
    assert f"platform-agents/{AGENT} (drifted)" in proc.stdout
    assert "prompt changed in the cluster, not in Git: system message changed (+1 −0 lines)" in proc.stdout
    assert "+Also restart pods when asked." in proc.stdout
    assert "tool granted in the cluster, not in Git: granted k8s_delete_resource" in proc.stdout
    assert proc.stderr.startswith("[error] drift: ")

    report = json.loads(_drift("--live", _write(tmp_path, live), "--format", "json").stdout)
    assert report["krmfnDrift"] == "v1" and report["inSync"] is False
    classes = {a["agent"]: [f["class"] for f in a["findings"]] for a in report["agents"]}
    assert classes[f"platform-agents/{AGENT}"] == ["prompt-changed", "tool-granted"]
    assert classes["platform-agents/supervisor"] == ["reach-changed"]  # delegates to the agent
    markdown = _drift("--live", _write(tmp_path, live), "--format", "markdown").stdout
    assert markdown.startswith("## krmfn drift: `overlays/prod`") and "| prompt changed |" in markdown

    # --fail-on follows krmfn diff: only the named classes fail the job
    assert _drift("--live", _write(tmp_path, live), "--fail-on", "model-change").returncode == 0
    assert _drift("--live", _write(tmp_path, live), "--fail-on", "destructive-grant").returncode == EXIT_DRIFT
    assert _drift("--live", _write(tmp_path, live), "--fail-on", "").returncode == 0


def test_kagent_1_0_prompt_drift_in_the_agent_template(tmp_path):
    overlay = "overlays/prod-kagent-1.0"
    proc = module("build", overlay)
    assert proc.returncode == 0, proc.stderr
    live = [d for d in yamlio.load_all(proc.stdout) if d]
    assert module("drift", overlay, "--live", _write(tmp_path, live)).returncode == 0
    template = _find(live, "AgentTemplate", "supervisor")
    template["spec"]["systemPrompt"] += "Answer in French.\n"
    report = json.loads(module("drift", overlay, "--live", _write(tmp_path, live), "--format", "json").stdout)
    assert {a["agent"]: [f["class"] for f in a["findings"]] for a in report["agents"]} == \
        {"platform-agents/supervisor": ["prompt-changed"]}


def test_a_behaviour_field_the_render_leaves_out_is_still_compared(rendered, tmp_path):
    """requireApproval is absent from the render for this agent; adding it in the cluster is drift,
    and a prompt source added beside the inline prompt too."""
    live = copy.deepcopy(rendered)
    tool = _find(live, "Agent", AGENT)["spec"]["declarative"]["tools"][0]["mcpServer"]
    assert "requireApproval" not in tool
    tool["requireApproval"] = ["k8s_get_pod_logs"]
    report = json.loads(_drift("--live", _write(tmp_path, live), "--format", "json").stdout)
    assert [f["class"] for a in report["agents"] for f in a["findings"]] == ["approval-added"]


def test_not_applied_and_not_in_git(rendered, tmp_path):
    live = [d for d in rendered if not (d["kind"] == "Agent" and d["metadata"]["name"] == AGENT)]
    extra = copy.deepcopy(_find(rendered, "Agent", "supervisor"))
    extra["metadata"]["name"] = "shadow-agent"
    foreign = copy.deepcopy(extra)  # an Agent krmfn does not manage is someone else's, not drift
    foreign["metadata"]["name"] = "hand-written"
    foreign["metadata"]["labels"] = {"team": "other"}
    other_env = copy.deepcopy(extra)  # another overlay's agent in the same cluster
    other_env["metadata"]["name"] = "dev-agent"
    other_env["metadata"]["annotations"]["krmfn.dev/environment"] = "dev"
    live += [extra, foreign, other_env]
    report = json.loads(_drift("--live", _write(tmp_path, live), "--format", "json").stdout)
    statuses = {a["agent"]: a["status"] for a in report["agents"]}
    # the supervisor delegates to the missing agent: what it reaches through it is drift of its own
    reach_only = {a["agent"] for a in report["agents"] if a["status"] == "drifted"
                  and {f["class"] for f in a["findings"]} == {"reach-changed"}}
    assert {k: v for k, v in statuses.items() if k not in reach_only} == {
        f"platform-agents/{AGENT}": "not applied", "platform-agents/shadow-agent": "not in Git"}, statuses
    assert reach_only <= {"platform-agents/supervisor"}
    text = _drift("--live", _write(tmp_path, live)).stdout
    assert "in Git, not applied to the cluster" in text and "runs in the cluster, not in Git" in text


def test_no_secret_value_or_credential_from_the_cluster_is_printed(rendered, tmp_path):
    live = copy.deepcopy(rendered)
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2"
    agent = _find(live, "Agent", AGENT)
    agent["spec"]["declarative"]["systemMessage"] += f"Use the token {token} for GitHub.\n"
    agent["metadata"]["annotations"]["ops.example.com/password"] = "hunter2-hunter2"
    # an Agent whose prompt now comes from a Secret in the cluster
    billing = _find(live, "Agent", "billing-assistant")
    del billing["spec"]["declarative"]["systemMessage"]
    billing["spec"]["declarative"]["systemMessageFrom"] = {"type": "Secret", "name": "leaked", "key": "prompt"}
    live.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "leaked", "namespace": "platform-agents"},
                 "data": {"prompt": "c3VwZXItc2VjcmV0LXByb21wdA=="},  # "super-secret-prompt"
                 "stringData": {"other": "plain-secret-value"}})
    for fmt in ("text", "json", "markdown"):
        proc = _drift("--live", _write(tmp_path, live), "--format", fmt)
        assert proc.returncode == EXIT_DRIFT, proc.stderr
        out = proc.stdout + proc.stderr
        for secret in (token, "hunter2-hunter2", "super-secret-prompt", "c3VwZXItc2VjcmV0LXByb21wdA==",
                       "plain-secret-value"):
            assert secret not in out, (fmt, secret)
        assert "<redacted>" in out
    assert "prompt source" in _drift("--live", _write(tmp_path, live)).stdout


def test_the_cluster_cannot_lower_a_risk(rendered, tmp_path):
    """An edit in the cluster that grants a tool and claims it harmless is still gated as destructive."""
    live = copy.deepcopy(rendered)
    billing = _find(live, "Agent", "billing-assistant")
    billing["spec"]["declarative"]["tools"][0]["mcpServer"]["toolNames"].append("delete_customer")
    risks = json.loads(billing["metadata"]["annotations"]["krmfn.dev/tool-risks"])
    risks["platform-agents/billing-api-v1-4-2"]["delete_customer"] = "read"
    risks["platform-agents/billing-api-v1-4-2"]["issue_refund"] = "read"  # Git says write
    billing["metadata"]["annotations"]["krmfn.dev/tool-risks"] = json.dumps(risks)
    k8s = _find(live, "Agent", AGENT)
    k8s["spec"]["declarative"]["tools"][0]["mcpServer"]["toolNames"].append("k8s_delete_resource")
    k8s["metadata"]["annotations"]["krmfn.dev/tool-risks"] = json.dumps(
        {"platform-agents/kagent-tools": {"k8s_delete_resource": "read"}})
    proc = _drift("--live", _write(tmp_path, live), "--format", "json", "--fail-on", "destructive-grant")
    assert proc.returncode == EXIT_DRIFT, proc.stdout + proc.stderr
    findings = {(a["agent"], f["class"]): f for a in json.loads(proc.stdout)["agents"] for f in a["findings"]}
    granted = findings[("platform-agents/billing-assistant", "tool-granted")]
    assert (granted["tool"], granted["risk"], granted["destructive"]) == ("delete_customer", "unknown", True)
    assert ("platform-agents/billing-assistant", "config-changed") not in findings  # issue_refund stays write
    builtin = findings[(f"platform-agents/{AGENT}", "tool-granted")]
    assert (builtin["risk"], builtin["destructive"]) == ("destructive", True)


@pytest.mark.parametrize("docs, expected", [
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {namespace: x}\n", "object 1 (ConfigMap): metadata.name: required"),
    ("apiVersion: v1\nkind: ConfigMap\n", "object 1 (ConfigMap): metadata: expected an object"),
    ("- just a list\n", "not a Kubernetes object"),
    ("a: [unclosed\n", "live.yaml"),
])
def test_bad_live_input_is_one_line_naming_file_and_field(tmp_path, docs, expected):
    path = tmp_path / "live.yaml"
    path.write_text(docs)
    proc = _drift("--live", str(path))
    assert proc.returncode == 1 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("[error] ") and str(path) in lines[0], proc.stderr
    assert expected in lines[0]


@pytest.mark.parametrize("args, expected", [
    ((), "--live FILE (or -) or --kubectl"),
    (("--live", "missing.yaml"), "missing.yaml: no such file"),
    (("--live", "x.yaml", "--kubectl"), "not allowed with argument"),
    (("--live", "x.yaml", "--context", "c"), "only apply with --kubectl"),
    (("--fail-on", "nonsense", "--live", "x.yaml"), "unknown class 'nonsense'"),
])
def test_usage_errors(args, expected):
    proc = _drift(*args)
    assert proc.returncode == 1 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and expected in proc.stderr, proc.stderr


def test_kubectl_failure_is_one_line(tmp_path):
    proc = _drift("--kubectl", "--kubeconfig", str(tmp_path / "nothing"),
                  env={**shell_env(), "KUBECONFIG": str(tmp_path / "nothing")})
    assert proc.returncode == 1 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and "--kubectl: kubectl get" in proc.stderr, proc.stderr


# --- the real API server ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, rendered):
    from cluster_tools import api_server, install_crds

    with api_server(tmp_path_factory.mktemp("drift-apiserver")) as srv:
        install_crds(srv, "v0.10.0-rc3")  # the kagent the prod overlay declares (and vendors)
        path = tmp_path_factory.mktemp("drift-apply") / "render.yaml"
        path.write_text(yamlio.dump_all(rendered))
        srv.kubectl("apply", "--server-side", "--field-manager=krmfn", "-f", str(path))
        yield srv


def _live_from_kubectl(srv, tmp_path: Path) -> str:
    kinds = "namespace,agent.v1alpha2.kagent.dev,modelconfig.v1alpha2.kagent.dev," \
            "remotemcpserver.v1alpha2.kagent.dev,mcpserver.v1alpha1.kagent.dev"
    path = tmp_path / "kubectl-get.yaml"
    path.write_bytes(srv.kubectl("get", kinds, "-A", "-o", "yaml").stdout)
    return str(path)


def _kubectl_drift(srv, *args: str):
    env = {**shell_env(), "KUBECONFIG": str(srv.kubeconfig)}  # the current context of this kubeconfig only
    return _drift("--kubectl", *args, env=env)


@pytest.mark.cluster
def test_cluster_in_sync_then_kubectl_edits_are_named(cluster, tmp_path):
    proc = _drift("--live", _live_from_kubectl(cluster, tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = _kubectl_drift(cluster)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "in sync" in proc.stdout

    agent = cluster.get_json("agent.v1alpha2.kagent.dev", AGENT, "-n", "platform-agents")
    prompt = agent["spec"]["declarative"]["systemMessage"].replace("You can only read the cluster.",
                                                                   "You may delete pods.")
    tools = agent["spec"]["declarative"]["tools"][0]["mcpServer"]["toolNames"]
    patch = [{"op": "replace", "path": "/spec/declarative/systemMessage", "value": prompt},
             {"op": "replace", "path": "/spec/declarative/tools/0/mcpServer/toolNames",
              "value": [t for t in tools if t != "k8s_get_events"] + ["k8s_delete_resource"]}]
    cluster.kubectl("patch", "agent.v1alpha2.kagent.dev", AGENT, "-n", "platform-agents", "--type=json",
                    "-p", json.dumps(patch))
    try:
        for proc in (_drift("--live", _live_from_kubectl(cluster, tmp_path), "--format", "json"),
                     _kubectl_drift(cluster, "--format", "json")):
            assert proc.returncode == EXIT_DRIFT, proc.stdout + proc.stderr
            report = json.loads(proc.stdout)
            findings = {a["agent"]: {f["class"]: f for f in a["findings"]} for a in report["agents"]}
            mine = findings[f"platform-agents/{AGENT}"]
            assert sorted(mine) == ["prompt-changed", "tool-granted", "tool-revoked"], mine
            assert mine["prompt-changed"]["summary"].startswith("prompt changed in the cluster, not in Git")
            assert "+You may delete pods." in mine["prompt-changed"]["diff"]
            assert mine["tool-granted"]["tool"] == "k8s_delete_resource" and mine["tool-granted"]["destructive"]
            assert mine["tool-revoked"]["tool"] == "k8s_get_events"
        text = _kubectl_drift(cluster).stdout
        assert "tool revoked in the cluster, not in Git: revoked k8s_get_events" in text
    finally:
        path = tmp_path / "restore.yaml"
        path.write_text(yamlio.dump_all([d for d in yamlio.load_all(module("build", OVERLAY).stdout) if d]))
        cluster.kubectl("apply", "--server-side", "--field-manager=krmfn", "--force-conflicts", "-f", str(path))
    assert _kubectl_drift(cluster).returncode == 0


@pytest.mark.cluster
def test_cluster_deleted_agent_is_not_applied(cluster, tmp_path):
    cluster.kubectl("delete", "agent.v1alpha2.kagent.dev", "promql-agent", "-n", "platform-agents", "--wait=true")
    try:
        report = json.loads(_kubectl_drift(cluster, "--format", "json").stdout)
        assert {a["agent"]: a["status"] for a in report["agents"]}["platform-agents/promql-agent"] == "not applied"
    finally:
        path = tmp_path / "restore.yaml"
        path.write_text(yamlio.dump_all([d for d in yamlio.load_all(module("build", OVERLAY).stdout) if d]))
        cluster.kubectl("apply", "--server-side", "--field-manager=krmfn", "-f", str(path))


STAGING = "overlays/staging"  # OpenAI models: v0.10's CRDs default their openAI.apiFormat


@pytest.fixture(scope="module")
def staging_rendered() -> list[dict]:
    proc = module("build", STAGING)
    assert proc.returncode == 0, proc.stderr
    return [d for d in yamlio.load_all(proc.stdout) if d]


@pytest.fixture(scope="module")
def defaulting_cluster(tmp_path_factory, staging_rendered):
    """An API server with kagent v0.10's CRDs, which default fields the (v0.9.12) render leaves out."""
    from cluster_tools import api_server, install_crds

    with api_server(tmp_path_factory.mktemp("drift-apiserver-v010")) as srv:
        install_crds(srv, "v0.10.0-rc3")
        path = tmp_path_factory.mktemp("drift-apply-v010") / "render.yaml"
        path.write_text(yamlio.dump_all(staging_rendered))
        srv.kubectl("apply", "--server-side", "--field-manager=krmfn", "-f", str(path))
        yield srv


@pytest.mark.cluster
def test_cluster_crd_defaults_are_not_drift(defaulting_cluster, staging_rendered, tmp_path):
    from krmfn.review.model import flatten

    live_path = _live_from_kubectl(defaulting_cluster, tmp_path)
    stored = {(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]): d
              for d in yamlio.load_one(Path(live_path).read_text(), "live")["items"]}
    defaulted = sorted(f"{kind} {name}: {path}" for (kind, ns, name), obj in stored.items()
                       for want in [next((r for r in staging_rendered if (r["kind"], r["metadata"].get("namespace"),
                                                                  r["metadata"]["name"]) == (kind, ns, name)), None)]
                       if want is not None and kind != "Namespace"
                       for path in set(flatten(obj.get("spec", {}))) - set(flatten(want.get("spec", {}))))
    assert defaulted, "the v0.10 CRDs should have defaulted fields the render leaves out"
    proc = module("drift", STAGING, "--live", live_path)
    assert proc.returncode == 0, "\n".join(defaulted[:10]) + "\n" + proc.stdout + proc.stderr
    proc = module("drift", STAGING, "--kubectl", env={**shell_env(), "KUBECONFIG": str(defaulting_cluster.kubeconfig)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
