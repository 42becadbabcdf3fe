"""`krmfn diff` and `krmfn graph` (krmfn/review): golden tests per change class, gating and exit
codes, `--git` on a real temporary repository, Markdown checked by rendering it with markdown-it-py,
and Mermaid checked by mermaid's own parser (under node) when it is installed, plus, always, a
structural validator of the flowchart subset krmfn emits.

Golden cases live in tests/review_cases/<case>/{old,new}.yaml with expected.md and expected.json.
KRMFN_UPDATE_GOLDEN=1 rewrites the expectations and fails; read the diff, then run again.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import yaml
from pathlib import Path

import pytest

import support
from krmfn.commands import diff as diff_cmd
from krmfn.commands import graph as graph_cmd

ROOT = Path(__file__).resolve().parents[1]
CASES = Path(__file__).resolve().parent / "review_cases"
UPDATE = os.environ.get("KRMFN_UPDATE_GOLDEN", "") not in ("", "0")
MERMAID_DIR = ROOT / ".tools" / "mermaid"

# What each case must report: agent -> its finding classes, in order.
EXPECTED = {
    "prompt-changed": {"team/helper": ["prompt-changed"]},
    "prompt-configmap": {"team/helper": ["prompt-changed"]},
    "model-changed": {"team/reviewer": ["model-changed"], "team/writer": ["model-changed"]},
    # an effort change is its own behaviour class, never operational; the tier change is the model's
    "effort-changed": {"team/planner": ["effort-changed"], "team/writer": ["effort-changed"],
                       "team/critic": ["model-changed"]},
    "tool-granted": {"team/k8s": ["tool-granted"], "team/ops": ["tool-granted", "tool-granted"],
                     "team/wild": ["tool-granted"]},
    "tool-revoked": {"team/ops": ["tool-revoked", "tool-revoked"]},
    "approvals": {"team/ops": ["approval-added", "approval-removed"]},
    "delegates": {"team/lead": ["delegate-added", "delegate-removed"]},
    "skills-changed": {"team/helper": ["skills-changed"]},
    "skill-version-changed": {"platform-agents/refunds": ["skill-version-changed"]},
    "reach-changed": {"team/fixer": ["tool-granted"], "team/lead": ["reach-changed"]},
    "operational": {"team/helper": ["operational"]},
    "agent-added-removed": {"team/janitor": ["agent-added"], "team/legacy": ["agent-removed"]},
    "objects": {},
    "config-changed": {"team/helper": ["config-changed"]},
    "prompt-model-tool": {"platform-agents/k8s-readonly": ["prompt-changed", "model-changed", "tool-granted"]},
    "no-change": {},
    # the two renders of the example prod overlay, kagent 0.10 and 1.0 (tests/test_kagent_v1.py keeps them current)
    "migration": {f"platform-agents/{name}": ["target-changed", *rest] for name, rest in (
        ("billing-assistant", ["operational"]), ("k8s-readonly", ["skills-changed", "operational"]),
        ("promql-agent", ["model-changed", "skills-changed"]), ("supervisor", ["skills-changed"]))},
}


def case_dirs() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if (p / "old.yaml").exists())


def run_diff(capsys, argv: list[str]) -> tuple[int, str, str]:
    code = diff_cmd.run(argv)
    out, err = capsys.readouterr()
    return code, out, err


def report_json(capsys, case: str, *extra: str) -> tuple[int, dict]:
    code, out, _ = run_diff(capsys, ["old.yaml", "new.yaml", "--format", "json", *extra])
    return code, json.loads(out)


def classes(doc: dict, environment: int = 0) -> dict[str, list[str]]:
    return {a["agent"]: [f["class"] for f in a["findings"]] for a in doc["environments"][environment]["agents"]}


@pytest.fixture
def in_case(monkeypatch):
    def enter(case: str) -> Path:
        monkeypatch.chdir(CASES / case)
        return CASES / case
    return enter


# --- golden ------------------------------------------------------------------------------------


def test_every_case_has_expectations():
    assert sorted(EXPECTED) == case_dirs()


@pytest.mark.parametrize("case", case_dirs())
@pytest.mark.parametrize("fmt,expected_file", [("markdown", "expected.md"), ("json", "expected.json")])
def test_golden(case, fmt, expected_file, in_case, capsys):
    directory = in_case(case)
    code, out, err = run_diff(capsys, ["old.yaml", "new.yaml", "--format", fmt])
    assert code == 0 and err == ""
    expected = directory / expected_file
    if UPDATE:
        expected.write_text(out)
        pytest.fail(f"{expected}: written (KRMFN_UPDATE_GOLDEN is set); review the diff, then run without it")
    assert expected.exists(), f"{expected}: missing (run with KRMFN_UPDATE_GOLDEN=1)"
    assert out == expected.read_text(), f"{case}: {fmt} output differs from {expected_file}"


@pytest.mark.parametrize("case", case_dirs())
def test_classes(case, in_case, capsys):
    in_case(case)
    _, doc = report_json(capsys, case)
    assert classes(doc) == EXPECTED[case]


def test_prompt_model_and_tool_are_three_findings(in_case, capsys):
    in_case("prompt-model-tool")
    _, doc = report_json(capsys, "prompt-model-tool")
    findings = doc["environments"][0]["agents"][0]["findings"]
    prompt, model, tool = findings
    assert prompt["diff"].splitlines()[2:] == [
        "@@ -1,2 +1,2 @@",
        " You can only read the cluster.",
        "-Start from events and pod logs.",
        "+Start from events and pod logs, then read the rollout history.",
    ]
    assert model["changed"] == ["model"] and model["model"] == {"old": "llama3.2", "new": "qwen2.5:14b"}
    assert (tool["server"], tool["tool"], tool["risk"]) == ("platform-agents/kagent-tools", "k8s_get_pod_logs", "read")
    # The ModelConfig itself is summarised with the other objects, not as an agent finding.
    assert doc["environments"][0]["objects"] == [{
        "change": "changed", "apiVersion": "kagent.dev/v1alpha2", "kind": "ModelConfig",
        "namespace": "platform-agents", "name": "model-standard", "fields": ["spec.model"]}]


def test_replicas_only_is_operational(in_case, capsys):
    in_case("operational")
    _, doc = report_json(capsys, "operational")
    [finding] = doc["environments"][0]["agents"][0]["findings"]
    assert finding["class"] == "operational"
    assert finding["changes"] == {"replicas": {"old": 1, "new": 3}}
    assert doc["environments"][0]["summary"]["findings"] == {"operational": 1}


def test_destructive_grants_are_flagged(in_case, capsys):
    in_case("tool-granted")
    _, doc = report_json(capsys, "tool-granted")
    flagged = {(a["agent"], f["tool"]): f["risk"] for a in doc["environments"][0]["agents"]
               for f in a["findings"] if f["destructive"]}
    # delete_pod: from the tool-risks annotation; k8s_apply_manifest: krmfn's built-in catalog.
    assert flagged == {("team/ops", "delete_pod"): "destructive", ("team/k8s", "k8s_apply_manifest"): "destructive"}
    wild = [a for a in doc["environments"][0]["agents"] if a["agent"] == "team/wild"][0]["findings"][0]
    assert (wild["tool"], wild["risk"]) == ("*", "unknown")


def test_reach_names_the_delegate(in_case, capsys):
    in_case("reach-changed")
    _, doc = report_json(capsys, "reach-changed")
    lead = [a for a in doc["environments"][0]["agents"] if a["agent"] == "team/lead"][0]["findings"][0]
    assert lead["gained"] == [{"server": "team/tools", "tool": "delete_pod", "risk": "destructive", "via": ["team/fixer"]}]
    assert lead["destructive"] is True


def test_prompt_diff_is_of_text_not_yaml(in_case, capsys):
    in_case("prompt-configmap")
    _, doc = report_json(capsys, "prompt-configmap")
    diff = doc["environments"][0]["agents"][0]["findings"][0]["diff"]
    assert '+- Quote "exact" error messages, in a ```code block```.' in diff.splitlines()
    assert "\\n" not in diff and "prompt.md: |" not in diff


def test_delegation_cycle_terminates(tmp_path, capsys):
    cycle = """\
