"""The kagent 1.0 Agent (`api.kagent.dev/v1alpha3`): its uses are its AgentTemplate's.

An Agent pairs a template (`spec.template` inline, or `spec.templateRef` naming an AgentTemplate in
the Agent's namespace) with a Harness. Every reference is local to the namespace. `tools[].mcp`
names a RemoteMCPServer (the CRD allows no other kind); an empty `tools` list grants every tool;
`requireApproval` is one boolean for the whole binding. `tools[].subAgent.templateRef` names the
AgentTemplate of a sub-agent. An unresolved templateRef reads as an agent without tools, and
`AgentRead.unresolved` says so (the reference check reports it; the policy cannot judge it).
"""

from __future__ import annotations

from ..runtime.kobject import KObject, as_dict, as_list, as_str, str_list
from . import AgentRead, Delegation, ModelRef, ModelUses, ToolUse


def read_agent(ref: KObject, default_namespace: str = "", templates: dict | None = None) -> AgentRead:
    spec = ref.spec
    namespace = ref.namespace or default_namespace
    template_obj = None
    if isinstance(spec.get("template"), dict):
        body, base = as_dict(spec.get("template")), "spec.template"
    else:
        template_name = as_str(as_dict(spec.get("templateRef")).get("name"))
        template_obj = (templates or {}).get((namespace, template_name))
        body, base = as_dict(KObject(template_obj).spec) if template_obj is not None else {}, "spec"
    agent = AgentRead(ref.obj, ref.api_version, ref.name, namespace, "Declarative", f"{base}.tools", body=body)
    agent.template = template_obj
    if template_obj is None and base == "spec":
        agent.unresolved = f"AgentTemplate {namespace}/{as_str(as_dict(spec.get('templateRef')).get('name'))}"
    agent.model_config = as_str(as_dict(body.get("modelConfig")).get("name"))
    if agent.model_config:
        agent.models.append((f"{base}.modelConfig.name", agent.model_config))
    for index, tool in enumerate(as_list(body.get("tools"))):
        tool = as_dict(tool)
        entry = f"{base}.tools[{index}]"
        mcp, sub = tool.get("mcp"), tool.get("subAgent")
        if isinstance(mcp, dict):
            agent.tool_uses.append(_tool_use(f"{entry}.mcp", mcp, namespace))
        elif isinstance(sub, dict):
            path = f"{entry}.subAgent"
            agent.delegations.append(Delegation(
                path=path, name_path=f"{path}.templateRef.name", namespace_path=f"{path}.templateRef.name",
                name=as_str(as_dict(sub.get("templateRef")).get("name")), namespace=namespace,
                kind="AgentTemplate", api_group=""))
    return agent


def read_template_models(ref: KObject) -> ModelUses:
    """An AgentTemplate's model (`spec.modelConfig.name`); memory and summarizer are the Harness's."""
    return ModelUses(main=ModelRef(("spec", "modelConfig", "name"),
                                   as_str(as_dict(ref.spec.get("modelConfig")).get("name"))))


def _tool_use(path: str, mcp: dict, namespace: str) -> ToolUse:
    server = as_dict(mcp.get("server"))
    group, written_kind = as_str(server.get("apiGroup")), as_str(server.get("kind"))
    listed = tuple(as_list(mcp.get("tools")))
    names = tuple(str_list(mcp.get("tools")))
    approved = mcp.get("requireApproval") is True
    settings = {k: v for k, v in mcp.items() if k not in ("server", "tools", "requireApproval")}
    return ToolUse(
        path=path, name_path=f"{path}.server.name", namespace_path=f"{path}.server.name",
        names_path=f"{path}.tools", name=as_str(server.get("name")), namespace=namespace,
        kind="RemoteMCPServer" if written_kind == "RemoteMCPServer" and not group else "",
        written_kind=written_kind, api_group=group, tools=names or None,
        approvals=frozenset(names) if approved else frozenset(), listed=listed,
        approval_list=tuple(names) if approved else (), settings=settings)
