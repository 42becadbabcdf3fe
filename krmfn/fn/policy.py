"""policy: check every tool grant against the catalog and the ToolPolicy. Never modifies items.

Works on every form an agent takes in a repository: kagent `Agent`s rendered by expand,
`AgentDescription`s before expansion, and plain kagent YAML written by hand, all judged alike.

Nothing an object says about itself lowers a verdict (`krmfn.risk`): a tool's risk is the riskiest
class of krmfn's built-in catalog (a floor), the ToolCatalogs in the input (expand passes them on,
marked local-config) and the policy's own `spec.catalog`; an Agent's `krmfn.dev/tool-risks`
annotation can only raise it; a tool no catalog knows is `destructive` and says so. An agent's
environment is the policy's `spec.environment`, never its own annotation; an Agent without a
namespace is refused (Argo CD would put it in the Application's namespace, unknown here).

Every violation is one result, `rule <name>: <what>`, on the agent and the field that grants it.
"""

from __future__ import annotations

import difflib
from collections import deque
from fnmatch import fnmatchcase
from typing import Any

from ..api.agent import AgentDescription
from ..api.catalog import ToolCatalog
from ..api.policy import (
    RULE_DELEGATION_CYCLE,
    RULE_DELEGATION_DEPTH,
    AgentMatch,
    PolicyRule,
    ToolPolicy,
)
from ..constants import (
    ANNOTATION_TOOL_RISKS,
    API_VERSION,
    ASSUMED_RISK,
    ANNOTATION_CATALOG_SERVER,
    NAMESPACE_NAME_LABEL,
)
from ..expand.catalog import Catalog, version_order
from ..reader import (ModelConfigRead, admits, is_agent, is_remote_server, read_agent, read_model_config, server_url,
                      templates_of)
from ..risk import RANK, RiskModel, builtin_kagent_tools, claimed_risks
from ..runtime.kobject import KObject
from ..runtime.resourcelist import ResourceList
from ..runtime.results import ERROR, Result
from ..runtime.typed import parse
from ..runtime.record import record

LISTED = 3  # tool names quoted in a summary line


def process(rl: ResourceList, policy: ToolPolicy) -> None:
    rl.results.extend(Checker(policy, rl.function_config or {}, rl.items).run())


# -- what the checker knows about servers and agents --------------------------------------------


@record
class KnownServer:
    key: str
    kinds: set[str] = set()
    # spec.allowedNamespaces when the server is not in the render: "auto" (expand admits its
    # users), "All", a list of namespaces, or None (unknown)
    admits: Any = None
    url: str = ""  # the catalog's remote.url (a version's own url), when it gives one
    versions: dict[str, str] = {}  # a versioned server: version -> its object's key


@record
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


@record
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
    grants: list[Grant] = []  # named tools, or every catalog tool if wildcard
    copied: bool = False  # 1.0: a local RemoteMCPServer copying this catalog server (no admission needed)


@record
class Delegation:
    path: str
    namespace_path: str
    target: str  # namespace/name


