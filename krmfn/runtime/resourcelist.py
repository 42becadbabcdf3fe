"""The KRM Functions Specification `ResourceList`, as plain data.

Items stay plain dicts from input to output: a function only touches what it means to change,
so every annotation kustomize or kpt put on an item (`internal.config.kubernetes.io/*`,
`config.kubernetes.io/path|index`, `config.k8s.io/id`) passes through untouched.
"""

from __future__ import annotations

from typing import Any

from . import yamlio
from .record import record
from .results import Result, ResourceRef, sort_key

RESOURCE_LIST_API_VERSIONS = ("config.kubernetes.io/v1", "config.kubernetes.io/v1alpha1")
LIST_API_VERSIONS = ("v1",)

# Annotations on the function config that tell how kustomize or kpt runs it; never copied.
from ..constants import LOCAL_CONFIG_ANNOTATION as LOCAL_CONFIG  # noqa: E402


class InputError(ValueError):
    """The input is not a usable ResourceList. One line, names the source."""


@record
class ResourceList:
    items: list[dict[str, Any]] = []  # copied per instance (see record)
    function_config: dict[str, Any] | None = None
    results: list[Result] = []
    api_version: str = "config.kubernetes.io/v1"

    # -- reading -----------------------------------------------------------------------------
    @classmethod
    def parse(cls, data: bytes | str, source: str = "<stdin>") -> "ResourceList":
        docs = yamlio.load_all(data, source)
        if not docs:
            raise InputError(f"{source}: empty input: expected a ResourceList")
        if len(docs) != 1:
            raise InputError(
                f"{source}: expected one ResourceList document, found {len(docs)} documents"
            )
        return cls.from_object(docs[0], source)

    @classmethod
    def from_object(cls, doc: Any, source: str = "<stdin>") -> "ResourceList":
        if not isinstance(doc, dict):
            raise InputError(f"{source}: expected a ResourceList mapping, found {_type_name(doc)}")
        api_version, kind = doc.get("apiVersion"), doc.get("kind")
        if kind == "ResourceList":
            if api_version not in RESOURCE_LIST_API_VERSIONS:
                raise InputError(
                    f"{source}: ResourceList apiVersion {api_version!r} is not one of "
                    f"{', '.join(RESOURCE_LIST_API_VERSIONS)}"
                )
        elif kind == "List":
            if api_version not in LIST_API_VERSIONS:
                raise InputError(f"{source}: List apiVersion {api_version!r} is not v1")
        else:
            raise InputError(
                f"{source}: kind: expected ResourceList (or List), found {kind!r}"
            )
        if "items" not in doc:
            # Guessing "no items" here could make kustomize drop every resource: refuse.
            raise InputError(f"{source}: items: required field is missing (write items: [] for none)")
        items = doc["items"]
        if not isinstance(items, list):
            raise InputError(f"{source}: items: expected a list, found {_type_name(items)}")
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise InputError(f"{source}: items[{index}]: expected an object, found {_type_name(item)}")
        function_config = doc.get("functionConfig")
        if function_config is not None and not isinstance(function_config, dict):
            raise InputError(
                f"{source}: functionConfig: expected an object, found {_type_name(function_config)}"
            )
        return cls(
            items=items,
            function_config=function_config or None,
            api_version=api_version if kind == "ResourceList" else "config.kubernetes.io/v1",
        )

    # -- writing -----------------------------------------------------------------------------
    def to_object(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "apiVersion": self.api_version,
            "kind": "ResourceList",
            "items": self.items,
        }
        if self.function_config is not None:
            out["functionConfig"] = self.function_config
        if self.results:
            out["results"] = [r.to_dict() for r in sorted_results(self.results)]
        return out

    def dump(self) -> str:
        return yamlio.dump(self.to_object())

    # -- helpers for functions -----------------------------------------------------------------
    @property
    def config_ref(self) -> ResourceRef | None:
        return ResourceRef.of(self.function_config) if self.function_config else None


def sorted_results(results: list[Result]) -> list[Result]:
    return sorted(results, key=sort_key)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
