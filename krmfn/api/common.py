"""Shared pieces of krmfn's API types: metadata and Kubernetes name rules."""

from __future__ import annotations

from typing import Annotated, Literal

from ..runtime.typed import AfterValidator, Field, KrmModel

from ..constants import (  # noqa: F401  (re-exported: the functions import them from here)
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

from ..constants import API_VERSION  # noqa: E402,F401  (re-exported)

from ..names import _DNS1123_LABEL, _DNS1123_SUBDOMAIN  # noqa: E402  (Kubernetes' name rules, one home)


def dns_label(value: str) -> str:
    if len(value) > 63 or not _DNS1123_LABEL.match(value):
        raise ValueError(
            f"{value!r} is not a valid name: at most 63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return value


def dns_subdomain(value: str) -> str:
    if len(value) > 253 or not _DNS1123_SUBDOMAIN.match(value):
        raise ValueError(
            f"{value!r} is not a valid name: lowercase letters, digits, '-' and '.', "
            "starting and ending with a letter or digit"
        )
    return value


MAX_TIER_LENGTH = 50  # "model-" + tier stays a valid 63-character name


def tier_name(value: str) -> str:
    if len(value) > MAX_TIER_LENGTH:
        raise ValueError(f"tier name {value!r} is longer than {MAX_TIER_LENGTH} characters")
    return dns_label(value)


Name = Annotated[str, AfterValidator(dns_label)]
TierName = Annotated[str, AfterValidator(tier_name)]
SubdomainName = Annotated[str, AfterValidator(dns_subdomain)]


def kubernetes_labels(labels: dict[str, str]) -> dict[str, str]:
    """Labels the API server accepts (apimachinery's rules): expand copies them onto what it emits,
    so a bad key or a value over 63 characters is refused here, naming the description."""
    from ..names import label_value_errors, qualified_name_errors

    for key, value in labels.items():
        problems = qualified_name_errors(key)
        if problems:
            raise ValueError(f"label key {key!r}: {problems[0]}")
        problems = label_value_errors(value)
        if problems:
            raise ValueError(f"label {key!r}: value {value[:70]!r}{'...' if len(value) > 70 else ''}: {problems[0]}")
    return labels


class ObjectMeta(KrmModel):
    name: Name
    namespace: Name | None = None
    labels: Annotated[dict[str, str], AfterValidator(kubernetes_labels)] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class Resource(KrmModel):
    """Fields every krmfn kind has."""

    api_version: Literal[API_VERSION] = Field(API_VERSION, alias="apiVersion")  # resolved at runtime, in this module
    metadata: ObjectMeta


def meta_name(obj: dict) -> str:
    """metadata.name, or "" when it is missing or not a string (malformed input)."""
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return name if isinstance(name, str) else ""


def meta_namespace(obj: dict) -> str:
    """metadata.namespace, or "" when it is missing or not a string (malformed input)."""
    meta = obj.get("metadata")
    namespace = meta.get("namespace") if isinstance(meta, dict) else None
    return namespace if isinstance(namespace, str) else ""


def model_config_name(tier: str, effort: str | None = None) -> str:
    """The ModelConfig an agent on `tier` (at `effort`, if it asks for one) uses; the environment
    function emits it per namespace."""
    return f"model-{tier}-{effort}" if effort else f"model-{tier}"


def source_of(obj: dict) -> str:
    """How emitted objects name the object they came from: `Kind/namespace/name`."""
    return "/".join(p for p in (obj.get("kind", ""), meta_namespace(obj), meta_name(obj)) if p)
