"""`krmfn render-changed [--overlays GLOB]... [FILE...]`: render the overlays some files can change.

What the pre-commit hook runs with a commit's staged files. An overlay is rendered when a file lies
in a directory its kustomization reads: its own, and the local kustomization directories it
references, transitively (a shared base, the agents, their prompts). A file no overlay is known to
read (a patch outside them, a README) renders them all, and so does a call without files. Each
overlay is rendered with `krmfn build`, so its pipeline runs (the example's prod overlays: expand,
environment, policy, and conformance against the vendored kagent CRDs) and a policy violation, an
invalid object or a broken reference fails the call, with the reason and the file to edit.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys

from ..render.tree import kustomization_file, reads  # noqa: F401  (reads: what an overlay depends on)

DEFAULT_OVERLAYS = "overlays/*"


def _under(path: str, directory: str) -> bool:
    return directory == "." or path == directory or path.startswith(directory + os.sep)


def overlays_matching(patterns: list[str]) -> list[str]:
    found: list[str] = []
    for pattern in patterns:
        for directory in sorted(glob.glob(pattern)):
            directory = os.path.normpath(directory)
            if kustomization_file(directory) and directory not in found:
                found.append(directory)
    return found


def affected(overlays: list[str], files: list[str]) -> list[str]:
    """The overlays, in their order, that `files` can change (all of them without files)."""
    if not files:
        return list(overlays)
    inputs = {overlay: reads(overlay) for overlay in overlays}
    selected: set[str] = set()
    for path in map(os.path.normpath, files):
        owners = {o for o in overlays if any(_under(path, d) for d in inputs[o])}
        selected |= owners or set(overlays)  # read by no overlay we know of: it may change any
    return [o for o in overlays if o in selected]


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="krmfn render-changed",
        description="Render, with `krmfn build`, every overlay the given files can change (all without files).")
    parser.add_argument("--overlays", action="append", metavar="GLOB",
                        help=f"kustomization directories to consider (repeatable; default {DEFAULT_OVERLAYS})")
    parser.add_argument("files", nargs="*", help="changed files (a commit's staged files)")
    args = parser.parse_args(argv)
    patterns = args.overlays or [DEFAULT_OVERLAYS]
    overlays = overlays_matching(patterns)
    if not overlays:
        print(f"[error] krmfn-render: no kustomization matches {' '.join(patterns)}", file=sys.stderr)
        return 1
    # krmfn's own images run natively unless the caller asked otherwise: a commit hook has no
    # business starting containers.
    from ..render import MODE_ENV, BuildOptions, RenderError, build

    options = BuildOptions(mode=os.environ.get(MODE_ENV) or "native")
    status = 0
    for overlay in affected(overlays, args.files):
        try:
            rendered = build(overlay, options)
        except RenderError as err:
            for line in err.lines:
                print(line, file=sys.stderr)
            print(f"[error] {err}", file=sys.stderr)
            print(f"krmfn-render: {overlay} FAILED (see above)", file=sys.stderr)
            status = 1
            continue
        sys.stderr.write(rendered.stderr)
        print(f"krmfn-render: {overlay} rendered", file=sys.stderr)
    return status
