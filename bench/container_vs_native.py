#!/usr/bin/env python3
"""Per-invocation cost of krmfn as a container function (podman) vs the native `krmfn`, side by side.

Each function of the largest overlay's pipeline runs on the ResourceList kustomize would hand it
(the previous function's output), once as `podman run --rm -i --network none --user nobody
--read-only --security-opt=no-new-privileges IMAGE` (how kustomize starts container functions,
plus a read-only root) and once as the native `krmfn` process; both get the same bytes on stdin
and must print the same bytes. Then whole `kubectl kustomize --enable-alpha-plugins` builds: the
real image through a `docker` -> podman shim vs krmfn's native `docker` stand-in
(`krmfn container-run`, what `krmfn build` uses where no engine runs). Best of N (N=5, or
KRMFN_BENCH_N), in milliseconds; ratio = container / native.

Usage: .venv/bin/python bench/container_vs_native.py      (also part of bench/run)
Needs podman and the image: scripts/setup-podman (root). Without them it says so and exits 0.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # how the example repo is wired

import yaml  # noqa: E402

from common import KRMFN, ROOT, Row, best_of  # noqa: E402
from krmfn import __version__  # noqa: E402
from kustomize_tools import pipeline  # noqa: E402
from podman_env import podman_env  # noqa: E402

os.environ.update(podman_env())  # krmfn's private podman storage (scripts/setup-podman), never the host's

IMAGE = f"ghcr.io/krmfn-dev/krmfn:{__version__}"
KUBECTL = "/usr/bin/kubectl"
PODMAN_RUN = ["podman", "run", "--rm", "-i", "--network", "none", "--user", "nobody", "--read-only",
              "--security-opt=no-new-privileges", "-e", "LOG_TO_STDERR=true", "-e", "STRUCTURED_RESULTS=true", IMAGE]
N = int(os.environ.get("KRMFN_BENCH_N", "5"))


def not_ready() -> str | None:
    if shutil.which("podman") is None:
        return "podman is not installed (scripts/setup-podman installs it, as root)"
    if subprocess.run(["podman", "image", "exists", IMAGE], capture_output=True).returncode != 0:
        return f"the image {IMAGE} is not built (run scripts/setup-podman)"
    if not KRMFN:
        return "the krmfn venv is missing (run scripts/setup)"
    return None


def execute(argv: list[str], stdin: bytes, env: dict | None = None) -> bytes:
    proc = subprocess.run(argv, input=stdin, capture_output=True, env={**os.environ, **(env or {})}, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])}... failed: {proc.stderr.decode()[-1500:]}")
    return proc.stdout


def timed(argv: list[str], stdin: bytes = b"", env: dict | None = None) -> float:
    execute(argv, stdin, env)  # warm caches
    return best_of(N, lambda: execute(argv, stdin, env))


def targets() -> list[str]:
    return ["base"] + sorted(f"overlays/{p.name}" for p in (ROOT / "overlays").glob("*")
                             if (p / "kustomization.yaml").exists())


def resource_list(items: list[dict], config: dict) -> bytes:
    return yaml.safe_dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items,
                           "functionConfig": config}, sort_keys=False).encode()


def function_rows() -> list[Row]:
    kubectl = KUBECTL if Path(KUBECTL).exists() else shutil.which("kubectl")
    items = [d for d in yaml.safe_load_all(execute([kubectl, "kustomize", str(ROOT / "base" / "agents")], b""))
             if d]
    target = max(targets(), key=lambda t: len(pipeline(t)))
    configs = pipeline(target)
    rows = []
    empty = resource_list([], configs[0])
    rows.append(Row(f"podman run, empty ResourceList ({configs[0]['kind']})", timed(PODMAN_RUN, empty),
                    "native krmfn, same input", timed([KRMFN], empty), None, "container start + python start"))
    for config in configs:
        stdin = resource_list(items, config)
        native_out = execute([KRMFN], stdin)
        if execute(PODMAN_RUN, stdin) != native_out:
            raise RuntimeError(f"{config['kind']}: the container's output differs from the native run")
        rows.append(Row(f"podman run, {target} {config['kind']} ({len(items)} in)", timed(PODMAN_RUN, stdin),
                        "native krmfn, same ResourceList", timed([KRMFN], stdin), None))
        items = yaml.safe_load(native_out)["items"]
    return rows


def build_rows() -> list[Row]:
    if not Path(KUBECTL).exists():
        return []
    rows = []
    with tempfile.TemporaryDirectory(prefix="krmfn-bench-container-") as tmp:
        podman_shim = Path(tmp) / "podman-shim"
        native_shim = Path(tmp) / "native-shim"
        for directory, body in ((podman_shim, 'exec podman "$@"'),
                                (native_shim, f'PYTHONPATH={ROOT} exec {sys.executable} -m krmfn container-run "$@"')):
            directory.mkdir()
            (directory / "docker").write_text(f"#!/bin/sh\n{body}\n")
            (directory / "docker").chmod(0o755)
        for target in targets():
            argv = [KUBECTL, "kustomize", "--enable-alpha-plugins", str(ROOT / target)]
            with_podman = {"PATH": f"{podman_shim}{os.pathsep}{os.environ['PATH']}"}
            with_native = {"PATH": f"{native_shim}{os.pathsep}{os.environ['PATH']}"}
            if execute(argv, b"", with_podman) != execute(argv, b"", with_native):
                raise RuntimeError(f"{target}: the podman build differs from the native build")
            count = len(pipeline(target))
            rows.append(Row(f"kubectl kustomize {target}, {count} fn in podman", timed(argv, b"", with_podman),
                            "same build, native docker stand-in", timed(argv, b"", with_native), None))
    return rows


def run() -> list[Row]:
    reason = not_ready()
    if reason:
        print(f"container_vs_native: skipped: {reason}", file=sys.stderr)
        return []
    return function_rows() + build_rows()


def main() -> int:
    reason = not_ready()
    if reason:
        print(f"container_vs_native: skipped: {reason}")
        return 0
    size = subprocess.run(["podman", "image", "inspect", "--format", "{{.Size}}", IMAGE], capture_output=True,
                          text=True).stdout.strip()
    print(f"{IMAGE}: {int(size) / 1e6:.1f} MB; best of {N}; ratio = container / native")
    rows = run()
    header = f"{'invocation':<52} {'native':>10} {'container':>10} {'overhead':>10} {'ratio':>7}"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row.name:<52} {row.baseline_seconds * 1000:>8.1f}ms {row.seconds * 1000:>8.1f}ms "
              f"{(row.seconds - row.baseline_seconds) * 1000:>+8.1f}ms {row.ratio:>6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
