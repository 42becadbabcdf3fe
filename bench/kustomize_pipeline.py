"""kustomize builds with krmfn functions vs the same builds with `cat` in the same slots.

Both sides run through the real `kubectl kustomize --enable-alpha-plugins` (container functions),
with a `docker` first on PATH that execs the function process directly: krmfn for one side,
`cat` (a pass-through) for the other, so the difference is krmfn's own cost. Then what users run:
`krmfn build` of each target (its own choice of kustomize, the native stand-in) against the same
kubectl's build with `cat` in every function slot.

Every function call is a fresh krmfn process, as kustomize starts them.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from common import KRMFN, ROOT, Row, time_interleaved

KUBECTL = "/usr/bin/kubectl"


def _shim(directory: Path, command: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    docker = directory / "docker"
    docker.write_text(f"#!/bin/sh\nexec {command}\n")
    docker.chmod(0o755)
    return directory


def _build(target: Path, shim: Path, kubectl: str = KUBECTL) -> tuple:
    """The build as a `time_interleaved` command."""
    env = {"PATH": f"{shim}{os.pathsep}{os.environ['PATH']}"}
    return [kubectl, "kustomize", "--enable-alpha-plugins", str(target)], b"", env


def run() -> list[Row]:
    if not Path(KUBECTL).exists() or not KRMFN:
        print("kustomize_pipeline: skipped (needs /usr/bin/kubectl and the krmfn venv: run scripts/setup)",
              file=sys.stderr)
        return []
    rows = []
    with tempfile.TemporaryDirectory(prefix="krmfn-bench-") as tmp:
        tmp = Path(tmp)
        krmfn_shim = _shim(tmp / "krmfn-shim", KRMFN)
        cat_shim = _shim(tmp / "cat-shim", "cat")
        repo = tmp / "repo"
        shutil.copytree(ROOT / "base", repo / "base")
        if (ROOT / "overlays").exists():
            shutil.copytree(ROOT / "overlays", repo / "overlays")
        # One function: the base's expand step alone, as a function of its own (in base/ it is a
        # stage config of the Pipeline).
        one = repo / "one-function"
        one.mkdir()
        expand = (repo / "base" / "functions" / "expand.yaml").read_text()
        (one / "expand.yaml").write_text(re.sub(
            r'(?m)^    config\.kubernetes\.io/local-config: "true".*$',
            "    config.kubernetes.io/function: |\n      container:\n        image: ghcr.io/krmfn-dev/krmfn:0.1.0",
            expand))
        (one / "kustomization.yaml").write_text(
            "resources: [../base/agents]\ntransformers: [expand.yaml]\n")
        best = time_interleaved({"cat": _build(one, cat_shim), "krmfn": _build(one, krmfn_shim)}, n=9)
        rows.append(Row("kubectl kustomize, one krmfn function (expand)", best["krmfn"],
                        "same build, cat in the slot", best["cat"], 1.5))
        targets = ["base"] + sorted(f"overlays/{p.name}" for p in (repo / "overlays").glob("*")
                                    if (p / "kustomization.yaml").exists())
        kubectl = shutil.which("kubectl") or KUBECTL  # the one `krmfn build` picks
        for target in targets:
            best = time_interleaved({
                "cat": _build(repo / target, cat_shim), "krmfn": _build(repo / target, krmfn_shim),
                "cat same": _build(repo / target, cat_shim, kubectl=kubectl),
                "build": ([KRMFN, "build", "--native", "-o", os.devnull, str(repo / target)], b""),
            }, n=9)
            rows.append(Row(f"kubectl kustomize {target} (krmfn pipeline)", best["krmfn"],
                            "same build, cat in every slot", best["cat"], 2.0))
            rows.append(Row(f"krmfn build {target}", best["build"],
                            f"{os.path.basename(kubectl)} kustomize, cat in every slot",
                            best["cat same"], 2.0 if target == "overlays/prod" else None))
    return rows
