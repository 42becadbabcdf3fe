"""One tolerant reader of kagent objects: what an Agent uses, whatever the kagent API version.

Policy, the reference checks and the review read Agents only through `read_agent`: its tool-server
uses (with kagent's kind resolution), tool names, approvals, delegations, model references, prompt
sources, skills, deployment and every other setting, each with the field path that holds it. The
environment reads (and rewrites) the model references of Agents and 1.0 AgentTemplates through
`read_models`. A kagent API version is one reader module behind this interface (`v1alpha2` for
kagent 0.x, `v1alpha3` for kagent 1.0, where an Agent and its AgentTemplate read as one agent).
Malformed input never raises: what cannot be read is left out, and the CRD schema check reports it.
`AgentRead.locate` says what a field of an Agent (or 1.0 AgentTemplate) is to the agent, so a
finding about it can be traced back to what the author wrote.
"""

from __future__ import annotations

from typing import Any

from ..constants import (AGENT_KIND, AGENTTEMPLATE_KIND, KAGENT_GROUP, KAGENT_GROUPS, KAGENT_V1ALPHA2,
                         KAGENT_V1ALPHA3, KMCP_API_VERSION, MCPSERVER_KIND, MODELCONFIG_KIND, REMOTEMCPSERVER_KIND)
from ..runtime.kobject import KObject, as_dict, as_str, format_path, parse_path, selector_matches
from ..runtime.record import record
from .refs import ObjectRef


@record(frozen=True)
class ToolUse:
    """One MCP tool-server entry of an agent."""

    path: str  # the entry, e.g. spec.declarative.tools[0].mcpServer
    name_path: str  # where the server is named
    namespace_path: str  # where another namespace is named (the name's path when it is implicit)
    names_path: str  # where the tool names are listed
    approvals_path: str  # where the approvals are (a list in 0.x, one boolean in 1.0)
    server_path: str  # what holds the server's name, namespace, kind and apiGroup (in 0.x the entry itself)
    name: str
    namespace: str  # resolved: the agent's own when the entry names none
    kind: str  # what kagent resolves the entry to (MCPServer, RemoteMCPServer, Service), "" if nothing
    written_kind: str  # the kind as written ("" when left out)
    api_group: str
    tools: tuple[str, ...] | None  # None: every tool of the server
    approvals: frozenset[str]  # tools that need a human's approval
    listed: tuple[Any, ...] = ()  # toolNames as written (for checks on entries that are not names)
    approval_list: tuple[Any, ...] = ()  # requireApproval as written
    settings: dict = {}  # every other key of the entry

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@record(frozen=True)
class Delegation:
    """An agent this agent may call (kagent `tools[].type: Agent`)."""

    path: str
    name_path: str
    namespace_path: str
    name: str
    namespace: str  # resolved
    kind: str  # as written ("" = Agent)
    api_group: str
    kind_path: str = ""  # where the kind is written (0.x)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@record(frozen=True)
class PromptSource:
    """A ConfigMap (or Secret) in the agent's namespace that holds prompt text."""

    path: str
    kind: str  # ConfigMap or Secret
    name: str
    key: str = ""  # the key of a system prompt; "" for a prompt-template source (every key)
    alias: str = ""  # a prompt-template source's include name


