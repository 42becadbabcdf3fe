"""Review routing (README "Review routing"): the ReviewPolicy kind and its one-line errors, the
reviewers `krmfn diff` prints per finding (goldens in text, Markdown and JSON), the base revision's
policy under --git, `krmfn review-gate` against a local STAND-IN of the GitHub API
(tests/fake_github.py: GitHub cannot run here), and `krmfn codeowners` with --check.

Goldens: tests/routing_cases/<case>/expected.{txt,md,json}, the inputs of tests/review_cases/<case>,
the policy tests/routing_cases/policy.yaml. KRMFN_UPDATE_GOLDEN=1 writes them and fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import support
from fake_github import FakeGitHub, PullRequest
from krmfn.commands import codeowners as codeowners_cmd
from krmfn.commands import diff as diff_cmd
from krmfn.commands import review_gate
from krmfn.review import routing
from krmfn.review.changes import EnvironmentReport, Finding, ObjectChange

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
CASES = TESTS / "review_cases"
GOLDEN = TESTS / "routing_cases"
POLICY = GOLDEN / "policy.yaml"
EXAMPLE_POLICY = ROOT / ".krmfn" / "review-policy.yaml"
UPDATE = os.environ.get("KRMFN_UPDATE_GOLDEN", "") not in ("", "0")
ROUTED_CASES = ["agent-added-removed", "approvals", "model-changed", "objects", "tool-granted"]
FORMATS = {"text": "expected.txt", "markdown": "expected.md", "json": "expected.json"}


def diff(capsys, *argv: str) -> tuple[int, str, str]:
    code = diff_cmd.run(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- goldens -----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ROUTED_CASES)
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_golden_reviewers(case, fmt, monkeypatch, capsys):
    monkeypatch.chdir(CASES / case)
    code, out, err = diff(capsys, "old.yaml", "new.yaml", "--format", fmt, "--color", "never",
                          "--review-policy", os.path.relpath(POLICY, CASES / case))
    assert code == 0 and err == ""
    expected = GOLDEN / case / FORMATS[fmt]
    if UPDATE:
        expected.parent.mkdir(exist_ok=True)
        expected.write_text(out)
        pytest.fail(f"{expected}: written (KRMFN_UPDATE_GOLDEN is set); review the diff, then run without it")
    assert expected.exists(), f"{expected}: missing (run with KRMFN_UPDATE_GOLDEN=1)"
    assert out == expected.read_text(), f"{case}: {fmt} output differs from {expected}"


def test_the_goldens_route_as_the_policy_says(monkeypatch, capsys):
    """What the goldens hold, said in words (a golden regenerated with a routing bug fails here)."""
    monkeypatch.chdir(CASES / "tool-granted")
    _, out, _ = diff(capsys, "old.yaml", "new.yaml", "--format", "json", "--review-policy", str(POLICY))
    doc = json.loads(out)
    got = {(a["agent"], f.get("tool")): (f["reviewers"]["owners"], f["reviewers"]["routes"])
           for a in doc["environments"][0]["agents"] for f in a["findings"]}
    assert got == {
        ("team/k8s", "k8s_apply_manifest"): (["@acme/security", "@acme/sre"], ["destructive", "write-or-worse"]),
        ("team/ops", "delete_pod"): (["@acme/security", "@acme/sre", "@olga"], ["destructive", "write-or-worse", "ops-team"]),
        ("team/ops", "get_logs"): (["@olga"], ["ops-team"]),  # a read grant: only the agent's own route
        # every tool of a server no catalog knows: unknown risk, routed as destructive (not flagged)
        ("team/wild", "*"): (["@acme/security", "@acme/sre"], ["destructive", "write-or-worse"]),
    }
    summary = {o["owner"]: o["findings"] for o in doc["routing"]["requiredOwners"]}
    assert summary == {"@acme/security": 3, "@acme/sre": 3, "@olga": 2}
    monkeypatch.chdir(CASES / "model-changed")
    _, out, _ = diff(capsys, "old.yaml", "new.yaml", "--format", "json", "--review-policy", str(POLICY))
    doc = json.loads(out)
    owners = {o["owner"] for o in doc["routing"]["requiredOwners"]}
    assert "@acme/ml" in owners and "@nobody-here" not in owners  # environment scoping
    assert doc["environments"][0]["objects"][0]["reviewers"]["routes"] == ["team-objects"]


@pytest.mark.parametrize("case", ["prompt-model-tool", "tool-granted", "objects"])
@pytest.mark.parametrize("fmt", ["markdown", "json"])
def test_without_a_policy_the_output_is_unchanged(case, fmt, monkeypatch, capsys):
    monkeypatch.chdir(CASES / case)
    expected = (CASES / case / ("expected.md" if fmt == "markdown" else "expected.json")).read_text()
    for extra in ([], ["--no-review-policy"]):
        code, out, _ = diff(capsys, "old.yaml", "new.yaml", "--format", fmt, *extra)
        assert code == 0 and out == expected


# --- routing semantics -------------------------------------------------------------------------


def policy(routes: list[dict], default=("@acme/platform",)) -> routing.Policy:
    import yaml

    doc = {"apiVersion": "krmfn.dev/v1alpha1", "kind": "ReviewPolicy", "metadata": {"name": "p"},
           "spec": {"defaultOwners": list(default), "routes": routes}}
    return routing.parse(yaml.safe_dump(doc).encode(), "p.yaml")


def one_report(*findings: Finding, objects=()) -> EnvironmentReport:
    from krmfn.review.changes import AgentChange

    agents: dict[str, list] = {}
    for f in findings:
        agents.setdefault(f.agent, []).append(f)
    return EnvironmentReport("overlays/prod", "a", "b", [AgentChange(k, "changed", v) for k, v in agents.items()],
                             list(objects), 0)


def test_unrouted_and_arriving_classes_fall_back_to_the_default_owners():
    effort = Finding("effort-changed", "team/a", "effort low → high")  # a class another branch adds
    skill = Finding("skill-version-changed", "team/a", "billing-api 1.4 → 1.5")
    operational = Finding("operational", "team/a", "replicas")
    p = policy([{"name": "effort", "classes": ["effort-changed"], "owners": ["@ml"]},
                {"name": "skills", "classes": ["skill-version-change"], "owners": ["@skills"]}])
    report = one_report(effort, skill, operational)
    r = routing.route(p, [report], [{"overlays/prod", "prod"}])
    assert r.of(effort).owners == ("@ml",) and r.of(skill).owners == ("@skills",)
    assert (r.of(operational).owners, r.of(operational).routes) == (("@acme/platform",), ("default",))


def test_scopes_and_additive_routes():
    grant = Finding("tool-granted", "billing/payer", "", {"server": "s", "tool": "t", "risk": "write"})
    p = policy([
        {"name": "prod-writes", "classes": ["tool-grant"], "risks": ["write"], "match": {"environments": ["prod"]},
         "owners": ["@sre"]},
        {"name": "dev-only", "classes": ["any"], "match": {"environments": ["dev"]}, "owners": ["@dev"]},
        {"name": "billing-ns", "classes": ["any"], "match": {"namespaces": ["bill*"]}, "owners": ["@Billing", "@sre"]},
        {"name": "other-agent", "classes": ["any"], "match": {"agents": ["other"]}, "owners": ["@other"]},
        {"name": "reads", "classes": ["tool-granted"], "risks": ["read"], "owners": ["@reads"]},
    ])
    r = routing.route(p, [one_report(grant)], [routing.environment_names("overlays/prod")])
    assert r.of(grant).owners == ("@Billing", "@sre") and r.of(grant).routes == ("prod-writes", "billing-ns")
    obj = ObjectChange("changed", "v1", "ConfigMap", "billing", "x", ["data.a"])
    r = routing.route(p, [one_report(objects=[obj])], [{"prod"}])
    assert r.of(obj).routes == ("billing-ns",)  # `any` covers objects; agent and risk routes do not


# --- bad policies: one line, the file and the field --------------------------------------------

GOOD = EXAMPLE_POLICY.read_text()


@pytest.mark.parametrize("old,new,field,message", [
    ("classes: [destructive-grant]", "classes: [destructive-grants]", "spec.routes[0].classes[0]",
     "unknown class 'destructive-grants'; did you mean 'destructive-grant'?"),
    ('owners: ["@acme/security"]\n  - name: write', 'owners: ["acme-security"]\n  - name: write',
     "spec.routes[0].owners", "[0] 'acme-security' is not a GitHub owner: write @user or @org/team"),
    ('defaultOwners: ["@acme/platform"]', "defaultOwners: []", "spec",
     "defaultOwners needs at least one owner: a change no route matches still needs someone"),
    ('defaultOwners: ["@acme/platform"]', 'defaultOwner: ["@acme/platform"]', "spec.defaultOwner",
     "unknown field 'defaultOwner'; did you mean 'defaultOwners'?"),
    ("- name: approvals", "- name: destructive", "spec", "route name 'destructive' is used twice"),
    ("- name: approvals", "- name: default", "spec.routes[2].name", "route name 'default' is reserved"),
    ("risks: [write, destructive]", "risks: [write, fatal]", "spec.routes[1].risks[1]", "Input should be"),
    ("classes: [approval-removed]", "classes: []", "spec.routes[2]", "a route needs at least one class"),
    ("match: {agents: [platform-agents/billing-assistant]}", "match: {agents: [platform-agents/billing assistant]}",
     "spec.routes[6].match.agents", "is not a name or glob pattern"),
])
def test_bad_policy_is_one_line_naming_file_and_field(old, new, field, message, tmp_path, monkeypatch, capsys):
    assert GOOD.count(old) == 1, old
    path = tmp_path / "review-policy.yaml"
    path.write_text(GOOD.replace(old, new))
    monkeypatch.chdir(CASES / "tool-granted")
    code, out, err = diff(capsys, "old.yaml", "new.yaml", "--review-policy", str(path))
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"[error] krmfn.dev/v1alpha1/ReviewPolicy/review {field}: ") and message in err, err
    assert err.rstrip().endswith(f"({path})"), err


@pytest.mark.parametrize("content,message", [
    ("kind: ToolPolicy\n", "expected one ReviewPolicy (apiVersion: krmfn.dev/v1alpha1, kind: ReviewPolicy)"),
    ("spec: [\n", "review-policy.yaml"),
    (None, "review-policy.yaml: No such file or directory"),
])
def test_a_policy_that_is_not_one_is_one_line(content, message, tmp_path, monkeypatch, capsys):
    path = tmp_path / "review-policy.yaml"
    if content is not None:
        path.write_text(content)
    monkeypatch.chdir(CASES / "tool-granted")
    code, out, err = diff(capsys, "old.yaml", "new.yaml", "--review-policy", str(path))
    assert (code, out) == (1, "") and err.count("\n") == 1 and message in err, err


def test_the_example_policy_is_valid_and_routes_the_example():
    p = routing.load(str(EXAMPLE_POLICY))
    assert p.default_owners == ("@acme/platform",) and len(p.routes) == 7


# --- --git: the base revision's policy applies -------------------------------------------------


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": "/dev/null"}
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env).stdout


@pytest.fixture(scope="module")
def pr_repo(tmp_path_factory) -> Path:
    """main: base/ and the example policy; branch `pr`: grants k8s-readonly a destructive tool AND
    rewrites the policy so that destructive grants need nobody but the author's own team."""
    repo = tmp_path_factory.mktemp("routing-repo")
    shutil.copytree(ROOT / "base", repo / "base")
    (repo / ".krmfn").mkdir()
    shutil.copy(EXAMPLE_POLICY, repo / ".krmfn" / "review-policy.yaml")
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", ".")
    git(repo, "commit", "--quiet", "-m", "agents and their review policy")
    git(repo, "checkout", "--quiet", "-b", "pr")
    agent = repo / "base" / "agents" / "k8s-readonly.yaml"
    agent.write_text(agent.read_text().replace("    - k8s_get_events\n", "    - k8s_get_events\n    - k8s_delete_resource\n"))
    policy_file = repo / ".krmfn" / "review-policy.yaml"
    policy_file.write_text(policy_file.read_text().replace('defaultOwners: ["@acme/platform"]', 'defaultOwners: ["@mallory"]')
                           .replace('owners: ["@acme/security"]', 'owners: ["@mallory"]'))
    git(repo, "commit", "--quiet", "-am", "grant a destructive tool, and route it to myself")
    return repo


