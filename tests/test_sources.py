"""Issue 17, in process: local-config CRDs are the conformance schema and never emitted; results
name the source object, field and file; krmfn build's origin stripping is exact."""

from __future__ import annotations

import pytest

from conftest import ROOT, SHARED
from krmfn.render import origins
from krmfn.runtime import yamlio
from krmfn.runtime.results import FileRef, Result, ResourceRef
from krmfn.sources import Sources
import support

CRDS = SHARED / "kagent-crds" / "v0.10.0-rc3"
EXAMPLE = ROOT / "functions" / "validate" / "example"
LOCAL = "config.kubernetes.io/local-config"


def crd(name: str, marked: bool) -> dict:
    if not (CRDS / name).exists():
        pytest.skip(f"{CRDS} is absent (test data kept beside the checkout)")
    doc = yamlio.load_one((CRDS / name).read_bytes(), name)
    if marked:
        doc["metadata"].setdefault("annotations", {})[LOCAL] = "true"
    return doc


def conformance(**spec) -> dict:
    return {"apiVersion": "krmfn.dev/v1alpha1", "kind": "KagentConformance", "metadata": {"name": "c"},
            "spec": {"external": ["Secret/*/openai-api-key", "Secret/*/anthropic-api-key"], **spec}}


def example_objects() -> list[dict]:
    return yamlio.load_all((EXAMPLE / "agents.yaml").read_bytes(), "agents.yaml")


def test_local_config_crds_are_the_schema_and_never_emitted():
    schema = [crd(f"kagent.dev_{kind}.yaml", True) for kind in ("agents", "modelconfigs", "remotemcpservers")]
    objects = example_objects()
    code, rl = support.in_process(conformance(), objects + schema)
    assert code == 0, [r.line() for r in rl.results]
    assert not [i for i in rl.items if i["kind"] == "CustomResourceDefinition"]  # consumed, not a change
    assert len(rl.items) == len(objects)
    # without them the same render has no schema: the CRDs really were what it checked against
    code, rl = support.in_process(conformance(), example_objects())
    assert code == 1 and "no CRDs" in rl.results[0].message


def test_a_local_config_crd_of_the_wrong_schema_fails_the_render():
    """The schema is read, not just removed: an Agent CRD without the fields the render uses fails it."""
    agents = crd("kagent.dev_agents.yaml", True)
    for version in agents["spec"]["versions"]:
        version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"].pop("declarative", None)
    schema = [agents] + [crd(f"kagent.dev_{k}.yaml", True) for k in ("modelconfigs", "remotemcpservers")]
    code, rl = support.in_process(conformance(), example_objects() + schema)
    assert code == 1 and any("declarative" in r.line() for r in rl.results)


def test_unmarked_crds_pass_through_as_output():
    unmarked = crd("kagent.dev_modelconfigs.yaml", False)
    schema = [crd(f"kagent.dev_{k}.yaml", True) for k in ("agents", "modelconfigs", "remotemcpservers")]
    code, rl = support.in_process(conformance(), example_objects() + schema[:1] + schema[2:] + [unmarked])
    assert code == 0, [r.line() for r in rl.results]
    assert [i["metadata"]["name"] for i in rl.items if i["kind"] == "CustomResourceDefinition"] == \
        ["modelconfigs.kagent.dev"]


def test_consuming_schema_inputs_is_the_only_change_a_validator_may_make():
    from krmfn.runtime import engine

    items = example_objects()
    marked, unmarked = crd("kagent.dev_agents.yaml", True), crd("kagent.dev_agents.yaml", False)
    assert engine._fingerprint(items + [marked]) == engine._fingerprint(items)
    assert engine._fingerprint(items + [unmarked]) != engine._fingerprint(items)
    assert engine._fingerprint(items[1:] + [marked]) != engine._fingerprint(items)


# --- attribution ---------------------------------------------------------------------------