@record
class AgentRead:
    obj: dict
    api_version: str
    name: str
    namespace: str
    type: str  # Declarative, BYO, ...
    tools_path: str  # where the tool list lives
    tool_uses: list[ToolUse] = []
    delegations: list[Delegation] = []
    models: list[tuple[str, str]] = []  # (field path, ModelConfig name)
    model_config: str = ""  # the main model's ModelConfig name
    memory_model_config: str = ""
    body: dict = {}  # the declarative (or equivalent) section
    template: dict | None = None  # 1.0: the AgentTemplate object the uses were read from
    unresolved: str = ""  # 1.0: the template named but not given ("" when read in full)
    description: Any = None
    harness: str = ""  # 1.0: the Harness it runs on (spec.harnessRef.name; "(inline)" for spec.harness)
    system_prompt: Any = None  # the inline system prompt as written (None: none inline)
    system_prompt_from: PromptSource | None = None
    prompt_sources: list[PromptSource] = []  # prompt-template data sources
    skills: dict[str, Any] = {}  # "skill ID" (A2A card), "bundle REF" -> definition
    deployment: dict = {}  # the per-agent deployment section (0.x only)
    deployment_path: str = ""
    settings: dict[str, Any] = {}  # every other setting: field path -> value
    base: str = ""  # the path of `body`
    model_path: str = ""  # where the main model is named (whether or not it is)
    template_ref: ObjectRef | None = None  # 1.0: the AgentTemplate a templateRef names
    harness_ref: ObjectRef | None = None  # 1.0: the Harness a harnessRef names
    roles: dict[str, str] = {}  # field path -> "model" | "prompt" | "skills"
    prompt_path: str = ""  # where the inline system prompt is written (whether or not it is)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def locate(self, field_path: str) -> FieldLocation:
        """What `field_path` of the object read is to the agent: a tool use or a delegation (and the
        part of it), its model, prompt or skills, or another setting. Constant time in the agent's
        size after the first call, so locating every finding stays linear."""
        parts = parse_path(field_path)
        tools = parse_path(self.tools_path)
        if parts[:len(tools)] == tools and len(parts) > len(tools) and isinstance(parts[len(tools)], int):
            entries = self.__dict__.get("_entries")
            if entries is None:
                entries = self.__dict__["_entries"] = {
                    parse_path(use.path)[len(tools)]: use for use in [*self.tool_uses, *self.delegations]}
            use = entries.get(parts[len(tools)])
            if isinstance(use, Delegation):
                return FieldLocation("delegation", use)
            if use is None:
                return FieldLocation("tool")
            for part, path in (("names", use.names_path), ("approvals", use.approvals_path)):
                below = _below(parts, path)
                if below is not None:
                    return FieldLocation("tool", use, part, below[0] if below and isinstance(below[0], int) else None)
            below = _below(parts, use.server_path)
            if below is not None and (below[:1] and below[0] in ("name", "namespace", "kind", "apiGroup")
                                      or not below and use.server_path != use.path):
                return FieldLocation("tool", use, "server")
            return FieldLocation("tool", use)
        for length in range(len(parts), 0, -1):
            role = self.roles.get(format_path(parts[:length]))
            if role is not None:
                return FieldLocation(role, rest=tuple(parts[length:]))
        base = parse_path(self.base)
        under = parts[len(base):] if parts[:len(base)] == base else parts[1:] if parts[:1] == ["spec"] else []
        return FieldLocation("setting", rest=tuple(under))


@record(frozen=True)
class FieldLocation:
    """What a field is to the agent (`AgentRead.locate`)."""

    role: str  # "tool", "delegation", "model", "prompt", "skills" or "setting"
    use: ToolUse | Delegation | None = None  # a tool's or delegation's entry (None: not one krmfn reads)
    part: str = ""  # of a tool use: "names", "approvals", "server" ("" elsewhere in the entry)
    index: int | None = None  # the element of the names or approvals list
    rest: tuple[str | int, ...] = ()  # below the role's field; for a setting, below the body (or spec)


def _below(parts: list, path: str) -> list | None:
    prefix = parse_path(path)
    return parts[len(prefix):] if parts[:len(prefix)] == prefix else None


@record(frozen=True)
class ModelRef:
    """One ModelConfig reference of an object that runs a model."""

    keys: tuple[str, ...]  # where it lives, e.g. ("spec", "declarative", "modelConfig")
    name: str  # the ModelConfig named ("" when missing or not a string)

    @property
    def path(self) -> str:
        return ".".join(self.keys)


@record(frozen=True)
class ModelUses:
    """The ModelConfigs a model-carrying object names: a 0.x Declarative Agent, or a kagent 1.0
    AgentTemplate (whose memory and summarizer are the Harness's: None)."""

    main: ModelRef
    memory: ModelRef | None = None  # None: no memory section
    summarizer: ModelRef | None = None  # None: no context summarizer


def read_models(obj: Any) -> ModelUses | None:
    """The model references of `obj`, or None when it carries no model of its own (a BYO Agent,
    a 1.0 Agent, anything else)."""
    ref = KObject(obj)
    if ref.is_a(KAGENT_V1ALPHA3, AGENTTEMPLATE_KIND):
        from .v1alpha3 import read_template_models

        return read_template_models(ref)
    if ref.is_a(KAGENT_V1ALPHA2, AGENT_KIND):
        from .v1alpha2 import read_models as read_v1alpha2

        return read_v1alpha2(ref)
    return None


def read_template(obj: Any, default_namespace: str = "") -> AgentRead | None:
    """A kagent 1.0 AgentTemplate read on its own (its fields are what its Agents run), or None."""
    ref = KObject(obj)
    if not ref.is_a(KAGENT_V1ALPHA3, AGENTTEMPLATE_KIND):
        return None
    from .v1alpha3 import read_template as read_v1alpha3

    return read_v1alpha3(ref, default_namespace)


def is_agent(obj: Any) -> bool:
    return KObject(obj).api_version in READERS and KObject(obj).kind == AGENT_KIND


