"""The directories a kustomization reads: its own, and the local kustomizations it references."""

from __future__ import annotations

import os

# The kustomization fields that name other kustomization directories (or files).
_REFERENCE_FIELDS = ("resources", "bases", "components", "transformers", "generators", "validators")
_KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def kustomization_file(directory: str) -> str | None:
    return next((os.path.join(directory, name) for name in _KUSTOMIZATION_NAMES
                 if os.path.isfile(os.path.join(directory, name))), None)


def reads(overlay: str) -> set[str]:
    """The directories `overlay`'s kustomization reads: itself and the local kustomizations it references."""
    from ..runtime import yamlio

    seen: set[str] = set()
    todo = [os.path.normpath(overlay)]
    while todo:
        directory = todo.pop()
        path = kustomization_file(directory)
        if directory in seen or path is None:
            continue
        seen.add(directory)
        try:
            with open(path, "rb") as handle:
                document = yamlio.load_one(handle.read(), path)
        except (OSError, yamlio.YamlError):
            continue  # the build reports a broken kustomization when it renders the overlay
        if not isinstance(document, dict):
            continue
        for field in _REFERENCE_FIELDS:
            references = document.get(field)
            for reference in references if isinstance(references, list) else ():
                # inline objects (transformers/generators) and remote bases are not directories here
                if isinstance(reference, str) and "\n" not in reference and "://" not in reference:
                    target = os.path.normpath(os.path.join(directory, reference))
                    if os.path.isdir(target):
                        todo.append(target)
    return seen


def files(overlay: str) -> list[str]:
    """Every YAML file `overlay`'s kustomization may read: those in the directories it reads, and the
    files its kustomizations name elsewhere (a transformer config in a shared folder)."""
    from ..runtime import yamlio

    found: set[str] = set()
    for directory in reads(overlay):
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        found.update(os.path.join(directory, n) for n in names if n.endswith((".yaml", ".yml")))
        path = kustomization_file(directory)
        try:
            with open(path, "rb") as handle:
                document = yamlio.load_one(handle.read(), path)
        except (OSError, yamlio.YamlError):
            continue
        for field in _REFERENCE_FIELDS:
            references = document.get(field) if isinstance(document, dict) else None
            for reference in references if isinstance(references, list) else ():
                if isinstance(reference, str) and "\n" not in reference and "://" not in reference:
                    target = os.path.normpath(os.path.join(directory, reference))
                    if os.path.isfile(target):
                        found.add(target)
    return sorted(found)


def unlisted_descriptions(overlay: str) -> list[str]:
    """AgentDescription files in a directory the build reads that its kustomization does not list:
    forgetting `resources:` drops an agent without a word from kustomize."""
    from ..runtime import yamlio

    out = []
    for directory in sorted(reads(overlay)):
        path = kustomization_file(directory)
        try:
            with open(path, "rb") as handle:
                document = yamlio.load_one(handle.read(), path)
        except (OSError, yamlio.YamlError):
            continue
        listed = {os.path.normpath(os.path.join(directory, r)) for field in _REFERENCE_FIELDS
                  for r in (document.get(field) or [] if isinstance(document, dict) else [])
                  if isinstance(r, str)}
        for name in sorted(os.listdir(directory)):
            candidate = os.path.normpath(os.path.join(directory, name))
            if not name.endswith((".yaml", ".yml")) or name in _KUSTOMIZATION_NAMES or candidate in listed:
                continue
            try:
                with open(candidate, "rb") as handle:
                    data = handle.read(1 << 20)
            except OSError:
                continue
            if b"kind: AgentDescription" in data:
                out.append(candidate)
    return out