apiVersion: kagent.dev/v1alpha2
kind: Agent
metadata: {name: a, namespace: ns}
spec: {declarative: {modelConfig: m, tools: [{type: Agent, agent: {name: b}}]}}
---
apiVersion: kagent.dev/v1alpha2
kind: Agent
metadata:
  name: b
  namespace: ns
  annotations: {krmfn.dev/tool-risks: '{"ns/s":{"x":"write","y":"destructive"}}'}
spec:
  declarative:
    modelConfig: m
    tools:
    - {type: Agent, agent: {name: a}}
    - {type: McpServer, mcpServer: {name: s, kind: RemoteMCPServer, toolNames: [%s]}}
"""
    (tmp_path / "old.yaml").write_text(cycle % "x")
    (tmp_path / "new.yaml").write_text(cycle % "x, y")
    code, out, _ = run_diff(capsys, [str(tmp_path / "old.yaml"), str(tmp_path / "new.yaml"), "--format", "json"])
    assert code == 0
    assert classes(json.loads(out)) == {"ns/a": ["reach-changed"], "ns/b": ["tool-granted"]}


def test_directories_of_rendered_yaml(tmp_path, capsys):
    for side in ("old", "new"):
        (tmp_path / side / "agents").mkdir(parents=True)
        text = (CASES / "prompt-model-tool" / f"{side}.yaml").read_text()
        agent, model_config = text.split("\n---\n")
        (tmp_path / side / "agents" / "agent.yaml").write_text(agent)
        (tmp_path / side / "models.yml").write_text(model_config)
    code, out, _ = run_diff(capsys, [str(tmp_path / "old"), str(tmp_path / "new"), "--format", "json"])
    assert code == 0
    assert classes(json.loads(out)) == EXPECTED["prompt-model-tool"]


# --- gating and errors -------------------------------------------------------------------------


def test_fail_on_destructive_grant_exits_3(in_case, capsys):
    in_case("tool-granted")
    code, out, err = run_diff(capsys, ["old.yaml", "new.yaml", "--fail-on", "destructive-grant,model-change",
                                       "--format", "json"])
    assert code == 3
    assert err.count("\n") == 1 and err.startswith("[error] --fail-on destructive-grant,model-change: 2 gated")
    gate = json.loads(out)["gate"]
    assert gate["exitCode"] == 3 and {h["agent"] for h in gate["matched"]} == {"team/ops", "team/k8s"}


@pytest.mark.parametrize("case,fail_on,code", [
    ("operational", "destructive-grant,model-change,prompt-change,tool-grant", 0),
    ("operational", "operational", 3),
    ("prompt-model-tool", "prompt-change", 3),
    ("prompt-model-tool", "model-changed", 3),  # class names work as well as gate names
    ("prompt-model-tool", "destructive-grant", 0),
    ("approvals", "approval-removed", 3),
    ("approvals", "destructive-grant", 3),  # approval dropped on a destructive tool
    ("reach-changed", "reach-change", 3),
    ("objects", "object-change", 3),
    ("objects", "any", 3),
    ("no-change", "any", 0),
    ("agent-added-removed", "tool-grant", 3),
    ("delegates", "delegate-change", 3),
    ("effort-changed", "effort-change", 3),
    ("effort-changed", "effort-changed", 3),
    ("effort-changed", "operational", 0),  # an effort change is behaviour, never operational
])
def test_fail_on(case, fail_on, code, in_case, capsys):
    in_case(case)
    assert run_diff(capsys, ["old.yaml", "new.yaml", "--fail-on", fail_on])[0] == code


@pytest.mark.parametrize("argv,message", [
    (["missing.yaml", "new.yaml"], "missing.yaml: no such file or directory"),
    (["old.yaml"], "expected OLD and NEW, got 1 path"),
    (["old.yaml", "new.yaml", "--fail-on", "bogus"], "--fail-on: unknown class 'bogus'"),
    (["old.yaml", "new.yaml", "--format", "html"], "invalid choice: 'html'"),
    (["old.yaml", "new.yaml", "--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    (["bad.yaml", "new.yaml"], "bad.yaml: line 2 column"),
    (["list.yaml", "new.yaml"], "list.yaml: document 1: not a Kubernetes object"),
    (["--git", "HEAD", "."], "--git 'HEAD': expected REV1..REV2"),
])
def test_bad_input_is_one_line_and_exit_1(argv, message, tmp_path, monkeypatch, capsys):
    for name in ("old.yaml", "new.yaml"):
        shutil.copy(CASES / "operational" / name, tmp_path / name)
    (tmp_path / "bad.yaml").write_text("kind: Agent\n  nope: [\n")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    monkeypatch.chdir(tmp_path)
    code, out, err = run_diff(capsys, argv)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("[error] ") and message in err, err


def test_graph_bad_input(capsys, tmp_path):
    assert graph_cmd.run([str(tmp_path / "nope.yaml")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope.yaml: no such file or directory" in err


# --- terminal text -----------------------------------------------------------------------------


def test_text_has_colour_only_when_asked(in_case, capsys):
    in_case("prompt-model-tool")
    _, plain, _ = run_diff(capsys, ["old.yaml", "new.yaml"])  # captured stdout is not a TTY
    assert "\033[" not in plain
    assert "prompt-changed" in plain and "-Start from events and pod logs." in plain
    _, coloured, _ = run_diff(capsys, ["old.yaml", "new.yaml", "--color", "always"])
    assert "\033[32m+Start from events and pod logs, then read the rollout history.\033[0m" in coloured
    assert re.sub(r"\033\[[0-9;]*m", "", coloured) == plain


def test_text_on_a_tty_is_coloured(in_case, monkeypatch, capsys):
    in_case("tool-granted")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    _, out, _ = run_diff(capsys, ["old.yaml", "new.yaml"])
    assert "\033[31m\033[1m!\033[0m" in out  # the destructive mark
    monkeypatch.setenv("NO_COLOR", "1")
    _, out, _ = run_diff(capsys, ["old.yaml", "new.yaml"])
    assert "\033[" not in out


# --- Markdown, rendered ------------------------------------------------------------------------


def markdown_structure(text: str) -> dict:
    """Headings, tables (header + rows of cell text) and fenced blocks, from markdown-it-py's tokens."""
    markdown_it = pytest.importorskip("markdown_it", reason="pip install markdown-it-py (test extra)")
    tokens = markdown_it.MarkdownIt("commonmark").enable("table").parse(text)
    headings, tables, fences, html = [], [], [], []
    table, row = None, None
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            headings.append((int(token.tag[1]), tokens[i + 1].content))
        elif token.type == "table_open":
            table = {"header": [], "rows": []}
        elif token.type == "tr_open":
            row = []
        elif token.type in ("th_open", "td_open"):
            row.append(tokens[i + 1].content)
        elif token.type == "tr_close":
            (table["rows"] if table["header"] else table["header"]).extend([row] if table["header"] else row)
        elif token.type == "table_close":
            tables.append(table)
        elif token.type == "fence":
            fences.append((token.info, token.content))
        elif token.type == "html_block":
            html.append(token.content.strip())
    return {"headings": headings, "tables": tables, "fences": fences, "html": html}


