"""Build kagent objects as plain data (the dicts YAML is written from) from parsed descriptions.

Plain dicts, not models: the output path pays for nothing it does not need. What is emitted is
proven valid against the real kagent CRDs by tests/test_output_conformance.py. A field is left out
when it has no value, and written when the CRD has a default (so Git equals what the API server
stores); `runtime` and `stream` are always written.
"""

from __future__ import annotations

from typing import Any

from ..api.agent import AgentDescription
from ..api.catalog import CatalogServer
from ..api.common import (
    ANNOTATION_MEMORY_TIER,
    ANNOTATION_MODEL_TIER,
    ANNOTATION_PROMPT_DIGEST,
    ANNOTATION_SOURCE,
    ANNOTATION_TOOL_RISKS,
    LABEL_AGENT,
    LABEL_MANAGED_BY,
    MANAGED_BY,
    model_config_name,
)
from ..constants import (
    AGENT_API_VERSION,
    AGENT_KIND,
    ANNOTATION_EFFORT,
    ANNOTATION_SERVER_VERSION,
    KAGENT_GROUP,
    MCPSERVER_API_VERSION,
    MCPSERVER_KIND,
    REMOTEMCPSERVER_API_VERSION,
    REMOTEMCPSERVER_KIND,
)

PROMPT_KEY = "system-message.md"
from ..constants import BOOKKEEPING_ANNOTATION_PREFIXES, NAMESPACE_NAME_LABEL  # noqa: E402


