"""Load CustomResourceDefinition manifests and index their schemas by (apiVersion, kind).

    index = load_crds("/path/to/kagent-crds/v0.9.12")          # a directory, files, or dicts
    index.schema("kagent.dev/v1alpha2", "Agent")                 # the version's openAPIV3Schema
    index.validator("kagent.dev/v1alpha2", "Agent")              # compiled once, cached

Only `served: true` versions are indexed (an unserved version is rejected by the API server);
the others are remembered so error messages can say so.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml

__all__ = ["ConformanceInputError", "CRDVersion", "CRDIndex", "load_crds"]

from ..constants import CRD_API_VERSION, CRD_KIND
from ..runtime.files import KUSTOMIZATIONS, YAML_SUFFIXES
from ..runtime.record import record

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ConformanceInputError(Exception):
    """A CRD input that cannot be used (not a CRD, no schema, unreadable...). One-line message."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


@record(frozen=True, eq=False)
class CRDVersion:
    """One served version of one CRD."""

    group: str
    version: str
    kind: str
    plural: str
    scope: str
    schema: dict
    source: str = ""
    crd_name: str = ""
    served: bool = True
    storage: bool = False
    deprecated: bool = False
    deprecation_warning: str = ""
    status_subresource: bool = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> tuple[str, str]:
        return (self.api_version, self.kind)

    def __repr__(self) -> str:
        return f"CRDVersion({self.api_version} {self.kind} from {self.source or '<dict>'})"


class CRDIndex:
    """Served CRD versions by (apiVersion, kind); compiled validators are cached per version."""

    def __init__(self, versions: Iterable[CRDVersion] = (), *, label: str = "",
                 unserved: Iterable[CRDVersion] = ()):
        self.label = label
        self._versions: dict[tuple[str, str], CRDVersion] = {}
        self._unserved: dict[tuple[str, str], CRDVersion] = {}
        self._validators: dict[tuple[str, str], Any] = {}
        for v in versions:
            self.add(v)
        for v in unserved:
            self._unserved.setdefault(v.key, v)

    # building -----------------------------------------------------------------------------
    def add(self, version: CRDVersion) -> None:
        if not version.served:
            self._unserved.setdefault(version.key, version)
            return
        old = self._versions.get(version.key)
        if old is not None and old.schema != version.schema:
            raise ConformanceInputError(
                f"{version.api_version} {version.kind} is defined twice with different schemas: "
                f"{old.source or '<dict>'} and {version.source or '<dict>'}"
            )
        self._versions[version.key] = version
        self._validators.pop(version.key, None)

    # lookups ------------------------------------------------------------------------------
    def get(self, api_version: str, kind: str) -> CRDVersion | None:
        return self._versions.get((api_version, kind))

    def schema(self, api_version: str, kind: str) -> dict | None:
        v = self._versions.get((api_version, kind))
        return v.schema if v is not None else None

    def validator(self, api_version: str, kind: str):
        """The compiled `schema.ObjectValidator` for this version (compiled once), or None."""
        key = (api_version, kind)
        val = self._validators.get(key)
        if val is None:
            version = self._versions.get(key)
            if version is None:
                return None
            from .schema import ObjectValidator

            val = ObjectValidator(version)
            self._validators[key] = val
        return val

    def groups(self) -> frozenset[str]:
        return frozenset(k[0].rpartition("/")[0] for k in (*self._versions, *self._unserved))

    def served_versions(self, group: str, kind: str) -> list[str]:
        return sorted(v.version for v in self._versions.values()
                      if v.group == group and v.kind == kind)

    def unserved(self, api_version: str, kind: str) -> CRDVersion | None:
        return self._unserved.get((api_version, kind))

    def kinds(self) -> list[tuple[str, str]]:
        return sorted(self._versions)

    def __iter__(self) -> Iterator[CRDVersion]:
        return iter(self._versions.values())

    def __len__(self) -> int:
        return len(self._versions)

    def __contains__(self, key: object) -> bool:
        return key in self._versions

    def __repr__(self) -> str:
        return f"CRDIndex({self.label or '?'}: {len(self)} served versions)"


def load_crds(*sources: Any, label: str | None = None) -> CRDIndex:
    """Load CRDs from files, directories (their own *.yaml/*.yml/*.json, sorted, not subdirectories),
    YAML text streams, or already-parsed CRD dicts; lists/tuples of those are flattened.

    Raises ConformanceInputError naming the file for anything that is not a usable CRD.
    """
    versions: list[CRDVersion] = []
    unserved: list[CRDVersion] = []
    labels: list[str] = []
    for source, name in _expand(sources):
        if isinstance(source, dict):
            docs: list[Any] = [source]
        else:
            docs = _parse(source, name)
        found = False
        for i, doc in enumerate(docs):
            if doc is None:
                continue
            where = name if len(docs) == 1 else f"{name} (document {i + 1})"
            for item in _items(doc, where):
                for v in _versions_of(item, where):
                    (versions if v.served else unserved).append(v)
                found = True
        if not found:
            raise ConformanceInputError(f"{name}: no CustomResourceDefinition found (empty file)")
        if isinstance(source, Path):
            labels.append(source.parent.name if source.is_file() else source.name)
    index = CRDIndex(label=label if label is not None else (labels[0] if len(set(labels)) == 1 else ""))
    for v in versions:
        index.add(v)
    for v in unserved:
        index.add(v)
    return index


