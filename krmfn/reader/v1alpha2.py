"""The kagent 0.x Agent (`kagent.dev/v1alpha2`), read as kagent's controller reads it.

`tools[].mcpServer` resolves by (apiGroup, kind): empty or `MCPServer` is a kmcp MCPServer,
`RemoteMCPServer` a RemoteMCPServer, `Service` (group "" or "core") a Service; anything else kagent
refuses. Empty or missing `toolNames` grants every tool. `tools[].agent` names an Agent, in the
source's namespace unless it names another.
"""

from __future__ import annotations

from ..constants import KAGENT_GROUP
from ..runtime.kobject import KObject, as_dict, as_list, as_str, str_list
from . import AgentRead, Delegation, ModelRef, ModelUses, ToolUse

# (apiGroup, kind) of tools[].mcpServer -> the kind kagent resolves it to
MCP_KINDS = {
    ("", ""): "MCPServer",
    ("", "MCPServer"): "MCPServer",
    (KAGENT_GROUP, "MCPServer"): "MCPServer",
    ("", "RemoteMCPServer"): "RemoteMCPServer",
    (KAGENT_GROUP, "RemoteMCPServer"): "RemoteMCPServer",
    ("", "Service"): "Service",
    ("core", "Service"): "Service",
}
_ENTRY_KEYS = ("name", "namespace", "toolNames", "requireApproval")


def read_agent(ref: KObject, default_namespace: str = "") -> AgentRead:
    spec = ref.spec
    agent_type = as_str(spec.get("type")) or "Declarative"
    namespace = ref.namespace or default_namespace
    declarative = as_dict(spec.get("declarative")) if agent_type == "Declarative" else {}
    base = "spec.declarative"
    agent = AgentRead(ref.obj, ref.api_version, ref.name, namespace, agent_type, f"{base}.tools", body=declarative)
    agent.model_config = as_str(declarative.get("modelConfig"))
    agent.memory_model_config = as_str(as_dict(declarative.get("memory")).get("modelConfig"))
    for path, value in ((f"{base}.modelConfig", agent.model_config),
                        (f"{base}.memory.modelConfig", agent.memory_model_config)):
        if value:
            agent.models.append((path, value))
    for index, tool in enumerate(as_list(declarative.get("tools"))):
        tool = as_dict(tool)
        entry = f"{base}.tools[{index}]"
        written_type = tool.get("type")
        mcp, delegate = tool.get("mcpServer"), tool.get("agent")
        if isinstance(mcp, dict) and written_type in (None, "McpServer"):
            agent.tool_uses.append(_tool_use(f"{entry}.mcpServer", mcp, tool, namespace))
        elif isinstance(delegate, dict) and written_type in (None, "Agent"):
            path = f"{entry}.agent"
            target_namespace = as_str(delegate.get("namespace"))
            agent.delegations.append(Delegation(
                path=path, name_path=f"{path}.name",
                namespace_path=f"{path}.namespace" if target_namespace else f"{path}.name",
                name=as_str(delegate.get("name")), namespace=target_namespace or namespace,
                kind=as_str(delegate.get("kind")), api_group=as_str(delegate.get("apiGroup"))))
    return agent


def read_models(ref: KObject) -> ModelUses | None:
    """A Declarative Agent's main, memory and context-summarizer models; None for any other type."""
    spec = ref.spec
    declarative = spec.get("declarative")
    if spec.get("type", "Declarative") != "Declarative" or not isinstance(declarative, dict):
        return None
    base = ("spec", "declarative")
    memory = declarative.get("memory")
    summarizer = as_dict(as_dict(declarative.get("context")).get("compaction")).get("summarizer")
    return ModelUses(
        main=ModelRef(base + ("modelConfig",), as_str(declarative.get("modelConfig"))),
        memory=ModelRef(base + ("memory", "modelConfig"), as_str(memory.get("modelConfig")))
        if isinstance(memory, dict) else None,
        summarizer=ModelRef(base + ("context", "compaction", "summarizer", "modelConfig"),
                            as_str(summarizer.get("modelConfig"))) if isinstance(summarizer, dict) else None)


def _tool_use(path: str, mcp: dict, tool: dict, namespace: str) -> ToolUse:
    group, written_kind = as_str(mcp.get("apiGroup")), as_str(mcp.get("kind"))
    own_namespace = as_str(mcp.get("namespace"))
    listed = tuple(as_list(mcp.get("toolNames")))
    names = tuple(str_list(mcp.get("toolNames")))
    approvals = tuple(as_list(mcp.get("requireApproval")))
    settings = {k: v for k, v in mcp.items() if k not in _ENTRY_KEYS}
    settings.update({k: v for k, v in tool.items() if k not in ("type", "mcpServer")})
    return ToolUse(
        path=path, name_path=f"{path}.name",
        namespace_path=f"{path}.namespace" if own_namespace else f"{path}.name",
        names_path=f"{path}.toolNames", name=as_str(mcp.get("name")), namespace=own_namespace or namespace,
        kind=MCP_KINDS.get((group, written_kind), ""), written_kind=written_kind, api_group=group,
        tools=names or None, approvals=frozenset(str_list(mcp.get("requireApproval"))),
        listed=listed, approval_list=approvals, settings=settings)
