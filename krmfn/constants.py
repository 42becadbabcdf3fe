"""What krmfn knows about API groups, names and limits: each constant defined here and nowhere else.

No imports: every module, the function hot path included, may read it for free.
"""

# krmfn's own kinds (AgentDescription, ToolCatalog, the function configs).
GROUP = "krmfn.dev"
API_VERSION = "krmfn.dev/v1alpha1"

# kagent 0.x: Agent, ModelConfig, RemoteMCPServer at v1alpha2; kmcp's MCPServer at v1alpha1.
KAGENT_GROUP = "kagent.dev"
KAGENT_V1ALPHA2 = "kagent.dev/v1alpha2"
KMCP_API_VERSION = "kagent.dev/v1alpha1"
AGENT_KIND = "Agent"
MODELCONFIG_KIND = "ModelConfig"
REMOTEMCPSERVER_KIND = "RemoteMCPServer"
MCPSERVER_KIND = "MCPServer"
AGENT_API_VERSION = MODELCONFIG_API_VERSION = REMOTEMCPSERVER_API_VERSION = KAGENT_V1ALPHA2
MCPSERVER_API_VERSION = KMCP_API_VERSION
# kagent 1.0: a new group, v1alpha3 only, no conversion from 0.x.
KAGENT_V1_GROUP = "api.kagent.dev"
KAGENT_V1ALPHA3 = "api.kagent.dev/v1alpha3"
KAGENT_GROUPS = (KAGENT_GROUP, KAGENT_V1_GROUP)  # what makes an object a kagent object
AGENTTEMPLATE_KIND = "AgentTemplate"
HARNESS_KIND = "Harness"
MODELPROVIDERCONFIG_KIND = "ModelProviderConfig"
# The output targets of expand (AgentExpansion spec.target); the first is the default.
TARGET_V0_10 = "kagent-0.10"
TARGET_V1_0 = "kagent-1.0"
TARGETS = (TARGET_V0_10, TARGET_V1_0)
TARGET_OF_API_VERSION = {KAGENT_V1ALPHA2: TARGET_V0_10, KAGENT_V1ALPHA3: TARGET_V1_0}  # what an Agent was rendered for
# On a RemoteMCPServer krmfn emits in an agent's namespace for a catalog server declared in another
# (1.0 references are namespace-local): "<namespace>/<name>" of the catalog server it stands for.
# The policy believes it only when the copy's URL equals the catalog's.
ANNOTATION_CATALOG_SERVER = "krmfn.dev/catalog-server"
# On the object krmfn emits for one version of a versioned catalog server:
# "<namespace>/<server>@<version>" (the server's object itself is named `<server>-v<version>`).
ANNOTATION_SERVER_VERSION = "krmfn.dev/server-version"

# kagent (and the conformance checker) refuse a delegation chain deeper than this.
MAX_DELEGATION_DEPTH = 10

CRD_API_VERSION = "apiextensions.k8s.io/v1"
CRD_KIND = "CustomResourceDefinition"

# Set on every Namespace by the API server; the only label known of a Namespace not in the render.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
LOCAL_CONFIG_ANNOTATION = "config.kubernetes.io/local-config"

# Risk classes of a tool, in rising order; a tool no catalog knows is treated as the last.
RISKS = ("read", "write", "destructive")
ASSUMED_RISK = "destructive"
# The review's classes, in rank order: what no catalog knows is "unknown", gated as destructive.
REVIEW_RISKS = ("read", "write", "unknown", "destructive")

# Annotations kustomize and kpt use to say where an item came from (the internal. one first: it wins).
PATH_ANNOTATIONS = ("internal.config.kubernetes.io/path", "config.kubernetes.io/path")
INDEX_ANNOTATIONS = ("internal.config.kubernetes.io/index", "config.kubernetes.io/index")
# What kustomize records when the root kustomization has `buildMetadata: [originAnnotations]`
# (`krmfn build` asks for it): `path: ../../base/agents/x.yaml`, relative to the root kustomization.
ORIGIN_ANNOTATION = "config.kubernetes.io/origin"
# The annotation that makes an object a KRM function's config (kustomize's and kpt's function spec).
FUNCTION_ANNOTATION = "config.kubernetes.io/function"
# Annotations that are bookkeeping, not configuration: where kustomize and kpt read an object from
# (its file and index), and what kubectl apply remembers. They never travel to outputs nor count as
# a change.
LOCATION_ANNOTATION_PREFIXES = ("config.kubernetes.io/", "internal.config.kubernetes.io/", "config.k8s.io/")
LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
BOOKKEEPING_ANNOTATION_PREFIXES = (*LOCATION_ANNOTATION_PREFIXES, "kustomize.config.k8s.io/", LAST_APPLIED_ANNOTATION)

# The labels and annotations krmfn puts on what it emits.
MANAGED_BY = "krmfn"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_AGENT = "krmfn.dev/agent"
ANNOTATION_SOURCE = "krmfn.dev/source"
# A result tag beside ANNOTATION_SOURCE (also one): the field of that source the result is about.
ANNOTATION_SOURCE_FIELD = "krmfn.dev/source-field"
ANNOTATION_PROMPT_DIGEST = "krmfn.dev/prompt-digest"
ANNOTATION_MODEL_TIER = "krmfn.dev/model-tier"
ANNOTATION_MEMORY_TIER = "krmfn.dev/memory-model-tier"
# An AgentDescription's spec.effort, kept on the Agent (annotation) and on the ModelConfig the
# environment emits for it (label), as the tier is.
ANNOTATION_EFFORT = "krmfn.dev/effort"
# JSON {"<namespace>/<server>": {"<tool>": "read|write|destructive"}} of the tools granted. Written
# by expand for reviewers; a verdict may use it only to raise a risk, never to lower one.
ANNOTATION_TOOL_RISKS = "krmfn.dev/tool-risks"
LABEL_PROMPT_LIBRARY = "krmfn.dev/prompt-library"
# On a ToolCatalog expand has passed on: its servers were emitted already (a second expand, as on
# its own output, must not emit them again).
ANNOTATION_SERVERS_EMITTED = "krmfn.dev/servers-emitted"
# Set by the environment function on the Agents it manages and the ModelConfigs it emits.
ANNOTATION_ENVIRONMENT = "krmfn.dev/environment"
ANNOTATION_CANARY = "krmfn.dev/canary"


