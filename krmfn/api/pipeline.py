"""`Pipeline`: run krmfn's functions in one process, one call per overlay.

kustomize starts a process (or a container) per function per build; a Pipeline runs expand,
environment, policy and conformance in one call instead, in that order. Each stage's config is
inline (`config:`), or an item of the input named by kind and name (`configRef:`): a file of the
overlay listed under `resources:` and marked `config.kubernetes.io/local-config: "true"`, so each
concern keeps its own reviewable file. Such items are consumed, never emitted (kustomize drops
local-config items from its output as well).
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from ..runtime.typed import Field, KrmModel, model_validator
from .common import Name, Resource

# The kinds a stage may run, in the only order they may run in.
STAGE_KINDS = ("AgentExpansion", "ModelEnvironment", "ToolPolicy", "KagentConformance")


class ConfigRef(KrmModel):
    """An item of the input, marked `config.kubernetes.io/local-config: "true"`, that is the stage's config."""

    kind: Literal[STAGE_KINDS] = Field(  # resolved at runtime, in this module
        description="the config's kind (apiVersion krmfn.dev/v1alpha1)")
    name: Name = Field(description="the config's metadata.name")


class Stage(KrmModel):
    """One function of the pipeline: exactly one of `config` or `configRef`."""

    config: Optional[dict[str, Any]] = Field(
        None, description="the function config itself (an AgentExpansion, ModelEnvironment, ToolPolicy or "
                          "KagentConformance, as it would be written for the function alone)")
    config_ref: Optional[ConfigRef] = Field(
        None, alias="configRef", description="or: the input item that is the config, by kind and name")

    @model_validator(mode="after")
    def _one_source(self) -> "Stage":
        if (self.config is None) == (self.config_ref is None):
            raise ValueError("set exactly one of config or configRef")
        return self


class PipelineSpec(KrmModel):
    stages: list[Stage] = Field(
        min_length=1, description="the functions to run, in the order expand, environment, policy, "
                                  "conformance (each at most once; leave out those the overlay does not need)")


class Pipeline(Resource):
    kind: Literal["Pipeline"]
    spec: PipelineSpec
