"""The kagent schemas krmfn reads user input with (kagent v0.9.12 and v0.10.0-rc3 CRDs).

What krmfn emits is built as plain data and proven against the real CRDs in tests
(tests/test_output_conformance.py); the models here are only the parts of kagent's API that
users write themselves and krmfn copies into its output, validated with kagent's own rules:

* `DeclarativeDeploymentSpec`: an AgentDescription's `spec.deployment`;
* `ValueRef`: a ToolCatalog remote server's `headersFrom` entries;
* `ModelConfigSpec` and the provider blocks (`OpenAIConfig`, ...): a ModelEnvironment tier.

Conventions: attribute names are the CRD's JSON names, spelled as the CRD spells them
(`projectID`, `sapAICore`); unknown fields are errors (the API server would prune them silently);
numbers the CRD types as strings (temperature, topP, ...) are `str`, integers are strict `int`;
fields only in the v0.10 CRDs are marked `# v0.10+` (and listed in `V0_10_ONLY_FIELDS`); where the
CRD has a `default:`, the model has the same default, so what krmfn copies out equals what the API
server stores; the CRDs' CEL rules are model validators with the CRD's own messages.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from ..runtime.typed import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from ..constants import (  # noqa: F401  (re-exported: the models' names)
    KAGENT_GROUP,
    AGENT_API_VERSION,
    AGENT_KIND,
    MODELCONFIG_API_VERSION,
    MODELCONFIG_KIND,
    REMOTEMCPSERVER_API_VERSION,
    REMOTEMCPSERVER_KIND,
    MCPSERVER_API_VERSION,
    MCPSERVER_KIND,
    TOOL_TYPE_MCP_SERVER,
    TOOL_TYPE_AGENT,
    AGENT_TYPE_DECLARATIVE,
    AGENT_TYPE_BYO,
    DEFAULT_RUNTIME,
    MODEL_PROVIDERS,
    MODEL_PROVIDERS_V0_9,
    PROVIDER_FIELDS,
    PROVIDERS_WITHOUT_SECRET_KEY,
    PROVIDERS_WITHOUT_PASSTHROUGH,
    V0_10_ONLY_FIELDS,
    V0_10_ONLY_ENUM_VALUES,
)

StrMap = dict[str, str]
Obj = dict[str, Any]
ObjList = list[dict[str, Any]]

ProviderName = Literal[MODEL_PROVIDERS]  # a tuple subscript: one value per provider


class KagentModel(BaseModel):
    """Base of every kagent model: unknown fields are errors."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --- shared pieces -------------------------------------------------------------------------------


class LocalObjectReference(KagentModel):
    """core/v1 LocalObjectReference. The CRD defaults `name` to ""; krmfn requires it."""

    name: str


class ConfigMapKeySelector(KagentModel):
    """core/v1 ConfigMapKeySelector (CRD default of `name` is ""; required here)."""

    key: str
    name: str
    optional: Optional[StrictBool] = None


class ValueSource(KagentModel):
    """A key of a ConfigMap or Secret in the referencing object's namespace."""

    type: Literal["ConfigMap", "Secret"]
    name: str = Field(max_length=253)
    key: str = Field(max_length=253)


class ValueRef(KagentModel):
    """A header: a literal value or one taken from a ConfigMap/Secret."""

    name: str
    value: Optional[str] = None
    valueFrom: Optional[ValueSource] = None

    @model_validator(mode="after")
    def cel_rules(self) -> "ValueRef":
        if (self.value is None) == (self.valueFrom is None):
            raise ValueError("Exactly one of value or valueFrom must be specified")
        return self


class TLSConfig(KagentModel):
    """Upstream TLS settings (ModelConfig.spec.tls, RemoteMCPServer.spec.tls)."""

    caCertSecretRef: Optional[str] = None
    caCertSecretKey: Optional[str] = None
    disableSystemCAs: StrictBool = False  # CRD default
    disableVerify: StrictBool = False  # CRD default

    @model_validator(mode="after")
    def cel_rules(self) -> "TLSConfig":
        if self.caCertSecretKey and not self.caCertSecretRef:
            raise ValueError("caCertSecretKey requires caCertSecretRef")
        if self.caCertSecretRef and not self.caCertSecretKey:
            raise ValueError("caCertSecretRef requires caCertSecretKey")
        if self.disableSystemCAs and not self.disableVerify and not self.caCertSecretRef:
            raise ValueError("disableSystemCAs requires caCertSecretRef or disableVerify "
                             "(trust-nothing config rejects every upstream)")
        return self


# --- Agent ---------------------------------------------------------------------------------------


class ServiceAccountConfig(KagentModel):
    annotations: Optional[StrMap] = None
    labels: Optional[StrMap] = None


