"""The tool catalog: every server an agent may name, and how to resolve a server reference.

Built from the ToolCatalog objects in the input plus krmfn's built-in entry for the kagent tool
server; the risk classes follow `krmfn.risk` (a team catalog cannot lower a built-in risk). Also
used by the policy function, which resolves server references the same way.
"""

from __future__ import annotations

import difflib
from ..runtime.record import record

from ..api.catalog import CatalogServer, ToolCatalog
from ..risk import builtin_floor, builtin_kagent_tools, merge, riskiest

__all__ = ["Catalog", "CatalogError", "ServerEntry", "builtin_kagent_tools"]


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

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def emitted(self) -> bool:
        return self.emit and self.spec is not None and self.spec.external is None

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

    def unknown_tool(self, tool: str) -> str:
        hint = difflib.get_close_matches(tool, self.tools, n=1, cutoff=0.6)
        text = f"tool {tool!r} is not in the catalog of server {self.key}"
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
            tools = dict(builtin_kagent_tools()[3]) if server.tools_from == "kagent-tool-server" else {}
            merge(tools, server.tools)  # riskiest wins: the built-in classes are a floor
            kind = server.external.kind if server.external else ("MCPServer" if server.mcp_server else "RemoteMCPServer")
            entry = ServerEntry(server.name, namespace, kind, tools, spec=server, catalog=obj, emit=emit)
            previous = self.servers.get(entry.key)
            if previous is not None and previous.spec is not None:
                problems.append((f"{path}.name", f"server {entry.key} is declared twice"))
                continue
            self.servers[entry.key] = entry
        return problems

    def resolve(self, reference: str, namespace: str) -> ServerEntry:
        """`NAME` (in the agent's namespace, else unique anywhere) or `NAMESPACE/NAME`."""
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
            names = sorted(self.servers) + sorted({e.name for e in self.servers.values()})
            hint = difflib.get_close_matches(reference, names, n=1, cutoff=0.5)
            raise CatalogError(
                f"server {reference!r} is not in any ToolCatalog"
                + (f"; did you mean {hint[0]!r}?" if hint else f"; known servers: {', '.join(sorted(self.servers))}")
            )
        return entry
