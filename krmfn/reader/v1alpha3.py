"""The kagent 1.0 Agent (`api.kagent.dev/v1alpha3`): its uses are its AgentTemplate's.

An Agent pairs a template (`spec.template` inline, or `spec.templateRef` naming an AgentTemplate in
the Agent's namespace) with a Harness. Every reference is local to the namespace. `tools[].mcp`
names a RemoteMCPServer (the CRD allows no other kind); an empty `tools` list grants every tool;
`requireApproval` is one boolean for the whole binding. `tools[].subAgent.templateRef` names the
AgentTemplate of a sub-agent. An unresolved templateRef reads as an agent without tools, and
`AgentRead.unresolved` says so (the reference check reports it; the policy cannot judge it).
"""

from __future__ import annotations

from ..constants import AGENTTEMPLATE_KIND, HARNESS_KIND
from ..runtime.kobject import KObject, as_dict, as_list, as_str, dig, str_list
from . import AgentRead, Delegation, ModelRef, ModelUses, PromptSource, ToolUse
from .refs import ObjectRef, headers_refs, named, value_source

# what the reader reads into its own fields; every other key is a setting
_READ_AGENT = ("template", "templateRef", "harnessRef")  # an inline harness is a setting too
HARNESS_REF = ("spec", "harnessRef", "name")  # where an Agent names its Harness (the environment writes it)
HARNESS_REF_PATH = ".".join(HARNESS_REF)
# what a template body's field is to the agent (`AgentRead.locate`), below the body
_ROLES = {"modelConfig": "model", "systemPrompt": "prompt", "systemPromptFrom": "prompt", "promptTemplate": "prompt",
          "skills": "skills"}
_READ_TEMPLATE = ("description", "modelConfig", "systemPrompt", "systemPromptFrom", "promptTemplate", "tools",
                  "skills")


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
    agent = _read_body(ref, namespace, body, base)
    agent.template = template_obj
    if template_obj is None and base == "spec":
        agent.unresolved = f"AgentTemplate {namespace}/{as_str(as_dict(spec.get('templateRef')).get('name'))}"
    if base == "spec" and "templateRef" in spec:
        agent.template_ref = named(AGENTTEMPLATE_KIND, as_dict(spec.get("templateRef")).get("name"),
                                   "spec.templateRef.name")
    if HARNESS_REF[1] in spec:
        agent.harness_ref = named(HARNESS_KIND, dig(ref.obj, *HARNESS_REF), HARNESS_REF_PATH)
    _read_rest(agent, spec, body, base)
    return agent


def read_template(ref: KObject, default_namespace: str = "") -> AgentRead:
    """An AgentTemplate on its own: the agent its Agents run, without a Harness."""
    agent = _read_body(ref, ref.namespace or default_namespace, ref.spec, "spec")
    agent.template = ref.obj
    _read_rest(agent, {}, ref.spec, "spec")
    return agent


def _read_body(ref: KObject, namespace: str, body: dict, base: str) -> AgentRead:
    """The model, tool and sub-agent uses of a template body (an AgentTemplate's spec, or inline)."""
    agent = AgentRead(ref.obj, ref.api_version, ref.name, namespace, "Declarative", f"{base}.tools", body=body,
                      base=base, model_path=f"{base}.modelConfig.name",
                      roles={f"{base}.{key}": role for key, role in _ROLES.items()}, prompt_path=f"{base}.systemPrompt")
    agent.model_config = as_str(as_dict(body.get("modelConfig")).get("name"))
    if agent.model_config:
        agent.models.append((agent.model_path, agent.model_config))
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
                kind=AGENTTEMPLATE_KIND, api_group=""))
    return agent


def _read_rest(agent: AgentRead, spec: dict, body: dict, base: str) -> None:
    """Harness, description, prompt sources, skills and every other setting (1.0 has no per-agent
    deployment: replicas and resources are the Harness's)."""
    agent.harness = as_str(as_dict(spec.get("harnessRef")).get("name")) or (
        "(inline)" if isinstance(spec.get("harness"), dict) else "")
    agent.description = body.get("description")
    if isinstance(body.get("systemPrompt"), str):
        agent.system_prompt = body["systemPrompt"]
    if isinstance(body.get("systemPromptFrom"), dict):
        ref = body["systemPromptFrom"]
        agent.system_prompt_from = PromptSource(f"{base}.systemPromptFrom", "ConfigMap", as_str(ref.get("name")),
                                                as_str(ref.get("key")))
    for index, source in enumerate(as_list(as_dict(body.get("promptTemplate")).get("dataSources"))):
        source = as_dict(source)
        name = as_str(source.get("name"))
        agent.prompt_sources.append(PromptSource(f"{base}.promptTemplate.dataSources[{index}]", "ConfigMap", name,
                                                 alias=as_str(source.get("alias")) or name))
    for index, skill in enumerate(as_list(body.get("skills"))):  # immutable sources (digest, commit, version)
        skill = as_dict(skill)
        agent.skills[f"bundle {skill.get('name') or index}"] = skill
    agent.settings.update((f"spec.{k}", v) for k, v in spec.items() if k not in _READ_AGENT)
    agent.settings.update((f"{base}.{k}", v) for k, v in body.items() if k not in _READ_TEMPLATE)


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
        names_path=f"{path}.tools", approvals_path=f"{path}.requireApproval", server_path=f"{path}.server",
        name=as_str(server.get("name")), namespace=namespace,
        kind="RemoteMCPServer" if written_kind == "RemoteMCPServer" and not group else "",
        written_kind=written_kind, api_group=group, tools=names or None,
        approvals=frozenset(names) if approved else frozenset(), listed=listed,
        approval_list=tuple(names) if approved else (), settings=settings)


def object_refs(ref: KObject) -> list[ObjectRef]:
    """The Secrets and ConfigMaps a kagent 1.0 ModelConfig or RemoteMCPServer names (namespace-local)."""
    spec = ref.spec
    if ref.kind == "ModelConfig" and spec.get("apiKeySecret"):
        return [ObjectRef("Secret", spec.get("apiKeySecret"), "spec.apiKeySecret",
                          spec.get("apiKeySecretKey"), "spec.apiKeySecretKey")]
    if ref.kind == "RemoteMCPServer":
        return headers_refs(spec, "spec")
    return []
