"""krmfn in a container (podman) against a `cat` container in the same slot, same stdin.

Both run as kustomize starts container functions (`run --rm -i --network none --user nobody
--security-opt=no-new-privileges`), from the krmfn image, so the base image, the engine and the
container start are the same on both sides and the ratio is krmfn's own cost:

- one function (expand of base/agents) vs one `cat` slot (target <= 1.4);
- the prod overlay's Pipeline (expand, environment, policy in one container) vs one `cat` slot
  (target <= 1.5).

The krmfn measured is this checkout's: its `krmfn/` is byte-compiled for the image's Python and
mounted read-only over the installed one (a stand-in for the image built from this checkout, named
as such; building the image is scripts/setup-podman's job). Needs podman and the image; without
them the rows are skipped, with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, Row, best_of, run_command

from krmfn import __version__

IMAGE = f"ghcr.io/krmfn-dev/krmfn:{__version__}"
RUN = ["podman", "run", "--rm", "-i", "--network", "none", "--user", "nobody",
       "--security-opt=no-new-privileges", "-e", "LOG_TO_STDERR=true", "-e", "STRUCTURED_RESULTS=true"]
N = int(os.environ.get("KRMFN_BENCH_N", "5"))


def not_ready() -> str | None:
    if shutil.which("podman") is None:
        return "podman is not installed (scripts/setup-podman)"
    try:
        exists = subprocess.run(["podman", "image", "exists", IMAGE], capture_output=True, timeout=60).returncode == 0
    except subprocess.TimeoutExpired:
        return "podman does not answer"
    return None if exists else f"the image {IMAGE} is not built (scripts/setup-podman)"


def prod_pipeline_input() -> bytes:
    """The ResourceList kustomize hands overlays/prod's Pipeline (its resources, the local-config
    stage configs included), recorded by a `docker` that tees its stdin in the function's slot."""
    kubectl = shutil.which("kubectl") or "/usr/bin/kubectl"
    with tempfile.TemporaryDirectory(prefix="krmfn-bench-prod-") as tmp:
        seen = Path(tmp) / "stdin.yaml"
        (Path(tmp) / "docker").write_text(f"#!/bin/sh\ntee {seen}\n")
        (Path(tmp) / "docker").chmod(0o755)
        run_command([kubectl, "kustomize", "--enable-alpha-plugins", str(ROOT / "overlays/prod")],
                    env={"PATH": f"{tmp}{os.pathsep}{os.environ['PATH']}"})
        return seen.read_bytes()


def run() -> list[Row]:
    reason = not_ready()
    if reason:
        print(f"container_slots: skipped: {reason}", file=sys.stderr)
        return []
    from startup import expand_input

    python = "/opt/krmfn/bin/python"  # the image's venv (krmfn's dependencies)
    with tempfile.TemporaryDirectory(prefix="krmfn-bench-src-") as src:
        shutil.copytree(ROOT / "krmfn", Path(src) / "krmfn", ignore=shutil.ignore_patterns("__pycache__"))
        os.chmod(src, 0o755)
        # compiled by the image's own Python, so the measured calls load bytecode as an installed krmfn does
        subprocess.run(["podman", "run", "--rm", "--user", "0", "-v", f"{src}:/src", "--entrypoint", python, IMAGE,
                        "-m", "compileall", "-q", "/src/krmfn"], check=True, capture_output=True, timeout=300)
        for path in Path(src).rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        krmfn = RUN + ["-v", f"{src}/krmfn:/src/krmfn:ro", "-e", "PYTHONPATH=/src", "--entrypoint", python,
                       IMAGE, "-m", "krmfn"]
        cat = RUN + ["--entrypoint", "cat", IMAGE]
        rows = []
        for name, stdin, target in (("expand (base/agents), one function", expand_input(), 1.4),
                                    ("overlays/prod Pipeline, 3 functions", prod_pipeline_input(), 1.5)):
            run_command(krmfn, stdin=stdin)  # warm, and fail loudly if it does not render
            ours = best_of(N, lambda: run_command(krmfn, stdin=stdin))
            slot = best_of(N, lambda: run_command(cat, stdin=stdin))
            rows.append(Row(f"podman: {name}", ours, "same slot, a cat container", slot, target))
    return rows