@record
class AgentNode:
    obj: dict
    kind: str  # Agent or AgentDescription
    name: str
    namespace: str
    labels: dict[str, str]
    environment: str | None
    tools_path: str
    servers: list[ServerUse] = []
    delegations: list[Delegation] = []
    models: list[tuple[str, str]] = []  # (field path, ModelConfig name)
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
        self.model_configs: dict[str, ModelConfigRead] = {}
        self.remote_servers: dict[str, dict] = {}
        self.servers: dict[str, KnownServer] = {}
        self.risks = RiskModel()
        self.nodes: list[AgentNode] = []
        self.graph: dict[str, AgentNode] = {}
        self.description_keys: set[str] = set()
        self._unverifiable_seen: set[tuple] = set()
        self.applies: dict[str, set[int]] = {}  # rule name -> ids of the nodes it applies to
        self._reach: dict[str, tuple] = {}  # rule name -> what _reach_index computed

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
        self.templates = templates_of(self.items)
        for obj in self.items:
            ref = KObject(obj)
            key = f"{ref.namespace}/{ref.name}"
            if ref.is_a("v1", "Namespace"):
                self.namespace_labels[ref.name] = ref.labels
            elif (config := read_model_config(obj)) is not None:
                self.model_configs[key] = config
            elif is_remote_server(obj):
                self.remote_servers[key] = obj
            elif is_agent(obj):
                agents.append(obj)
            elif ref.is_a(API_VERSION, "ToolCatalog"):
                catalogs.append(obj)
            elif ref.is_a(API_VERSION, "AgentDescription"):
                descriptions.append(obj)
        for obj in catalogs:
            self._add_catalog(obj)
        self._add_policy_catalog()
        for obj in agents:
            if self._has_namespace(obj):
                self._add_node(self._agent_node(obj))
        for obj in descriptions:
            desc, problems = parse(AgentDescription, obj)
            self.results.extend(problems)
            if desc is not None and self._has_namespace(obj):
                self._add_node(self._description_node(desc, obj))

    def _has_namespace(self, obj: dict) -> bool:
        if KObject(obj).namespace:
            return True
        self.results.append(Result.about(
            obj, "metadata.namespace", "not set: Argo CD would apply it to the Application's destination "
            "namespace, which the policy cannot know; set metadata.namespace (or the kustomization's namespace:)"))
        return False

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

    def _builtin(self) -> None:
        name, namespace, kind, tools = builtin_kagent_tools()
        server = self._server(f"{namespace}/{name}")
        server.kinds.add(kind)
        self.risks.add(server.key, tools)

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
            self.risks.add(entry.key, entry.tools)
            if entry.url:
                server.url = entry.url
            server.versions.update({v: e.key for v, e in entry.versions.items()})
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
                self.risks.add(server.key, builtin_kagent_tools()[3])
            self.risks.add(server.key, entry.tools)  # it may raise a class, like any catalog
            if entry.allowed_namespaces is not None:
                server.admits = entry.allowed_namespaces

    def risk(self, key: str, tool: str, claimed: dict[str, dict[str, str]]) -> str | None:
        return self.risks.risk(key, tool, claimed.get(key))

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

    def _version(self, key: str, pin: str | None) -> tuple[str | None, str]:
        """The server a description's grant gets: a pin's version, else the server itself, whose
        classes are the riskiest any version gives (the policy cannot know the environment's rollout)."""
        if pin is None:
            return key, ""
        versions = self.servers[key].versions
        if pin in versions:
            return versions[pin], ""
        listed = ", ".join(sorted(versions, key=version_order))
        return None, f"server {key} has no version {pin}" + (f" (versions: {listed})" if versions
                                                              else " (it lists no versions)")

    def _unknown_server(self, reference: str) -> str:
        names = sorted(self.servers) + sorted({k.split("/", 1)[1] for k in self.servers})
        hint = difflib.get_close_matches(reference, names, n=1, cutoff=0.6)
        return f"server {reference} is not in any catalog" + (f"; did you mean {hint[0]!r}?" if hint else "")

    # -- agents ----------------------------------------------------------------------------------
    def _agent_node(self, obj: dict) -> AgentNode | None:
        agent = read_agent(obj, templates=self.templates)
        ref = KObject(obj)
        node = AgentNode(obj, "Agent", agent.name, agent.namespace, ref.labels, self.spec.environment,
                         agent.tools_path, models=list(agent.models))
        if agent.unresolved:  # a 1.0 Agent whose tools are in a template the render does not hold
            self.unverifiable(obj, agent.template_ref.path if agent.template_ref else agent.base, "tools",
                              f"{agent.unresolved} is not in the render: its tools cannot be judged")
        if agent.template is not None:
            ref = KObject(agent.template)  # 1.0: the template carries the tools and what expand said of them
        claimed = claimed_risks(ref.metadata.get("annotations", {}).get(ANNOTATION_TOOL_RISKS)
                                if isinstance(ref.metadata.get("annotations"), dict) else None)
        if claimed is None:
            self.results.append(Result.about(
                obj, f"metadata.annotations[{ANNOTATION_TOOL_RISKS}]",
                "not a JSON object of server -> tool -> risk; the policy cannot read it"))
            claimed = {}
        node.servers = [self._agent_server_use(node, use, claimed) for use in agent.tool_uses]
        node.delegations = [Delegation(d.path, d.namespace_path, d.key) for d in agent.delegations]
        return node

    def _agent_server_use(self, node: AgentNode, use, claimed: dict[str, dict[str, str]]) -> ServerUse:
        key = self._stands_for(use.key)
        copied = key != use.key
        kind = use.kind or use.written_kind or "MCPServer"
        server = self.servers.get(key)
        known, reason = True, ""
        if server is None:  # what the Agent claims of a server never makes it known
            known = False
            elsewhere = sorted(k for k in self.servers if k.split("/", 1)[1] == use.name)
            if elsewhere and use.namespace_path == use.name_path:
                reason = (f"server {key} is not in any catalog; {', '.join(elsewhere)} is, but without "
                          f"mcpServer.namespace kagent looks in the agent's namespace {node.namespace}")
            else:
                reason = self._unknown_server(key)
        elif server.kinds and kind not in server.kinds:
            known = False
            reason = (f"server {key} is a {' or '.join(sorted(server.kinds))} in the catalog, but the agent "
                      f"references kind {kind}" + (" (an empty kind means a kmcp MCPServer)" if not use.written_kind else ""))
        names = list(use.tools or ())
        result = ServerUse(
            path=use.path, server_path=use.name_path, namespace_path=use.namespace_path,
            names_path=use.names_path, key=key, namespace=key.split("/", 1)[0] if copied else use.namespace,
            kind=kind, known=known, unknown_reason=reason, wildcard=not names, named=len(names), copied=copied)
        if names:
            result.grants = [Grant(f"{use.names_path}[{i}]", t, self.risk(key, t, claimed), t in use.approvals)
                             for i, t in enumerate(use.listed) if isinstance(t, str)]
        elif known:
            result.grants = [Grant(use.names_path, t, self.risk(key, t, claimed), False)
                             for t in sorted(self.risks.tools(key))]
        return result

    def _stands_for(self, key: str) -> str:
        """The catalog server a namespace-local kagent 1.0 RemoteMCPServer copies, else `key`.

        Believed only when the copy's URL equals the catalog's: an annotation alone never moves a
        server into a catalog (and so never lowers a risk).
        """
        copy = self.remote_servers.get(key)
        if key in self.servers or copy is None:
            return key
        original = KObject(copy).annotations.get(ANNOTATION_CATALOG_SERVER)
        server = self.servers.get(original) if isinstance(original, str) else None
        if server is not None and server.url and server_url(copy) == server.url:
            return original
        return key

    def _description_node(self, desc: AgentDescription, obj: dict) -> AgentNode:
        namespace = desc.metadata.namespace
        node = AgentNode(obj, "AgentDescription", desc.metadata.name, namespace, dict(desc.metadata.labels),
                         self.spec.environment, "spec.tools", tier=None if desc.spec.byo else desc.spec.model)
        for index, grant in enumerate(desc.spec.tools):
            base = f"spec.tools[{index}]"
            key, reason = self.resolve(grant.server_name, namespace)
            if key is not None and grant.pin is not None:
                resolved = key
                key, reason = self._version(key, grant.pin)
                if key is None:  # an unknown version is an unknown server: its tools count as destructive
                    key = f"{resolved}@{grant.pin}"
                    reason = reason or f"server {key} is not in any catalog"
            known = key is not None and not reason
            if key is None:
                key = grant.server_name if "/" in grant.server_name else f"{namespace}/{grant.server_name}"
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
                              for t in sorted(self.risks.tools(key))]
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
                        self.config, f"spec.rules[{index}].match.environments", rule.name,
                        f"the environment of agent {node.key} is unknown: set spec.environment (what an "
                        "agent says of itself, its krmfn.dev/environment annotation, is not trusted)")
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
        for use in node.servers:
            names = _list_name(use.names_path)
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

    def _reach_index(self, rule: PolicyRule):
        """Per rule, once: the nearest uncovered agent holding a grant the rule refuses, and the
        nearest agent missing from the render, for every agent (linear: `delegation.nearest`)."""
        from .. import delegation

        cached = self._reach.get(rule.name)
        if cached is None:
            graph = {key: [d.target for d in node.delegations] for key, node in self.graph.items()}
            missing = {t for targets in graph.values() for t in targets if t not in self.graph}
            graph.update({key: [] for key in missing})
            # A holder the rule applies to is reported itself; its callers are not, for its grants.
            holders = {key for key, node in self.graph.items() if id(node) not in self.applies[rule.name]
                       and any(self._risk_problems(rule, use) for use in node.servers)}
            cached = graph, delegation.nearest(graph, holders), delegation.nearest(graph, missing)
            self._reach[rule.name] = cached
        return cached

    def _check_reach(self, rule: PolicyRule, node: AgentNode) -> None:
        """What the agent reaches through the agents it delegates to, however deep: per delegation,
        the nearest agent that holds what the rule refuses (and the nearest one not in the render)."""
        from .. import delegation

        graph, holders, missing = self._reach_index(rule)
        scope = self._scope(rule, node)
        reported: set[tuple[str, str]] = set()
        for d in node.delegations:
            routed = delegation.route(graph, missing, node.key, first=d.target)
            if routed is not None and (routed[0][-1], "") not in reported:
                reported.add((routed[0][-1], ""))
                shown = " -> ".join(_short(k, node.namespace) for k in [node.key, *routed[0]])
                self.unverifiable(node.obj, d.path, rule.name,
                                  f"{shown}: agent {routed[0][-1]} is not in the render, "
                                  "so the tools it holds are unknown")
            routed = delegation.route(graph, holders, node.key, first=d.target)
            if routed is None or routed[0][-1] == node.key:
                continue
            holder = self.graph[routed[0][-1]]
            shown = " -> ".join(_short(k, node.namespace) for k in [node.key, *routed[0]])
            for use in holder.servers:
                names = _list_name(use.names_path)
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
                    self.report(node.obj, d.path, rule.name, message, rule.severity)

    def _check_explicit(self, rule: PolicyRule, node: AgentNode) -> None:
        for use in node.servers:
            if not use.known:
                self.report(node.obj, use.server_path, rule.name, use.unknown_reason, rule.severity)
            if use.wildcard:
                self.report(node.obj, use.names_path, rule.name,
                            f"empty {_list_name(use.names_path)} grants every tool of {use.key}; name each tool", rule.severity)
            elif use.known:
                for grant in use.grants:
                    if grant.risk is None:
                        hint = difflib.get_close_matches(grant.tool, sorted(self.risks.tools(use.key)),
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
                admitted, how = (True, "") if use.copied else self._server_admits(use.key, node.namespace)
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
        labels, known = self.labels_of_namespace(source)
        verdict, origin = admits(obj, labels, complete=known)
        if verdict is not False:
            return verdict, ""
        if origin == "Selector":
            return False, "spec.allowedNamespaces selector does not match it"
        return False, f"spec.allowedNamespaces from: {origin or 'Same'}"

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
            provider, model = config.provider, config.model
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


def _list_name(names_path: str) -> str:
    """The name of the field that lists a use's tools (a description's `allow`, an Agent's
    `toolNames` or `tools`), as the author reads it in the file."""
    return names_path.rpartition(".")[2]


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
