"""krmfn's YAML as Go's YAML 1.1 readers take it (sigs.k8s.io/yaml: kubectl apply -f, kubectl-validate).

go-yaml v2 reads plain y, Y, n, N (and yes/no/on/off) as booleans: ModelConfig `openAI.n: 1`
written plain reaches the API server as `false: 1`. kubectl-validate reads the YAML krmfn wrote.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

import cluster_tools
from krmfn.runtime import yamlio

pytestmark = pytest.mark.cluster


def test_a_ys_and_ns_are_written_so_go_reads_them_as_strings(tmp_path):
    config = {"apiVersion": "kagent.dev/v1alpha2", "kind": "ModelConfig", "metadata": {"name": "m", "namespace": "n"},
              "spec": {"provider": "OpenAI", "model": "gpt-4.1", "apiKeySecret": "k", "apiKeySecretKey": "key",
                       "openAI": {"n": 2}}}
    text = yamlio.dump_all([config])
    assert "'n': 2" in text
    def verdict(yaml_text: str) -> str:
        path = tmp_path / "render.yaml"
        path.write_text(yaml_text)
        proc = subprocess.run([str(cluster_tools.tool("kubectl-validate")), "--local-crds",
                               str(cluster_tools.crd_dir("v0.10.0-rc3")), "--version", cluster_tools.KUBE_VERSION,
                               "-o", "json", str(path)], capture_output=True, text=True, timeout=300,
                              env={**os.environ, "KUBECONFIG": str(tmp_path / "none")})
        [status] = next(iter(json.loads(proc.stdout).values()))
        return status.get("status")

    assert verdict(text) == "Success"
    # the same text with the key plain is what Go misreads: the proof that the quoting matters
    assert verdict(text.replace("'n': 2", "n: 2")) == "Failure"
