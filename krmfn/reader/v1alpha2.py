"""The kagent 0.x Agent (`kagent.dev/v1alpha2`), read as kagent's controller reads it.

`tools[].mcpServer` resolves by (apiGroup, kind): empty or `MCPServer` is a kmcp MCPServer,
`RemoteMCPServer` a RemoteMCPServer, `Service` (group "" or "core") a Service; anything else kagent
refuses. Empty or missing `toolNames` grants every tool. `tools[].agent` names an Agent, in the
source's namespace unless it names another.
"""

from __future__ import annotations

from ..constants import KAGENT_GROUP
from ..runtime.kobject import KObject, as_dict, as_list, as_str, str_list
from . import AgentRead, Delegation, ModelRef, ModelUses, PromptSource, ToolUse
from .refs import ObjectRef, container_refs, data_source, headers_refs, keyed, named, pod_refs, value_source

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
# what the reader reads into its own fields; every other key is a setting
_READ_SPEC = ("type", "description", "declarative", "skills", "byo")
# what a field is to the agent (`AgentRead.locate`); the longest prefix decides
ROLES = {"spec.declarative.modelConfig": "model", "spec.declarative.systemMessage": "prompt",
         "spec.declarative.systemMessageFrom": "prompt", "spec.declarative.promptTemplate": "prompt",
         "spec.declarative.a2aConfig": "skills", "spec.declarative.a2aConfig.skills": "skills", "spec.skills": "skills"}
_READ_DECLARATIVE = ("systemMessage", "systemMessageFrom", "promptTemplate", "modelConfig", "tools", "a2aConfig",
                     "deployment")


def read_agent(ref: KObject, default_namespace: str = "") -> AgentRead:
    spec = ref.spec
    agent_type = as_str(spec.get("type")) or "Declarative"
    namespace = ref.namespace or default_namespace
    declarative = as_dict(spec.get("declarative")) if agent_type == "Declarative" else {}
    base = "spec.declarative"
    agent = AgentRead(ref.obj, ref.api_version, ref.name, namespace, agent_type, f"{base}.tools", body=declarative,
                      base=base, model_path=f"{base}.modelConfig", roles=ROLES, prompt_path=f"{base}.systemMessage")
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
                kind=as_str(delegate.get("kind")), api_group=as_str(delegate.get("apiGroup")), kind_path=f"{path}.kind"))
    _read_rest(agent, spec, declarative, base)
    return agent


def _read_rest(agent: AgentRead, spec: dict, declarative: dict, base: str) -> None:
    """Description, prompt sources, skills, deployment and every other setting."""
    agent.description = spec.get("description")
    if isinstance(declarative.get("systemMessage"), str):
        agent.system_prompt = declarative["systemMessage"]
    if isinstance(declarative.get("systemMessageFrom"), dict):
        ref = declarative["systemMessageFrom"]
        agent.system_prompt_from = PromptSource(f"{base}.systemMessageFrom", as_str(ref.get("type")) or "ConfigMap",
                                                as_str(ref.get("name")), as_str(ref.get("key")))
    for index, source in enumerate(as_list(as_dict(declarative.get("promptTemplate")).get("dataSources"))):
        source = as_dict(source)
        name = as_str(source.get("name"))
        agent.prompt_sources.append(PromptSource(f"{base}.promptTemplate.dataSources[{index}]",
                                                 as_str(source.get("kind")) or "ConfigMap", name,
                                                 alias=as_str(source.get("alias")) or name))
    for index, skill in enumerate(as_list(as_dict(declarative.get("a2aConfig")).get("skills"))):
        skill = as_dict(skill)
        agent.skills[f"skill {skill.get('id') or skill.get('name') or index}"] = skill
    bundles = as_dict(spec.get("skills"))
    for ref in as_list(bundles.get("refs")):
        agent.skills[f"bundle {ref}"] = ref
    for repo in as_list(bundles.get("gitRefs")):
        repo = as_dict(repo)
        agent.skills[f"bundle {repo.get('url')}#{repo.get('path') or ''}@{repo.get('ref') or 'main'}"] = repo
    for ref in as_list(bundles.get("s3Refs")):
        agent.skills[f"bundle {as_dict(ref).get('uri')}"] = ref
    byo = as_dict(spec.get("byo"))
    if agent.type == "BYO":
        agent.deployment, agent.deployment_path = as_dict(byo.get("deployment")), "spec.byo.deployment"
    else:
        agent.deployment, agent.deployment_path = as_dict(declarative.get("deployment")), f"{base}.deployment"
    settings = agent.settings
    settings.update((f"spec.{k}", v) for k, v in spec.items() if k not in _READ_SPEC)
    settings.update((f"{base}.{k}", v) for k, v in declarative.items() if k not in _READ_DECLARATIVE)
    settings.update((f"spec.byo.{k}", v) for k, v in byo.items() if k != "deployment")


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
        names_path=f"{path}.toolNames", approvals_path=f"{path}.requireApproval", server_path=path,
        name=as_str(mcp.get("name")), namespace=own_namespace or namespace,
        kind=MCP_KINDS.get((group, written_kind), ""), written_kind=written_kind, api_group=group,
        tools=names or None, approvals=frozenset(str_list(mcp.get("requireApproval"))),
        listed=listed, approval_list=approvals, settings=settings)


