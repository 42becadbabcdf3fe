"""expand: AgentDescriptions (+ ToolCatalogs, prompt-library ConfigMaps) become kagent objects.

Descriptions, catalogs and prompt libraries are consumed; every other item passes through
untouched. All problems of all descriptions are reported together, each naming its field.
"""

from __future__ import annotations

from typing import Any

from ..api.agent import AgentDescription
from ..api.catalog import ToolCatalog
from ..api.common import API_VERSION, meta_name, meta_namespace, source_of
from ..api.expansion import AgentExpansion
from ..constants import (
    AGENT_KIND,
    AGENTTEMPLATE_KIND,
    ANNOTATION_SERVERS_EMITTED,
    KAGENT_V1ALPHA3,
    LOCAL_CONFIG_ANNOTATION,
    MAX_DELEGATION_DEPTH,
    TARGET_V1_0,
)
from ..expand import build
from ..expand.catalog import Catalog, CatalogError, version_order
from ..expand.prompts import (
    RESERVED_VARIABLES,
    PromptError,
    PromptLibrary,
    PromptRenderer,
    digest,
    is_prompt_library,
)
from ..constants import AGENT_API_VERSION
from ..runtime.kobject import KObject, as_dict, as_list
from ..runtime.resourcelist import ResourceList
from ..runtime.results import Result, WARNING
from ..runtime.typed import parse

WILDCARDS = {"*", "all", "ALL"}


def process(rl: ResourceList, config: AgentExpansion) -> None:
    Expansion(config, rl).run()


