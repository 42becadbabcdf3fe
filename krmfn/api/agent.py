"""`AgentDescription`: one agent, described at a high level. Consumed by the expand function."""

from __future__ import annotations

from typing import Any, Literal

from ..runtime.typed import Field, KrmModel, model_validator
from .common import Name, Resource, TierName
from .selectors import AgentReference

PromptMode = Literal["Inline", "ConfigMap"]
DEFAULT_TIER = "default"


class ConfigMapKey(KrmModel):
    name: Name
    key: str = Field(min_length=1)


class Prompt(KrmModel):
    """The system prompt, a Jinja2 template. Exactly one of `text`, `file` or `configMap`.

    `file` names a key of a prompt-library ConfigMap (one labelled `krmfn.dev/prompt-library:
    "true"`, typically from a kustomize configMapGenerator) in the agent's namespace; the
    function reads the ConfigMap, never the disk, so container and exec runs agree.
    """

    text: str | None = None
    file: str | None = Field(None, min_length=1)
    config_map: ConfigMapKey | None = Field(None, alias="configMap")
    vars: dict[str, Any] = Field(default_factory=dict)
    mode: PromptMode | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "Prompt":
        given = [n for n, v in (("text", self.text), ("file", self.file), ("configMap", self.config_map)) if v is not None]
        if len(given) != 1:
            raise ValueError(
                "set exactly one of text, file or configMap" + (f" (found {', '.join(given)})" if given else "")
            )
        return self


class ToolGrant(KrmModel):
    """The tools an agent may use on one server: an explicit allow-list, never a wildcard."""

    server: str = Field(min_length=1, description="catalog server: NAME or NAMESPACE/NAME")
    allow: list[str] = Field(description="exact tool names; empty or '*' is refused")
    require_approval: list[str] = Field(default_factory=list, alias="requireApproval")


class Skill(KrmModel):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    description: str | None = None
    tags: list[str] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)
    input_modes: list[str] = Field(default_factory=list, alias="inputModes")
    output_modes: list[str] = Field(default_factory=list, alias="outputModes")


class Memory(KrmModel):
    model: TierName = Field(DEFAULT_TIER, description="embedding model tier")
    ttl_days: int | None = Field(None, alias="ttlDays", ge=1, strict=True)  # `true` is not 1 day


class Byo(KrmModel):
    """Bring your own agent: kagent runs this image instead of a declarative agent."""

    image: str = Field(min_length=1)
    cmd: str | None = None
    args: list[str] = Field(default_factory=list)
    env: list[dict[str, Any]] = Field(default_factory=list)
    replicas: int | None = Field(None, ge=0)
    resources: dict[str, Any] | None = None
    image_pull_policy: str | None = Field(None, alias="imagePullPolicy")
    image_pull_secrets: list[dict[str, Any]] = Field(default_factory=list, alias="imagePullSecrets")
    service_account_name: str | None = Field(None, alias="serviceAccountName")


class AgentSpec(KrmModel):
    description: str = Field(min_length=1)
    prompt: Prompt | None = None
    model: TierName = Field(DEFAULT_TIER, description="model tier; the environment maps it to a model")
    tools: list[ToolGrant] = Field(default_factory=list)
    delegates: list[AgentReference] = Field(default_factory=list, description="agents it may call: NAME or NAMESPACE/NAME")
    skills: list[Skill] = Field(default_factory=list)
    memory: Memory | None = None
    deployment: dict[str, Any] | None = None
    stream: bool | None = None
    byo: Byo | None = None

    @model_validator(mode="after")
    def _declarative_or_byo(self) -> "AgentSpec":
        if self.byo is None and self.prompt is None:
            raise ValueError("prompt is required (or byo for an agent with its own image)")
        if self.byo is not None:
            extra = [n for n, v in (("prompt", self.prompt), ("tools", self.tools), ("delegates", self.delegates),
                                   ("memory", self.memory), ("deployment", self.deployment)) if v]
            if extra:
                raise ValueError(f"a byo agent cannot also set {', '.join(extra)}")
        return self


class AgentDescription(Resource):
    kind: Literal["AgentDescription"]
    spec: AgentSpec
