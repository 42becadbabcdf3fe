"""The CI rendering step (.github/workflows/krmfn-render.yaml) and the pre-commit hook
(.pre-commit-hooks.yaml): parsed and checked, then their shell really run here.

The workflow's `run:` scripts are executed the way GitHub runs a `shell: bash` step
(`bash --noprofile --norc -eo pipefail FILE`), in a copy of the repository, with the step's `env:`
(its `${{ }}` expressions evaluated for the inputs' defaults) and the variables a runner sets
(GITHUB_STEP_SUMMARY, GITHUB_OUTPUT, RUNNER_TEMP, ...). The steps before them (checkout, setup-python,
pip install krmfn, kustomize download) are what this machine already has: the venv and .tools/bin.
The hook's entry is run as pre-commit runs it: shlex-split entry + args + staged file names.
"""

from __future__ import annotations

import importlib
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from krmfn import cli
from kustomize_tools import ROOT, VENV_BIN, kubectl_builds, render, require, standalone_kustomize

WORKFLOW_FILE = ROOT / ".github" / "workflows" / "krmfn-render.yaml"
HOOKS_FILE = ROOT / ".pre-commit-hooks.yaml"
OVERLAYS = sorted(f"overlays/{p.name}" for p in (ROOT / "overlays").glob("*") if (p / "kustomization.yaml").exists())
TARGETS = ["base"] + OVERLAYS
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW_FILE.read_text())


def triggers(doc: dict) -> dict:
    return doc.get("on", doc.get(True))  # YAML 1.1 reads the key `on` as true


def steps() -> list[dict]:
    return workflow()["jobs"]["render"]["steps"]


def step(step_id: str) -> dict:
    return next(s for s in steps() if s.get("id") == step_id)


def hooks() -> list[dict]:
    return yaml.safe_load(HOOKS_FILE.read_text())


def hook_argv() -> list[str]:
    (hook,) = [h for h in hooks() if h["id"] == "krmfn-render"]
    return shlex.split(hook["entry"])


# ---------------------------------------------------------------------------------------------
# structure


def test_workflow_is_reusable_with_documented_inputs():
    doc = workflow()
    call = triggers(doc)["workflow_call"]
    inputs = call["inputs"]
    for name in ("overlays", "krmfn-package", "python-version", "kustomize-version", "kustomize-sha256",
                 "native", "fail-on", "summary", "comment"):
        assert name in inputs, f"input {name} missing"
    for name, spec in inputs.items():
        assert spec.get("type") in ("string", "boolean", "number"), name
        assert "default" in spec and not spec.get("required"), f"input {name} needs a default"
    assert inputs["overlays"]["default"] == "overlays/*"
    assert inputs["comment"]["default"] is False
    assert re.fullmatch(r"[0-9a-f]{64}", inputs["kustomize-sha256"]["default"])
    job = doc["jobs"]["render"]
    assert job["runs-on"]
    uses = [s.get("uses", "").split("@")[0] for s in job["steps"]]
    assert "actions/checkout" in uses and "actions/setup-python" in uses and "actions/github-script" in uses
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0, "krmfn diff needs the base revision"
    runs = "\n".join(s.get("run", "") for s in job["steps"])
    assert "pip install" in runs and "sha256sum -c" in runs
    assert "krmfn build" in step("render")["run"] and "GITHUB_STEP_SUMMARY" in step("render")["run"]
    review = step("review")["run"]
    assert re.search(r"krmfn diff\b", review) and '--git "$BASE_SHA..$HEAD_SHA"' in review
    assert "--format markdown" in review and "GITHUB_STEP_SUMMARY" in review


def test_no_expression_is_spliced_into_a_script():
    """Inputs and event data reach the shell only through env: (no script injection)."""
    for s in steps():
        assert "${{" not in s.get("run", ""), f"step {s.get('name')} splices an expression into its script"
        if "github-script" in s.get("uses", ""):
            assert "${{" not in s["with"]["script"]


OTHER_PROGRAMS_OPTIONS = {"--disable-pip-version-check", "--quiet", "--retry", "--noprofile", "--norc"}