class Expansion:
    def __init__(self, config: AgentExpansion, rl: ResourceList):
        self.config = config.spec
        self.rl = rl
        self.results: list[Result] = []
        self.catalog = Catalog()
        self.descriptions: list[tuple[AgentDescription, dict]] = []
        self.existing_agents: set[str] = set()  # hand-written Agents in the input, namespace/name
        self.unparsed_agents: set[str] = set()  # descriptions with schema errors, namespace/name
        self.unparsed_servers: set[str] = set()  # servers of catalogs with schema errors, name and namespace/name
        self.known_agents: set[str] = set()  # every agent a delegate may name
        self.passthrough: list[dict] = []
        self.libraries: list[dict] = []
        self.v1 = self.config.target == TARGET_V1_0
        self.existing_templates: dict[str, str] = {}  # hand-written 1.0 AgentTemplates -> their description
        self.descriptions_by_key: dict[str, str] = {}  # namespace/name -> spec.description
        self.rollouts: dict[str, str] = {}  # catalog server key -> the version spec.serverVersions rolls out
        self._given_refs: set[tuple[str, str, str]] | None = None  # the input's ConfigMaps and Secrets, by name

    def error(self, obj: dict, field: str, message: str) -> None:
        self.results.append(Result.about(obj, field, message))

    # -- the pipeline ----------------------------------------------------------------------------
    def run(self) -> None:
        self._sort_inputs()
        self._rollouts()
        agents = self._index_agents()
        self.known_agents = set(agents) | self.existing_agents | set(self.existing_templates)
        self.descriptions_by_key = {key: desc.spec.description for key, (desc, _) in agents.items()}
        library = PromptLibrary(self.libraries)
        renderer = PromptRenderer() if self.descriptions else None
        callers = self._callers(agents)
        emitted: list[dict] = []
        for desc, obj in self.descriptions:
            emitted.extend(self._expand(desc, obj, library, renderer, callers))
        self._check_delegation_cycles(agents)
        for entry in self.catalog.servers.values():
            if entry.emitted and self.v1:
                emitted.extend(self._servers_v1(entry))
            elif entry.emitted and (entry.version is None or entry.users):  # a version: only where in use
                emitted.append(build.server(entry.name, entry.namespace, entry.spec,
                                            source_of(entry.catalog), entry.users, version=_version_of(entry)))
        self.rl.results.extend(self.results)
        if any(r.is_error for r in self.results):
            return  # the engine gives the input back
        self.rl.items = self.passthrough + emitted  # the engine puts them in canonical order

    def _sort_inputs(self) -> None:
        for obj in self.rl.items:
            api_version, kind = obj.get("apiVersion"), obj.get("kind")
            if api_version == API_VERSION and kind in ("AgentDescription", "ToolCatalog") and self._credentials(obj):
                continue  # refused: a literal credential would reach what expand emits
            if api_version == API_VERSION and kind == "AgentDescription":
                desc, problems = parse(AgentDescription, obj)
                self.results.extend(problems)
                if desc is None:  # reported on its own fields; its delegators must not call it missing
                    self.unparsed_agents.add(f"{KObject(obj).namespace}/{KObject(obj).name}")
                if desc is not None:
                    if desc.metadata.namespace is None:
                        self.error(obj, "metadata.namespace", "required: an agent lives in a namespace "
                                   "(set it, or the kustomization's namespace:)")
                    else:
                        self.descriptions.append((desc, obj))
            elif api_version == API_VERSION and kind == "ToolCatalog":
                catalog, problems = parse(ToolCatalog, obj)
                self.results.extend(problems)
                if catalog is None:  # reported on its own fields; its users must not call its servers missing
                    self.unparsed_servers.update(_server_names(obj))
                if catalog is not None:
                    self.results.extend(_header_problems(catalog, obj))
                    emitted = KObject(obj).annotations.get(ANNOTATION_SERVERS_EMITTED) == "true"
                    for field, message in self.catalog.add(catalog, obj, emit=not emitted):
                        self.error(obj, field, message)
                # Passed on as local config: the functions after expand (policy) judge rendered
                # Agents by the catalog itself, never by what an Agent says of its own tools, and
                # kustomize leaves local-config items out of the build's output.
                self.passthrough.append(as_local_config(obj))
            elif is_prompt_library(obj):
                self.libraries.append(obj)
                if self.config.keep_prompt_library:
                    self.passthrough.append(obj)
            else:
                if KObject(obj).is_a(AGENT_API_VERSION, AGENT_KIND):
                    self.existing_agents.add(f"{meta_namespace(obj)}/{meta_name(obj)}")
                elif KObject(obj).is_a(KAGENT_V1ALPHA3, AGENTTEMPLATE_KIND):
                    from ..reader import read_template  # rare: a template expand did not write

                    description = read_template(obj).description
                    self.existing_templates[f"{meta_namespace(obj)}/{meta_name(obj)}"] = (
                        description if isinstance(description, str) else meta_name(obj))
                self.passthrough.append(obj)

    def _rollouts(self) -> None:
        """spec.serverVersions, each checked against the catalog: a typo must not leave an
        environment on the old version unnoticed."""
        config = self.rl.function_config or {}
        for reference, version in self.config.server_versions.items():
            field = f"spec.serverVersions.{reference}"
            try:
                entry = self.catalog.resolve(reference, "")
            except CatalogError as err:
                if reference not in self.unparsed_servers:  # else: no cascade from the catalog's error
                    self.error(config, field, str(err))
                continue
            if not entry.versions:
                self.error(config, field, f"server {entry.key} lists no versions to roll out")
            elif version not in entry.versions:
                self.error(config, field, f"server {entry.key} has no version {version} "
                           f"(versions: {', '.join(sorted(entry.versions, key=version_order))})")
            elif self.rollouts.get(entry.key, version) != version:
                self.error(config, field, f"server {entry.key} is rolled out twice, "
                           f"to {self.rollouts[entry.key]} and {version}")
            else:
                self.rollouts[entry.key] = version

    def _credentials(self, obj: dict) -> bool:
        """Refuse every literal credential in a description or catalog (its description, env, headers
        ...): expand copies them into objects every reader of the repository and the cluster sees."""
        from ..runtime.secrets import scan
        from ..runtime.typed import field_path

        spec = obj.get("spec")
        if isinstance(spec, dict):  # the prompt has checks of its own, worded for prompts (expand/prompts.py)
            spec = {k: v for k, v in spec.items() if k != "prompt"}
        found = scan(spec, ("spec",))
        for loc, message, _ in found:
            self.error(obj, field_path(loc), message)
        return bool(found)

    def _index_agents(self) -> dict[str, tuple[AgentDescription, dict]]:
        agents: dict[str, tuple[AgentDescription, dict]] = {}
        for desc, obj in self.descriptions:
            key = f"{desc.metadata.namespace}/{desc.metadata.name}"
            if key in agents or key in self.existing_agents:
                self.error(obj, "metadata.name", f"duplicate agent {key}: another description or Agent has this name")
                continue
            agents[key] = (desc, obj)
        return agents

    def _callers(self, agents: dict[str, tuple[AgentDescription, dict]]) -> dict[str, set[str]]:
        """For each agent, the other namespaces whose agents delegate to it (for allowedNamespaces)."""
        callers: dict[str, set[str]] = {}
        for desc, _ in agents.values():
            for target in desc.spec.delegates:
                key = _qualify(target, desc.metadata.namespace)
                if key.split("/")[0] != desc.metadata.namespace:
                    callers.setdefault(key, set()).add(desc.metadata.namespace)
        return callers

    # -- one description ---------------------------------------------------------------------------
    def _expand(self, desc: AgentDescription, obj: dict, library: PromptLibrary,
                renderer: PromptRenderer | None, callers: dict[str, set[str]]) -> list[dict]:
        name, namespace = desc.metadata.name, desc.metadata.namespace
        before = _error_count(self.results)
        tools, variables_tools = self._tools(desc, obj)
        tools += self._delegates(desc, obj)
        limit = 50 if self.v1 else 20
        if len(tools) > limit:
            self.error(obj, "spec.tools", f"{len(tools)} tool entries (servers plus delegates); "
                       f"kagent allows at most {limit}")
        if self.v1:
            self._v1_limits(desc, obj)
        if desc.spec.deployment is not None:
            from ..kagent.models import DeclarativeDeploymentSpec  # its input schema

            _, problems = parse(DeclarativeDeploymentSpec, desc.spec.deployment, subject=obj, at="spec.deployment")
            self.results.extend(problems)
        text = None
        if desc.spec.prompt is not None and renderer is not None:
            text = self._prompt(desc, obj, library, renderer, variables_tools)
        if _error_count(self.results) != before:
            return []

        source = source_of(obj)
        out: list[dict] = []
        mode = (desc.spec.prompt.mode if desc.spec.prompt else None) or self.config.prompt_mode
        prompt_digest = digest(text) if text is not None else None
        config_map = None
        if text is not None and mode == "ConfigMap":
            cm = build.prompt_config_map(name, namespace, text, prompt_digest, source)
            config_map = cm["metadata"]["name"]
            out.append(cm)
        if self.v1:
            from ..expand import build_v1

            out.append(build_v1.agent_template(
                desc, source, tools=tools, system_prompt=text if config_map is None else None,
                system_prompt_config_map=config_map, prompt_digest=prompt_digest,
                tool_risks=_risks(variables_tools)))
            out.append(build_v1.agent(desc, source))
            return out
        out.append(build.agent(
            desc, source, runtime=self.config.runtime, tools=tools,
            system_message=text if config_map is None else None,
            system_message_config_map=config_map, prompt_digest=prompt_digest,
            callers=callers.get(f"{namespace}/{name}", set()),
            tool_risks=_risks(variables_tools),
        ))
        return out

    def _tools(self, desc: AgentDescription, obj: dict) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        namespace = desc.metadata.namespace
        tools: list[dict[str, Any]] = []
        described: list[dict[str, Any]] = []
        seen_servers: set[str] = set()
        for index, grant in enumerate(desc.spec.tools):
            path = f"spec.tools[{index}]"
            pin_path = f"{path}.version" if grant.version is not None else f"{path}.server"
            try:
                family = self.catalog.resolve(grant.server_name, namespace)
            except CatalogError as err:
                if grant.server_name not in self.unparsed_servers:  # else: no cascade from the catalog's error
                    self.error(obj, f"{path}.server", str(err))
                continue
            try:
                entry, how = self.catalog.select(family, grant.pin, self.rollouts)
            except CatalogError as err:
                self.error(obj, pin_path if grant.pin else f"{path}.server", str(err))
                continue
            if family.key in seen_servers:
                self.error(obj, f"{path}.server", f"server {family.key} is listed twice; merge the two entries")
                continue
            seen_servers.add(family.key)
            if not grant.allow:
                self.error(obj, f"{path}.allow", "empty allow-list: kagent would grant every tool of the server; "
                           "name each tool")
                continue
            ok = True
            seen_tools: set[str] = set()
            for t_index, tool in enumerate(grant.allow):
                if tool in WILDCARDS or "*" in tool:
                    self.error(obj, f"{path}.allow[{t_index}]", f"wildcard {tool!r} is not allowed: name each tool")
                    ok = False
                elif entry.risk(tool) is None:
                    self.error(obj, f"{path}.allow[{t_index}]", entry.unknown_tool(tool, how))
                    ok = False
                elif tool in seen_tools:
                    self.error(obj, f"{path}.allow[{t_index}]", f"tool {tool!r} is listed twice")
                    ok = False
                seen_tools.add(tool)
            for a_index, tool in enumerate(grant.require_approval):
                if tool not in grant.allow:
                    self.error(obj, f"{path}.requireApproval[{a_index}]",
                               f"tool {tool!r} needs approval but is not in allow")
                    ok = False
            if len(grant.allow) > 50:
                self.error(obj, f"{path}.allow", f"{len(grant.allow)} tools; kagent allows at most 50 per server")
                ok = False
            if not ok:
                continue
            if self.v1:
                bindings = self._bind_v1(entry, namespace, obj, path, grant)
                if bindings is None:
                    continue
                tools.extend(bindings)
            elif entry.namespace != namespace:
                if entry.kind != "RemoteMCPServer":
                    self.error(obj, f"{path}.server", f"server {entry.label} is a kmcp MCPServer in another namespace; "
                               "kagent only resolves RemoteMCPServers across namespaces")
                    continue
                if entry.allows_namespace(namespace) is None and not entry.emitted:
                    self.results.append(Result.about(
                        obj, f"{path}.server",
                        f"server {entry.label} is in another namespace: it must admit namespace {namespace} "
                        "in spec.allowedNamespaces (krmfn cannot see it; declare it in a ToolCatalog "
                        "with external.allowedNamespaces to silence this)", severity=WARNING))
            entry.users.add(namespace)
            if not self.v1:
                tools.append(build.mcp_tool(entry.kind, entry.name,
                                            entry.namespace if entry.namespace != namespace else None,
                                            grant.allow, grant.require_approval))
            described.extend({"server": entry.key, "name": t, "risk": entry.risk(t),
                              "requireApproval": t in grant.require_approval} for t in grant.allow)
        return tools, described

    def _delegates(self, desc: AgentDescription, obj: dict) -> list[dict[str, Any]]:
        namespace = desc.metadata.namespace
        out = []
        known = self.known_agents
        for index, target in enumerate(desc.spec.delegates):
            key = _qualify(target, namespace)
            if key == f"{namespace}/{desc.metadata.name}":
                self.error(obj, f"spec.delegates[{index}]", "an agent cannot delegate to itself")
            elif key in self.unparsed_agents:
                continue  # that description's own error says what is wrong with it: no cascade
            elif key not in known:
                import difflib

                own = f"{namespace}/{desc.metadata.name}"  # never suggest an agent to itself
                target_ns, target_name = key.split("/", 1)
                # compare names within the target's namespace: a shared "team/" prefix is no likeness
                names = sorted(k.split("/", 1)[1] for k in known - {own} if k.split("/", 1)[0] == target_ns)
                hint = [f"{target_ns}/{n}" for n in difflib.get_close_matches(target_name, names, n=1, cutoff=0.6)]
                self.error(obj, f"spec.delegates[{index}]", f"agent {key} does not exist"
                           + (f"; did you mean {hint[0]!r}?" if hint else ""))
            else:
                target_ns, target_name = key.split("/", 1)
                if not self.v1:
                    out.append(build.agent_tool(target_name, target_ns if target_ns != namespace else None))
                    continue
                if target_ns != namespace:
                    self.error(obj, f"spec.delegates[{index}]",
                               f"delegate {key} is in another namespace: kagent 1.0 sub-agents are AgentTemplates "
                               f"in the agent's own namespace ({namespace}), so target {TARGET_V1_0} cannot "
                               "render it; move one of the two agents or drop the delegate")
                    continue
                description = self.descriptions_by_key.get(key) or self.existing_templates.get(key)
                if description is None:
                    self.error(obj, f"spec.delegates[{index}]",
                               f"delegate {key} is a hand-written kagent.dev/v1alpha2 Agent: a kagent 1.0 "
                               "sub-agent needs its AgentTemplate (describe it, or write one)")
                    continue
                from ..expand import build_v1

                out.append(build_v1.sub_agent(target_name, description))
        return out

    # -- kagent 1.0 ----------------------------------------------------------------------------------
    def _v1_limits(self, desc: AgentDescription, obj: dict) -> None:
        """What a description asks for that kagent 1.0 has no home for: refused or said, never dropped."""
        spec = desc.spec
        if spec.byo is not None:
            self.error(obj, "spec.byo", f"a byo agent has no AgentTemplate form in kagent 1.0 (target {TARGET_V1_0}): "
                       "its image belongs in a Harness (spec.byo) the platform team owns")
        lost = [(field, why) for field, value, why in (
            ("spec.memory", spec.memory, "memory is the Harness's (spec.kagent.memory)"),
            ("spec.deployment", spec.deployment, "replicas and resources are the Harness's and Substrate's"),
            ("spec.skills", spec.skills, "an AgentTemplate has no A2A skill cards"),
            ("spec.stream", spec.stream, "streaming is the ModelConfig's (spec.stream)"),
        ) if value]
        for field, why in lost:
            self.results.append(Result.about(
                obj, field, f"not rendered for target {TARGET_V1_0}: it has no per-agent home in kagent 1.0 ({why})",
                severity=WARNING))

    def _bind_v1(self, entry, namespace: str, obj: dict, path: str, grant) -> list[dict[str, Any]] | None:
        """The 1.0 bindings of one grant: every reference is local to the agent's namespace."""
        from ..expand import build_v1

        if entry.kind != "RemoteMCPServer":
            self.error(obj, f"{path}.server", f"server {entry.label} is a kmcp MCPServer: kagent 1.0 has no MCPServer "
                       f"(target {TARGET_V1_0}); deploy the server yourself and declare it with remote.url")
            return None
        if entry.namespace != namespace:
            if entry.spec is None or entry.spec.remote is None:
                self.error(obj, f"{path}.server",
                           f"server {entry.label} is in another namespace and krmfn does not know its URL: kagent 1.0 "
                           f"references are local to the agent's namespace ({namespace}); declare it in a "
                           "ToolCatalog with remote.url so krmfn emits a RemoteMCPServer there")
                return None
            clash = self.catalog.servers.get(f"{namespace}/{entry.name}")
            if clash is not None:
                self.error(obj, f"{path}.server",
                           f"server {entry.key} needs a RemoteMCPServer {namespace}/{entry.name} for kagent 1.0, "
                           "and the catalog has another server of that name there; rename one")
                return None
        return build_v1.mcp_tools(entry.name, grant.allow, grant.require_approval)

    def _servers_v1(self, entry) -> list[dict]:
        """A catalog server's RemoteMCPServers: in its own namespace, and a copy in each using namespace."""
        from ..expand import build_v1

        if entry.version is not None and not entry.users:
            return []  # a version is emitted only where it is in use
        servers = entry.catalog.get("spec", {}).get("servers", [])
        index = next((i for i, s in enumerate(servers) if isinstance(s, dict) and s.get("name") == entry.spec.name
                      and (s.get("namespace") or meta_namespace(entry.catalog)) == entry.namespace), 0)
        if entry.spec.mcp_server is not None:
            self.error(entry.catalog, f"spec.servers[{index}].mcpServer",
                       f"server {entry.label} asks krmfn to deploy a kmcp MCPServer, which kagent 1.0 does not have "
                       f"(target {TARGET_V1_0}); deploy it yourself and declare it with remote.url")
            return []
        source = source_of(entry.catalog)
        version = _version_of(entry)
        out = [build_v1.remote_server(entry.name, entry.namespace, entry.spec, source, version=version)]
        copies = sorted(entry.users - {entry.namespace})
        for namespace in copies:
            out.append(build_v1.remote_server(entry.name, namespace, entry.spec, source, stands_for=entry.key,
                                              version=version))
        for h_index, kind, name in build_v1.header_sources(entry.spec) if copies else ():
            missing = [ns for ns in copies if not self._given(kind, ns, name)]
            if missing:
                self.results.append(Result.about(
                    entry.catalog, f"spec.servers[{index}].remote.headersFrom[{h_index}].valueFrom.name",
                    f"server {entry.label} is copied into namespace{'s' if len(missing) > 1 else ''} "
                    f"{', '.join(missing)} for kagent 1.0 (references are namespace-local), and each copy reads "
                    f"{kind} {name} in its own namespace: create {kind} {name} in {', '.join(missing)} too",
                    severity=WARNING))
        return out

    def _given(self, kind: str, namespace: str, name: str) -> bool:
        """Whether the input holds this ConfigMap or Secret (by its name only: never read)."""
        if self._given_refs is None:  # indexed once, when a copied server first asks
            self._given_refs = {(ref.kind, ref.namespace, ref.name) for ref in map(KObject, self.rl.items)
                                if ref.api_version == "v1" and ref.kind in ("ConfigMap", "Secret")}
        return (kind, namespace, name) in self._given_refs

    def _prompt(self, desc: AgentDescription, obj: dict, library: PromptLibrary, renderer: PromptRenderer,
                tools: list[dict[str, Any]]) -> str | None:
        prompt = desc.spec.prompt
        namespace = desc.metadata.namespace
        try:
            if prompt.text is not None:
                from ..expand.prompts import inline

                source = inline(prompt.text)
            elif prompt.file is not None:
                source = library.file(namespace, prompt.file)
            else:
                source = library.config_map(namespace, prompt.config_map.name, prompt.config_map.key)
        except PromptError as err:
            self.error(obj, "spec.prompt", str(err))
            return None
        from ..expand.prompts import credential_variables

        for path in credential_variables(prompt.vars):
            self.error(obj, f"spec.prompt.vars.{path}", "a template variable named like a credential is refused: "
                                                        "the prompt goes to the model provider with every request "
                                                        "(tools get their credentials from Secrets)")
        if credential_variables(prompt.vars):
            return None
        clashes = sorted(set(prompt.vars) & set(RESERVED_VARIABLES))
        if clashes:
            self.error(obj, "spec.prompt.vars", f"{', '.join(clashes)}: reserved for krmfn's own template variables; choose other names")
            return None
        spec = desc.spec
        variables: dict[str, Any] = dict(prompt.vars)
        variables.update(
            agent={"name": desc.metadata.name, "namespace": namespace, "description": spec.description,
                   "labels": dict(desc.metadata.labels)},
            name=desc.metadata.name, namespace=namespace, description=spec.description,
            environment=self.config.environment or "", model=spec.model, tools=tools,
            skills=[s.model_dump(by_alias=True, exclude_none=True) for s in spec.skills],
            delegates=[_qualify(d, namespace) for d in spec.delegates], vars=dict(prompt.vars),
        )
        try:
            text = renderer.render(source, variables)
        except PromptError as err:
            self.error(obj, "spec.prompt", str(err))
            return None
        from ..runtime.secrets import credential_kind

        kind = credential_kind(text)
        if kind is not None:
            # The system message is readable by whoever can read the Agent and goes to the model
            # provider with every request: a credential there is leaked, not configured.
            self.error(obj, "spec.prompt", f"the rendered prompt ({source.origin}) contains what looks like {kind}; "
                                           "keep credentials out of prompts (tools get theirs from Secrets)")
            return None
        return text

    def _check_delegation_cycles(self, agents: dict[str, tuple[AgentDescription, dict]]) -> None:
        from .. import delegation

        graph = {key: [target for d in desc.spec.delegates if (target := _qualify(d, key.split("/")[0])) in agents]
                 for key, (desc, _) in agents.items()}
        for cycle in delegation.cycles(graph):
            self.error(agents[cycle[0]][1], "spec.delegates", "delegation cycle: " + " -> ".join(cycle))
        for agent, hops, chain in delegation.too_deep(graph, MAX_DELEGATION_DEPTH):
            shown = chain[:MAX_DELEGATION_DEPTH + 2]
            more = f" -> ... ({len(chain)} agents)" if len(chain) > len(shown) else ""
            self.error(agents[agent][1], "spec.delegates",
                       f"delegation chain of {hops} hops, more than kagent's limit of {MAX_DELEGATION_DEPTH}: "
                       + " -> ".join(shown) + more)


