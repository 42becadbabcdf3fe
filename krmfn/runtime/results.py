"""Function results: the KRM `results` entries and their one-line stderr form.

kustomize ignores `results`, so every error and warning is also printed to stderr as one line
that names the object and the field; see `Result.line`.
"""

from __future__ import annotations

from typing import Any, Iterable

from ..constants import (ANNOTATION_SOURCE, ANNOTATION_SOURCE_FIELD, INDEX_ANNOTATIONS,  # noqa: F401  (re-exported)
                         ORIGIN_ANNOTATION, PATH_ANNOTATIONS)
from .record import record

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES = (ERROR, WARNING, INFO)


# A stderr line stays one line, and plain text: line breaks (every one `str.splitlines` knows)
# become spaces, other control characters (an ANSI escape in a name, C1 controls, which some
# terminals obey as escapes) are shown escaped, and so are the bidirectional overrides, isolates
# and marks that make a terminal or CI log show text in another order than it is (Trojan Source).
_ONE_LINE = {code: " " for code in map(ord, "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")}
_ONE_LINE.update({code: f"\\x{code:02x}" for code in [*range(0x20), *range(0x7F, 0xA0)]
                  if code not in _ONE_LINE and code != 0x09})
_ONE_LINE.update({code: f"\\u{code:04x}" for code in [*range(0x202A, 0x202F), *range(0x2066, 0x206A),
                                                      0x200E, 0x200F, 0x061C]})


@record(frozen=True)
class ResourceRef:
    api_version: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""

    @classmethod
    def of(cls, obj: Any) -> "ResourceRef":
        """The reference of a KRM object given as a plain dict (tolerates malformed objects)."""
        if not isinstance(obj, dict):
            return cls()
        meta = obj.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        return cls(
            api_version=_text(obj.get("apiVersion")),
            kind=_text(obj.get("kind")),
            name=_text(meta.get("name")),
            namespace=_text(meta.get("namespace")),
        )

    def __str__(self) -> str:
        parts = [p for p in (self.api_version, self.kind, self.namespace, self.name) if p]
        return "/".join(parts) if parts else "<unnamed object>"

    def to_dict(self) -> dict[str, str]:
        out = {"apiVersion": self.api_version, "kind": self.kind, "name": self.name}
        if self.namespace:
            out["namespace"] = self.namespace
        return {k: v for k, v in out.items() if v}


@record(frozen=True)
class FileRef:
    path: str = ""
    index: int | None = None

    @classmethod
    def of(cls, obj: Any) -> "FileRef | None":
        if not isinstance(obj, dict):
            return None
        meta = obj.get("metadata")
        annotations = meta.get("annotations") if isinstance(meta, dict) else None
        if not isinstance(annotations, dict):
            return None
        path = next((annotations[a] for a in PATH_ANNOTATIONS if a in annotations), None)
        if not isinstance(path, str) or not path or _synthetic_path(obj, path):
            path = _origin_path(annotations.get(ORIGIN_ANNOTATION))
            if path is None:
                return None
        index = next((annotations[a] for a in INDEX_ANNOTATIONS if a in annotations), None)
        try:
            index = int(index) if index is not None else None
        except (TypeError, ValueError):
            index = None
        return cls(path=path, index=index)


@record(frozen=True)
class Result:
    """One finding. `field` is a path such as `spec.tools[0].allow`."""

    message: str
    severity: str = ERROR
    resource: ResourceRef | None = None
    field: str = ""
    file: FileRef | None = None
    tags: tuple[tuple[str, str], ...] = ()
    # What the user edited, when the object is rendered from it (a description, a catalog, an
    # environment): that object, its field, and `file` is then its file (see krmfn.sources).
    source: ResourceRef | None = None
    source_field: str = ""

    @classmethod
    def about(
        cls, obj: Any, field: str, message: str, severity: str = ERROR, **tags: str
    ) -> "Result":
        """A result about a KRM object (a plain dict), with its file location when known."""
        return cls(
            message=message,
            severity=severity,
            resource=ResourceRef.of(obj) if obj is not None else None,
            field=field,
            file=FileRef.of(obj),
            tags=tuple(sorted(tags.items())),
        )

    def __post_init__(self) -> None:
        # Messages quote values (a name, a server, a field path with a map key): never a credential.
        from .secrets import redact

        object.__setattr__(self, "message", redact(self.message))
        object.__setattr__(self, "field", redact(self.field))
        object.__setattr__(self, "source_field", redact(self.source_field))

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def line(self) -> str:
        """The one stderr line: `[error] <object> <field>: <message>[; from <source> <field>] (<file>)`."""
        subject = " ".join(s for s in (str(self.resource) if self.resource else "", self.field) if s)
        text = f"[{self.severity}] {subject}: {self.message}" if subject else f"[{self.severity}] {self.message}"
        if self.source is not None:
            text += "; from " + " ".join(s for s in (str(self.source), self.source_field) if s)
        if self.file is not None:
            text += f" ({self.file.path})"
        return text.translate(_ONE_LINE)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message, "severity": self.severity}
        if self.resource is not None and self.resource.to_dict():
            out["resourceRef"] = self.resource.to_dict()
        if self.field:
            out["field"] = {"path": self.field}
        if self.file is not None:
            file: dict[str, Any] = {"path": self.file.path}
            if self.file.index is not None:
                file["index"] = self.file.index
            out["file"] = file
        tags = dict(self.tags)
        if self.source is not None:
            tags[ANNOTATION_SOURCE] = str(self.source)
            if self.source_field:
                tags[ANNOTATION_SOURCE_FIELD] = self.source_field
        if tags:
            out["tags"] = tags
        return out


class FunctionFailure(Exception):
    """Raised by a function to stop with these results (at least one should be an error)."""

    def __init__(self, results: Iterable[Result]):
        self.results = list(results)
        super().__init__("; ".join(r.line() for r in self.results))


def has_errors(results: Iterable[Result]) -> bool:
    return any(r.is_error for r in results)


def sort_key(result: Result) -> tuple:
    """Stable order: by file, object, then field, so output never depends on dict order."""
    file = result.file or FileRef()
    return (
        file.path,
        file.index if file.index is not None else -1,
        str(result.resource or ""),
        result.field,
        SEVERITIES.index(result.severity) if result.severity in SEVERITIES else 9,
        result.message,
    )


def _synthetic_path(obj: dict, path: str) -> bool:
    """kyaml names items that came from no file `<namespace>/<kind>_<name>.yaml`: not a real file."""
    ref = ResourceRef.of(obj)
    made_up = f"{ref.kind.lower()}_{ref.name}.yaml"
    return path in (made_up, f"{ref.namespace}/{made_up}")


def _origin_path(origin: Any) -> str | None:
    """The `path:` of an origin annotation (a small YAML map kustomize writes; a generated object's
    origin names the function config that made it, not a file the user edits: None)."""
    if not isinstance(origin, str):
        return None
    for line in origin.splitlines():
        if line.startswith("path:"):
            path = line[len("path:"):].strip().strip("'\"")
            return path or None
    return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
