"""`krmfn new agent`: a scaffolded agent renders through the real build; the kustomization keeps
its comments and order; a refusal writes nothing (installed script, in a copy of the repository)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

import support
from conftest import ROOT


@pytest.fixture
def repo(tmp_path) -> Path:
    for folder in ("base", "overlays", "vendor"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_new_agent_is_listed_and_renders(repo):
    kustomization = repo / "base" / "agents" / "kustomization.yaml"
    before = kustomization.read_text().splitlines()
    proc = support.installed("new", "agent", "cost-advisor", "--namespace", "platform-agents", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    proc = support.installed("new", "agent", "log-reader", "-n", "logging", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    after = kustomization.read_text().splitlines()
    remaining = iter(after)
    assert all(line in remaining for line in before), "an original line was lost or reordered"
    doc = yaml.safe_load(kustomization.read_text())
    assert doc["resources"][-2:] == ["cost-advisor.yaml", "log-reader.yaml"]
    files = {g["namespace"]: g["files"] for g in doc["configMapGenerator"]}
    assert "prompts/platform-agents/cost-advisor.md" in files["platform-agents"]
    assert files["logging"] == ["prompts/logging/log-reader.md"]
    render = support.installed("build", "overlays/dev", cwd=repo)
    assert render.returncode == 0, render.stderr
    agents = {(d["metadata"]["namespace"], d["metadata"]["name"]): d
              for d in yaml.safe_load_all(render.stdout) if d and d["kind"] == "Agent"}
    assert ("platform-agents", "cost-advisor") in agents and ("logging", "log-reader") in agents
    assert "You are cost-advisor." in agents[("platform-agents", "cost-advisor")]["spec"]["declarative"]["systemMessage"]


@pytest.mark.parametrize("args,fragment", [
    (["new", "agent", "k8s-readonly", "-n", "platform-agents"], "exists already"),
    (["new", "agent", "Bad_Name", "-n", "platform-agents"], "NAME 'Bad_Name'"),
    (["new", "agent", "x", "-n", "team", "--dir", "nowhere"], "nowhere/kustomization.yaml: no such file"),
])
def test_a_refusal_writes_nothing(repo, args, fragment):
    before = snapshot(repo)
    proc = support.installed(*args, cwd=repo)
    assert proc.returncode == 1 and fragment in proc.stderr and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert snapshot(repo) == before


def test_build_warns_about_a_description_no_kustomization_lists(repo):
    forgotten = repo / "base" / "agents" / "forgotten.yaml"
    forgotten.write_text((repo / "base" / "agents" / "k8s-readonly.yaml").read_text()
                         .replace("name: k8s-readonly", "name: forgotten"))
    proc = support.installed("build", "overlays/dev", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert "[warning] base/agents/forgotten.yaml: an AgentDescription no kustomization lists" in proc.stderr
    assert "forgotten" not in proc.stdout
    forgotten.unlink()
    assert "[warning]" not in support.installed("build", "overlays/dev", cwd=repo).stderr
