"""Exec functions under the standalone kustomize v5 (.tools/bin/kustomize5, built from
sigs.k8s.io/kustomize/kustomize/v5 as CI and the Argo CD sidecar run it) with --enable-exec:
byte-identical to the legacy plugins under kubectl kustomize, to kustomize 4.5.4's exec functions
and to `krmfn build`.
"""

from __future__ import annotations

import subprocess

import pytest

from cluster_tools import TARGETS, render as krmfn_build, tool
from kustomize_tools import Kustomize, kubectl_builds, render, require, standalone_kustomize

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def kustomize5() -> Kustomize:
    path = tool("kustomize5")
    version = subprocess.run([str(path), "version"], capture_output=True, text=True, timeout=30).stdout
    assert "v5.8.1" in version, version
    return Kustomize("kustomize-v5.8.1", (str(path),), True)


@pytest.fixture(scope="module")
def tmp(tmp_path_factory):
    return tmp_path_factory.mktemp("kustomize5")


@pytest.mark.parametrize("target", TARGETS)
def test_exec_functions_under_kustomize_v5_match_every_other_way_in(kustomize5, tmp, target):
    v5 = render(tmp, kustomize5, "exec", target)
    assert b"kind: Agent\n" in v5
    others = {"krmfn build": krmfn_build(target)}
    v4 = require(standalone_kustomize())
    others[f"{v4.name} exec"] = render(tmp, v4, "exec", target)
    for kubectl in require(kubectl_builds()):
        others[f"{kubectl.name} legacy"] = render(tmp, kubectl, "legacy", target)
    for name, out in others.items():
        assert out == v5, f"{name} differs from kustomize v5.8.1 --enable-exec for {target}"


def test_without_enable_exec_kustomize_v5_silently_skips_exec_functions(kustomize5, tmp):
    """Why --enable-exec must be set: without it kustomize v5.8.1, like kubectl kustomize, exits 0
    with the AgentDescriptions unexpanded. (So the renders above did run krmfn.)"""
    render(tmp, kustomize5, "exec", "overlays/dev")  # prepares the exec tree
    proc = subprocess.run([*kustomize5.argv, "build", "--enable-alpha-plugins", str(tmp / "repo-exec" / "overlays/dev")],
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"kind: AgentDescription\n" in proc.stdout and b"kind: Agent\n" not in proc.stdout
