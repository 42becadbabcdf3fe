"""An agent-centric view of a render: for each kagent Agent, what it is told, which model runs it,
what it may do and whom it may call.

`Render.from_objects(items)` reads the objects of one render (what `krmfn build` prints) and
resolves, per Agent, everything through the one kagent reader (`krmfn.reader.read_agent`), so a
kagent 0.10 Agent and a kagent 1.0 Agent with its AgentTemplate (one agent) read alike:

* its prompt: the inline system prompt, or the ConfigMap/Secret key it names, plus every key of
  the prompt-template data sources (their text, not escaped YAML);
* its model (and its memory's embedding model): the ModelConfig it names in its namespace, in
  either API group (provider, model and every other setting, flattened as "parameters"); the tier
  is the ModelConfig's `krmfn.dev/model-tier` label or annotation, else the `model-<tier>` name,
  else the agent's annotation;
* its tools: per server, each granted tool with its risk class (krmfn's built-in catalog is a floor
  the agent's `krmfn.dev/tool-risks` annotation can only raise; what neither knows is "unknown")
  and whether it requires approval; a grant without tool names (every tool) is the tool "*"; a
  1.0 namespace-local server copy is the server it copies (`server_stand_ins`);
* its delegates, skills (A2A skills and skill bundles), deployment (the operational fields),
  the kagent API version and Harness, every other setting (`config`), and its transitive tool
  reach through delegates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from ..constants import (
    AGENT_KIND,
    AGENTTEMPLATE_KIND,
    ANNOTATION_CATALOG_SERVER,
    ANNOTATION_ENVIRONMENT,
    ANNOTATION_EFFORT,
    ANNOTATION_MEMORY_TIER,
    ANNOTATION_MODEL_TIER,  # an annotation on Agents, a label on ModelConfigs
    ANNOTATION_TOOL_RISKS,
    BOOKKEEPING_ANNOTATION_PREFIXES,
    GROUP,
    KAGENT_GROUPS,
    LABEL_AGENT,
    LABEL_MANAGED_BY,
    LOCATION_ANNOTATION_PREFIXES,
    REVIEW_RISKS,
)
from ..reader import is_agent, is_model_config, is_remote_server, read_agent, read_model_config, server_url, templates_of
from ..reader.v1alpha3 import HARNESS_REF_PATH
from ..risk import builtin_floor, builtin_kagent_tools, claimed_risks, riskiest
from ..runtime.kobject import KObject, as_dict

# The risk classes as reviewers see them, in rising order of concern: `krmfn.risk`'s, with what a
# render alone cannot tell ("unknown") shown as such rather than folded into "destructive".
RISK_RANK = {risk: rank for rank, risk in enumerate(REVIEW_RISKS)}
ALL_TOOLS = "*"  # a grant without toolNames: every tool the server offers

# Deployment fields that change how an agent runs, not what it does.
OPERATIONAL_FIELDS = (
    "replicas", "resources", "nodeSelector", "affinity", "tolerations", "imagePullPolicy",
    "imagePullSecrets", "labels", "annotations", "deploymentAnnotations",
)
# Names under which krmfn's built-in catalog of the kagent tool server applies to "every tool".
BUILTIN_SERVER_NAMES = ("kagent-tool-server", "kagent-tools")
# Annotation prefixes that are bookkeeping, not configuration (krmfn's own say what expand did).
IGNORED_ANNOTATION_PREFIXES = (f"{GROUP}/", *BOOKKEEPING_ANNOTATION_PREFIXES)
IGNORED_LABELS = (LABEL_MANAGED_BY, LABEL_AGENT, ANNOTATION_MODEL_TIER)


@dataclass(frozen=True)
class Grant:
    """One tool an agent may call on one server."""

    server: str  # "namespace/name"
    tool: str
    risk: str
    approval: bool


@dataclass
class ModelView:
    config: str | None  # the ModelConfig name the Agent references
    tier: str | None
    provider: str | None = None
    model: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)  # flattened ModelConfig settings
    resolved: bool = False  # the ModelConfig is in the render
    effort: str | None = None  # the ModelConfig's krmfn.dev/effort label, else the Agent's annotation

    def describe(self) -> str:
        if not self.resolved:
            return f"{self.config or '(none)'} (not in the render)"
        return f"{self.provider} {self.model}" if self.model else f"{self.provider} (no model set)"

    def to_json(self) -> dict[str, Any]:
        out = {"modelConfig": self.config, "tier": self.tier, "provider": self.provider,
               "model": self.model, "parameters": self.parameters, "resolved": self.resolved}
        if self.effort is not None:
            out["effort"] = self.effort
        return out


@dataclass(frozen=True)
class Reach:
    """The nearest tool of one risk class an agent can get called through a chain of delegates."""

    risk: str
    via: tuple[str, ...]  # the delegates, first to last (the last holds the tool)


@dataclass
class AgentView:
    namespace: str
    name: str
    type: str
    description: str
    prompt: dict[str, str | None]  # part ("system message", "template ...") -> text (None: unresolved)
    prompt_source: str
    model: ModelView
    memory: ModelView | None  # the embedding model of declarative.memory
    tools: dict[str, dict[str, Grant]]  # server -> tool -> grant
    tool_settings: dict[str, dict[str, Any]]  # server -> flattened kind, apiGroup, headers, ...
    delegates: list[str]
    skills: dict[str, Any]  # skill key -> definition
    deployment: dict[str, Any]  # flattened operational fields
    config: dict[str, Any]  # every other setting, flattened
    # per risk class reached through delegates: (server, tool) of the nearest such tool -> how
    reach: dict[tuple[str, str], Reach] = field(default_factory=dict)
    api_version: str = ""  # kagent.dev/v1alpha2 (kagent 0.x) or api.kagent.dev/v1alpha3 (kagent 1.0)
    harness: str = ""  # kagent 1.0: the Harness it runs on
    bindings: dict[str, int] = field(default_factory=dict)  # server -> tool entries (1.0 splits approvals)
    template: str = ""  # kagent 1.0: the name of its AgentTemplate (in its namespace), when in the render

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def grants(self) -> list[Grant]:
        return [g for server in sorted(self.tools) for _, g in sorted(self.tools[server].items())]

    def destructive_grants(self) -> list[Grant]:
        return [g for g in self.grants() if g.risk == "destructive"]


@dataclass
class Render:
    agents: dict[str, AgentView]
    model_configs: dict[str, dict]  # "namespace/name" -> ModelConfig object
    objects: dict[tuple[str, str, str], dict]  # (kind, namespace, name) -> every non-Agent object
    environment: str | None = None  # the krmfn.dev/environment annotation, when the render has one
    kagent_objects: int = 0  # how many kagent objects the render holds (0: nothing to review)

    @classmethod
    def from_objects(cls, items: Iterable[dict]) -> "Render":
        items = [clean(obj) for obj in items]
        by_key = {(obj.get("kind", ""), _namespace(obj), _name(obj)): obj for obj in items}
        model_configs = {f"{ns}/{name}": obj for (_, ns, name), obj in by_key.items()
                         if is_model_config(obj)}  # either API group: the same model
        templates = templates_of(items)
        stand_ins = server_stand_ins(items)
        agents: dict[str, AgentView] = {}
        objects: dict[tuple[str, str, str], dict] = {}
        used_templates: set[tuple[str, str, str]] = set()
        environment = None
        for key, obj in sorted(by_key.items()):
            environment = environment or _annotations(obj).get(ANNOTATION_ENVIRONMENT)
            if key[0] == AGENT_KIND and is_agent(obj):
                view = agent_view(obj, by_key, model_configs, templates, stand_ins)
                agents[view.key] = view
                if view.template:  # part of this agent, not an object of its own
                    used_templates.add((AGENTTEMPLATE_KIND, view.namespace, view.template))
            else:
                objects[key] = obj
        for key in used_templates:
            objects.pop(key, None)
        compute_reach(agents)
        kagent = sum(1 for obj in items if KObject(obj).group in KAGENT_GROUPS)
        return cls(agents, model_configs, objects, environment, kagent)

    def agent(self, wanted: str, where: str) -> AgentView:
        """The agent `wanted` names (NAME or NAMESPACE/NAME); LookupError, one line naming the
        render (`where`) and its agents, when it names none or more than one."""
        matches = [a for key, a in sorted(self.agents.items())
                   if key == wanted or ("/" not in wanted and a.name == wanted)]
        if len(matches) != 1:
            known = ", ".join(sorted(self.agents)) or "none"
            why = "is ambiguous" if matches else "is not in the render"
            raise LookupError(f"agent {wanted} {why} of {where} (agents: {known})")
        return matches[0]


def clean(obj: dict) -> dict:
    """The object without location annotations (they name files, not configuration)."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("annotations"), dict):
        return obj
    kept = {k: v for k, v in meta["annotations"].items()
            if not k.startswith(LOCATION_ANNOTATION_PREFIXES)}
    meta = {**meta, "annotations": kept} if kept else {k: v for k, v in meta.items() if k != "annotations"}
    return {**obj, "metadata": meta}