def as_local_config(obj: dict) -> dict:
    """The catalog marked local config whose servers are emitted (a copy; the input is untouched)."""
    meta = KObject(obj).metadata
    annotations = {**KObject(obj).annotations, LOCAL_CONFIG_ANNOTATION: "true", ANNOTATION_SERVERS_EMITTED: "true"}
    return {**obj, "metadata": {**meta, "annotations": annotations}}


def _header_problems(catalog: ToolCatalog, obj: dict) -> list[Result]:
    """A remote server's headersFrom, checked against kagent's ValueRef (its input schema)."""
    problems: list[Result] = []
    for index, server in enumerate(catalog.spec.servers):
        for h_index, header in enumerate(server.remote.headers_from if server.remote else ()):
            from ..kagent.models import ValueRef

            problems += parse(ValueRef, header, subject=obj, at=f"spec.servers[{index}].remote.headersFrom[{h_index}]")[1]
    return problems


def _version_of(entry):
    """(family key, version, tools) of a version's entry, None for a server without versions."""
    if entry.version is None:
        return None
    return entry.family, entry.release, {t: entry.risk(t) for t in sorted(entry.tools)}


def _risks(tools: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    risks: dict[str, dict[str, str]] = {}
    for tool in tools:
        risks.setdefault(tool["server"], {})[tool["name"]] = tool["risk"]
    return risks


def _error_count(results: list[Result]) -> int:
    return sum(1 for r in results if r.is_error)


def _qualify(reference: str, namespace: str) -> str:
    return reference if "/" in reference else f"{namespace}/{reference}"


def _server_names(catalog: dict) -> set[str]:
    """The server names a catalog declares, read without its schema (`name` and `namespace/name`)."""
    names = set()
    for server in as_list(KObject(catalog).spec.get("servers")):
        name, namespace = as_dict(server).get("name"), as_dict(server).get("namespace") or KObject(catalog).namespace
        if isinstance(name, str):
            names.add(name)
            if isinstance(namespace, str) and namespace:
                names.add(f"{namespace}/{name}")
    return names
