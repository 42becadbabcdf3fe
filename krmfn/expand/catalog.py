"""The tool catalog: every server an agent may name, and how to resolve a server reference.

Built from the ToolCatalog objects in the input plus krmfn's built-in entry for the kagent tool
server; the risk classes follow `krmfn.risk` (a team catalog cannot lower a built-in risk). Also
used by the policy function, which resolves server references the same way.

A server with versions is one entry for the server (never emitted; its tools every version's,
riskiest class) and one per version, keyed by the name that version is emitted as, so a rendered
Agent's reference resolves to exactly the version it got.
"""

from __future__ import annotations

import difflib
import re

from ..runtime.record import record

from ..api.catalog import CatalogServer, ServerVersion, ToolCatalog
from ..risk import builtin_floor, builtin_kagent_tools, merge, riskiest

__all__ = ["Catalog", "CatalogError", "ServerEntry", "builtin_kagent_tools", "unversioned_name", "version_name"]


def version_name(server: str, version: str) -> str:
    """The name of the object a server's version is emitted as: `billing-api` 1.4.2 is
    `billing-api-v1-4-2` (lowercase, each run of other characters one '-'); one name per version,
    never a mutable "latest"."""
    return f"{server}-v" + re.sub(r"[^a-z0-9]+", "-", version.lower()).strip("-")


_VERSION_SUFFIX = re.compile(r"-v[0-9][a-z0-9-]*$")


def unversioned_name(name: str) -> str:
    """The server a `version_name` names (`billing-api-v1-4-2` -> `billing-api`); other names as they are."""
    return _VERSION_SUFFIX.sub("", name)


def version_order(version: str) -> tuple:
    """A sort key for a server's versions: numbers compare as numbers (1.10.0 after 1.9.0), and a
    pre-release comes before its release (1.5.0-rc1, then 1.5.0), as in semantic versioning."""
    core, dash, pre = version.partition("+")[0].partition("-")

    def natural(text: str) -> list:
        return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text) if part]

    return natural(core), 0 if dash else 1, natural(pre), version


class CatalogError(ValueError):
    """An unknown server or tool; the message carries a did-you-mean."""


@record
class ServerEntry:
    name: str
    namespace: str
    kind: str  # RemoteMCPServer or MCPServer (kmcp)
    tools: dict[str, str]
    spec: CatalogServer | None = None  # None for built-in external servers
    catalog: dict | None = None  # the ToolCatalog object that declared it
    users: set[str] = set()  # namespaces of agents that use it
    emit: bool = True  # False: an earlier expand emitted it (its catalog came back marked so)
    # a server with versions: version -> its entry (named version_name(...)); this entry itself is
    # never emitted, and its tools are every version's, riskiest class (what an unselected grant may get)
    versions: dict[str, "ServerEntry"] = {}
    version: str | None = None  # a version's entry: which version
    family: str | None = None  # a version's entry: the key of the server it is a version of
    release: ServerVersion | None = None  # a version's entry: the catalog's versions[] item

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def emitted(self) -> bool:
        return self.emit and self.spec is not None and self.spec.external is None and not self.versions

    @property
    def url(self) -> str:
        """The remote URL agents reach it at ("" when it is not a remote server)."""
        if self.spec is None or self.spec.remote is None:
            return ""
        return (self.release.url if self.release is not None and self.release.url else None) or self.spec.remote.url

    @property
    def label(self) -> str:
        """How messages name it: `ns/server` or `ns/server@version`."""
        return f"{self.family}@{self.version}" if self.version is not None else self.key

    def allows_namespace(self, namespace: str) -> bool | None:
        """Whether an external server admits agents of `namespace` (None: unknown)."""
        if namespace == self.namespace:
            return True
        external = self.spec.external if self.spec is not None else None
        if external is None:
            return None
        allowed = external.allowed_namespaces
        return True if allowed == "All" else (namespace in allowed if allowed else None)

    def risk(self, tool: str) -> str | None:
        return riskiest((builtin_floor(tool), self.tools.get(tool))) if tool in self.tools else None

    def unknown_tool(self, tool: str, how: str = "") -> str:
        """`how`: why the agent gets this version (its pin, the rollout, the default)."""
        hint = difflib.get_close_matches(tool, self.tools, n=1, cutoff=0.6)
        text = (f"tool {tool!r} is not in version {self.version} of server {self.family}" if self.version is not None
                else f"tool {tool!r} is not in the catalog of server {self.key}") + (f" ({how})" if how else "")
        return text + (f"; did you mean {hint[0]!r}?" if hint else "")


