"""Reading KRM objects from files and directories, the way `kpt fn eval` and `kustomize fn run` do.

Each object gets `config.kubernetes.io/path|index` (and their `internal.` twins) so results can
name the file; `strip_locations` removes them again before plain output.
"""

from __future__ import annotations

import os
import stat
import sys
from typing import Any, Iterable

from . import yamlio
from .results import INDEX_ANNOTATIONS, PATH_ANNOTATIONS

LOCATION_ANNOTATIONS = (*PATH_ANNOTATIONS, *INDEX_ANNOTATIONS)
YAML_SUFFIXES = (".yaml", ".yml", ".json")
KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")
NOT_RESOURCES = {*KUSTOMIZATIONS, "Kptfile"}


class FileInputError(ValueError):
    """A file or directory that cannot be read as KRM objects; one line, names the file."""


def yaml_files(path: str) -> list[str]:
    """`path` itself, or every YAML file under it (sorted, hidden folders skipped)."""
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise FileInputError(f"{path}: no such file or directory")
    found = []

    def unreadable(err: OSError) -> None:  # os.walk would skip it silently: a partial input
        raise FileInputError(f"{err.filename}: {err.strerror}")

    for root, dirs, files in os.walk(path, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        kustomization = next((n for n in sorted(files) if n in KUSTOMIZATIONS), None)
        if kustomization is not None:
            # Its files are sources (a configMapGenerator, patches): read as they are, they would
            # be a wrong input that still "passes". A render is what these commands check.
            raise FileInputError(
                f"{root}: holds {kustomization}, so it is a kustomization, not rendered YAML; render it "
                f"first and pass the render (`krmfn build {root} > render.yaml`, or `kubectl kustomize "
                f"{root}` for its resources without the functions)")
        for name in sorted(files):
            if name.endswith(YAML_SUFFIXES) and name not in NOT_RESOURCES:
                found.append(os.path.join(root, name))
    return found


def read_objects(paths: Iterable[str], *, annotate: bool = True) -> list[dict[str, Any]]:
    """Every KRM object in `paths` (files, directories, or `-` for stdin)."""
    items: list[dict[str, Any]] = []
    read = 0  # the input limit (KRMFN_MAX_INPUT_MB) bounds all files together, bytes and nodes
    budget = yamlio.Budget()
    for path in paths:
        if path == "-":
            data = yamlio.read_input(sys.stdin, "<stdin>", read)
            read += len(data)
            items.extend(_objects(data, "<stdin>", "<stdin>", budget, annotate=False))
            continue
        walked = os.path.isdir(path)
        base = path if walked else os.path.dirname(path) or "."
        for file in yaml_files(path):
            try:
                with _open(file, regular_only=walked) as handle:
                    data = yamlio.read_input(handle, file, read)
            except OSError as err:
                raise FileInputError(f"{file}: {err.strerror}") from None
            read += len(data)
            named = os.path.relpath(file, base)  # outside a repository: as the user named it
            items.extend(_objects(data, file, repository_path(file, named), budget, annotate=annotate))
    return items


def repository_path(file: str, fallback: str | None = None) -> str:
    """`file` as the repository spells it (relative to its root): what error lines name. Outside
    any repository, `fallback` (as the user named it), else `file` itself."""
    real = os.path.realpath(file)
    root = repository_root(os.path.dirname(real))
    if root is None:
        return fallback if fallback is not None else file
    return os.path.relpath(real, root)


def repository_root(start: str) -> str | None:
    """The repository's root: the Git work tree holding `start`; in Argo CD (which sends no .git)
    the directory ARGOCD_APP_SOURCE_PATH is relative to; None when neither is known."""
    probe = os.path.realpath(start)
    while True:
        if os.path.exists(os.path.join(probe, ".git")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    cwd = os.path.realpath(os.getcwd())
    source_path = os.path.normpath(os.environ.get("ARGOCD_APP_SOURCE_PATH", "").strip("/") or ".")
    if source_path != "." and cwd.endswith(os.sep + source_path) and real_under(start, cwd[: -len(source_path) - 1]):
        return cwd[: -len(source_path) - 1] or os.sep
    return None


def real_under(path: str, root: str) -> bool:
    real, root = os.path.realpath(path), os.path.realpath(root)
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _open(file: str, *, regular_only: bool):
    """`file` for reading. A file found by walking a directory must be a regular file: a FIFO
    named `x.yaml` would block forever, a device never end. Opened without blocking, then checked,
    so nothing can swap the file between the check and the read."""
    if not regular_only:
        return open(file, "rb")
    fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise FileInputError(f"{file}: not a regular file (a FIFO, socket or device under a directory is never read)")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _objects(data: bytes, source: str, relpath: str, budget: "yamlio.Budget", *,
             annotate: bool) -> list[dict[str, Any]]:
    docs = yamlio.load_all(data, source, budget)
    out = []
    for index, doc in enumerate(docs):
        if isinstance(doc, dict) and doc.get("kind") == "List" and isinstance(doc.get("items"), list):
            members = doc["items"]
        else:
            members = [doc]
        for member in members:
            if not isinstance(member, dict) or not isinstance(member.get("kind"), str) \
                    or not isinstance(member.get("apiVersion"), str):
                raise FileInputError(
                    f"{source}: document {index + 1}: not a Kubernetes object (apiVersion and kind are required)"
                )
            if annotate:
                meta = member.setdefault("metadata", {})
                if not isinstance(meta, dict):
                    raise FileInputError(f"{source}: document {index + 1}: metadata: expected an object")
                annotations = meta.setdefault("annotations", {})
                if not isinstance(annotations, dict):
                    raise FileInputError(f"{source}: document {index + 1}: metadata.annotations: expected an object")
                for path_key, index_key in zip(reversed(PATH_ANNOTATIONS), reversed(INDEX_ANNOTATIONS)):
                    annotations.setdefault(path_key, relpath)  # the plain keys first, as kustomize writes them
                    annotations.setdefault(index_key, str(index))
            out.append(member)
    return out


def strip_locations(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop the location annotations (and empty annotation maps) for plain output."""
    out = []
    for item in items:
        meta = item.get("metadata")
        annotations = meta.get("annotations") if isinstance(meta, dict) else None
        if isinstance(annotations, dict) and any(a in annotations for a in LOCATION_ANNOTATIONS):
            item = dict(item)
            meta = dict(meta)
            annotations = {k: v for k, v in annotations.items() if k not in LOCATION_ANNOTATIONS}
            if annotations:
                meta["annotations"] = annotations
            else:
                meta.pop("annotations", None)
            item["metadata"] = meta
        out.append(item)
    return out
