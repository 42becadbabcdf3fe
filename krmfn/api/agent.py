"""`AgentDescription`: one agent, described at a high level. Consumed by the expand function."""

from __future__ import annotations

import difflib
from typing import Any, Literal

from ..constants import EFFORT_LEVELS
from ..runtime.typed import Field, KrmModel, field_validator, model_validator
from .catalog import version_text
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


def _pinned_server(value: str) -> str:
    server, at, pinned = value.partition("@")
    if at and not (server and pinned):
        raise ValueError(f"{value!r}: write NAME@VERSION (or NAMESPACE/NAME@VERSION)")
    if pinned:
        version_text(pinned)
    return value


def _optional_version(value: str | None) -> str | None:
    return None if value is None else version_text(value)


class ToolGrant(KrmModel):
    """The tools an agent may use on one server: an explicit allow-list, never a wildcard."""

    server: str = Field(min_length=1, description="catalog server: NAME or NAMESPACE/NAME, optionally @VERSION")
    allow: list[str] = Field(description="exact tool names; empty or '*' is refused")
    require_approval: list[str] = Field(default_factory=list, alias="requireApproval")
    # a pin: this agent keeps this version of a versioned server whatever the environment rolls out
    version: str | None = None

    check_server = field_validator("server")(_pinned_server)
    check_version = field_validator("version")(_optional_version)

    @model_validator(mode="after")
    def _one_pin(self) -> "ToolGrant":
        pinned = self.server.partition("@")[2]
        if pinned and self.version is not None and pinned != self.version:
            raise ValueError(f"server {self.server!r} pins {pinned} and version pins {self.version}: pin once")
        return self

    @property
    def server_name(self) -> str:
        """The server reference without its pin."""
        return self.server.partition("@")[0]

    @property
    def pin(self) -> str | None:
        """The version this grant pins (`server: NAME@VERSION` or `version:`), if any."""
        return self.server.partition("@")[2] or self.version


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


def _effort_level(value: str | None) -> str | None:
    if value is not None and value not in EFFORT_LEVELS:
        close = difflib.get_close_matches(str(value), EFFORT_LEVELS, n=1, cutoff=0.5)
        raise ValueError(f"effort {value!r} is not a level" + (f"; did you mean {close[0]!r}?" if close else "")
                         + f" (levels: {', '.join(EFFORT_LEVELS)})")
    return value


class AgentSpec(KrmModel):
    description: str = Field(min_length=1)
    prompt: Prompt | None = None
    model: TierName = Field(DEFAULT_TIER, description="model tier; the environment maps it to a model")
    effort: str | None = Field(None, description="effort level (low, medium, high) on that tier; the "
                                                 "environment maps it to the provider's own setting")
    tools: list[ToolGrant] = Field(default_factory=list)
    delegates: list[AgentReference] = Field(default_factory=list, description="agents it may call: NAME or NAMESPACE/NAME")
    skills: list[Skill] = Field(default_factory=list)
    memory: Memory | None = None
    deployment: dict[str, Any] | None = None
    stream: bool | None = None
    byo: Byo | None = None

    check_effort = field_validator("effort")(_effort_level)

    @model_validator(mode="after")
    def _declarative_or_byo(self) -> "AgentSpec":
        if self.byo is None and self.prompt is None:
            raise ValueError("prompt is required (or byo for an agent with its own image)")
        if self.byo is not None:
            extra = [n for n, v in (("prompt", self.prompt), ("tools", self.tools), ("delegates", self.delegates),
                                   ("memory", self.memory), ("deployment", self.deployment),
                                   ("effort", self.effort)) if v]
            if extra:
                raise ValueError(f"a byo agent cannot also set {', '.join(extra)}")
        return self


class AgentDescription(Resource):
    kind: Literal["AgentDescription"]
    spec: AgentSpec
