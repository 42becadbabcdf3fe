"""kpt (the machine's /usr/bin/kpt, 1.0.0-beta): `kpt fn render` with a Kptfile pipeline and
`kpt fn eval --exec`, function by function, give the same objects as the kustomize render; the
policy (ToolPolicy) and conformance (KagentConformance) functions are real kpt validators there.

A target's kpt package holds what kustomize feeds its transformers (the target built with its
`transformers:` removed) and the target's function configs, each run as the exec function
`krmfn`, in kustomize's order; a KagentConformance validator checks the result against the CRDs.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from cluster_tools import DEFAULT_KAGENT_VERSION, KUBECTL, ROOT, TARGETS, crd_dir, missing, render
from kustomize_tools import FUNCTION_ANNOTATION, krmfn_bin, pipeline
from krmfn.runtime import yamlio

pytestmark = pytest.mark.cluster

KPT = Path("/usr/bin/kpt")
EXTERNAL = ["Secret/*/openai-api-key", "Secret/*/anthropic-api-key", "Secret/*/billing-api-token"]
VALIDATOR_KINDS = ("ToolPolicy", "KagentConformance")
LOCAL = "config.kubernetes.io/local-config"


def kpt() -> str:
    if not KPT.exists() and shutil.which("kpt") is None:
        missing("kpt is not installed (preinstalled at /usr/bin/kpt on the test machines)")
    return str(KPT) if KPT.exists() else shutil.which("kpt")


def transformer_input(target: str, tmp: Path) -> list[dict]:
    """What kustomize hands the target's first transformer: the target built without them."""
    tree = tmp / "plain"
    if not tree.exists():
        for folder in ("base", "overlays", "vendor"):
            shutil.copytree(ROOT / folder, tree / folder)
    kustomization = tree / target / "kustomization.yaml"
    doc = yamlio.load_one(kustomization.read_text(), str(kustomization))
    doc.pop("transformers", None)
    kustomization.write_text(yamlio.dump(doc))
    proc = subprocess.run([str(KUBECTL), "kustomize", str(tree / target)], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    return yamlio.load_all(proc.stdout)


def conformance_config(external: list[str], kagent_version: str = DEFAULT_KAGENT_VERSION) -> dict:
    return {"apiVersion": "krmfn.dev/v1alpha1", "kind": "KagentConformance",
            "metadata": {"name": "conformance", "annotations": {LOCAL: "true"}},
            "spec": {"crds": [str(crd_dir(kagent_version))], "external": external}}


def declared_kagent(stages: list[dict]) -> str:
    """The kagent the target's ModelEnvironment declares (prod: v0.10.0-rc3)."""
    return next((c.get("spec", {}).get("kagentVersion") for c in stages if c["kind"] == "ModelEnvironment"
                 and c.get("spec", {}).get("kagentVersion")), DEFAULT_KAGENT_VERSION)


def function_configs(target: str, external: list[str] = EXTERNAL) -> list[dict]:
    configs = []
    # An overlay's own conformance stage reads the vendored CRDs its kustomization lists (kustomize
    # input, not a kpt package's): under kpt the CRDs come from spec.crds instead.
    stages = [c for c in pipeline(target) if c["kind"] != "KagentConformance"]
    for config in stages + [conformance_config(external, declared_kagent(stages))]:
        config = yamlio.load_one(yamlio.dump(config), "config")  # a copy
        annotations = config["metadata"].setdefault("annotations", {})
        annotations.pop(FUNCTION_ANNOTATION, None)
        annotations[LOCAL] = "true"  # a kpt functionConfig is not one of the package's resources
        configs.append(config)
    return configs


def make_package(tmp: Path, name: str, items: list[dict], configs: list[dict], krmfn: Path) -> Path:
    pkg = tmp / name
    (pkg / "fn").mkdir(parents=True)
    (pkg / "resources.yaml").write_text(yamlio.dump_all(items))
    mutators, validators = [], []
    for i, config in enumerate(configs):
        path = f"fn/{i:02d}-{config['kind'].lower()}.yaml"
        (pkg / path).write_text(yamlio.dump(config))
        step = {"exec": str(krmfn), "configPath": path}
        (validators if config["kind"] in VALIDATOR_KINDS else mutators).append(step)
    kptfile = {"apiVersion": "kpt.dev/v1", "kind": "Kptfile",
               "metadata": {"name": name, "annotations": {LOCAL: "true"}},
               "pipeline": {"mutators": mutators, "validators": validators}}
    (pkg / "Kptfile").write_text(yamlio.dump(kptfile))
    return pkg


def package_objects(pkg: Path) -> list[dict]:
    """The package's resources, without kpt's bookkeeping annotations and local config."""
    out = []
    for path in sorted(pkg.rglob("*.yaml")):
        if path.name == "Kptfile" or path.parent.name == "fn":
            continue
        for doc in yamlio.load_all(path.read_text(), str(path)):
            out.append(doc)
    return normalized(out)


def normalized(docs: list[dict]) -> list[dict]:
    out = []
    for doc in docs:
        annotations = doc.get("metadata", {}).get("annotations") or {}
        if annotations.get(LOCAL) == "true":
            continue
        for key in list(annotations):
            if key.startswith(("config.kubernetes.io/", "internal.config.kubernetes.io/", "kpt.dev/")):
                del annotations[key]
        if "annotations" in doc.get("metadata", {}) and not annotations:
            del doc["metadata"]["annotations"]
        out.append(doc)
    return sorted(out, key=lambda d: (d["apiVersion"], d["kind"], d["metadata"].get("namespace", ""),
                                      d["metadata"]["name"]))


@pytest.fixture(scope="module")
def krmfn(tmp_path_factory) -> Path:
    return krmfn_bin(tmp_path_factory.mktemp("kpt-krmfn")) / "krmfn"


@pytest.mark.parametrize("target", TARGETS)
def test_kpt_fn_render_gives_the_kustomize_objects(target, krmfn, tmp_path):
    expected = normalized(yamlio.load_all(render(target)))
    pkg = make_package(tmp_path, "pkg", transformer_input(target, tmp_path), function_configs(target), krmfn)
    proc = subprocess.run([kpt(), "fn", "render", str(pkg), "--allow-exec", "--truncate-output=false"],
                          capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    got = package_objects(pkg)
    assert [d["kind"] for d in got] == [d["kind"] for d in expected]
    assert got == expected


@pytest.mark.parametrize("target", TARGETS)
def test_kpt_fn_eval_exec_gives_the_kustomize_objects(target, krmfn, tmp_path):
    expected = normalized(yamlio.load_all(render(target)))
    configs = function_configs(target)
    pkg = make_package(tmp_path, "pkg", transformer_input(target, tmp_path), configs, krmfn)
    for i, config in enumerate(configs):
        config_path = pkg / "fn" / f"{i:02d}-{config['kind'].lower()}.yaml"
        proc = subprocess.run([kpt(), "fn", "eval", str(pkg), "--exec", str(krmfn), "--fn-config", str(config_path),
                               "--truncate-output=false"], capture_output=True, timeout=300)
        assert proc.returncode == 0, f"{config['kind']}: {proc.stderr.decode()}"
    assert package_objects(pkg) == expected


def _failing(pkg: Path) -> subprocess.CompletedProcess:
    before = {p: p.read_bytes() for p in sorted(pkg.rglob("*")) if p.is_file()}
    proc = subprocess.run([kpt(), "fn", "render", str(pkg), "--allow-exec", "--truncate-output=false"],
                          capture_output=True, timeout=300)
    assert proc.returncode != 0, "kpt fn render succeeded although a validator should fail it"
    after = {p: p.read_bytes() for p in sorted(pkg.rglob("*")) if p.is_file()}
    assert after == before, "a failed render must leave the package as it was"
    return proc


def test_a_violated_tool_policy_fails_kpt_fn_render(krmfn, tmp_path):
    target = "overlays/prod"
    configs = function_configs(target)
    policy = next(c for c in configs if c["kind"] == "ToolPolicy")
    policy["spec"]["rules"].append({"name": "read-only-everywhere", "description": "nothing but reads",
                                    "allowedRisks": ["read"]})
    pkg = make_package(tmp_path, "pkg", transformer_input(target, tmp_path), configs, krmfn)
    proc = _failing(pkg)
    assert "read-only-everywhere" in proc.stderr.decode()


def test_a_failed_conformance_check_fails_kpt_fn_render(krmfn, tmp_path):
    target = "overlays/dev"
    # the billing API token Secret is created outside the repository: undeclared, it is an error
    configs = function_configs(target, external=[e for e in EXTERNAL if "billing" not in e])
    pkg = make_package(tmp_path, "pkg", transformer_input(target, tmp_path), configs, krmfn)
    proc = _failing(pkg)
    assert '[error] kagent.dev/v1alpha2/RemoteMCPServer/platform-agents/billing-api' in proc.stderr.decode()
    assert 'Secret \\"billing-api-token\\" not found' in proc.stderr.decode() or \
        'Secret "billing-api-token" not found' in proc.stderr.decode()