def read_agent(obj: Any, default_namespace: str = "", templates: dict | None = None) -> AgentRead | None:
    """The uses of an Agent of any version krmfn reads, or None for anything else.

    `templates` ((namespace, name) -> AgentTemplate, from `templates_of`) resolves a kagent 1.0
    Agent's templateRef; the 0.x reader needs none.
    """
    ref = KObject(obj)
    reader = READERS.get(ref.api_version)
    if reader is None or ref.kind != AGENT_KIND:
        return None
    if ref.api_version == KAGENT_V1ALPHA3:
        return reader(ref, default_namespace, templates)
    return reader(ref, default_namespace)


def templates_of(items: Any) -> dict[tuple[str, str], dict]:
    """The kagent 1.0 AgentTemplates among `items`, by (namespace, name): what 1.0 Agents pair with."""
    out: dict[tuple[str, str], dict] = {}
    for obj in items:
        ref = KObject(obj)
        if ref.is_a(KAGENT_V1ALPHA3, AGENTTEMPLATE_KIND):
            out.setdefault((ref.namespace, ref.name), obj)
    return out


def admits(target: Any, labels: dict[str, str], complete: bool) -> tuple[bool | None, Any]:
    """Whether `target`'s `spec.allowedNamespaces` admits a reference from a namespace with `labels`.

    Gateway-API style: `from: Same` (the default) | `All` | `Selector` matched against the source
    Namespace's `labels` (`complete=False`: only its name label is known). Returns (verdict, from):
    verdict None when an unknown label decides it; `from` as written ("Same" when unset, None when
    the target has no allowedNamespaces), for the caller's wording.
    """
    allowed = KObject(target).spec.get("allowedNamespaces")
    if not isinstance(allowed, dict):
        return False, None
    origin = allowed.get("from") or "Same"
    if origin == "All":
        return True, origin
    if origin == "Selector":
        return selector_matches(as_dict(allowed.get("selector")), labels, complete), origin
    return False, origin  # Same, or a value kagent does not know


@record(frozen=True)
class ModelConfigRead:
    """What a ModelConfig (any kagent version) selects: its provider (the CRD default when unset)
    and model."""

    obj: dict
    name: str
    namespace: str
    provider: str
    model: str
    parameters: dict  # every other field of the spec (the provider's settings, the API key's Secret ...)


def is_model_config(obj: Any) -> bool:
    """A kagent ModelConfig, of any version of either group: the versions a CRD serves are one
    object, and their provider and model fields are the same."""
    ref = KObject(obj)
    return ref.kind == MODELCONFIG_KIND and ref.group in KAGENT_GROUPS


def is_remote_server(obj: Any) -> bool:
    """A kagent RemoteMCPServer, of any version of either group (as `is_model_config`)."""
    ref = KObject(obj)
    return ref.kind == REMOTEMCPSERVER_KIND and ref.group in KAGENT_GROUPS


def read_model_config(obj: Any) -> ModelConfigRead | None:
    """The provider and model of a kagent ModelConfig (`is_model_config`), or None."""
    if not is_model_config(obj):
        return None
    ref = KObject(obj)
    raw = ref.spec.get("provider")
    # unset is the CRD default; anything else that is not a string stays itself (never a default)
    provider = raw if isinstance(raw, str) and raw else (str(raw) if raw else "OpenAI")
    parameters = {k: v for k, v in ref.spec.items() if k not in ("provider", "model")}
    return ModelConfigRead(ref.obj, ref.name, ref.namespace, provider, as_str(ref.spec.get("model")), parameters)


def server_url(obj: Any) -> str:
    """The URL a kagent RemoteMCPServer (0.x or 1.0) serves; "" when it names none or is not one."""
    return as_str(KObject(obj).spec.get("url")) if is_remote_server(obj) else ""


def object_refs(obj: Any) -> list:
    """The Secrets and ConfigMaps (`refs.ObjectRef`s) a kagent object names: a 0.x Agent,
    ModelConfig, RemoteMCPServer or kmcp MCPServer (any `kagent.dev` version), a 1.0 ModelConfig or
    RemoteMCPServer; [] for anything else."""
    from . import v1alpha2, v1alpha3

    ref = KObject(obj)
    group = ref.api_version.rpartition("/")[0]
    if group == KAGENT_GROUP:
        return v1alpha2.object_refs(ref)
    if ref.api_version == KAGENT_V1ALPHA3:
        return v1alpha3.object_refs(ref)
    return []


def _readers() -> dict:
    from . import v1alpha2, v1alpha3

    return {KAGENT_V1ALPHA2: v1alpha2.read_agent, KAGENT_V1ALPHA3: v1alpha3.read_agent}


READERS = _readers()
SERVER_API_VERSIONS = {REMOTEMCPSERVER_KIND: KAGENT_V1ALPHA2, MCPSERVER_KIND: KMCP_API_VERSION}