def test_git_uses_the_base_policy_and_routes_a_policy_change(pr_repo, monkeypatch, capsys):
    monkeypatch.chdir(pr_repo)
    code, out, err = diff(capsys, "--git", "main...pr", "base", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["routing"]["policy"] == ".krmfn/review-policy.yaml at main"
    assert doc["routing"]["policyChanged"] is True
    assert doc["routing"]["revisions"] == {"old": git(pr_repo, "merge-base", "main", "pr").strip(),
                                           "new": git(pr_repo, "rev-parse", "pr").strip()}
    owners = {o["owner"]: o["routes"] for o in doc["routing"]["requiredOwners"]}
    assert "@mallory" not in owners
    assert "destructive" in owners["@acme/security"]
    assert "review-policy" in owners["@acme/platform"]  # the policy edit itself needs the base's default owners
    grant = next(f for a in doc["environments"][0]["agents"] for f in a["findings"]
                 if f.get("tool") == "k8s_delete_resource")
    assert "@acme/security" in grant["reviewers"]["owners"]
    code, out, _ = diff(capsys, "--git", "main...pr", "base", "--format", "markdown")
    assert "This change edits the review policy itself" in out and "`@acme/security`" in out


def test_three_dots_apply_the_base_branch_policy_of_now(pr_repo, tmp_path, monkeypatch, capsys):
    """main tightened its policy after the pull request branched: `main...pr` (from the merge base)
    is still routed by main's current policy, and the pull request did not change the policy."""
    work = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(pr_repo), str(work)], check=True)
    git(work, "checkout", "--quiet", "-B", "main", "origin/main")
    git(work, "checkout", "--quiet", "-B", "pr", "origin/pr")
    git(work, "checkout", "--quiet", "main")
    policy_file = work / ".krmfn" / "review-policy.yaml"
    policy_file.write_text(policy_file.read_text().replace('owners: ["@acme/security"]', 'owners: ["@acme/ciso"]'))
    git(work, "commit", "--quiet", "-am", "destructive grants need the CISO now")
    git(work, "checkout", "--quiet", "pr")
    git(work, "checkout", "--quiet", "main~1", "--", ".krmfn/review-policy.yaml")  # the pr leaves the policy alone
    git(work, "commit", "--quiet", "-m", "undo the policy edit")
    monkeypatch.chdir(work)
    code, out, err = diff(capsys, "--git", "main...pr", "base", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    owners = {o["owner"] for o in doc["routing"]["requiredOwners"]}
    assert "@acme/ciso" in owners and "@acme/security" not in owners
    assert doc["routing"]["policyChanged"] is False


def test_git_without_a_policy_at_the_base_is_unchanged(pr_repo, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(pr_repo)
    # pr~1 (main) has the policy: routed; a repository whose base has none is not routed at all
    work = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(pr_repo), str(work)], check=True)
    git(work, "checkout", "--quiet", "pr")
    git(work, "rm", "--quiet", "-r", ".krmfn")
    git(work, "commit", "--quiet", "-m", "no policy")
    agent = work / "base" / "agents" / "k8s-readonly.yaml"
    agent.write_text(agent.read_text().replace("k8s_delete_resource", "k8s_get_resource_yaml"))
    monkeypatch.chdir(work)
    _, with_default, _ = diff(capsys, "--git", "HEAD..", "base", "--format", "markdown")
    _, without, _ = diff(capsys, "--git", "HEAD..", "base", "--format", "markdown", "--no-review-policy")
    assert with_default == without and "Reviewers" not in without


