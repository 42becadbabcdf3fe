"""kagent 1.0 (`api.kagent.dev/v1alpha3`): one description, two targets.

The 1.0 CRDs are ../shared/kagent-crds/v1.0 (the best stored pre-GA copies; see its SOURCE.md:
no GA CRD file could be had, from a dependency or otherwise).
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given

from krmfn.conformance import validate
from krmfn.conformance.crds import load_crds
from krmfn.fn.policy import Checker
from krmfn.api.policy import ToolPolicy
from krmfn.runtime import yamlio
from krmfn.runtime.typed import parse

from golden import ROOT, load_case, run_function

SHARED = ROOT.parent / "shared"
V1_CRDS = SHARED / "kagent-crds" / "v1.0"
FUNCTIONS = ROOT / "functions"
V1_CASES = sorted(p for p in FUNCTIONS.glob("*/testdata/v1-*") if (p / "expected.yaml").exists())
HARNESS_ENV = yamlio.load_one((FUNCTIONS / "environment/testdata/v1-templates/config.yaml").read_bytes(), "config.yaml")


@pytest.fixture(scope="module")
def v1_crds():
    return load_crds(str(V1_CRDS), label="v1.0")


def _external(items: list[dict]) -> set[tuple[str, str, str]]:
    """Secrets and Harnesses are the platform team's: declared external in every namespace used."""
    namespaces = {i["metadata"].get("namespace", "") for i in items} - {""}
    names = [("Secret", n) for n in ("anthropic-api-key", "openai-api-key", "grafana-token", "billing-api-token",
                                     "search-token")]
    names.append(("ConfigMap", "search-tenant"))
    names += [("Harness", n) for n in ("kagent-standard", "kagent-premium")]
    return {(kind, ns, name) for kind, name in names for ns in namespaces}


def _rendered(case: Path) -> list[dict]:
    """A case's output; an expand case's goes through the environment, which names the Harness."""
    items = yamlio.load_all((case / "expected.yaml").read_bytes())
    if case.parent.parent.name == "expand":
        outcome = run_function(copy.deepcopy(HARNESS_ENV), items)
        assert outcome.code == 0, outcome.stderr
        items = yamlio.load_all(outcome.output.encode())
    return items


def test_there_are_1_0_golden_cases():
    assert {c.parent.parent.name for c in V1_CASES} >= {"expand", "environment"}


@pytest.mark.parametrize("case", V1_CASES, ids=[f"{c.parent.parent.name}/{c.name}" for c in V1_CASES])
def test_every_1_0_golden_output_conforms_to_the_1_0_crds(case, v1_crds):
    items = _rendered(case)
    assert any(i.get("apiVersion") == "api.kagent.dev/v1alpha3" for i in items)
    problems = [r.line() for r in validate(items, v1_crds, external=_external(items)) if r.is_error]
    assert problems == []


def test_1_0_objects_fail_against_crds_that_do_not_serve_them():
    items = _rendered(FUNCTIONS / "environment/testdata/v1-templates")
    old = load_crds(str(SHARED / "kagent-crds" / "v0.10.0-rc3"))
    assert any("not served" in r.message for r in validate(items, old, check_references=False))


def _agent_template(items, name):
    return next(i for i in items if i["kind"] == "AgentTemplate" and i["metadata"]["name"] == name)


@pytest.mark.parametrize("breakage, expected", [
    (lambda items: items.remove(_agent_template(items, "helper")), 'AgentTemplate "helper" not found'),
    (lambda items: [i["spec"].pop("harnessRef") for i in items if i["kind"] == "Agent"][:0],
     "exactly one of harness or harnessRef"),
    (lambda items: _agent_template(items, "helper")["spec"]["tools"][0]["mcp"].update(tools=[]),
     "kagent grants every tool"),
    (lambda items: _agent_template(items, "helper")["spec"]["tools"].append(
        {"subAgent": {"name": "boss", "description": "b", "templateRef": {"name": "boss"}}}),
     "sub-agent cycle: team-a/boss -> team-a/helper -> team-a/boss"),
    (lambda items: _agent_template(items, "boss")["spec"].update(modelConfig={"name": "model-nope"}),
     'ModelConfig "model-nope" not found in namespace team-a'),
])
def test_1_0_reference_checks_catch_each_broken_reference(breakage, expected, v1_crds):
    items = _rendered(FUNCTIONS / "environment/testdata/v1-templates")
    assert not [r for r in validate(items, v1_crds, external=_external(items)) if r.is_error]
    breakage(items)
    lines = [r.line() for r in validate(items, v1_crds, external=_external(items)) if r.is_error]
    assert any(expected in line for line in lines), lines


