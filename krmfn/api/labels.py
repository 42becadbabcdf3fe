"""The labels and annotations krmfn puts on what it emits (no imports: the review reads them too)."""

MANAGED_BY = "krmfn"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_AGENT = "krmfn.dev/agent"
ANNOTATION_SOURCE = "krmfn.dev/source"
ANNOTATION_PROMPT_DIGEST = "krmfn.dev/prompt-digest"
ANNOTATION_MODEL_TIER = "krmfn.dev/model-tier"
ANNOTATION_MEMORY_TIER = "krmfn.dev/memory-model-tier"
# JSON {"<namespace>/<server>": {"<tool>": "read|write|destructive"}} of the tools granted, so the
# policy function can judge an expanded Agent after its ToolCatalogs were consumed.
ANNOTATION_TOOL_RISKS = "krmfn.dev/tool-risks"
LABEL_PROMPT_LIBRARY = "krmfn.dev/prompt-library"
# Set by the environment function on the Agents it manages and the ModelConfigs it emits.
ANNOTATION_ENVIRONMENT = "krmfn.dev/environment"
ANNOTATION_CANARY = "krmfn.dev/canary"
