"""Issue 17: conformance where renders run, and errors that name the user's own files.

The prod overlays list the vendored kagent CRDs (vendor/kagent-crds/<version>, filled by
scripts/setup from ../shared) as resources marked local-config; their Pipeline's conformance
stage reads them as its schema. A broken reference in base/agents must fail the prod render in
every kustomize build and mode, in `krmfn build` (what Argo CD and CI run), with a line naming
the object the user edited, its field and its file.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from kustomize_tools import (ROOT, Kustomize, build_failure, kubectl_builds, prepare_tree, render, require,
                             standalone_kustomize)
import support

pytestmark = pytest.mark.e2e

VENDORED = {"overlays/prod": "v0.10.0-rc3", "overlays/prod-kagent-1.0": "v1.0"}
BROKEN_SECRET = ('[error] kagent.dev/v1alpha2/RemoteMCPServer/platform-agents/billing-api-v1-4-2 spec.headersFrom[0].valueFrom.name: '
                 'Secret "billing-api-tokn" not found in namespace "platform-agents": it is neither in the rendered '
                 'output nor declared external')
FROM_CATALOG = "; from krmfn.dev/v1alpha1/ToolCatalog/tools spec.servers[2].remote.headersFrom[0].valueFrom.name"


def vendored_or_skip() -> None:
    for version in VENDORED.values():
        folder = ROOT / "vendor" / "kagent-crds" / version
        listed = (folder / "kustomization.yaml").read_text()
        missing = [line[2:] for line in listed.splitlines() if line.startswith("- ") and not (folder / line[2:]).exists()]
        if missing:
            pytest.skip(f"vendor/kagent-crds/{version} lacks {missing[0]}: scripts/setup copies the CRDs from "
                        "../shared/kagent-crds (absent here)")


def kustomize5() -> Kustomize | None:
    path = ROOT / ".tools" / "bin" / "kustomize5"
    return Kustomize("kustomize-v5.8.1", (str(path),), True) if path.exists() else None


def break_catalog(tree: Path) -> None:
    catalog = tree / "base/agents/catalog.yaml"
    text = catalog.read_text()
    assert "name: billing-api-token, key: authorization" in text
    catalog.write_text(text.replace("name: billing-api-token, key: authorization", "name: billing-api-tokn, key: authorization"))


def repo_copy(tmp: Path) -> Path:
    repo = tmp / "repo"
    for folder in ("base", "overlays", "vendor"):
        shutil.copytree(ROOT / folder, repo / folder)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)  # the root lines name paths from
    return repo


def krmfn_build(directory: Path, *args: str) -> subprocess.CompletedProcess:
    return support.installed("build", *args, str(directory), cwd=directory)


# ---------------------------------------------------------------------------------------------


def test_the_prod_overlays_conform_to_vendored_crds_kept_out_of_git():
    from kustomize_tools import pipeline

    for target, version in VENDORED.items():
        assert [c["kind"] for c in pipeline(target)][-1] == "KagentConformance", target
        kustomization = (ROOT / target / "kustomization.yaml").read_text()
        assert f"- ../../vendor/kagent-crds/{version}" in kustomization
        assert "config.kubernetes.io/local-config: \"true\"" in kustomization  # marked in the overlay itself
    tracked = subprocess.run(["git", "ls-files", "vendor"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert sorted(tracked.stdout.split()) == ["vendor/kagent-crds/README.md",
                                              "vendor/kagent-crds/v0.10.0-rc3/kustomization.yaml",
                                              "vendor/kagent-crds/v1.0/kustomization.yaml"]
    for version in VENDORED.values():
        crd = next((ROOT / "vendor/kagent-crds" / version).glob("*kagent.dev_agents.yaml"), None)
        if crd is not None:  # filled by scripts/setup: ignored, never committed
            ignored = subprocess.run(["git", "check-ignore", "-q", str(crd)], cwd=ROOT)
            assert ignored.returncode == 0, f"{crd} is not gitignored"


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """Each (build, mode) render of overlays/prod with a catalog whose Secret reference is broken:
    only the conformance stage can see it (the Secret is neither rendered nor declared external)."""
    vendored_or_skip()
    tmp = tmp_path_factory.mktemp("broken")
    runs = [(k, mode) for k in require(kubectl_builds()) for mode in ("container", "legacy")]
    runs += [(k, "exec") for k in (require(standalone_kustomize()), kustomize5()) if k is not None]
    for mode in {mode for _, mode in runs}:
        break_catalog(prepare_tree(tmp, mode))
    return {(k.name, mode): build_failure(tmp, k, mode, "overlays/prod") for k, mode in runs}


def test_a_broken_reference_fails_the_prod_render_in_every_kustomize_build_and_mode(broken):
    assert len(broken) >= 5  # kubectl 5.5 and 5.8 (container, legacy), kustomize 4.5.4 (exec)
    for key, failure in broken.items():
        lines = str(failure).splitlines()
        assert any(BROKEN_SECRET in line for line in lines), (key, str(failure)[-1500:])  # klog may indent it


def test_under_kustomize_origin_annotations_name_the_catalog_file(tmp_path):
    """With `buildMetadata: [originAnnotations]` in the overlay, plain kustomize hands the functions
    each item's origin: the line names the catalog field and the file, relative to the overlay."""
    vendored_or_skip()
    builds = [(k, "container") for k in require(kubectl_builds())] + [(require(standalone_kustomize()), "exec")]
    for kustomize, mode in builds:
        tmp = tmp_path / f"{kustomize.name}-{mode}"
        tree = prepare_tree(tmp, mode)
        break_catalog(tree)
        with open(tree / "overlays/prod/kustomization.yaml", "a") as handle:
            handle.write("buildMetadata: [originAnnotations]\n")
        failure = str(build_failure(tmp, kustomize, mode, "overlays/prod"))
        assert BROKEN_SECRET + FROM_CATALOG + " (../../base/agents/catalog.yaml)" in failure.splitlines(), \
            (kustomize.name, failure[-1500:])