@pytest.mark.parametrize("case", case_dirs())
def test_markdown_renders_as_intended(case, in_case, capsys):
    in_case(case)
    _, markdown, _ = run_diff(capsys, ["old.yaml", "new.yaml", "--format", "markdown"])
    _, doc = report_json(capsys, case)
    env = doc["environments"][0]
    md = markdown_structure(markdown)
    assert md["headings"][:2] == [(2, "krmfn review"), (3, f"`{env['name']}`: `old.yaml` → `new.yaml`")]
    assert env["name"] == ("prod" if case == "migration" else "render")  # a render's krmfn.dev/environment
    agent_headings = [h for level, h in md["headings"] if level == 4 and h != "Other objects"]
    assert agent_headings == [f"`{a['agent']}` ({a['status']})" for a in env["agents"]]
    finding_tables = [t for t in md["tables"] if t["header"] == ["Change", "Details"]]
    assert len(finding_tables) == len(env["agents"])
    for table, agent in zip(finding_tables, env["agents"]):
        assert len(table["rows"]) == len(agent["findings"])
        for row, finding in zip(table["rows"], agent["findings"]):
            assert len(row) == 2 and row[1] == finding["summary"]
            assert ("(destructive)" in row[0]) == finding["destructive"]
    if env["summary"]["findings"]:
        [counts] = [t for t in md["tables"] if t["header"] == ["Change", "Count"]]
        assert sum(int(r[1]) for r in counts["rows"]) == sum(env["summary"]["findings"].values())
    diffs = [f.get("diff") for a in env["agents"] for f in a["findings"] if f.get("diff")]
    assert [content for info, content in md["fences"] if info == "diff"] == diffs
    assert md["html"].count("</details>") == len(diffs)
    objects = [t for t in md["tables"] if t["header"] == ["Change", "Kind", "Name", "Fields"]]
    assert len(objects) == (1 if env["objects"] else 0)
    if objects:
        assert [(r[0], r[1]) for r in objects[0]["rows"]] == [(o["change"], o["kind"]) for o in env["objects"]]
    if case == "no-change":
        assert "No changes." in markdown


