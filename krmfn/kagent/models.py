"""Typed models of the kagent resources krmfn emits.

Covers `kagent.dev/v1alpha2` Agent, ModelConfig and RemoteMCPServer and kmcp `kagent.dev/v1alpha1`
MCPServer, as the CRDs of kagent v0.9.12 and v0.10.0-rc3 define them (kmcp v0.3.0 for MCPServer).

Conventions:

* Attribute names are the CRD's JSON names, camelCase, spelled exactly as the CRD spells them
  (`apiKeySecret`, `projectID`, `sapAICore`, `ttlDays`, ...). The one exception is
  `AllowedNamespaces.from_` (JSON `from`, a Python keyword); `populate_by_name=True` lets callers
  pass either spelling there. Construct with keywords (`ModelConfigSpec(provider="Ollama", ...)`)
  or validate a plain dict (`Agent.model_validate(obj)`).
* Unknown fields are errors (`extra="forbid"`): the API server would prune them silently, or
  reject them under strict field validation.
* Numbers that the CRD types as strings (temperature, topP, penalties, topK for the Vertex AI
  providers, durations) are `str`; integers are `int`. Neither is coerced: pass the right type.
* Fields present only in the v0.10.0-rc3 CRDs are marked `# v0.10+` and listed in
  `V0_10_ONLY_FIELDS`; emit them only when targeting kagent >= 0.10.
* Big Kubernetes core types (resources, env, volumes, affinity, tolerations, security contexts,
  containers) are plain dicts/lists of dicts.
* Server-side defaults: kagent has no admission webhook, so the API server applies only the CRD
  `default:` values. Where the CRD has one, the model carries the same value as its default, so the
  rendered object already equals what the API server stores (no drift between Git and cluster).
  `krmfn.kagent.defaults.crd_defaults_missing` checks this against a CRD. Deliberate exceptions
  are documented on the field (`runtime`, `openAI.apiFormat`).
* The CEL rules (`x-kubernetes-validations`) of these CRDs are mirrored as model validators, with
  the CRD's own messages, so an invalid object fails when it is built, not when it is applied.

`to_obj()` on a top-level object returns a plain dict for YAML: JSON names, no `None` values,
with `apiVersion` and `kind`.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

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

ProviderName = Literal[
    "Anthropic", "OpenAI", "AzureOpenAI", "Ollama", "Gemini", "GeminiVertexAI",
    "AnthropicVertexAI", "Bedrock", "SAPAICore", "Foundry",
]


class KagentModel(BaseModel):
    """Base of every kagent model: unknown fields are errors, JSON names accepted."""

    # defer_build: a function builds validators only for the models it uses (start-up time).
    model_config = ConfigDict(extra="forbid", populate_by_name=True, protected_namespaces=(), defer_build=True)


class KagentObject(KagentModel):
    """A top-level Kubernetes object."""

    def to_obj(self) -> dict[str, Any]:
        """A plain dict ready for YAML: JSON names, `None`s dropped, apiVersion and kind included."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class ObjectMeta(KagentModel):
    name: str = Field(min_length=1)
    namespace: Optional[str] = None
    labels: Optional[StrMap] = None
    annotations: Optional[StrMap] = None


# --- shared pieces -------------------------------------------------------------------------------


class LocalObjectReference(KagentModel):
    """core/v1 LocalObjectReference. The CRD defaults `name` to ""; krmfn requires it."""

    name: str


class ConfigMapKeySelector(KagentModel):
    """core/v1 ConfigMapKeySelector (CRD default of `name` is ""; required here)."""

    key: str
    name: str
    optional: Optional[StrictBool] = None


class LabelSelectorRequirement(KagentModel):
    key: str
    operator: str
    values: Optional[list[str]] = None


class LabelSelector(KagentModel):
    matchExpressions: Optional[list[LabelSelectorRequirement]] = None
    matchLabels: Optional[StrMap] = None


class AllowedNamespaces(KagentModel):
    """Which namespaces may reference this object (Gateway API style)."""

    from_: Literal["All", "Same", "Selector"] = Field("Same", alias="from")  # CRD default "Same"
    selector: Optional[LabelSelector] = None

    @model_validator(mode="after")
    def cel_rules(self) -> "AllowedNamespaces":
        if self.from_ == "Selector" and self.selector is None:
            raise ValueError("selector must be specified when from is Selector")
        return self


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


