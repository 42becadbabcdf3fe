"""What the user edited: a result about a rendered object, attributed to the source object and
field it was rendered from (an AgentDescription's `spec.tools[0].allow[4]` for an Agent's
`spec.declarative.tools[0].mcpServer.toolNames[4]`) and that object's file.

The rendered object names its source (`krmfn.dev/source`: a description or a catalog;
ModelConfigs name their tier); the field is found from the rendered object's values, never
guessed: a mapped field that does not exist in the source falls back to the nearest one that
does. Used by the Pipeline, which holds both the sources (its input) and the rendered objects.
"""

from __future__ import annotations

import re
from typing import Iterable

from .api.common import source_of
from .constants import ANNOTATION_SOURCE
from .runtime.kobject import KObject, as_dict, as_list, dig
from .runtime.results import FileRef, Result, ResourceRef

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
TIER_LABEL = "krmfn.dev/model-tier"


def parse_path(field: str) -> list[str | int]:
    return [int(index) if index else key for key, index in _PART.findall(field)]


def format_path(parts: Iterable[str | int]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


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

    def attribute(self, results: list[Result], rendered: Iterable[dict]) -> list[Result]:
        """`results` with source, source field and the source's file where one is known."""
        objects = {ResourceRef.of(item): item for item in rendered}
        out = []
        for result in results:
            obj = objects.get(result.resource) if result.resource is not None and result.source is None else None
            template = _template_holding(obj, result.field, objects) if obj is not None else None
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
            return named, _nearest(named, _description_field(obj, parts, grants))
        if named is not None:
            return named, _nearest(named, _catalog_field(ref, parts, named))
        tier = ref.labels.get(TIER_LABEL)
        if ref.kind == "ModelConfig" and tier and self.environment is not None:
            tail = parts[1:] if parts[:1] == ["spec"] else []
            return self.environment, _nearest(self.environment, ["spec", "tiers", tier, *tail])
        return None


def _template_holding(obj: dict, field: str, objects: dict) -> dict | None:
    """A kagent 1.0 Agent's findings name fields of the AgentTemplate it runs (the reader reads
    both as one agent): that template, when the field is not the Agent's own."""
    ref = KObject(obj)
    name = dig(obj, "spec", "templateRef", "name")
    if not isinstance(name, str) or dig(obj, *parse_path(field)) is not None:
        return None
    return objects.get(ResourceRef(api_version=ref.api_version, kind="AgentTemplate", name=name,
                                   namespace=ref.namespace))


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


def _description_field(obj: dict, parts: list, grants: _Grants) -> list:
    """The description field an Agent / AgentTemplate field came from (0.10 and 1.0 shapes)."""
    tail = parts[2:] if parts[:2] == ["spec", "declarative"] else parts[1:] if parts[:1] == ["spec"] else []
    if not tail:
        return ["spec"]
    head = tail[0]
    if head == "tools" and len(tail) > 1 and isinstance(tail[1], int):
        entry = as_dict(dig(obj, *parts[:len(parts) - len(tail) + 2]))
        return _tool_field(entry, tail[2:], grants)
    if head == "modelConfig":
        return ["spec", "model"]
    if head in ("systemMessage", "systemMessageFrom", "systemPrompt", "promptTemplate"):
        return ["spec", "prompt"]
    if head == "a2aConfig":
        return ["spec", "skills", *tail[2:]]
    return ["spec", *tail]


def _tool_field(entry: dict, rest: list, grants: _Grants) -> list:
    agent = as_dict(entry.get("agent")) or as_dict(entry.get("subAgent"))
    if agent:
        name, namespace = str(agent.get("name", "")), str(agent.get("namespace", ""))
        for index, written in grants.delegates.get(name, []):
            if not namespace or written in ("", namespace):
                return ["spec", "delegates", index]
        return ["spec", "delegates"]
    server = as_dict(entry.get("mcpServer")) or as_dict(as_dict(entry.get("mcp")).get("server"))
    names = as_list(as_dict(entry.get("mcpServer")).get("toolNames")) or as_list(as_dict(entry.get("mcp")).get("tools"))
    if rest[:1] in (["mcpServer"], ["mcp"]):
        rest = rest[1:]
    name = str(server.get("name", ""))
    from .expand.catalog import unversioned_name  # a server's version is emitted as `<server>-v<version>`

    candidates = grants.servers.get(name) or grants.servers.get(unversioned_name(name), [])
    if not candidates:
        return ["spec", "tools"]
    listed = rest[:1] in (["toolNames"], ["tools"]) and len(rest) > 1 and isinstance(rest[1], int)
    approval = rest[:1] == ["requireApproval"]
    value = None
    if listed and rest[1] < len(names):
        value = names[rest[1]]
    elif approval and len(rest) > 1 and isinstance(rest[1], int):
        value = as_list(as_dict(entry.get("mcpServer")).get("requireApproval"))[rest[1]:rest[1] + 1]
        value = value[0] if value else None
    key = "requireApproval" if approval else "allow"
    for index, positions in candidates:
        if isinstance(value, str) and value in positions[key]:
            return ["spec", "tools", index, key, positions[key][value]]
    index = candidates[0][0]
    if listed or rest[:1] in (["toolNames"], ["tools"]):
        return ["spec", "tools", index, "allow"]
    if approval:
        return ["spec", "tools", index, "requireApproval"]
    if rest[:1] in (["name"], ["kind"], ["server"]):
        return ["spec", "tools", index, "server"]
    return ["spec", "tools", index]


def _catalog_field(ref: KObject, parts: list, catalog: dict) -> list:
    """The catalog server entry a RemoteMCPServer / MCPServer came from (by name and namespace)."""
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
            tail = parts[1:] if parts[:1] == ["spec"] else []
            if version is not None and (tail[:1] == ["url"] or tail[:2] == ["deployment", "image"]):
                return ["spec", "servers", index, "versions", version, tail[-1]]
            if ref.kind == "MCPServer" and tail[:1] == ["deployment"]:
                rest = tail[1:]
                if rest[:1] == ["secretRefs"] and len(rest) > 1:
                    rest = rest[:2]  # a name list in the catalog, a list of {name} in kmcp
                return ["spec", "servers", index, "mcpServer", *rest]
            if ref.kind == "RemoteMCPServer":
                return ["spec", "servers", index, "remote", *tail]
            return ["spec", "servers", index]
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