def test_the_commands_they_run_exist():
    """Every `krmfn SUB` the workflow and the hook run is a krmfn subcommand of this build, and
    every long option in those scripts is one of those subcommands' options."""
    scripts = {f"workflow step {s.get('name')}": s["run"] for s in steps() if "run" in s}
    scripts["pre-commit hook krmfn-render"] = " ".join(hook_argv())
    seen = set()
    for where, script in scripts.items():
        # `krmfn SUB` in command position (not in messages, titles or summaries)
        subcommands = set(re.findall(r"(?:^|[;&|(!]|\bthen|\bif|\belif)\s*krmfn ([a-z][a-z-]*)", script, re.M))
        subcommands |= set(re.findall(r'"-m", "krmfn", "([a-z][a-z-]*)"', script))  # python: krmfn as a module
        if not subcommands:
            continue
        helps = ""
        for sub in sorted(subcommands):
            assert sub in cli.COMMANDS, f"{where}: `krmfn {sub}` is not a krmfn subcommand"
            module, attr = cli.COMMANDS[sub]
            assert callable(getattr(importlib.import_module(module), attr)), f"{where}: krmfn {sub} is not available"
            proc = subprocess.run([sys.executable, "-m", "krmfn", sub, "--help"], capture_output=True, text=True,
                                  timeout=60)
            assert proc.returncode == 0, proc.stderr
            helps += proc.stdout
            seen.add(sub)
        options = set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", script)) - OTHER_PROGRAMS_OPTIONS
        for option in sorted(options):
            assert option in helps, f"{where}: {option} is not an option of krmfn {sorted(subcommands)}"
    assert {"build", "diff", "render-changed"} <= seen


def test_pre_commit_hook_definition():
    (hook,) = hooks()
    assert hook["id"] == "krmfn-render" and hook["language"] == "python"
    for key in ("name", "entry", "description"):
        assert hook[key]
    assert hook.get("pass_filenames", True) is True and hook["require_serial"] is True
    assert hook_argv() == ["krmfn", "render-changed"]
    # pre-commit installs the hook repository with pip: it must be an installable package
    assert (ROOT / "pyproject.toml").exists() and "krmfn" in (ROOT / "pyproject.toml").read_text()


# ---------------------------------------------------------------------------------------------
# running the workflow's scripts


def test_build_mode_env_is_honoured(tmp_path):
    """The workflow sets KRMFN_BUILD_MODE=native for every krmfn build, also those krmfn diff runs."""
    refuse = tmp_path / "refuse"
    refuse.mkdir()
    (refuse / "docker").write_text("#!/bin/sh\necho 'engine used' >&2\nexit 7\n")  # `docker info` fails too
    (refuse / "docker").chmod(0o755)
    env = {"PATH": os.pathsep.join([str(refuse), tools_path()]), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    argv = [str(VENV_BIN / "krmfn"), "build", "-o", os.devnull, str(ROOT / "base")]
    native = subprocess.run(argv, env={**env, "KRMFN_BUILD_MODE": "native"}, capture_output=True, text=True)
    assert native.returncode == 0, native.stderr
    containers = subprocess.run(argv, env={**env, "KRMFN_BUILD_MODE": "containers"}, capture_output=True, text=True)
    assert containers.returncode != 0 and "engine used" in containers.stderr
    bogus = subprocess.run(argv, env={**env, "KRMFN_BUILD_MODE": "bogus"}, capture_output=True, text=True)
    assert bogus.returncode == 1 and "KRMFN_BUILD_MODE" in bogus.stderr




def tools_path() -> str:
    """What the steps before the render step put on PATH: python with krmfn, and a kustomize."""
    kustomize = require(standalone_kustomize())
    return os.pathsep.join([str(VENV_BIN), str(Path(kustomize.argv[0]).parent), os.environ.get("PATH", "")])


def repo_copy(tmp: Path) -> Path:
    repo = tmp / "workspace"
    for folder in ("base", "overlays", "vendor"):
        if (ROOT / folder).exists():
            shutil.copytree(ROOT / folder, repo / folder)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)  # actions/checkout gives a work tree
    return repo


