"""`krmfn build`: the pinned image version, foreign images, and functions that did not run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from krmfn import __version__

ROOT = Path(__file__).resolve().parents[1]
KUBECTL = "/usr/bin/kubectl"
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not Path(KUBECTL).exists(), reason="needs /usr/bin/kubectl")]


def build(directory: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KRMFN_KUSTOMIZE": KUBECTL}
    env.pop("KRMFN_CONTAINER_ENGINE", None)
    return subprocess.run([sys.executable, "-m", "krmfn", "build", str(directory), *args],
                          capture_output=True, env=env, timeout=120)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    for folder in ("base", "overlays"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def _set_function(path: Path, annotation: str) -> None:
    text = path.read_text()
    start = text.index("    config.kubernetes.io/function: |")
    end = text.index("spec:", start)
    path.write_text(text[:start] + annotation + text[end:])


def test_a_kustomization_pinning_another_krmfn_version_is_refused(repo):
    pipeline = repo / "overlays/dev/pipeline.yaml"
    pipeline.write_text(pipeline.read_text().replace(f"krmfn:{__version__}", "krmfn:9.9.9"))
    proc = build(repo / "overlays/dev", "--native")
    assert proc.returncode == 1 and proc.stdout == b""
    assert (f"[error] the kustomization pins ghcr.io/krmfn-dev/krmfn:9.9.9, but this krmfn is {__version__}: "
            "install krmfn 9.9.9 or render with a container engine") in proc.stderr.decode()


def test_a_foreign_image_without_an_engine_is_a_clear_error(repo):
    _set_function(repo / "overlays/dev/pipeline.yaml",
                  "    config.kubernetes.io/function: |\n      container:\n        image: example.com/other-fn:1.0\n")
    proc = build(repo / "overlays/dev", "--native")
    assert proc.returncode == 1 and proc.stdout == b""
    assert "image example.com/other-fn:1.0 is not krmfn's, and there is no container engine to run it" \
        in proc.stderr.decode()


def test_functions_that_did_not_run_fail_the_build(repo):
    # kubectl kustomize has no --enable-exec: it skips exec functions silently and exits 0.
    _set_function(repo / "overlays/dev/pipeline.yaml", "    config.kubernetes.io/function: |\n      exec:\n        path: krmfn\n")
    plain = subprocess.run([KUBECTL, "kustomize", "--enable-alpha-plugins", str(repo / "overlays/dev")],
                           capture_output=True, timeout=120)
    assert plain.returncode == 0 and b"kind: AgentDescription" in plain.stdout  # the silent skip
    proc = build(repo / "overlays/dev")
    assert proc.returncode == 1 and proc.stdout == b""
    assert "is still in the output: the krmfn functions did not run" in proc.stderr.decode()



def test_the_rendered_repository_cannot_shadow_krmfn_modules(repo):
    # A repository (an Argo CD app, a pull request) is untrusted input: a `yaml.py` in it, in the
    # directory the build runs from or in the kustomization directory kustomize runs functions
    # in, must not be imported by the functions krmfn runs.
    for directory in (repo, repo / "overlays/dev"):
        (directory / "yaml.py").write_text("raise SystemExit('the repository shadowed a module')\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KRMFN_KUSTOMIZE": KUBECTL}
    env.pop("KRMFN_CONTAINER_ENGINE", None)
    proc = subprocess.run([sys.executable, "-P", "-m", "krmfn", "build", "overlays/dev", "--native"],
                          capture_output=True, env=env, timeout=120, cwd=repo)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"kind: Agent\n" in proc.stdout and b"shadowed" not in proc.stderr