class Catalog:
    def __init__(self) -> None:
        self.servers: dict[str, ServerEntry] = {}
        name, namespace, kind, tools = builtin_kagent_tools()
        self.servers[f"{namespace}/{name}"] = ServerEntry(name, namespace, kind, tools)

    def add(self, catalog: ToolCatalog, obj: dict, emit: bool = True) -> list[tuple[str, str]]:
        """Add a ToolCatalog's servers; returns (field path, message) problems."""
        problems = []
        for index, server in enumerate(catalog.spec.servers):
            path = f"spec.servers[{index}]"
            namespace = server.namespace or catalog.metadata.namespace
            if not namespace:
                problems.append((f"{path}.namespace", "set the server's namespace (or the catalog's metadata.namespace)"))
                continue
            tools = _tools(server.tools_from, server.tools)
            kind = server.external.kind if server.external else ("MCPServer" if server.mcp_server else "RemoteMCPServer")
            entry = ServerEntry(server.name, namespace, kind, tools, spec=server, catalog=obj, emit=emit)
            previous = self.servers.get(entry.key)
            if previous is not None and previous.spec is not None:
                problems.append((f"{path}.name", f"server {entry.key} is declared twice"
                                 + (f" (as the name of version {previous.version} of {previous.family})"
                                    if previous.version is not None else "")))
                continue
            versions = self._versions(entry, path, problems)
            if versions is None:
                continue
            self.servers[entry.key] = entry
            for version in versions:
                self.servers[version.key] = version
        return problems

    def _versions(self, entry: ServerEntry, path: str, problems: list) -> list[ServerEntry] | None:
        """A versioned server's entry per version, each under its own name (None: a name collides)."""
        out: list[ServerEntry] = []
        mine: dict[str, ServerEntry] = {}  # this server's versions by key: a collision among them
        for index, release in enumerate(entry.spec.versions):
            name = version_name(entry.name, release.version)
            where = f"{path}.versions[{index}].version"
            if len(name) > 63:
                problems.append((where, f"version {release.version} of {entry.key} would be emitted as {name!r}, "
                                 "longer than 63 characters: shorten the server's name or the version"))
                return None
            version = ServerEntry(name, entry.namespace, entry.kind, _tools(release.tools_from, release.tools),
                                  spec=entry.spec, catalog=entry.catalog, emit=entry.emit, version=release.version,
                                  family=entry.key, release=release)
            clash = self.servers.get(version.key) or mine.get(version.key)
            if clash is not None or version.key == entry.key:
                other = (f"version {clash.version} of {clash.family}" if clash is not None and clash.version is not None
                         else f"server {version.key}")
                problems.append((where, f"version {release.version} of {entry.key} is emitted as {version.key}, "
                                 f"the name of {other}: rename one"))
                return None
            merge(entry.tools, version.tools)  # an unselected grant may get any version: riskiest wins
            entry.versions[release.version] = version
            mine[version.key] = version
            out.append(version)
        return out

    def select(self, entry: ServerEntry, pin: str | None, rollouts: dict[str, str]) -> tuple[ServerEntry, str]:
        """The version of `entry` an agent gets, and why: its pin, else the environment's rollout
        (AgentExpansion spec.serverVersions), else the catalog's default; none of them is an error."""
        if not entry.versions:
            if pin is not None:
                raise CatalogError(f"server {entry.key} lists no versions, so it cannot be pinned to {pin}")
            return entry, ""
        known = ", ".join(sorted(entry.versions, key=version_order))
        if pin is not None:
            if pin not in entry.versions:
                raise CatalogError(f"server {entry.key} has no version {pin} (versions: {known})")
            return entry.versions[pin], "pinned by this agent"
        rolled = rollouts.get(entry.key)
        if rolled is not None:
            return entry.versions[rolled], "rolled out by the AgentExpansion's spec.serverVersions"
        if entry.spec.default is not None:
            return entry.versions[entry.spec.default], "the catalog's default"
        raise CatalogError(
            f"server {entry.key} lists versions ({known}) and nothing selects one: pin one ({entry.name}@VERSION), "
            "roll one out in the overlay's AgentExpansion (spec.serverVersions), or set the catalog's default")

    def resolve(self, reference: str, namespace: str) -> ServerEntry:
        """`NAME` (in the agent's namespace, else unique anywhere) or `NAMESPACE/NAME`."""
        entry = self._find(reference, namespace)
        if entry.version is not None:  # one way to pin, so a review sees every pin as a pin
            raise CatalogError(f"{reference!r} is version {entry.version} of server {entry.family}: "
                               f"write {entry.family.split('/', 1)[1]}@{entry.version}")
        return entry

    def _find(self, reference: str, namespace: str) -> ServerEntry:
        if "/" in reference:
            entry = self.servers.get(reference)
        else:
            entry = self.servers.get(f"{namespace}/{reference}")
            if entry is None:
                matches = [e for e in self.servers.values() if e.name == reference]
                if len(matches) > 1:
                    raise CatalogError(
                        f"server {reference!r} is ambiguous: write one of {', '.join(sorted(e.key for e in matches))}"
                    )
                entry = matches[0] if matches else None
        if entry is None:
            keys = sorted(k for k, e in self.servers.items() if e.version is None)
            names = keys + sorted({e.name for e in self.servers.values() if e.version is None})
            hint = difflib.get_close_matches(reference, names, n=1, cutoff=0.5)
            raise CatalogError(
                f"server {reference!r} is not in any ToolCatalog"
                + (f"; did you mean {hint[0]!r}?" if hint else f"; known servers: {', '.join(keys)}")
            )
        return entry


def _tools(tools_from: str | None, tools: dict[str, str]) -> dict[str, str]:
    out = dict(builtin_kagent_tools()[3]) if tools_from == "kagent-tool-server" else {}
    merge(out, tools)  # riskiest wins: the built-in classes are a floor
    return out
