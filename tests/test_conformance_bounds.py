"""The conformance check's cost is bounded, as the API server bounds it (issue 19).

CEL rules have the API server's limits: a per-call cost limit and a per-object budget, reported in
the API server's words; no rule runs on or inside a list longer than its maxItems; an object gets
at most 20 problem lines plus one "... and N more"; CRDs are read only from the files the user
names or a directory's own YAML files, never by walking a tree.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import yaml

import support
from krmfn.conformance import ObjectValidator, load_crds, validate
from krmfn.conformance.crds import ConformanceInputError, CRDVersion

ROOT = Path(__file__).resolve().parents[1]
CRDS = ROOT.parent / "shared" / "kagent-crds" / "v0.9.12"
PER_CALL = ("'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to "
            "call cost exceeds limit for rule: ")
OUT_OF_BUDGET = ('Invalid value: "object": validation failed due to running out of cost budget, no further '
                 "validation rules will be run")
# Generous: the unbounded cases took 18 s to 43 s. In-process checks measure this process's CPU
# time (eight test runs on two cores stretch wall time past any bound; wall times are bench/'s).
SECONDS = 5.0


def kagent_crds():
    if not CRDS.is_dir():
        pytest.skip(f"{CRDS} is absent: the kagent CRDs live in ../shared")
    return load_crds(CRDS)


def agent(tools: list[dict]) -> dict:
    return {"apiVersion": "kagent.dev/v1alpha2", "kind": "Agent", "metadata": {"name": "a", "namespace": "team"},
            "spec": {"type": "Declarative", "description": "An agent.",
                     "declarative": {"modelConfig": "m", "systemMessage": "You help.", "tools": tools}}}


def mcp_tool(names: list[str], approvals: list[str]) -> dict:
    return {"type": "McpServer", "mcpServer": {"apiGroup": "kagent.dev", "kind": "RemoteMCPServer", "name": "tools",
                                               "toolNames": names, "requireApproval": approvals}}


def lines(objects: list[dict], crds) -> tuple[list[str], float]:
    start = time.process_time()
    results = validate(objects, crds, check_references=False)
    return [r.line() for r in results], time.process_time() - start


def test_the_kagent_baseline_conforms():
    """So the cases below fail only because of what they change."""
    found, _ = lines([agent([mcp_tool(["a", "b"], ["a"])])], kagent_crds())
    assert found == []


def test_a_rule_on_a_list_within_max_items_still_runs():
    found, _ = lines([agent([mcp_tool([f"t{i}" for i in range(50)], [f"x{i}" for i in range(50)])])], kagent_crds())
    assert found == ["[error] kagent.dev/v1alpha2/Agent/team/a spec.declarative.tools[0].mcpServer: "
                     "each RequireApproval entry must also appear in ToolNames"]


@pytest.mark.parametrize("count", [51, 5_000, 40_000])
def test_lists_over_max_items_run_no_rules_and_a_quadratic_rule_is_stopped(count):
    """toolNames and requireApproval allow 50 items; the rule over both is quadratic in their length
    (43 s at 40,000 names before): the per-call cost limit stops it, in the API server's words."""
    names = [f"t{i}" for i in range(count)]
    found, elapsed = lines([agent([mcp_tool(names, list(reversed(names)))])], kagent_crds())
    assert elapsed < SECONDS
    where = "[error] kagent.dev/v1alpha2/Agent/team/a spec.declarative.tools[0].mcpServer"
    assert f"{where}.toolNames: Too many: {count}: must have at most 50 items" in found
    assert f"{where}.requireApproval: Too many: {count}: must have at most 50 items" in found
    cel = [line for line in found if "Too many" not in line]
    if count * count > 1_000_000:  # every approval is a name: the rule holds, at a quadratic cost
        assert cel == [f"{where}: {PER_CALL}each RequireApproval entry must also appear in ToolNames"]
    else:
        assert cel == []


def test_problems_per_object_are_capped():
    """30,000 bad tool entries: 18 s and 30,000 lines before; now 20 lines and a count."""
    tools = [{"type": "Bogus", "mcpServer": mcp_tool(["a"], [])["mcpServer"]} for _ in range(30_000)]
    found, elapsed = lines([agent(tools)], kagent_crds())
    assert elapsed < SECONDS
    assert len(found) == 21, found[:3]
    assert "[error] kagent.dev/v1alpha2/Agent/team/a: ... and 29,981 more problems (the first 20 are shown)" in found
    assert sum('Unsupported value: "Bogus"' in line for line in found) == 20
    # and another object is not affected by the first one's cap
    two, _ = lines([agent(tools[:3]), {**agent(tools[:2]), "metadata": {"name": "b", "namespace": "team"}}],
                   kagent_crds())
    assert len(two) == 5


# --- CEL cost, on a CRD of our own (rules without maxItems, so only the cost limits stop them) ----------


def widget(rules: list[dict], *, item_rules: list[dict] = ()) -> CRDVersion:
    items = {"type": "object", "properties": {"names": {"type": "array", "items": {"type": "string"}}}}
    if item_rules:
        items["x-kubernetes-validations"] = list(item_rules)
    schema = {"type": "object", "properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
        "spec": {"type": "object", "x-kubernetes-validations": rules, "properties": {
            "names": {"type": "array", "items": {"type": "string"}},
            "parts": {"type": "array", "items": items}}}}}
    return CRDVersion(group="example.com", version="v1", kind="Widget", plural="widgets", scope="Namespaced",
                      schema=schema)


