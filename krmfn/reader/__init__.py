"""One tolerant reader of kagent objects: what an Agent uses, whatever the kagent API version.

Policy, the reference checks and the review read Agents only through `read_agent`: its tool-server
uses (with kagent's kind resolution), tool names, approvals, delegations, model references, prompt
sources, skills, deployment and every other setting, each with the field path that holds it. The
environment reads (and rewrites) the model references of Agents and 1.0 AgentTemplates through
`read_models`. A kagent API version is one reader module behind this interface (`v1alpha2` for
kagent 0.x, `v1alpha3` for kagent 1.0, where an Agent and its AgentTemplate read as one agent).
Malformed input never raises: what cannot be read is left out, and the CRD schema check reports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..constants import AGENTTEMPLATE_KIND, KAGENT_GROUP, KAGENT_V1ALPHA2, KAGENT_V1ALPHA3, KMCP_API_VERSION
from ..runtime.kobject import KObject, as_dict, as_str, selector_matches


@dataclass(frozen=True)
class ToolUse:
    """One MCP tool-server entry of an agent."""

    path: str  # the entry, e.g. spec.declarative.tools[0].mcpServer
    name_path: str  # where the server is named
    namespace_path: str  # where another namespace is named (the name's path when it is implicit)
    names_path: str  # where the tool names are listed
    name: str
    namespace: str  # resolved: the agent's own when the entry names none
    kind: str  # what kagent resolves the entry to (MCPServer, RemoteMCPServer, Service), "" if nothing
    written_kind: str  # the kind as written ("" when left out)
    api_group: str
    tools: tuple[str, ...] | None  # None: every tool of the server
    approvals: frozenset[str]  # tools that need a human's approval
    listed: tuple[Any, ...] = ()  # toolNames as written (for checks on entries that are not names)
    approval_list: tuple[Any, ...] = ()  # requireApproval as written
    settings: dict = field(default_factory=dict, compare=False)  # every other key of the entry

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Delegation:
    """An agent this agent may call (kagent `tools[].type: Agent`)."""

    path: str
    name_path: str
    namespace_path: str
    name: str
    namespace: str  # resolved
    kind: str  # as written ("" = Agent)
    api_group: str

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class PromptSource:
    """A ConfigMap (or Secret) in the agent's namespace that holds prompt text."""

    path: str
    kind: str  # ConfigMap or Secret
    name: str
    key: str = ""  # the key of a system prompt; "" for a prompt-template source (every key)
    alias: str = ""  # a prompt-template source's include name


@dataclass
class AgentRead:
    obj: dict
    api_version: str
    name: str
    namespace: str
    type: str  # Declarative, BYO, ...
    tools_path: str  # where the tool list lives
    tool_uses: list[ToolUse] = field(default_factory=list)
    delegations: list[Delegation] = field(default_factory=list)
    models: list[tuple[str, str]] = field(default_factory=list)  # (field path, ModelConfig name)
    model_config: str = ""  # the main model's ModelConfig name
    memory_model_config: str = ""
    body: dict = field(default_factory=dict)  # the declarative (or equivalent) section
    template: dict | None = None  # 1.0: the AgentTemplate object the uses were read from
    unresolved: str = ""  # 1.0: the template named but not given ("" when read in full)
    description: Any = None
    harness: str = ""  # 1.0: the Harness it runs on (spec.harnessRef.name; "(inline)" for spec.harness)
    system_prompt: Any = None  # the inline system prompt as written (None: none inline)
    system_prompt_from: PromptSource | None = None
    prompt_sources: list[PromptSource] = field(default_factory=list)  # prompt-template data sources
    skills: dict[str, Any] = field(default_factory=dict)  # "skill ID" (A2A card), "bundle REF" -> definition
    deployment: dict = field(default_factory=dict)  # the per-agent deployment section (0.x only)
    deployment_path: str = ""
    settings: dict[str, Any] = field(default_factory=dict)  # every other setting: field path -> value

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class ModelRef:
    """One ModelConfig reference of an object that runs a model."""

    keys: tuple[str, ...]  # where it lives, e.g. ("spec", "declarative", "modelConfig")
    name: str  # the ModelConfig named ("" when missing or not a string)

    @property
    def path(self) -> str:
        return ".".join(self.keys)


@dataclass(frozen=True)
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
    if ref.is_a(KAGENT_V1ALPHA2, "Agent"):
        from .v1alpha2 import read_models as read_v1alpha2

        return read_v1alpha2(ref)
    return None


def is_agent(obj: Any) -> bool:
    return KObject(obj).api_version in READERS and KObject(obj).kind == "Agent"


def read_agent(obj: Any, default_namespace: str = "", templates: dict | None = None) -> AgentRead | None:
    """The uses of an Agent of any version krmfn reads, or None for anything else.

    `templates` ((namespace, name) -> AgentTemplate, from `templates_of`) resolves a kagent 1.0
    Agent's templateRef; the 0.x reader needs none.
    """
    ref = KObject(obj)
    reader = READERS.get(ref.api_version)
    if reader is None or ref.kind != "Agent":
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


def admits(target: Any, source_namespace: str, labels: dict[str, str], complete: bool) -> tuple[bool | None, str]:
    """Whether `target`'s `spec.allowedNamespaces` admits references from `source_namespace`.

    Gateway-API style: `from: Same` (the default) | `All` | `Selector` matched against the source
    Namespace's `labels` (`complete=False`: only its name label is known). Returns (verdict, why):
    verdict None when an unknown label decides it.
    """
    allowed = KObject(target).spec.get("allowedNamespaces")
    if not isinstance(allowed, dict):
        return False, "no spec.allowedNamespaces"
    origin = allowed.get("from") or "Same"
    if origin == "All":
        return True, "from: All"
    if origin == "Same":
        return False, "spec.allowedNamespaces.from is Same"
    if origin == "Selector":
        verdict = selector_matches(as_dict(allowed.get("selector")), labels, complete)
        return verdict, "spec.allowedNamespaces.selector" + ("" if verdict else " does not match")
    return False, f"unknown allowedNamespaces.from {as_str(origin) or origin!r}"


@dataclass(frozen=True)
class ModelConfigRead:
    """What a ModelConfig (any kagent version) selects: its provider (the CRD default when unset)
    and model."""

    obj: dict
    name: str
    namespace: str
    provider: str
    model: str


def read_model_config(obj: Any) -> ModelConfigRead | None:
    """The provider and model of a kagent ModelConfig of a version krmfn reads, or None."""
    ref = KObject(obj)
    if ref.api_version not in READERS or ref.kind != "ModelConfig":
        return None
    raw = ref.spec.get("provider")
    # unset is the CRD default; anything else that is not a string stays itself (never a default)
    provider = raw if isinstance(raw, str) and raw else (str(raw) if raw else "OpenAI")
    return ModelConfigRead(ref.obj, ref.name, ref.namespace, provider, as_str(ref.spec.get("model")))


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
SERVER_API_VERSIONS = {"RemoteMCPServer": KAGENT_V1ALPHA2, "MCPServer": KMCP_API_VERSION}
