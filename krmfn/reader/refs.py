"""The Secrets and ConfigMaps a kagent object names, with the field that names each.

Kubernetes' own shapes (a pod's env/envFrom/volumes/imagePullSecrets, LocalObjectReference) and
kagent's ValueSource, shared by every kagent API version's reader. Tolerant: a malformed section
yields what can be read; the name is kept as written (the reference check reports a bad one).
"""

from __future__ import annotations

from typing import Any

from ..runtime.kobject import as_dict, as_list, as_str
from ..runtime.record import record


@record(frozen=True)
class ObjectRef:
    """One reference to a Secret or ConfigMap (optionally to one key of it)."""

    kind: str  # Secret | ConfigMap; "" when what is written is a kind kagent does not accept there
    name: Any  # as written
    path: str  # the field that names it
    key: Any = None  # the key it needs (None: the object only)
    key_path: str = ""
    optional: bool = False  # `optional: true`: need not exist
    written: str = ""  # kind == "": what was written (group/kind)
    kind_path: str = ""  # kind == "": where


def named(kind: str, name: Any, path: str) -> ObjectRef:
    return ObjectRef(kind, name, path)


def keyed(kind: str, ref: dict, path: str, name_key: str = "name", key_key: str = "key") -> ObjectRef:
    """A {name, key, optional?} selector (secretKeyRef, configMapKeyRef, endpointFrom)."""
    return ObjectRef(kind, ref.get(name_key), f"{path}.{name_key}", ref.get(key_key), f"{path}.{key_key}",
                     optional=ref.get("optional") is True)


def local(kind: str, ref: Any, path: str) -> ObjectRef:
    """A LocalObjectReference-like {name, optional?}."""
    ref = as_dict(ref)
    return ObjectRef(kind, ref.get("name"), f"{path}.name", optional=ref.get("optional") is True)


def value_source(src: Any, path: str) -> list[ObjectRef]:
    """kagent's ValueSource {type: ConfigMap|Secret, name, key}; another type names nothing (the
    schema reports it)."""
    src = as_dict(src)
    kind = src.get("type")
    if kind not in ("ConfigMap", "Secret"):
        return []
    # no `optional` here: kagent's ValueSource has none, so writing one must not waive the check
    return [ObjectRef(kind, src.get("name"), f"{path}.name", src.get("key"), f"{path}.key")]


def headers_refs(section: dict, path: str) -> list[ObjectRef]:
    """The Secrets and ConfigMaps a `headersFrom` list (a RemoteMCPServer's, a 0.x tool entry's) reads."""
    return [r for j, header in enumerate(as_list(section.get("headersFrom")))
            for r in value_source(as_dict(header).get("valueFrom"), f"{path}.headersFrom[{j}].valueFrom")]


def container_refs(container: Any, path: str) -> list[ObjectRef]:
    container = as_dict(container)
    out: list[ObjectRef] = []
    for i, env in enumerate(as_list(container.get("env"))):
        source = as_dict(as_dict(env).get("valueFrom"))
        for kind, key in (("Secret", "secretKeyRef"), ("ConfigMap", "configMapKeyRef")):
            if as_dict(source.get(key)):
                out.append(keyed(kind, as_dict(source.get(key)), f"{path}.env[{i}].valueFrom.{key}"))
    for i, env in enumerate(as_list(container.get("envFrom"))):
        env = as_dict(env)
        for kind, key in (("Secret", "secretRef"), ("ConfigMap", "configMapRef")):
            if env.get(key) is not None:
                out.append(local(kind, env.get(key), f"{path}.envFrom[{i}].{key}"))
    return out


def pod_refs(section: Any, path: str) -> list[ObjectRef]:
    """What a deployment-like section uses: pull secrets, its containers' env/envFrom, volumes."""
    section = as_dict(section)
    out = [named("Secret", as_dict(s).get("name"), f"{path}.imagePullSecrets[{i}].name")
           for i, s in enumerate(as_list(section.get("imagePullSecrets")))]
    out += container_refs(section, path)
    for key in ("extraContainers", "sidecars", "initContainers"):
        for i, container in enumerate(as_list(section.get(key))):
            out += container_refs(container, f"{path}.{key}[{i}]")
    for i, volume in enumerate(as_list(section.get("volumes"))):
        volume = as_dict(volume)
        base = f"{path}.volumes[{i}]"
        secret, config_map = as_dict(volume.get("secret")), as_dict(volume.get("configMap"))
        if secret:
            out.append(ObjectRef("Secret", secret.get("secretName"), f"{base}.secret.secretName",
                                 optional=secret.get("optional") is True))
        if config_map:
            out.append(ObjectRef("ConfigMap", config_map.get("name"), f"{base}.configMap.name",
                                 optional=config_map.get("optional") is True))
        for j, source in enumerate(as_list(as_dict(volume.get("projected")).get("sources"))):
            source = as_dict(source)
            for kind, key in (("Secret", "secret"), ("ConfigMap", "configMap")):
                if source.get(key) is not None:
                    out.append(local(kind, source.get(key), f"{base}.projected.sources[{j}].{key}"))
    return out


def data_source(source: Any, path: str) -> ObjectRef:
    """A prompt template's data source: only a (core) ConfigMap is accepted."""
    source = as_dict(source)
    kind, group = as_str(source.get("kind")), as_str(source.get("apiGroup"))
    if kind in ("", "ConfigMap") and group in ("", "core"):
        return named("ConfigMap", source.get("name"), f"{path}.name")
    return ObjectRef("", source.get("name"), f"{path}.name", written=f"{group or 'core'}/{kind}",
                     kind_path=f"{path}.kind")
