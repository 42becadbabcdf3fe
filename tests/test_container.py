"""The real krmfn image, built and run with podman (the `container` tier).

scripts/setup-podman (idempotent, once per session) configures podman, builds the function image
and the Argo CD sidecar image, and writes .tools/podman/bin/podman (podman in a private mount
namespace; conftest puts it first on PATH) and .tools/docker-shim/docker (which execs it). Then:

(a) base/ and every overlay, rendered by both kubectl kustomize builds with the functions as real
    containers (the shim first on PATH), are byte-identical to the native container stand-in, the
    exec (standalone kustomize 4.5.4 --enable-exec) and legacy-plugin renders, and to
    `krmfn build` (natively, and through podman);
(b) the image, run exactly as kustomize runs container functions plus --read-only, turns real
    ResourceLists (every function of every overlay's pipeline, and a failing one) into the same
    bytes and exit codes as the native `krmfn`;
(c) the image runs as nobody (65534), has no pip and no build tools; its size is reported.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import pytest
import yaml

from krmfn import __version__
from kustomize_tools import (ROOT, VENV_BIN, kubectl_builds, pipeline, render, require, standalone_kustomize)

pytestmark = pytest.mark.container

IMAGE = f"ghcr.io/krmfn-dev/krmfn:{__version__}"
CMP_IMAGE = f"ghcr.io/krmfn-dev/krmfn-argocd-cmp:{__version__}"
SHIM_DIR = ROOT / ".tools" / "docker-shim"
# How kustomize starts a container function (DESIGN.md), plus a read-only root filesystem.
KRM_RUN = ["run", "--rm", "-i", "--network", "none", "--user", "nobody", "--read-only",
           "--security-opt=no-new-privileges", "-e", "LOG_TO_STDERR=true", "-e", "STRUCTURED_RESULTS=true"]
MAX_IMAGE_MB = 350  # a regression guard: the image is ~220 MB (Debian python3 + the venv)


def targets() -> list[str]:
    found = ["base"] + sorted(f"overlays/{p.name}" for p in (ROOT / "overlays").glob("*")
                              if (p / "kustomization.yaml").exists())
    return found


TARGETS = targets()


@functools.lru_cache(maxsize=None)
def podman_status() -> str | None:
    """Run scripts/setup-podman once per session. None when ready, else why the tier is skipped.

    It is skipped only when podman cannot be installed (not root, or apt cannot provide it); any
    other failure of the setup fails the tests."""
    if os.geteuid() != 0:
        return ("scripts/setup-podman needs root (rootful podman, apt-get, debootstrap): "
                "run the container tier as root")
    proc = subprocess.run([str(ROOT / "scripts" / "setup-podman")], capture_output=True, text=True,
                          timeout=3600)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.splitlines()[-25:])
        if shutil.which("podman") is None:
            return f"podman could not be installed here (scripts/setup-podman failed):\n{tail}"
        pytest.fail(f"scripts/setup-podman failed (exit {proc.returncode}):\n{tail}", pytrace=False)
    return None


def require_podman() -> None:
    reason = podman_status()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def podman():
    require_podman()
    return shutil.which("podman")


def podman_run(image: str, stdin: bytes, *extra: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", *KRM_RUN, *extra, image], input=stdin, capture_output=True, timeout=timeout)


def native_krmfn(stdin: bytes) -> subprocess.CompletedProcess:
    env = {**os.environ, "LOG_TO_STDERR": "true", "STRUCTURED_RESULTS": "true"}
    return subprocess.run([str(VENV_BIN / "krmfn")] if (VENV_BIN / "krmfn").exists()
                          else [sys.executable, "-m", "krmfn"], input=stdin, capture_output=True, env=env,
                          timeout=120)


def krmfn_build(directory: Path, path_prefix: list[Path]) -> bytes:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([*(str(p) for p in path_prefix), str(VENV_BIN), env.get("PATH", "")])
    env.pop("KRMFN_CONTAINER_ENGINE", None)
    env.pop("KRMFN_BUILD_MODE", None)  # auto: natively without an engine, the real image with one
    proc = subprocess.run([str(VENV_BIN / "krmfn"), "build", str(directory)], capture_output=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, f"krmfn build {directory} failed:\n{proc.stderr.decode()}"
    return proc.stdout


# ---------------------------------------------------------------------------------------------
# (a) every way in gives the same bytes as the real container


@pytest.fixture(scope="module")
def renders(podman, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("container-e2e")
    kubectls = require(kubectl_builds())
    standalone = require(standalone_kustomize())
    jobs: dict[tuple[str, str, str], Callable[[], bytes]] = {}
    for target in TARGETS:
        for kubectl in kubectls:
            jobs[(kubectl.name, "podman", target)] = functools.partial(
                render, tmp, kubectl, "container", target, path_prefix=[SHIM_DIR])
            jobs[(kubectl.name, "container-standin", target)] = functools.partial(
                render, tmp, kubectl, "container", target)
            jobs[(kubectl.name, "legacy", target)] = functools.partial(render, tmp, kubectl, "legacy", target)
        jobs[(standalone.name, "exec", target)] = functools.partial(render, tmp, standalone, "exec", target)
        tree = tmp / "repo-container" / target
        # no engine reachable (only a docker client on this machine): krmfn's image served natively
        jobs[("krmfn build", "native", target)] = functools.partial(krmfn_build, tree, [])
        # the shim first on PATH: `docker info` works, so krmfn build runs the real image
        jobs[("krmfn build", "podman", target)] = functools.partial(krmfn_build, tree, [SHIM_DIR])
    # The first target, one at a time: it creates the per-mode trees and the legacy plugins.
    first = [key for key in jobs if key[2] == TARGETS[0]]
    out = {key: jobs[key]() for key in first}
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {key: pool.submit(job) for key, job in jobs.items() if key not in out}
        out.update({key: future.result() for key, future in futures.items()})
    return out


@pytest.mark.parametrize("target", TARGETS)
def test_real_container_render_matches_every_mode(renders, target):
    outputs = {key: value for key, value in renders.items() if key[2] == target}
    reference_key = next(key for key in outputs if key[1] == "podman")
    reference = outputs[reference_key]
    assert reference.strip(), f"{reference_key} rendered nothing"
    assert len(outputs) == 3 * len(kubectl_builds()) + 3
    differing = [key for key, value in outputs.items() if value != reference]
    assert not differing, f"{differing} differ from {reference_key}"
    docs = list(yaml.safe_load_all(reference))
    assert any(d["kind"] == "Agent" for d in docs)
    assert not [d for d in docs if str(d["apiVersion"]).startswith("krmfn.dev/")]


def test_kustomize_really_runs_the_docker_on_path(podman, tmp_path):
    """The renders above went through podman: kustomize runs whatever `docker` is first on PATH
    (a failing one fails the build), and through a logging shim it ran `docker run ... IMAGE`."""
    kubectl = require(kubectl_builds())[0]
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "docker").write_text("#!/bin/sh\necho 'no engine here' >&2\nexit 3\n")
    (broken / "docker").chmod(0o755)
    with pytest.raises(AssertionError, match="no engine here"):
        render(tmp_path, kubectl, "container", "base", path_prefix=[broken])
    logging = tmp_path / "logging"
    logging.mkdir()
    log = tmp_path / "docker.log"
    (logging / "docker").write_text(f'#!/bin/sh\necho "$*" >>{log}\nexec {SHIM_DIR / "docker"} "$@"\n')
    (logging / "docker").chmod(0o755)
    render(tmp_path, kubectl, "container", "base", path_prefix=[logging])
    calls = log.read_text().splitlines()
    assert calls and all(call.startswith("run ") and call.endswith(IMAGE) for call in calls), calls
    assert all("--network none" in call and "--user nobody" in call for call in calls), calls


# ---------------------------------------------------------------------------------------------
# (b) the image as a KRM function on real ResourceLists, hardened


def kustomize_plain(directory: Path) -> list[dict]:
    """A kustomization's resources (no functions run), as kustomize would hand them over."""
    kubectl = require(kubectl_builds())[0]
    proc = subprocess.run([*kubectl.argv, "kustomize", str(directory)], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def kustomize_resources(target: str) -> list[dict]:
    """What kustomize hands the target's first function: its resources with its patches applied (the
    prod-kagent-1.0 overlay patches descriptions), built from a copy without the transformers."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="krmfn-plain-") as tmp:
        for folder in ("base", "overlays", "vendor"):
            shutil.copytree(ROOT / folder, Path(tmp) / folder)
        kustomization = Path(tmp) / target / "kustomization.yaml"
        doc = yaml.safe_load(kustomization.read_text())
        doc.pop("transformers", None)
        # kustomize's output drops local-config items, but its functions get them: build the vendored
        # CRDs unmarked, then mark them as the overlay's patch does
        marks = [p for p in doc.get("patches", []) if p.get("target", {}).get("kind") == "CustomResourceDefinition"]
        doc["patches"] = [p for p in doc.get("patches", []) if p not in marks]
        kustomization.write_text(yaml.safe_dump(doc, sort_keys=False))
        items = kustomize_plain(Path(tmp) / target)
        for item in items if marks else ():
            if item["kind"] == "CustomResourceDefinition":
                item["metadata"].setdefault("annotations", {})["config.kubernetes.io/local-config"] = "true"
        return items


def resource_list(items: list[dict], config: dict) -> bytes:
    return yaml.safe_dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items,
                           "functionConfig": config}, sort_keys=False).encode()


@pytest.mark.parametrize("target", TARGETS)
def test_image_runs_hardened_on_real_resource_lists(podman, target):
    """Each function of the target's pipeline, in order, on the ResourceList the previous one
    produced: the container (nobody, no network, read-only root, no-new-privileges) and the native
    krmfn give the same bytes and exit code."""
    configs = pipeline(target)
    assert configs, f"{target} runs no krmfn function"
    items = kustomize_resources(target)
    for config in configs:
        stdin = resource_list(items, config)
        native = native_krmfn(stdin)
        contained = podman_run(IMAGE, stdin)
        assert contained.returncode == native.returncode == 0, (
            f"{config['kind']}: container exit {contained.returncode}, native {native.returncode}\n"
            f"{contained.stderr.decode()}\n{native.stderr.decode()}")
        assert contained.stdout == native.stdout, f"{config['kind']}: container output differs from native"
        result = yaml.safe_load(contained.stdout)
        assert result["kind"] == "ResourceList"
        items = result["items"]
    assert any(item["kind"] == "Agent" for item in items)


def test_image_reports_errors_like_native(podman):
    """A failing function: exit 1, one readable [error] line on stderr, results in the ResourceList."""
    items = kustomize_plain(ROOT / "base" / "agents")
    for item in items:
        if item["kind"] == "AgentDescription" and item["metadata"]["name"] == "k8s-readonly":
            item["spec"]["tools"][0]["allow"].append("k8s_frobnicate")
    stdin = resource_list(items, next(c for c in pipeline("base") if c["kind"] == "AgentExpansion"))
    native = native_krmfn(stdin)
    contained = podman_run(IMAGE, stdin)
    assert contained.returncode == native.returncode == 1
    assert contained.stdout == native.stdout
    assert contained.stderr == native.stderr
    assert b"[error]" in contained.stderr and b"k8s_frobnicate" in contained.stderr
    results = yaml.safe_load(contained.stdout)["results"]
    assert any(r.get("severity") == "error" for r in results)


def test_image_needs_no_network_and_no_writable_filesystem(podman):
    """Even with every capability dropped, no /tmp and a read-only root, the function works."""
    items = kustomize_plain(ROOT / "base" / "agents")
    stdin = resource_list(items, next(c for c in pipeline("base") if c["kind"] == "AgentExpansion"))
    contained = podman_run(IMAGE, stdin, "--cap-drop=all", "--pids-limit=64", "--memory=256m")
    assert contained.returncode == 0, contained.stderr.decode()
    assert contained.stdout == native_krmfn(stdin).stdout


# ---------------------------------------------------------------------------------------------
# (c) what is in the image


def image_inspect(image: str) -> dict:
    proc = subprocess.run(["podman", "image", "inspect", image], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)[0]


def test_image_user_labels_and_contents(podman, capsys):
    info = image_inspect(IMAGE)
    config = info["Config"]
    assert config.get("User") in ("nobody", "65534", "65534:65534"), config.get("User")
    assert config.get("Entrypoint") == ["/opt/krmfn/bin/krmfn"]
    labels = config.get("Labels") or {}
    for label in ("title", "description", "source", "version", "licenses"):
        assert labels.get(f"org.opencontainers.image.{label}"), f"OCI label {label} missing"
    assert labels["org.opencontainers.image.version"] == __version__

    probe = (
        "id -u; id -g; "
        "for p in pip pip3 pip3.11 gcc cc make; do command -v $p && echo FOUND $p; done; "
        "for py in python3 /opt/krmfn/bin/python; do "
        "  $py -c 'import importlib.util as u, sys; sys.exit(0 if u.find_spec(\"pip\") is None else 1)' "
        "  || echo FOUND pip module in $py; done; "
        "/opt/krmfn/bin/krmfn --version"
    )
    proc = subprocess.run(["podman", "run", "--rm", "--network", "none", "--read-only", "--entrypoint", "/bin/sh",
                           IMAGE, "-c", probe], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.split("\n")
    assert lines[0] == "65534" and lines[1] == "65534", f"image user is not nobody: {lines[:2]}"
    assert "FOUND" not in proc.stdout, proc.stdout
    assert f"krmfn {__version__}" in proc.stdout

    size_mb = info["Size"] / 1e6
    with capsys.disabled():
        print(f"\n[container] {IMAGE}: {size_mb:.1f} MB ({info['Size']} bytes), user {config.get('User')}, "
              f"{len(info.get('RootFS', {}).get('Layers', []))} layers")
    assert size_mb < MAX_IMAGE_MB, f"{IMAGE} grew to {size_mb:.0f} MB"
