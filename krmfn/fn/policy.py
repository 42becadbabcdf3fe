"""policy: check every tool grant against the catalog and the ToolPolicy. Never modifies items.

Works on every form an agent takes in a repository: kagent `Agent`s rendered by expand (their
`krmfn.dev/tool-risks` annotation carries the risk classes of the consumed ToolCatalogs),
`AgentDescription`s before expansion, and plain kagent YAML written by hand.

Risk class of a tool, in this order:
1. the policy's own `spec.catalog` entry for the server, if it lists the tool (authoritative);
2. otherwise the riskiest class any other source gives: krmfn's built-in catalog of the kagent
   tool server, the ToolCatalogs in the input, the Agent's `krmfn.dev/tool-risks` annotation.
   A team cannot downgrade a tool by editing its own catalog or annotation;
3. a tool no source knows is treated as `destructive` (fail closed) and says so.

Every violation is one result, `rule <name>: <what>`, on the agent and the field that grants it.
"""

from __future__ import annotations

import difflib
import json
from collections import deque
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from ..api.agent import AgentDescription
from ..api.catalog import RISKS, ToolCatalog
from ..api.common import ANNOTATION_TOOL_RISKS, API_VERSION, meta_name, meta_namespace
from ..api.policy import (
    ANNOTATION_ENVIRONMENT,
    RULE_DELEGATION_CYCLE,
    RULE_DELEGATION_DEPTH,
    AgentMatch,
    PolicyRule,
    ToolPolicy,
)
from ..expand.catalog import Catalog, builtin_kagent_tools
from ..runtime.resourcelist import ResourceList
from ..runtime.results import ERROR, FunctionFailure, Result
from ..runtime.typed import parse

RANK = {risk: index for index, risk in enumerate(RISKS)}  # read < write < destructive
ASSUMED_RISK = "destructive"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
DEFAULT_NAMESPACE = "default"
KAGENT_V1ALPHA2 = "kagent.dev/v1alpha2"
KMCP_V1ALPHA1 = "kagent.dev/v1alpha1"
LISTED = 3  # tool names quoted in a summary line


def process(rl: ResourceList) -> None:
    policy, problems = parse(ToolPolicy, rl.function_config or {})
    if policy is None:
        raise FunctionFailure(problems)
    rl.results.extend(Checker(policy, rl.function_config or {}, rl.items).run())


# -- what the checker knows about servers and agents --------------------------------------------


@dataclass
class KnownServer:
    key: str
    kinds: set[str] = field(default_factory=set)
    tools: dict[str, str] = field(default_factory=dict)  # riskiest class any source gives
    override: dict[str, str] = field(default_factory=dict)  # from the policy's spec.catalog
    # spec.allowedNamespaces when the server is not in the render: "auto" (expand admits its
    # users), "All", a list of namespaces, or None (unknown)
    admits: Any = None

    def all_tools(self) -> set[str]:
        return set(self.tools) | set(self.override)


@dataclass
class Grant:
    path: str
    tool: str
    risk: str | None  # None: in no catalog
    approved: bool

    @property
    def effective(self) -> str:
        return self.risk or ASSUMED_RISK

    def label(self) -> str:
        return f"{self.tool} ({self.risk})" if self.risk else f"{self.tool} (risk unknown, treated as {ASSUMED_RISK})"


@dataclass
class ServerUse:
    """One MCP server entry of an agent (spec.declarative.tools[i] or spec.tools[i])."""

    path: str  # the entry
    server_path: str  # where the server is named
    namespace_path: str  # where another namespace is named
    names_path: str  # toolNames / allow
    key: str
    namespace: str
    kind: str
    known: bool
    unknown_reason: str
    wildcard: bool  # empty or missing toolNames: every tool of the server
    named: int  # how many tools are named
    grants: list[Grant] = field(default_factory=list)  # named tools, or every catalog tool if wildcard


@dataclass
class Delegation:
    path: str
    namespace_path: str
    target: str  # namespace/name


@dataclass
class AgentNode:
    obj: dict
    kind: str  # Agent or AgentDescription
    name: str
    namespace: str
    labels: dict[str, str]
    environment: str | None
    tools_path: str
    servers: list[ServerUse] = field(default_factory=list)
    delegations: list[Delegation] = field(default_factory=list)
    models: list[tuple[str, str]] = field(default_factory=list)  # (field path, ModelConfig name)
    tier: str | None = None  # AgentDescription: the model tier

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


# -- the checker ---------------------------------------------------------------------------------


