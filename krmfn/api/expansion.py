"""`AgentExpansion`: the expand function's config."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .agent import PromptMode
from .common import Resource
from ..runtime.typed import KrmModel


class AgentExpansionSpec(KrmModel):
    environment: str | None = Field(None, min_length=1, description="environment name for prompt templates")
    prompt_mode: PromptMode = Field("Inline", alias="promptMode")
    runtime: Literal["python", "go"] = "python"
    keep_prompt_library: bool = Field(False, alias="keepPromptLibrary")


class AgentExpansion(Resource):
    kind: Literal["AgentExpansion"]
    spec: AgentExpansionSpec = Field(default_factory=AgentExpansionSpec)
