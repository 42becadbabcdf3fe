"""Checks the API server does not do: references between the rendered objects.

kagent's CRDs have no admission webhook, so a dangling reference is accepted by the cluster and
only surfaces later in `status.conditions` (or as a Pod that cannot start). These checks run over
the whole rendered set and follow kagent's own resolution rules (controller/translator at
v0.9.12 .. main):

- Agent `spec.declarative.modelConfig`, `memory.modelConfig` and
  `context.compaction.summarizer.modelConfig` name a ModelConfig in the Agent's namespace.
  `modelConfig` must be set: the CRD documents a `default-model-config` default that the v0.9.12
  controller does not apply.
- a Declarative Agent needs `systemMessage` or `systemMessageFrom` (the controller refuses it
  otherwise); `systemMessageFrom`, `headersFrom[].valueFrom`, `promptTemplate.dataSources` resolve
  in the referencing object's namespace.
- `tools[].mcpServer` resolves by (apiGroup, kind): empty or `MCPServer` -> kmcp
  `kagent.dev/v1alpha1` MCPServer; `RemoteMCPServer` -> RemoteMCPServer; `Service` (group "" or
  "core") -> a Service; anything else is refused by kagent. Only RemoteMCPServer may live in
  another namespace, and only when its `spec.allowedNamespaces` admits the Agent's namespace.
  Empty/missing `toolNames` grants every tool of the server (an error here); every
  `requireApproval` entry must be in `toolNames`.
- `tools[].agent` names an Agent (namespace defaults to the source's); cross-namespace only when
  the target's `spec.allowedNamespaces` admits the source namespace; no self-reference, no cycles,
  delegation depth <= 10.
- `allowedNamespaces` is Gateway-API style: `from: Same` (default) | `All` | `Selector` with a
  label `selector` matched against the source Namespace's labels (a Namespace object in the set,
  else only the automatic `kubernetes.io/metadata.name` label is known).
- Secrets and ConfigMaps referenced anywhere (ModelConfig `apiKeySecret`, `tls.caCertSecretRef`,
  Foundry `endpointFrom`, RemoteMCPServer `headersFrom`, MCPServer `secretRefs`/`configMapRefs`,
  deployment env/envFrom/volumes/imagePullSecrets, skills secrets, ...) must be in the rendered set
  or declared external; when the object is in the set, a referenced key must exist in it.
- an Agent's name must be a DNS-1035 label: kagent names the agent's Service after it.

`external` holds objects that exist outside the rendered set, as (kind, namespace, name) tuples,
e.g. `("Secret", "agents", "openai-key")`; kinds are plain kind names (Secret, ConfigMap,
ModelConfig, RemoteMCPServer, MCPServer, Service, Agent, Namespace).
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from ..constants import KAGENT_GROUP, MAX_DELEGATION_DEPTH, NAMESPACE_NAME_LABEL
from ..reader import admits, is_agent, object_refs, read_agent, read_models
from ..runtime.kobject import as_dict, as_str
from ..runtime.results import ERROR, WARNING, Result

__all__ = ["check_references", "MAX_DELEGATION_DEPTH", "KAGENT_GROUP"]

_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?\Z")

_CORE_KINDS = ("Secret", "ConfigMap", "Service", "Namespace", "ServiceAccount")
_KAGENT_KINDS = ("Agent", "ModelConfig", "RemoteMCPServer", "MCPServer")


def check_references(objects: Iterable[Any], external: Iterable[tuple[str, str, str]] = frozenset()) -> list[Result]:
    """Results (errors and warnings) for every broken reference in the rendered set."""
    objs = [o for o in objects if isinstance(o, dict)]
    world = _World(objs, external)
    out: list[Result] = []
    for obj in objs:
        group, version, kind = _gvk(obj)
        if group != KAGENT_GROUP:
            continue
        checker = _Checker(world, obj, out)
        if is_agent(obj):  # a version the reader reads (kagent.dev/v1alpha1 Agents are another shape)
            checker.agent()
        elif (kind == "ModelConfig" and version != "v1alpha1") or kind in ("RemoteMCPServer", "MCPServer"):
            checker.refs()
    out.extend(_delegation_graph(world))
    from . import references_v1  # kagent 1.0: its own kinds and namespace-local rules

    out.extend(references_v1.check(objs, world.external))
    return out


# ------------------------------------------------------------------------------------------


def _gvk(obj: dict) -> tuple[str, str, str]:
    api_version = obj.get("apiVersion") if isinstance(obj.get("apiVersion"), str) else ""
    group, _, version = api_version.rpartition("/")
    kind = obj.get("kind") if isinstance(obj.get("kind"), str) else ""
    return group, version, kind


def _meta(obj: dict) -> tuple[str, str]:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    ns = meta.get("namespace") if isinstance(meta.get("namespace"), str) else ""
    name = meta.get("name") if isinstance(meta.get("name"), str) else ""
    return ns, name


def _nsname(ns: str, name: str) -> str:
    return f"{ns}/{name}" if ns else name


def _in_ns(ns: str) -> str:
    return f'namespace "{ns}"' if ns else "the default (unset) namespace"


class _World:
    """Index of the rendered set plus the declared-external names."""

    def __init__(self, objs: list[dict], external: Iterable[tuple[str, str, str]]):
        self.objs: dict[tuple[str, str, str], dict] = {}
        for obj in objs:
            group, version, kind = _gvk(obj)
            ns, name = _meta(obj)
            if (group == KAGENT_GROUP and kind in _KAGENT_KINDS) or (group == "" and kind in _CORE_KINDS):
                if kind == "Agent" and not is_agent(obj):
                    continue
                if kind == "Namespace":
                    ns = ""
                self.objs.setdefault((kind, ns, name), obj)
        self.external = frozenset(tuple(x) for x in external)

    def get(self, kind: str, ns: str, name: str) -> dict | None:
        return self.objs.get((kind, ns, name))

    def exists(self, kind: str, ns: str, name: str) -> bool:
        # an external name `*`: every object of that kind in that namespace exists outside the render
        return (kind, ns, name) in self.objs or (kind, ns, name) in self.external or (kind, ns, "*") in self.external

    def namespace_labels(self, ns: str) -> tuple[dict, bool]:
        """(labels, complete): labels of Namespace `ns`; complete=False when only the automatic
        kubernetes.io/metadata.name label is known."""
        obj = self.objs.get(("Namespace", "", ns))
        base = {NAMESPACE_NAME_LABEL: ns}
        if obj is None:
            return base, False
        labels = as_dict(as_dict(obj.get("metadata")).get("labels"))
        return {**{k: v for k, v in labels.items() if isinstance(v, str)}, **base}, True

    def agents(self) -> list[dict]:
        return [o for (k, _, _), o in sorted(self.objs.items(), key=lambda kv: kv[0]) if k == "Agent"]


class _Checker:
    def __init__(self, world: _World, obj: dict, out: list[Result]):
        self.world = world
        self.obj = obj
        self.out = out
        self.ns, self.name = _meta(obj)

    # reporting ----------------------------------------------------------------------------
    def error(self, field: str, message: str) -> None:
        self.out.append(Result.about(self.obj, field, message, severity=ERROR, check="reference"))

    def warning(self, field: str, message: str) -> None:
        self.out.append(Result.about(self.obj, field, message, severity=WARNING, check="reference"))

    # generic references ---------------------------------------------------------------------
    def require(self, kind: str, name: Any, field: str, *, what: str = "", hint: str = "") -> dict | None:
        """`name` must exist as `kind` in this object's namespace."""
        if not isinstance(name, str) or not name:
            self.error(field, f"{kind} name is empty")
            return None
        if self.world.exists(kind, self.ns, name):
            return self.world.get(kind, self.ns, name)
        msg = (f'{what or kind} "{name}" not found in {_in_ns(self.ns)}: it is neither in the rendered '
               f"output nor declared external")
        self.error(field, msg + (f" ({hint})" if hint else ""))
        return None

    def refs(self) -> None:
        """Every Secret and ConfigMap the object names (the kagent reader finds them); a referenced
        key must exist in the object when it is in the set; optional ones need not exist."""
        for ref in object_refs(self.obj):
            if not ref.kind:
                self.error(ref.kind_path, f"prompt data sources must be ConfigMaps, not {ref.written}")
                continue
            if ref.optional:
                continue
            target = self.require(ref.kind, ref.name, ref.path)
            if target is None or not isinstance(ref.key, str) or not ref.key:
                continue
            keys: set[str] = set()
            for section in ("data", "stringData") if ref.kind == "Secret" else ("data", "binaryData"):
                keys.update(k for k in as_dict(target.get(section)) if isinstance(k, str))
            if ref.key not in keys:
                self.error(ref.key_path or ref.path, f'key "{ref.key}" not found in {ref.kind} '
                                                     f"{_nsname(self.ns, ref.name)} (has: {', '.join(sorted(keys)) or 'no keys'})")

    def allowed(self, target: dict, target_kind: str, field: str) -> None:
        """Cross-namespace reference from self.ns to `target`: its allowedNamespaces must admit it."""
        tns, tname = _meta(target)
        ref = f"{target_kind} {_nsname(tns, tname)}"
        labels, complete = self.world.namespace_labels(self.ns)
        verdict, frm = admits(target, labels, complete)
        if verdict is True:
            return
        if frm is None:
            self.error(field, f"cross-namespace reference to {ref} is not allowed from {_in_ns(self.ns)}: "
                              f"the target has no spec.allowedNamespaces (only same-namespace references)")
            return
        if frm == "Same":
            self.error(field, f"cross-namespace reference to {ref} is not allowed from {_in_ns(self.ns)}: "
                              f"its spec.allowedNamespaces.from is Same")
            return
        if frm == "Selector":
            if verdict is None:
                self.warning(field, f"cannot verify that {ref} admits {_in_ns(self.ns)}: its allowedNamespaces "
                                    f"selector needs the labels of Namespace {self.ns!r}, which is not in the "
                                    f"rendered output")
                return
            self.error(field, f"cross-namespace reference to {ref} is not allowed from {_in_ns(self.ns)}: "
                              f"the namespace's labels do not match its spec.allowedNamespaces.selector")
            return
        self.error(field, f"cross-namespace reference to {ref}: unknown allowedNamespaces.from {frm!r}")

    # kinds ----------------------------------------------------------------------------------
    def agent(self) -> None:
        if self.name and (len(self.name) > 63 or not _DNS1035_LABEL.match(self.name)):
            self.error("metadata.name", f'Agent name "{self.name}" must be a DNS-1035 label (lower case '
                                        f"alphanumeric or '-', starting with a letter, at most 63 characters): "
                                        f"kagent creates a Service with the agent's name")
        self.refs()
        models = read_models(self.obj)
        if models is None:
            return  # BYO, or no declarative section (the schema's CEL rule reports it)
        if not models.main.name:
            self.error(models.main.path,
                       "modelConfig is not set: kagent v0.9.12 does not apply the documented default "
                       "\"default-model-config\"; name a ModelConfig in the Agent's namespace")
        else:
            self.model_ref(models.main.name, models.main.path)
        for extra in (models.memory, models.summarizer):
            if extra is not None and extra.name:
                self.model_ref(extra.name, extra.path)
        agent = read_agent(self.obj)
        if not agent.system_prompt and agent.system_prompt_from is None:
            self.error(agent.prompt_path, "a Declarative agent needs systemMessage or systemMessageFrom "
                                                        "(kagent refuses it: at least one system message source must "
                                                        "be specified)")
        for use in agent.tool_uses:
            self.mcp_tool(use)
        for delegation in agent.delegations:
            self.agent_tool(delegation)

    def model_ref(self, name: Any, field: str) -> None:
        if isinstance(name, str) and "/" in name:
            self.error(field, f'ModelConfig reference "{name}" must be a plain name: ModelConfigs resolve in the '
                              f"Agent's own namespace and cannot be shared across namespaces")
            return
        self.require("ModelConfig", name, field)

    def mcp_tool(self, use) -> None:
        group, kind, name = use.api_group, use.written_kind, use.name
        resolved = use.kind
        if not resolved:
            self.error(f"{use.server_path}.kind", f'unknown tool server type "{group + "/" if group else ""}{kind}": kagent '
                                       f"resolves only MCPServer (the default), RemoteMCPServer and Service")
            return
        tns = use.namespace
        ref = f"{resolved} {_nsname(tns, as_str(name))}"
        if not use.listed:
            self.error(use.names_path, f"toolNames is empty: kagent then grants every tool of {ref}; "
                                            f"list the allowed tools explicitly")
        names = set(use.tools or ())
        for j, t in enumerate(use.approval_list):
            if t not in names:
                self.error(f"{use.approvals_path}[{j}]", f'"{t}" requires approval but is not in toolNames')
        if tns != self.ns:
            if resolved != "RemoteMCPServer":
                self.error(use.namespace_path, f"cross-namespace reference to {ref} is not allowed from "
                                                f"{_in_ns(self.ns)}: {resolved} does not support cross-namespace "
                                                f"references (only RemoteMCPServer does)")
                return
            target = self.world.get("RemoteMCPServer", tns, as_str(name))
            if target is None:
                if not self.world.exists("RemoteMCPServer", tns, as_str(name)):
                    self.error(use.name_path, f'RemoteMCPServer "{as_str(name)}" not found in {_in_ns(tns)}: it is '
                                               f"neither in the rendered output nor declared external")
                else:
                    self.warning(use.namespace_path, f"cannot verify that external {ref} admits "
                                                      f"{_in_ns(self.ns)} (spec.allowedNamespaces)")
                return
            self.allowed(target, "RemoteMCPServer", use.namespace_path)
            return
        hint = ""
        if resolved == "MCPServer" and not kind and self.world.exists("RemoteMCPServer", self.ns, as_str(name)):
            hint = "an empty kind means a kmcp MCPServer; a RemoteMCPServer of that name exists: set kind: RemoteMCPServer"
        self.require(resolved, name, use.name_path, hint=hint)

    def agent_tool(self, delegation) -> None:
        group, kind, name = delegation.api_group, delegation.kind, delegation.name
        if kind not in ("", "Agent") or group not in ("", KAGENT_GROUP):
            self.error(delegation.kind_path, f"an agent tool must reference a kagent.dev Agent, not "
                                       f"{group + '/' if group else ''}{kind}")
            return
        tns = delegation.namespace
        if tns == self.ns and name == self.name:
            self.error(delegation.name_path, f"agent tool cannot be used to reference itself ({_nsname(tns, name)})")
            return
        if not name:
            self.error(delegation.name_path, "Agent name is empty")
            return
        target = self.world.get("Agent", tns, name)
        if target is None:
            if not self.world.exists("Agent", tns, name):
                self.error(delegation.name_path, f'Agent "{name}" not found in {_in_ns(tns)}: it is neither in the '
                                           f"rendered output nor declared external")
            elif tns != self.ns:
                self.warning(delegation.namespace_path, f"cannot verify that external Agent {_nsname(tns, name)} admits "
                                                  f"{_in_ns(self.ns)} (spec.allowedNamespaces)")
            return
        if tns != self.ns:
            self.allowed(target, "Agent", delegation.namespace_path)


