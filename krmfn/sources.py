"""What the user edited: a result about a rendered object, attributed to the source object and
field it was rendered from (an AgentDescription's `spec.tools[0].allow[4]` for an Agent's
`spec.declarative.tools[0].mcpServer.toolNames[4]`) and that object's file.

The rendered object names its source (`krmfn.dev/source`: a description or a catalog;
ModelConfigs name their tier); the field is found from the rendered object's values, never
guessed: a mapped field that does not exist in the source falls back to the nearest one that
does. Used by the Pipeline, which holds both the sources (its input) and the rendered objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from .api.common import source_of
from .constants import AGENT_KIND, ANNOTATION_MODEL_TIER, ANNOTATION_SOURCE, KAGENT_V1ALPHA3
from .runtime.kobject import KObject, as_dict, as_list, dig, format_path, parse_path
from .runtime.results import FileRef, Result, ResourceRef

if TYPE_CHECKING:  # the reader is imported when a result is attributed, not with the Pipeline
    from .reader import AgentRead, FieldLocation


class Sources:
    """The objects results may be attributed to: descriptions and catalogs by their
    `krmfn.dev/source` spelling, the environment config for ModelConfigs."""

    def __init__(self, items: Iterable[dict], environment: dict | None = None):
        self.by_name: dict[str, dict] = {}
        for item in items:
            if KObject(item).kind in ("AgentDescription", "ToolCatalog") and KObject(item).name:
                self.by_name.setdefault(source_of(item), item)
        self.environment = environment
        self.indexes: dict[int, _Grants] = {}  # one per description, built when first asked
        # per `attribute` call, by id of a rendered object that call holds: an agent read once, a
        # 1.0 Agent's AgentTemplate found once (ids of objects a call no longer holds are reused)
        self.reads: dict[int, AgentRead | None] = {}
        self.templates: dict[int, dict | None] = {}

    def attribute(self, results: list[Result], rendered: Iterable[dict]) -> list[Result]:
        """`results` with source, source field and the source's file where one is known."""
        if all(result.resource is None or result.source is not None for result in results):
            return list(results)  # nothing to attribute: no index of the render is needed
        from .reader import templates_of

        objects = {ResourceRef.of(item): item for item in rendered}
        templates = templates_of(objects.values())
        self.reads, self.templates = {}, {}
        out = []
        for result in results:
            obj = objects.get(result.resource) if result.resource is not None and result.source is None else None
            template = self._template_holding(obj, result.field, templates) if obj is not None else None
            obj = template or obj
            found = self.source_of(obj, result.field) if obj is not None else None
            if found is None:
                out.append(result)
                continue
            source, field = found
            out.append(result.replace(source=ResourceRef.of(source), source_field=field,
                                      file=FileRef.of(source) or result.file))
        return out

    def source_of(self, obj: dict, field: str) -> tuple[dict, str] | None:
        ref = KObject(obj)
        named = self.by_name.get(ref.annotations.get(ANNOTATION_SOURCE, ""))
        parts = parse_path(field)
        if named is not None and KObject(named).kind == "AgentDescription":
            grants = self.indexes.get(id(named))
            if grants is None:
                grants = self.indexes[id(named)] = _Grants(as_dict(named.get("spec")))
            agent = self._read(obj)
            if agent is None:  # not an agent: the description field of the same name, if any
                return named, _nearest(named, ["spec", *(parts[1:] if parts[:1] == ["spec"] else [])])
            return named, _nearest(named, _description_field(agent.locate(field), grants))
        if named is not None:
            return named, _nearest(named, _catalog_field(ref, parts, named))
        tier = ref.labels.get(ANNOTATION_MODEL_TIER)
        if ref.kind == "ModelConfig" and tier and self.environment is not None:
            tail = parts[1:] if parts[:1] == ["spec"] else []
            return self.environment, _nearest(self.environment, ["spec", "tiers", tier, *tail])
        return None


    def _read(self, obj: dict) -> AgentRead | None:
        """The agent `obj` is (an Agent, or a 1.0 AgentTemplate on its own), read once."""
        if id(obj) not in self.reads:
            from .reader import read_agent, read_template

            self.reads[id(obj)] = read_template(obj) or read_agent(obj)
        return self.reads[id(obj)]

    def _template_holding(self, obj: dict, field: str, templates: dict) -> dict | None:
        """A kagent 1.0 Agent's findings name fields of the AgentTemplate it runs (the reader reads
        both as one agent): that template, when the field is not the Agent's own."""
        if not KObject(obj).is_a(KAGENT_V1ALPHA3, AGENT_KIND) or dig(obj, *parse_path(field)) is not None:
            return None  # only a 1.0 Agent runs a template
        if id(obj) not in self.templates:
            from .reader import read_agent

            agent = read_agent(obj, templates=templates)
            self.templates[id(obj)] = agent.template if agent is not None else None
        return self.templates[id(obj)]


