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
# kagent 1.0: a new group, v1alpha3 only, no conversion from 0.x.
KAGENT_V1_GROUP = "api.kagent.dev"
KAGENT_V1ALPHA3 = "api.kagent.dev/v1alpha3"

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

# The labels and annotations krmfn puts on what it emits.
MANAGED_BY = "krmfn"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_AGENT = "krmfn.dev/agent"
ANNOTATION_SOURCE = "krmfn.dev/source"
ANNOTATION_PROMPT_DIGEST = "krmfn.dev/prompt-digest"
ANNOTATION_MODEL_TIER = "krmfn.dev/model-tier"
ANNOTATION_MEMORY_TIER = "krmfn.dev/memory-model-tier"
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
