"""`krmfn build`: the pinned image version, foreign images, and functions that did not run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import support
from krmfn import __version__

ROOT = Path(__file__).resolve().parents[1]
KUBECTL = "/usr/bin/kubectl"
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not Path(KUBECTL).exists(), reason="needs /usr/bin/kubectl")]


def build(directory: Path, *args: str) -> subprocess.CompletedProcess:
    return support.module("build", str(directory), *args, env={"KRMFN_KUSTOMIZE": KUBECTL},
                          unset=("KRMFN_CONTAINER_ENGINE",), timeout=120, text=False)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    for folder in ("base", "overlays", "vendor"):
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


# --- which kustomize: the fastest correct one, and -v says which --------------------------------

STANDALONE = ROOT / ".tools" / "bin" / "kustomize"


def build_choosing(directory: Path, *, first_on_path: tuple[Path, ...] = ()) -> subprocess.CompletedProcess:
    """`krmfn build` left to choose: the standalone kustomize 4.5.4 and /usr/bin/kubectl both on PATH."""
    if not STANDALONE.exists():
        pytest.skip("the standalone kustomize is missing: run scripts/setup")
    path = [*map(str, first_on_path), str(STANDALONE.parent), str(Path(KUBECTL).parent), os.environ["PATH"]]
    return support.module("build", "-v", "--native", str(directory), env={"PATH": os.pathsep.join(path)},
                          unset=("KRMFN_CONTAINER_ENGINE", "KRMFN_KUSTOMIZE"), timeout=300, text=False)


def test_without_exec_functions_kubectl_kustomize_renders(repo):
    proc = build_choosing(repo / "overlays/dev")
    assert proc.returncode == 0, proc.stderr.decode()
    info = [line for line in proc.stderr.decode().splitlines() if line.startswith("[info] krmfn build")]
    assert len(info) == 1, proc.stderr.decode()
    assert f"{KUBECTL} (kubectl's kustomize v5." in info[0] and "kubectl kustomize (no exec functions" in info[0]
    assert "krmfn's image run native" in info[0]
    assert b"kind: Agent\n" in proc.stdout


def test_exec_functions_get_the_standalone_kustomize(repo):
    _set_function(repo / "overlays/dev/pipeline.yaml", "    config.kubernetes.io/function: |\n      exec:\n        path: krmfn\n")
    bindir = repo / "bin"
    bindir.mkdir()
    (bindir / "krmfn").write_text(f"#!/bin/sh\nPYTHONPATH={ROOT} exec {sys.executable} -P -m krmfn \"$@\"\n")
    (bindir / "krmfn").chmod(0o755)
    proc = build_choosing(repo / "overlays/dev", first_on_path=(bindir,))
    assert proc.returncode == 0, proc.stderr.decode()
    assert f"{STANDALONE} (kustomize v4.5.4), kustomize build (exec functions need --enable-exec" \
        in proc.stderr.decode()
    assert b"kind: Agent\n" in proc.stdout and b"krmfn.dev/v1alpha1" not in proc.stdout


def test_an_exec_function_in_a_shared_file_or_an_unreadable_one_counts(tmp_path):
    from krmfn.render.kustomize import uses_exec_functions

    (tmp_path / "shared").mkdir()
    (tmp_path / "overlay").mkdir()
    (tmp_path / "overlay/kustomization.yaml").write_text("transformers: [../shared/fn.yaml]\n")
    (tmp_path / "shared/fn.yaml").write_text(
        "apiVersion: x/v1\nkind: F\nmetadata:\n  name: f\n  annotations:\n"
        "    config.kubernetes.io/function: |\n      container:\n        image: x\n")
    assert uses_exec_functions(str(tmp_path / "overlay")) is False
    (tmp_path / "shared/fn.yaml").write_text(
        (tmp_path / "shared/fn.yaml").read_text().replace("container:\n        image: x", "exec:\n        path: ./f"))
    assert uses_exec_functions(str(tmp_path / "overlay")) is True
    (tmp_path / "shared/fn.yaml").write_text("config.kubernetes.io/function: [unclosed\n")
    assert uses_exec_functions(str(tmp_path / "overlay")) is True  # unknown: the standalone renders both
