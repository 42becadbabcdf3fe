"""`AgentExpansion`: the expand function's config."""

from __future__ import annotations

from typing import Literal


from .agent import PromptMode
from .common import Resource
from ..constants import DEFAULT_RUNTIME, TARGET_V0_10, TARGET_V1_0, TARGETS
from ..runtime.typed import Field, KrmModel


class AgentExpansionSpec(KrmModel):
    environment: str | None = Field(None, min_length=1, description="environment name for prompt templates")
    prompt_mode: PromptMode = Field("Inline", alias="promptMode")
    runtime: Literal["python", "go"] = DEFAULT_RUNTIME
    keep_prompt_library: bool = Field(False, alias="keepPromptLibrary")
    target: Literal[TARGETS] = Field(  # resolved at runtime, in this module
        TARGET_V0_10, description=f"the kagent the output is for: {TARGET_V0_10} (kagent.dev/v1alpha2 Agents, "
                                  f"the default) or {TARGET_V1_0} (api.kagent.dev/v1alpha3 AgentTemplates and "
                                  "Agents); the functions after expand follow from the objects they see")
    # the rollout: catalog server (NAME or NAMESPACE/NAME) -> the version this environment's agents
    # get unless they pin one; one line per server in the overlay's own config, one review each
    server_versions: dict[str, str] = Field(default_factory=dict, alias="serverVersions")


class AgentExpansion(Resource):
    kind: Literal["AgentExpansion"]
    spec: AgentExpansionSpec = Field(default_factory=AgentExpansionSpec)
