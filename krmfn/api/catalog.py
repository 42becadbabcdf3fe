"""`ToolCatalog`: the tool servers agents may use, how to reach them, and each tool's risk class."""

from __future__ import annotations

import re
from typing import Any, Literal

from ..runtime.typed import Field, KrmModel, field_validator, model_validator
from .common import Name, Resource
from ..constants import RISKS

Risk = Literal[RISKS]  # a tuple subscript: one value per risk

VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,39}$")


class RemoteServer(KrmModel):
    """Emitted as a kagent RemoteMCPServer."""

    url: str = Field(min_length=1)
    protocol: Literal["STREAMABLE_HTTP", "SSE"] = "STREAMABLE_HTTP"
    timeout: str = "30s"
    sse_read_timeout: str | None = Field(None, alias="sseReadTimeout")
    terminate_on_close: bool = Field(True, alias="terminateOnClose")
    headers_from: list[dict[str, Any]] = Field(default_factory=list, alias="headersFrom")


class McpServerDeployment(KrmModel):
    """Emitted as a kmcp MCPServer: a server krmfn asks kmcp to deploy (e.g. a company API wrapper)."""

    image: str = Field(min_length=1)
    cmd: str | None = None
    args: list[str] = Field(default_factory=list)
    port: int = Field(3000, ge=1, le=65535)
    transport: Literal["stdio", "http"] = "stdio"
    http_path: str | None = Field(None, alias="httpPath")
    env: dict[str, str] = Field(default_factory=dict)
    secret_refs: list[Name] = Field(default_factory=list, alias="secretRefs")


class ExternalServer(KrmModel):
    """A server that exists already (installed by a Helm chart, or in another repository)."""

    kind: Literal["RemoteMCPServer", "MCPServer"] = "RemoteMCPServer"
    allowed_namespaces: list[str] | Literal["All"] = Field(default_factory=list, alias="allowedNamespaces")


def version_text(value: str) -> str:
    """A version as written in a catalog, a pin or a rollout: letters, digits, '.', '-', '_', '+'."""
    if not isinstance(value, str) or not VERSION.match(value):
        raise ValueError(f"{value!r} is not a version: letters, digits, '.', '-', '_' and '+', "
                         "starting with a letter or digit, at most 40 characters (e.g. 1.4.2)")
    return value


class ServerVersion(KrmModel):
    """One release of a server: its own image (mcpServer) or URL (remote) and its own tools.

    Each version lists every tool it offers (a new version may add, remove or re-classify tools),
    so the catalog's diff of a release is the review of what the release changes.
    """

    version: str
    image: str | None = None
    url: str | None = None
    tools: dict[str, Risk] = Field(default_factory=dict)
    tools_from: Literal["kagent-tool-server"] | None = Field(None, alias="toolsFrom")

    check_version = field_validator("version")(version_text)

    @model_validator(mode="after")
    def _has_tools(self) -> "ServerVersion":
        if not self.tools and not self.tools_from:
            raise ValueError(f"version {self.version}: list its tools (tools: {{name: read|write|destructive}}) "
                             "or set toolsFrom")
        for name, value in (("image", self.image), ("url", self.url)):
            if value is not None and not value:
                raise ValueError(f"version {self.version}: {name} is empty")
        return self


class CatalogServer(KrmModel):
    name: Name
    namespace: Name | None = None
    description: str | None = None
    tools: dict[str, Risk] = Field(default_factory=dict)
    tools_from: Literal["kagent-tool-server"] | None = Field(None, alias="toolsFrom")
    remote: RemoteServer | None = None
    mcp_server: McpServerDeployment | None = Field(None, alias="mcpServer")
    external: ExternalServer | None = None
    allowed_namespaces: list[Name] | Literal["All"] | None = Field(None, alias="allowedNamespaces")
    versions: list[ServerVersion] = Field(default_factory=list)
    default: str | None = None  # the version an agent gets when neither a pin nor a rollout selects one

    @model_validator(mode="after")
    def _one_way_to_reach(self) -> "CatalogServer":
        given = [n for n, v in (("remote", self.remote), ("mcpServer", self.mcp_server), ("external", self.external)) if v]
        if len(given) != 1:
            raise ValueError("set exactly one of remote, mcpServer or external"
                             + (f" (found {', '.join(given)})" if given else ""))
        if self.versions:
            return _check_versions(self)
        if self.default is not None:
            raise ValueError("default names a version, and the server lists no versions")
        if not self.tools and not self.tools_from:
            raise ValueError("list the server's tools (tools: {name: read|write|destructive}) or set toolsFrom")
        return self


def _check_versions(self: "CatalogServer") -> "CatalogServer":
    if self.external is not None:
        raise ValueError("an external server has no versions krmfn could emit: drop versions, "
                         "or declare the server with remote or mcpServer")
    if self.tools or self.tools_from:
        raise ValueError("a server with versions lists its tools per version (versions[].tools), "
                         "not beside them")
    seen: set[str] = set()
    for version in self.versions:
        if version.version in seen:
            raise ValueError(f"version {version.version} is listed twice")
        seen.add(version.version)
        if version.image is not None and self.mcp_server is None:
            raise ValueError(f"version {version.version}: image is for an mcpServer server; "
                             "a remote server's version sets url")
        if version.url is not None and self.remote is None:
            raise ValueError(f"version {version.version}: url is for a remote server; "
                             "an mcpServer server's version sets image")
    if self.default is not None and self.default not in seen:
        raise ValueError(f"default {self.default!r} is not one of the versions ({', '.join(sorted(seen))})")
    return self


class ToolCatalogSpec(KrmModel):
    servers: list[CatalogServer] = Field(min_length=1)


class ToolCatalog(Resource):
    kind: Literal["ToolCatalog"]
    spec: ToolCatalogSpec