def test_a_finding_on_a_model_config_names_the_environment_tier():
    environment = {"apiVersion": "krmfn.dev/v1alpha1", "kind": "ModelEnvironment",
                   "metadata": {"name": "prod", "annotations": {origins.ORIGIN_ANNOTATION: "path: environment.yaml\n"}},
                   "spec": {"tiers": {"premium": {"provider": "Anthropic", "apiKeySecret": {"name": "k"}}}}}
    model = {"apiVersion": "kagent.dev/v1alpha2", "kind": "ModelConfig",
             "metadata": {"name": "model-premium", "namespace": "a", "labels": {"krmfn.dev/model-tier": "premium"}},
             "spec": {"apiKeySecret": "k", "apiKeySecretKey": "K"}}
    sources = Sources([], environment)
    found = sources.attribute([Result.about(model, "spec.apiKeySecret", "missing"),
                               Result.about(model, "spec.apiKeySecretKey", "missing")], [model])
    assert [(str(r.source), r.source_field, r.file) for r in found] == [
        ("krmfn.dev/v1alpha1/ModelEnvironment/prod", "spec.tiers.premium.apiKeySecret", FileRef("environment.yaml")),
        # a field the tier does not have: the nearest one it does
        ("krmfn.dev/v1alpha1/ModelEnvironment/prod", "spec.tiers.premium", FileRef("environment.yaml"))]
    assert found[0].line() == ("[error] kagent.dev/v1alpha2/ModelConfig/a/model-premium spec.apiKeySecret: missing; "
                               "from krmfn.dev/v1alpha1/ModelEnvironment/prod spec.tiers.premium.apiKeySecret "
                               "(environment.yaml)")
    assert found[0].to_dict()["tags"] == {"krmfn.dev/source": "krmfn.dev/v1alpha1/ModelEnvironment/prod",
                                          "krmfn.dev/source-field": "spec.tiers.premium.apiKeySecret"}


def test_delegates_and_approvals_map_to_the_description_field():
    description = {"apiVersion": "krmfn.dev/v1alpha1", "kind": "AgentDescription",
                   "metadata": {"name": "sup", "namespace": "a"},
                   "spec": {"delegates": ["x", "b/y"], "tools": [
                       {"server": "other", "allow": ["t"]},
                       {"server": "b/srv", "allow": ["r", "w"], "requireApproval": ["w"]}]}}
    agent = {"apiVersion": "kagent.dev/v1alpha2", "kind": "Agent",
             "metadata": {"name": "sup", "namespace": "a", "annotations": {"krmfn.dev/source": "AgentDescription/a/sup"}},
             "spec": {"declarative": {"tools": [
                 {"type": "Agent", "agent": {"name": "y", "namespace": "b"}},
                 {"type": "McpServer", "mcpServer": {"name": "srv", "toolNames": ["r", "w"], "requireApproval": ["w"]}}]}}}
    fields = {
        "spec.declarative.tools[0].agent.name": "spec.delegates[1]",
        "spec.declarative.tools[1].mcpServer.toolNames[1]": "spec.tools[1].allow[1]",
        "spec.declarative.tools[1].mcpServer.requireApproval[0]": "spec.tools[1].requireApproval[0]",
        "spec.declarative.tools[1].mcpServer.name": "spec.tools[1].server",
        "spec.declarative.modelConfig": "spec",  # the description names no model: nearest existing field
        "spec.declarative.tools": "spec.tools",
    }
    results = [Result.about(agent, field, "m") for field in fields]
    found = Sources([description]).attribute(results, [agent])
    assert {r.field: r.source_field for r in found} == fields
    assert all(r.source == ResourceRef.of(description) for r in found)


def test_a_kagent_1_0_agent_maps_through_its_template_to_the_description_field():
    """The 1.0 shape (AgentTemplate + Agent, `mcp.server`, `mcp.tools`, one approval boolean,
    `subAgent.templateRef`): the reader says what each field is, so the same description fields
    come out as for 0.10; a field the Agent does not hold is its template's."""
    description = {"apiVersion": "krmfn.dev/v1alpha1", "kind": "AgentDescription",
                   "metadata": {"name": "sup", "namespace": "a"},
                   "spec": {"prompt": {"inline": "hi"}, "delegates": ["x", "y"], "tools": [
                       {"server": "other", "allow": ["t"]},
                       {"server": "srv", "allow": ["r", "w"], "requireApproval": ["r", "w"]}]}}
    source = {"krmfn.dev/source": "AgentDescription/a/sup"}
    template = {"apiVersion": "api.kagent.dev/v1alpha3", "kind": "AgentTemplate",
                "metadata": {"name": "sup", "namespace": "a", "annotations": source},
                "spec": {"systemPromptFrom": {"name": "sup-prompt", "key": "system"}, "modelConfig": {"name": "m"},
                         "tools": [{"subAgent": {"templateRef": {"name": "y"}}},
                                   {"mcp": {"server": {"name": "srv", "kind": "RemoteMCPServer"},
                                            "tools": ["r", "w"], "requireApproval": True}}]}}
    agent = {"apiVersion": "api.kagent.dev/v1alpha3", "kind": "Agent",
             "metadata": {"name": "sup", "namespace": "a", "annotations": source},
             "spec": {"templateRef": {"name": "sup"}, "harnessRef": {"name": "h"}}}
    on_template = {
        "spec.tools[0].subAgent.templateRef.name": "spec.delegates[1]",
        "spec.tools[1].mcp.tools[1]": "spec.tools[1].allow[1]",
        "spec.tools[1].mcp.requireApproval": "spec.tools[1].requireApproval",
        "spec.tools[1].mcp.server.name": "spec.tools[1].server",
        "spec.tools[1].mcp.server": "spec.tools[1].server",  # where the CRD's CEL rules on the reference report
        "spec.systemPromptFrom.name": "spec.prompt",
        "spec.modelConfig.name": "spec",  # the description names no model: nearest existing field
    }
    results = [Result.about(template, field, "m") for field in on_template]
    results += [Result.about(agent, field, "m") for field in on_template]  # the Agent's own findings ...
    results.append(Result.about(agent, "spec.harnessRef.name", "m"))  # ... and one it holds itself
    found = Sources([description]).attribute(results, [template, agent])
    expected = [*on_template.values(), *on_template.values(), "spec"]
    assert [r.source_field for r in found] == expected
    assert [r.resource.kind for r in found] == ["AgentTemplate"] * 7 + ["Agent"] * 8
    assert all(r.source == ResourceRef.of(description) for r in found)


