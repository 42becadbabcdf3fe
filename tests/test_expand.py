"""expand on the example repository, through real kustomize (`krmfn build`): small edits, small diffs."""

from __future__ import annotations

import difflib
import shutil
import subprocess
from pathlib import Path

import pytest

import support
from krmfn.runtime import yamlio

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.e2e


def build(repo: Path, target: str) -> dict[tuple, dict]:
    proc = support.module("build", str(repo / target), timeout=120, text=False)
    assert proc.returncode == 0, proc.stderr.decode()
    return {(d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"]): d
            for d in yamlio.load_all(proc.stdout)}


def changed(before: dict, after: dict) -> list[tuple]:
    assert before.keys() == after.keys()
    return [key for key in before if before[key] != after[key]]


def leaf_diff(a, b, path="") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [p for k in sorted(set(a) | set(b)) for p in leaf_diff(a.get(k), b.get(k), f"{path}.{k}")]
    return [] if a == b else [path]


@pytest.fixture
def repo(tmp_path):
    for folder in ("base", "overlays", "vendor"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)  # the root error lines name paths from
    return tmp_path


def test_prompt_edit_changes_one_prompt_field(repo):
    before = build(repo, "overlays/dev")
    prompt = repo / "base/agents/prompts/platform-agents/supervisor.md"
    prompt.write_text(prompt.read_text().replace("combine their answers", "merge their answers"))
    after = build(repo, "overlays/dev")
    assert changed(before, after) == [("Agent", "platform-agents", "supervisor")]
    paths = leaf_diff(before[changed(before, after)[0]], after[changed(before, after)[0]])
    assert paths == [".metadata.annotations.krmfn.dev/prompt-digest", ".spec.declarative.systemMessage"]


def test_prompt_edit_in_configmap_mode_changes_the_prompt_configmap(repo):
    expand = repo / "overlays/dev/expand.yaml"
    expand.write_text(expand.read_text().replace("promptMode: Inline", "promptMode: ConfigMap"))
    before = build(repo, "overlays/dev")
    key = ("ConfigMap", "platform-agents", "supervisor-prompt")
    assert before[("Agent", "platform-agents", "supervisor")]["spec"]["declarative"]["systemMessageFrom"] == {
        "type": "ConfigMap", "name": "supervisor-prompt", "key": "system-message.md"}
    prompt = repo / "base/agents/prompts/platform-agents/supervisor.md"
    prompt.write_text(prompt.read_text() + "Be brief.\n")
    after = build(repo, "overlays/dev")
    assert after[key]["data"]["system-message.md"].endswith("Be brief.\n")
    # The ConfigMap's text changes; the Agent only carries the new digest (so pods roll).
    assert sorted(changed(before, after)) == [("Agent", "platform-agents", "supervisor"), key]
    assert leaf_diff(before[("Agent", "platform-agents", "supervisor")], after[("Agent", "platform-agents", "supervisor")]) \
        == [".metadata.annotations.krmfn.dev/prompt-digest"]


def test_tool_added_is_one_line_in_one_description(repo):
    before = build(repo, "overlays/dev")
    source = repo / "base/agents/k8s-readonly.yaml"
    old = source.read_text()
    new = old.replace("    - k8s_get_events\n", "    - k8s_get_events\n    - k8s_get_resource_yaml\n")
    source.write_text(new)
    delta = [l for l in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
             if l.startswith(("+", "-")) and not l.startswith(("+++", "---"))]
    assert delta == ["+    - k8s_get_resource_yaml"]
    after = build(repo, "overlays/dev")
    assert changed(before, after) == [("Agent", "platform-agents", "k8s-readonly")]
    tools = after[("Agent", "platform-agents", "k8s-readonly")]["spec"]["declarative"]["tools"][0]["mcpServer"]
    assert tools["toolNames"][-1] == "k8s_get_resource_yaml"


def test_unknown_tool_fails_the_build_with_one_line(repo):
    source = repo / "base/agents/k8s-readonly.yaml"
    source.write_text(source.read_text().replace("- k8s_get_events", "- k8s_get_event"))
    proc = support.module("build", str(repo / "overlays/dev"), timeout=120, text=False)
    assert proc.returncode == 1 and proc.stdout == b""
    ours = [l for l in proc.stderr.decode().splitlines() if l.startswith("[error] krmfn.dev")]
    assert ours == ["[error] krmfn.dev/v1alpha1/AgentDescription/platform-agents/k8s-readonly "
                    "spec.tools[0].allow[3]: tool 'k8s_get_event' is not in the catalog of server "
                    "platform-agents/kagent-tools; did you mean 'k8s_get_events'? (base/agents/k8s-readonly.yaml)"]
