"""One accessor for KRM objects held as plain dicts (in the spirit of kpt's `KubeObject`).

Input is untrusted: every read tolerates a malformed object (a list where a map belongs, a number
where a name belongs) and answers with an empty value instead of raising. Modules that read
objects use this, never their own `isinstance` ladders.
"""

from __future__ import annotations

import re
from typing import Any

from ..constants import CRD_API_VERSION, CRD_KIND, LOCAL_CONFIG_ANNOTATION, NAMESPACE_NAME_LABEL


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def str_list(value: Any) -> list[str]:
    """The strings of a list (anything else in it, or a non-list, is left out)."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def str_map(value: Any) -> dict[str, str]:
    """A map of strings to strings (labels, annotations); other entries are left out."""
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)} \
        if isinstance(value, dict) else {}


def dig(value: Any, *path: str | int) -> Any:
    """The value at `path` (map keys and list indexes), or None where the path does not exist."""
    for part in path:
        if isinstance(part, int):
            if not isinstance(value, list) or not -len(value) <= part < len(value):
                return None
            value = value[part]
        else:
            if not isinstance(value, dict):
                return None
            value = value.get(part)
    return value


def api_group(api_version: str) -> str:
    """The group of an apiVersion ("" for the core group's `v1`)."""
    return api_version.rpartition("/")[0]


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_path(field: str) -> list[str | int]:
    """`spec.tools[0].allow` as ["spec", "tools", 0, "allow"] (the spelling of every result's field)."""
    return [int(index) if index else key for key, index in _PATH_PART.findall(field)]


def format_path(parts: Any, prefix: str = "") -> str:
    """The inverse of `parse_path`, below `prefix` (the spelling of a validator's error location too)."""
    path = prefix
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif path:
            path += f".{part}"
        else:
            path = str(part)
    return path


class KObject:
    """A read-only view of one object. Wrapping is free: nothing is copied or validated."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any):
        self.obj = obj if isinstance(obj, dict) else {}

    @property
    def api_version(self) -> str:
        return as_str(self.obj.get("apiVersion"))

    @property
    def group(self) -> str:
        return api_group(self.api_version)

    @property
    def version(self) -> str:
        return self.api_version.rpartition("/")[2]

    @property
    def kind(self) -> str:
        return as_str(self.obj.get("kind"))

    @property
    def metadata(self) -> dict:
        return as_dict(self.obj.get("metadata"))

    @property
    def name(self) -> str:
        return as_str(self.metadata.get("name"))

    @property
    def namespace(self) -> str:
        return as_str(self.metadata.get("namespace"))

    @property
    def labels(self) -> dict[str, str]:
        return str_map(self.metadata.get("labels"))

    @property
    def annotations(self) -> dict[str, str]:
        return str_map(self.metadata.get("annotations"))

    @property
    def spec(self) -> dict:
        return as_dict(self.obj.get("spec"))

    def get(self, *path: str | int) -> Any:
        return dig(self.obj, *path)

    def is_a(self, api_version: str, kind: str) -> bool:
        return self.api_version == api_version and self.kind == kind

    def identity(self) -> tuple[str, str, str, str]:
        """(group, kind, namespace, name): what makes two objects the same object to the API server.

        The version is left out on purpose: one object served at two versions is still one object.
        """
        namespace = "" if (self.group, self.kind) == ("", "Namespace") else self.namespace
        return self.group, self.kind, namespace, self.name

    def ref(self) -> str:
        """`apiVersion/Kind/namespace/name`, as results name objects."""
        return "/".join(p for p in (self.api_version, self.kind, self.namespace, self.name) if p)


def selector_matches(selector: Any, labels: dict[str, str], complete: bool = True) -> bool | None:
    """Kubernetes label-selector semantics over a selector given as a plain dict.

    `complete=False` says that only some of the object's labels are known (a Namespace that is not
    in the render: just its `kubernetes.io/metadata.name`); then the answer is None when an unknown
    label decides it. A malformed expression (unknown operator) matches nothing, as the API server
    refuses it. An empty selector matches everything.
    """
    selector = as_dict(selector)
    unknown = False

    def lookup(key: str) -> tuple[bool, Any]:
        nonlocal unknown
        if key in labels:
            return True, labels[key]
        if not complete and key != NAMESPACE_NAME_LABEL:
            unknown = True
        return False, None

    matched = True
    for key, want in as_dict(selector.get("matchLabels")).items():
        present, value = lookup(str(key))
        matched = matched and present and value == want
    for expr in as_list(selector.get("matchExpressions")):
        expr = as_dict(expr)
        key, operator, values = as_str(expr.get("key")), expr.get("operator"), as_list(expr.get("values"))
        present, value = lookup(key)
        if operator == "In":
            ok = present and value in values
        elif operator == "NotIn":
            ok = not present or value not in values
        elif operator == "Exists":
            ok = present
        elif operator == "DoesNotExist":
            ok = not present
        else:
            return False
        matched = matched and ok
    if matched:
        return True
    return None if unknown else False


def selector_keys(selector: Any) -> set[str]:
    selector = as_dict(selector)
    keys = {str(k) for k in as_dict(selector.get("matchLabels"))}
    keys.update(as_str(as_dict(e).get("key")) for e in as_list(selector.get("matchExpressions")))
    keys.discard("")
    return keys


def is_schema_input(item: Any) -> bool:
    """A CustomResourceDefinition marked local-config: a schema the render reads (the conformance
    check's CRDs, from a vendored chart the overlay lists) and never deploys."""
    ref = KObject(item)
    return ref.is_a(CRD_API_VERSION, CRD_KIND) and ref.annotations.get(LOCAL_CONFIG_ANNOTATION) == "true"
