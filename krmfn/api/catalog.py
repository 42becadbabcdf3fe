"""`ToolCatalog`: the tool servers agents may use, how to reach them, and each tool's risk class."""

from __future__ import annotations

from typing import Any, Literal

from ..runtime.typed import Field, KrmModel, model_validator
from .common import Name, Resource

Risk = Literal["read", "write", "destructive"]
from ..constants import RISKS  # noqa: E402


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

    @model_validator(mode="after")
    def _one_way_to_reach(self) -> "CatalogServer":
        given = [n for n, v in (("remote", self.remote), ("mcpServer", self.mcp_server), ("external", self.external)) if v]
        if len(given) != 1:
            raise ValueError("set exactly one of remote, mcpServer or external"
                             + (f" (found {', '.join(given)})" if given else ""))
        if not self.tools and not self.tools_from:
            raise ValueError("list the server's tools (tools: {name: read|write|destructive}) or set toolsFrom")
        return self


class ToolCatalogSpec(KrmModel):
    servers: list[CatalogServer] = Field(min_length=1)


class ToolCatalog(Resource):
    kind: Literal["ToolCatalog"]
    spec: ToolCatalogSpec
