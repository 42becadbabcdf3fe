"""Server-side defaulting drift: which CRD `default:` values would the API server add to an object?

kagent installs no admission webhook, so the only thing the API server adds to a kagent object
on create/update is the OpenAPI `default:` of its CRD schema. It applies a default when the field
is absent from an object that is itself present (a default inside `spec.tls` applies only when
`spec.tls` is there; one under `tools[]` applies to every item). An object that already carries
every such field is stored exactly as rendered, so Git and the cluster agree and tools like Argo CD
show no diff.
"""

from __future__ import annotations

from typing import Any


def crd_defaults_missing(obj: dict, crd_schema: dict) -> list[str]:
    """The field paths where `crd_schema` has a `default` but `obj` omits the field.

    `crd_schema` is a CRD version's `schema.openAPIV3Schema`. Only objects present in `obj` are
    descended into, as the API server does. Paths use JSON names, dots, and `[i]` for list items,
    e.g. `spec.declarative.stream` or `spec.declarative.tools[0].mcpServer.kind`.
    A field set to `null` counts as missing unless the schema marks it `nullable` (the API server
    drops such nulls and then applies the default).
    """
    missing: list[str] = []
    _walk(obj, crd_schema, "", missing)
    return missing


def openapi_schema(crd: dict, version: str) -> dict:
    """The `openAPIV3Schema` of `version` in a CustomResourceDefinition document."""
    for entry in crd.get("spec", {}).get("versions", []):
        if entry.get("name") == version:
            return entry.get("schema", {}).get("openAPIV3Schema", {})
    kind = crd.get("spec", {}).get("names", {}).get("kind", "?")
    raise KeyError(f"CRD for {kind} has no version {version!r}")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _walk(value: Any, schema: dict, path: str, missing: list[str]) -> None:
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        for name, sub in properties.items():
            present = name in value and (value[name] is not None or sub.get("nullable", False))
            if not present:
                if "default" in sub:
                    missing.append(_join(path, name))
                continue
            _walk(value[name], sub, _join(path, name), missing)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for name, item in value.items():
                if name not in properties and item is not None:
                    _walk(item, extra, _join(path, str(name)), missing)
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for index, item in enumerate(value):
                if item is not None:
                    _walk(item, items, f"{path}[{index}]", missing)
