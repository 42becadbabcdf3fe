"""`krmfn render-changed`: which overlays a set of changed files can change (what the pre-commit
hook renders). The renders themselves run through real kustomize in test_ci_assets' hook tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from krmfn import cli
from krmfn.commands.render_changed import affected, overlays_matching, reads

ROOT = Path(__file__).resolve().parents[1]


def kustomization(directory: Path, text: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "kustomization.yaml").write_text(text)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    kustomization(tmp_path / "base/agents", "resources: [agent.yaml]\n")
    kustomization(tmp_path / "base/functions", "resources: [expand.yaml]\n")
    kustomization(tmp_path / "shared/policy", "resources: [policy.yaml]\n")
    kustomization(tmp_path / "overlays/dev", "resources: [../../base/agents]\ntransformers: [../../base/functions]\n")
    kustomization(tmp_path / "overlays/prod",
                  "resources:\n- ../../base/agents\n- https://github.com/acme/remote//base?ref=v1\n"
                  "transformers:\n- ../../base/functions\n- ../../shared/policy\n- |-\n  apiVersion: v1\n  kind: X\n")
    kustomization(tmp_path / "overlays/loop", "resources: [../loop-peer]\n")
    kustomization(tmp_path / "overlays/loop-peer", "resources: [../loop]\n")
    (tmp_path / "overlays/notes").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_an_overlay_reads_its_local_kustomizations_transitively(repo):
    assert reads("overlays/prod") == {"overlays/prod", "base/agents", "base/functions", "shared/policy"}
    assert reads("overlays/loop") == {"overlays/loop", "overlays/loop-peer"}  # a cycle ends


def test_overlays_are_the_globs_kustomization_directories_in_order(repo):
    assert overlays_matching(["overlays/*"]) == ["overlays/dev", "overlays/loop", "overlays/loop-peer",
                                                 "overlays/prod"]
    assert overlays_matching(["overlays/prod", "overlays/*"])[0] == "overlays/prod"


@pytest.mark.parametrize("files,expected", [
    (["shared/policy/policy.yaml"], ["overlays/prod"]),
    (["overlays/dev/patch.yaml"], ["overlays/dev"]),
    (["base/agents/agent.yaml"], ["overlays/dev", "overlays/prod"]),
    (["./base/functions/../functions/expand.yaml"], ["overlays/dev", "overlays/prod"]),
    (["README.md"], ["overlays/dev", "overlays/prod"]),  # read by no overlay we know of: all
    ([], ["overlays/dev", "overlays/prod"]),
])
def test_files_select_the_overlays_that_read_them(repo, files, expected):
    assert affected(["overlays/dev", "overlays/prod"], files) == expected


def test_no_matching_kustomization_is_one_clear_line(repo, capsys):
    assert cli.main(["render-changed", "--overlays", "clusters/*"]) == 1
    assert capsys.readouterr().err == "[error] krmfn-render: no kustomization matches clusters/*\n"


def test_a_broken_kustomization_is_left_to_the_build(repo):
    (repo / "base/agents/kustomization.yaml").write_text("resources: [unclosed\n")
    assert reads("overlays/dev") == {"overlays/dev", "base/agents", "base/functions"}
    assert os.path.isdir("overlays/dev")
