"""Which kustomize renders a kustomization: the fastest one that renders it correctly.

Measured here (BENCHMARKS.md): `kubectl kustomize` (v5.5, v5.8) builds the example overlays about
0.8 s faster than the standalone kustomize 4.5.4, which pays a large one-off cost per non-built-in
kind. But only a standalone kustomize runs exec functions (`--enable-exec`; kubectl kustomize skips
them silently), so a kustomization that uses any exec function gets the standalone one; every other
(container functions, legacy exec plugins) gets kubectl's. An explicit choice (--kustomize,
$KRMFN_KUSTOMIZE) always wins.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess

from ..constants import FUNCTION_ANNOTATION  # noqa: F401  (re-exported)
from ..runtime.record import record


@record(frozen=True)
class Kustomize:
    argv: tuple  # the program (and its words), e.g. ("kubectl",) or ("/usr/local/bin/kustomize",)
    standalone: bool  # `kustomize build` (can --enable-exec) rather than `kubectl kustomize`
    why: str = ""  # how it was chosen, for `krmfn build -v`

    def command(self, directory: str) -> list[str]:
        if self.standalone:
            return [*self.argv, "build", "--enable-alpha-plugins", "--enable-exec", directory]
        if len(self.argv) == 1:
            return [*self.argv, "kustomize", "--enable-alpha-plugins", directory]
        return [*self.argv, "--enable-alpha-plugins", directory]  # e.g. "kubectl kustomize" given

    def describe(self) -> str:
        """`PATH (kustomize VERSION)`: asks the binary (a process of its own: only for -v)."""
        program = shutil.which(self.argv[0]) or self.argv[0]
        return f"{program} ({version(self)})"


def version(tool: Kustomize) -> str:
    try:
        if tool.standalone:
            proc = subprocess.run([*tool.argv, "version"], capture_output=True, text=True, timeout=30)
            # v5 prints `v5.8.1`; v4 `{Version:kustomize/v4.5.4 GitCommit:...}`
            found = re.search(r"v[0-9]+\.[0-9]+\.[0-9]+[^\s}]*", proc.stdout)
            return f"kustomize {found.group(0)}" if found else "kustomize, unknown version"
        proc = subprocess.run([tool.argv[0], "version", "--client"], capture_output=True, text=True, timeout=30)
        found = [line.split(":", 1)[1].strip() for line in proc.stdout.splitlines()
                 if line.lower().startswith("kustomize version")]
        return f"kubectl's kustomize {found[0]}" if found else "kubectl's kustomize, unknown version"
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return "unknown version"


def choose(explicit: str | None, directory: str) -> Kustomize | None:
    """The kustomize for `directory` (None when there is none at all)."""
    chosen = explicit or os.environ.get("KRMFN_KUSTOMIZE")
    if chosen:
        words = tuple(shlex.split(chosen))
        where = "--kustomize" if explicit else "$KRMFN_KUSTOMIZE"
        return Kustomize(words, os.path.basename(words[0]) != "kubectl", f"as {where} says")
    standalone, kubectl = shutil.which("kustomize"), shutil.which("kubectl")
    if uses_exec_functions(directory):
        if standalone:
            return Kustomize(("kustomize",), True, "exec functions need --enable-exec, which only a standalone "
                                                    "kustomize has")
        if kubectl:  # it would skip them silently; the output check then refuses the render
            return Kustomize(("kubectl",), False, "exec functions need a standalone kustomize, and there is none")
        return None
    if kubectl:
        return Kustomize(("kubectl",), False, "no exec functions: kubectl kustomize is the faster build")
    if standalone:
        return Kustomize(("kustomize",), True, "kubectl is not installed")
    return None


def uses_exec_functions(directory: str) -> bool:
    """Whether any kustomization `directory` reads holds a KRM function config of the exec kind.
    Unknown (an unreadable file) counts as yes: the standalone kustomize renders both kinds."""
    from ..runtime import yamlio
    from .tree import files

    for path in files(directory):
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            return True
        if FUNCTION_ANNOTATION.encode() not in data:
            continue
        try:
            docs = yamlio.load_all(data, path)
        except yamlio.YamlError:
            return True
        for doc in docs:
            meta = doc.get("metadata") if isinstance(doc, dict) else None
            annotations = meta.get("annotations") if isinstance(meta, dict) else None
            spec = annotations.get(FUNCTION_ANNOTATION) if isinstance(annotations, dict) else None
            if isinstance(spec, str):
                try:
                    function = yamlio.load_one(spec, f"{path}: {FUNCTION_ANNOTATION}")
                except yamlio.YamlError:
                    return True
                if not isinstance(function, dict) or "exec" in function:
                    return True
    return False
