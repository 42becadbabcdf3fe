"""Every render, server-side applied to a real kube-apiserver (k8s.io/kubernetes 1.37, embedded etcd)
carrying each supported kagent CRD set: the server accepts it, stores exactly what was rendered
(no defaulting or pruning, so Argo CD would show no drift), and a second apply is a no-op.

Each server gets the renders for its own kagent version: the example overlays with every
ModelEnvironment's kagentVersion set to the server's (v0.10's CRDs default fields that krmfn then
writes out for v0.10; the example's prod declares v0.10.0-rc3 itself).
"""

from __future__ import annotations

import json

import pytest

from cluster_tools import DEFAULT_KAGENT_VERSION, SUPPORTED_SETS, TARGETS, api_server, install_crds, render
from krmfn.runtime import yamlio

pytestmark = pytest.mark.cluster

FIELD_MANAGER = "krmfn"
# Metadata the API server writes on every object; none of it is rendered.
SERVER_METADATA = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields")
# What the API server adds to a Namespace, which Argo CD does not diff (not in the desired object).
NAMESPACE_ADDITIONS = {"spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}


@pytest.fixture(scope="module", params=SUPPORTED_SETS)
def server(request, tmp_path_factory):
    with api_server(tmp_path_factory.mktemp(f"apiserver-{request.param}")) as srv:
        install_crds(srv, request.param)
        srv.crd_set = request.param
        yield srv


@pytest.fixture(scope="module")
def renders(server, tmp_path_factory) -> dict[str, list[dict]]:
    version = server.crd_set  # the example's environments declare their own kagent; each server gets its own
    tmp = tmp_path_factory.mktemp("renders")
    return {target: yamlio.load_all(render(target, version, tmp)) for target in TARGETS}


def _ref(obj: dict) -> str:
    meta = obj["metadata"]
    kind = obj["kind"].lower()
    group = obj["apiVersion"].rpartition("/")[0]
    resource = f"{kind}.{group}" if group else kind
    return f"{resource}/{meta['name']}" + (f" -n {meta['namespace']}" if meta.get("namespace") else "")


def _get(srv, obj: dict) -> dict:
    meta = obj["metadata"]
    kind = obj["kind"].lower()
    group = obj["apiVersion"].rpartition("/")[0]
    args = [f"{kind}.{obj['apiVersion'].rpartition('/')[2]}.{group}" if group else kind, meta["name"]]
    if meta.get("namespace"):
        args += ["-n", meta["namespace"]]
    return srv.get_json(*args)


def _stored_view(stored: dict) -> dict:
    """The stored object less what the server writes itself."""
    view = json.loads(json.dumps(stored))
    for key in SERVER_METADATA:
        view["metadata"].pop(key, None)
    if view["kind"] == "Namespace":
        labels = view["metadata"].get("labels", {})
        if labels.get("kubernetes.io/metadata.name") == view["metadata"]["name"]:
            del labels["kubernetes.io/metadata.name"]  # the API server's own label on every Namespace
            if not labels:
                del view["metadata"]["labels"]
        for key, value in NAMESPACE_ADDITIONS.items():
            if view.get(key) == value:
                del view[key]
    return view


def _apply(srv, target: str, docs: list[dict], tmp_path) -> None:
    path = tmp_path / (target.replace("/", "-") + ".yaml")
    path.write_text(yamlio.dump_all(docs))
    srv.kubectl("apply", "--server-side", f"--field-manager={FIELD_MANAGER}", "-f", str(path))


def _delete_kagent_objects(srv, docs: list[dict], tmp_path) -> None:
    # Namespaces stay: without kube-controller-manager a deleted Namespace never finishes terminating.
    kagent = [d for d in docs if d["kind"] != "Namespace"]
    path = tmp_path / "delete.yaml"
    path.write_text(yamlio.dump_all(kagent))
    srv.kubectl("delete", "--wait=true", "--timeout=60s", "-f", str(path))


@pytest.mark.parametrize("target", TARGETS)
def test_server_stores_exactly_the_render_and_reapply_is_a_no_op(server, renders, target, tmp_path):
    docs = renders[target]
    assert any(d["kind"] == "Agent" for d in docs)
    if server.crd_set != DEFAULT_KAGENT_VERSION:
        assert any(d["kind"] == "ModelConfig" and "apiFormat" in d["spec"].get("openAI", {}) for d in docs) \
            or target != "overlays/staging", "the v0.10 render should carry v0.10's defaults"
    _apply(server, target, docs, tmp_path)
    try:
        first = {_ref(d): _get(server, d) for d in docs}
        drift = {}
        for d in docs:
            view = _stored_view(first[_ref(d)])
            if view != d:
                drift[_ref(d)] = {"rendered": d, "stored": view}
        assert drift == {}, f"{server.crd_set} {target}: stored differs from render:\n" + \
            json.dumps(drift, indent=1, sort_keys=True)[:6000]

        _apply(server, target, docs, tmp_path)
        second = {_ref(d): _get(server, d) for d in docs}
        changed = [ref for ref in first
                   if first[ref]["metadata"]["resourceVersion"] != second[ref]["metadata"]["resourceVersion"]]
        assert changed == [], f"a second apply changed {changed}"
    finally:
        _delete_kagent_objects(server, docs, tmp_path)


def test_the_server_rejects_what_its_crds_forbid(server, tmp_path):
    """The check above can fail: the same server refuses an Agent that breaks a CEL rule."""
    bad = {"apiVersion": "kagent.dev/v1alpha2", "kind": "Agent",
           "metadata": {"name": "broken", "namespace": "default"},
           "spec": {"type": "Declarative", "description": "d",
                    "declarative": {"modelConfig": "m", "systemMessage": "s", "tools": [{"type": "McpServer"}]}}}
    path = tmp_path / "bad.yaml"
    path.write_text(yamlio.dump_all([bad]))
    proc = server.kubectl("apply", "--server-side", "-f", str(path), check=False)
    assert proc.returncode != 0
    assert "type.mcpServer must be specified for McpServer filter.type" in proc.stderr.decode()
