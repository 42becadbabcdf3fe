"""The three ways in (KRM function, legacy exec plugin, standalone `krmfn run`) give one behaviour."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import support
from krmfn.runtime import files, yamlio

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "functions" / "expand" / "testdata" / "every-field"
FAILING = ROOT / "functions" / "expand" / "testdata" / "error-unknown-tool"


def krmfn(*args: str, stdin: bytes = b"", cwd: Path | None = None, env: dict | None = None):
    return support.module(*args, stdin=stdin, cwd=cwd or ROOT, env=env, timeout=60)


def krm_mode(case: Path) -> subprocess.CompletedProcess:
    config = yamlio.load_one((case / "config.yaml").read_bytes(), "config")
    items = yamlio.load_all((case / "input.yaml").read_bytes(), "input")
    rl = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items, "functionConfig": config}
    return krmfn(stdin=yamlio.dump(rl).encode())


def test_three_ways_in_agree_on_success():
    krm = krm_mode(CASE)
    assert krm.returncode == 0, krm.stderr
    krm_items = yamlio.load_one(krm.stdout, "krm")["items"]
    legacy = krmfn("legacy", str(CASE / "config.yaml"), stdin=(CASE / "input.yaml").read_bytes())
    assert legacy.returncode == 0, legacy.stderr
    standalone = krmfn("run", str(CASE / "config.yaml"), str(CASE / "input.yaml"))
    assert standalone.returncode == 0, standalone.stderr
    assert yamlio.load_all(legacy.stdout) == krm_items
    assert legacy.stdout == standalone.stdout == (CASE / "expected.yaml").read_bytes()
    assert krm.stderr == legacy.stderr == standalone.stderr


def test_three_ways_in_agree_on_failure():
    krm = krm_mode(FAILING)
    legacy = krmfn("legacy", str(FAILING / "config.yaml"), stdin=(FAILING / "input.yaml").read_bytes())
    expected = (FAILING / "expected-stderr.txt").read_bytes()
    assert krm.returncode == legacy.returncode == 1
    assert krm.stderr == legacy.stderr == expected
    assert legacy.stdout == b""  # kustomize must not read a partial stream
    standalone = krmfn("run", str(FAILING / "config.yaml"), str(FAILING / "input.yaml"))
    assert standalone.returncode == 1 and standalone.stdout == b""
    # run names the file each object came from, as the repository spells it
    where = f"({(FAILING / 'input.yaml').relative_to(ROOT)})"
    assert all(line.endswith(where) for line in standalone.stderr.decode().splitlines())


def test_run_reads_directories_and_strips_locations(tmp_path):
    (tmp_path / "agents").mkdir()
    for index, doc in enumerate(yamlio.load_all((CASE / "input.yaml").read_bytes())):
        (tmp_path / "agents" / f"{index:02d}.yaml").write_text(yamlio.dump(doc))
    proc = krmfn("run", str(CASE / "config.yaml"), str(tmp_path / "agents"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (CASE / "expected.yaml").read_bytes()
    assert b"config.kubernetes.io/path" not in proc.stdout


def test_run_with_resource_list_output_keeps_results():
    proc = krmfn("run", "--resource-list", str(FAILING / "config.yaml"), str(FAILING / "input.yaml"))
    doc = yamlio.load_one(proc.stdout, "out")
    assert proc.returncode == 1
    assert doc["results"][0]["file"] == {"path": str((FAILING / "input.yaml").relative_to(ROOT)), "index": 2}
    assert doc["results"][0]["field"] == {"path": "spec.tools[0].allow[0]"}


@pytest.mark.parametrize("args,fragment", [
    (["run", "/nonexistent.yaml"], "/nonexistent.yaml: No such file or directory"),
    (["run", str(CASE / "config.yaml"), "/nonexistent-dir"], "/nonexistent-dir: no such file or directory"),
    (["legacy", "/nonexistent.yaml"], "/nonexistent.yaml: No such file or directory"),
    (["legacy"], "expected the plugin config file"),
])
def test_bad_invocations_are_one_line(args, fragment):
    proc = krmfn(*args)
    lines = proc.stderr.decode().splitlines()
    assert proc.returncode == 1 and len(lines) == 1 and fragment in lines[0], proc.stderr


def test_run_refuses_a_file_that_is_not_krm(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("just: a map\n")
    proc = krmfn("run", str(CASE / "config.yaml"), str(bad))
    assert proc.returncode == 1
    assert proc.stderr.decode().strip() == f"[error] {bad}: document 1: not a Kubernetes object (apiVersion and kind are required)"


def test_install_plugins_writes_one_executable_per_kind(tmp_path):
    proc = krmfn("install-plugins", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    plugin = tmp_path / "krmfn.dev" / "v1alpha1" / "agentexpansion" / "AgentExpansion"
    assert plugin.exists() and os.access(plugin, os.X_OK)
    kinds = sorted(p.name for p in tmp_path.glob("krmfn.dev/v1alpha1/*/*"))
    assert kinds == ["AgentExpansion", "KagentConformance", "ModelEnvironment", "Pipeline", "ToolPolicy"]
    # the installed plugin really runs krmfn in legacy mode
    run = subprocess.run([str(plugin), str(CASE / "config.yaml")], input=(CASE / "input.yaml").read_bytes(),
                         capture_output=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout == (CASE / "expected.yaml").read_bytes()


def test_strip_locations_only_removes_what_run_added():
    item = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "annotations": {
        "config.kubernetes.io/path": "a.yaml", "internal.config.kubernetes.io/path": "a.yaml", "keep": "me"}}}
    assert files.strip_locations([item])[0]["metadata"]["annotations"] == {"keep": "me"}