def test_krmfn_build_names_the_field_and_file_the_user_edited(tmp_path):
    vendored_or_skip()
    repo = repo_copy(tmp_path)
    break_catalog(repo)
    supervisor = repo / "base/agents/supervisor.yaml"
    supervisor.write_text(supervisor.read_text().replace("  - promql-agent\n", "  - promql-agnet\n"))
    proc = krmfn_build(repo / "overlays/prod")
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.splitlines()[0] == (
        "[error] krmfn.dev/v1alpha1/AgentDescription/platform-agents/supervisor spec.delegates[1]: agent "
        "platform-agents/promql-agnet does not exist; did you mean 'platform-agents/promql-agent'? "
        "(base/agents/supervisor.yaml)")
    supervisor.write_text((ROOT / "base/agents/supervisor.yaml").read_text())  # now only the Secret is broken
    for directory, args in ((repo / "overlays/prod", ()), (repo, ("--kustomize", str(require(standalone_kustomize()).argv[0])))):
        target = directory if directory.name == "prod" else directory / "overlays/prod"
        proc = support.installed("build", *args, str(target.relative_to(directory)) if args else ".", cwd=directory)
        assert proc.returncode == 1 and proc.stdout == ""
        assert proc.stderr.splitlines()[0] == BROKEN_SECRET + FROM_CATALOG + " (base/agents/catalog.yaml)", proc.stderr
        assert "krmfn-root" not in proc.stderr and "/tmp" not in proc.stderr  # krmfn's own root stays hidden


def test_an_environment_error_names_the_environment_file(tmp_path):
    vendored_or_skip()
    repo = repo_copy(tmp_path)
    environment = repo / "overlays/prod/environment.yaml"
    text = environment.read_text()
    environment.write_text(text.replace("      model: claude-sonnet-4-5\n      apiKeySecret: {name: anthropic-api-key,",
                                        "      model: claude-sonnet-4-5\n      apiKeySecret: {name: anthropic-api-kee,"))
    proc = krmfn_build(repo / "overlays/prod")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.splitlines()[0] == (
        '[error] kagent.dev/v1alpha2/ModelConfig/platform-agents/model-standard spec.apiKeySecret: Secret '
        '"anthropic-api-kee" not found in namespace "platform-agents": it is neither in the rendered output nor '
        'declared external; from krmfn.dev/v1alpha1/ModelEnvironment/prod spec.tiers.standard.apiKeySecret '
        '(overlays/prod/environment.yaml)')