# --- policy verdicts are the same for both targets ---------------------------------------------------


def _verdicts(items: list[dict], policy: dict) -> tuple[set, set]:
    """(failing (rule, severity, agent)), (agent, catalog server, tool, risk, approved)) as the policy sees them."""
    parsed, problems = parse(ToolPolicy, policy)
    assert parsed is not None, problems
    checker = Checker(parsed, policy, items)
    results = checker.run()
    failing = {(dict(r.tags).get("rule"), r.severity, r.resource.namespace, r.resource.name)
               for r in results if dict(r.tags).get("rule")}
    grants = {(n.key, use.key, g.tool, g.risk, g.approved) for n in checker.nodes if n.kind == "Agent"
              for use in n.servers for g in use.grants}
    return failing, grants


def _render_stages(items: list[dict], *configs: dict) -> list[dict]:
    for config in configs:
        outcome = run_function(copy.deepcopy(config), copy.deepcopy(items))
        assert outcome.code == 0, outcome.stderr
        items = yamlio.load_all(outcome.output.encode())
    return items


STRICT = {"apiVersion": "krmfn.dev/v1alpha1", "kind": "ToolPolicy", "metadata": {"name": "strict"},
          "spec": {"rules": [
              {"name": "read-only", "allowedRisks": ["read"]},
              {"name": "approve-writes", "requireApproval": ["write", "destructive"]},
              {"name": "few-tools", "maxTools": 3},
              {"name": "no-anthropic", "models": {"forbiddenProviders": ["Anthropic"]}},
              {"name": "no-shared-servers", "crossNamespace": {"toolServers": [], "agents": []}}]}}


def _overlay_inputs(overlay: Path, tmp_path: Path) -> list[dict]:
    """The overlay's resources and patches, built by kubectl kustomize without its transformers."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    data = yamlio.load_one((overlay / "kustomization.yaml").read_bytes(), "kustomization.yaml")
    data.pop("transformers")
    data["resources"] = [os.path.relpath((overlay / r).resolve(), tmp_path) for r in data["resources"]]
    (tmp_path / "kustomization.yaml").write_text(yamlio.dump(data))
    proc = subprocess.run([kubectl, "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(tmp_path)],
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    return yamlio.load_all(proc.stdout)


@pytest.mark.e2e
def test_policy_verdicts_are_the_same_for_the_prod_overlays_of_both_targets(tmp_path):
    """The overlay's descriptions (base/agents with prod's patches), rendered by overlays/prod's
    configs (0.10) and by overlays/prod-kagent-1.0's: the same verdicts."""
    items = _overlay_inputs(ROOT / "overlays" / "prod-kagent-1.0", tmp_path)
    verdicts = []
    for name in ("prod", "prod-kagent-1.0"):
        overlay = ROOT / "overlays" / name
        config = {f: yamlio.load_one((overlay / f"{f}.yaml").read_bytes(), f) for f in ("expand", "environment", "policy")}
        rendered = _render_stages(items, config["expand"], config["environment"])
        assert {i["apiVersion"] for i in rendered if i["kind"] == "Agent"} == (
            {"kagent.dev/v1alpha2"} if name == "prod" else {"api.kagent.dev/v1alpha3"})
        verdicts.append([_verdicts(rendered, policy) for policy in (config["policy"], STRICT)])
    assert verdicts[0] == verdicts[1]
    (_, prod_grants), (strict_failing, _) = verdicts[0]
    assert prod_grants and len({rule for rule, *_ in strict_failing}) >= 3  # not vacuous


