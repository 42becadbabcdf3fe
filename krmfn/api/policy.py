"""`ToolPolicy`: the policy function's config. What tool grants are allowed where.

A policy is a list of named rules. Each rule selects agents (`match`, minus `exclude`) and puts
one or more constraints on them (`allowedRisks`, `requireApproval`, `explicitTools`, `maxTools`,
`crossNamespace`, `models`). Two checks always run, whatever the rules say, because kagent itself
refuses what they catch: `delegation-cycle` and `delegation-depth`.

Every violation is reported as `rule <name>: <what>` on the agent and the field that grants it.
Every field is documented here and in functions/policy/README.md.
"""

from __future__ import annotations

import re
from typing import Literal

from ..runtime.typed import Field, KrmModel, field_validator, model_validator
from .catalog import Risk
from .common import ANNOTATION_ENVIRONMENT, Name, Resource  # noqa: F401
from .selectors import LabelSelector, LabelSelectorRequirement  # noqa: F401

# Rule names of the checks that always run.
RULE_DELEGATION_CYCLE = "delegation-cycle"
RULE_DELEGATION_DEPTH = "delegation-depth"
BUILTIN_RULES = (RULE_DELEGATION_CYCLE, RULE_DELEGATION_DEPTH)

# kagent refuses delegation chains deeper than this (its controller's MAX_DEPTH).
from ..constants import MAX_DELEGATION_DEPTH as KAGENT_MAX_DELEGATION_DEPTH  # noqa: E402
from ..constants import MODEL_PROVIDERS  # noqa: E402

Provider = Literal[MODEL_PROVIDERS]  # a tuple subscript: one value per provider

_GLOB = re.compile(r"^[a-z0-9*?\[\]!.-]+\Z")


def _namespace_patterns(values: list[str]) -> list[str]:
    for value in values:
        if not value or not _GLOB.match(value):
            raise ValueError(f"{value!r} is not a namespace name or glob pattern (lowercase letters, digits, '-', '*', '?')")
    return values


def _agent_patterns(values: list[str]) -> list[str]:
    for value in values:
        parts = value.split("/")
        if len(parts) > 2 or not all(p and _GLOB.match(p) for p in parts):
            raise ValueError(f"{value!r}: write NAME or NAMESPACE/NAME (glob patterns allowed)")
    return values


class AgentMatch(KrmModel):
    """Which agents a rule applies to. Every field given must match; within a list, any entry may.

    An empty match selects every agent. Agents are kagent Agents and AgentDescriptions alike.
    """

    namespaces: list[str] = Field(
        default_factory=list,
        description="namespace names or glob patterns (`team-*`) the agent must live in")
    namespace_selector: LabelSelector | None = Field(
        None, alias="namespaceSelector",
        description="labels of the agent's namespace: from Namespace objects in the render, "
                    "spec.namespaceLabels, and kubernetes.io/metadata.name")
    agents: list[str] = Field(
        default_factory=list,
        description="agent names: NAME (any namespace) or NAMESPACE/NAME, glob patterns allowed")
    agent_selector: LabelSelector | None = Field(
        None, alias="agentSelector", description="labels of the Agent or AgentDescription (metadata.labels)")
    environments: list[str] = Field(
        default_factory=list,
        description="environment names: the agent's krmfn.dev/environment annotation, else spec.environment")

    check_namespaces = field_validator("namespaces")(_namespace_patterns)
    check_agents = field_validator("agents")(_agent_patterns)

    def uses_namespace(self) -> bool:
        return bool(self.namespaces or self.namespace_selector)


class CrossNamespace(KrmModel):
    """Which other namespaces the matched agents may reach. Anything not listed is refused.

    A listed namespace is still not enough: the target (a RemoteMCPServer or an Agent) must admit
    the agent's namespace in its own `spec.allowedNamespaces`, as kagent requires.
    """

    tool_servers: list[str] = Field(
        default_factory=list, alias="toolServers",
        description="namespaces (names or globs) whose tool servers the agents may use")
    agents: list[str] = Field(
        default_factory=list, description="namespaces (names or globs) whose agents the agents may delegate to")

    check_servers = field_validator("tool_servers")(_namespace_patterns)
    check_agents = field_validator("agents")(_namespace_patterns)


class ModelRule(KrmModel):
    """Which models the matched agents may run on, read from the ModelConfigs they point at.

    Checked on `spec.declarative.modelConfig` and `spec.declarative.memory.modelConfig`; the
    ModelConfig must be in the render (run the policy after the environment function).
    """

    allowed_providers: list[Provider] | None = Field(
        None, alias="allowedProviders", description="the only providers allowed (unset: any)")
    forbidden_providers: list[Provider] = Field(
        default_factory=list, alias="forbiddenProviders", description="providers never allowed (e.g. Ollama)")
    allowed_models: list[str] | None = Field(
        None, alias="allowedModels", description="the only model names allowed, glob patterns (unset: any)")
    forbidden_models: list[str] = Field(
        default_factory=list, alias="forbiddenModels", description="model names never allowed, glob patterns")

    @model_validator(mode="after")
    def _something(self) -> "ModelRule":
        if (self.allowed_providers is None and not self.forbidden_providers
                and self.allowed_models is None and not self.forbidden_models):
            raise ValueError("set allowedProviders, forbiddenProviders, allowedModels or forbiddenModels")
        return self