class McpServerTool(KagentModel):
    """tools[].mcpServer. Empty `kind` means a kmcp MCPServer; missing `toolNames` grants every tool."""

    apiGroup: Optional[str] = None
    kind: Optional[str] = None
    name: str
    namespace: Optional[str] = None
    toolNames: Optional[list[str]] = Field(None, max_length=50)
    requireApproval: Optional[list[str]] = Field(None, max_length=50)
    allowedHeaders: Optional[list[str]] = None

    @model_validator(mode="after")
    def cel_rules(self) -> "McpServerTool":
        if self.requireApproval is not None and any(
            self.toolNames is None or t not in self.toolNames for t in self.requireApproval
        ):
            raise ValueError("each RequireApproval entry must also appear in ToolNames")
        return self


class TypedReference(KagentModel):
    """tools[].agent: another Agent used as a tool."""

    apiGroup: Optional[str] = None
    kind: Optional[str] = None
    name: str
    namespace: Optional[str] = None


class Tool(KagentModel):
    type: Literal["McpServer", "Agent"]  # no CRD default; the CEL rules require it
    mcpServer: Optional[McpServerTool] = None
    agent: Optional[TypedReference] = None
    headersFrom: Optional[list[ValueRef]] = None
    isolateSessions: Optional[StrictBool] = None  # v0.10+

    @model_validator(mode="after")
    def cel_rules(self) -> "Tool":
        if self.mcpServer is not None and self.type != TOOL_TYPE_MCP_SERVER:
            raise ValueError("type.mcpServer must be nil if the type is not McpServer")
        if self.mcpServer is None and self.type == TOOL_TYPE_MCP_SERVER:
            raise ValueError("type.mcpServer must be specified for McpServer filter.type")
        if self.agent is not None and self.type != TOOL_TYPE_AGENT:
            raise ValueError("type.agent must be nil if the type is not Agent")
        if self.agent is None and self.type == TOOL_TYPE_AGENT:
            raise ValueError("type.agent must be specified for Agent filter.type")
        if self.isolateSessions is not None and self.type != TOOL_TYPE_AGENT:
            raise ValueError("isolateSessions can only be set when type is Agent")
        return self


class AgentSkill(KagentModel):
    """An A2A skill (declarative.a2aConfig.skills[])."""

    id: Optional[str] = None
    name: str = Field(min_length=1)
    description: Optional[str] = None
    examples: Optional[list[str]] = Field(None, max_length=20)
    tags: Optional[list[str]] = Field(None, max_length=20)
    inputModes: Optional[list[str]] = None
    outputModes: Optional[list[str]] = None


class A2AConfig(KagentModel):
    skills: Optional[list[AgentSkill]] = Field(None, min_length=1)


class MemorySpec(KagentModel):
    modelConfig: str  # an embedding ModelConfig in the Agent's namespace
    ttlDays: Optional[StrictInt] = Field(None, ge=1)  # controller default 15


class ContextSummarizerConfig(KagentModel):
    modelConfig: Optional[str] = None
    promptTemplate: Optional[str] = None


class ContextCompressionConfig(KagentModel):
    compactionInterval: StrictInt = Field(5, ge=1)  # CRD default
    overlapSize: StrictInt = Field(2, ge=0)  # CRD default
    eventRetentionSize: Optional[StrictInt] = None
    tokenThreshold: Optional[StrictInt] = None
    summarizer: Optional[ContextSummarizerConfig] = None


class ContextConfig(KagentModel):
    compaction: Optional[ContextCompressionConfig] = None


class PromptSource(KagentModel):
    name: str
    alias: Optional[str] = None
    apiGroup: Optional[str] = None
    kind: Optional[str] = None


class PromptTemplateSpec(KagentModel):
    dataSources: Optional[list[PromptSource]] = Field(None, max_length=20)


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


class ByoDeploymentSpec(_AgentDeploymentBase):
    image: str = Field(min_length=1)  # serves A2A on port 8080
    cmd: Optional[str] = None
    args: Optional[list[str]] = None
    workingDir: Optional[str] = None