class Checker:
    def __init__(self, policy: ToolPolicy, config: dict, items: list[dict]):
        self.spec = policy.spec
        self.config = config
        self.items = items
        self.results: list[Result] = []
        self.namespace_labels: dict[str, dict[str, str]] = {}
        self.model_configs: dict[str, dict] = {}
        self.remote_servers: dict[str, dict] = {}
        self.servers: dict[str, KnownServer] = {}
        self.nodes: list[AgentNode] = []
        self.graph: dict[str, AgentNode] = {}
        self.description_keys: set[str] = set()
        self._unverifiable_seen: set[tuple] = set()
        self.applies: dict[str, set[int]] = {}  # rule name -> ids of the nodes it applies to

    # -- reporting -------------------------------------------------------------------------------
    def report(self, obj: dict, path: str, rule: str, message: str, severity: str = ERROR) -> None:
        self.results.append(Result.about(obj, path, f"rule {rule}: {message}", severity, rule=rule))

    def unverifiable(self, obj: dict, path: str, rule: str, message: str) -> None:
        if self.spec.unverifiable == "ignore":
            return
        key = (id(obj), path, rule, message)
        if key in self._unverifiable_seen:
            return
        self._unverifiable_seen.add(key)
        self.report(obj, path, rule, f"cannot check: {message}", self.spec.unverifiable)

    # -- the run ---------------------------------------------------------------------------------
    def run(self) -> list[Result]:
        self._index()
        for index, rule in enumerate(self.spec.rules):
            self.applies[rule.name] = {id(node) for node in self.nodes if self._applies(rule, index, node)}
        for node in self.nodes:
            for rule in self.spec.rules:
                if id(node) in self.applies[rule.name]:
                    self._check(rule, node)
        self._check_delegation()
        return self.results

    def _index(self) -> None:
        self._builtin()
        catalogs, agents, descriptions = [], [], []
        for obj in self.items:
            api_version, kind = obj.get("apiVersion"), obj.get("kind")
            key = f"{meta_namespace(obj) or DEFAULT_NAMESPACE}/{meta_name(obj)}"
            if api_version == "v1" and kind == "Namespace":
                meta = obj.get("metadata")
                labels = meta.get("labels") if isinstance(meta, dict) else None
                self.namespace_labels[meta_name(obj)] = dict(labels) if isinstance(labels, dict) else {}
            elif api_version == KAGENT_V1ALPHA2 and kind == "ModelConfig":
                self.model_configs[key] = obj
            elif api_version == KAGENT_V1ALPHA2 and kind == "RemoteMCPServer":
                self.remote_servers[key] = obj
            elif api_version == KAGENT_V1ALPHA2 and kind == "Agent":
                agents.append(obj)
            elif api_version == API_VERSION and kind == "ToolCatalog":
                catalogs.append(obj)
            elif api_version == API_VERSION and kind == "AgentDescription":
                descriptions.append(obj)
        for obj in catalogs:
            self._add_catalog(obj)
        self._add_policy_catalog()
        for obj in agents:
            self._add_node(self._agent_node(obj))
        for obj in descriptions:
            desc, problems = parse(AgentDescription, obj)
            self.results.extend(problems)
            if desc is not None:
                self._add_node(self._description_node(desc, obj))

    def _add_node(self, node: AgentNode | None) -> None:
        if node is None:
            return
        self.nodes.append(node)
        self.graph.setdefault(node.key, node)
        if node.kind == "AgentDescription":
            self.description_keys.add(node.key)

    # -- the catalog -----------------------------------------------------------------------------
    def _server(self, key: str) -> KnownServer:
        if key not in self.servers:
            self.servers[key] = KnownServer(key)
        return self.servers[key]

    def _merge(self, server: KnownServer, tools: dict[str, str]) -> None:
        for tool, risk in tools.items():
            previous = server.tools.get(tool)
            server.tools[tool] = risk if previous is None or RANK[risk] > RANK[previous] else previous

    def _builtin(self) -> None:
        name, namespace, kind, tools = builtin_kagent_tools()
        server = self._server(f"{namespace}/{name}")
        server.kinds.add(kind)
        self._merge(server, tools)

    def _add_catalog(self, obj: dict) -> None:
        catalog_model, problems = parse(ToolCatalog, obj)
        self.results.extend(problems)
        if catalog_model is None:
            return
        catalog = Catalog()  # one per object: duplicates across catalogs are merged, riskiest wins
        for path, message in catalog.add(catalog_model, obj):
            self.results.append(Result.about(obj, path, message))
        for entry in catalog.servers.values():
            if entry.spec is None:
                continue  # the built-in entry every Catalog starts with
            server = self._server(entry.key)
            server.kinds.add(entry.kind)
            self._merge(server, entry.tools)
            if entry.spec.external is not None:
                allowed = entry.spec.external.allowed_namespaces
                admits = allowed if allowed else None
            else:
                admits = entry.spec.allowed_namespaces if entry.spec.allowed_namespaces is not None else "auto"
            if server.admits is None:
                server.admits = admits

    def _add_policy_catalog(self) -> None:
        for entry in self.spec.catalog:
            server = self._server(f"{entry.namespace}/{entry.name}")
            server.kinds.add(entry.kind)
            if entry.tools_from == "kagent-tool-server":
                server.override.update(builtin_kagent_tools()[3])
            server.override.update(entry.tools)
            if entry.allowed_namespaces is not None:
                server.admits = entry.allowed_namespaces

    def risk(self, key: str, tool: str, annotated: dict[str, dict[str, str]]) -> str | None:
        server = self.servers.get(key)
        if server is not None and tool in server.override:
            return server.override[tool]
        found = []
        if server is not None and tool in server.tools:
            found.append(server.tools[tool])
        extra = annotated.get(key)
        if isinstance(extra, dict) and extra.get(tool) in RANK:
            found.append(extra[tool])
        return max(found, key=RANK.__getitem__) if found else None

    def resolve(self, reference: str, namespace: str) -> tuple[str | None, str]:
        """An AgentDescription's `server`: NAME (own namespace, else unique anywhere) or NAMESPACE/NAME."""
        if "/" in reference:
            return (reference, "") if reference in self.servers else (None, self._unknown_server(reference))
        own = f"{namespace}/{reference}"
        if own in self.servers:
            return own, ""
        matches = sorted(k for k in self.servers if k.split("/", 1)[1] == reference)
        if len(matches) == 1:
            return matches[0], ""
        if matches:
            return None, f"server {reference!r} is ambiguous: write one of {', '.join(matches)}"
        return None, self._unknown_server(reference)

    def _unknown_server(self, reference: str) -> str:
        names = sorted(self.servers) + sorted({k.split("/", 1)[1] for k in self.servers})
        hint = difflib.get_close_matches(reference, names, n=1, cutoff=0.6)
        return f"server {reference} is not in any catalog" + (f"; did you mean {hint[0]!r}?" if hint else "")

    # -- agents ----------------------------------------------------------------------------------
    def _agent_node(self, obj: dict) -> AgentNode | None:
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
        labels = meta.get("labels") if isinstance(meta.get("labels"), dict) else {}
        namespace = meta_namespace(obj) or DEFAULT_NAMESPACE
        node = AgentNode(obj, "Agent", meta_name(obj), namespace, dict(labels),
                         annotations.get(ANNOTATION_ENVIRONMENT) or self.spec.environment,
                         "spec.declarative.tools")
        annotated: dict[str, dict[str, str]] = {}
        if ANNOTATION_TOOL_RISKS in annotations:
            try:
                annotated = json.loads(annotations[ANNOTATION_TOOL_RISKS])
                if not isinstance(annotated, dict):
                    raise ValueError("not an object")
            except (TypeError, ValueError) as err:
                self.results.append(Result.about(
                    obj, f"metadata.annotations[{ANNOTATION_TOOL_RISKS}]",
                    f"not a JSON object of server -> tool -> risk ({err}); the policy cannot trust it"))
                annotated = {}
        spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
        declarative = spec.get("declarative") if isinstance(spec.get("declarative"), dict) else {}
        for path, value in (("spec.declarative.modelConfig", declarative.get("modelConfig")),
                            ("spec.declarative.memory.modelConfig",
                             (declarative.get("memory") or {}).get("modelConfig")
                             if isinstance(declarative.get("memory"), dict) else None)):
            if isinstance(value, str) and value:
                node.models.append((path, value))
        tools = declarative.get("tools")
        if not isinstance(tools, list):
            return node
        for index, tool in enumerate(tools):
            if not isinstance(tool, dict):
                continue
            base = f"spec.declarative.tools[{index}]"
            mcp, agent = tool.get("mcpServer"), tool.get("agent")
            if isinstance(mcp, dict) and tool.get("type", "McpServer") == "McpServer":
                node.servers.append(self._agent_server_use(node, f"{base}.mcpServer", mcp, annotated))
            elif isinstance(agent, dict) and tool.get("type", "Agent") == "Agent":
                target_ns = agent.get("namespace") or namespace
                node.delegations.append(Delegation(
                    f"{base}.agent", f"{base}.agent.namespace" if agent.get("namespace") else f"{base}.agent.name",
                    f"{target_ns}/{agent.get('name', '')}"))
        return node

    def _agent_server_use(self, node: AgentNode, base: str, mcp: dict,
                          annotated: dict[str, dict[str, str]]) -> ServerUse:
        name = mcp.get("name") if isinstance(mcp.get("name"), str) else ""
        namespace = mcp.get("namespace") or node.namespace
        kind = mcp.get("kind") or "MCPServer"  # kagent: an empty kind is a kmcp MCPServer
        key = f"{namespace}/{name}"
        server = self.servers.get(key)
        known, reason = True, ""
        if server is None and key not in annotated:
            known = False
            elsewhere = sorted(k for k in self.servers if k.split("/", 1)[1] == name)
            if elsewhere and not mcp.get("namespace"):
                reason = (f"server {key} is not in any catalog; {', '.join(elsewhere)} is, but without "
                          f"mcpServer.namespace kagent looks in the agent's namespace {node.namespace}")
            else:
                reason = self._unknown_server(key)
        elif server is not None and server.kinds and kind not in server.kinds and key not in annotated:
            known = False
            reason = (f"server {key} is a {' or '.join(sorted(server.kinds))} in the catalog, but the agent "
                      f"references kind {kind}" + (" (an empty kind means a kmcp MCPServer)" if not mcp.get("kind") else ""))
        names = mcp.get("toolNames")
        names = [n for n in names if isinstance(n, str)] if isinstance(names, list) else []
        approval = mcp.get("requireApproval")
        approval = set(a for a in approval if isinstance(a, str)) if isinstance(approval, list) else set()
        use = ServerUse(
            path=base, server_path=f"{base}.name",
            namespace_path=f"{base}.namespace" if mcp.get("namespace") else f"{base}.name",
            names_path=f"{base}.toolNames", key=key, namespace=namespace, kind=kind, known=known,
            unknown_reason=reason, wildcard=not names, named=len(names))
        if names:
            use.grants = [Grant(f"{base}.toolNames[{i}]", t, self.risk(key, t, annotated), t in approval)
                          for i, t in enumerate(names)]
        elif known:
            every = (server.all_tools() if server else set()) | set(annotated.get(key, {}) or {})
            use.grants = [Grant(use.names_path, t, self.risk(key, t, annotated), False) for t in sorted(every)]
        return use

    def _description_node(self, desc: AgentDescription, obj: dict) -> AgentNode:
        namespace = desc.metadata.namespace or DEFAULT_NAMESPACE
        node = AgentNode(obj, "AgentDescription", desc.metadata.name, namespace, dict(desc.metadata.labels),
                         desc.metadata.annotations.get(ANNOTATION_ENVIRONMENT) or self.spec.environment,
                         "spec.tools", tier=None if desc.spec.byo else desc.spec.model)
        for index, grant in enumerate(desc.spec.tools):
            base = f"spec.tools[{index}]"
            key, reason = self.resolve(grant.server, namespace)
            known = key is not None
            if key is None:
                key = grant.server if "/" in grant.server else f"{namespace}/{grant.server}"
            server = self.servers.get(key)
            kind = sorted(server.kinds)[0] if server is not None and server.kinds else "RemoteMCPServer"
            approval = set(grant.require_approval)
            use = ServerUse(
                path=base, server_path=f"{base}.server", namespace_path=f"{base}.server",
                names_path=f"{base}.allow", key=key, namespace=key.split("/", 1)[0], kind=kind, known=known,
                unknown_reason=reason, wildcard=not grant.allow, named=len(grant.allow))
            if grant.allow:
                use.grants = [Grant(f"{base}.allow[{i}]", t, self.risk(key, t, {}), t in approval)
                              for i, t in enumerate(grant.allow)]
            elif known and server is not None:
                use.grants = [Grant(use.names_path, t, self.risk(key, t, {}), False)
                              for t in sorted(server.all_tools())]
            node.servers.append(use)
        for index, target in enumerate(desc.spec.delegates):
            key = target if "/" in target else f"{namespace}/{target}"
            node.delegations.append(Delegation(f"spec.delegates[{index}]", f"spec.delegates[{index}]", key))
        return node

    # -- which rules apply -----------------------------------------------------------------------
    def labels_of_namespace(self, namespace: str) -> tuple[dict[str, str], bool]:
        known = namespace in self.namespace_labels or namespace in self.spec.namespace_labels
        labels = dict(self.spec.namespace_labels.get(namespace, {}))
        labels.update(self.namespace_labels.get(namespace, {}))
        labels[NAMESPACE_NAME_LABEL] = namespace
        return labels, known

    def _evaluate(self, match: AgentMatch, node: AgentNode) -> tuple[bool | None, list[str]]:
        """True, False, or None when it depends on something not in the render (with the reasons)."""
        unknown: list[str] = []
        if match.namespaces and not any(fnmatchcase(node.namespace, p) for p in match.namespaces):
            return False, []
        if match.agents and not any(_agent_matches(p, node) for p in match.agents):
            return False, []
        if match.agent_selector is not None and not match.agent_selector.matches(node.labels):
            return False, []
        if match.namespace_selector is not None:
            labels, known = self.labels_of_namespace(node.namespace)
            if not known and match.namespace_selector.keys() - {NAMESPACE_NAME_LABEL}:
                unknown.append("namespace")
            elif not match.namespace_selector.matches(labels):
                return False, []
        if match.environments:
            if node.environment is None:
                unknown.append("environment")
            elif node.environment not in match.environments:
                return False, []
        return (None, unknown) if unknown else (True, [])

    def _applies(self, rule: PolicyRule, index: int, node: AgentNode) -> bool:
        matched, unknown = self._evaluate(rule.match, node)
        if matched is None:
            for what in unknown:
                if what == "namespace":
                    self.unverifiable(
                        self.config, f"spec.rules[{index}].match.namespaceSelector", rule.name,
                        f"namespace {node.namespace} is neither in the render nor in spec.namespaceLabels, "
                        f"so its labels are unknown (agent {node.key})")
                else:
                    self.unverifiable(
                        node.obj, f"metadata.annotations[{ANNOTATION_ENVIRONMENT}]", rule.name,
                        f"the agent's environment is unknown (no {ANNOTATION_ENVIRONMENT} annotation "
                        "and no spec.environment in the policy)")
            return False
        if not matched:
            return False
        if rule.exclude is not None:
            excluded, _ = self._evaluate(rule.exclude, node)
            if excluded:  # an exclusion that cannot be decided does not exclude (fail closed)
                return False
        return True

    # -- the constraints -------------------------------------------------------------------------
    def _check(self, rule: PolicyRule, node: AgentNode) -> None:
        if rule.allowed_risks is not None or rule.require_approval is not None:
            self._check_risks(rule, node)
            self._check_reach(rule, node)
        if rule.explicit_tools:
            self._check_explicit(rule, node)
        if rule.max_tools is not None:
            self._check_max_tools(rule, node)
        if rule.cross_namespace is not None:
            self._check_cross_namespace(rule, node)
        if rule.models is not None:
            self._check_models(rule, node)

    def _scope(self, rule: PolicyRule, node: AgentNode, prefer_environment: bool = False) -> str:
        match = rule.match
        if match.environments and (prefer_environment or not match.uses_namespace()):
            return f"in environment {node.environment}"
        if match.uses_namespace():
            return f"in namespace {node.namespace}"
        return f"for agent {node.name}"

    def _risk_problems(self, rule: PolicyRule, use: ServerUse) -> list[tuple[str, Grant | None, str]]:
        """(kind, grant, what) for one server entry; kind is 'allowed' or 'approval'.

        `grant` is None for an entry with empty toolNames, which is reported once, summarised.
        """
        allowed = rule.allowed_risks
        required = rule.require_approval or []
        out: list[tuple[str, Grant | None, str]] = []
        if use.wildcard:
            if not use.known:
                what = (f"every tool of {use.key}, a server in no catalog "
                        f"(risk unknown, treated as {ASSUMED_RISK})")
                if allowed is not None and ASSUMED_RISK not in allowed:
                    out.append(("allowed", None, what))
                elif ASSUMED_RISK in required:
                    out.append(("approval", None, what))
                return out
            bad = [g for g in use.grants if allowed is not None and g.effective not in allowed]
            if bad:
                return [("allowed", None, f"every tool of {use.key}, including {_summary(bad)}")]
            unapproved = [g for g in use.grants if g.effective in required]
            if unapproved:
                out.append(("approval", None, f"every tool of {use.key}, including {_summary(unapproved)}"))
            return out
        for grant in use.grants:
            if allowed is not None and grant.effective not in allowed:
                out.append(("allowed", grant, grant.label()))
            elif grant.effective in required and not grant.approved:
                out.append(("approval", grant, grant.label()))
        return out

    def _allowed_text(self, rule: PolicyRule) -> str:
        return ", ".join(rule.allowed_risks) if rule.allowed_risks else "none"

    def _check_risks(self, rule: PolicyRule, node: AgentNode) -> None:
        scope = self._scope(rule, node)
        names = "allow" if node.kind == "AgentDescription" else "toolNames"
        for use in node.servers:
            for kind, grant, what in self._risk_problems(rule, use):
                if rule.explicit_tools and (not use.known or (grant is not None and grant.risk is None)):
                    continue  # the same rule reports the unknown server or tool; one line is enough
                if kind == "allowed" and grant is not None:
                    message = f"{what} is not allowed {scope} (allowed: {self._allowed_text(rule)})"
                elif kind == "allowed":
                    message = (f"empty {names} grants {what}, not allowed {scope} "
                               f"(allowed: {self._allowed_text(rule)})")
                elif grant is not None:
                    message = f"{what} must be listed in requireApproval"
                else:
                    message = (f"empty {names} grants {what}, which must be listed in requireApproval; "
                               "name each tool")
                self.report(node.obj, grant.path if grant else use.names_path, rule.name, message, rule.severity)

    def _check_reach(self, rule: PolicyRule, node: AgentNode) -> None:
        """What the agent reaches through the agents it delegates to, however deep."""
        scope = self._scope(rule, node)
        reported: set[tuple[str, str]] = set()
        for delegation in node.delegations:
            queue = deque([[node.key, delegation.target]])
            seen = {node.key, delegation.target}
            while queue:
                chain = queue.popleft()
                holder = self.graph.get(chain[-1])
                shown = " -> ".join(_short(k, node.namespace) for k in chain)
                if holder is None:
                    if (chain[-1], "") not in reported:
                        reported.add((chain[-1], ""))
                        self.unverifiable(node.obj, delegation.path, rule.name,
                                          f"{shown}: agent {chain[-1]} is not in the render, "
                                          "so the tools it holds are unknown")
                    continue
                names = "allow" if holder.kind == "AgentDescription" else "toolNames"
                # A holder the rule applies to is reported itself; its callers are not, for its grants.
                direct = id(holder) in self.applies[rule.name]
                for use in ([] if direct else holder.servers):
                    for kind, grant, what in self._risk_problems(rule, use):
                        seen_key = (holder.key, f"{use.key}/{grant.tool if grant else '*'}")
                        if seen_key in reported:
                            continue
                        reported.add(seen_key)
                        if grant is None:
                            what = what.replace(f"every tool of {use.key}",
                                                f"every tool of {use.key} (empty {names})", 1)
                        if kind == "allowed":
                            message = (f"{shown} holds {what}, not allowed {scope} "
                                       f"(allowed: {self._allowed_text(rule)})")
                        else:
                            message = f"{shown} holds {what} without requireApproval"
                        self.report(node.obj, delegation.path, rule.name, message, rule.severity)
                for nxt in holder.delegations:
                    if nxt.target not in seen:
                        seen.add(nxt.target)
                        queue.append(chain + [nxt.target])

    def _check_explicit(self, rule: PolicyRule, node: AgentNode) -> None:
        for use in node.servers:
            if not use.known:
                self.report(node.obj, use.server_path, rule.name, use.unknown_reason, rule.severity)
            if use.wildcard:
                field_name = "allow" if node.kind == "AgentDescription" else "toolNames"
                self.report(node.obj, use.names_path, rule.name,
                            f"empty {field_name} grants every tool of {use.key}; name each tool", rule.severity)
            elif use.known:
                server = self.servers.get(use.key)
                for grant in use.grants:
                    if grant.risk is None:
                        hint = difflib.get_close_matches(grant.tool, sorted(server.all_tools()) if server else [],
                                                         n=1, cutoff=0.6)
                        self.report(node.obj, grant.path, rule.name,
                                    f"tool {grant.tool} is not in the catalog of {use.key}"
                                    + (f"; did you mean {hint[0]!r}?" if hint else ""), rule.severity)

    def _check_max_tools(self, rule: PolicyRule, node: AgentNode) -> None:
        mcp = sum(use.named if not use.wildcard else len(use.grants) for use in node.servers)
        total = mcp + len(node.delegations)
        if total > rule.max_tools:
            unknown = any(use.wildcard and not use.known for use in node.servers)
            self.report(node.obj, node.tools_path, rule.name,
                        f"{'at least ' if unknown else ''}{total} tools ({mcp} MCP tools, {len(node.delegations)} "
                        f"agent{'s' if len(node.delegations) != 1 else ''}) exceed the maximum of {rule.max_tools} {self._scope(rule, node)}", rule.severity)

    def _check_cross_namespace(self, rule: PolicyRule, node: AgentNode) -> None:
        cross = rule.cross_namespace
        scope = self._scope(rule, node)
        for use in node.servers:
            if use.namespace == node.namespace:
                continue
            if use.kind == "MCPServer":
                self.report(node.obj, use.namespace_path, rule.name,
                            f"kmcp MCPServer {use.key} is in another namespace; kagent resolves only "
                            "RemoteMCPServers and Agents across namespaces", rule.severity)
            elif not any(fnmatchcase(use.namespace, p) for p in cross.tool_servers):
                self.report(node.obj, use.namespace_path, rule.name,
                            f"tool server {use.key} is in namespace {use.namespace}; tool servers of other "
                            f"namespaces are not allowed {scope} (allowed: {', '.join(cross.tool_servers) or 'none'})",
                            rule.severity)
            else:
                admitted, how = self._server_admits(use.key, node.namespace)
                self._admission(rule, node, use.namespace_path, f"tool server {use.key}", admitted, how)
        for delegation in node.delegations:
            target_ns = delegation.target.split("/", 1)[0]
            if target_ns == node.namespace:
                continue
            if not any(fnmatchcase(target_ns, p) for p in cross.agents):
                self.report(node.obj, delegation.namespace_path, rule.name,
                            f"agent {delegation.target} is in namespace {target_ns}; agents of other namespaces "
                            f"are not allowed {scope} (allowed: {', '.join(cross.agents) or 'none'})", rule.severity)
            else:
                admitted, how = self._agent_admits(delegation.target, node.namespace)
                self._admission(rule, node, delegation.namespace_path, f"agent {delegation.target}", admitted, how)

    def _admission(self, rule: PolicyRule, node: AgentNode, path: str, target: str,
                   admitted: bool | None, how: str) -> None:
        if admitted is None:
            self.unverifiable(node.obj, path, rule.name,
                              f"{target} is not in the render{how}, so whether its spec.allowedNamespaces "
                              f"admits namespace {node.namespace} is unknown")
        elif not admitted:
            self.report(node.obj, path, rule.name,
                        f"{target} does not admit namespace {node.namespace} ({how})", rule.severity)

    def _server_admits(self, key: str, source: str) -> tuple[bool | None, str]:
        obj = self.remote_servers.get(key)
        if obj is not None:
            return self._admits(obj, source)
        server = self.servers.get(key)
        admits = server.admits if server is not None else None
        if admits == "auto":
            return True, ""
        if admits == "All":
            return True, ""
        if isinstance(admits, list):
            return source in admits, f"its catalog entry admits {', '.join(admits) or 'no namespace'}"
        return None, " and no catalog entry declares its allowedNamespaces"

    def _agent_admits(self, key: str, source: str) -> tuple[bool | None, str]:
        node = self.graph.get(key)
        if node is None:
            return None, ""
        if node.kind == "AgentDescription":
            return True, ""  # expand sets allowedNamespaces from the agents that delegate to it
        return self._admits(node.obj, source)

    def _admits(self, obj: dict, source: str) -> tuple[bool | None, str]:
        spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
        allowed = spec.get("allowedNamespaces")
        allowed = allowed if isinstance(allowed, dict) else {}
        origin = allowed.get("from") or "Same"
        if origin == "All":
            return True, ""
        if origin != "Selector":
            return False, f"spec.allowedNamespaces from: {origin}"
        selector = allowed.get("selector") if isinstance(allowed.get("selector"), dict) else {}
        labels, known = self.labels_of_namespace(source)
        if _raw_selector_matches(selector, labels):
            return True, ""
        if not known and _raw_selector_keys(selector) - {NAMESPACE_NAME_LABEL}:
            return None, ""
        return False, "spec.allowedNamespaces selector does not match it"

    def _check_models(self, rule: PolicyRule, node: AgentNode) -> None:
        models = rule.models
        scope = self._scope(rule, node, prefer_environment=True)
        if node.kind == "AgentDescription":
            if node.tier is not None:
                self.unverifiable(node.obj, "spec.model", rule.name,
                                  f"model tier {node.tier} becomes a ModelConfig in the environment function; "
                                  "run the policy after it to check providers and models")
            return
        for path, name in node.models:
            config = self.model_configs.get(f"{node.namespace}/{name}")
            if config is None:
                self.unverifiable(node.obj, path, rule.name,
                                  f"ModelConfig {name} is not in the render, so its provider is unknown")
                continue
            spec = config.get("spec") if isinstance(config.get("spec"), dict) else {}
            provider = spec.get("provider") or "OpenAI"  # the CRD default
            model = spec.get("model") if isinstance(spec.get("model"), str) else ""
            if provider in models.forbidden_providers or (
                    models.allowed_providers is not None and provider not in models.allowed_providers):
                allowed = (f" (allowed: {', '.join(models.allowed_providers) or 'none'})"
                           if models.allowed_providers is not None else "")
                self.report(node.obj, path, rule.name,
                            f"provider {provider} (ModelConfig {name}) is not allowed {scope}{allowed}", rule.severity)
            if any(fnmatchcase(model, p) for p in models.forbidden_models) or (
                    models.allowed_models is not None and not any(fnmatchcase(model, p) for p in models.allowed_models)):
                allowed = (f" (allowed: {', '.join(models.allowed_models) or 'none'})"
                           if models.allowed_models is not None else "")
                self.report(node.obj, path, rule.name,
                            f"model {model} (ModelConfig {name}) is not allowed {scope}{allowed}", rule.severity)

    # -- delegation: always checked ----------------------------------------------------------------
    def _edges(self, key: str) -> list[tuple[str, Delegation]]:
        node = self.graph.get(key)
        return [(d.target, d) for d in node.delegations if d.target in self.graph] if node else []

    def _check_delegation(self) -> None:
        from .. import delegation

        graph = {key: [target for target, _ in self._edges(key)] for key in sorted(self.graph)}
        cyclic: set[str] = set()
        for component in delegation.strongly_connected(graph):
            start = component[0]  # components are sorted
            if len(component) == 1 and start not in graph[start]:
                continue
            cyclic |= set(component)
            chain, first = self._cycle_from(start, set(component))
            node = self.graph[start]
            self.report(node.obj, first.path, RULE_DELEGATION_CYCLE,
                        " -> ".join(_short(k, node.namespace) for k in chain)
                        + ": kagent refuses agents in a delegation cycle")
        # Depth outside cycles (a cycle is reported on its own), without recursion: chains can be long.
        limit = self.spec.max_delegation_depth
        acyclic = {key: [t for t in targets if t not in cyclic] for key, targets in graph.items() if key not in cyclic}
        for key, hops, chain in delegation.too_deep(acyclic, limit):
            node = self.graph[key]
            first = next(d for target, d in self._edges(key) if target == chain[1])
            shown = " -> ".join(_short(k, node.namespace) for k in chain[:limit + 2])
            if len(chain) > limit + 2:  # one hop past the limit proves it; every agent of a long chain is reported
                shown += f" -> ... ({len(chain)} agents)"
            self.report(node.obj, first.path, RULE_DELEGATION_DEPTH,
                        f"{shown}: {hops} delegations, deeper than {limit}")

    def _cycle_from(self, start: str, component: set[str]) -> tuple[list[str], Delegation]:
        """The shortest cycle through `start` inside its component, and its first edge."""
        for target, delegation in self._edges(start):
            if target == start:
                return [start, start], delegation
        queue = deque([(target, [start, target], delegation) for target, delegation in self._edges(start)
                       if target in component])
        seen = {start}
        while queue:
            key, chain, first = queue.popleft()
            if key in seen:
                continue
            seen.add(key)
            for target, _ in self._edges(key):
                if target == start:
                    return chain + [start], first
                if target in component and target not in seen:
                    queue.append((target, chain + [target], first))
        raise AssertionError("a strongly connected component without a cycle")  # pragma: no cover


