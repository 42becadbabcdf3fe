"""base/ (and every overlay) through real kustomize builds, in every function mode.

The three kustomize builds and the three ways in must give byte-identical output.
"""

from __future__ import annotations


import pytest

from kustomize_tools import ROOT, kubectl_builds, render, require, standalone_kustomize, step_by_step_tree

pytestmark = pytest.mark.e2e

TARGETS = ["base"] + sorted(f"overlays/{p.name}" for p in (ROOT / "overlays").glob("*") if (p / "kustomization.yaml").exists())


@pytest.fixture(scope="module")
def renders(tmp_path_factory):
    """Every (kustomize build, mode) render of every target."""
    tmp = tmp_path_factory.mktemp("e2e")
    out: dict[tuple[str, str, str], bytes] = {}
    for kubectl in require(kubectl_builds()):
        for mode in ("container", "legacy"):
            for target in TARGETS:
                out[(kubectl.name, mode, target)] = render(tmp, kubectl, mode, target)
    standalone = require(standalone_kustomize())
    for target in TARGETS:
        out[(standalone.name, "exec", target)] = render(tmp, standalone, "exec", target)
    return out


@pytest.fixture(scope="module")
def step_by_step(tmp_path_factory):
    """The same targets with every Pipeline undone into one transformer per stage."""
    tmp = tmp_path_factory.mktemp("steps")
    kubectl = require(kubectl_builds())[0]
    standalone = require(standalone_kustomize())
    out: dict[tuple[str, str, str], bytes] = {}
    for target in TARGETS:
        out[(kubectl.name, "container", target)] = render(tmp, kubectl, "container", target,
                                                          tree=step_by_step_tree(tmp, "container"))
        out[(standalone.name, "exec", target)] = render(tmp, standalone, "exec", target,
                                                        tree=step_by_step_tree(tmp, "exec"))
    return out


@pytest.mark.parametrize("target", TARGETS)
def test_the_pipeline_render_is_the_step_by_step_render(renders, step_by_step, target):
    for key, steps in step_by_step.items():
        if key[2] == target:
            assert renders[key] == steps, f"{key}: the Pipeline render differs from the step-by-step render"


def test_the_example_overlays_use_the_pipeline():
    from kustomize_tools import pipeline, transformer_configs

    for target in TARGETS:
        assert [c["kind"] for c in transformer_configs(target)] == ["Pipeline"], target
        assert [c["kind"] for c in pipeline(target)][:2] == ["AgentExpansion", "ModelEnvironment"], target


@pytest.mark.parametrize("target", TARGETS)
def test_all_builds_and_modes_agree(renders, target):
    outputs = {key: value for key, value in renders.items() if key[2] == target}
    assert len(outputs) >= 5
    reference_key = next(iter(outputs))
    for key, value in outputs.items():
        assert value == outputs[reference_key], f"{key} differs from {reference_key}"


@pytest.mark.parametrize("target", TARGETS)
def test_render_is_expanded(renders, target):
    from krmfn.runtime import yamlio

    docs = yamlio.load_all(next(v for k, v in renders.items() if k[2] == target))
    kinds = {d["kind"] for d in docs}
    assert "Agent" in kinds
    assert not [d for d in docs if d["apiVersion"].startswith("krmfn.dev/")], "descriptions leaked"
    agents = {d["metadata"]["name"] for d in docs if d["kind"] == "Agent"}
    assert agents == {"k8s-readonly", "promql-agent", "supervisor", "billing-assistant"}