def _without_comments(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")]


def test_the_1_0_overlay_differs_from_prod_only_where_it_says():
    """The same base/agents for both targets: the 1.0 overlay is prod plus the target, the Harness
    (which conformance declares external) and the CRDs of the kagent it runs."""
    prod, v1 = ROOT / "overlays" / "prod", ROOT / "overlays" / "prod-kagent-1.0"
    assert sorted(p.name for p in prod.iterdir()) == sorted(p.name for p in v1.iterdir())
    for name in ("pipeline.yaml", "policy.yaml"):
        assert (prod / name).read_bytes() == (v1 / name).read_bytes()
    expected = {  # file -> (lines only prod has, lines only the 1.0 overlay has), by their start
        "kustomization.yaml": (["- ../../vendor/kagent-crds/v0.10.0-rc3"], ["- ../../vendor/kagent-crds/v1.0"]),
        "expand.yaml": ([], ["target: kagent-1.0"]),
        "environment.yaml": (["kagentVersion: v0.10.0-rc3"], ["harness: kagent-standard"]),
        "conformance.yaml": ([], ["- Harness/*/kagent-standard"]),
    }
    for name, (only_prod, only_v1) in expected.items():
        before, after = _without_comments(prod / name), _without_comments(v1 / name)
        removed = [line.strip() for line in before if line not in after]
        added = [line.strip() for line in after if line not in before]
        assert len(removed) == len(only_prod) and all(r.startswith(e) for r, e in zip(removed, only_prod)), \
            (name, removed)
        assert len(added) == len(only_v1) and all(a.startswith(e) for a, e in zip(added, only_v1)), (name, added)


# --- property: random descriptions, both targets ------------------------------------------------------

from test_properties import BUILTIN_SERVER, apply, bounded, pipelines, tool_policies  # noqa: E402


def _for_both_targets(case):
    """What 1.0 can render of a random pipeline: same-namespace delegates, catalog servers, no CA bundles,
    and no per-agent memory (its model is the Harness's in 1.0, so a models rule judges it there)."""
    expansion, environment, items = copy.deepcopy(case)
    for item in items:
        if item["kind"] == "AgentDescription":
            spec = item["spec"]
            spec["delegates"] = [d for d in spec.get("delegates", []) if "/" not in d]
            spec.pop("memory", None)
            for grant in spec.get("tools", []):
                if grant["server"] == BUILTIN_SERVER:
                    grant["server"] = "kagent-tools"
    for tier in environment["spec"]["tiers"].values():
        tier.pop("tls", None)
    environment["spec"]["harness"] = "kagent-standard"
    return expansion, environment, items


@bounded(40)
@given(pipelines(), tool_policies())
def test_policy_verdicts_are_the_same_for_both_targets_on_random_pipelines(case, policy):
    expansion, environment, items = _for_both_targets(case)
    seen = []
    for target in ("kagent-0.10", "kagent-1.0"):
        config = copy.deepcopy(expansion)
        config["spec"]["target"] = target
        code, expanded, lines = apply(config, items)
        assert code == 0, lines
        code, rendered, lines = apply(environment, expanded)
        assert code == 0, lines
        failing, grants = _verdicts(rendered, policy)
        seen.append(({(rule, sev, ns, name) for rule, sev, ns, name in failing}, grants))
    assert seen[0] == seen[1]


# --- the migration review: the two renders of the example prod overlay --------------------------------

MIGRATION = ROOT / "tests" / "review_cases" / "migration"


@pytest.mark.e2e
@pytest.mark.parametrize("overlay, render", [("prod", "old.yaml"), ("prod-kagent-1.0", "new.yaml")])
def test_the_migration_case_is_the_example_overlays_render(overlay, render):
    """The golden migration review reads today's renders of overlays/prod and prod-kagent-1.0."""
    import support
    from golden import check_text

    proc = support.installed("build", f"overlays/{overlay}")
    assert proc.returncode == 0, proc.stderr
    check_text(MIGRATION / render, proc.stdout, f"krmfn build overlays/{overlay}")


def _diff(fmt: str) -> tuple[int, str, str]:
    import support

    proc = support.installed("diff", "old.yaml", "new.yaml", "--format", fmt, "--color", "never", cwd=MIGRATION)
    return proc.returncode, proc.stdout, proc.stderr


def test_migration_review_text_golden():
    """Markdown and JSON are the review goldens' (tests/test_review.py); the terminal text is here."""
    from golden import check_text

    code, out, err = _diff("text")
    assert code == 0 and err == ""
    check_text(MIGRATION / "expected.txt", out, "krmfn diff --format text")
    readme = (ROOT / "README.md").read_text()
    excerpt = readme[readme.index("From the golden case"):].split("```")[1].strip("\n").splitlines()
    assert excerpt and all(line in out.splitlines() for line in excerpt), "the README's excerpt is not the review's"


def test_the_migration_review_reports_behaviour_not_api_shape():
    import json

    code, out, err = _diff("json")
    assert code == 0, err
    env = json.loads(out)["environments"][0]
    by_agent = {a["agent"]: [f["class"] for f in a["findings"]] for a in env["agents"]}
    assert set(by_agent) == {f"platform-agents/{n}" for n in ("billing-assistant", "k8s-readonly", "promql-agent",
                                                               "supervisor")}
    assert all(classes[0] == "target-changed" for classes in by_agent.values())
    # no API-shape noise: no agent's settings changed, no grant or approval moved, templates are the agents'
    noise = {"config-changed", "tool-granted", "tool-revoked", "approval-added", "approval-removed",
             "delegate-added", "delegate-removed", "reach-changed", "prompt-changed"}
    assert not noise & {c for classes in by_agent.values() for c in classes}, by_agent
    assert not [o for o in env["objects"] if o["kind"] == "AgentTemplate"]
    assert not [o for o in env["objects"] if o["change"] == "changed" and o["fields"] == ["apiVersion"]]
    assert any("only moved to api.kagent.dev/v1alpha3" in note for note in env["notes"])
    # ... and the real changes: a split approval binding, lost replicas, memory and skills
    target = {a["agent"]: a["findings"][0] for a in env["agents"]}
    billing = target["platform-agents/billing-assistant"]
    assert billing["new"]["harness"] == "kagent-standard"
    assert billing["bindings"] == {"platform-agents/billing-api": {"old": 1, "new": 2}}
    assert "spec.declarative.runtime" in billing["notCarried"]
    assert by_agent["platform-agents/billing-assistant"][1:] == ["operational"]
    assert "model-changed" in by_agent["platform-agents/promql-agent"]  # its memory's model is the Harness's now
    assert "skills-changed" in by_agent["platform-agents/k8s-readonly"]


@pytest.mark.e2e
def test_a_commit_that_flips_the_target_is_reviewed_as_the_migration(tmp_path):
    """`krmfn diff --git HEAD~1..HEAD overlays/prod` of the one reviewed change (prod's files become
    the 1.0 overlay's: target, Harness, the kagent 1.0 CRDs) gives the golden migration review's
    findings. The vendored CRDs are committed here, as a user's repository holds them."""
    import json

    import support
    from test_review import git

    repo = tmp_path / "repo"
    if not (ROOT / "vendor" / "kagent-crds" / "v1.0" / "api.kagent.dev_agents.yaml").is_file():
        pytest.skip("vendor/kagent-crds is not filled (scripts/setup copies it from ../shared)")
    for folder in ("base", "overlays", "vendor"):
        shutil.copytree(ROOT / folder, repo / folder)
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", ".")
    git(repo, "commit", "--quiet", "-m", "agents")
    for name in ("expand.yaml", "environment.yaml", "kustomization.yaml", "conformance.yaml"):
        shutil.copyfile(ROOT / "overlays" / "prod-kagent-1.0" / name, repo / "overlays" / "prod" / name)
    git(repo, "commit", "--quiet", "-am", "prod moves to kagent 1.0")
    proc = support.installed("diff", "--git", "HEAD~1..HEAD", "overlays/prod", "--format", "json",
                             "--fail-on", "target-change", cwd=repo)
    assert proc.returncode == 3, proc.stderr  # the gate sees the move
    assert "target-change" in proc.stderr
    [env] = json.loads(proc.stdout)["environments"]
    [golden] = json.loads((MIGRATION / "expected.json").read_text())["environments"]
    assert (env["name"], env["old"], env["new"]) == ("overlays/prod", "HEAD~1", "HEAD")
    assert env["agents"] == golden["agents"] and env["objects"] == golden["objects"]
    assert env["notes"] == golden["notes"]


def _review(old: list[dict], new: list[dict]) -> dict[str, list[str]]:
    from krmfn.review.changes import compare
    from krmfn.review.model import Render

    report = compare(Render.from_objects(old), Render.from_objects(new), "render", "old", "new")
    return {c.agent: [f.cls for f in c.findings] for c in report.agents}


def _find(items: list[dict], kind: str, name: str, namespace: str = "platform-agents") -> dict:
    return next(i for i in items if i["kind"] == kind and i["metadata"]["name"] == name
                and i["metadata"].get("namespace") == namespace)


def test_prompt_model_and_tool_findings_work_on_1_0_renders():
    old = yamlio.load_all((MIGRATION / "new.yaml").read_bytes())
    new = copy.deepcopy(old)
    template = _find(new, "AgentTemplate", "k8s-readonly")
    template["spec"]["systemPrompt"] += "Be brief.\n"
    template["spec"]["modelConfig"]["name"] = "model-premium"
    template["spec"]["tools"][0]["mcp"]["tools"].append("k8s_get_resource_yaml")
    template["spec"]["tools"].append({"mcp": {"server": {"kind": "RemoteMCPServer", "name": "kagent-tools"},
                                              "tools": ["k8s_delete_resource"], "requireApproval": True}})
    assert _review(old, new) == {
        "platform-agents/k8s-readonly": ["prompt-changed", "model-changed", "tool-granted", "tool-granted"],
        "platform-agents/supervisor": ["reach-changed"]}  # a destructive tool, through its sub-agent
    assert _review(old, old) == {}


def test_a_server_copy_is_its_original_only_when_the_render_shows_the_same_server():
    """A namespace-local copy reads as the catalog server it copies; its annotation alone never
    moves a grant (and so never hides one)."""
    old = yamlio.load_all((MIGRATION / "old.yaml").read_bytes())
    new = yamlio.load_all((MIGRATION / "new.yaml").read_bytes())
    copied = _find(new, "RemoteMCPServer", "grafana-mcp-v0-4-0")
    assert copied["metadata"]["annotations"]["krmfn.dev/catalog-server"] == "observability/grafana-mcp-v0-4-0"
    assert "platform-agents/promql-agent" in _review(old, new)
    assert "tool-granted" not in _review(old, new)["platform-agents/promql-agent"]
    copied["spec"]["url"] = "http://elsewhere.example.com/mcp"  # not the same server any more
    classes = _review(old, new)["platform-agents/promql-agent"]
    assert "tool-granted" in classes and "tool-revoked" in classes


@pytest.mark.e2e
def test_the_readme_1_0_commands_work_as_written():
    """README "Moving to kagent 1.0": build the 1.0 overlay, validate it against the 1.0 CRDs."""
    import re

    import support

    if not V1_CRDS.is_dir():
        pytest.skip(f"{V1_CRDS} is absent (the kagent 1.0 CRDs are test data in ../shared)")
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("<!-- kagent-1.0:begin -->"):readme.index("<!-- kagent-1.0:end -->")]
    blocks = re.findall(r"^```(\w*)\n(.*?)^```", section, re.S | re.M)
    [block] = [body for info, body in blocks if "krmfn validate" in body]
    command = " && ".join(block.replace("\\\n", " ").strip().splitlines())
    try:
        proc = support.shell(command)
    finally:
        (ROOT / "render.yaml").unlink(missing_ok=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "[error]" not in proc.stderr and "Traceback" not in proc.stderr


def test_a_target_move_never_lowers_a_gate():
    """Settings only one API version has move from config-changed to target-changed: the
    config-change gate still trips on them (a pull request cannot hide a setting by moving target)."""
    from krmfn.review.changes import compare, gated
    from krmfn.review.model import Render

    old = yamlio.load_all((MIGRATION / "old.yaml").read_bytes())
    new = yamlio.load_all((MIGRATION / "new.yaml").read_bytes())
    report = compare(Render.from_objects(old), Render.from_objects(new), "prod", "old", "new")
    assert not [f for f in report.findings() if f.cls == "config-changed"]
    hits = gated([report], ["config-change"])
    assert {h["agent"] for h in hits} == {f"platform-agents/{n}" for n in
                                          ("billing-assistant", "k8s-readonly", "promql-agent", "supervisor")}
    assert {h["class"] for h in hits} == {"target-changed"}
    moved = [h for h in gated([report], ["object-change"]) if h["class"] == "object-moved"]
    assert {h["object"] for h in moved} == {"ModelConfig platform-agents/model-premium-high",
                                            "ModelConfig platform-agents/model-standard",
                                            "RemoteMCPServer platform-agents/billing-api-v1-4-2",
                                            "RemoteMCPServer platform-agents/kagent-tools"}


def test_a_harness_change_between_1_0_renders_is_a_settings_change():
    old = yamlio.load_all((MIGRATION / "new.yaml").read_bytes())
    new = copy.deepcopy(old)
    _find(new, "Agent", "supervisor")["spec"]["harnessRef"]["name"] = "kagent-premium"
    assert _review(old, new) == {"platform-agents/supervisor": ["config-changed"]}


@pytest.mark.parametrize("source, expected", [
    ({"oci": "ghcr.io/acme/skill:latest"}, "spec.skills[0].source.oci: Invalid value"),
    ({"git": {"url": "https://git.example.com/acme/skills", "commit": "main"}}, "spec.skills[0].source.git.commit"),
    ({"bucket": {"s3": {"bucket": "b", "endpoint": "https://s3.example.com", "key": "k"}}},
     "spec.skills[0].source.bucket.s3.versionId: Required value"),
    ({"oci": "ghcr.io/acme/skill@sha256:" + "a" * 64}, None),
], ids=["oci-tag", "git-branch", "s3-unversioned", "oci-digest"])
def test_a_1_0_skill_is_an_immutable_reference_or_one_error_line(source, expected, v1_crds):
    """krmfn emits no AgentTemplate skills yet (a description has no skill source); a hand-written
    or future one is checked against the 1.0 CRD: a tag, a branch or an unversioned object is refused."""
    items = _rendered(FUNCTIONS / "environment/testdata/v1-templates")
    _agent_template(items, "helper")["spec"]["skills"] = [{"name": "runbooks", "source": source}]
    lines = [r.line() for r in validate(items, v1_crds, external=_external(items)) if r.is_error]
    if expected is None:
        assert lines == []
    else:
        assert len(lines) == 1 and expected in lines[0] and "AgentTemplate/team-a/helper" in lines[0], lines


def test_a_1_0_skill_source_change_is_a_skills_finding():
    old = yamlio.load_all((MIGRATION / "new.yaml").read_bytes())
    old_template = _find(old, "AgentTemplate", "k8s-readonly")
    old_template["spec"]["skills"] = [{"name": "runbooks", "source": {"oci": "ghcr.io/acme/runbooks@sha256:" + "a" * 64}}]
    new = copy.deepcopy(old)
    _find(new, "AgentTemplate", "k8s-readonly")["spec"]["skills"][0]["source"]["oci"] = \
        "ghcr.io/acme/runbooks@sha256:" + "b" * 64
    assert _review(old, new) == {"platform-agents/k8s-readonly": ["skills-changed"]}
