"""`ModelEnvironment`: the environment function's config.

One per overlay (dev, staging, prod, ...). It maps the model *tiers* agents ask for (an
AgentDescription's `spec.model`, kept on the expanded Agent as the `krmfn.dev/model-tier`
annotation) to a provider, a model, the provider's parameters and the Secret *reference* that
holds the API key, and what each effort level means on a tier. The function emits one kagent
ModelConfig per namespace per tier (and effort) in use and points every Agent at its own
namespace's ModelConfig. Canaries move named agents (or the agents a label selector matches) to
another tier in this environment only.

Credentials are never values here: a literal key, token, password or credential anywhere in the
config is refused (the function scans the raw config before this model sees it, and never echoes
what it found). `apiKeySecret` names the Secret and the key inside it; the Secret itself is created
out of band (sealed-secrets, external-secrets, ...), in every namespace that runs agents.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Optional


from ..kagent import models as k
from ..runtime.typed import AfterValidator, Field, KrmModel, StrictBool, model_validator
from .agent import DEFAULT_TIER
from .selectors import AgentReference, LabelSelector
from .common import ANNOTATION_CANARY, ANNOTATION_ENVIRONMENT, Name, Resource, SubdomainName, TierName, dns_label  # noqa: F401

DEFAULT_KAGENT_VERSION = "v0.9.12"
_KAGENT_VERSION = re.compile(r"^v0\.(9|10)(\.[0-9]+)?(-[0-9A-Za-z.]+)?\Z")
_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+\Z")


def kagent_version(value: str) -> str:
    if not _KAGENT_VERSION.match(value):
        raise ValueError(
            f"kagent version {value!r} is not supported: krmfn targets v0.9.x (e.g. v0.9.12) "
            "and v0.10.x (e.g. v0.10 or v0.10.0-rc3)"
        )
    return value




def secret_key(value: str) -> str:
    if not _SECRET_KEY.match(value) or len(value) > 253:
        raise ValueError("a Secret key is letters, digits, '-', '_' and '.'")
    return value


KagentVersion = Annotated[str, AfterValidator(kagent_version)]
SecretKey = Annotated[str, AfterValidator(secret_key)]


class SecretKeyRef(KrmModel):
    """A key of a Secret in the namespace of the ModelConfig (so: in every namespace running agents)."""

    name: SubdomainName = Field(description="name of the Secret (it must exist in each namespace whose agents use this tier)")
    key: Optional[SecretKey] = Field(
        None,
        description="the key in the Secret that holds the API key; required except for Bedrock "
                    "(optional) and SAPAICore (must be omitted: it reads client_id and client_secret)",
    )


class TierTLS(KrmModel):
    """TLS towards the provider or gateway (kagent ModelConfig spec.tls)."""

    ca_cert_secret: Optional[SecretKeyRef] = Field(
        None, alias="caCertSecret",
        description="a Secret key holding the PEM CA bundle that signs the provider's certificate "
                    "(e.g. an internal LiteLLM gateway); both name and key are required",
    )
    disable_system_cas: StrictBool = Field(
        False, alias="disableSystemCAs",
        description="trust only caCertSecret, not the system CAs (requires caCertSecret or disableVerify)",
    )
    disable_verify: StrictBool = Field(
        False, alias="disableVerify",
        description="skip certificate verification entirely (development only)",
    )


class Tier(KrmModel):
    """One model tier: what an agent asking for this tier runs on in this environment."""

    provider: k.ProviderName = Field(
        description="kagent provider: Ollama, OpenAI (also OpenAI-compatible gateways via openAI.baseUrl), "
                    "Anthropic, AzureOpenAI, Gemini, GeminiVertexAI, AnthropicVertexAI, Bedrock, SAPAICore, "
                    "Foundry (kagentVersion v0.10 only)",
    )
    model: Optional[str] = Field(
        None,
        description="the provider's model name (e.g. llama3.2, gpt-4.1-mini, claude-sonnet-4-5); required",
    )
    api_key_secret: Optional[SecretKeyRef] = Field(
        None, alias="apiKeySecret",
        description="the Secret key holding the API key (the only way to give one); required for OpenAI, "
                    "Anthropic, AzureOpenAI, Gemini and SAPAICore unless apiKeyPassthrough is true or an "
                    "OpenAI/Anthropic baseUrl points at a gateway that needs none",
    )
    api_key_passthrough: Optional[StrictBool] = Field(
        None, alias="apiKeyPassthrough",
        description="forward the caller's A2A bearer token to the provider as the API key (not with "
                    "apiKeySecret; not for Gemini, GeminiVertexAI, AnthropicVertexAI)",
    )
    default_headers: dict[str, str] = Field(
        default_factory=dict, alias="defaultHeaders",
        description="extra HTTP headers sent with every model request; stored in clear in the "
                    "ModelConfig, so credentials are refused here (use apiKeySecret)",
    )
    tls: Optional[TierTLS] = Field(None, description="TLS settings towards the provider or gateway")
    open_ai: Optional[k.OpenAIConfig] = Field(
        None, alias="openAI", description="provider OpenAI: kagent ModelConfig spec.openAI (baseUrl, temperature, "
                                          "maxTokens, reasoningEffort, ...)")
    anthropic: Optional[k.AnthropicConfig] = Field(
        None, description="provider Anthropic: kagent spec.anthropic (baseUrl, maxTokens, temperature, topK, topP)")
    azure_open_ai: Optional[k.AzureOpenAIConfig] = Field(
        None, alias="azureOpenAI",
        description="provider AzureOpenAI (required): kagent spec.azureOpenAI (azureEndpoint, apiVersion, "
                    "azureDeployment, ...); azureAdToken is a credential and is refused")
    ollama: Optional[k.OllamaConfig] = Field(
        None, description="provider Ollama: kagent spec.ollama (host, options as strings)")
    gemini: Optional[k.GeminiConfig] = Field(
        None, description="provider Gemini: kagent spec.gemini (maxOutputTokens is v0.10 only)")
    gemini_vertex_ai: Optional[k.GeminiVertexAIConfig] = Field(
        None, alias="geminiVertexAI",
        description="provider GeminiVertexAI (required): kagent spec.geminiVertexAI (projectID, location, ...)")
    anthropic_vertex_ai: Optional[k.AnthropicVertexAIConfig] = Field(
        None, alias="anthropicVertexAI",
        description="provider AnthropicVertexAI (required): kagent spec.anthropicVertexAI (projectID, location, ...)")
    bedrock: Optional[k.BedrockConfig] = Field(
        None, description="provider Bedrock (required): kagent spec.bedrock (region, promptCaching, ...; "
                          "connectTimeout, readTimeout, guardrail are v0.10 only)")
    sap_ai_core: Optional[k.SAPAICoreConfig] = Field(
        None, alias="sapAICore",
        description="provider SAPAICore (required): kagent spec.sapAICore (baseUrl, authUrl, resourceGroup)")
    foundry: Optional[k.FoundryConfig] = Field(
        None, description="provider Foundry (required; kagentVersion v0.10 only): kagent spec.foundry "
                          "(deployment, endpoint or endpointFrom, apiVersion)")
    harness: Optional[Name] = Field(
        None, description="kagent 1.0 only: the Harness the Agents of this tier run on (instead of spec.harness)")
    efforts: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="effort level (low, medium, high) -> the settings of this tier's provider block it sets, "
                    "e.g. {high: {openAI: {reasoningEffort: xhigh}}}, merged over the tier's own; {} runs the "
                    "level on the tier's own settings. Overrides the provider's default mapping (OpenAI: "
                    "reasoningEffort); a provider without one needs it for every level agents ask for")


class Canary(KrmModel):
    """Move some agents' main model to another tier, in this environment only."""

    name: Name = Field(description="the canary's name; set on each moved Agent as annotation krmfn.dev/canary")
    tier: TierName = Field(description="the tier the selected agents use instead of their own")
    agents: list[AgentReference] = Field(
        default_factory=list,
        description="the agents to move: NAMESPACE/NAME, or NAME for the agent of that name in every namespace",
    )
    selector: Optional[LabelSelector] = Field(None, description="or: the agents whose labels match")

    @model_validator(mode="after")
    def _one_way(self) -> "Canary":
        if bool(self.agents) == (self.selector is not None):
            raise ValueError("set exactly one of agents or selector")
        return self