def labels_for(agent: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    labels = dict(extra or {})
    labels[LABEL_MANAGED_BY] = MANAGED_BY
    labels[LABEL_AGENT] = agent
    return labels


def described_annotations(desc, source: str, prompt_digest: str | None,
                          tool_risks: dict[str, dict[str, str]]) -> dict[str, str]:
    """What every object rendered from a description says of it: its own annotations, where it came
    from, its prompt's digest and the risks of the tools it grants (for reviewers)."""
    annotations = carried_annotations(desc.metadata.annotations)
    annotations[ANNOTATION_SOURCE] = source
    if prompt_digest:
        annotations[ANNOTATION_PROMPT_DIGEST] = prompt_digest
    if tool_risks:
        import json

        annotations[ANNOTATION_TOOL_RISKS] = json.dumps(tool_risks, sort_keys=True, separators=(",", ":"))
    return annotations


def carried_annotations(annotations: dict[str, str]) -> dict[str, str]:
    return {k_: v for k_, v in annotations.items() if not k_.startswith(BOOKKEEPING_ANNOTATION_PREFIXES)}


def present(**fields: Any) -> dict[str, Any]:
    """The fields that have a value (None means absent), in the order given."""
    return {name: value for name, value in fields.items() if value is not None}


def _meta(name: str, namespace: str | None, labels: dict[str, str], annotations: dict[str, str]) -> dict[str, Any]:
    return present(name=name, namespace=namespace, labels=labels, annotations=annotations)


def _local_refs(refs: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """core/v1 LocalObjectReferences ({name})."""
    return [{"name": ref["name"]} for ref in refs] or None


def _deployment(values: dict[str, Any]) -> dict[str, Any]:
    """spec.deployment as validated (DeclarativeDeploymentSpec, an input schema): its unset fields dropped."""
    out = {name: value for name, value in values.items() if value is not None}
    if "imagePullSecrets" in out:
        out["imagePullSecrets"] = [{"name": ref["name"]} for ref in out["imagePullSecrets"]]
    if "serviceAccountConfig" in out:
        out["serviceAccountConfig"] = {n: v for n, v in out["serviceAccountConfig"].items() if v is not None}
    return out


def _value_ref(header: dict[str, Any]) -> dict[str, Any]:
    """A header (ValueRef): a literal value, or one taken from a ConfigMap/Secret key."""
    source = header.get("valueFrom")
    return present(name=header["name"], value=header.get("value"),
                   valueFrom=None if source is None else present(type=source.get("type"), name=source.get("name"),
                                                                 key=source.get("key")))


def allowed_namespaces(namespaces: set[str] | list[str] | str | None) -> dict[str, Any] | None:
    """Gateway-API style admission of other namespaces, by their kubernetes.io/metadata.name label."""
    if namespaces == "All":
        return {"from": "All"}
    if not namespaces:
        return None
    return {"from": "Selector", "selector": {"matchExpressions": [
        {"key": NAMESPACE_NAME_LABEL, "operator": "In", "values": sorted(namespaces)}]}}


def agent(
    desc: AgentDescription,
    source: str,
    *,
    runtime: str,
    tools: list[dict[str, Any]],
    system_message: str | None,
    system_message_config_map: str | None,
    prompt_digest: str | None,
    callers: set[str],
    tool_risks: dict[str, dict[str, str]] | None = None,
) -> dict[str, Any]:
    spec = desc.spec
    name, namespace = desc.metadata.name, desc.metadata.namespace
    annotations = described_annotations(desc, source, prompt_digest, tool_risks)
    if spec.byo is None:
        annotations[ANNOTATION_MODEL_TIER] = spec.model
        if spec.effort is not None:
            annotations[ANNOTATION_EFFORT] = spec.effort
        if spec.memory is not None:
            annotations[ANNOTATION_MEMORY_TIER] = spec.memory.model
    meta = _meta(name, namespace, labels_for(name, desc.metadata.labels), annotations)
    if spec.byo is not None:
        byo = spec.byo
        deployment = present(
            replicas=byo.replicas, resources=byo.resources, env=byo.env or None,
            imagePullPolicy=byo.image_pull_policy, imagePullSecrets=_local_refs(byo.image_pull_secrets),
            serviceAccountName=byo.service_account_name, image=byo.image, cmd=byo.cmd, args=byo.args or None,
        )
        agent_spec = present(type="BYO", description=spec.description, byo={"deployment": deployment},
                             allowedNamespaces=allowed_namespaces(callers))
        return {"apiVersion": AGENT_API_VERSION, "kind": AGENT_KIND, "metadata": meta, "spec": agent_spec}

    memory = None
    if spec.memory is not None:
        memory = present(modelConfig=model_config_name(spec.memory.model), ttlDays=spec.memory.ttl_days)
    skills = [
        present(id=s.id, name=s.name, description=s.description, tags=s.tags or None,
                examples=s.examples or None, inputModes=s.input_modes or None, outputModes=s.output_modes or None)
        for s in spec.skills
    ]
    declarative = present(
        runtime=runtime,
        systemMessage=system_message,
        systemMessageFrom=({"type": "ConfigMap", "name": system_message_config_map, "key": PROMPT_KEY}
                           if system_message_config_map else None),
        modelConfig=model_config_name(spec.model),
        stream=bool(spec.stream),
        tools=tools or None,
        a2aConfig={"skills": skills} if skills else None,
        memory=memory,
        deployment=_deployment(spec.deployment) if spec.deployment else None,
    )
    agent_spec = present(type="Declarative", description=spec.description, declarative=declarative,
                         allowedNamespaces=allowed_namespaces(callers))
    return {"apiVersion": AGENT_API_VERSION, "kind": AGENT_KIND, "metadata": meta, "spec": agent_spec}


def prompt_config_map(agent_name: str, namespace: str, text: str, digest: str, source: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"{agent_name}-prompt",
            "namespace": namespace,
            "labels": labels_for(agent_name),
            "annotations": {ANNOTATION_SOURCE: source, ANNOTATION_PROMPT_DIGEST: digest},
        },
        "data": {PROMPT_KEY: text},
    }


def mcp_tool(kind: str, name: str, namespace: str | None, allow: list[str], approval: list[str]) -> dict[str, Any]:
    return {"type": "McpServer", "mcpServer": present(
        apiGroup=KAGENT_GROUP, kind=kind, name=name, namespace=namespace,
        toolNames=list(allow), requireApproval=list(approval) or None,
    )}


def agent_tool(name: str, namespace: str | None) -> dict[str, Any]:
    return {"type": "Agent", "agent": present(apiGroup=KAGENT_GROUP, kind="Agent", name=name, namespace=namespace)}


def version_annotations(source: str, version: tuple | None) -> dict[str, str]:
    """A server object's annotations; a version's also say which version it is and every tool it
    offers (for reviewers: what a version change adds, removes or re-classifies)."""
    annotations = {ANNOTATION_SOURCE: source}
    if version is not None:
        import json

        family, release, tools = version
        annotations[ANNOTATION_SERVER_VERSION] = f"{family}@{release.version}"
        annotations[ANNOTATION_TOOL_RISKS] = json.dumps({family: tools}, sort_keys=True, separators=(",", ":"))
    return annotations


def catalog_field(kind: str, tail: list, version: int | None) -> list:
    """The inverse of `server` (and of build_v1.remote_server): where in a catalog's server entry
    the field at `spec.<tail>` of the object written from it came from (`version`: the index of
    the version in the entry's `versions` it was written for, whose URL or image is the version's)."""
    if version is not None and (tail[:1] == ["url"] or tail[:2] == ["deployment", "image"]):
        return ["versions", version, tail[-1]]
    if kind == MCPSERVER_KIND and tail[:1] == ["deployment"]:
        rest = tail[1:]
        if rest[:1] == ["secretRefs"] and len(rest) > 1:
            rest = rest[:2]  # a name list in the catalog, a list of {name} in kmcp
        return ["mcpServer", *rest]
    if kind == REMOTEMCPSERVER_KIND:
        return ["remote", *tail]
    return []


def server(entry_name: str, namespace: str, spec: CatalogServer, source: str, users: set[str],
           version: tuple | None = None) -> dict[str, Any]:
    """The RemoteMCPServer or kmcp MCPServer a catalog entry asks krmfn to create; `version`:
    (server key, its versions[] item, tool -> risk) when it is one version of a versioned server."""
    release = version[1] if version is not None else None
    meta = _meta(entry_name, namespace, {LABEL_MANAGED_BY: MANAGED_BY}, version_annotations(source, version))
    description = spec.description or f"{entry_name} tool server"
    if spec.remote is not None:
        remote = spec.remote
        allowed = spec.allowed_namespaces if spec.allowed_namespaces is not None else (users - {namespace})
        return {"apiVersion": REMOTEMCPSERVER_API_VERSION, "kind": REMOTEMCPSERVER_KIND, "metadata": meta,
                "spec": present(
                    description=description, url=(release and release.url) or remote.url, protocol=remote.protocol,
                    timeout=remote.timeout,
                    sseReadTimeout=remote.sse_read_timeout, terminateOnClose=remote.terminate_on_close,
                    headersFrom=[_value_ref(h) for h in remote.headers_from] or None,
                    allowedNamespaces=allowed_namespaces(allowed),
                )}
    deploy = spec.mcp_server
    assert deploy is not None  # the catalog model guarantees one of remote / mcpServer / external
    transport: dict[str, Any] = {"transportType": deploy.transport}
    if deploy.transport == "stdio":
        transport["stdioTransport"] = {}
    else:
        transport["httpTransport"] = present(targetPort=deploy.port, path=deploy.http_path)
    deployment = present(
        image=(release and release.image) or deploy.image, cmd=deploy.cmd, args=deploy.args or None, port=deploy.port,
        replicas=1,  # the CRD default, written so Git equals what the API server stores
        env=deploy.env or None, secretRefs=[{"name": s} for s in deploy.secret_refs] or None,
    )
    return {"apiVersion": MCPSERVER_API_VERSION, "kind": MCPSERVER_KIND, "metadata": meta,
            "spec": {"deployment": deployment, **transport, "timeout": "30s"}}
