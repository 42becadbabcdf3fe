"""The kagent 1.0 (`api.kagent.dev/v1alpha3`) references the API server does not check.

Every reference is local to the referencing object's namespace:
- an Agent's `templateRef` names an AgentTemplate and its `harnessRef` a Harness (in the render,
  or declared external: `AgentTemplate/NS/NAME`, `Harness/NS/NAME`);
- an AgentTemplate's (or inline template's) `modelConfig.name` names a 1.0 ModelConfig,
  `tools[].mcp.server.name` a 1.0 RemoteMCPServer, `tools[].subAgent.templateRef` an AgentTemplate,
  `systemPromptFrom` a ConfigMap key; an MCP binding with no tools grants every tool (an error);
- sub-agent chains: no cycles, depth within kagent's limit (`krmfn.delegation`, linear);
- a ModelConfig's `apiKeySecret` and a RemoteMCPServer's `headersFrom` name Secrets/ConfigMaps.
"""

from __future__ import annotations

from typing import Any

from ..constants import AGENTTEMPLATE_KIND, HARNESS_KIND, KAGENT_V1ALPHA3, MAX_DELEGATION_DEPTH
from ..reader import AgentRead, object_refs, read_agent, read_template
from ..runtime.kobject import KObject
from ..runtime.results import ERROR, Result

_KINDS = ("Agent", AGENTTEMPLATE_KIND, HARNESS_KIND, "ModelConfig", "RemoteMCPServer")


def check(objs: list[dict], external: frozenset) -> list[Result]:
    index: dict[tuple[str, str, str], dict] = {}
    for obj in objs:
        ref = KObject(obj)
        if (ref.api_version == KAGENT_V1ALPHA3 and ref.kind in _KINDS) or (
                ref.api_version == "v1" and ref.kind in ("Secret", "ConfigMap")):
            index.setdefault((ref.kind, ref.namespace, ref.name), obj)
    out: list[Result] = []

    def exists(kind: str, ns: str, name: str) -> bool:
        return (kind, ns, name) in index or (kind, ns, name) in external or (kind, "*", name) in external

    def require(obj: dict, kind: str, name: Any, field: str) -> None:
        ns = KObject(obj).namespace
        if not isinstance(name, str) or not name:
            out.append(Result.about(obj, field, f"{kind} name is empty", severity=ERROR, check="reference"))
        elif not exists(kind, ns, name):
            out.append(Result.about(obj, field, f'{kind} "{name}" not found in namespace {ns}: kagent 1.0 '
                                    "references are namespace-local, and it is neither in the rendered output "
                                    "nor declared external", severity=ERROR, check="reference"))

    graph: dict[str, list[str]] = {}
    fields: dict[tuple[str, str], tuple[dict, str]] = {}

    def template(agent: AgentRead, key: str | None) -> None:
        obj = agent.obj
        require(obj, "ModelConfig", agent.model_config, agent.model_path)
        source = agent.system_prompt_from
        if source is not None:
            require(obj, "ConfigMap", source.name, f"{source.path}.name")
        if not agent.system_prompt and source is None:
            out.append(Result.about(obj, agent.base, "no systemPrompt or systemPromptFrom", severity=ERROR,
                                    check="reference"))
        for use in agent.tool_uses:
            require(obj, "RemoteMCPServer", use.name, use.name_path)
            if not use.listed:
                out.append(Result.about(obj, use.names_path, "empty: kagent grants every tool of the "
                                        "server; name each tool", severity=ERROR, check="reference"))
        for sub in agent.delegations:
            require(obj, AGENTTEMPLATE_KIND, sub.name, sub.name_path)
            if key is not None and sub.name:
                if sub.key not in graph.setdefault(key, []):
                    graph[key].append(sub.key)
                    fields.setdefault((key, sub.key), (obj, sub.name_path))

    for (kind, ns, name), obj in sorted(index.items(), key=lambda kv: kv[0]):
        if kind == "Agent":
            agent = read_agent(obj)
            if agent.base != "spec":  # an inline template
                template(agent, None)
            for ref in (agent.template_ref, agent.harness_ref):
                if ref is not None:
                    require(obj, ref.kind, ref.name, ref.path)
        elif kind == AGENTTEMPLATE_KIND:
            graph.setdefault(f"{ns}/{name}", [])
            template(read_template(obj), f"{ns}/{name}")
        elif kind in ("ModelConfig", "RemoteMCPServer"):
            for ref in object_refs(obj):  # the names only: keys are the 0.x check's
                require(obj, ref.kind, ref.name, ref.path)

    from .. import delegation

    graph = {k: [t for t in v if t in graph] for k, v in graph.items()}
    for cycle in delegation.cycles(graph):
        obj, field = fields[(cycle[0], cycle[1])]
        out.append(Result.about(obj, field, f"sub-agent cycle: {' -> '.join(cycle)} (kagent refuses cyclic "
                                "agent tool chains)", severity=ERROR, check="reference"))
    for key, hops, chain in delegation.too_deep(graph, MAX_DELEGATION_DEPTH):
        obj, field = fields[(key, chain[1])]
        out.append(Result.about(obj, field, f"sub-agent chain is {hops} levels deep, more than kagent's limit of "
                                f"{MAX_DELEGATION_DEPTH}: {' -> '.join(chain[:13])}", severity=ERROR,
                                check="reference"))
    return out