class _AgentDeploymentBase(KagentModel):
    replicas: Optional[StrictInt] = None  # controller default 1
    resources: Optional[Obj] = None
    env: Optional[ObjList] = None
    envFrom: Optional[ObjList] = None  # v0.10+
    imagePullPolicy: Optional[str] = None
    imagePullSecrets: Optional[list[LocalObjectReference]] = None
    labels: Optional[StrMap] = None
    annotations: Optional[StrMap] = None  # pod template annotations
    deploymentAnnotations: Optional[StrMap] = None  # v0.10+
    nodeSelector: Optional[StrMap] = None
    affinity: Optional[Obj] = None
    tolerations: Optional[ObjList] = None
    podSecurityContext: Optional[Obj] = None
    securityContext: Optional[Obj] = None
    volumes: Optional[ObjList] = None
    volumeMounts: Optional[ObjList] = None
    extraContainers: Optional[ObjList] = None
    serviceAccountName: Optional[str] = None
    serviceAccountConfig: Optional[ServiceAccountConfig] = None

    @model_validator(mode="after")
    def cel_rules(self) -> "_AgentDeploymentBase":
        if self.serviceAccountName is not None and self.serviceAccountConfig is not None:
            raise ValueError("serviceAccountName and serviceAccountConfig are mutually exclusive")
        return self


class DeclarativeDeploymentSpec(_AgentDeploymentBase):
    imageRegistry: Optional[str] = None


# --- ModelConfig ---------------------------------------------------------------------------------


class GDCHServiceAccountConfig(KagentModel):
    audience: str


class TokenExchangeConfig(KagentModel):
    type: Literal["GDCHServiceAccount"]
    gdchServiceAccount: Optional[GDCHServiceAccountConfig] = None


class OpenAIConfig(KagentModel):
    baseUrl: Optional[str] = None
    organization: Optional[str] = None
    temperature: Optional[str] = None
    topP: Optional[str] = None
    frequencyPenalty: Optional[str] = None
    presencePenalty: Optional[str] = None
    maxTokens: Optional[StrictInt] = Field(None, ge=1)  # minimum only in v0.10; >=1 is valid in both
    maxCompletionTokens: Optional[StrictInt] = Field(None, ge=1)  # v0.10+
    seed: Optional[StrictInt] = None
    n: Optional[StrictInt] = None
    timeout: Optional[StrictInt] = None
    # "none" and "xhigh" are v0.10+ values.
    reasoningEffort: Optional[Literal["none", "minimal", "low", "medium", "high", "xhigh"]] = None
    # v0.10+, CRD default "chatCompletions". Not defaulted here: v0.9.12 has no such field, so the
    # model cannot carry it for both versions. When targeting v0.10, set it explicitly, or the
    # server adds `apiFormat: chatCompletions` (crd_defaults_missing reports it).
    apiFormat: Optional[Literal["chatCompletions", "responses"]] = None
    tokenExchange: Optional[TokenExchangeConfig] = None

    @model_validator(mode="after")
    def cel_rules(self) -> "OpenAIConfig":
        if self.maxTokens is not None and self.maxCompletionTokens is not None:
            raise ValueError("maxTokens and maxCompletionTokens are mutually exclusive")
        return self


class AnthropicConfig(KagentModel):
    baseUrl: Optional[str] = None
    maxTokens: Optional[StrictInt] = None
    temperature: Optional[str] = None
    topK: Optional[StrictInt] = None  # an integer here, a string in the Vertex AI blocks
    topP: Optional[str] = None


class AzureOpenAIConfig(KagentModel):
    azureEndpoint: str
    apiVersion: str
    azureDeployment: Optional[str] = None
    azureAdToken: Optional[str] = None
    maxTokens: Optional[StrictInt] = None
    temperature: Optional[str] = None
    topP: Optional[str] = None


class OllamaConfig(KagentModel):
    host: Optional[str] = None
    options: Optional[StrMap] = None  # values are strings, e.g. {"num_ctx": "8192"}


class GeminiConfig(KagentModel):
    maxOutputTokens: Optional[StrictInt] = Field(None, ge=1)  # v0.10+ (v0.9.12: empty object)


class GeminiVertexAIConfig(KagentModel):
    projectID: str
    location: str
    candidateCount: Optional[StrictInt] = None
    maxOutputTokens: Optional[StrictInt] = Field(None, ge=1)
    responseMimeType: Optional[str] = None
    stopSequences: Optional[list[str]] = None
    temperature: Optional[str] = None
    topK: Optional[str] = None
    topP: Optional[str] = None


class AnthropicVertexAIConfig(KagentModel):
    projectID: str
    location: str
    maxTokens: Optional[StrictInt] = None
    stopSequences: Optional[list[str]] = None
    temperature: Optional[str] = None
    topK: Optional[str] = None
    topP: Optional[str] = None