def test_a_kagent_1_0_grant_names_the_description_field(tmp_path):
    vendored_or_skip()
    repo = repo_copy(tmp_path)
    source = repo / "base/agents/billing-assistant.yaml"
    source.write_text(source.read_text().replace("    - issue_refund\n    requireApproval:",
                                                 "    - issue_refund\n    - delete_customer\n    requireApproval:"))
    proc = krmfn_build(repo / "overlays/prod-kagent-1.0")
    errors = [line for line in proc.stderr.splitlines() if line.startswith("[error] api.kagent.dev")]
    assert proc.returncode == 1 and errors, proc.stderr
    for line in errors:
        assert line.endswith("; from krmfn.dev/v1alpha1/AgentDescription/platform-agents/billing-assistant "
                             "spec.tools[0].allow[4] (base/agents/billing-assistant.yaml)"), line


def test_krmfn_build_is_the_plain_kustomize_render_byte_for_byte(tmp_path):
    """krmfn build asks kustomize for origins through a root of its own and strips them again."""
    vendored_or_skip()
    kubectl = require(kubectl_builds())[0]
    for target in ["base", *sorted(f"overlays/{p.name}" for p in (ROOT / "overlays").iterdir())]:
        plain = render(tmp_path, kubectl, "container", target)
        built = krmfn_build(ROOT / target)
        assert built.returncode == 0, built.stderr
        assert built.stdout.encode() == plain, target
        assert b"config.kubernetes.io/origin" not in plain and b"CustomResourceDefinition" not in plain


def test_an_overlay_that_asks_for_origins_keeps_them(tmp_path):
    repo = repo_copy(tmp_path)
    with open(repo / "overlays/dev/kustomization.yaml", "a") as handle:
        handle.write("buildMetadata: [originAnnotations]\n")
    proc = krmfn_build(repo / "overlays/dev")
    assert proc.returncode == 0, proc.stderr
    assert "config.kubernetes.io/origin: |\n      path: ../../base/agents/namespaces.yaml" in proc.stdout


def test_missing_vendored_crds_are_one_line(tmp_path):
    repo = repo_copy(tmp_path)
    for crd in (repo / "vendor/kagent-crds/v0.10.0-rc3").glob("kagent.dev_*.yaml"):
        crd.unlink()
    proc = krmfn_build(repo / "overlays/prod")
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "[error] vendor/kagent-crds/v0.10.0-rc3/kustomization.yaml resources[0]: kagent.dev_agents.yaml does not "
        "exist: vendor kagent's CRD chart there (vendor/kagent-crds/README.md)"], proc.stderr
    shutil.rmtree(repo / "vendor")
    proc = krmfn_build(repo / "overlays/prod")
    assert proc.returncode == 1 and proc.stdout == "" and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith("[error] overlays/prod/kustomization.yaml resources[5]: "
                                  "../../vendor/kagent-crds/v0.10.0-rc3 does not exist"), proc.stderr


def test_a_catalog_schema_error_does_not_cascade_to_its_users(tmp_path):
    """A ToolCatalog with a schema error made every description using its servers report them as
    "not in any ToolCatalog": one error, reported where it is, in its file."""
    repo = repo_copy(tmp_path)
    catalog = repo / "base/agents/catalog.yaml"
    catalog.write_text(catalog.read_text().replace("      create_annotation: write", "      create_annotation: wrote"))
    proc = krmfn_build(repo / "overlays/dev")
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[:-1] == [  # grafana-mcp lists create_annotation in both its versions
        f"[error] krmfn.dev/v1alpha1/ToolCatalog/tools spec.servers[1].versions[{i}].tools.create_annotation: Input "
        "should be 'read', 'write' or 'destructive' (got 'wrote') (base/agents/catalog.yaml)" for i in (0, 1)], \
        proc.stderr


def test_krmfn_run_names_the_description_and_its_file():
    case = ROOT / "functions/pipeline/testdata/error-stage-fails"
    proc = support.installed("run", str(case / "config.yaml"), str(case / "input.yaml"))
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "[error] kagent.dev/v1alpha2/Agent/platform-agents/k8s-readonly spec.declarative.tools: rule at-most-two-tools: "
        "3 tools (3 MCP tools, 0 agents) exceed the maximum of 2 for agent k8s-readonly; from "
        "krmfn.dev/v1alpha1/AgentDescription/platform-agents/k8s-readonly spec.tools "
        "(functions/pipeline/testdata/error-stage-fails/input.yaml)"]
