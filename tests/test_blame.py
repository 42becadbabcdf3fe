"""`krmfn blame` (krmfn/expand/provenance.py, krmfn/commands/blame.py) on a real temporary git
repository: the example's base/agents and overlays/dev, committed by several authors, one commit
numbered like a squashed pull request, one brought in by a merge commit of a pull request, a
template variable changed in its description, and a line not committed yet.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from krmfn.expand.prompts import PromptRenderer, PromptSource
from krmfn.runtime import yamlio
from support import ROOT, module

PROMPT = Path("base/agents/prompts/platform-agents/k8s-readonly.md")
DESCRIPTION = Path("base/agents/k8s-readonly.yaml")
OVERLAY = "overlays/dev"


def git(repo: Path, *args: str, author: str = "Alice Example") -> str:
    email = author.split()[0].lower() + "@example.com"
    env = {**os.environ, "GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": author,
           "GIT_COMMITTER_EMAIL": email}
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env).stdout


def digest_of(repo: Path, agent: str = "k8s-readonly") -> str:
    proc = module("build", OVERLAY, cwd=repo)
    assert proc.returncode == 0, proc.stderr
    found = [d for d in yamlio.load_all(proc.stdout) if d and d["kind"] == "Agent" and d["metadata"]["name"] == agent]
    return found[0]["metadata"]["annotations"]["krmfn.dev/prompt-digest"]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new))


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    repo = tmp_path_factory.mktemp("blame-repo")
    shutil.copytree(ROOT / "base" / "agents", repo / "base" / "agents")
    shutil.copytree(ROOT / OVERLAY, repo / OVERLAY)
    edit(repo / "base/agents/billing-assistant.yaml", "    file: billing-assistant.md\n",
         "    text: |\n      You are {{ vars.company }}'s billing assistant.\n\n      Never share one customer's data.\n")
    patched = repo / "overlays" / "patched"  # prompts as ConfigMaps, and a variable set by a patch
    shutil.copytree(repo / OVERLAY, patched)
    edit(patched / "expand.yaml", "promptMode: Inline", "promptMode: ConfigMap")
    edit(patched / "kustomization.yaml", "transformers:", "patches:\n"
         "- target: {group: krmfn.dev, kind: AgentDescription, name: k8s-readonly}\n"
         "  patch: |-\n    - op: replace\n      path: /spec/prompt/vars/team\n      value: night-shift\n"
         "transformers:")
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", ".")
    git(repo, "commit", "--quiet", "-m", "agents")
    digests = {"first": digest_of(repo)}
    edit(repo / PROMPT, "Never suggest that you changed anything.", "Never claim to have changed anything.")
    git(repo, "commit", "--quiet", "-am", "k8s-readonly: a stricter read-only rule (#41)", author="Bob Builder")
    digests["squashed"] = digest_of(repo)
    git(repo, "checkout", "--quiet", "-b", "carol/evidence")
    edit(repo / PROMPT, "the evidence, and the command", "the evidence you found, and the command")
    git(repo, "commit", "--quiet", "-am", "say which evidence", author="Carol Writer")
    git(repo, "checkout", "--quiet", "main")
    git(repo, "merge", "--quiet", "--no-ff", "-m", "Merge pull request #57 from carol/evidence", "carol/evidence",
        author="Dana Maintainer")
    edit(repo / DESCRIPTION, "team: platform", "team: platform-sre")
    git(repo, "commit", "--quiet", "-am", "rename the team", author="Erin Lead")
    digests["head"] = digest_of(repo)
    edit(repo / PROMPT, "Tools you may use:", "Tools you may call:")  # not committed
    return repo, digests


def blame_json(repo: Path, *args: str) -> dict:
    proc = module("blame", *args, "--format", "json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_each_line_names_its_commit_author_and_pull_request(repo):
    repo, _ = repo
    report = blame_json(repo, OVERLAY, "k8s-readonly")
    assert report["file"] == str(PROMPT) and report["agent"] == "platform-agents/k8s-readonly"
    by_text = {row["text"]: row for row in report["lines"]}
    strict = by_text["You can only read the cluster. Never claim to have changed anything."]
    assert (strict["fileLine"], strict["commit"]["author"], strict["commit"]["pullRequest"]) == (3, "Bob Builder", 41)
    evidence = next(row for text, row in by_text.items() if text.startswith("the evidence you found"))
    assert evidence["commit"]["author"] == "Carol Writer" and evidence["commit"]["pullRequest"] == 57  # by its merge
    assert evidence["commit"]["short"] == git(repo, "rev-parse", "--short=8", "carol/evidence").strip()
    start = next(row for text, row in by_text.items() if text.startswith("Start from events"))
    assert start["commit"]["author"] == "Alice Example" and start["commit"]["pullRequest"] is None
    uncommitted = by_text["Tools you may call:"]
    assert uncommitted["commit"]["author"] == "not committed yet"
    # the prompt is the rendered one, line for line
    rendered = "\n".join(row["text"] for row in report["lines"])
    assert rendered.startswith("You are k8s-readonly, the platform-sre team's")


def test_lines_written_by_variables_name_the_variable_and_where_it_was_set(repo):
    repo, _ = repo
    report = blame_json(repo, OVERLAY, "k8s-readonly")
    first = report["lines"][0]
    assert first["fileLine"] == 1
    origins = {v["variable"]: v["setIn"] for v in first["variables"]}
    assert origins == {"name": f"{DESCRIPTION} metadata.name", "team": f"{DESCRIPTION} spec.prompt.vars.team",
                       "environment": f"{OVERLAY}/expand.yaml spec.environment"}
    tools = [row for row in report["lines"] if row["text"].startswith("- k8s_")]
    assert len(tools) == 4 and all(row["fileLine"] == 6 for row in tools)
    assert all(row["variables"][0]["variable"] == "tools" and row["variables"][0]["setIn"] == f"{DESCRIPTION} spec.tools"
               for row in tools)
    text = module("blame", OVERLAY, "k8s-readonly", cwd=repo).stdout
    assert "↳ {{ team }}: team from base/agents/k8s-readonly.yaml spec.prompt.vars.team" in text
    assert " #41 " in text and "Bob Builder" in text


def test_an_inline_prompt_is_blamed_in_its_description(repo):
    repo, _ = repo
    report = blame_json(repo, OVERLAY, "billing-assistant")
    assert report["file"] == "base/agents/billing-assistant.yaml"
    lines = [(row["text"], row["fileLine"], [v["setIn"] for v in row["variables"]]) for row in report["lines"]]
    assert lines == [("You are Acme's billing assistant.", 12,
                      ["base/agents/billing-assistant.yaml spec.prompt.vars.company"]),
                     ("", 13, []), ("Never share one customer's data.", 14, [])]
    assert all(row["commit"]["author"] == "Alice Example" for row in report["lines"])


def test_a_configmap_prompt_and_a_patched_variable(repo):
    repo, _ = repo
    report = blame_json(repo, "overlays/patched", "k8s-readonly")
    first = report["lines"][0]
    assert first["text"].startswith("You are k8s-readonly, the night-shift team's")
    team = next(v for v in first["variables"] if v["variable"] == "team")
    assert team["setIn"] == ("a patch of the build (overlays/patched/kustomization.yaml or a base it reads); "
                             f"{DESCRIPTION} spec.prompt.vars.team says otherwise")
    environment = next(v for v in first["variables"] if v["variable"] == "environment")
    assert environment["setIn"] == "overlays/patched/expand.yaml spec.environment"
    assert report["lines"][2]["commit"]["author"] == "Bob Builder"


def test_digest_finds_the_commit_that_rendered_it(repo):
    repo, digests = repo
    first = blame_json(repo, "--digest", digests["first"], OVERLAY)
    assert first["introducedBy"]["hash"] == git(repo, "rev-list", "--max-parents=0", "HEAD").strip()
    assert first["agents"] == ["platform-agents/k8s-readonly"] and first["maybeOlder"] is False
    squashed = blame_json(repo, "--digest", digests["squashed"], OVERLAY)
    assert squashed["introducedBy"]["author"] == "Bob Builder" and squashed["introducedBy"]["pullRequest"] == 41
    head = blame_json(repo, "--digest", digests["head"], OVERLAY)
    assert head["introducedBy"]["author"] == "Erin Lead"
    text = module("blame", "--digest", digests["squashed"], OVERLAY, cwd=repo).stdout
    assert "introduced by" in text and "(#41)" in text
    assert git(repo, "worktree", "list").count("\n") == 1  # the temporary worktrees are gone


def test_digest_not_found_says_so(repo):
    repo, digests = repo
    proc = module("blame", "--digest", "sha256:" + "0" * 64, OVERLAY, cwd=repo)
    assert proc.returncode == 1 and proc.stdout == ""
    assert "was not rendered by overlays/dev at any of the last" in proc.stderr and len(proc.stderr.splitlines()) == 1
    proc = module("blame", "--digest", digests["first"], OVERLAY, "--max-commits", "1", cwd=repo)
    assert proc.returncode == 1 and "raise --max-commits" in proc.stderr


@pytest.mark.parametrize("args, expected", [
    ((OVERLAY,), "expected an overlay and an agent"),
    ((OVERLAY, "nobody"), "agent nobody is not in the render of overlays/dev"),
    (("nowhere", "k8s-readonly"), "nowhere: not a kustomization directory"),
    (("--digest", "abc", OVERLAY), "expected sha256: and 64 hex digits"),
    (("--digest", "sha256:" + "0" * 64, OVERLAY, "--max-commits", "0"), "--max-commits: expected a positive"),
])
def test_usage_errors_are_one_line(repo, args, expected):
    repo, _ = repo
    proc = module("blame", *args, cwd=repo)
    assert proc.returncode == 1 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and expected in proc.stderr, proc.stderr


def test_outside_git_is_one_line(tmp_path):
    shutil.copytree(ROOT / "base" / "agents", tmp_path / "base" / "agents")
    shutil.copytree(ROOT / OVERLAY, tmp_path / OVERLAY)
    proc = module("blame", OVERLAY, "k8s-readonly", cwd=tmp_path)
    assert proc.returncode == 1 and "is not in a git repository" in proc.stderr


@pytest.mark.parametrize("overlay", ["overlays/prod", "overlays/staging", "base"])
def test_every_example_prompt_is_traced_exactly(overlay):
    """The trace reproduces every rendered prompt (blame refuses one it cannot), line for line."""
    from krmfn.expand import provenance

    config, items = provenance.capture_input(overlay, str(ROOT))
    traces = provenance.trace_prompts(config, items)
    assert len(traces) == 4
    for trace in traces:
        lines = provenance.output_lines(trace)
        assert "\n".join(line.text for line in lines) == trace.text.removesuffix("\n")
        assert all(line.template_line for line in lines if line.text.strip())


def test_the_tracing_renderer_changes_no_output():
    template = ("{% macro item(t) %}* {{ t | upper }}{% endmacro %}Hello {{ name }}!\n{% for t in tools %}\n"
                "{{ item(t) }} ({{ loop.index }})\n{% endfor %}\n{% if x %}yes{% else %}no{% endif %} {{ vars.a }}\n")
    from krmfn.expand.provenance import TracingRenderer, output_lines

    variables = {"name": "n", "tools": ["a", "b"], "x": False, "vars": {"a": "A"}}
    source = PromptSource(template, "t.md")
    plain = PromptRenderer().render(source, variables)
    traced = TracingRenderer()
    assert traced.render(source, variables) == plain
    lines = output_lines(TracingRenderer.traces[-1])
    assert [line.text for line in lines] == plain.removesuffix("\n").split("\n")
    assert [line.template_line for line in lines] == [1, 3, 3, 5]


def test_no_function_imports_provenance():
    """Blame's line map is computed only for blame: nothing on a function's path imports it."""
    importers = []
    for path in sorted((ROOT / "krmfn").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names += [a.name for a in node.names]
            if any("provenance" in n for n in names):
                importers.append(str(path.relative_to(ROOT)))
    assert sorted(set(importers)) == ["krmfn/commands/blame.py"]


def test_markdown_is_a_table_for_a_pull_request_comment(repo):
    repo, _ = repo
    proc = module("blame", OVERLAY, "k8s-readonly", "--format", "markdown", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "### Prompt of `platform-agents/k8s-readonly` in `overlays/dev`"
    assert "| Line | Prompt | Commit | Date | Author | PR | Set by |" in lines
    strict = next(line for line in lines if "Never claim to have changed anything." in line)
    assert strict.startswith("| 3 | `You can only read the cluster.") and "| `Bob Builder` | #41 |" in strict
    first = next(line for line in lines if line.startswith("| 1 | "))
    assert "`{{ team }}`: `team` from `base/agents/k8s-readonly.yaml spec.prompt.vars.team`" in first
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| Line")]
    assert len(rows) == len(blame_json(repo, OVERLAY, "k8s-readonly")["lines"]) + 1  # + the separator row


def test_markdown_never_formats_links_or_mentions_what_an_author_wrote(repo, tmp_path):
    """A prompt line and a git author are the pull request author's: in the comment they stay code
    spans in one escaped cell, so a pipe cannot add a column and an @name pings nobody."""
    source, _ = repo
    copy = tmp_path / "repo"
    shutil.copytree(source, copy)
    edit(copy / PROMPT, "Tools you may call:", "Tools | you `may` call: @oncall <img src=x> **now**")
    git(copy, "commit", "--quiet", "-am", "hostile (#99) @admin", author="Mallory @security|team")
    proc = module("blame", OVERLAY, "k8s-readonly", "--format", "markdown", cwd=copy)
    assert proc.returncode == 0, proc.stderr
    [row] = [line for line in proc.stdout.splitlines() if "@oncall" in line]
    assert "| `` Tools \\| you `may` call: @oncall <img src=x> **now** `` |" in row
    assert "| `Mallory @security\\|team` | #99 |" in row
    assert len(re.findall(r"(?<!\\)\|", row)) == 8  # seven cells, whatever the text held
    digest = digest_of(copy)
    found = module("blame", "--digest", digest, OVERLAY, "--format", "markdown", cwd=copy)
    assert found.returncode == 0, found.stderr
    assert "introduced by `" in found.stdout and "`Mallory @security|team`, #99): `hostile (#99) @admin`" in found.stdout