def test_markdown_with_graph(in_case, capsys):
    in_case("reach-changed")
    _, markdown, _ = run_diff(capsys, ["old.yaml", "new.yaml", "--format", "markdown", "--graph"])
    md = markdown_structure(markdown)
    [(info, graph)] = [f for f in md["fences"] if f[0] == "mermaid"]
    assert validate_flowchart(graph) == []


# --- Mermaid -----------------------------------------------------------------------------------

_ID = r"[A-Za-z_][A-Za-z0-9_]*"
_LABEL = r'"[^"]*"'
_SHAPES = [r"\(\[" + _LABEL + r"\]\)", r"\[\(" + _LABEL + r"\)\]", r"\{\{" + _LABEL + r"\}\}",
           r"\[" + _LABEL + r"\]", r"\(" + _LABEL + r"\)"]
_NODE = re.compile(rf"^({_ID})(?:{'|'.join(_SHAPES)})$")
_EDGE = re.compile(rf"^({_ID}) (-->|-\.->|==>)(?:\|{_LABEL}\|)? ({_ID})$")
_SUBGRAPH = re.compile(rf"^subgraph ({_ID})\[{_LABEL}\]$")
_PROPS = r"[a-z-]+:[^,;]+(?:,[a-z-]+:[^,;]+)*"
_CLASSDEF = re.compile(rf"^classDef ({_ID}) {_PROPS}$")
_CLASS = re.compile(rf"^class ({_ID}(?:,{_ID})*) ({_ID})$")
_LINKSTYLE = re.compile(rf"^linkStyle ([0-9]+(?:,[0-9]+)*) {_PROPS}$")
_RESERVED = {"end", "subgraph", "graph", "flowchart", "class", "classDef", "style", "linkStyle", "click",
             "default", "direction"}