def evaluate(expression: str, context: dict[str, str]) -> str:
    """The few expressions the workflow's env: uses, with the inputs' defaults."""
    if expression not in context:
        raise AssertionError(f"the test does not know the expression ${{{{ {expression} }}}}: add it to the context")
    return context[expression]


def run_step(step_id: str, workspace: Path, tmp: Path, **overrides: str) -> tuple[subprocess.CompletedProcess, dict]:
    """Run a `run:` step as GitHub would; returns the process and the runner files it wrote."""
    doc = workflow()
    inputs = triggers(doc)["workflow_call"]["inputs"]
    runner_temp = tmp / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    files = {name: tmp / f"{name}.txt" for name in ("summary", "output", "path")}
    for path in files.values():
        path.touch()
    context = {f"inputs.{name}": ("true" if spec["default"] is True else "false" if spec["default"] is False
                                  else str(spec["default"])) for name, spec in inputs.items()}
    context.update({
        "runner.temp": str(runner_temp),
        "inputs.native && 'native' || 'auto'": "native" if inputs["native"]["default"] else "auto",
        "github.event.pull_request.base.sha || github.event.before": "",
        "github.sha": "",
        "steps.render.outputs.overlays": "",
    })
    context.update({key: value for key, value in overrides.items() if "." in key})
    env = {
        "PATH": tools_path(), "HOME": str(tmp), "LANG": "C.UTF-8",
        "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(workspace), "RUNNER_TEMP": str(runner_temp),
        "RUNNER_OS": "Linux", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_REPOSITORY": "acme/agents",
        "GITHUB_STEP_SUMMARY": str(files["summary"]), "GITHUB_OUTPUT": str(files["output"]),
        "GITHUB_PATH": str(files["path"]),
    }
    job = doc["jobs"]["render"]
    for scope in (job.get("env") or {}, step(step_id).get("env") or {}):
        for key, value in scope.items():
            env[key] = EXPRESSION.sub(lambda m: evaluate(m.group(1), context), str(value))
    env.update({key: value for key, value in overrides.items() if "." not in key})
    assert job["defaults"]["run"]["shell"] == "bash"
    script = tmp / f"{step_id}.sh"
    script.write_text(step(step_id)["run"])
    workdir = workspace / EXPRESSION.sub(lambda m: evaluate(m.group(1), context),
                                         job["defaults"]["run"]["working-directory"])
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=600)
    outputs = dict(line.split("=", 1) for line in files["output"].read_text().splitlines() if "=" in line)
    return proc, {"summary": files["summary"].read_text(), "outputs": outputs, "env": env}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ci-reference")
    kubectl = require(kubectl_builds())[0]
    return {target: render(tmp, kubectl, "container", target) for target in TARGETS}


def test_render_step_renders_every_overlay(tmp_path, reference):
    workspace = repo_copy(tmp_path)
    proc, runner = run_step("render", workspace, tmp_path, **{"inputs.overlays": "base overlays/*"})
    assert proc.returncode == 0, proc.stderr
    assert runner["outputs"]["failed"] == "0"
    assert runner["outputs"]["overlays"].split() == TARGETS
    assert "## krmfn render" in runner["summary"]
    rendered = Path(runner["env"]["RENDER_DIR"])
    for target in TARGETS:
        assert re.search(rf"\| `{re.escape(target)}` \| :white_check_mark: rendered \| \d+ \| 4 \|", runner["summary"]), \
            runner["summary"]
        out = rendered / (target.replace("/", "_") + ".yaml")
        assert out.read_bytes() == reference[target], f"{target}: the CI render differs from the kustomize e2e render"
    assert "::error" not in proc.stdout


