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
from ..reader import object_refs
from ..runtime.kobject import KObject, as_dict, as_list, as_str
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

    def template(obj: dict, body: dict, base: str, key: str | None) -> None:
        require(obj, "ModelConfig", as_dict(body.get("modelConfig")).get("name"), f"{base}.modelConfig.name")
        source = body.get("systemPromptFrom")
        if isinstance(source, dict):
            require(obj, "ConfigMap", source.get("name"), f"{base}.systemPromptFrom.name")
        if not body.get("systemPrompt") and not isinstance(source, dict):
            out.append(Result.about(obj, base, "no systemPrompt or systemPromptFrom", severity=ERROR,
                                    check="reference"))
        for i, tool in enumerate(as_list(body.get("tools"))):
            tool = as_dict(tool)
            path = f"{base}.tools[{i}]"
            if isinstance(tool.get("mcp"), dict):
                mcp = tool["mcp"]
                require(obj, "RemoteMCPServer", as_dict(mcp.get("server")).get("name"), f"{path}.mcp.server.name")
                if not as_list(mcp.get("tools")):
                    out.append(Result.about(obj, f"{path}.mcp.tools", "empty: kagent grants every tool of the "
                                            "server; name each tool", severity=ERROR, check="reference"))
            elif isinstance(tool.get("subAgent"), dict):
                target = as_str(as_dict(tool["subAgent"].get("templateRef")).get("name"))
                require(obj, AGENTTEMPLATE_KIND, target, f"{path}.subAgent.templateRef.name")
                if key is not None and target:
                    edge = f"{KObject(obj).namespace}/{target}"
                    if edge not in graph.setdefault(key, []):
                        graph[key].append(edge)
                        fields.setdefault((key, edge), (obj, f"{path}.subAgent.templateRef.name"))

    for (kind, ns, name), obj in sorted(index.items(), key=lambda kv: kv[0]):
        spec = KObject(obj).spec
        if kind == "Agent":
            if isinstance(spec.get("template"), dict):
                template(obj, spec["template"], "spec.template", None)
            elif "templateRef" in spec:
                require(obj, AGENTTEMPLATE_KIND, as_dict(spec.get("templateRef")).get("name"), "spec.templateRef.name")
            if "harnessRef" in spec:
                require(obj, HARNESS_KIND, as_dict(spec.get("harnessRef")).get("name"), "spec.harnessRef.name")
        elif kind == AGENTTEMPLATE_KIND:
            graph.setdefault(f"{ns}/{name}", [])
            template(obj, spec, "spec", f"{ns}/{name}")
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