# --- kagent 0.x facts the output path needs (plain data: no pydantic) ---------------------------

# spec.declarative.tools[].type
TOOL_TYPE_MCP_SERVER = "McpServer"
TOOL_TYPE_AGENT = "Agent"

# spec.type
AGENT_TYPE_DECLARATIVE = "Declarative"
AGENT_TYPE_BYO = "BYO"

# The runtime krmfn pins. The CRD default changed from "python" (v0.9.12) to "go" (v0.10.0-rc3);
# leaving the field unset would silently switch every agent's ADK on a kagent upgrade, so krmfn
# always writes it, and writes the value that keeps v0.9.12 behaviour.
DEFAULT_RUNTIME = "python"

# ModelConfig spec.provider enum, in CRD order; "Foundry" is v0.10+ only.
MODEL_PROVIDERS: tuple[str, ...] = (
    "Anthropic", "OpenAI", "AzureOpenAI", "Ollama", "Gemini", "GeminiVertexAI",
    "AnthropicVertexAI", "Bedrock", "SAPAICore", "Foundry",
)
MODEL_PROVIDERS_V0_9: tuple[str, ...] = MODEL_PROVIDERS[:-1]

# spec.provider value -> the spec field holding that provider's settings.
PROVIDER_FIELDS: dict[str, str] = {
    "Anthropic": "anthropic",
    "OpenAI": "openAI",
    "AzureOpenAI": "azureOpenAI",
    "Ollama": "ollama",
    "Gemini": "gemini",
    "GeminiVertexAI": "geminiVertexAI",
    "AnthropicVertexAI": "anthropicVertexAI",
    "Bedrock": "bedrock",
    "SAPAICore": "sapAICore",
    "Foundry": "foundry",  # v0.10+
}

# Providers whose apiKeySecret needs no apiKeySecretKey (CRD CEL rule).
PROVIDERS_WITHOUT_SECRET_KEY = ("Bedrock", "SAPAICore")
# Providers that may not use apiKeyPassthrough (CRD CEL rule).
PROVIDERS_WITHOUT_PASSTHROUGH = ("Gemini", "GeminiVertexAI", "AnthropicVertexAI")

# The effort levels an AgentDescription may ask for (spec.effort), lowest first.
EFFORT_LEVELS = ("low", "medium", "high")
# What each level means by default, per provider: the settings of the provider's ModelConfig block
# (spec.<PROVIDER_FIELDS[provider]>). Only providers whose ModelConfig has an effort setting in every
# kagent version krmfn targets (v0.9.12, v0.10.0-rc3, 1.0) are here: OpenAI's `reasoningEffort`.
# Anthropic, AnthropicVertexAI, Gemini and GeminiVertexAI (no thinking budget field), AzureOpenAI,
# SAPAICore and Foundry (no reasoning field), Ollama (`options` are model options; Ollama's `think`
# is not one of them) and Bedrock (`additionalModelRequestFields` depends on the model) have none:
# an environment maps a level for such a tier explicitly, or the render fails.
EFFORT_SETTINGS: dict[str, dict[str, dict[str, str]]] = {
    "OpenAI": {level: {"reasoningEffort": level} for level in EFFORT_LEVELS},
}
# Providers whose ModelConfig can carry an effort only in a field whose meaning depends on the model.
EFFORT_MODEL_SPECIFIC = {"Bedrock": "bedrock.additionalModelRequestFields"}

# Field paths (JSON names, `[]` for list items) that exist in the v0.10.0-rc3 CRDs but not in
# v0.9.12. A v0.9.12 API server prunes them (or rejects them under strict field validation).
V0_10_ONLY_FIELDS: dict[str, tuple[str, ...]] = {
    AGENT_KIND: (
        "spec.version",
        "spec.iconUrl",
        "spec.documentationUrl",
        "spec.provider",
        "spec.skills.s3Refs",
        "spec.declarative.shareTools",
        "spec.declarative.tools[].isolateSessions",
        "spec.declarative.deployment.deploymentAnnotations",
        "spec.declarative.deployment.envFrom",
        "spec.byo.deployment.deploymentAnnotations",
        "spec.byo.deployment.envFrom",
    ),
    MODELCONFIG_KIND: (
        "spec.foundry",
        "spec.openAI.apiFormat",
        "spec.openAI.maxCompletionTokens",
        "spec.gemini.maxOutputTokens",
        "spec.bedrock.connectTimeout",
        "spec.bedrock.readTimeout",
        "spec.bedrock.guardrail",
    ),
    REMOTEMCPSERVER_KIND: (),
    MCPSERVER_KIND: (),
}
# Enum values that only v0.10.0-rc3 accepts.
V0_10_ONLY_ENUM_VALUES: dict[str, dict[str, tuple[str, ...]]] = {
    MODELCONFIG_KIND: {
        "spec.provider": ("Foundry",),
        "spec.openAI.reasoningEffort": ("none", "xhigh"),
    },
}
