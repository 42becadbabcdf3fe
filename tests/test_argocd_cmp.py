"""The Argo CD config management plugin (argocd/plugin.yaml), run the way argocd-cmp-server runs it.

argocd-cmp-server execs `spec.generate.command + spec.generate.args` with the Application's
directory (inside its own copy of the repository) as working directory, and the sidecar's
environment plus the build environment (ARGOCD_APP_*, KUBE_VERSION, KUBE_API_VERSIONS), the
Application's plugin env as ARGOCD_ENV_<X> and its parameters as PARAM_<X>. stdout must be only
manifests; a non-zero exit fails the sync with stderr as the reason. Discovery runs
`spec.discover.find.command` the same way and matches when it prints something.

Here the commands run with a PATH holding only bash, python3, krmfn and one kustomize build: no
container engine (Argo CD has none). The `container` tests run them inside the real sidecar image.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from krmfn import __version__
from kustomize_tools import ROOT, VENV_BIN, kubectl_builds, render, require, standalone_kustomize

PLUGIN_FILE = ROOT / "argocd" / "plugin.yaml"
PATCH_FILE = ROOT / "argocd" / "repo-server-patch.yaml"
CMP_IMAGE = f"ghcr.io/krmfn-dev/krmfn-argocd-cmp:{__version__}"
ENGINES = ("docker", "podman", "nerdctl", "buildah", "ctr", "crictl")
TARGETS = ["base"] + sorted(f"overlays/{p.name}" for p in (ROOT / "overlays").glob("*")
                            if (p / "kustomization.yaml").exists())
FLAVORS = ["kustomize", "kubectl"]  # the sidecar's standalone kustomize, or only kubectl kustomize


def plugin() -> dict:
    return yaml.safe_load(PLUGIN_FILE.read_text())


def generate_argv() -> list[str]:
    spec = plugin()["spec"]["generate"]
    return [*spec["command"], *(spec.get("args") or [])]


def discover_argv() -> list[str]:
    spec = plugin()["spec"]["discover"]["find"]["command"]
    return [*spec["command"], *(spec.get("args") or [])] if isinstance(spec, dict) else list(spec)


# ---------------------------------------------------------------------------------------------
# the sidecar's world, on this machine


def sidecar_bin(tmp: Path, flavor: str) -> Path:
    """A PATH directory with what the sidecar image has: bash, python3 (krmfn's venv), krmfn, and
    a standalone kustomize or (flavor kubectl) only kubectl. No container engine."""
    bindir = tmp / f"sidecar-bin-{flavor}"
    if bindir.exists():
        return bindir
    bindir.mkdir(parents=True)
    (bindir / "bash").symlink_to(shutil.which("bash"))
    # a wrapper, not a symlink: the venv is found from the interpreter's own path
    (bindir / "python3").write_text(f"#!/bin/sh\nexec {VENV_BIN / 'python'} \"$@\"\n")
    (bindir / "python3").chmod(0o755)
    (bindir / "krmfn").symlink_to(VENV_BIN / "krmfn")
    if flavor == "kustomize":
        (bindir / "kustomize").symlink_to(require(standalone_kustomize()).argv[0])
    else:
        (bindir / "kubectl").symlink_to(require(kubectl_builds())[-1].argv[0])
    for engine in ENGINES:
        assert shutil.which(engine, path=str(bindir)) is None
    return bindir


def repo_copy(tmp: Path, name: str = "repo") -> Path:
    """The repository as the CMP server unpacks it (preserveFileMode: false: no executable files)."""
    repo = tmp / name
    for folder in ("base", "overlays", "vendor"):
        if (ROOT / folder).exists():
            shutil.copytree(ROOT / folder, repo / folder)
    for path in [repo, *repo.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return repo


def argocd_vars(source_path: str, **extra: str) -> dict[str, str]:
    """What Argo CD adds to the sidecar's environment for one Application."""
    env = {
        # the build environment
        "ARGOCD_APP_NAME": "agents-" + source_path.rsplit("/", 1)[-1].strip("."),
        "ARGOCD_APP_NAMESPACE": "argocd",
        "ARGOCD_APP_PROJECT_NAME": "platform",
        "ARGOCD_APP_REVISION": "4f0c3d1e5b2a69788c1d2e3f4a5b6c7d8e9f0a1b",
        "ARGOCD_APP_REVISION_SHORT": "4f0c3d1",
        "ARGOCD_APP_REVISION_SHORT_8": "4f0c3d1e",
        "ARGOCD_APP_SOURCE_PATH": source_path,
        "ARGOCD_APP_SOURCE_REPO_URL": "https://github.com/acme/agents.git",
        "ARGOCD_APP_SOURCE_TARGET_REVISION": "main",
        "KUBE_VERSION": "1.32.4",
        "KUBE_API_VERSIONS": "v1,apps/v1,batch/v1,kagent.dev/v1alpha1,kagent.dev/v1alpha2",
        # the Application's plugin env (prefixed by Argo CD) and its parameters
        "ARGOCD_ENV_TEAM": "platform",
        "ARGOCD_APP_PARAMETERS": "[]",
    }
    env.update(extra)
    params = [{"name": key[len("PARAM_"):].lower(), "string": value}
              for key, value in extra.items() if key.startswith("PARAM_")]
    if params:
        env["ARGOCD_APP_PARAMETERS"] = json.dumps(params)
    return env


def cmp_env(tmp: Path, bindir: Path, source_path: str, **extra: str) -> dict[str, str]:
    """The sidecar's own environment (nothing inherited from this machine) plus Argo CD's."""
    home = tmp / "home"
    (tmp / "tmp").mkdir(exist_ok=True)
    home.mkdir(exist_ok=True)
    return {"PATH": str(bindir), "HOME": str(home), "LANG": "C.UTF-8", "TMPDIR": str(tmp / "tmp"),
            "PYTHONDONTWRITEBYTECODE": "1", **argocd_vars(source_path, **extra)}


def run_cmp(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    for engine in ENGINES:
        assert shutil.which(engine, path=env["PATH"]) is None, f"{engine} is reachable"
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, timeout=300)


def manifests(stdout: bytes) -> list[dict]:
    """Parse stdout the way Argo CD does: a YAML stream of Kubernetes objects and nothing else."""
    text = stdout.decode()
    assert text.startswith(("apiVersion:", "kind:", "---")), f"stdout does not start with a manifest: {text[:80]!r}"
    docs = [d for d in yaml.safe_load_all(text) if d is not None]
    assert docs, "no manifests"
    for doc in docs:
        assert isinstance(doc, dict), f"not a Kubernetes object on stdout: {doc!r}"
        assert doc.get("apiVersion") and doc.get("kind") and doc.get("metadata", {}).get("name"), doc
    return docs


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Each target as the kustomize e2e renders it (kubectl kustomize v5.5, container stand-in)."""
    tmp = tmp_path_factory.mktemp("cmp-reference")
    kubectl = require(kubectl_builds())[0]
    return {target: render(tmp, kubectl, "container", target) for target in TARGETS}


# ---------------------------------------------------------------------------------------------
# the plugin definition


def test_plugin_definition():
    doc = plugin()
    assert doc["apiVersion"] == "argoproj.io/v1alpha1" and doc["kind"] == "ConfigManagementPlugin"
    assert doc["metadata"]["name"] == "krmfn"
    spec = doc["spec"]
    assert spec["preserveFileMode"] is False
    argv = generate_argv()
    assert argv[:4] == ["bash", "-o", "pipefail", "-c"], argv
    assert "krmfn build" in argv[4]
    # Argo CD evaluates the first of fileName / find.glob / find.command that is set: the content
    # check needs the command, so neither of the others may be set.
    discover = spec["discover"]
    assert "fileName" not in discover and "glob" not in discover["find"]
    assert discover_argv()
    params = {p["name"]: p for p in spec["parameters"]["static"]}
    assert params["overlay"]["required"] is False
    assert params["overlay"].get("collectionType", "string") == "string"
    assert "PARAM_OVERLAY" in argv[4] and "ARGOCD_ENV_KRMFN_OVERLAY" in argv[4]
    readme = (ROOT / "argocd" / "README.md").read_text()
    for documented in ("PARAM_OVERLAY", "ARGOCD_ENV_KRMFN_OVERLAY", "ARGOCD_ENV_", "repo-server-patch.yaml",
                       "plugin.yaml", "pipefail"):
        assert documented in readme, f"argocd/README.md does not document {documented}"


# ---------------------------------------------------------------------------------------------
# generate


@pytest.mark.parametrize("flavor", FLAVORS)
@pytest.mark.parametrize("target", TARGETS)
def test_generate_prints_only_manifests(tmp_path, reference, target, flavor):
    repo = repo_copy(tmp_path)
    env = cmp_env(tmp_path, sidecar_bin(tmp_path, flavor), target, PARAM_OVERLAY=".")
    proc = run_cmp(generate_argv(), repo / target, env)
    assert proc.returncode == 0, proc.stderr.decode()
    docs = manifests(proc.stdout)
    assert proc.stdout == reference[target], "the plugin's render differs from the kustomize e2e render"
    assert any(d["kind"] == "Agent" for d in docs)
    assert not [d for d in docs if str(d["apiVersion"]).startswith("krmfn.dev/")]
    assert b"[error]" not in proc.stderr
    assert not list(repo.rglob("*.pyc")) and not (repo / target / "rendered").exists(), "the checkout was written to"


@pytest.mark.parametrize("how", ["PARAM_OVERLAY", "ARGOCD_ENV_KRMFN_OVERLAY"])
def test_generate_selects_the_overlay(tmp_path, reference, how):
    """An Application at the repository root selects the environment with the `overlay` parameter
    (or the plugin env KRMFN_OVERLAY); the parameter wins over the env."""
    target = TARGETS[-1]
    repo = repo_copy(tmp_path)
    extra = {how: target}
    if how == "PARAM_OVERLAY":
        extra["ARGOCD_ENV_KRMFN_OVERLAY"] = "does/not/exist"
    env = cmp_env(tmp_path, sidecar_bin(tmp_path, "kustomize"), ".", **extra)
    proc = run_cmp(generate_argv(), repo, env)
    assert proc.returncode == 0, proc.stderr.decode()
    manifests(proc.stdout)
    assert proc.stdout == reference[target]


@pytest.mark.parametrize("overlay", ["../..", "/etc", "overlays/../../x", "-h", "does/not/exist"])
def test_generate_refuses_bad_overlays(tmp_path, overlay):
    repo = repo_copy(tmp_path)
    env = cmp_env(tmp_path, sidecar_bin(tmp_path, "kustomize"), ".", PARAM_OVERLAY=overlay)
    proc = run_cmp(generate_argv(), repo, env)
    assert proc.returncode != 0
    assert proc.stdout == b""
    assert b"[error]" in proc.stderr


def break_k8s_readonly(repo: Path, tool: str) -> None:
    path = repo / "base" / "agents" / "k8s-readonly.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["spec"]["tools"][0]["allow"].append(tool)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


@pytest.mark.parametrize("flavor", FLAVORS)
def test_generate_fails_on_unknown_tool(tmp_path, flavor):
    """A broken description: non-zero exit, the reason on stderr, nothing at all on stdout."""
    repo = repo_copy(tmp_path)
    break_k8s_readonly(repo, "k8s_frobnicate")
    target = TARGETS[-1]
    env = cmp_env(tmp_path, sidecar_bin(tmp_path, flavor), target)
    proc = run_cmp(generate_argv(), repo / target, env)
    assert proc.returncode != 0
    assert proc.stdout == b""
    stderr = proc.stderr.decode()
    assert "k8s_frobnicate" in stderr and "[error]" in stderr, stderr


def prod_has_policy() -> bool:
    prod = ROOT / "overlays" / "prod"
    return prod.is_dir() and any("kind: ToolPolicy" in p.read_text() for p in prod.rglob("*.yaml"))


@pytest.mark.skipif(not prod_has_policy(), reason="overlays/prod has no ToolPolicy yet")
def test_generate_fails_on_policy_violation_in_prod(tmp_path):
    """prod's policy refuses a destructive tool granted without approval: the sync must fail."""
    repo = repo_copy(tmp_path)
    break_k8s_readonly(repo, "k8s_delete_resource")  # destructive in the kagent tool server catalog
    env = cmp_env(tmp_path, sidecar_bin(tmp_path, "kustomize"), "overlays/prod")
    proc = run_cmp(generate_argv(), repo / "overlays" / "prod", env)
    assert proc.returncode != 0
    assert proc.stdout == b""
    stderr = proc.stderr.decode()
    assert "k8s_delete_resource" in stderr and "[error]" in stderr, stderr


@pytest.mark.parametrize("flavor", FLAVORS)
def test_generate_runs_conformance_and_names_the_users_file(tmp_path, flavor):
    """Issue 17: prod's conformance stage runs in the sidecar on the vendored CRDs (no mount), and
    its line names the catalog field and file as the repository spells them (no .git arrives:
    the root is where ARGOCD_APP_SOURCE_PATH starts)."""
    if not (ROOT / "vendor/kagent-crds/v0.10.0-rc3/kagent.dev_agents.yaml").exists():
        pytest.skip("vendor/kagent-crds is empty: scripts/setup copies the CRDs from ../shared (absent here)")
    repo = repo_copy(tmp_path)
    catalog = repo / "base" / "agents" / "catalog.yaml"
    catalog.write_text(catalog.read_text().replace("name: billing-api-token, key: authorization", "name: billing-api-tokn, key: authorization"))
    env = cmp_env(tmp_path, sidecar_bin(tmp_path, flavor), "overlays/prod")
    proc = run_cmp(generate_argv(), repo / "overlays" / "prod", env)
    assert proc.returncode != 0 and proc.stdout == b""
    assert proc.stderr.decode().splitlines()[0] == (
        '[error] kagent.dev/v1alpha2/RemoteMCPServer/platform-agents/billing-api-v1-4-2 spec.headersFrom[0].valueFrom.name: '
        'Secret "billing-api-tokn" not found in namespace "platform-agents": it is neither in the rendered output '
        'nor declared external; from krmfn.dev/v1alpha1/ToolCatalog/tools spec.servers[2].remote.headersFrom[0].valueFrom.name '
        '(base/agents/catalog.yaml)'), proc.stderr.decode()


def test_generate_refuses_an_empty_render(tmp_path):
    """A kustomization that renders nothing must not reach an auto-pruning Application."""
    app = tmp_path / "repo" / "empty"
    app.mkdir(parents=True)
    (app / "kustomization.yaml").write_text("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n")
    env = cmp_env(tmp_path, sidecar_bin(tmp_path, "kustomize"), "empty")
    proc = run_cmp(generate_argv(), app, env)
    assert proc.returncode != 0 and proc.stdout == b""
    assert b"no resources" in proc.stderr


# ---------------------------------------------------------------------------------------------
# discover


def discover(tmp_path: Path, app: Path, source_path: str) -> subprocess.CompletedProcess:
    env = cmp_env(tmp_path, sidecar_bin(tmp_path, "kustomize"), source_path)
    return run_cmp(discover_argv(), app, env)


@pytest.mark.parametrize("target", TARGETS)
def test_discover_matches_the_example_repo(tmp_path, target):
    repo = repo_copy(tmp_path)
    proc = discover(tmp_path, repo / target, target)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.strip(), f"discover does not match {target}"


PLAIN_KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- configmap.yaml
- ../shared
"""


@pytest.mark.parametrize("layout", ["plain-kustomization", "no-kustomization", "krmfn-file-not-referenced"])
def test_discover_ignores_other_apps(tmp_path, layout):
    app = tmp_path / "repo" / "apps" / "web"
    app.mkdir(parents=True)
    (tmp_path / "repo" / "apps" / "shared").mkdir()
    (tmp_path / "repo" / "apps" / "shared" / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n")
    (app / "configmap.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n")
    if layout != "no-kustomization":
        (app / "kustomization.yaml").write_text(PLAIN_KUSTOMIZATION)
    if layout == "krmfn-file-not-referenced":
        (app / "notes.yaml").write_text("apiVersion: krmfn.dev/v1alpha1\nkind: AgentDescription\n")
    proc = discover(tmp_path, app, "apps/web")
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == b"", f"discover matched a {layout} app: {proc.stdout!r}"


def test_discover_survives_a_broken_kustomization(tmp_path):
    app = tmp_path / "repo" / "bad"
    app.mkdir(parents=True)
    (app / "kustomization.yaml").write_text("resources: [unclosed\n")
    proc = discover(tmp_path, app, "bad")
    assert proc.returncode == 0 and proc.stdout == b""


# ---------------------------------------------------------------------------------------------
# the repo-server patch


def test_repo_server_patch(tmp_path):
    patch = yaml.safe_load(PATCH_FILE.read_text())
    assert patch["kind"] == "Deployment" and patch["metadata"]["name"] == "argocd-repo-server"
    pod = patch["spec"]["template"]["spec"]
    (sidecar,) = pod["containers"]
    assert sidecar["image"] == CMP_IMAGE
    assert sidecar["command"] == ["/var/run/argocd/argocd-cmp-server"]
    assert sidecar["securityContext"]["runAsUser"] == 999 and sidecar["securityContext"]["runAsNonRoot"] is True
    mounts = {m["name"]: m["mountPath"] for m in sidecar["volumeMounts"]}
    assert mounts["var-files"] == "/var/run/argocd"
    assert mounts["plugins"] == "/home/argocd/cmp-server/plugins"
    tmp_volume = next(name for name, path in mounts.items() if path == "/tmp")
    assert {"name": tmp_volume, "emptyDir": {}} in pod["volumes"]

    # It is a valid strategic-merge patch for the stock Deployment: kustomize applies it.
    stock = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "argocd-repo-server"},
        "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": "argocd-repo-server"}},
                 "template": {"metadata": {"labels": {"app.kubernetes.io/name": "argocd-repo-server"}},
                              "spec": {"containers": [{"name": "argocd-repo-server", "image": "quay.io/argoproj/argocd:v3.1.0",
                                                       "volumeMounts": [{"name": "var-files", "mountPath": "/var/run/argocd"},
                                                                        {"name": "plugins", "mountPath": "/home/argocd/cmp-server/plugins"}]}],
                                       "volumes": [{"name": "var-files", "emptyDir": {}},
                                                   {"name": "plugins", "emptyDir": {}},
                                                   {"name": "tmp", "emptyDir": {}}]}}}}
    (tmp_path / "install.yaml").write_text(yaml.safe_dump(stock))
    shutil.copy(PATCH_FILE, tmp_path / "repo-server-patch.yaml")
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [install.yaml]\npatches:\n- path: repo-server-patch.yaml\n")
    kubectl = require(kubectl_builds())[0]
    proc = subprocess.run([*kubectl.argv, "kustomize", str(tmp_path)], capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    merged = yaml.safe_load(proc.stdout)["spec"]["template"]["spec"]
    assert [c["name"] for c in merged["containers"]] == ["krmfn", "argocd-repo-server"] or \
        sorted(c["name"] for c in merged["containers"]) == ["argocd-repo-server", "krmfn"]
    assert {v["name"] for v in merged["volumes"]} == {"var-files", "plugins", "tmp", tmp_volume}


# ---------------------------------------------------------------------------------------------
# inside the real sidecar image (container tier)


@pytest.fixture(scope="module")
def sidecar_image():
    from test_container import require_podman

    require_podman()
    return CMP_IMAGE


def sidecar_run(repo: Path, workdir: str, argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """The generate command in the sidecar image as Argo CD runs it: uid 999, read-only root,
    /tmp an executable emptyDir, no network, no container engine inside."""
    envs = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
    return subprocess.run(["podman", "run", "--rm", "--network", "none", "--user", "999", "--read-only",
                           "--tmpfs", "/tmp:rw,exec,mode=1777", "--security-opt=no-new-privileges", "--cap-drop=all",
                           "-v", f"{repo}:/repo:Z", "-w", f"/repo/{workdir}", *envs, CMP_IMAGE, *argv],
                          capture_output=True, timeout=300)


@pytest.mark.container
def test_sidecar_image_bakes_this_plugin(sidecar_image):
    proc = subprocess.run(["podman", "run", "--rm", "--network", "none", "--entrypoint", "cat", sidecar_image,
                           "/home/argocd/cmp-server/config/plugin.yaml"], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == PLUGIN_FILE.read_bytes()
    probe = subprocess.run(["podman", "run", "--rm", "--network", "none", "--entrypoint", "bash", sidecar_image,
                            "-c", "id -u; for e in docker podman nerdctl; do command -v $e && echo FOUND; done; "
                                  "kustomize version; krmfn --version"], capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.splitlines()[0] == "999" and "FOUND" not in probe.stdout
    assert f"krmfn {__version__}" in probe.stdout


@pytest.mark.container
@pytest.mark.parametrize("target", TARGETS)
def test_generate_inside_the_sidecar_image(sidecar_image, tmp_path, reference, target):
    repo = repo_copy(tmp_path)
    proc = sidecar_run(repo, target, generate_argv(), argocd_vars(target))
    assert proc.returncode == 0, proc.stderr.decode()
    manifests(proc.stdout)
    assert proc.stdout == reference[target]
    found = discover_argv()
    disc = sidecar_run(repo, target, found, argocd_vars(target))
    assert disc.returncode == 0 and disc.stdout.strip(), disc.stderr.decode()


@pytest.mark.container
def test_generate_failure_inside_the_sidecar_image(sidecar_image, tmp_path):
    repo = repo_copy(tmp_path)
    tool = "k8s_delete_resource" if prod_has_policy() else "k8s_frobnicate"
    target = "overlays/prod" if prod_has_policy() else TARGETS[-1]
    break_k8s_readonly(repo, tool)
    for path in [repo, *repo.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    proc = sidecar_run(repo, target, generate_argv(), argocd_vars(target))
    assert proc.returncode != 0
    assert proc.stdout == b""
    assert tool.encode() in proc.stderr and b"[error]" in proc.stderr, proc.stderr.decode()
