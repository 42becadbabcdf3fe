"""The directories a kustomization reads: its own, and the local kustomizations it references."""

from __future__ import annotations

import os

from ..runtime.files import KUSTOMIZATIONS

# The kustomization fields that name other kustomization directories (or files).
_REFERENCE_FIELDS = ("resources", "bases", "components", "transformers", "generators", "validators")


def kustomization_file(directory: str) -> str | None:
    return next((os.path.join(directory, name) for name in KUSTOMIZATIONS
                 if os.path.isfile(os.path.join(directory, name))), None)


def references(directory: str) -> list[str]:
    """The local paths `directory`'s kustomization names, normalised ([] when it has none or is
    broken: the build reports a broken kustomization when it renders the overlay)."""
    from ..runtime import yamlio

    path = kustomization_file(directory)
    if path is None:
        return []
    try:
        with open(path, "rb") as handle:
            document = yamlio.load_one(handle.read(), path)
    except (OSError, yamlio.YamlError):
        return []
    if not isinstance(document, dict):
        return []
    out = []
    for field in _REFERENCE_FIELDS:
        named = document.get(field)
        for reference in named if isinstance(named, list) else ():
            # inline objects (transformers/generators) and remote bases are not local paths
            if isinstance(reference, str) and "\n" not in reference and "://" not in reference:
                out.append(os.path.normpath(os.path.join(directory, reference)))
    return out


def missing(overlay: str) -> str | None:
    """One line naming the first local path a kustomization the build reads names but that does not
    exist (kustomize's own message is a multi-line accumulation trace), or None."""
    from ..runtime import yamlio

    for directory in sorted(reads(overlay)):
        path = kustomization_file(directory)
        try:
            with open(path, "rb") as handle:
                document = yamlio.load_one(handle.read(), path)
        except (OSError, yamlio.YamlError):
            continue
        for field in _REFERENCE_FIELDS:
            named = document.get(field) if isinstance(document, dict) else None
            for index, reference in enumerate(named if isinstance(named, list) else ()):
                if not isinstance(reference, str) or "\n" in reference or "://" in reference \
                        or reference.startswith("github.com/"):
                    continue
                if not os.path.lexists(os.path.join(directory, reference)):
                    hint = (": vendor kagent's CRD chart there (vendor/kagent-crds/README.md)"
                            if "kagent-crds" in os.path.join(directory, reference) else "")
                    from ..runtime.files import repository_path

                    return f"{repository_path(path, path)} {field}[{index}]: {reference} does not exist{hint}"
    return None


def reads(overlay: str) -> set[str]:
    """The directories `overlay`'s kustomization reads: itself and the local kustomizations it references."""
    seen: set[str] = set()
    todo = [os.path.normpath(overlay)]
    while todo:
        directory = todo.pop()
        if directory in seen or kustomization_file(directory) is None:
            continue
        seen.add(directory)
        todo.extend(target for target in references(directory) if os.path.isdir(target))
    return seen


def files(overlay: str) -> list[str]:
    """Every YAML file `overlay`'s kustomization may read: those in the directories it reads, and the
    files its kustomizations name elsewhere (a transformer config in a shared folder)."""
    found: set[str] = set()
    for directory in reads(overlay):
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        found.update(os.path.join(directory, n) for n in names if n.endswith((".yaml", ".yml")))
        found.update(target for target in references(directory) if os.path.isfile(target))
    return sorted(found)


def unlisted_descriptions(overlay: str) -> list[str]:
    """AgentDescription files in a directory the build reads that its kustomization does not list:
    forgetting `resources:` drops an agent without a word from kustomize."""
    out = []
    for directory in sorted(reads(overlay)):
        listed = set(references(directory))
        for name in sorted(os.listdir(directory)):
            candidate = os.path.normpath(os.path.join(directory, name))
            if not name.endswith((".yaml", ".yml")) or name in KUSTOMIZATIONS or candidate in listed:
                continue
            try:
                with open(candidate, "rb") as handle:
                    data = handle.read(1 << 20)
            except OSError:
                continue
            if b"kind: AgentDescription" in data:
                out.append(candidate)
    return out