def widget_object(**spec) -> dict:
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "n"},
            "spec": spec}


QUADRATIC = "self.names.all(x, self.names.exists_one(y, y == x))"


@pytest.mark.parametrize("count,stopped", [(100, False), (300, False), (2_000, True), (50_000, True)])
def test_a_rule_over_the_per_call_limit_is_stopped_and_later_rules_do_not_run(count, stopped):
    validator = ObjectValidator(widget([{"rule": QUADRATIC, "message": "names must be unique"},
                                        {"rule": "size(self.names) < 0", "message": "never true"}]))
    start = time.process_time()
    found = [(r.field, r.message) for r in validator.validate(widget_object(names=[f"n{i}" for i in range(count)]))]
    assert time.process_time() - start < SECONDS
    if stopped:
        assert found == [("spec", PER_CALL + "names must be unique")]
    else:
        assert found == [("spec", "never true")]


def test_a_rule_without_a_message_is_named_by_its_rule():
    validator = ObjectValidator(widget([{"rule": QUADRATIC}]))
    found = [r.message for r in validator.validate(widget_object(names=[f"n{i}" for i in range(3_000)]))]
    assert found == [PER_CALL + QUADRATIC]


@pytest.mark.parametrize("parts,expect_out_of_budget", [(10, False), (400, True), (5_000, True)])
def test_the_rules_of_one_object_share_one_budget(parts, expect_out_of_budget):
    """Each part's rule costs about 40,000 (under the per-call limit); 400 parts pass the object's
    10,000,000. Then one line, in the API server's words, and no further rule runs."""
    rule = {"rule": "self.names.all(x, self.names.exists(y, y == x))", "message": "part rule failed"}
    validator = ObjectValidator(widget([], item_rules=[rule]))
    names = [f"n{i}" for i in range(200)]
    obj = widget_object(parts=[{"names": names} for _ in range(parts)])
    start = time.process_time()
    found = [(r.field, r.message) for r in validator.validate(obj)]
    assert time.process_time() - start < SECONDS
    if expect_out_of_budget:
        assert len(found) == 1 and found[0][1] == OUT_OF_BUDGET, found
        assert found[0][0].startswith("spec.parts[")
    else:
        assert found == []


def test_the_budget_is_per_object():
    rule = {"rule": "self.names.all(x, self.names.exists(y, y == x))", "message": "part rule failed"}
    validator = ObjectValidator(widget([{"rule": "false", "message": "spec rule"}], item_rules=[rule]))
    names = [f"n{i}" for i in range(200)]
    spent = widget_object(parts=[{"names": names} for _ in range(400)])
    fresh = {**widget_object(), "metadata": {"name": "x", "namespace": "n"}}
    assert [r.message for r in validator.validate(spent)] == [OUT_OF_BUDGET]
    assert [r.message for r in validator.validate(fresh)] == ["spec rule"]


# --- CRDs: only what the user names ------------------------------------------------------------------------------


def _crd_file(folder: Path, name: str = "widgets.yaml") -> Path:
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "widgets.example.com"},
           "spec": {"group": "example.com", "names": {"kind": "Widget", "plural": "widgets"}, "scope": "Namespaced",
                    "versions": [{"name": "v1", "served": True, "storage": True,
                                  "schema": {"openAPIV3Schema": {"type": "object"}}}]}}
    path = folder / name
    path.write_text(yaml.safe_dump(crd))
    return path


def test_a_directory_is_read_one_level_deep(tmp_path):
    _crd_file(tmp_path)
    (tmp_path / "deeper" / "deepest").mkdir(parents=True)
    (tmp_path / "deeper" / "deepest" / "junk.yaml").write_text("not: a CRD\n")
    (tmp_path / "notes.txt").write_text("ignored\n")
    index = load_crds(tmp_path)
    assert [v.kind for v in index] == ["Widget"]


def test_a_tree_without_yaml_at_its_top_is_refused_without_walking_it(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    _crd_file(tmp_path / "a" / "b")
    with pytest.raises(ConformanceInputError, match="directory holds no"):
        load_crds(tmp_path)


@pytest.mark.parametrize("entry", ["fifo", "dangling symlink"])
def test_special_entries_are_one_clear_error(entry, tmp_path):
    _crd_file(tmp_path)
    odd = tmp_path / "odd.yaml"
    if entry == "fifo":
        os.mkfifo(odd)  # nobody writes: reading it would block forever
    else:
        odd.symlink_to(tmp_path / "missing.yaml")
    with pytest.raises(ConformanceInputError, match=f"^{odd}: not a regular file$"):
        load_crds(tmp_path)


def test_krmfn_validate_with_a_huge_tree_returns_quickly(tmp_path):
    """`--crds /usr` (any big tree): one line, fast, through the command."""
    rendered = tmp_path / "agent.yaml"
    rendered.write_text(yaml.safe_dump(agent([mcp_tool(["a"], [])])))
    start = time.monotonic()
    proc = support.module("validate", "--crds", "/usr", str(rendered), timeout=120, text=False)
    assert time.monotonic() - start < SECONDS * 2
    err = proc.stderr.decode()
    assert proc.returncode == 1 and len(err.splitlines()) == 1, err
    assert "/usr: directory holds no *.yaml, *.yml or *.json files" in err