# ------------------------------------------------------------------------------------------


def _expand(sources: Iterable[Any]) -> Iterator[tuple[Any, str]]:
    for s in sources:
        if isinstance(s, (list, tuple)):
            yield from _expand(s)
        elif isinstance(s, dict):
            meta = s.get("metadata") if isinstance(s.get("metadata"), dict) else {}
            yield s, f"<CRD object {meta.get('name', '?')}>"
        elif isinstance(s, Path) or (isinstance(s, str) and "\n" not in s and not _looks_like_yaml(s)):
            p = Path(s)
            if p.is_dir():
                files = _direct_yaml_files(p)
                if not files:
                    raise ConformanceInputError(f"{p}: directory holds no *.yaml, *.yml or *.json files")
                for f in files:
                    yield f, str(f)
            elif p.is_file():
                yield p, str(p)
            elif p.exists():
                raise ConformanceInputError(f"{p}: not a regular file or directory")
            else:
                raise ConformanceInputError(f"{p}: no such file or directory")
        elif isinstance(s, str):
            yield s, "<YAML text>"
        else:
            raise ConformanceInputError(f"cannot load CRDs from a {type(s).__name__}")


def _direct_yaml_files(folder: Path) -> list[Path]:
    """The directory's own *.yaml, *.yml and *.json files but a kustomization, sorted: never a walk of its subtree
    (`spec.crds: [/usr]` walked the whole tree), never a FIFO or device (a read would block)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as e:
        raise ConformanceInputError(f"{folder}: cannot read: {e.strerror or e}") from None
    files = []
    for entry in entries:
        if not entry.name.endswith(YAML_SUFFIXES) or entry.name in KUSTOMIZATIONS:
            continue  # a vendored chart's kustomization lists the CRDs; it is not one
        try:
            regular = entry.is_file()  # follows symlinks, as reading does
        except OSError as e:
            raise ConformanceInputError(f"{entry.path}: cannot read: {e.strerror or e}") from None
        if regular:
            files.append(Path(entry.path))
        elif not entry.is_dir():
            raise ConformanceInputError(f"{entry.path}: not a regular file")
    return files


def _looks_like_yaml(s: str) -> bool:
    t = s.lstrip()
    return t.startswith(("{", "---", "apiVersion:", "kind:")) and not Path(s).exists()


def _parse(source: Any, name: str) -> list[Any]:
    try:
        text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
    except (OSError, UnicodeDecodeError) as e:
        raise ConformanceInputError(f"{name}: cannot read: {e}") from None
    try:
        return list(yaml.load_all(text, Loader=_Loader))
    except yaml.YAMLError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConformanceInputError(f"{name}: not valid YAML: {first}") from None


def _items(doc: Any, where: str) -> Iterator[dict]:
    if isinstance(doc, dict) and isinstance(doc.get("items"), list) and str(doc.get("kind", "")).endswith("List"):
        for item in doc["items"]:
            yield item
        return
    yield doc


def _versions_of(crd: Any, where: str) -> Iterator[CRDVersion]:
    if not isinstance(crd, dict):
        raise ConformanceInputError(f"{where}: not a CustomResourceDefinition (a {type(crd).__name__}, not a mapping)")
    api_version, kind = crd.get("apiVersion"), crd.get("kind")
    if kind != CRD_KIND:
        what = f"{api_version or '?'} {kind or '?'}"
        raise ConformanceInputError(f"{where}: not a CustomResourceDefinition (found {what})")
    name = (crd.get("metadata") or {}).get("name", "?") if isinstance(crd.get("metadata"), dict) else "?"
    if api_version != CRD_API_VERSION:
        raise ConformanceInputError(
            f"{where}: CustomResourceDefinition {name} uses {api_version}; only {CRD_API_VERSION} is supported"
        )
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        raise ConformanceInputError(f"{where}: CustomResourceDefinition {name} has no spec")
    group = spec.get("group")
    names = spec.get("names") if isinstance(spec.get("names"), dict) else {}
    crd_kind = names.get("kind")
    versions = spec.get("versions")
    if not isinstance(group, str) or not isinstance(crd_kind, str) or not isinstance(versions, list) or not versions:
        raise ConformanceInputError(
            f"{where}: CustomResourceDefinition {name} lacks spec.group, spec.names.kind or spec.versions"
        )
    for v in versions:
        vname = v.get("name") if isinstance(v, dict) else None
        if not isinstance(vname, str):
            raise ConformanceInputError(f"{where}: CustomResourceDefinition {name} has a version without a name")
        schema = (v.get("schema") or {}).get("openAPIV3Schema") if isinstance(v.get("schema"), dict) else None
        if not isinstance(schema, dict):
            raise ConformanceInputError(
                f"{where}: CustomResourceDefinition {name} version {vname} has no schema.openAPIV3Schema"
            )
        sub = v.get("subresources") if isinstance(v.get("subresources"), dict) else {}
        yield CRDVersion(
            group=group,
            version=vname,
            kind=crd_kind,
            plural=str(names.get("plural", "")),
            scope=str(spec.get("scope", "Namespaced")),
            schema=schema,
            source=where,
            crd_name=str(name),
            served=bool(v.get("served", False)),
            storage=bool(v.get("storage", False)),
            deprecated=bool(v.get("deprecated", False)),
            deprecation_warning=str(v.get("deprecationWarning") or ""),
            status_subresource="status" in sub,
        )