class ModelEnvironmentSpec(KrmModel):
    environment: Optional[Name] = Field(
        None,
        description="the environment's name (default: metadata.name); written on Agents and ModelConfigs "
                    "as annotation krmfn.dev/environment. Prompt templates get theirs from "
                    "AgentExpansion spec.environment: keep the two equal in an overlay",
    )
    kagent_version: KagentVersion = Field(
        DEFAULT_KAGENT_VERSION, alias="kagentVersion",
        description="the kagent the cluster runs: v0.9.x (default v0.9.12) or v0.10.x; provider Foundry "
                    "and the v0.10-only ModelConfig fields are refused on v0.9",
    )
    default_tier: Optional[TierName] = Field(
        None, alias="defaultTier",
        description=f"the tier agents that ask for tier {DEFAULT_TIER!r} (or none) use; required unless "
                    f"there is exactly one tier or a tier is named {DEFAULT_TIER!r}",
    )
    default_memory_tier: Optional[TierName] = Field(
        None, alias="defaultMemoryTier",
        description=f"the tier memory embeddings that ask for tier {DEFAULT_TIER!r} use (an AgentDescription's "
                    "spec.memory without a model); default: the same tier as defaultTier. Set it to an "
                    "embedding model: chat models cannot embed",
    )
    tiers: dict[TierName, Tier] = Field(
        min_length=1, description="tier name -> provider, model, parameters and API key Secret reference")
    canaries: list[Canary] = Field(
        default_factory=list, description="agents moved to another tier in this environment only")
    harness: Optional[Name] = Field(
        None, description="kagent 1.0 only: the Harness (the platform team's, in each agent namespace) that "
                          "api.kagent.dev Agents without one run on; a tier's harness overrides it. krmfn "
                          "references it and never emits one")

    @property
    def is_v010(self) -> bool:
        return self.kagent_version.startswith("v0.10")


class ModelEnvironment(Resource):
    kind: Literal["ModelEnvironment"]
    spec: ModelEnvironmentSpec

    @property
    def environment(self) -> str:
        return self.spec.environment or self.metadata.name