# --- krmfn review-gate against the stand-in GitHub API -----------------------------------------

REPO, NUMBER, HEAD = "acme/agents", 7, "c0ffee" * 6 + "abcd"


def report(tmp_path: Path, *owners: str, reviewed: str | None = HEAD, name: str = "review.json", **extra) -> Path:
    path = tmp_path / name
    doc = {"krmfnReview": "v1", "environments": [{"name": "overlays/prod", **extra}],
           "routing": {"policy": "p", "policyChanged": False, "revisions": {"old": "b" * 40, "new": reviewed},
                       "requiredOwners": [{"owner": o, "routes": ["r"], "findings": 1} for o in owners]}}
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def github(monkeypatch):
    with FakeGitHub() as fake:
        fake.pulls[(REPO, NUMBER)] = PullRequest(author="dev", head=HEAD)
        monkeypatch.setenv("GITHUB_API_URL", fake.url)
        monkeypatch.setenv("GITHUB_TOKEN", fake.token)
        yield fake


def gate(capsys, path: Path, *extra: str) -> tuple[int, str, str]:
    code = review_gate.run(["--repo", REPO, "--pr", str(NUMBER), "--report", str(path), *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_gate_all_approved(github, tmp_path, capsys):
    pr = github.pulls[(REPO, NUMBER)]
    pr.review("alice", "APPROVED")
    pr.review("carol", "APPROVED")
    github.teams["acme/security"] = {"carol"}
    code, out, err = gate(capsys, report(tmp_path, "@acme/security", "@alice"))
    assert (code, err) == (0, ""), out + err
    assert "2 of 2 required owners approved" in out and "@acme/security: approved by @carol" in out
    assert github.posts() == []  # nobody to ask
    assert all(r.authorized for r in github.requests)


def test_gate_missing_owner_is_requested_and_named(github, tmp_path, capsys):
    github.pulls[(REPO, NUMBER)].review("alice", "APPROVED")
    code, out, err = gate(capsys, report(tmp_path, "@acme/sre", "@alice", "@bob"))
    assert code == 3
    assert err == "[error] not approved yet by @acme/sre, @bob\n"
    assert "missing  @bob: review requested now" in out and "ok       @alice: approved" in out
    [post] = github.posts()
    assert post.path == f"/repos/{REPO}/pulls/{NUMBER}/requested_reviewers"
    assert post.body == {"reviewers": ["bob"], "team_reviewers": ["sre"]}


def test_gate_is_idempotent_for_owners_already_requested(github, tmp_path, capsys):
    pr = github.pulls[(REPO, NUMBER)]
    pr.requested_users.append("bob")
    path = report(tmp_path, "@acme/sre", "@bob")
    assert gate(capsys, path)[0] == 3
    assert [p.body for p in github.posts()] == [{"reviewers": [], "team_reviewers": ["sre"]}]
    code, out, _ = gate(capsys, path)  # the next run (a push, a review event): nobody asked twice
    assert code == 3 and len(github.posts()) == 1
    assert "@bob: review requested" in out and "@acme/sre: review requested" in out


def test_gate_team_approval_needs_membership(github, tmp_path, capsys):
    pr = github.pulls[(REPO, NUMBER)]
    github.teams["acme/security"] = {"carol"}
    pr.review("mallory", "APPROVED")  # not a member
    pr.review("dev", "APPROVED")  # the author (GitHub refuses this; a stand-in may not)
    github.teams["acme/security"].add("dev")
    path = report(tmp_path, "@acme/security")
    code, out, _ = gate(capsys, path)
    assert code == 3 and "missing  @acme/security" in out
    pr.review("carol", "APPROVED")
    code, out, _ = gate(capsys, path)
    assert code == 0 and "approved by @carol" in out and "mallory" not in out
    memberships = [r.path for r in github.requests if "/memberships/" in r.path]
    assert f"/orgs/acme/teams/security/memberships/mallory" in memberships


def test_gate_changes_requested_blocks_until_approved(github, tmp_path, capsys):
    pr = github.pulls[(REPO, NUMBER)]
    github.teams["acme/security"] = {"carol", "erin"}
    pr.review("bob", "CHANGES_REQUESTED")
    pr.review("erin", "CHANGES_REQUESTED")
    pr.review("carol", "APPROVED")
    path = report(tmp_path, "@acme/security", "@bob")
    code, out, err = gate(capsys, path)
    assert code == 3 and "@bob: changes requested" in out and "@acme/security: changes requested by @erin" in out
    assert github.posts() == []  # whoever asked for changes is not asked again
    pr.review("bob", "COMMENTED")  # a comment changes nothing
    assert gate(capsys, path)[0] == 3
    pr.review("bob", "APPROVED")
    pr.review("erin", "APPROVED")
    assert gate(capsys, path)[0] == 0


def test_gate_pages_through_reviews(github, tmp_path, capsys):
    pr = github.pulls[(REPO, NUMBER)]
    for index in range(5):
        pr.review(f"user{index}", "COMMENTED")
    pr.review("alice", "APPROVED")  # on page 3 with the stand-in's pages of 2
    code, out, _ = gate(capsys, report(tmp_path, "@alice"))
    assert code == 0, out
    pages = [r.path for r in github.requests if "/reviews" in r.path]
    assert pages == [f"/repos/{REPO}/pulls/{NUMBER}/reviews?per_page=100"] + [
        f"/repos/{REPO}/pulls/{NUMBER}/reviews?per_page=100&page={n}" for n in (2, 3)]


def test_gate_stale_and_dismissed_approvals_do_not_count(github, tmp_path, capsys):
    pr = github.pulls[(REPO, NUMBER)]
    pr.review("alice", "APPROVED", commit="0" * 40)
    pr.review("bob", "APPROVED")
    pr.review("bob", "DISMISSED")
    path = report(tmp_path, "@alice", "@bob")
    code, out, _ = gate(capsys, path)
    assert code == 3
    assert "@alice: review requested now (stale: approved an earlier commit)" in out
    assert "@bob: review requested now (approval dismissed)" in out
    assert gate(capsys, path, "--accept-stale-approvals", "--no-request")[1].count("missing") == 1  # bob only


def test_gate_refuses_what_it_cannot_decide(github, tmp_path, capsys):
    cases = [
        (report(tmp_path, "@a", name="failed.json", renderFailed=[{"at": "HEAD", "lines": []}]), "failed to render"),
    ]
    no_routing = tmp_path / "plain.json"
    no_routing.write_text(json.dumps({"krmfnReview": "v1", "environments": []}))
    cases.append((no_routing, "the report routes no reviewers"))
    not_json = tmp_path / "x.json"
    not_json.write_text("## krmfn review\n")
    cases.append((not_json, "not JSON"))
    cases.append((tmp_path / "absent.json", "No such file or directory"))
    cases.append((report(tmp_path, "@a", reviewed=None, name="no-commit.json"), "the report names no commit it reviewed"))
    for path, message in cases:
        code, out, err = gate(capsys, path)
        assert (code, out) == (1, "") and err.count("\n") == 1 and message in err and str(path) in err, err
    assert github.requests == []  # refused before asking GitHub anything
    github.pulls[(REPO, NUMBER)].review("a", "APPROVED")
    code, out, err = gate(capsys, report(tmp_path, "@a", reviewed="1" * 40))  # a report of an older push
    assert (code, out) == (1, "") and err == (f"[error] the report reviewed commit 111111111111, but {REPO}#{NUMBER} "
                                              f"is at {HEAD[:12]} (merge mmmmmmmmmmmm): review the pull request's "
                                              "current change\n")
    assert github.posts() == []
    assert gate(capsys, report(tmp_path, "@a", reviewed="m" * 40))[0] == 0  # the test merge of the head: fine


def test_gate_network_and_http_errors_are_one_line_without_the_token(github, tmp_path, capsys, monkeypatch):
    path = report(tmp_path, "@alice")
    github.fail_with = 503
    code, out, err = gate(capsys, path)
    assert (code, out) == (1, "") and err == (f"[error] GitHub API GET /repos/{REPO}/pulls/{NUMBER}: "
                                              "HTTP 503: Service Unavailable\n")
    github.fail_with = None
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_wrongtokenwrongtokenwrongtoken12")
    code, _, err = gate(capsys, path)
    assert code == 1 and "HTTP 401: Bad credentials" in err and "wrongtoken" not in err
    monkeypatch.delenv("GITHUB_TOKEN")
    code, _, err = gate(capsys, path)
    assert code == 1 and err == "[error] krmfn review-gate: GITHUB_TOKEN is not set\n"
    # nobody listens: a closed loopback port
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("GITHUB_TOKEN", github.token)
    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{port}")
    code, _, err = gate(capsys, path)
    assert code == 1 and err.count("\n") == 1 and "Connection refused" in err, err


def test_gate_never_sends_the_token_to_another_host(github, tmp_path, capsys):
    pr = github.pulls[(REPO, NUMBER)]
    for index in range(3):
        pr.review(f"user{index}", "COMMENTED")
    github.next_link_host = "http://evil.example"
    code, _, err = gate(capsys, report(tmp_path, "@alice"))
    assert code == 1 and "a pagination link to another host; not followed" in err
    assert all(not r.path.startswith("http") for r in github.requests)


def test_gate_as_a_process_never_prints_the_token(github, tmp_path):
    github.pulls[(REPO, NUMBER)].review("alice", "APPROVED")
    proc = support.module("review-gate", "--repo", REPO, "--pr", str(NUMBER), "--report",
                          str(report(tmp_path, "@alice", "@bob")),
                          env={"GITHUB_API_URL": github.url, "GITHUB_TOKEN": github.token}, timeout=60)
    assert proc.returncode == 3, proc.stderr
    assert github.token not in proc.stdout + proc.stderr and "Traceback" not in proc.stderr
    assert "missing  @bob" in proc.stdout


@pytest.mark.parametrize("argv,message", [
    (["--repo", "acme", "--pr", "7", "--report", "r.json"], "--repo 'acme': expected OWNER/REPO"),
    (["--repo", "acme/agents", "--pr", "x", "--report", "r.json"], "--pr 'x': expected a pull request number"),
    (["--repo", "acme/agents"], "the following arguments are required"),
])
def test_gate_usage_errors(argv, message, capsys):
    assert review_gate.run(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


# --- krmfn codeowners --------------------------------------------------------------------------


def example_copy(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    for folder in ("base", "overlays", ".krmfn"):
        shutil.copytree(ROOT / folder, repo / folder)
    return repo


def codeowners(capsys, repo: Path, *argv: str) -> tuple[int, str, str]:
    code = codeowners_cmd.run(["--root", str(repo), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_codeowners_of_the_example(tmp_path, monkeypatch, capsys):
    repo = example_copy(tmp_path)
    monkeypatch.chdir(repo)
    code, out, err = codeowners(capsys, repo, "base", "overlays", ".krmfn")
    assert (code, err) == (0, "")
    expected = GOLDEN / "CODEOWNERS"
    if UPDATE:
        expected.write_text(out)
        pytest.fail(f"{expected}: written (KRMFN_UPDATE_GOLDEN is set)")
    assert out == expected.read_text()
    lines = dict(line.split(" ", 1) for line in out.splitlines() if line.startswith("/"))
    assert "@acme/security" in lines["/base/agents/k8s-readonly.yaml"]  # it holds grants: destructive route
    assert "@acme/billing" in lines["/base/agents/billing-assistant.yaml"]
    assert "/base/agents/namespaces.yaml" not in lines and "/base/agents/kustomization.yaml" not in lines
    assert lines["/.krmfn/review-policy.yaml"] == "@acme/platform"
    assert "@acme/ml-platform" in lines["/overlays/prod/environment.yaml"]
    assert codeowners(capsys, repo, "base", "overlays", ".krmfn")[1] == out  # deterministic


def test_codeowners_writes_its_block_and_checks_it(tmp_path, monkeypatch, capsys):
    repo = example_copy(tmp_path)
    monkeypatch.chdir(repo)
    target = repo / ".github" / "CODEOWNERS"
    target.parent.mkdir()
    target.write_text("# hand-written\n* @acme/platform\n")
    args = ["base", "overlays", ".krmfn", "-o", str(target)]
    code, _, err = codeowners(capsys, repo, *args, "--check")
    assert code == 1 and err.count("\n") == 1 and "is out of date" in err and str(target) in err
    assert codeowners(capsys, repo, *args)[0] == 0
    written = target.read_text()
    assert written.startswith("# hand-written\n* @acme/platform\n\n# krmfn codeowners: begin")
    assert codeowners(capsys, repo, *args, "--check")[0] == 0
    assert codeowners(capsys, repo, *args)[0] == 0 and target.read_text() == written  # idempotent
    # a description gains its first tools: its file is now one that holds grants
    promptless = repo / "base" / "agents" / "new-agent.yaml"
    promptless.write_text("apiVersion: krmfn.dev/v1alpha1\nkind: AgentDescription\nmetadata: {name: n, namespace: x}\n"
                          "spec:\n  tools:\n  - {server: kagent/kagent-tool-server, allow: [k8s_get_resources]}\n")
    assert codeowners(capsys, repo, *args, "--check")[0] == 1
    # the policy changes who owns grants
    policy_file = repo / ".krmfn" / "review-policy.yaml"
    assert codeowners(capsys, repo, *args)[0] == 0
    policy_file.write_text(policy_file.read_text().replace('owners: ["@acme/security"]', 'owners: ["@acme/secops"]'))
    assert codeowners(capsys, repo, *args, "--check")[0] == 1
    assert codeowners(capsys, repo, *args)[0] == 0
    assert "@acme/secops" in target.read_text() and target.read_text().count("# krmfn codeowners: begin") == 1


def test_codeowners_errors_are_one_line(tmp_path, capsys):
    repo = example_copy(tmp_path)
    (repo / ".krmfn" / "review-policy.yaml").unlink()
    code, _, err = codeowners(capsys, repo, str(repo / "base"))
    assert code == 1 and err.count("\n") == 1 and "no review policy" in err
    code, _, err = codeowners(capsys, repo, "--review-policy", str(EXAMPLE_POLICY), str(repo / "nope"))
    assert code == 1 and err.count("\n") == 1 and "nope: no such file or directory" in err
    broken = repo / "base" / "agents" / "broken.yaml"
    broken.write_text("apiVersion: krmfn.dev/v1alpha1\nkind: AgentDescription\nspec: [\n")
    code, _, err = codeowners(capsys, repo, "--review-policy", str(EXAMPLE_POLICY), str(repo / "base"))
    assert code == 1 and err.count("\n") == 1 and "broken.yaml" in err
    code, _, err = codeowners(capsys, repo, "--check")
    assert code == 1 and "--check needs -o FILE" in err


# --- the reusable workflow's gate step, run as GitHub runs it, against the stand-in -----------


def test_workflow_gate_step_requests_and_then_passes(tmp_path):
    import test_ci_assets as ci

    inputs = ci.triggers(ci.workflow())["workflow_call"]["inputs"]
    assert inputs["review-gate"] == {**inputs["review-gate"], "type": "boolean", "default": False}
    step = ci.step("gate")
    assert "inputs.review-gate" in step["if"] and "krmfn review-gate" in step["run"]
    workspace = ci.repo_copy(tmp_path)
    shutil.copytree(EXAMPLE_POLICY.parent, workspace / ".krmfn")
    ci.git(workspace, "init", "--quiet", "--initial-branch=main")
    ci.git(workspace, "add", "-A")
    ci.git(workspace, "commit", "--quiet", "-m", "base")
    base = ci.git(workspace, "rev-parse", "HEAD")
    agent = workspace / "base" / "agents" / "k8s-readonly.yaml"
    agent.write_text(agent.read_text().replace("    - k8s_get_events\n", "    - k8s_get_events\n    - k8s_delete_resource\n"))
    ci.git(workspace, "commit", "--quiet", "-am", "grant a destructive tool")
    head = ci.git(workspace, "rev-parse", "HEAD")
    with FakeGitHub() as fake:
        pr = fake.pulls[("acme/agents", 12)] = PullRequest(author="dev", head=head)
        overrides = {"github.event.pull_request.base.sha": base, "github.sha": head,
                     "github.event.pull_request.number": "12", "steps.render.outputs.overlays": "base",
                     "steps.render.outputs.failed": "0", "secrets.review-token || github.token": fake.token,
                     "GITHUB_API_URL": fake.url}
        proc, runner = ci.run_step("gate", workspace, tmp_path, **overrides)
        assert proc.returncode == 3, proc.stdout + proc.stderr
        assert "::error title=krmfn review-gate::" in proc.stdout and "missing  @acme/security" in runner["summary"]
        assert fake.token not in proc.stdout + proc.stderr + runner["summary"]
        report = json.loads(Path(runner["env"]["REVIEW_JSON"]).read_text())
        owners = [o["owner"] for o in report["routing"]["requiredOwners"]]
        assert "@acme/security" in owners  # the destructive grant, by the base's policy
        [post] = fake.posts()
        assert set(post.body["team_reviewers"]) == {o.split("/")[1] for o in owners if "/" in o}
        for owner in owners:  # every owner approves the head commit, teams through a member
            login = f"member-of-{owner.split('/')[-1]}" if "/" in owner else owner[1:]
            if "/" in owner:
                fake.teams.setdefault(owner[1:], set()).add(login)
            pr.review(login, "APPROVED")
        proc, runner = ci.run_step("gate", workspace, tmp_path, **overrides)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"{len(owners)} of {len(owners)} required owners approved" in runner["summary"]
        assert len(fake.posts()) == 1  # nobody asked twice
        proc, _ = ci.run_step("gate", workspace, tmp_path, **{**overrides, "steps.render.outputs.failed": "1"})
        assert proc.returncode == 1 and "not every overlay rendered" in proc.stdout


# --- the README, as written --------------------------------------------------------------------

README = (ROOT / "README.md").read_text()


def test_readme_codeowners_commands_work_as_written(tmp_path):
    repo = example_copy(tmp_path)
    (repo / ".github").mkdir()
    write = "krmfn codeowners base overlays .krmfn -o .github/CODEOWNERS           # write (or update) krmfn's block"
    check = "krmfn codeowners base overlays .krmfn -o .github/CODEOWNERS --check   # CI: exit 1 when it is out of date"
    assert write in README and check in README
    command = lambda line: line.split("  #")[0].strip()  # noqa: E731
    proc = support.shell(command(check), cwd=repo)
    assert proc.returncode == 1 and "is out of date" in proc.stderr
    assert support.shell(command(write), cwd=repo).returncode == 0
    proc = support.shell(command(check), cwd=repo)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert (repo / ".github" / "CODEOWNERS").read_text() == (GOLDEN / "CODEOWNERS").read_text()


def test_readme_error_line_is_what_krmfn_prints(tmp_path):
    [line] = [l for l in README.splitlines() if l.startswith("[error] krmfn.dev/v1alpha1/ReviewPolicy/")]
    repo = example_copy(tmp_path)
    policy_file = repo / ".krmfn" / "review-policy.yaml"
    policy_file.write_text(policy_file.read_text().replace("classes: [destructive-grant]", "classes: [destructive-grants]"))
    case = CASES / "tool-granted"
    proc = support.shell(f"krmfn diff {case}/old.yaml {case}/new.yaml --review-policy .krmfn/review-policy.yaml", cwd=repo)
    assert proc.returncode == 1 and proc.stderr == line + "\n", proc.stderr


def test_a_change_cannot_lower_the_risk_its_own_grant_is_routed_by(tmp_path, monkeypatch, capsys):
    """The head re-classifies delete_pod as read (its catalog is part of the change) and grants it:
    routed by the base render's class, destructive."""
    def agent(name: str, risk: str, tools: list[str]) -> str:
        return (f"---\napiVersion: kagent.dev/v1alpha2\nkind: Agent\nmetadata:\n  name: {name}\n  namespace: team\n"
                f"  annotations:\n    krmfn.dev/tool-risks: '{{\"team/tools\":{{\"get_pods\":\"read\",\"delete_pod\":\"{risk}\"}}}}'\n"
                f"spec:\n  declarative:\n    modelConfig: m\n    systemMessage: x\n    tools:\n    - type: McpServer\n"
                f"      mcpServer: {{name: tools, kind: RemoteMCPServer, toolNames: {json.dumps(tools)}}}\n")
    (tmp_path / "old.yaml").write_text(agent("ops", "destructive", ["delete_pod"]) + agent("helper", "destructive", ["get_pods"]))
    (tmp_path / "new.yaml").write_text(agent("ops", "read", ["delete_pod"]) + agent("helper", "read", ["get_pods", "delete_pod"]))
    monkeypatch.chdir(tmp_path)
    code, out, err = diff(capsys, "old.yaml", "new.yaml", "--format", "json", "--review-policy", str(POLICY))
    assert code == 0, err
    findings = {(a["agent"], f["class"]): f for a in json.loads(out)["environments"][0]["agents"] for f in a["findings"]}
    grant = findings[("team/helper", "tool-granted")]
    assert grant["risk"] == "read"  # what the head claims, shown as it is
    assert grant["reviewers"]["routes"] == ["destructive", "write-or-worse"]  # routed as the base knew it


def test_a_broken_base_policy_fails_closed_in_one_line(tmp_path, monkeypatch, capsys):
    repo = tmp_path / "repo"
    (repo / ".krmfn").mkdir(parents=True)
    (repo / "env").mkdir()
    (repo / "env" / "kustomization.yaml").write_text("resources: []\n")
    (repo / ".krmfn" / "review-policy.yaml").write_text(GOOD.replace('owners: ["@acme/billing"]', "owners: [billing]"))
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", ".")
    git(repo, "commit", "--quiet", "-m", "broken policy")
    monkeypatch.chdir(repo)
    code, out, err = diff(capsys, "--git", "HEAD..", "env")
    assert (code, out) == (1, "") and err.count("\n") == 1, err
    assert err.startswith("[error] krmfn.dev/v1alpha1/ReviewPolicy/review spec.routes[6].owners: ")
    assert err.rstrip().endswith("(.krmfn/review-policy.yaml at HEAD)")
    code, _, err = diff(capsys, "--git", "HEAD..", "env", "--review-policy", "x", "--no-review-policy")
    assert code == 1 and "exclude each other" in err


@pytest.mark.parametrize("case", ROUTED_CASES)
def test_markdown_reviewers_render_as_tables(case, monkeypatch, capsys):
    from test_review import markdown_structure

    monkeypatch.chdir(CASES / case)
    _, markdown, _ = diff(capsys, "old.yaml", "new.yaml", "--format", "markdown", "--review-policy", str(POLICY))
    _, out, _ = diff(capsys, "old.yaml", "new.yaml", "--format", "json", "--review-policy", str(POLICY))
    doc = json.loads(out)
    md = markdown_structure(markdown)
    [summary] = [t for t in md["tables"] if t["header"] == ["Owner", "Findings", "Routes"]]
    assert [(r[0], int(r[1])) for r in summary["rows"]] == [  # code spans: a posted comment pings nobody
        (f"`{o['owner']}`", o["findings"]) for o in doc["routing"]["requiredOwners"]]
    tables = [t for t in md["tables"] if t["header"] == ["Change", "Details", "Reviewers"]]
    findings = [f for a in doc["environments"][0]["agents"] for f in a["findings"]]
    assert [r[2] for t in tables for r in t["rows"]] == [", ".join(f"`{o}`" for o in f["reviewers"]["owners"])
                                                         for f in findings]
    objects = [t for t in md["tables"] if t["header"] == ["Change", "Kind", "Name", "Fields", "Reviewers"]]
    assert [r[4] for t in objects for r in t["rows"]] == [
        ", ".join(f"`{o}`" for o in obj["reviewers"]["owners"]) for obj in doc["environments"][0]["objects"]]


def test_gate_a_team_of_another_org_is_not_requested_but_still_required(github, tmp_path, capsys):
    code, out, _ = gate(capsys, report(tmp_path, "@other-org/security"))
    assert code == 3 and "@other-org/security: a team of another organisation: request it by hand" in out
    assert github.posts() == []
    github.teams["other-org/security"] = {"zoe"}
    github.pulls[(REPO, NUMBER)].review("zoe", "APPROVED")
    assert gate(capsys, report(tmp_path, "@other-org/security"))[0] == 0


@pytest.mark.parametrize("url,line", [
    ("http://api.github.example", "GITHUB_API_URL: plain http only on loopback (the token would travel in clear)"),
    ("ftp://user:hunter2@example.com", "GITHUB_API_URL is not an http(s) URL"),
])
def test_gate_refuses_an_api_url_that_would_leak_the_token(url, line, github, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GITHUB_API_URL", url)
    code, out, err = gate(capsys, report(tmp_path, "@alice"))
    assert (code, out, err) == (1, "", f"[error] {line}\n")
    assert github.requests == []


def test_imports_stay_lazy():
    import sys

    code = ("import sys, krmfn.cli, krmfn.commands.codeowners, krmfn.commands.review_gate, krmfn.review.routing, "
            "krmfn.review.gate, krmfn.review.github; print(sorted(m for m in ('pydantic', 'yaml', 'jinja2', "
            "'krmfn.api.review', 'krmfn.commands.diff') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