class DeclarativeAgentSpec(KagentModel):
    # Pinned, never left to the CRD default: v0.9.12 defaults to "python", v0.10 to "go".
    runtime: Literal["python", "go"] = DEFAULT_RUNTIME
    systemMessage: Optional[str] = None
    systemMessageFrom: Optional[ValueSource] = None
    promptTemplate: Optional[PromptTemplateSpec] = None
    # Required here: the CRD documents a default ("default-model-config") but has no `default:`,
    # and the v0.9.12 controller does not apply it.
    modelConfig: str = Field(min_length=1)
    # No CRD default; the runtime treats unset as false. Written explicitly so a diff shows it.
    stream: StrictBool = False
    tools: Optional[list[Tool]] = Field(None, max_length=20)
    a2aConfig: Optional[A2AConfig] = None
    memory: Optional[MemorySpec] = None
    deployment: Optional[DeclarativeDeploymentSpec] = None
    context: Optional[ContextConfig] = None
    executeCodeBlocks: Optional[StrictBool] = None  # ignored by kagent; removed on kagent main
    shareTools: Optional[StrictBool] = None  # v0.10+

    @model_validator(mode="after")
    def cel_rules(self) -> "DeclarativeAgentSpec":
        if self.systemMessage is not None and self.systemMessageFrom is not None:
            raise ValueError("systemMessage and systemMessageFrom are mutually exclusive")
        return self


class ByoAgentSpec(KagentModel):
    deployment: ByoDeploymentSpec


class GitRepo(KagentModel):
    url: str
    name: Optional[str] = None
    path: Optional[str] = None
    ref: str = "main"  # CRD default


class S3Ref(KagentModel):  # v0.10+
    uri: str = Field(min_length=1, pattern=r"^s3://.+")
    name: Optional[str] = None
    region: Optional[str] = None


class SkillsInitContainer(KagentModel):
    env: Optional[ObjList] = None
    resources: Optional[Obj] = None


class SkillForAgent(KagentModel):
    """spec.skills: skill bundles (OCI images, git, S3) mounted into the agent."""

    refs: Optional[list[str]] = Field(None, min_length=1, max_length=20)
    gitRefs: Optional[list[GitRepo]] = Field(None, min_length=1, max_length=20)
    gitAuthSecretRef: Optional[LocalObjectReference] = None
    imagePullSecrets: Optional[list[LocalObjectReference]] = Field(None, max_length=20)
    initContainer: Optional[SkillsInitContainer] = None
    insecureSkipVerify: Optional[StrictBool] = None
    s3Refs: Optional[list[S3Ref]] = Field(None, min_length=1, max_length=20)  # v0.10+


class SandboxNetwork(KagentModel):
    allowedDomains: Optional[list[str]] = None


class SandboxConfig(KagentModel):
    network: Optional[SandboxNetwork] = None


class AgentProvider(KagentModel):  # v0.10+
    organization: str = Field(min_length=1)
    url: str


class AgentSpec(KagentModel):
    type: Literal["Declarative", "BYO"] = AGENT_TYPE_DECLARATIVE  # CRD default "Declarative"
    description: Optional[str] = None
    declarative: Optional[DeclarativeAgentSpec] = None
    byo: Optional[ByoAgentSpec] = None
    skills: Optional[SkillForAgent] = None
    allowedNamespaces: Optional[AllowedNamespaces] = None
    sandbox: Optional[SandboxConfig] = None
    version: Optional[str] = None  # v0.10+
    iconUrl: Optional[str] = None  # v0.10+
    documentationUrl: Optional[str] = None  # v0.10+
    provider: Optional[AgentProvider] = None  # v0.10+

    @model_validator(mode="after")
    def cel_rules(self) -> "AgentSpec":
        if self.type == AGENT_TYPE_DECLARATIVE and self.declarative is None:
            raise ValueError("declarative must be specified if type is Declarative")
        if self.type == AGENT_TYPE_BYO and self.byo is None:
            raise ValueError("byo must be specified if type is BYO")
        # Stricter than the CRD, which only ignores the other block.
        if self.type == AGENT_TYPE_DECLARATIVE and self.byo is not None:
            raise ValueError("byo must not be set when type is Declarative")
        if self.type == AGENT_TYPE_BYO and self.declarative is not None:
            raise ValueError("declarative must not be set when type is BYO")
        return self


class Agent(KagentObject):
    apiVersion: Literal["kagent.dev/v1alpha2"] = AGENT_API_VERSION
    kind: Literal["Agent"] = AGENT_KIND
    metadata: ObjectMeta
    spec: AgentSpec


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


class ModelConfig(KagentObject):
    apiVersion: Literal["kagent.dev/v1alpha2"] = MODELCONFIG_API_VERSION
    kind: Literal["ModelConfig"] = MODELCONFIG_KIND
    metadata: ObjectMeta
    spec: ModelConfigSpec


# --- RemoteMCPServer -----------------------------------------------------------------------------


