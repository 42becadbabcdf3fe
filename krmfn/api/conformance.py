"""`KagentConformance`: the validate function's config."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from ..runtime.typed import AfterValidator, Field, KrmModel
from .common import Resource

_EXTERNAL = re.compile(r"^(Secret|ConfigMap|ModelConfig|RemoteMCPServer|MCPServer|Agent|Service|AgentTemplate|Harness)/"
                       r"(\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?)/(\*|[a-z0-9]([-.a-z0-9]*[a-z0-9])?)\Z")


def external_reference(value: str) -> str:
    if not _EXTERNAL.match(value):
        raise ValueError(f"{value!r}: write KIND/NAMESPACE/NAME (NAMESPACE and NAME may be *), "
                         "KIND one of Secret, ConfigMap, ModelConfig, RemoteMCPServer, MCPServer, Agent, Service, "
                         "AgentTemplate, Harness (kagent 1.0)")
    return value


ExternalReference = Annotated[str, AfterValidator(external_reference)]


class KagentConformanceSpec(KrmModel):
    crds: list[str] = Field(
        default_factory=list,
        description="CRD files or directories (e.g. the kagent-crds Helm chart vendored in the repo), relative "
                    "to the kustomization; a container function needs them mounted. Without it, the "
                    "CustomResourceDefinitions present in the input are used")
    external: list[ExternalReference] = Field(
        default_factory=list,
        description="objects that exist in the cluster but not in the render (e.g. Secret/*/openai-api-key): "
                    "references to them are not errors")
    check_references: bool = Field(True, alias="checkReferences",
                                   description="also check what the API server does not (see README)")
    warnings_as_errors: bool = Field(False, alias="warningsAsErrors")


class KagentConformance(Resource):
    kind: Literal["KagentConformance"]
    spec: KagentConformanceSpec = Field(default_factory=KagentConformanceSpec)
