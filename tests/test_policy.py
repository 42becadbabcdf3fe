"""The policy function: what the golden format cannot express.

- the output is the input, exactly (every annotation kustomize/kpt put on an item included);
- each violation is one readable stderr line naming the agent, the field, the rule and the tool;
- results carry resourceRef, field path, severity and the rule name;
- through the real CLI (ResourceList on stdin) and through real kustomize (pass-through
  transformer: a clean build is byte-identical to the build without the policy, a violating one
  fails with the violation on stderr and no manifests on stdout);
- every ToolPolicy field is documented in functions/policy/README.md.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
from pathlib import Path

import pytest

import support

from golden import FUNCTIONS, load_case
from krmfn.runtime import engine, yamlio
from krmfn.runtime.resourcelist import ResourceList

ROOT = Path(__file__).resolve().parents[1]
POLICY = FUNCTIONS / "policy"
CASES = sorted(p.parent for p in (POLICY / "testdata").glob("*/config.yaml"))
EXAMPLE = POLICY / "example"

LOCATION = {
    "config.kubernetes.io/path": "agents/support-bot.yaml",
    "config.kubernetes.io/index": "0",
    "internal.config.kubernetes.io/path": "agents/support-bot.yaml",
    "internal.config.kubernetes.io/index": "0",
    "internal.config.kubernetes.io/annotations-migration-resource-id": "0",
    "config.k8s.io/id": "1",
}


run = support.in_process


def with_locations(items: list[dict]) -> list[dict]:
    out = copy.deepcopy(items)
    for index, item in enumerate(out):
        annotations = item.setdefault("metadata", {}).setdefault("annotations", {})
        annotations.update({k: (str(index) if k.endswith("index") else v) for k, v in LOCATION.items()})
    return out


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_output_is_the_input_exactly(case):
    config, items = load_case(case)
    items = with_locations(items)
    before = copy.deepcopy(items)
    dumped = yamlio.dump_all(items)
    code, rl = run(config, items)
    assert rl.items == before
    assert yamlio.dump_all(rl.items) == dumped  # same order, same keys, nothing added or dropped
    assert code == (1 if any(r.severity == "error" for r in rl.results) else 0)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_one_readable_line_per_violation(case):
    config, items = load_case(case)
    code, rl = run(config, items)
    lines = engine.error_lines(rl.results)
    assert len(lines) == len([r for r in rl.results if r.severity in ("error", "warning")])
    assert len(set(lines)) == len(lines), "the same violation is reported twice"
    from krmfn.api.policy import ToolPolicy
    from krmfn.runtime.typed import parse

    valid = parse(ToolPolicy, config)[0] is not None
    for line in lines:
        assert "\n" not in line
        # [severity] <object> <field>: ...
        assert re.match(r"^\[(error|warning)\] \S+ \S+: ", line), line
        if valid:  # every finding names its rule
            assert re.search(r"^\S+ \S+ \S+: rule [a-z0-9-]+: \S", line), line


def test_result_fields():
    config, items = load_case(POLICY / "testdata" / "kagent-example-agents")
    items = with_locations(items)
    code, rl = run(config, items)
    assert code == 1
    out = rl.to_object()["results"]
    delete = next(r for r in out if "k8s_delete_resource" in r["message"])
    assert delete == {
        "message": "rule destructive-needs-approval: k8s_delete_resource (destructive) must be listed in requireApproval",
        "severity": "error",
        "resourceRef": {"apiVersion": "kagent.dev/v1alpha2", "kind": "Agent", "name": "k8s-agent",
                        "namespace": "kagent"},
        "field": {"path": "spec.declarative.tools[0].mcpServer.toolNames[12]"},
        "file": {"path": "agents/support-bot.yaml", "index": 1},
        "tags": {"rule": "destructive-needs-approval"},
    }
    reported = {r["message"].split(": ")[1].split(" ")[0] for r in out}
    assert {"k8s_delete_resource", "k8s_execute_command"} <= reported


def test_transitive_reach_names_the_chain():
    config, items = load_case(POLICY / "testdata" / "transitive-reach-fail")
    _, rl = run(config, items)
    lines = engine.error_lines(rl.results)
    assert ("[error] kagent.dev/v1alpha2/Agent/support/support-bot spec.declarative.tools[1].agent: "
            "rule no-destructive-in-customer-facing: support-bot -> triage -> platform/k8s-admin holds "
            "k8s_delete_resource (destructive), not allowed in namespace support (allowed: read, write)") in lines


def test_policy_is_registered_as_a_validator():
    from krmfn.runtime.registry import FUNCTIONS as REGISTRY

    assert REGISTRY["ToolPolicy"].module == "krmfn.fn.policy" and REGISTRY["ToolPolicy"].validator


def test_example_policy_fails_the_example_render():
    config = yamlio.load_one((EXAMPLE / "policy.yaml").read_bytes(), "policy.yaml")
    items = yamlio.load_all((EXAMPLE / "agents.yaml").read_bytes(), "agents.yaml")
    code, rl = run(config, items)
    assert code == 1
    rules = {r.to_dict()["tags"]["rule"] for r in rl.results}
    assert rules == {"destructive-needs-approval", "no-destructive-in-customer-facing", "no-ollama-in-prod"}


def test_cli_resource_list_round_trip():
    """`krmfn` as a KRM function: ResourceList in, the same items out, errors on stderr, exit 1."""
    config, items = load_case(POLICY / "testdata" / "example-prod-fail")
    stdin = yamlio.dump(ResourceList(items=items, function_config=config).to_object())
    proc = support.module(stdin=stdin.encode(), timeout=60)
    assert proc.returncode == 1
    out = yamlio.load_one(proc.stdout, "stdout")
    assert out["items"] == items
    expected = (POLICY / "testdata" / "example-prod-fail" / "expected-stderr.txt").read_text()
    assert proc.stderr.decode() == expected

    config, items = load_case(POLICY / "testdata" / "allowed-risks-pass")
    stdin = yamlio.dump(ResourceList(items=items, function_config=config).to_object())
    proc = support.module(stdin=stdin.encode(), timeout=60)
    assert proc.returncode == 0 and proc.stderr == b""
    assert yamlio.load_one(proc.stdout, "stdout")["items"] == items


def _fields(model) -> set[str]:
    from krmfn.runtime.typed import BaseModel
    import typing

    names: set[str] = set()
    seen: set[type] = set()

    def walk(tp):
        for arg in typing.get_args(tp) or ():
            walk(arg)
        if isinstance(tp, type) and issubclass(tp, BaseModel) and tp not in seen:
            seen.add(tp)
            for name, info in tp.model_fields.items():
                names.add(info.alias or name)
                walk(info.annotation)

    walk(model)
    return names


def test_every_field_is_documented():
    from krmfn.api.policy import ToolPolicySpec

    readme = (POLICY / "README.md").read_text()
    missing = sorted(f for f in _fields(ToolPolicySpec) if f"`{f}`" not in readme)
    assert not missing, f"fields missing from functions/policy/README.md: {missing}"


# -- real kustomize: the policy as a pass-through transformer ---------------------------------------


@pytest.mark.e2e
def test_kustomize_pass_through(tmp_path):
    from kustomize_tools import krmfn_bin, require, standalone_kustomize

    kustomize = require(standalone_kustomize())
    policy = yamlio.load_one((EXAMPLE / "policy.yaml").read_bytes(), "policy.yaml")
    policy["metadata"]["annotations"]["config.kubernetes.io/function"] = "exec:\n  path: krmfn\n"
    env = {**os.environ, "PATH": os.pathsep.join([str(krmfn_bin(tmp_path)), os.environ.get("PATH", "")])}

    def build(agents: str, with_policy: bool) -> subprocess.CompletedProcess:
        folder = tmp_path / f"{'with' if with_policy else 'without'}-{abs(hash(agents))}"
        folder.mkdir()
        (folder / "agents.yaml").write_text(agents)
        kustomization = "resources:\n- agents.yaml\n"
        if with_policy:
            (folder / "policy.yaml").write_text(yamlio.dump(policy))
            kustomization += "transformers:\n- policy.yaml\n"
        (folder / "kustomization.yaml").write_text(kustomization)
        return subprocess.run(kustomize.build(folder, exec_functions=True), capture_output=True, env=env,
                              timeout=120)

    violating = (EXAMPLE / "agents.yaml").read_text()
    failed = build(violating, True)
    assert failed.returncode != 0
    assert failed.stdout == b""
    stderr = failed.stderr.decode()
    assert ("rule no-destructive-in-customer-facing: k8s_delete_resource (destructive) is not allowed "
            "in namespace support") in stderr

    clean = (violating.replace("        - k8s_delete_resource\n", "")
             .replace("provider: Ollama", "provider: Anthropic").replace("model: llama3.2", "model: claude-sonnet-4")
             .replace("  ollama:\n    host: http://ollama.ollama.svc:11434\n", ""))
    with_policy, without = build(clean, True), build(clean, False)
    assert with_policy.returncode == 0, with_policy.stderr.decode()
    assert with_policy.stdout == without.stdout and with_policy.stdout


def test_a_very_long_delegation_chain_is_reported_not_a_crash():
    """3,000 agents in one chain: the depth check must not recurse per link, and each message
    shows the chain up to one hop past the limit."""
    from krmfn.runtime import engine
    from krmfn.runtime.resourcelist import ResourceList

    count = 3000
    items = [{"apiVersion": "kagent.dev/v1alpha2", "kind": "Agent", "metadata": {"name": f"a{i}", "namespace": "ns"},
              "spec": {"type": "Declarative", "description": "x",
                       "declarative": {"systemMessage": "x", "modelConfig": "m",
                                       "tools": [{"type": "Agent", "agent": {"name": f"a{i + 1}"}}]
                                       if i + 1 < count else []}}}
             for i in range(count)]
    rl = ResourceList(items=items, function_config={"apiVersion": "krmfn.dev/v1alpha1", "kind": "ToolPolicy",
                                                    "metadata": {"name": "p"}, "spec": {}})
    assert engine.run(rl) == 1
    lines = [r.line() for r in rl.results]
    # a0 .. a2988 are more than 10 hops from the end of the chain
    assert len(lines) == count - 11 and not any("internal error" in line for line in lines)
    first = next(line for line in lines if "/ns/a0 " in line)
    assert first.endswith("a0 -> a1 -> a2 -> a3 -> a4 -> a5 -> a6 -> a7 -> a8 -> a9 -> a10 -> a11 -> ... "
                          "(3000 agents): 2999 delegations, deeper than 10")