def agent_view(obj: dict, by_key: dict, model_configs: dict[str, dict], templates: dict | None = None,
               stand_ins: dict[str, str] | None = None) -> AgentView:
    """One Agent as the reader reads it (a kagent 1.0 Agent with its AgentTemplate is one agent).

    `stand_ins` maps a namespace-local 1.0 RemoteMCPServer copy to the server it copies (see
    `server_stand_ins`), so a grant reads the same on either target.
    """
    read = read_agent(obj, templates=templates)
    assert read is not None  # from_objects gives Agents of a version the reader reads
    namespace, name = read.namespace, read.name
    annotations = _annotations(obj)
    if read.template is not None:  # what a 1.0 agent does, and krmfn's notes on it, are its template's
        annotations = {**_annotations(read.template), **annotations}
    risks = claimed_risks(annotations.get(ANNOTATION_TOOL_RISKS)) or {}

    prompt, prompt_source = _prompt(read, by_key)
    # a render is untrusted input: a name or tier that is not a string is shown as written, never a crash
    annotations = {k: v if isinstance(v, str) else str(v) for k, v in annotations.items()}
    model = _model(read.model_config, namespace, annotations, model_configs) \
        if read.model_config else ModelView(None, annotations.get(ANNOTATION_MODEL_TIER))
    memory = _model(read.memory_model_config, namespace, {ANNOTATION_MODEL_TIER: annotations.get(ANNOTATION_MEMORY_TIER)},
                    model_configs) if read.memory_model_config else None
    tools: dict[str, dict[str, Grant]] = {}
    tool_settings: dict[str, dict[str, Any]] = {}
    bindings: dict[str, int] = {}
    stand_ins = stand_ins or {}
    for use in read.tool_uses:
        server = stand_ins.get(use.key, use.key)
        granted = tools.setdefault(server, {})
        bindings[server] = bindings.get(server, 0) + 1
        # the kind kagent resolves, not how it is spelt (an apiGroup, or 1.0's one kind, is API shape)
        settings = {"kind": use.kind, **{k: v for k, v in use.settings.items() if k not in ("kind", "apiGroup")}}
        tool_settings.setdefault(server, {}).update(flatten(settings))
        for tool_name in ([ALL_TOOLS] if use.tools is None else [str(t) for t in use.listed]):
            risk = _risk(server, tool_name, risks)
            granted[tool_name] = Grant(server, tool_name, risk, tool_name in use.approvals)

    deployment = flatten({k: v for k, v in read.deployment.items() if k in OPERATIONAL_FIELDS})
    config = _config(obj, read, prompt_source)
    return AgentView(namespace, name, read.type, str(read.description or ""), prompt,
                     prompt_source, model, memory, tools, tool_settings, [d.key for d in read.delegations],
                     dict(read.skills), deployment, config, api_version=read.api_version, harness=read.harness,
                     bindings=bindings, template=_name(read.template) if read.template is not None else "")