class _Grants:
    """A description's delegates and tool grants by name: each lookup O(1), so attributing every
    finding stays linear in the findings and the description."""

    def __init__(self, spec: dict):
        self.delegates: dict[str, list[tuple[int, str]]] = {}
        for index, delegate in enumerate(as_list(spec.get("delegates"))):
            if isinstance(delegate, str):
                namespace, _, name = delegate.rpartition("/")
                self.delegates.setdefault(name, []).append((index, namespace))
        self.servers: dict[str, list[tuple[int, dict[str, dict]]]] = {}
        for index, tool in enumerate(as_list(spec.get("tools"))):
            tool = as_dict(tool)
            positions = {key: {} for key in ("allow", "requireApproval")}
            for key, seen in positions.items():
                for position, value in enumerate(as_list(tool.get(key))):
                    if isinstance(value, str):
                        seen.setdefault(value, position)
            server = str(tool.get("server", "")).rpartition("/")[2].partition("@")[0]  # a pin names its version
            self.servers.setdefault(server, []).append((index, positions))


def _description_field(location: FieldLocation, grants: _Grants) -> list:
    """The description field a rendered agent's field came from (any kagent version: the reader
    says what the field is)."""
    if location.role in ("tool", "delegation"):
        return _tool_field(location, grants)
    if location.role == "model":
        return ["spec", "model"]
    if location.role == "prompt":
        return ["spec", "prompt"]
    if location.role == "skills":
        return ["spec", "skills", *location.rest]
    return ["spec", *location.rest]


def _tool_field(location: FieldLocation, grants: _Grants) -> list:
    use = location.use
    if location.role == "delegation":
        for index, written in grants.delegates.get(use.name, []):
            if written in ("", use.namespace):
                return ["spec", "delegates", index]
        return ["spec", "delegates"]
    if use is None:
        return ["spec", "tools"]
    from .expand.catalog import unversioned_name  # a server's version is emitted as `<server>-v<version>`

    candidates = grants.servers.get(use.name) or grants.servers.get(unversioned_name(use.name), [])
    if not candidates:
        return ["spec", "tools"]
    value = None
    if location.index is not None:
        written = use.listed if location.part == "names" else use.approval_list
        value = written[location.index] if location.index < len(written) else None
    key = "requireApproval" if location.part == "approvals" else "allow"
    for index, positions in candidates:
        if isinstance(value, str) and value in positions[key]:
            return ["spec", "tools", index, key, positions[key][value]]
    index = candidates[0][0]
    if location.part == "names":
        return ["spec", "tools", index, "allow"]
    if location.part == "approvals":
        return ["spec", "tools", index, "requireApproval"]
    if location.part == "server":
        return ["spec", "tools", index, "server"]
    return ["spec", "tools", index]


def _catalog_field(ref: KObject, parts: list, catalog: dict) -> list:
    """The catalog server entry a RemoteMCPServer / MCPServer came from (by name and namespace),
    and the field of it."""
    from .expand.catalog import version_name  # a server's version is emitted as `<server>-v<version>`

    for index, server in enumerate(as_list(as_dict(catalog.get("spec")).get("servers"))):
        server = as_dict(server)
        if server.get("namespace", ref.namespace) not in (ref.namespace, None, ""):
            continue
        name = server.get("name")
        versions = [as_dict(v) for v in as_list(server.get("versions"))]
        version = next((j for j, v in enumerate(versions) if isinstance(name, str)
                        and isinstance(v.get("version"), str) and version_name(name, v["version"]) == ref.name), None)
        if name == ref.name or version is not None:
            from .expand.build import catalog_field  # the writer knows where it wrote each field from

            tail = parts[1:] if parts[:1] == ["spec"] else []
            return ["spec", "servers", index, *catalog_field(ref.kind, tail, version)]
    return ["spec", "servers"]


def _nearest(source: dict, parts: list) -> str:
    """The longest prefix of `parts` that exists in `source`, as a field path."""
    value, kept = source, []
    for part in parts:
        if isinstance(part, int):
            if not isinstance(value, list) or not 0 <= part < len(value):
                break
            value = value[part]
        else:
            if not isinstance(value, dict) or part not in value:
                break
            value = value[part]
        kept.append(part)
    return format_path(kept)