class RemoteMCPServerSpec(KagentModel):
    description: str  # required by the CRD
    url: str = Field(min_length=1)
    protocol: Literal["SSE", "STREAMABLE_HTTP"] = "STREAMABLE_HTTP"  # CRD default
    timeout: str = "30s"  # CRD default (a duration string)
    sseReadTimeout: Optional[str] = None
    terminateOnClose: StrictBool = True  # CRD default
    headersFrom: Optional[list[ValueRef]] = None
    allowedNamespaces: Optional[AllowedNamespaces] = None
    tls: Optional[TLSConfig] = None

    @model_validator(mode="after")
    def cel_rules(self) -> "RemoteMCPServerSpec":
        if self.url.startswith("http://") and self.tls is not None:
            raise ValueError("spec.tls must be unset when spec.url has http:// scheme")
        if (self.allowedNamespaces is not None and self.allowedNamespaces.from_ in ("All", "Selector")
                and self.tls is not None and self.tls.caCertSecretRef):
            raise ValueError("spec.allowedNamespaces must not permit cross-namespace access "
                             "(from: All or from: Selector) when spec.tls.caCertSecretRef is set")
        return self


class RemoteMCPServer(KagentObject):
    apiVersion: Literal["kagent.dev/v1alpha2"] = REMOTEMCPSERVER_API_VERSION
    kind: Literal["RemoteMCPServer"] = REMOTEMCPSERVER_KIND
    metadata: ObjectMeta
    spec: RemoteMCPServerSpec


# --- kmcp MCPServer ------------------------------------------------------------------------------

PullPolicy = Literal["Always", "Never", "IfNotPresent"]


class MCPServerInitContainer(KagentModel):
    image: Optional[str] = None
    imagePullPolicy: Optional[PullPolicy] = None
    resources: Optional[Obj] = None
    securityContext: Optional[Obj] = None


class MCPServerServiceAccount(KagentModel):
    annotations: Optional[StrMap] = None
    labels: Optional[StrMap] = None


class MCPServerDeployment(KagentModel):
    image: Optional[str] = None
    cmd: Optional[str] = None
    args: Optional[list[str]] = None
    port: StrictInt = 3000  # CRD default
    replicas: StrictInt = 1  # CRD default
    env: Optional[StrMap] = None  # a map name -> value here, not a list of EnvVar
    secretRefs: Optional[list[LocalObjectReference]] = None  # mounted as volumes
    configMapRefs: Optional[list[LocalObjectReference]] = None
    imagePullPolicy: Optional[PullPolicy] = None
    imagePullSecrets: Optional[list[LocalObjectReference]] = None
    initContainer: Optional[MCPServerInitContainer] = None
    labels: Optional[StrMap] = None
    annotations: Optional[StrMap] = None
    nodeSelector: Optional[StrMap] = None
    affinity: Optional[Obj] = None
    tolerations: Optional[ObjList] = None
    podSecurityContext: Optional[Obj] = None
    securityContext: Optional[Obj] = None
    resources: Optional[Obj] = None
    volumes: Optional[ObjList] = None
    volumeMounts: Optional[ObjList] = None
    sidecars: Optional[ObjList] = None
    serviceAccount: Optional[MCPServerServiceAccount] = None
    serviceAccountName: Optional[str] = None

    @model_validator(mode="after")
    def cel_rules(self) -> "MCPServerDeployment":
        if self.serviceAccount is not None and self.serviceAccountName is not None:
            raise ValueError("serviceAccount and serviceAccountName are mutually exclusive")
        return self


class StdioTransport(KagentModel):
    """An empty object in the CRD: `stdioTransport: {}`."""


class HTTPTransportTLS(KagentModel):
    insecureSkipVerify: StrictBool = False  # CRD default
    secretRef: Optional[str] = None


class HTTPTransport(KagentModel):
    targetPort: Optional[StrictInt] = None
    path: Optional[str] = None
    tls: Optional[HTTPTransportTLS] = None


class MCPServerSpec(KagentModel):
    deployment: MCPServerDeployment
    transportType: Optional[Literal["stdio", "http"]] = None
    stdioTransport: Optional[StdioTransport] = None
    httpTransport: Optional[HTTPTransport] = None
    timeout: str = "30s"  # CRD default; copied to the RemoteMCPServer kmcp generates


class MCPServer(KagentObject):
    apiVersion: Literal["kagent.dev/v1alpha1"] = MCPSERVER_API_VERSION
    kind: Literal["MCPServer"] = MCPSERVER_KIND
    metadata: ObjectMeta
    spec: MCPServerSpec
