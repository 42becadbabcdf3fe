"""The labels and annotations krmfn puts on what it emits (defined in krmfn.constants)."""

from ..constants import (  # noqa: F401  (re-exported)
    ANNOTATION_CANARY,
    ANNOTATION_ENVIRONMENT,
    ANNOTATION_MEMORY_TIER,
    ANNOTATION_MODEL_TIER,
    ANNOTATION_PROMPT_DIGEST,
    ANNOTATION_SOURCE,
    ANNOTATION_TOOL_RISKS,
    LABEL_AGENT,
    LABEL_MANAGED_BY,
    LABEL_PROMPT_LIBRARY,
    MANAGED_BY,
)
