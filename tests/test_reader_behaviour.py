"""The reader's table of behaviour fields (`krmfn.reader.behaviour`) and drift's use of it.

Every path the table names is a field of the real kagent CRD schemas (vendor/kagent-crds, which
scripts/setup copies from ../shared); a field of the table that the render leaves out, added in the
cluster, is drift for both kagent API versions; another version of a kagent group is compared at
least as closely as any known one (fail closed), and a group that is not kagent's gains nothing.
"""

from __future__ import annotations

import copy

import pytest

from krmfn.constants import (AGENT_KIND, AGENTTEMPLATE_KIND, KAGENT_GROUP, KAGENT_V1_GROUP, KAGENT_V1ALPHA2,
                             KAGENT_V1ALPHA3, KMCP_API_VERSION, MCPSERVER_KIND)
from krmfn.reader.behaviour import BEHAVIOUR, EVERY, behaviour_fields
from krmfn.review import drift
from krmfn.runtime import yamlio
from support import ROOT, module

CRDS = ROOT / "vendor" / "kagent-crds"
CRD_SETS = ("v0.10.0-rc3", "v1.0")  # kagent 0.10 (and kmcp) and kagent 1.0
V0, V1 = "overlays/prod", "overlays/prod-kagent-1.0"


def _build(overlay: str) -> list[dict]:
    proc = module("build", overlay)
    assert proc.returncode == 0, proc.stderr
    return [d for d in yamlio.load_all(proc.stdout) if d]


@pytest.fixture(scope="module")
def renders() -> dict[str, list[dict]]:
    return {overlay: _build(overlay) for overlay in (V0, V1)}


def _find(docs: list[dict], kind: str, name: str) -> dict:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def _classes(overlay: str, rendered: list[dict], live: list[dict]) -> dict[str, list[str]]:
    report = drift.drift(overlay, rendered, live).report
    return {a.agent: [f.cls for f in a.findings] for a in report.agents}


# --- the table is true of kagent ----------------------------------------------------------------


def _schema_at(schema: dict, path: tuple[str, ...]) -> dict | None:
    node = schema
    for step in path:
        if step == EVERY:
            if node.get("type") != "array" or not isinstance(node.get("items"), dict):
                return None
            node = node["items"]
        else:
            node = (node.get("properties") or {}).get(step)
            if not isinstance(node, dict):
                return None
    return node


def test_every_path_of_the_table_is_a_field_of_the_kagent_crds():
    from krmfn.conformance.crds import load_crds

    dirs = [CRDS / name for name in CRD_SETS]
    if not all(d.is_dir() and any(d.glob("*.yaml")) for d in dirs):
        pytest.skip("vendor/kagent-crds is not filled (scripts/setup copies it from ../shared)")
    index = load_crds(*(str(d) for d in dirs))
    assert {KAGENT_V1ALPHA2, KAGENT_V1ALPHA3, KMCP_API_VERSION} <= set(BEHAVIOUR)
    missing = []
    for api_version, kinds in BEHAVIOUR.items():
        for kind, paths in kinds.items():
            schema = index.schema(api_version, kind)
            if schema is None:
                missing.append(f"{api_version} {kind}: no CRD")
                continue
            missing += [f"{api_version} {kind}: {'.'.join(path)}" for path in sorted(paths)
                        if _schema_at(schema, path) is None]
    assert missing == [], "not a field of kagent's CRD schema:\n" + "\n".join(missing)


# --- unknown versions fail closed, other groups gain nothing --------------------------------------


@pytest.mark.parametrize("group,version,kind", [
    (KAGENT_GROUP, "v1beta1", AGENT_KIND),  # a next kagent 0.x version
    (KAGENT_GROUP, "v1alpha1", AGENT_KIND),  # kagent's legacy version (kmcp's version string)
    (KAGENT_GROUP, "v1alpha2", MCPSERVER_KIND),  # kmcp's kind at kagent's version
    (KAGENT_V1_GROUP, "v1", AGENT_KIND),
    (KAGENT_V1_GROUP, "v1beta1", AGENTTEMPLATE_KIND),
])
def test_another_version_of_a_kagent_group_gets_every_path_of_the_group(group, version, kind):
    known = [kinds[kind] for api_version, kinds in BEHAVIOUR.items()
             if api_version.startswith(group + "/") and kind in kinds]
    assert known, f"the table names {kind} at no version of {group}"
    got = behaviour_fields(f"{group}/{version}", kind)
    assert got and all(paths <= got for paths in known)


@pytest.mark.parametrize("api_version,kind", [("example.com/v1", AGENT_KIND), ("v1", "ConfigMap"),
                                               (f"x.{KAGENT_GROUP}/v1alpha2", AGENT_KIND)])
def test_a_group_that_is_not_kagents_has_no_behaviour_fields(api_version, kind):
    assert behaviour_fields(api_version, kind) == frozenset()