def validate_flowchart(text: str) -> list[str]:
    """A STAND-IN for Mermaid's parser: checks the flowchart subset krmfn emits (header, subgraph/end
    balance, node shapes with quoted labels, edges between defined nodes, classDef/class/linkStyle
    lines and their references, link indexes in range, no reserved ids, no stray quotes). It is not
    Mermaid's grammar; test_mermaid_real_parser runs the real one when it is installed."""
    problems: list[str] = []
    lines = text.split("\n")
    if not re.fullmatch(r"flowchart (LR|TB|TD|RL|BT)", lines[0]):
        problems.append(f"line 1: not a flowchart header: {lines[0]!r}")
    if text.count("```"):
        problems.append("a code fence inside the diagram")
    nodes: set[str] = set()
    subgraphs: set[str] = set()
    class_defs: set[str] = set()
    edges = 0
    depth = 0
    for number, raw in enumerate(lines[1:], start=2):
        line = raw.strip()
        if not line or line.startswith("%%"):
            continue
        where = f"line {number}"
        if line == "end":
            depth -= 1
            if depth < 0:
                problems.append(f"{where}: `end` without `subgraph`")
            continue
        if m := _SUBGRAPH.match(line):
            depth += 1
            subgraphs.add(m.group(1))
            continue
        if m := _NODE.match(line):
            if m.group(1) in nodes:
                problems.append(f"{where}: node {m.group(1)} defined twice")
            nodes.add(m.group(1))
            continue
        if m := _EDGE.match(line):
            for node in (m.group(1), m.group(3)):
                if node not in nodes:
                    problems.append(f"{where}: edge to undefined node {node}")
            edges += 1
            continue
        if m := _CLASSDEF.match(line):
            class_defs.add(m.group(1))
            continue
        if m := _CLASS.match(line):
            for node in m.group(1).split(","):
                if node not in nodes:
                    problems.append(f"{where}: class on undefined node {node}")
            if m.group(2) not in class_defs:
                problems.append(f"{where}: class {m.group(2)} has no classDef")
            continue
        if m := _LINKSTYLE.match(line):
            for index in map(int, m.group(1).split(",")):
                if index >= edges:
                    problems.append(f"{where}: linkStyle {index} but only {edges} edges")
            continue
        problems.append(f"{where}: not in the flowchart subset: {line!r}")
    if depth != 0:
        problems.append(f"{depth} subgraph(s) not closed")
    for identifier in nodes | subgraphs:
        if identifier.lower() in _RESERVED:
            problems.append(f"reserved word used as an id: {identifier}")
    if nodes & subgraphs:
        problems.append(f"ids used for nodes and subgraphs: {sorted(nodes & subgraphs)}")
    return problems


def diagrams() -> dict[str, str]:
    """Every graph the cases give: the new render's and the difference's, plus the real base render's."""
    from krmfn.review import mermaid, sources

    out = {}
    for case in case_dirs():
        old, new = sources.load(str(CASES / case / "old.yaml")), sources.load(str(CASES / case / "new.yaml"))
        out[f"{case}/graph"] = mermaid.graph(new)
        out[f"{case}/diff"] = mermaid.graph_diff(old, new, "TB")
    return out


def test_mermaid_structure():
    for name, text in diagrams().items():
        assert validate_flowchart(text) == [], name


@pytest.mark.parametrize("broken,problem", [
    ("flowchart LR\n  a[\"x\"]\n  a --> b\n", "edge to undefined node b"),
    ("flowchart LR\n  subgraph s[\"x\"]\n  a[\"x\"]\n", "not closed"),
    ("flowchart LR\n  a[\"x\" --> b\n", "not in the flowchart subset"),
    ("flowchart LR\n  a[\"x\"]\n  b[\"y\"]\n  a --> b\n  linkStyle 1 stroke:red\n", "only 1 edges"),
    ("flowchart LR\n  end[\"x\"]\n", "reserved word used as an id: end"),
    ("flowchart LR\n  a[\"x\"]\n  class a nope\n", "has no classDef"),
])
def test_mermaid_validator_catches_mistakes(broken, problem):
    assert any(problem in p for p in validate_flowchart(broken))


_PARSE_SCRIPT = """
import { JSDOM } from "jsdom";
const dom = new JSDOM("");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });
let input = "";
for await (const chunk of process.stdin) input += chunk;
const results = [];
for (const text of JSON.parse(input)) {
  try {
    const parsed = await mermaid.parse(text);
    results.push({ ok: true, type: parsed.diagramType });
  } catch (err) {
    results.push({ ok: false, error: String((err && err.message) || err) });
  }
}
process.stdout.write(JSON.stringify(results));
"""


