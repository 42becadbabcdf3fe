"""Offline conformance checker: would a cluster running this kagent version accept these objects,
and do their references resolve?

    from krmfn.conformance import load_crds, validate
    crds = load_crds("path/to/kagent-crds/v0.9.12")      # once; schemas compile lazily, then cached
    results = validate(objects, crds, external={("Secret", "agents", "openai-key")})

`validate` checks every object of a CRD-served group (kagent.dev) against the schema and CEL rules
of its apiVersion/kind (see `schema.py`), reports kagent objects whose apiVersion/kind these CRDs
do not serve, ignores everything else, and then checks the references between all objects (see
`references.py`). Results are `krmfn.runtime.results.Result`s, sorted with `sort_key`.
"""

from __future__ import annotations

from typing import Any, Iterable

from ..runtime.results import Result, sort_key
from .crds import ConformanceInputError, CRDIndex, CRDVersion, load_crds
from ..constants import KAGENT_GROUPS
from .references import KAGENT_GROUP, MAX_DELEGATION_DEPTH, check_references
from .schema import ObjectValidator, RuleInfo, SchemaValidator, iter_rules

__all__ = [
    "validate",
    "validate_schemas",
    "check_references",
    "load_crds",
    "CRDIndex",
    "CRDVersion",
    "ConformanceInputError",
    "ObjectValidator",
    "SchemaValidator",
    "RuleInfo",
    "iter_rules",
    "KAGENT_GROUP",
    "MAX_DELEGATION_DEPTH",
]


def validate(
    objects: list[dict],
    crds: CRDIndex,
    external: Iterable[tuple[str, str, str]] = frozenset(),
    check_references: bool = True,
) -> list[Result]:
    """Schema + CEL validation of every kagent object, then (optionally) the reference checks."""
    results = validate_schemas(objects, crds)
    if check_references:
        from .references import check_references as _refs

        results.extend(_refs(objects, external))
    results.sort(key=sort_key)
    return results


def validate_schemas(objects: Iterable[Any], crds: CRDIndex, **options: Any) -> list[Result]:
    """Schema + CEL part only. `options` go to `ObjectValidator.validate` (apply_defaults,
    cel_on_invalid)."""
    groups = crds.groups() | set(KAGENT_GROUPS)  # a kagent object these CRDs do not serve fails
    results: list[Result] = []
    for obj in objects:
        if not isinstance(obj, dict):
            continue
        api_version = obj.get("apiVersion")
        kind = obj.get("kind")
        if not isinstance(api_version, str) or "/" not in api_version:
            continue
        group = api_version.rpartition("/")[0]
        if group not in groups:
            continue
        validator = crds.validator(api_version, kind) if isinstance(kind, str) else None
        if validator is None:
            results.append(Result.about(obj, "apiVersion", _not_served(crds, group, api_version, kind),
                                        check="schema"))
            continue
        results.extend(validator.validate(obj, **options))
    return results


def _not_served(crds: CRDIndex, group: str, api_version: str, kind: Any) -> str:
    where = f" ({crds.label})" if crds.label else ""
    msg = f"kind {kind} is not served by these CRDs{where} at {api_version}"
    if crds.unserved(api_version, kind) is not None:
        msg += " (the version is defined but served: false)"
    served = crds.served_versions(group, kind) if isinstance(kind, str) else []
    if served:
        msg += f"; served versions: {', '.join(f'{group}/{v}' for v in served)}"
    return msg
