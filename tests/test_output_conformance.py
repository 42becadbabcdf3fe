"""What krmfn emits is what kagent accepts: every golden expected output, checked by the conformance
checker (`krmfn.conformance`) against the real kagent CRDs in ../shared/kagent-crds.

expand and environment build kagent objects as plain dicts (no typed models on the output path),
so this, with the property test's check of random pipelines (tests/test_properties.py), is what
proves their output valid: the schema and CEL rules of each kagent version the output targets, and
no CRD `default:` left for the API server to add (Git equals what the cluster stores).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from krmfn.kagent.defaults import crd_defaults_missing
from krmfn.runtime import yamlio

ROOT = Path(__file__).resolve().parents[1]
CRDS = ROOT.parent / "shared" / "kagent-crds"
V0_9, V0_10 = "v0.9.12", "v0.10.0-rc3"
# Defaults krmfn leaves to the server on purpose, only in output that must also serve v0.9.12: it
# has no openAI.apiFormat, so a ModelConfig for both lines cannot carry it (v0.10 adds it on a
# cluster that runs v0.10). Output for v0.10 alone (kagentVersion v0.10) writes it.
ALLOWED_MISSING_FOR_BOTH = {V0_9: set(), V0_10: {"spec.openAI.apiFormat"}, "main": {"spec.openAI.apiFormat"}}
_CACHE: dict[str, object] = {}


def crds(version: str):
    if not (CRDS / version).is_dir():
        pytest.skip(f"{CRDS / version} is absent: the kagent CRDs live in ../shared")
    if version not in _CACHE:
        from krmfn.conformance import load_crds

        _CACHE[version] = load_crds(str(CRDS / version))
    return _CACHE[version]


def golden_outputs() -> list[Path]:
    return sorted(ROOT.glob("functions/*/testdata/*/expected.yaml"))


def targets(case: Path) -> list[str]:
    """The kagent versions a case's output is for: the CRDs a KagentConformance case checks against,
    a ModelEnvironment's kagentVersion, else both 0.x lines."""
    config = yamlio.load_one((case / "config.yaml").read_bytes(), "config.yaml")
    spec = config.get("spec") or {}
    if config.get("kind") == "KagentConformance":
        return [Path(path).name for path in spec["crds"]]
    version = spec.get("kagentVersion") if config.get("kind") == "ModelEnvironment" else None
    if version is None:
        return [V0_9, V0_10]
    return [V0_10 if str(version).startswith("v0.10") else V0_9]


def kagent_objects(items: list[dict]) -> list[dict]:
    return [i for i in items if str(i.get("apiVersion", "")).split("/")[0] == "kagent.dev"]


def test_there_are_kagent_outputs_to_check():
    emitted = [o for path in golden_outputs()
               for o in kagent_objects(yamlio.load_all(path.read_bytes(), str(path)))]
    assert {o["kind"] for o in emitted} >= {"Agent", "ModelConfig", "RemoteMCPServer", "MCPServer"}


@pytest.mark.parametrize("path", golden_outputs(), ids=lambda p: f"{p.parts[-4]}/{p.parts[-2]}")
def test_every_golden_output_is_valid_kagent(path):
    from krmfn.conformance import validate_schemas

    objects = kagent_objects(yamlio.load_all(path.read_bytes(), str(path)))
    versions = targets(path.parent)
    for version in versions:
        index = crds(version)
        allowed = ALLOWED_MISSING_FOR_BOTH[version] if V0_9 in versions else set()
        problems = [r.line() for r in validate_schemas(objects, index) if r.is_error]
        assert problems == [], f"{version}: {problems}"
        for obj in objects:
            if (obj["metadata"].get("labels") or {}).get("app.kubernetes.io/managed-by") != "krmfn":
                continue  # hand-written objects passed through are not krmfn's to complete
            crd = index.validator(obj["apiVersion"], obj["kind"])
            missing = set(crd_defaults_missing(obj, crd.crd.schema)) - allowed
            assert not missing, f"{version}: {obj['kind']} {obj['metadata']['name']} leaves defaults to the server: {missing}"


def test_the_check_can_fail():
    """An emitted object broken as a builder bug would break it is refused."""
    from krmfn.conformance import validate_schemas

    path = ROOT / "functions/expand/testdata/every-field/expected.yaml"
    objects = kagent_objects(yamlio.load_all(path.read_bytes(), str(path)))
    agent = next(o for o in objects if o["kind"] == "Agent")
    agent["spec"]["declarative"]["tools"][0]["type"] = "Agent"  # mcpServer set on an Agent tool: a CEL rule
    assert [r for r in validate_schemas([agent], crds(V0_9)) if r.is_error]
