"""kagent's names and facts as plain data: API versions, kinds, providers, version-only fields.

No pydantic here: the output path (expand, environment) builds kagent objects as plain dicts and
needs only these. The typed models in `models` import them from here.
"""

from __future__ import annotations

# --- API versions and kinds ----------------------------------------------------------------------

KAGENT_GROUP = "kagent.dev"
AGENT_API_VERSION = "kagent.dev/v1alpha2"
AGENT_KIND = "Agent"
MODELCONFIG_API_VERSION = "kagent.dev/v1alpha2"
MODELCONFIG_KIND = "ModelConfig"
REMOTEMCPSERVER_API_VERSION = "kagent.dev/v1alpha2"
REMOTEMCPSERVER_KIND = "RemoteMCPServer"
MCPSERVER_API_VERSION = "kagent.dev/v1alpha1"  # kmcp
MCPSERVER_KIND = "MCPServer"

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