class BedrockGuardrailConfig(KagentModel):  # v0.10+
    identifier: str = Field(min_length=1, max_length=2048)
    version: str = Field(min_length=1, max_length=8)
    trace: Literal["disabled", "enabled", "enabled_full"] = "disabled"  # CRD default


class BedrockConfig(KagentModel):
    region: str
    additionalModelRequestFields: Optional[Obj] = None  # forwarded as-is (preserve-unknown-fields)
    promptCaching: StrictBool = False  # CRD default
    cacheTTL: Literal["5m", "1h"] = "5m"  # CRD default
    connectTimeout: Optional[StrictInt] = Field(None, ge=1)  # v0.10+
    readTimeout: Optional[StrictInt] = Field(None, ge=1)  # v0.10+
    guardrail: Optional[BedrockGuardrailConfig] = None  # v0.10+


class SAPAICoreConfig(KagentModel):
    """Credentials: apiKeySecret holds keys `client_id` and `client_secret`; no apiKeySecretKey."""

    baseUrl: str
    authUrl: Optional[str] = None
    resourceGroup: str = "default"  # CRD default


class FoundryConfig(KagentModel):  # v0.10+
    deployment: str
    endpoint: Optional[str] = None
    endpointFrom: Optional[ConfigMapKeySelector] = None
    apiVersion: str = "2024-10-21"  # CRD default

    @model_validator(mode="after")
    def cel_rules(self) -> "FoundryConfig":
        if self.endpoint and self.endpointFrom is not None:
            raise ValueError("foundry.endpoint and foundry.endpointFrom are mutually exclusive")
        if not self.endpoint and self.endpointFrom is None:
            raise ValueError("foundry.endpoint or foundry.endpointFrom is required")
        return self


class ModelConfigSpec(KagentModel):
    # Required here (CRD default "OpenAI"): the environment always names the provider.
    provider: ProviderName
    model: str
    apiKeySecret: Optional[str] = None  # Secret name, same namespace as the ModelConfig
    apiKeySecretKey: Optional[str] = None  # key in that Secret
    apiKeyPassthrough: Optional[StrictBool] = None
    defaultHeaders: Optional[StrMap] = None
    tls: Optional[TLSConfig] = None
    openAI: Optional[OpenAIConfig] = None
    anthropic: Optional[AnthropicConfig] = None
    azureOpenAI: Optional[AzureOpenAIConfig] = None
    ollama: Optional[OllamaConfig] = None
    gemini: Optional[GeminiConfig] = None
    geminiVertexAI: Optional[GeminiVertexAIConfig] = None
    anthropicVertexAI: Optional[AnthropicVertexAIConfig] = None
    bedrock: Optional[BedrockConfig] = None
    sapAICore: Optional[SAPAICoreConfig] = None
    foundry: Optional[FoundryConfig] = None  # v0.10+

    @model_validator(mode="after")
    def cel_rules(self) -> "ModelConfigSpec":
        for provider, field in PROVIDER_FIELDS.items():
            if getattr(self, field) is not None and self.provider != provider:
                raise ValueError(f"provider.{field} must be nil if the provider is not {provider}")
        if self.apiKeySecretKey is not None and self.apiKeySecret is None:
            raise ValueError("apiKeySecret must be set if apiKeySecretKey is set")
        if (self.apiKeySecret is not None and self.apiKeySecretKey is None
                and self.provider not in PROVIDERS_WITHOUT_SECRET_KEY):
            raise ValueError("apiKeySecretKey must be set if apiKeySecret is set "
                             "(except for Bedrock and SAPAICore providers)")
        if self.apiKeyPassthrough and self.apiKeySecret:
            raise ValueError("apiKeyPassthrough and apiKeySecret are mutually exclusive")
        if self.apiKeyPassthrough and self.provider in PROVIDERS_WITHOUT_PASSTHROUGH:
            raise ValueError("apiKeyPassthrough must be false if provider is "
                             "Gemini;GeminiVertexAI;AnthropicVertexAI")
        exchange = self.openAI.tokenExchange if self.openAI is not None else None
        if exchange is not None:
            if not self.apiKeySecret:
                raise ValueError("openAI.tokenExchange requires apiKeySecret (the service account secret)")
            if self.apiKeyPassthrough:
                raise ValueError("openAI.tokenExchange and apiKeyPassthrough are mutually exclusive")
            if exchange.type == "GDCHServiceAccount" and exchange.gdchServiceAccount is None:
                raise ValueError("openAI.tokenExchange type GDCHServiceAccount requires "
                                 "openAI.tokenExchange.gdchServiceAccount")
        return self