def test_a_field_added_at_another_version_of_the_group_is_compared(renders):
    """The server may return another version than the render's; a behaviour field the render leaves
    out is kept whichever side has the version the table does not know."""
    rendered = _find(renders[V0], AGENT_KIND, "k8s-readonly")
    live = copy.deepcopy(rendered)
    tool = live["spec"]["declarative"]["tools"][0]["mcpServer"]
    assert "requireApproval" not in tool
    tool["requireApproval"] = ["k8s_get_pod_logs"]
    unknown = f"{KAGENT_GROUP}/v1beta1"
    for live_version, render_version in ((unknown, KAGENT_V1ALPHA2), (KAGENT_V1ALPHA2, unknown), (unknown, unknown)):
        live_side, render_side = {**live, "apiVersion": live_version}, {**rendered, "apiVersion": render_version}
        kept = drift.compared(live_side, render_side, drift.behaviour(live_side, render_side))
        assert kept["spec"]["declarative"]["tools"][0]["mcpServer"]["requireApproval"] == ["k8s_get_pod_logs"]
    foreign = {**live, "apiVersion": "example.com/v1"}
    kept = drift.compared(foreign, {**rendered, "apiVersion": "example.com/v1"},
                          drift.behaviour(foreign, {**rendered, "apiVersion": "example.com/v1"}))
    assert "requireApproval" not in kept["spec"]["declarative"]["tools"][0]["mcpServer"]


# --- drift through the table, both kagent versions ------------------------------------------------


@pytest.mark.parametrize("overlay,kind", [(V0, AGENT_KIND), (V1, AGENTTEMPLATE_KIND), (V1, AGENT_KIND)])
def test_every_table_path_the_render_leaves_out_is_kept_for_comparison(renders, overlay, kind):
    """Set, in a live copy, each table path the render leaves out (under every list element it
    names): drift keeps each for the comparison; a field beside them that is not in the table it drops."""
    rendered = next(d for d in renders[overlay] if d["kind"] == kind)
    table = behaviour_fields(rendered["apiVersion"], kind)
    live, planted = copy.deepcopy(rendered), []

    def plant(node, render_node, path, here):
        if not path:
            return
        step, rest = path[0], path[1:]
        if step == EVERY:
            if isinstance(node, list) and isinstance(render_node, list):
                for index, (item, render_item) in enumerate(zip(node, render_node)):
                    plant(item, render_item, rest, here + (index,))
            return
        if not isinstance(node, dict) or not isinstance(render_node, dict):
            return
        if step not in render_node:
            if not rest:
                node[step] = {"planted": ".".join(map(str, here + (step,)))}
                planted.append(here + (step,))
            return
        plant(node[step], render_node[step], rest, here + (step,))

    for path in sorted(table):
        plant(live, rendered, path, ())
    live["spec"]["notBehaviour"] = "added by someone else"
    assert planted, f"the render of {overlay} writes every {kind} path of the table"
    kept = drift.compared(live, rendered, drift.behaviour(live, rendered))
    for path in planted:
        node = kept
        for step in path:
            node = node[step]
        assert node == {"planted": ".".join(map(str, path))}, path
    assert "notBehaviour" not in kept["spec"]


def test_an_approval_added_in_the_cluster_is_drift_for_both_versions(renders):
    live = copy.deepcopy(renders[V0])
    tool = _find(live, AGENT_KIND, "k8s-readonly")["spec"]["declarative"]["tools"][0]["mcpServer"]
    assert "requireApproval" not in tool
    tool["requireApproval"] = ["k8s_get_pod_logs"]
    assert _classes(V0, renders[V0], live) == {"platform-agents/k8s-readonly": ["approval-added"]}

    live = copy.deepcopy(renders[V1])
    binding = _find(live, AGENTTEMPLATE_KIND, "k8s-readonly")["spec"]["tools"][0]["mcp"]
    assert "requireApproval" not in binding
    binding["requireApproval"] = True
    classes = _classes(V1, renders[V1], live)
    assert set(classes) == {"platform-agents/k8s-readonly"} and set(classes["platform-agents/k8s-readonly"]) == {
        "approval-added"}


def test_skills_added_in_the_cluster_are_drift_for_both_versions(renders):
    live = copy.deepcopy(renders[V0])
    assert "skills" not in _find(live, AGENT_KIND, "k8s-readonly")["spec"]
    _find(live, AGENT_KIND, "k8s-readonly")["spec"]["skills"] = {"refs": ["ghcr.io/example/skill:1"]}
    assert _classes(V0, renders[V0], live) == {"platform-agents/k8s-readonly": ["skills-changed"]}

    live = copy.deepcopy(renders[V1])
    assert "skills" not in _find(live, AGENTTEMPLATE_KIND, "k8s-readonly")["spec"]
    _find(live, AGENTTEMPLATE_KIND, "k8s-readonly")["spec"]["skills"] = [
        {"name": "triage", "source": {"oci": "ghcr.io/example/skill@sha256:" + "0" * 64}}]
    assert _classes(V1, renders[V1], live) == {"platform-agents/k8s-readonly": ["skills-changed"]}


def test_a_tool_bound_beside_a_sub_agent_in_the_cluster_is_drift(renders):
    """kagent 1.0: a sub-agent entry of the template turned into an MCP binding in the cluster is a
    grant (the binding is a behaviour field though the render's entry has none)."""
    live = copy.deepcopy(renders[V1])
    entry = _find(live, AGENTTEMPLATE_KIND, "supervisor")["spec"]["tools"][0]
    assert set(entry) == {"subAgent"}
    entry["mcp"] = {"server": {"kind": "RemoteMCPServer", "name": "kagent-tools"}, "tools": ["k8s_delete_resource"]}
    classes = _classes(V1, renders[V1], live)
    assert "tool-granted" in classes["platform-agents/supervisor"]


def test_an_inline_harness_added_in_the_cluster_is_drift(renders):
    live = copy.deepcopy(renders[V1])
    spec = _find(live, AGENT_KIND, "supervisor")["spec"]
    assert "harness" not in spec
    spec["harness"] = {"byo": {"image": "registry.example/other-agent:1"}}
    assert _classes(V1, renders[V1], live) == {"platform-agents/supervisor": ["config-changed"]}