class PolicyRule(KrmModel):
    """One named rule: the agents it applies to and what they must satisfy."""

    name: Name = Field(description="shown in every violation: `rule <name>: ...`")
    description: str | None = Field(None, description="why the rule exists (documentation only)")
    severity: Literal["error", "warning"] = Field(
        "error", description="error fails the render (exit 1); warning is reported only")
    match: AgentMatch = Field(default_factory=AgentMatch, description="the agents the rule applies to (default: all)")
    exclude: AgentMatch | None = Field(None, description="agents the rule does not apply to, even if matched")
    allowed_risks: list[Risk] | None = Field(
        None, alias="allowedRisks",
        description="the only risk classes the agents may hold, directly or through the agents they delegate to")
    require_approval: list[Risk] | None = Field(
        None, alias="requireApproval",
        description="risk classes whose tools must be in the granting entry's requireApproval, "
                    "directly or through delegates")
    explicit_tools: bool = Field(
        False, alias="explicitTools",
        description="grants must name each tool (no empty toolNames) and only servers and tools in a catalog")
    max_tools: int | None = Field(
        None, alias="maxTools", ge=0,
        description="the most tools an agent may have: MCP tools plus agents it delegates to")
    cross_namespace: CrossNamespace | None = Field(
        None, alias="crossNamespace", description="tool servers and agents of other namespaces the agents may use")
    models: ModelRule | None = Field(None, description="providers and models the agents may run on")

    @model_validator(mode="after")
    def _has_a_constraint(self) -> "PolicyRule":
        if (self.allowed_risks is None and self.require_approval is None and not self.explicit_tools
                and self.max_tools is None and self.cross_namespace is None and self.models is None):
            raise ValueError("a rule needs at least one of allowedRisks, requireApproval, explicitTools, "
                             "maxTools, crossNamespace or models")
        return self


class PolicyCatalogServer(KrmModel):
    """A tool server the policy knows itself: its tools' risk classes override every other source.

    Use it for servers no ToolCatalog in the render describes (hand-written kagent YAML, servers
    installed by other repositories), or to reclassify a tool for this policy.
    """

    name: Name = Field(description="the RemoteMCPServer or kmcp MCPServer name")
    namespace: Name = Field(description="its namespace")
    kind: Literal["RemoteMCPServer", "MCPServer"] = Field(
        "RemoteMCPServer", description="as Agents reference it (an empty kind in an Agent means MCPServer)")
    description: str | None = None
    tools: dict[str, Risk] = Field(default_factory=dict, description="tool name -> read | write | destructive")
    tools_from: Literal["kagent-tool-server"] | None = Field(
        None, alias="toolsFrom", description="start from the built-in kagent tool server's tools")
    allowed_namespaces: list[Name] | Literal["All"] | None = Field(
        None, alias="allowedNamespaces",
        description="the namespaces the server admits (its spec.allowedNamespaces), when it is not in the render")

    @model_validator(mode="after")
    def _has_tools(self) -> "PolicyCatalogServer":
        if not self.tools and not self.tools_from:
            raise ValueError("list the server's tools (tools: {name: read|write|destructive}) or set toolsFrom")
        return self


class ToolPolicySpec(KrmModel):
    environment: str | None = Field(
        None, min_length=1,
        description="the environment of agents that carry no krmfn.dev/environment annotation")
    rules: list[PolicyRule] = Field(default_factory=list, description="the rules, each with a unique name")
    catalog: list[PolicyCatalogServer] = Field(
        default_factory=list, description="tool servers and risk classes the policy itself declares")
    namespace_labels: dict[Name, dict[str, str]] = Field(
        default_factory=dict, alias="namespaceLabels",
        description="labels of namespaces that are not in the render (a Namespace object in the render wins)")
    max_delegation_depth: int = Field(
        KAGENT_MAX_DELEGATION_DEPTH, alias="maxDelegationDepth", ge=1, le=KAGENT_MAX_DELEGATION_DEPTH,
        description="the longest delegation chain allowed, in hops (kagent refuses more than 10)")
    unverifiable: Literal["error", "warning", "ignore"] = Field(
        "warning",
        description="how to report what cannot be checked because an object is not in the render")

    @model_validator(mode="after")
    def _unique_names(self) -> "ToolPolicySpec":
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"rule name {rule.name!r} is used twice")
            if rule.name in BUILTIN_RULES:
                raise ValueError(f"rule name {rule.name!r} is reserved for a built-in check")
            seen.add(rule.name)
        servers: set[str] = set()
        for server in self.catalog:
            key = f"{server.namespace}/{server.name}"
            if key in servers:
                raise ValueError(f"catalog server {key} is declared twice")
            servers.add(key)
        return self


class ToolPolicy(Resource):
    kind: Literal["ToolPolicy"]
    spec: ToolPolicySpec = Field(default_factory=ToolPolicySpec)