def test_render_step_default_input_is_every_overlay(tmp_path):
    if not OVERLAYS:
        pytest.skip("no overlays in this repository yet")
    workspace = repo_copy(tmp_path)
    proc, runner = run_step("render", workspace, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert runner["outputs"]["overlays"].split() == OVERLAYS


def break_k8s_readonly(workspace: Path, tool: str) -> None:
    path = workspace / "base" / "agents" / "k8s-readonly.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["spec"]["tools"][0]["allow"].append(tool)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def test_render_step_fails_on_errors_with_annotations(tmp_path):
    workspace = repo_copy(tmp_path)
    break_k8s_readonly(workspace, "k8s_frobnicate")
    target = TARGETS[-1]
    proc, runner = run_step("render", workspace, tmp_path, **{"inputs.overlays": target})
    assert proc.returncode == 1
    assert runner["outputs"]["failed"] == "1" and runner["outputs"]["overlays"] == ""
    annotations = [line for line in proc.stdout.splitlines() if line.startswith("::error ")]
    # on the file the line names, relative to the repository root, so GitHub shows it on the diff
    assert any(line.startswith(f"::error file=base/agents/k8s-readonly.yaml,title=krmfn build {target}::[error]")
               and "k8s_frobnicate" in line for line in annotations), proc.stdout
    assert any(line.startswith(f"::error title=krmfn build {target}::[error] kustomize build")
               for line in annotations), proc.stdout  # a line naming no file stays a plain annotation
    assert f"| `{target}` | :x: failed |" in runner["summary"]
    assert "k8s_frobnicate" in runner["summary"]
    assert not list(Path(runner["env"]["RENDER_DIR"]).glob("*.yaml")), "a failed render left a manifest file"


def prod_has_policy() -> bool:
    prod = ROOT / "overlays" / "prod"
    return prod.is_dir() and any("kind: ToolPolicy" in p.read_text() for p in prod.rglob("*.yaml"))


@pytest.mark.skipif(not prod_has_policy() or "overlays/dev" not in OVERLAYS, reason="needs overlays/dev and prod's ToolPolicy")
def test_render_step_policy_failure_fails_only_that_overlay(tmp_path):
    workspace = repo_copy(tmp_path)
    break_k8s_readonly(workspace, "k8s_delete_resource")  # destructive, granted without approval
    proc, runner = run_step("render", workspace, tmp_path, **{"inputs.overlays": "overlays/dev overlays/prod"})
    assert proc.returncode == 1
    assert runner["outputs"]["overlays"] == "overlays/dev" and runner["outputs"]["failed"] == "1"
    assert "| `overlays/prod` | :x: failed |" in runner["summary"]
    assert any("title=krmfn build overlays/prod::" in line and "k8s_delete_resource" in line
               for line in proc.stdout.splitlines()), proc.stdout


def test_render_step_annotates_a_broken_reference_on_the_catalog(tmp_path):
    """Issue 17: prod's conformance stage (vendored CRDs) fails a broken Secret reference, and the
    annotation lands on base/agents/catalog.yaml, the file the user edits."""
    if not (ROOT / "vendor/kagent-crds/v0.10.0-rc3/kagent.dev_agents.yaml").exists():
        pytest.skip("vendor/kagent-crds is empty: scripts/setup copies the CRDs from ../shared (absent here)")
    workspace = repo_copy(tmp_path)
    catalog = workspace / "base/agents/catalog.yaml"
    catalog.write_text(catalog.read_text().replace("name: billing-api-token, key: authorization", "name: billing-api-tokn, key: authorization"))
    proc, runner = run_step("render", workspace, tmp_path, **{"inputs.overlays": "overlays/prod"})
    assert proc.returncode == 1
    assert any(line.startswith("::error file=base/agents/catalog.yaml,title=krmfn build overlays/prod::[error] "
                               "kagent.dev/v1alpha2/RemoteMCPServer/platform-agents/billing-api-v1-4-2 spec.headersFrom[0].valueFrom.name")
               and "from krmfn.dev/v1alpha1/ToolCatalog/tools spec.servers[2].remote.headersFrom[0].valueFrom.name" in line
               for line in proc.stdout.splitlines()), proc.stdout


def test_render_step_fails_when_nothing_matches(tmp_path):
    workspace = repo_copy(tmp_path)
    proc, runner = run_step("render", workspace, tmp_path, **{"inputs.overlays": "clusters/*"})
    assert proc.returncode == 1
    assert "::error title=krmfn render::no kustomization matches" in proc.stdout
    assert "no kustomization matches" in runner["summary"]


def test_render_step_runs_conformance_when_crds_are_given(tmp_path, crd_root):
    # the 0.x CRD sets (the overlays render kagent.dev/v1alpha2; v1.0 serves api.kagent.dev only)
    versions = sorted(p for p in crd_root.iterdir() if (p / "kagent.dev_agents.yaml").is_file())
    if not versions:
        pytest.skip(f"no kagent 0.x CRD sets under {crd_root}")
    workspace = repo_copy(tmp_path)
    target = TARGETS[-1]
    externals = "--external Secret/*/openai-api-key --external Secret/*/anthropic-api-key " \
                "--external Secret/platform-agents/billing-api-token"
    proc, runner = run_step("render", workspace, tmp_path, **{
        "inputs.overlays": target, "inputs.crds": str(versions[-1]), "inputs.validate-args": externals})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert runner["outputs"]["overlays"] == target
    # without the externals, the references the API server does not check fail the overlay
    proc, runner = run_step("render", workspace, tmp_path, **{
        "inputs.overlays": target, "inputs.crds": str(versions[-1])})
    assert proc.returncode == 1
    assert f"| `{target}` | :x: invalid |" in runner["summary"]
    assert "::error title=krmfn build" in proc.stdout and "not found" in proc.stdout


# the review step: krmfn diff between two commits of a throwaway git repository


def git(workspace: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
    proc = subprocess.run(["git", *args], cwd=workspace, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.fixture
def pull_request(tmp_path):
    """A workspace whose HEAD grants k8s-readonly one more (read) tool than its base commit."""
    if not OVERLAYS:
        pytest.skip("no overlays in this repository yet")
    workspace = repo_copy(tmp_path)
    git(workspace, "init", "--quiet", "--initial-branch=main")
    git(workspace, "add", "-A")
    git(workspace, "commit", "--quiet", "-m", "base")
    base = git(workspace, "rev-parse", "HEAD")
    break_k8s_readonly(workspace, "k8s_get_available_api_resources")
    git(workspace, "commit", "--quiet", "-am", "grant a tool")
    head = git(workspace, "rev-parse", "HEAD")
    return workspace, base, head


def test_review_step_writes_the_agent_aware_summary(tmp_path, pull_request):
    workspace, base, head = pull_request
    target = OVERLAYS[0]
    proc, runner = run_step("review", workspace, tmp_path, **{
        "github.event.pull_request.base.sha || github.event.before": base, "github.sha": head,
        "steps.render.outputs.overlays": target})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = Path(runner["env"]["REPORT"]).read_text()
    assert report.strip() and report in runner["summary"]
    assert "k8s-readonly" in report and "k8s_get_available_api_resources" in report, report
    assert not git(workspace, "worktree", "list").count("\n"), "krmfn diff left a worktree behind"


def test_review_step_gates_with_fail_on(tmp_path, pull_request):
    workspace, base, head = pull_request
    proc, runner = run_step("review", workspace, tmp_path, **{
        "github.event.pull_request.base.sha || github.event.before": base, "github.sha": head,
        "steps.render.outputs.overlays": OVERLAYS[0], "inputs.fail-on": "tool-grant"})
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "::error title=krmfn diff::" in proc.stdout
    assert "k8s-readonly" in runner["summary"]


def test_review_step_without_a_base_revision(tmp_path):
    workspace = repo_copy(tmp_path)
    proc, runner = run_step("review", workspace, tmp_path, **{
        "github.event.pull_request.base.sha || github.event.before": "0" * 40, "github.sha": "HEAD",
        "steps.render.outputs.overlays": TARGETS[-1]})
    assert proc.returncode == 0, proc.stderr
    assert "no base revision" in runner["summary"]


# ---------------------------------------------------------------------------------------------
# running the pre-commit hook


def run_hook(workspace: Path, files: list[str], args: list[str] | None = None) -> subprocess.CompletedProcess:
    argv = [*hook_argv(), *(args if args is not None else ["--overlays", "base", "--overlays", "overlays/*"]), *files]
    env = {"PATH": tools_path(), "HOME": str(workspace.parent), "LANG": "C.UTF-8"}
    return subprocess.run(argv, cwd=workspace, env=env, capture_output=True, text=True, timeout=600)


def rendered(proc: subprocess.CompletedProcess) -> list[str]:
    return re.findall(r"^krmfn-render: (\S+) rendered$", proc.stderr, re.M)


def test_hook_renders_every_overlay_when_shared_files_change(tmp_path):
    workspace = repo_copy(tmp_path)
    proc = run_hook(workspace, ["base/agents/k8s-readonly.yaml"])
    assert proc.returncode == 0, proc.stderr
    assert rendered(proc) == TARGETS


def test_hook_renders_only_the_overlay_that_changed(tmp_path):
    if not OVERLAYS:
        pytest.skip("no overlays in this repository yet")
    workspace = repo_copy(tmp_path)
    changed = next(p for p in (workspace / OVERLAYS[0]).iterdir() if p.suffix == ".yaml")
    proc = run_hook(workspace, [str(changed.relative_to(workspace))], args=[])  # default: overlays/*
    assert proc.returncode == 0, proc.stderr
    assert rendered(proc) == [OVERLAYS[0]]


def test_hook_blocks_a_broken_commit(tmp_path):
    workspace = repo_copy(tmp_path)
    break_k8s_readonly(workspace, "k8s_frobnicate")
    proc = run_hook(workspace, ["base/agents/k8s-readonly.yaml"], args=["--overlays", "base"])
    assert proc.returncode == 1
    assert "[error]" in proc.stderr and "k8s_frobnicate" in proc.stderr
    assert "krmfn-render: base FAILED" in proc.stderr


@pytest.mark.skipif(not prod_has_policy(), reason="overlays/prod has no ToolPolicy yet")
def test_hook_blocks_a_policy_violation_and_names_the_overlay(tmp_path):
    workspace = repo_copy(tmp_path)
    break_k8s_readonly(workspace, "k8s_delete_resource")  # destructive, granted without approval
    proc = run_hook(workspace, ["base/agents/k8s-readonly.yaml"], args=[])
    assert proc.returncode == 1
    assert "krmfn-render: overlays/prod FAILED" in proc.stderr and "k8s_delete_resource" in proc.stderr
    # the kagent 1.0 render of prod runs the same policy, with the same verdict
    assert "krmfn-render: overlays/prod-kagent-1.0 FAILED" in proc.stderr
    assert rendered(proc) == [o for o in OVERLAYS if o not in ("overlays/prod", "overlays/prod-kagent-1.0")]


def test_hook_through_pre_commit_itself(tmp_path):
    """`pre-commit try-repo` installs the hook repository (language: python, pip from PyPI) into its
    own virtualenv and runs the hook on a commit's staged files. Runs when pre-commit is installed."""
    pre_commit = shutil.which("pre-commit", path=os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")]))
    if pre_commit is None:
        pytest.skip("pre-commit is not installed (pip install pre-commit to run the hook through it)")
    if not prod_has_policy():
        pytest.skip("overlays/prod has no ToolPolicy yet")
    hook_repo = tmp_path / "hook-repo"
    hook_repo.mkdir()
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, hook_repo / name)
    shutil.copytree(ROOT / "krmfn", hook_repo / "krmfn", ignore=shutil.ignore_patterns("__pycache__"))
    git(hook_repo, "init", "--quiet")
    git(hook_repo, "add", "-A")
    git(hook_repo, "commit", "--quiet", "-m", "krmfn")
    workspace = repo_copy(tmp_path)
    git(workspace, "init", "--quiet")
    git(workspace, "add", "-A")
    git(workspace, "commit", "--quiet", "-m", "agents")
    break_k8s_readonly(workspace, "k8s_delete_resource")
    git(workspace, "add", "-A")
    env = {**os.environ, "PATH": tools_path(), "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
           "GIT_CONFIG_GLOBAL": "/dev/null"}
    proc = subprocess.run([pre_commit, "try-repo", str(hook_repo), "krmfn-render", "--verbose"], cwd=workspace,
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "krmfn-render: overlays/prod FAILED" in proc.stdout and "k8s_delete_resource" in proc.stdout
    git(workspace, "checkout", "--quiet", "HEAD", "--", "base")  # index and files back to the commit
    proc = subprocess.run([pre_commit, "try-repo", str(hook_repo), "krmfn-render", "--all-files"], cwd=workspace,
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
