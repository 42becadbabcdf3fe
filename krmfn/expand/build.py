"""Build kagent objects (through the typed models in `krmfn.kagent`) from parsed descriptions."""

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
from ..kagent import models as k

PROMPT_KEY = "system-message.md"
from ..constants import NAMESPACE_NAME_LABEL  # noqa: E402

# Annotations that describe where the description came from; they must not travel to outputs.
_LOCATION_PREFIXES = ("config.kubernetes.io/", "internal.config.kubernetes.io/", "config.k8s.io/",
                      "kustomize.config.k8s.io/", "kubectl.kubernetes.io/last-applied")


def labels_for(agent: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    labels = dict(extra or {})
    labels[LABEL_MANAGED_BY] = MANAGED_BY
    labels[LABEL_AGENT] = agent
    return labels


def carried_annotations(annotations: dict[str, str]) -> dict[str, str]:
    return {k_: v for k_, v in annotations.items() if not k_.startswith(_LOCATION_PREFIXES)}


def allowed_namespaces(namespaces: set[str] | list[str] | str | None) -> k.AllowedNamespaces | None:
    """Gateway-API style admission of other namespaces, by their kubernetes.io/metadata.name label."""
    if namespaces == "All":
        return k.AllowedNamespaces(**{"from": "All"})
    if not namespaces:
        return None
    return k.AllowedNamespaces(**{
        "from": "Selector",
        "selector": k.LabelSelector(matchExpressions=[k.LabelSelectorRequirement(
            key=NAMESPACE_NAME_LABEL, operator="In", values=sorted(namespaces))]),
    })


def agent(
    desc: AgentDescription,
    source: str,
    *,
    runtime: str,
    tools: list[k.Tool],
    system_message: str | None,
    system_message_config_map: str | None,
    prompt_digest: str | None,
    callers: set[str],
    tool_risks: dict[str, dict[str, str]] | None = None,
) -> dict[str, Any]:
    spec = desc.spec
    name, namespace = desc.metadata.name, desc.metadata.namespace
    annotations = carried_annotations(desc.metadata.annotations)
    annotations[ANNOTATION_SOURCE] = source
    if prompt_digest:
        annotations[ANNOTATION_PROMPT_DIGEST] = prompt_digest
    if tool_risks:
        import json

        annotations[ANNOTATION_TOOL_RISKS] = json.dumps(tool_risks, sort_keys=True, separators=(",", ":"))
    if spec.byo is None:
        annotations[ANNOTATION_MODEL_TIER] = spec.model
        if spec.memory is not None:
            annotations[ANNOTATION_MEMORY_TIER] = spec.memory.model
    meta = k.ObjectMeta(name=name, namespace=namespace, labels=labels_for(name, desc.metadata.labels),
                        annotations=annotations)
    if spec.byo is not None:
        byo = spec.byo
        deployment = k.ByoDeploymentSpec(
            image=byo.image, cmd=byo.cmd, args=byo.args or None, env=byo.env or None,
            replicas=byo.replicas, resources=byo.resources, imagePullPolicy=byo.image_pull_policy,
            imagePullSecrets=[k.LocalObjectReference(**s) for s in byo.image_pull_secrets] or None,
            serviceAccountName=byo.service_account_name,
        )
        agent_spec = k.AgentSpec(type="BYO", description=spec.description, byo=k.ByoAgentSpec(deployment=deployment),
                                 allowedNamespaces=allowed_namespaces(callers))
        return k.Agent(metadata=meta, spec=agent_spec).to_obj()

    memory = None
    if spec.memory is not None:
        memory = k.MemorySpec(modelConfig=model_config_name(spec.memory.model), ttlDays=spec.memory.ttl_days)
    skills = [
        k.AgentSkill(id=s.id, name=s.name, description=s.description, tags=s.tags or None,
                     examples=s.examples or None, inputModes=s.input_modes or None,
                     outputModes=s.output_modes or None)
        for s in spec.skills
    ]
    declarative = k.DeclarativeAgentSpec(
        runtime=runtime,
        systemMessage=system_message,
        systemMessageFrom=(k.ValueSource(type="ConfigMap", name=system_message_config_map, key=PROMPT_KEY)
                           if system_message_config_map else None),
        modelConfig=model_config_name(spec.model),
        stream=bool(spec.stream),
        tools=tools or None,
        a2aConfig=k.A2AConfig(skills=skills) if skills else None,
        memory=memory,
        deployment=k.DeclarativeDeploymentSpec.model_validate(spec.deployment) if spec.deployment else None,
    )
    agent_spec = k.AgentSpec(type="Declarative", description=spec.description, declarative=declarative,
                             allowedNamespaces=allowed_namespaces(callers))
    return k.Agent(metadata=meta, spec=agent_spec).to_obj()


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


def mcp_tool(kind: str, name: str, namespace: str | None, allow: list[str], approval: list[str]) -> k.Tool:
    return k.Tool(type="McpServer", mcpServer=k.McpServerTool(
        apiGroup=k.KAGENT_GROUP, kind=kind, name=name, namespace=namespace,
        toolNames=list(allow), requireApproval=list(approval) or None,
    ))


def agent_tool(name: str, namespace: str | None) -> k.Tool:
    return k.Tool(type="Agent", agent=k.TypedReference(apiGroup=k.KAGENT_GROUP, kind="Agent", name=name,
                                                      namespace=namespace))


def server(entry_name: str, namespace: str, spec: CatalogServer, source: str, users: set[str]) -> dict[str, Any]:
    """The RemoteMCPServer or kmcp MCPServer a catalog entry asks krmfn to create."""
    labels = {LABEL_MANAGED_BY: MANAGED_BY}
    meta = k.ObjectMeta(name=entry_name, namespace=namespace, labels=labels,
                        annotations={ANNOTATION_SOURCE: source})
    description = spec.description or f"{entry_name} tool server"
    if spec.remote is not None:
        remote = spec.remote
        allowed = spec.allowed_namespaces if spec.allowed_namespaces is not None else (users - {namespace})
        return k.RemoteMCPServer(metadata=meta, spec=k.RemoteMCPServerSpec(
            description=description, url=remote.url, protocol=remote.protocol, timeout=remote.timeout,
            sseReadTimeout=remote.sse_read_timeout, terminateOnClose=remote.terminate_on_close,
            headersFrom=[k.ValueRef.model_validate(h) for h in remote.headers_from] or None,
            allowedNamespaces=allowed_namespaces(allowed),
        )).to_obj()
    deploy = spec.mcp_server
    assert deploy is not None  # the catalog model guarantees one of remote / mcpServer / external
    transport: dict[str, Any] = {"transportType": deploy.transport}
    if deploy.transport == "stdio":
        transport["stdioTransport"] = k.StdioTransport()
    else:
        transport["httpTransport"] = k.HTTPTransport(targetPort=deploy.port, path=deploy.http_path)
    return k.MCPServer(metadata=meta, spec=k.MCPServerSpec(
        deployment=k.MCPServerDeployment(
            image=deploy.image, cmd=deploy.cmd, args=deploy.args or None, port=deploy.port,
            env=deploy.env or None,
            secretRefs=[k.LocalObjectReference(name=s) for s in deploy.secret_refs] or None,
        ),
        **transport,
    )).to_obj()
