"""`krmfn validate` as CI calls it: --external, including `*` for a name (installed script)."""

from __future__ import annotations

import pytest
import yaml

import support
from conftest import SHARED

CRDS = SHARED / "kagent-crds" / "v0.10.0-rc3"
pytestmark = pytest.mark.skipif(not CRDS.is_dir(), reason=f"{CRDS} is absent: the kagent CRDs live in ../shared")


def model_config(secret: str) -> dict:
    return {"apiVersion": "kagent.dev/v1alpha2", "kind": "ModelConfig", "metadata": {"name": "m", "namespace": "team"},
            "spec": {"provider": "OpenAI", "model": "gpt-4.1", "apiKeySecret": secret, "apiKeySecretKey": "key",
                     "openAI": {}}}


@pytest.mark.parametrize("external,code", [([], 1), (["Secret/team/openai"], 0), (["Secret/*/*"], 0),
                                           (["Secret/team/*"], 0), (["Secret/other/*"], 1)])
def test_external_names_what_exists_outside_the_render(external, code, tmp_path):
    (tmp_path / "render.yaml").write_text(yaml.safe_dump(model_config("openai")))
    args = [a for e in external for a in ("--external", e)]
    proc = support.installed("validate", "--crds", str(CRDS), *args, str(tmp_path / "render.yaml"))
    assert proc.returncode == code, proc.stderr
    if code:
        assert 'Secret "openai" not found in namespace "team"' in proc.stderr


def test_a_malformed_external_is_reported_against_the_flag(tmp_path):
    (tmp_path / "render.yaml").write_text(yaml.safe_dump(model_config("openai")))
    proc = support.installed("validate", "--crds", str(CRDS), "--external", "Secret/x", str(tmp_path / "render.yaml"))
    assert proc.returncode == 1
    assert proc.stderr.startswith("[error] --external 'Secret/x': write KIND/NAMESPACE/NAME") and "spec." not in proc.stderr