def test_each_attribution_reads_the_objects_it_is_given():
    """The Pipeline keeps one Sources for every stage: what one stage's objects read as (an agent,
    a 1.0 Agent's template) is never reused for another stage's, even where the objects differ
    only in what a later stage rewrote."""
    description = {"apiVersion": "krmfn.dev/v1alpha1", "kind": "AgentDescription",
                   "metadata": {"name": "a", "namespace": "n"},
                   "spec": {"tools": [{"server": "one", "allow": ["t"]}, {"server": "two", "allow": ["t"]}]}}
    source = {"krmfn.dev/source": "AgentDescription/n/a"}
    agent = {"apiVersion": "api.kagent.dev/v1alpha3", "kind": "Agent",
             "metadata": {"name": "a", "namespace": "n", "annotations": source}, "spec": {"templateRef": {"name": "a"}}}

    def template(server: str) -> dict:
        return {"apiVersion": "api.kagent.dev/v1alpha3", "kind": "AgentTemplate",
                "metadata": {"name": "a", "namespace": "n", "annotations": source},
                "spec": {"tools": [{"mcp": {"server": {"name": server}, "tools": ["t"]}}]}}

    sources = Sources([description])
    for server, field in (("one", "spec.tools[0].allow[0]"), ("two", "spec.tools[1].allow[0]")):
        [found] = sources.attribute([Result.about(agent, "spec.tools[0].mcp.tools[0]", "m")], [agent, template(server)])
        assert found.source_field == field


def test_an_object_without_a_source_is_left_as_it_is():
    other = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "a"}}
    result = Result.about(other, "data", "m")
    assert Sources([]).attribute([result], [other]) == [result]


# --- krmfn build's origin stripping ---------------------------------------------------------


@pytest.mark.parametrize("before,after", [
    ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  annotations:\n    config.kubernetes.io/origin: |\n"
     "      path: a.yaml\n  name: x\n",
     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  annotations:\n    config.kubernetes.io/origin: |\n"
     "      configuredIn: p.yaml\n      configuredBy:\n        kind: Pipeline\n    z: \"1\"\n  name: x\n",
     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  annotations:\n    z: \"1\"\n  name: x\n"),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  annotations:\n    a: b\n    config.kubernetes.io/origin: |\n"
     "      path: a.yaml\n  name: x\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n",
     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  annotations:\n    a: b\n  name: x\n---\n"
     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n"),
    # the same key in data (not metadata) is data
    ("apiVersion: v1\nkind: ConfigMap\ndata:\n  annotations:\n    config.kubernetes.io/origin: |\n      x\n"
     "metadata:\n  name: x\n", None),
])
def test_strip_removes_exactly_the_origin_annotation(before, after):
    assert origins.strip(before.encode()) == (after or before).encode()


def test_attribution_is_linear_in_the_findings():
    """40,000 findings on one grant of 40,000 tools: a lookup per finding that scanned the
    allow-list would be 1.6e9 steps; by name it is instant."""
    import time

    count = 40_000
    tools = [f"t{i}" for i in range(count)]
    description = {"apiVersion": "krmfn.dev/v1alpha1", "kind": "AgentDescription", "metadata": {"name": "a", "namespace": "n"},
                   "spec": {"tools": [{"server": "s", "allow": tools}]}}
    agent = {"apiVersion": "kagent.dev/v1alpha2", "kind": "Agent",
             "metadata": {"name": "a", "namespace": "n", "annotations": {"krmfn.dev/source": "AgentDescription/n/a"}},
             "spec": {"declarative": {"tools": [{"type": "McpServer", "mcpServer": {"name": "s", "toolNames": tools}}]}}}
    results = [Result.about(agent, f"spec.declarative.tools[0].mcpServer.toolNames[{i}]", "m") for i in range(count)]
    start = time.perf_counter()
    found = Sources([description]).attribute(results, [agent])
    assert time.perf_counter() - start < 8
    assert found[-1].source_field == f"spec.tools[0].allow[{count - 1}]"