def mermaid_parse(texts: list[str]) -> list[dict]:
    node = shutil.which("node")
    if node is None or not (MERMAID_DIR / "node_modules" / "mermaid").is_dir() \
            or not (MERMAID_DIR / "node_modules" / "jsdom").is_dir():
        pytest.skip("mermaid's parser is not installed: npm install --prefix .tools/mermaid mermaid@11 jsdom@29")
    proc = subprocess.run([node, "--input-type=module", "-e", _PARSE_SCRIPT], cwd=MERMAID_DIR,
                          input=json.dumps(texts), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_mermaid_real_parser():
    """mermaid.parse (mermaid 11, the library GitHub renders with) under node with jsdom."""
    graphs = diagrams()
    broken = "flowchart LR\n  a[\"x\"] --> b\n  linkStyle 3 stroke:red\n"
    results = mermaid_parse([*graphs.values(), broken])
    for name, result in zip([*graphs, "broken"], results):
        if name == "broken":
            assert not result["ok"], "the parser accepted a broken diagram: the check would be vacuous"
        else:
            assert result == {"ok": True, "type": "flowchart-v2"}, (name, result)


def test_graph_command(in_case, capsys):
    in_case("reach-changed")
    assert graph_cmd.run(["new.yaml", "--markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("```mermaid\nflowchart LR\n") and out.endswith("```\n")
    assert validate_flowchart(out[len("```mermaid\n"):-len("```\n")]) == []
    assert graph_cmd.run(["--diff", "old.yaml", "new.yaml"]) == 0
    out = capsys.readouterr().out
    assert "class a_team_fixer,a_team_lead changed" in out
    assert '-->|"+ ⚠ delete_pod<br/>get_pods"| s_team_tools' in out
    assert re.search(r"linkStyle \d+ stroke:#cf222e,stroke-width:3px", out)  # the destructive grant


def test_graph_of_added_and_removed(in_case, capsys):
    in_case("agent-added-removed")
    assert graph_cmd.run(["--diff", "old.yaml", "new.yaml"]) == 0
    out = capsys.readouterr().out
    assert "class a_team_janitor,s_team_tools added" in out
    assert "class a_team_legacy removed" in out
    assert "a_team_legacy -.->" in out  # its delegation edge: removed, dashed
    assert validate_flowchart(out) == []


# --- --git on a real repository ----------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env).stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """base/ (and overlays/ when present) plus an environment of our own, committed twice: the
    second commit rewords a prompt file, grants k8s-readonly one more tool and bumps the canary's
    replicas."""
    repo = tmp_path_factory.mktemp("repo")
    shutil.copytree(ROOT / "base", repo / "base")
    if (ROOT / "overlays").is_dir():
        shutil.copytree(ROOT / "overlays", repo / "overlays")
        shutil.copytree(ROOT / "vendor", repo / "vendor")  # the prod overlays' CRDs
    canary = repo / "envs" / "canary"
    canary.mkdir(parents=True)
    (canary / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../../base\n"
        "patches:\n- target: {group: kagent.dev, kind: Agent, name: k8s-readonly}\n  patch: |-\n"
        "    - op: replace\n      path: /spec/declarative/deployment/replicas\n      value: 2\n")
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", ".")
    git(repo, "commit", "--quiet", "-m", "agents")
    prompt = repo / "base" / "agents" / "prompts" / "platform-agents" / "k8s-readonly.md"
    prompt.write_text(prompt.read_text().replace("Never suggest that you changed anything.",
                                                 "Never suggest that you changed anything; say what a human should do."))
    agent = repo / "base" / "agents" / "k8s-readonly.yaml"
    agent.write_text(agent.read_text().replace("    - k8s_get_events\n",
                                               "    - k8s_get_events\n    - k8s_get_resource_yaml\n"))
    (canary / "kustomization.yaml").write_text((canary / "kustomization.yaml").read_text().replace("value: 2", "value: 4"))
    git(repo, "commit", "--quiet", "-am", "reword the prompt, grant a tool, scale the canary")
    return repo


def test_git_diff_of_base(repo, monkeypatch, capsys):
    monkeypatch.chdir(repo)
    code, out, err = run_diff(capsys, ["--git", "HEAD~1..HEAD", "base", "--format", "json",
                                       "--fail-on", "destructive-grant"])
    assert code == 0, err
    doc = json.loads(out)
    [env] = doc["environments"]
    assert (env["name"], env["old"], env["new"]) == ("base", "HEAD~1", "HEAD")
    # supervisor already reached read tools through k8s-readonly: one more read tool is no reach change
    assert classes(doc) == {"platform-agents/k8s-readonly": ["prompt-changed", "tool-granted"]}
    prompt, tool = env["agents"][0]["findings"]
    assert "-You can only read the cluster. Never suggest that you changed anything." in prompt["diff"].splitlines()
    assert ("+You can only read the cluster. Never suggest that you changed anything; say what a human should do."
            in prompt["diff"].splitlines())
    assert (tool["tool"], tool["risk"], tool["destructive"]) == ("k8s_get_resource_yaml", "read", False)
    # The worktrees are gone and the repository is untouched.
    assert git(repo, "worktree", "list").count("\n") == 1
    assert git(repo, "status", "--porcelain") == ""


def test_git_diff_per_environment(repo, monkeypatch, capsys):
    monkeypatch.chdir(repo / "envs")  # DIRs are relative to where krmfn runs, not to the repo root
    dirs = ["../base", "canary"] + (["../overlays/dev"] if (repo / "overlays" / "dev").is_dir() else [])
    code, out, err = run_diff(capsys, ["--git", "main~1..main", *dirs, "--format", "markdown", "--fail-on", "operational"])
    assert code == 3, err
    md = markdown_structure(out)
    envs = [h for level, h in md["headings"] if level == 3]
    assert envs == [f"`{os.path.normpath(d)}`: `main~1` → `main`" for d in dirs]
    _, doc_out, _ = run_diff(capsys, ["--git", "main~1..main", *dirs, "--format", "json"])
    doc = json.loads(doc_out)
    per_env = {e["name"]: classes(doc, i) for i, e in enumerate(doc["environments"])}
    assert per_env["../base"]["platform-agents/k8s-readonly"] == ["prompt-changed", "tool-granted"]
    assert per_env["canary"]["platform-agents/k8s-readonly"] == ["prompt-changed", "tool-granted", "operational"]
    if "../overlays/dev" in per_env:
        assert per_env["../overlays/dev"]["platform-agents/k8s-readonly"][:2] == ["prompt-changed", "tool-granted"]


def test_git_working_tree_and_graph(repo, tmp_path, monkeypatch, capsys):
    work = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(repo), str(work)], check=True)
    monkeypatch.chdir(work)
    agent = work / "base" / "agents" / "supervisor.yaml"
    # base's standard tier is a local model without an effort mapping: the effort goes with the tier
    text = agent.read_text().replace("model: premium", "model: standard")
    agent.write_text("".join(line for line in text.splitlines(keepends=True) if not line.startswith("  effort:")))
    code, out, err = run_diff(capsys, ["--git", "HEAD..", "base", "--format", "json"])
    assert code == 0, err
    doc = json.loads(out)
    assert doc["environments"][0]["new"] == "working tree"
    assert classes(doc) == {"platform-agents/supervisor": ["model-changed", "effort-changed"]}
    assert graph_cmd.run(["--git", "HEAD~1", "base"]) == 0
    assert validate_flowchart(capsys.readouterr().out) == []
    assert graph_cmd.run(["--git", "HEAD~1..HEAD", "base", "--markdown"]) == 0
    out = capsys.readouterr().out
    assert "+ k8s_get_resource_yaml" in out


def test_an_effort_change_in_the_example_is_effort_changed_per_environment(repo, tmp_path, monkeypatch, capsys):
    """The supervisor's effort high -> medium, through git and real kustomize builds: staging and
    prod report it as effort-changed (OpenAI's reasoningEffort follows), never operational; base's
    local tier maps only high, so its render fails naming the description and the provider."""
    work = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(repo), str(work)], check=True)
    monkeypatch.chdir(work)
    agent = work / "base" / "agents" / "supervisor.yaml"
    agent.write_text(agent.read_text().replace("effort: high", "effort: medium"))
    envs = ["overlays/staging", "overlays/prod"]
    code, out, err = run_diff(capsys, ["--git", "HEAD..", *envs, "--format", "json", "--fail-on", "operational"])
    assert code == 0, err
    doc = json.loads(out)
    for index, _ in enumerate(envs):
        assert classes(doc, index) == {"platform-agents/supervisor": ["effort-changed"]}
        [finding] = doc["environments"][index]["agents"][0]["findings"]
        assert finding["effort"] == {"old": "high", "new": "medium"}
        assert finding["modelConfig"] == {"old": "model-premium-high", "new": "model-premium-medium"}
        assert finding["parameters"] == {"openAI.reasoningEffort": {"old": "high", "new": "medium"}}
    assert run_diff(capsys, ["--git", "HEAD..", *envs, "--fail-on", "effort-change"])[0] == 3
    code, _, err = run_diff(capsys, ["--git", "HEAD..", "base"])
    assert code == 1
    assert ("effort 'medium' (asked for by spec.effort of AgentDescription/platform-agents/supervisor) has no "
            "setting on tier 'premium' of environment local: the kagent ModelConfig of provider Ollama") in err


def test_git_errors_are_one_line(repo, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(repo)
    code, _, err = run_diff(capsys, ["--git", "nope..HEAD", "base"])
    assert code == 1 and err == "[error] unknown git revision 'nope'\n"
    code, _, err = run_diff(capsys, ["--git", "HEAD~1..HEAD", "missing"])
    assert code == 1 and err == "[error] missing: no such directory\n"
    outside = tmp_path / "plain"
    outside.mkdir()
    code, _, err = run_diff(capsys, ["--git", "HEAD~1..HEAD", str(outside)])
    assert code == 1 and err.count("\n") == 1 and "is not in a git repository" in err


# --- imports -----------------------------------------------------------------------------------


def test_imports_stay_lazy():
    code = ("import sys, krmfn.cli, krmfn.commands.diff, krmfn.commands.graph, krmfn.review.model, "
            "krmfn.review.changes, krmfn.review.render, krmfn.review.mermaid, krmfn.review.sources; "
            "print(sorted(m for m in ('difflib', 'pydantic', 'jinja2', 'yaml', 'krmfn.expand.catalog', "
            "'krmfn.kagent.models', 'krmfn.commands.build', 'markdown_it') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_text_view_of_a_new_agent_shows_its_tools_and_prompt(in_case, capsys):
    in_case("agent-added-removed")
    code, out, _ = run_diff(capsys, ["old.yaml", "new.yaml", "--color", "never"])
    assert code == 0
    lines = out.splitlines()
    added = lines.index(next(line for line in lines if line.startswith("team/janitor (added)")))
    block = "\n".join(lines[added:added + 8])
    assert "tools: delete_pod on team/tools (destructive, requires approval), get_pods on team/tools (read)" in block
    assert "+You clean up finished pods." in block


def test_agents_are_counted_once_across_environments(tmp_path):
    from krmfn.review import render
    from krmfn.review.changes import AgentChange, EnvironmentReport

    def report(name):
        return EnvironmentReport(name, "a", "b", [AgentChange("team/x", "changed", [])], [], 0)

    line = render.overall_line([report("dev"), report("prod")])
    assert line.startswith("1 agent with changes (2 agent-environment changes), ")


def test_a_failing_overlay_is_a_finding_and_the_others_are_still_reviewed(tmp_path, monkeypatch, capsys):
    """Issue 17: prod fails its policy on the change that most needs review (a destructive grant);
    dev is still reviewed, prod's failure is in the report with its error lines (repository paths,
    no temporary worktree), and the exit code says the command failed."""
    if not (ROOT / "overlays" / "prod").is_dir():
        pytest.skip("needs the example overlays")
    work = tmp_path / "repo"
    for folder in ("base", "overlays", "vendor"):
        shutil.copytree(ROOT / folder, work / folder)
    git(work, "init", "--quiet", "-b", "main")
    git(work, "add", ".")
    git(work, "commit", "--quiet", "-m", "agents")
    agent = work / "base" / "agents" / "k8s-readonly.yaml"
    agent.write_text(agent.read_text().replace("    - k8s_get_events\n", "    - k8s_get_events\n    - k8s_delete_resource\n"))
    git(work, "commit", "--quiet", "-am", "grant a destructive tool without approval")
    monkeypatch.chdir(work)
    code, out, err = run_diff(capsys, ["--git", "HEAD~1..HEAD", "overlays/dev", "overlays/prod", "--format", "json"])
    assert code == 1
    doc = json.loads(out)
    by_name = {e["name"]: e for e in doc["environments"]}
    assert "renderFailed" not in by_name["overlays/dev"]
    assert any(f["class"] == "tool-granted" and f["tool"] == "k8s_delete_resource" and f["destructive"]
               for a in by_name["overlays/dev"]["agents"] for f in a["findings"])
    [failure] = by_name["overlays/prod"]["renderFailed"]
    assert failure["at"] == "HEAD"
    text = "\n".join(failure["lines"])
    assert "k8s_delete_resource (destructive)" in text and "requireApproval" in text
    assert str(tmp_path) not in text and "/tmp/" not in text and "rev-" not in text
    assert "[error] overlays/prod: the render failed at HEAD" in err
    code, md, _ = run_diff(capsys, ["--git", "HEAD~1..HEAD", "overlays/dev", "overlays/prod", "--format", "markdown"])
    assert code == 1 and ":x: **The render failed at `HEAD`**" in md


@pytest.mark.parametrize("command", ["diff", "graph"])
def test_non_string_names_in_a_render_are_read_not_a_traceback(command, tmp_path):
    """Issue 19: a non-string modelConfig or tier annotation made krmfn diff and krmfn graph crash."""
    agent = {"apiVersion": "kagent.dev/v1alpha2", "kind": "Agent",
             "metadata": {"name": "a", "namespace": "n", "annotations": {"krmfn.dev/model-tier": 5}},
             "spec": {"type": "Declarative", "declarative": {"modelConfig": 7, "systemMessage": "x"}}}
    path = tmp_path / "render.yaml"
    path.write_text(yaml.safe_dump(agent))
    args = [str(path), str(path)] if command == "diff" else [str(path)]
    proc = support.module(command, *args, timeout=60)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr


def test_a_krmfn_bug_in_a_command_is_one_line(monkeypatch, capsys):
    """The CLI's safety net: an unexpected exception is one `internal error` line and exit 1."""
    import types

    from krmfn import cli

    broken = types.ModuleType("krmfn_broken_command")
    broken.run = lambda argv: {}["no such key"]
    monkeypatch.setitem(sys.modules, "krmfn_broken_command", broken)
    monkeypatch.setitem(cli.COMMANDS, "broken", ("krmfn_broken_command", "run"))
    monkeypatch.delenv("KRMFN_DEBUG", raising=False)
    assert cli.main(["broken"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == ["[error] internal error: KeyError: 'no such key' (set KRMFN_DEBUG=1 for a traceback)"]