def server_stand_ins(items: Iterable[dict]) -> dict[str, str]:
    """kagent 1.0 RemoteMCPServer copies -> the server each copies ("namespace/name" both).

    expand puts a copy of a shared server in each namespace that uses it (1.0 references are
    namespace-local) and names the original in `krmfn.dev/catalog-server`. As in the policy, the
    annotation alone is never believed: the original must be in the render with the same spec.
    """
    servers = {(ref.namespace, ref.name): ref for ref in (KObject(obj) for obj in items if is_remote_server(obj))}
    out: dict[str, str] = {}
    for (namespace, name), ref in sorted(servers.items()):
        original = ref.annotations.get(ANNOTATION_CATALOG_SERVER)
        if not isinstance(original, str) or original.count("/") != 1:
            continue
        target = servers.get(tuple(original.split("/", 1)))
        if target is not None and target is not ref and target.spec == ref.spec and server_url(ref.obj):
            out[f"{namespace}/{name}"] = original
    return out


def compute_reach(agents: dict[str, AgentView]) -> None:
    """Fill `reach`: per risk class, the nearest tool of that class reached through delegates.

    One backward search per class over the delegation graph (`krmfn.delegation.nearest`): linear
    in agents plus delegations, cycles and long chains included.
    """
    from .. import delegation

    graph = {key: [d for d in agent.delegates if d in agents] for key, agent in agents.items()}
    for risk in REVIEW_RISKS:
        holders = {key: min((g.server, g.tool) for g in agent.grants() if g.risk == risk)
                   for key, agent in agents.items() if any(g.risk == risk for g in agent.grants())}
        if not holders:
            continue
        found = delegation.nearest(graph, set(holders))
        for key in sorted(graph):
            routed = delegation.route(graph, found, key) if key in found else None
            if routed is not None and routed[0][-1] != key:  # back to its own grant, through a cycle
                agents[key].reach[holders[routed[0][-1]]] = Reach(risk, tuple(routed[0]))


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": [1]}} -> {"a.b[0]": 1}; empty maps and lists are kept as leaves."""
    out: dict[str, Any] = {}
    if isinstance(value, dict) and value:
        for key in sorted(value, key=str):
            out.update(flatten(value[key], f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{index}]"))
    elif prefix:
        out[prefix] = value
    return out


def max_risk(risks: Iterable[str]) -> str:
    risks = list(risks)
    return max(risks, key=lambda r: RISK_RANK.get(r, RISK_RANK["unknown"])) if risks else "unknown"


# --- the parts ---------------------------------------------------------------------------------


def _prompt(read, by_key: dict) -> tuple[dict[str, str | None], str]:
    parts: dict[str, str | None] = {}
    source = "none"
    namespace = read.namespace
    if read.system_prompt is not None:
        parts["system message"] = read.system_prompt
        source = "inline"
    elif read.system_prompt_from is not None:
        ref = read.system_prompt_from
        source = f"{ref.kind} {namespace}/{ref.name} key {ref.key}"
        parts["system message"] = _data(by_key.get((ref.kind, namespace, ref.name)), ref.key)
    for data_source in read.prompt_sources:
        obj = by_key.get((data_source.kind, namespace, data_source.name))
        if obj is None:
            parts[f"template {data_source.alias}"] = None
            continue
        for key in sorted(as_dict(obj.get("data"))):
            parts[f"template {data_source.alias}/{key}"] = _data(obj, key)
    return parts, source


def _data(obj: dict | None, key: str) -> str | None:
    """A key of a ConfigMap or Secret as text, or None when it is not in the render."""
    if obj is None:
        return None
    if obj.get("kind") == "Secret":
        if key in as_dict(obj.get("stringData")):
            return str(obj["stringData"][key])
        raw = as_dict(obj.get("data")).get(key)
        if raw is None:
            return None
        import base64
        import binascii

        try:
            return base64.b64decode(str(raw)).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
    value = as_dict(obj.get("data")).get(key)
    return None if value is None else str(value)


def _model(config_name: str, namespace: str, annotations: dict, model_configs: dict[str, dict]) -> ModelView:
    obj = model_configs.get(f"{namespace}/{config_name}")
    tier = effort = None
    if obj is not None:
        tier = _annotations(obj).get(ANNOTATION_MODEL_TIER) or _labels(obj).get(ANNOTATION_MODEL_TIER)
        effort = _labels(obj).get(ANNOTATION_EFFORT)
    effort = effort or annotations.get(ANNOTATION_EFFORT)
    if tier is None and config_name.startswith("model-"):
        tier = config_name[len("model-"):]
        if effort and tier.endswith(f"-{effort}"):
            tier = tier[:-len(effort) - 1]
    tier = tier or annotations.get(ANNOTATION_MODEL_TIER)
    read = read_model_config(obj) if obj is not None else None
    if read is None:
        return ModelView(config_name, tier, effort=effort)
    parameters = flatten(read.parameters)
    # the provider as kagent reads it (the CRD's default when unset); a model that is not written stays None
    return ModelView(config_name, tier, read.provider, read.model or None, parameters, resolved=True, effort=effort)


def _risk(server: str, tool: str, claimed: dict[str, dict[str, str]]) -> str:
    """The risk model (`krmfn.risk`) as far as a render shows it: the built-in catalog is a floor
    that the Agent's own annotation cannot lower; what neither knows is unknown."""
    own = claimed.get(server, {})
    if tool == ALL_TOOLS:
        catalog = dict(builtin_kagent_tools()[3]) if server.rsplit("/", 1)[-1] in BUILTIN_SERVER_NAMES else {}
        catalog.update({t: riskiest((catalog.get(t), r)) or "unknown" for t, r in own.items()})
        return max_risk(catalog.values()) if catalog else "unknown"
    return riskiest((builtin_floor(tool), own.get(tool))) or "unknown"


def _config(obj: dict, read, prompt_source: str) -> dict[str, Any]:
    """Every setting no other change class covers, flattened (so none goes unreported)."""
    config: dict[str, Any] = {"prompt source": prompt_source, "spec.type": read.type}
    if read.description is not None:
        config.update(flatten(read.description, "spec.description"))
    if read.harness and read.harness != "(inline)":  # an inline harness is among the settings
        config[read.harness_ref.path if read.harness_ref is not None else HARNESS_REF_PATH] = read.harness
    for path, value in read.settings.items():
        config.update(flatten(value, path))
    rest = {k: v for k, v in read.deployment.items() if k not in OPERATIONAL_FIELDS}
    if rest:
        config.update(flatten(rest, read.deployment_path))
    meta = as_dict(obj.get("metadata"))
    config.update(flatten({k: v for k, v in as_dict(meta.get("labels")).items() if k not in IGNORED_LABELS},
                          "metadata.labels"))
    config.update(flatten({k: v for k, v in _annotations(obj).items()
                           if not k.startswith(IGNORED_ANNOTATION_PREFIXES)}, "metadata.annotations"))
    return config


# --- small helpers -----------------------------------------------------------------------------


def _name(obj: dict) -> str:
    return KObject(obj).name


def _namespace(obj: dict) -> str:
    return KObject(obj).namespace


def _labels(obj: dict) -> dict:
    return as_dict(KObject(obj).metadata.get("labels"))


def _annotations(obj: dict) -> dict:
    return as_dict(KObject(obj).metadata.get("annotations"))
