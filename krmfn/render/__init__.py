"""Rendering a kustomization with the krmfn functions: what `krmfn build`, `krmfn render-changed`
and the review's `--git` sources run (a library: it never imports the CLI).

    from krmfn.render import BuildOptions, RenderError, build
    rendered = build("overlays/prod", BuildOptions(mode="native"))   # raises RenderError
    rendered.manifests, rendered.kustomize, rendered.mode
    objects(rendered, "overlays/prod")                               # the rendered objects

- `kustomize`: which kustomize to run (the fastest correct one), its flags and version;
- `standin`: the `docker` stand-in that runs krmfn's own image natively, and the `docker run`
  command lines it serves;
- `checks`: whether a build's output can be what the functions produced, and a failed build's
  stderr as one line per problem.
"""

from __future__ import annotations

import os
import subprocess
import tempfile

from ..runtime.record import record
from . import checks, kustomize, origins, standin

MODE_ENV = "KRMFN_BUILD_MODE"  # default mode of every build, also those `krmfn diff --git` runs
MODES = ("native", "containers", "auto")


class RenderError(ValueError):
    """A build that failed. `message` is one line; `lines` are the `[error]`/`[warning]` lines of
    the functions and kustomize that explain it (already one problem per line)."""

    def __init__(self, message: str, lines: list[str] | None = None):
        super().__init__(message)
        self.lines = lines or []


@record(frozen=True)
class BuildOptions:
    mode: str | None = None  # native, containers or auto; None: $KRMFN_BUILD_MODE, else auto
    kustomize: str | None = None  # a kustomize command; None: $KRMFN_KUSTOMIZE, else the fastest correct one


@record(frozen=True)
class Rendered:
    manifests: bytes
    stderr: str  # what the functions said on success (warnings)
    kustomize: kustomize.Kustomize
    mode: str  # native or containers: how krmfn's own image ran


def resolve_mode(options: BuildOptions) -> str:
    mode = options.mode or os.environ.get(MODE_ENV) or "auto"
    if mode not in MODES:
        raise RenderError(f"{MODE_ENV}={mode!r}: use native, containers or auto")
    return mode


def build(directory: str, options: BuildOptions = BuildOptions()) -> Rendered:
    """Render `directory`; raises RenderError (never returns an empty or unrendered output)."""
    mode = resolve_mode(options)
    if not os.path.isdir(directory):
        raise RenderError(f"{directory}: no such directory")
    from .tree import missing

    absent = missing(directory)
    if absent:
        raise RenderError(absent)
    tool = kustomize.choose(options.kustomize, directory)
    if tool is None:
        raise RenderError("no kustomize found: install the standalone kustomize or kubectl, or set KRMFN_KUSTOMIZE")
    env = dict(os.environ)
    # Origins name the user's files in the functions' lines (see origins.py); an overlay that asks
    # for them itself is built as it is, and keeps them in its output.
    own_origins = origins.asks_for_origins(directory)
    with tempfile.TemporaryDirectory(prefix="krmfn-build-") as shim_dir:
        native = mode == "native" or (mode == "auto" and not standin.engine_works())
        if native:
            standin.install(shim_dir, env)
        root = directory if own_origins else origins.write_root(shim_dir, directory)
        proc = subprocess.run(tool.command(root), capture_output=True, env=env)
        stderr = proc.stderr.decode(errors="replace")
        if proc.returncode != 0:
            if not own_origins:
                stderr = "\n".join(origins.unwrap(line, directory) for line in stderr.splitlines())
            lines = origins.repository_paths(checks.failure_lines(stderr), root, directory)
            raise RenderError(f"kustomize build {directory} failed (exit {proc.returncode}); see the lines above", lines)
        manifests = proc.stdout if own_origins else origins.strip(proc.stdout)
        stderr = "".join(line + "\n" for line in origins.repository_paths(stderr.splitlines(), root, directory))
    problem = checks.unrendered(manifests)
    if problem:
        raise RenderError(f"{directory}: {problem}", [line for line in stderr.splitlines() if line.strip()])
    return Rendered(manifests, stderr, tool, "native" if native else "containers")


def objects(rendered: Rendered, directory: str) -> list[dict]:
    """The objects of a render of `directory` (its manifests parsed, bounded as any input)."""
    from ..runtime import yamlio

    return [d for d in yamlio.load_all(rendered.manifests, f"the render of {directory}") if isinstance(d, dict)]