def object_refs(ref: KObject) -> list[ObjectRef]:
    """The Secrets and ConfigMaps a kagent 0.x object (Agent, ModelConfig, RemoteMCPServer, kmcp
    MCPServer) names, as kagent's controller resolves them."""
    spec = ref.spec
    if ref.kind == "Agent":
        return _agent_refs(ref, spec)
    if ref.kind == "ModelConfig":
        out = []
        if spec.get("apiKeySecret"):
            out.append(ObjectRef("Secret", spec.get("apiKeySecret"), "spec.apiKeySecret",
                                 spec.get("apiKeySecretKey"), "spec.apiKeySecretKey"))
        out += _tls_refs(spec)
        endpoint = as_dict(spec.get("foundry")).get("endpointFrom")
        if isinstance(endpoint, dict):
            out.append(keyed("ConfigMap", endpoint, "spec.foundry.endpointFrom"))
        return out
    if ref.kind == "RemoteMCPServer":
        return headers_refs(spec, "spec") + _tls_refs(spec)
    if ref.kind == "MCPServer":
        deployment = as_dict(spec.get("deployment"))
        out = [named(kind, as_dict(item).get("name"), f"spec.deployment.{key}[{i}].name")
               for key, kind in (("secretRefs", "Secret"), ("configMapRefs", "ConfigMap"))
               for i, item in enumerate(as_list(deployment.get(key)))]
        out += pod_refs(deployment, "spec.deployment")
        tls = as_dict(as_dict(spec.get("httpTransport")).get("tls"))
        if tls.get("secretRef"):
            out.append(named("Secret", tls.get("secretRef"), "spec.httpTransport.tls.secretRef"))
        return out
    return []


def _agent_refs(ref: KObject, spec: dict) -> list[ObjectRef]:
    out: list[ObjectRef] = []
    skills = as_dict(spec.get("skills"))
    if skills.get("gitAuthSecretRef") is not None:
        out.append(named("Secret", as_dict(skills.get("gitAuthSecretRef")).get("name"),
                         "spec.skills.gitAuthSecretRef.name"))
    out += [named("Secret", as_dict(s).get("name"), f"spec.skills.imagePullSecrets[{i}].name")
            for i, s in enumerate(as_list(skills.get("imagePullSecrets")))]
    out += container_refs(skills.get("initContainer"), "spec.skills.initContainer")
    agent_type = spec.get("type", "Declarative")
    if agent_type == "BYO":
        return out + pod_refs(as_dict(spec.get("byo")).get("deployment"), "spec.byo.deployment")
    declarative = spec.get("declarative")
    if agent_type != "Declarative" or not isinstance(declarative, dict):
        return out
    base = "spec.declarative"
    if declarative.get("systemMessageFrom") is not None:
        out += value_source(declarative.get("systemMessageFrom"), f"{base}.systemMessageFrom")
    out += [data_source(source, f"{base}.promptTemplate.dataSources[{i}]")
            for i, source in enumerate(as_list(as_dict(declarative.get("promptTemplate")).get("dataSources")))]
    for use in read_agent(ref).tool_uses:
        out += headers_refs(use.settings, use.path.rsplit(".", 1)[0])
    return out + pod_refs(declarative.get("deployment"), f"{base}.deployment")


def _tls_refs(spec: dict) -> list[ObjectRef]:
    tls = as_dict(spec.get("tls"))
    if not tls.get("caCertSecretRef"):
        return []
    return [ObjectRef("Secret", tls.get("caCertSecretRef"), "spec.tls.caCertSecretRef",
                      tls.get("caCertSecretKey"), "spec.tls.caCertSecretKey")]
