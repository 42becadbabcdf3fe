"""The release machinery: the workflow's version check, and a wheel that installs and works.

`python -m build` builds the wheel and the sdist exactly as .github/workflows/release.yaml does;
the wheel is installed into a fresh virtual environment (its dependencies from PyPI) and every
command is run from there, outside the checkout, so a module or data file missing from the
package fails here and not on a user's machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, SHARED

WORKFLOW = ROOT / ".github" / "workflows" / "release.yaml"


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def version_step() -> str:
    [step] = [s for s in workflow()["jobs"]["version"]["steps"] if s.get("id") == "check"]
    return step["run"]


def test_the_release_runs_on_version_tags_and_builds_both_image_targets():
    doc = workflow()
    assert doc[True]["push"]["tags"] == ["v*"]  # YAML reads the key `on` as true
    targets = {m["target"] for m in doc["jobs"]["images"]["strategy"]["matrix"]["include"]}
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert targets == {"function", "argocd-cmp"}
    assert all(f" AS {t}\n" in dockerfile for t in targets)
    push = next(s for s in doc["jobs"]["images"]["steps"] if s.get("id") == "push")["with"]
    assert push["provenance"] == "mode=max" and push["sbom"] is True
    assert doc["jobs"]["pypi"]["permissions"] == {"id-token": "write"}  # trusted publishing, no token


@pytest.mark.parametrize("tag,ok", [("v0.1.0", True), ("v0.1.1", False), ("0.1.0", False)])
def test_the_version_check_runs_as_written(tag, ok, tmp_path):
    from krmfn import __version__

    tag = tag.replace("0.1.0", __version__)
    out = tmp_path / "output"
    proc = subprocess.run(["bash", "-c", version_step()], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "GITHUB_REF_NAME": tag, "GITHUB_OUTPUT": str(out)})
    assert (proc.returncode == 0) == ok, proc.stdout + proc.stderr
    if ok:
        assert out.read_text() == f"version={__version__}\n"
    else:
        assert "::error::" in proc.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """krmfn from its own wheel, in a fresh virtual environment: the path of its bin/."""
    dist = tmp_path_factory.mktemp("dist")
    build = subprocess.run([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    [wheel] = dist.glob("krmfn-*.whl")
    [sdist] = dist.glob("krmfn-*.tar.gz")
    names = zipfile.ZipFile(wheel).namelist()
    assert "krmfn/data/kagent-tool-server.yaml" in names and any(n.endswith("LICENSE") for n in names)
    assert not any(n.startswith("tests/") for n in names)
    with tarfile.open(sdist) as tar:
        assert any(n.endswith("/LICENSE") for n in tar.getnames())
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                          "--disable-pip-version-check", str(wheel)], capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stderr[-3000:]
    return venv / "bin"


def run(bin_dir: Path, *args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    return subprocess.run([str(bin_dir / "krmfn"), *args], cwd=cwd, env=env, input=stdin,
                          capture_output=True, text=True, timeout=300)


def test_the_wheel_runs_every_command(installed, tmp_path):
    # run outside the checkout: nothing may come from the source tree
    examples = ROOT / "functions"
    assert run(installed, "--version", cwd=tmp_path).stdout.startswith("krmfn ")
    kinds = run(installed, "kinds", cwd=tmp_path).stdout
    assert all(k in kinds for k in ("AgentExpansion", "ModelEnvironment", "ToolPolicy", "KagentConformance", "Pipeline"))
    expanded = run(installed, "run", str(examples / "expand/example/expand.yaml"),
                   str(examples / "expand/example/agents.yaml"), cwd=tmp_path)
    assert expanded.returncode == 0 and "kind: Agent" in expanded.stdout, expanded.stderr
    policy = run(installed, "run", str(examples / "policy/example/policy.yaml"),
                 str(examples / "policy/example/agents.yaml"), cwd=tmp_path)
    assert policy.returncode == 1 and "rule " in policy.stderr
    (tmp_path / "render.yaml").write_text(expanded.stdout)
    graph = run(installed, "graph", "render.yaml", cwd=tmp_path)
    assert graph.returncode == 0 and graph.stdout.startswith("flowchart"), graph.stderr
    diff = run(installed, "diff", "render.yaml", "render.yaml", cwd=tmp_path)
    assert diff.returncode == 0, diff.stderr
    if (SHARED / "kagent-crds").is_dir():
        validate = run(installed, "validate", "--crds", str(SHARED / "kagent-crds" / "v0.10.0-rc3"),
                       "--no-references", "render.yaml", cwd=tmp_path)
        assert validate.returncode == 0, validate.stderr
    plugins = run(installed, "install-plugins", str(tmp_path / "plugins"), cwd=tmp_path)
    assert plugins.returncode == 0, plugins.stderr
    assert (tmp_path / "plugins" / "krmfn.dev" / "v1alpha1" / "agentexpansion" / "AgentExpansion").exists()
    build = run(installed, "build", str(ROOT / "overlays" / "dev"), cwd=tmp_path)
    assert build.returncode == 0 and "kind: Agent" in build.stdout, build.stderr[-2000:]