def _delegation_graph(world: _World) -> list[Result]:
    """Cycles and chains deeper than kagent's limit among the Agents of the rendered set.

    Linear in agents plus delegations (`krmfn.delegation`): the graph is untrusted input.
    """
    from .. import delegation

    agents = {f"{a.namespace}/{a.name}": a for a in (read_agent(obj) for obj in world.agents()) if a is not None}
    graph: dict[str, list[str]] = {}
    fields: dict[tuple[str, str], str] = {}  # (source, target) -> the field of the first such delegation
    for key, agent in agents.items():
        targets = graph.setdefault(key, [])
        for d in agent.delegations if agent.type == "Declarative" else ():
            if d.key == key or d.key not in agents or d.kind not in ("", "Agent"):
                continue  # self-reference and unknown targets are reported by the reference check
            if (key, d.key) not in fields:
                fields[(key, d.key)] = d.name_path
                targets.append(d.key)
    results: list[Result] = []
    for cycle in delegation.cycles(graph):
        start = cycle[0]
        results.append(Result.about(agents[start].obj, fields[(start, cycle[1])],
                                    f"delegation cycle: {' -> '.join(cycle)} (kagent refuses cyclic agent tool chains)",
                                    check="reference"))
    for key, hops, chain in delegation.too_deep(graph, MAX_DELEGATION_DEPTH):
        names = chain[:13]
        if hops + 1 > len(names):
            names.append(f"... ({hops + 1} agents)")
        results.append(Result.about(agents[key].obj, fields[(key, chain[1])],
                                    f"delegation chain is {hops} levels deep, more than kagent's limit of "
                                    f"{MAX_DELEGATION_DEPTH}: {' -> '.join(names)}", check="reference"))
    return results