# -- helpers -------------------------------------------------------------------------------------


def _agent_matches(pattern: str, node: AgentNode) -> bool:
    if "/" in pattern:
        return fnmatchcase(node.key, pattern)
    return fnmatchcase(node.name, pattern)


def _short(key: str, namespace: str) -> str:
    return key.split("/", 1)[1] if key.split("/", 1)[0] == namespace else key


def _summary(grants: list[Grant]) -> str:
    by_risk: dict[str, list[str]] = {}
    for grant in grants:
        by_risk.setdefault(grant.effective, []).append(grant.tool)
    parts = []
    for risk in sorted(by_risk, key=RANK.__getitem__, reverse=True):
        tools = sorted(by_risk[risk])
        listed = ", ".join(tools[:LISTED]) + (", ..." if len(tools) > LISTED else "")
        parts.append(f"{len(tools)} {risk} tool{'s' if len(tools) != 1 else ''} ({listed})")
    return " and ".join(parts)


def _raw_selector_keys(selector: dict) -> set[str]:
    keys = set(selector.get("matchLabels") or {}) if isinstance(selector.get("matchLabels"), dict) else set()
    for expr in selector.get("matchExpressions") or []:
        if isinstance(expr, dict) and isinstance(expr.get("key"), str):
            keys.add(expr["key"])
    return keys


def _raw_selector_matches(selector: dict, labels: dict[str, str]) -> bool:
    """A Kubernetes LabelSelector as a plain dict (an empty selector matches everything)."""
    match_labels = selector.get("matchLabels") if isinstance(selector.get("matchLabels"), dict) else {}
    if any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        if not isinstance(expr, dict):
            return False
        key, operator, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return False
    return True

