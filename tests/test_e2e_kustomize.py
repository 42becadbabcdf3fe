"""base/ (and every overlay) through real kustomize builds, in every function mode.

The three kustomize builds and the three ways in must give byte-identical output.
"""

from __future__ import annotations


import pytest

from kustomize_tools import ROOT, kubectl_builds, render, require, standalone_kustomize

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
