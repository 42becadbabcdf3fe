"""Build kagent 1.0 objects (`api.kagent.dev/v1alpha3`) as plain data from parsed descriptions.

Per description an AgentTemplate (what the agent does: model, prompt, tools, sub-agents) and an
Agent pairing it with a Harness (how it may run). The Harness is the platform team's: expand
leaves `spec.harnessRef` to the environment function, which names it from the ModelEnvironment.
The 0.10 field beside each 1.0 field is the table in functions/expand/README.md.
"""

from __future__ import annotations

from typing import Any

from ..api.agent import AgentDescription
from ..api.catalog import CatalogServer
from ..api.common import model_config_name
from ..constants import (
    AGENT_KIND,
    AGENTTEMPLATE_KIND,
    ANNOTATION_CATALOG_SERVER,
    ANNOTATION_EFFORT,
    ANNOTATION_MODEL_TIER,
    ANNOTATION_SOURCE,
    KAGENT_V1ALPHA3,
    LABEL_MANAGED_BY,
    MANAGED_BY,
    REMOTEMCPSERVER_KIND,
)
from .build import (PROMPT_KEY, _value_ref, carried_annotations, described_annotations, labels_for, present,
                    version_annotations)


def _meta(desc: AgentDescription, annotations: dict[str, str]) -> dict[str, Any]:
    name = desc.metadata.name
    return present(name=name, namespace=desc.metadata.namespace, labels=labels_for(name, desc.metadata.labels),
                   annotations=annotations)


def agent_template(desc: AgentDescription, source: str, *, tools: list[dict[str, Any]],
                   system_prompt: str | None, system_prompt_config_map: str | None,
                   prompt_digest: str | None, tool_risks: dict[str, dict[str, str]]) -> dict[str, Any]:
    annotations = described_annotations(desc, source, prompt_digest, tool_risks)
    annotations[ANNOTATION_MODEL_TIER] = desc.spec.model
    if desc.spec.effort is not None:
        annotations[ANNOTATION_EFFORT] = desc.spec.effort
    spec = present(
        description=desc.spec.description,
        modelConfig={"name": model_config_name(desc.spec.model)},
        systemPrompt=system_prompt,
        systemPromptFrom=({"name": system_prompt_config_map, "key": PROMPT_KEY}
                          if system_prompt_config_map else None),
        tools=tools or None,
    )
    return {"apiVersion": KAGENT_V1ALPHA3, "kind": AGENTTEMPLATE_KIND, "metadata": _meta(desc, annotations),
            "spec": spec}


def agent(desc: AgentDescription, source: str) -> dict[str, Any]:
    """The Agent: its template by name; `spec.harnessRef` is the environment's to set."""
    annotations = carried_annotations(desc.metadata.annotations)
    annotations[ANNOTATION_SOURCE] = source
    return {"apiVersion": KAGENT_V1ALPHA3, "kind": AGENT_KIND, "metadata": _meta(desc, annotations),
            "spec": {"templateRef": {"name": desc.metadata.name}}}


def mcp_tools(server: str, allow: list[str], approval: list[str]) -> list[dict[str, Any]]:
    """1.0 approvals are one boolean per binding: a subset approved is two bindings."""
    ref = {"kind": REMOTEMCPSERVER_KIND, "name": server}
    approved = [t for t in allow if t in approval]
    free = [t for t in allow if t not in approval]
    out = []
    if free:
        out.append({"mcp": {"server": dict(ref), "tools": free}})
    if approved:
        out.append({"mcp": {"server": dict(ref), "tools": approved, "requireApproval": True}})
    return out


def sub_agent(name: str, description: str) -> dict[str, Any]:
    return {"subAgent": {"name": name, "description": description, "templateRef": {"name": name}}}


def remote_server(name: str, namespace: str, spec: CatalogServer, source: str,
                  stands_for: str | None = None, version: tuple | None = None) -> dict[str, Any]:
    """A catalog server's RemoteMCPServer in `namespace`; `stands_for`: the catalog server it copies;
    `version`: as for build.server (a version's URL, under a name of its own: immutable per version)."""
    annotations = version_annotations(source, version)
    if stands_for:
        annotations[ANNOTATION_CATALOG_SERVER] = stands_for
    remote = spec.remote
    assert remote is not None  # expand refuses the others for 1.0
    return {"apiVersion": KAGENT_V1ALPHA3, "kind": REMOTEMCPSERVER_KIND,
            "metadata": {"name": name, "namespace": namespace, "labels": {LABEL_MANAGED_BY: MANAGED_BY},
                         "annotations": annotations},
            "spec": present(
                description=spec.description or f"{name} tool server",
                url=(version[1].url if version is not None and version[1].url else None) or remote.url,
                protocol=remote.protocol,
                timeout=remote.timeout, sseReadTimeout=remote.sse_read_timeout,
                terminateOnClose=remote.terminate_on_close,
                headersFrom=[_value_ref(h) for h in remote.headers_from] or None)}


def header_sources(spec: CatalogServer) -> list[tuple[int, str, str]]:
    """(index, kind, name) of each Secret or ConfigMap a server's headersFrom reads: 1.0 has no
    namespace field there, so every copy reads them in its own namespace."""
    out = []
    for index, header in enumerate(spec.remote.headers_from if spec.remote is not None else ()):
        source = header.get("valueFrom") if isinstance(header, dict) else None
        if isinstance(source, dict) and source.get("type") in ("Secret", "ConfigMap") and source.get("name"):
            out.append((index, str(source["type"]), str(source["name"])))
    return out
