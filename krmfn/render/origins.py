"""Where each input item came from, for error lines that name the user's files.

kustomize records `config.kubernetes.io/origin: {path: ...}` on every item only when the ROOT
kustomization has `buildMetadata: [originAnnotations]`, and then writes it into its output too
(after the functions ran, so no function can take it out). `krmfn build` therefore renders the
overlay through a root of its own, in its temporary directory, that asks for origins, and takes
the annotation out of the output again: the render is byte for byte the overlay's plain build.
The functions name the origin paths (relative to that root) in their lines; `repository_paths`
turns them into paths as the repository spells them.
"""

from __future__ import annotations

import os
import re

from ..runtime.files import repository_path
from ..runtime.results import ORIGIN_ANNOTATION

ROOT_NAME = "krmfn-root"
_ORIGIN_KEY = f"    {ORIGIN_ANNOTATION}:".encode()
_LINE_FILE = re.compile(r"^(?P<head>\[(?:error|warning|info)\] .*) \((?P<path>[^()]+)\)$")


def asks_for_origins(directory: str) -> bool:
    """Whether the overlay's own kustomization already records origins (its output then keeps them)."""
    from ..runtime import yamlio
    from .tree import kustomization_file

    path = kustomization_file(directory)
    try:
        with open(path, "rb") as handle:
            document = yamlio.load_one(handle.read(), path)
    except (OSError, TypeError, yamlio.YamlError):
        return False
    metadata = document.get("buildMetadata") if isinstance(document, dict) else None
    return isinstance(metadata, list) and "originAnnotations" in metadata


def write_root(parent: str, directory: str) -> str:
    """A root kustomization under `parent` whose one resource is `directory`, recording origins."""
    root = os.path.join(os.path.realpath(parent), ROOT_NAME)
    os.mkdir(root)
    target = os.path.relpath(os.path.realpath(directory), root)  # kustomize refuses absolute roots
    with open(os.path.join(root, "kustomization.yaml"), "w", encoding="utf-8") as handle:
        handle.write("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                     f"resources:\n- {_quoted(target)}\nbuildMetadata: [originAnnotations]\n")
    return root


def strip(manifests: bytes) -> bytes:
    """kustomize's output without the origin annotation (and an `annotations:` it leaves empty):
    top-level `metadata.annotations` only, as kustomize writes them (two and four spaces)."""
    if _ORIGIN_KEY not in manifests:
        return manifests
    lines = manifests.split(b"\n")
    out: list[bytes] = []
    top = b""
    i = 0
    while i < len(lines):
        line = lines[i]
        if line[:1] not in (b" ", b""):
            top = line
        if line.startswith(_ORIGIN_KEY) and top == b"metadata:" and out and out[-1] == b"  annotations:":
            i += 1
            while i < len(lines) and lines[i].startswith(b"      "):
                i += 1
            if i >= len(lines) or not lines[i].startswith(b"    "):
                out.pop()  # the origin was the only annotation
            continue
        if line.startswith(_ORIGIN_KEY) and top == b"metadata:" and out and out[-1].startswith(b"    "):
            i += 1  # not the first annotation: drop its block only
            while i < len(lines) and lines[i].startswith(b"      "):
                i += 1
            continue
        out.append(line)
        i += 1
    return b"\n".join(out)


def repository_paths(lines: list[str], base: str, overlay: str) -> list[str]:
    """Each line's trailing `(path)`, relative to `base` (the root kustomization's directory), as a
    path relative to the repository root (outside one: relative to `overlay`, as kustomize spells
    it from there); lines whose path is no file stay as they are."""
    out = []
    for line in lines:
        match = _LINE_FILE.match(line)
        if match and not os.path.isabs(match["path"]):
            candidate = os.path.realpath(os.path.join(base, match["path"]))
            if os.path.isfile(candidate):
                fallback = os.path.relpath(candidate, os.path.realpath(overlay))
                line = f"{match['head']} ({repository_path(candidate, fallback)})"
        out.append(line)
    return out


def unwrap(line: str, directory: str) -> str:
    """kustomize's message without the accumulation trace of krmfn's own root around the overlay."""
    overlay = re.escape(os.path.realpath(directory))
    return re.sub(rf"accumulating resources: accumulation err='accumulating resources from '[^']*': "
                  rf"'{overlay}' must resolve to a file': recursed accumulation of path '{overlay}': ", "", line)


def _quoted(path: str) -> str:
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'
