"""The reader's answers that other modules build on (issue 13): what a field is to the agent, a
ModelConfig of any kagent version, allowedNamespaces' `from`, a RemoteMCPServer's URL."""

from __future__ import annotations

import pytest

from krmfn.reader import admits, read_agent, read_model_config, read_template, server_url

V1 = "api.kagent.dev/v1alpha3"


def v1_agent(spec: dict) -> dict:
    return {"apiVersion": V1, "kind": "Agent", "metadata": {"name": "a", "namespace": "n"}, "spec": spec}


BODY = {"modelConfig": {"name": "m"}, "systemPrompt": "hi", "skills": [{"name": "s"}],
        "tools": [{"mcp": {"server": {"name": "srv"}, "tools": ["x", "y"], "requireApproval": True}},
                  {"subAgent": {"templateRef": {"name": "b"}}}, {"other": {}}]}


@pytest.mark.parametrize("field,role,part,index,rest", [
    ("tools[0].mcp.tools[1]", "tool", "names", 1, ()),
    ("tools[0].mcp.requireApproval", "tool", "approvals", None, ()),
    ("tools[0].mcp.server.name", "tool", "server", None, ()),
    ("tools[0].mcp.server", "tool", "server", None, ()),  # the reference itself
    ("tools[0].mcp", "tool", "", None, ()),
    ("tools[1].subAgent.templateRef.name", "delegation", "", None, ()),
    ("tools[2].other", "tool", "", None, ()),  # an entry the reader does not read: no use
    ("modelConfig.name", "model", "", None, ("name",)),
    ("systemPrompt", "prompt", "", None, ()),
    ("skills[0].name", "skills", "", None, (0, "name")),
    ("description", "setting", "", None, ("description",)),
])
def test_a_1_0_field_is_located_the_same_inline_and_in_a_template(field, role, part, index, rest):
    inline = read_agent(v1_agent({"template": BODY}))
    template = read_template({"apiVersion": V1, "kind": "AgentTemplate", "metadata": {"name": "t"}, "spec": BODY})
    for agent, base in ((inline, "spec.template"), (template, "spec")):
        found = agent.locate(f"{base}.{field}")
        assert (found.role, found.part, found.index, found.rest) == (role, part, index, rest), base
        if role == "tool" and not field.startswith("tools[2]"):
            assert found.use is agent.tool_uses[0]
        if role == "delegation":
            assert found.use is agent.delegations[0]


def test_a_0_10_field_is_located():
    agent = read_agent({"apiVersion": "kagent.dev/v1alpha2", "kind": "Agent", "metadata": {"name": "a"},
                        "spec": {"skills": {"refs": ["r"]}, "declarative": {
                            "a2aConfig": {"skills": [{"id": "k"}]},
                            "tools": [{"type": "McpServer", "mcpServer": {"name": "s", "namespace": "o",
                                                                          "toolNames": ["t"], "requireApproval": ["t"]}}]}}})
    locate = agent.locate
    assert (locate("spec.declarative.tools[0].mcpServer.requireApproval[0]").part,
            locate("spec.declarative.tools[0].mcpServer.requireApproval[0]").index) == ("approvals", 0)
    assert locate("spec.declarative.tools[0].mcpServer.namespace").part == "server"
    assert locate("spec.declarative.tools[0].mcpServer.toolNames").part == "names"
    assert (locate("spec.declarative.a2aConfig.skills[0].id").role,
            locate("spec.declarative.a2aConfig.skills[0].id").rest) == ("skills", (0, "id"))
    assert (locate("spec.skills.refs[0]").role, locate("spec.skills.refs[0]").rest) == ("skills", ("refs", 0))
    assert locate("spec.declarative.deployment.replicas").rest == ("deployment", "replicas")
    assert locate("metadata.name").role == "setting" and locate("metadata.name").rest == ()


@pytest.mark.parametrize("api_version", ["kagent.dev/v1alpha1", "kagent.dev/v1alpha2", V1])
def test_a_model_config_of_any_kagent_version_reads_the_same(api_version):
    read = read_model_config({"apiVersion": api_version, "kind": "ModelConfig", "metadata": {"name": "m"},
                              "spec": {"model": "gpt", "apiKeySecret": "k"}})
    assert (read.provider, read.model, read.parameters) == ("OpenAI", "gpt", {"apiKeySecret": "k"})
    assert read_model_config({"apiVersion": "example.com/v1", "kind": "ModelConfig", "spec": {}}) is None


@pytest.mark.parametrize("allowed,labels,verdict,origin", [
    (None, {}, False, None),
    ({}, {}, False, "Same"),
    ({"from": "All"}, {}, True, "All"),
    ({"from": "Selector", "selector": {"matchLabels": {"team": "a"}}}, {"team": "a"}, True, "Selector"),
    ({"from": "Selector", "selector": {"matchLabels": {"team": "a"}}}, {"team": "b"}, False, "Selector"),
    ({"from": 5}, {}, False, 5),  # as written, for the caller's message
])
def test_admits_says_the_verdict_and_the_from_it_came_from(allowed, labels, verdict, origin):
    spec = {} if allowed is None else {"allowedNamespaces": allowed}
    assert admits({"spec": spec}, labels, complete=True) == (verdict, origin)


def test_an_unknown_label_leaves_a_selector_undecided():
    target = {"spec": {"allowedNamespaces": {"from": "Selector", "selector": {"matchLabels": {"team": "a"}}}}}
    assert admits(target, {}, complete=False) == (None, "Selector")


def test_server_url_is_a_remote_servers_of_either_group_only():
    for api_version in ("kagent.dev/v1alpha2", V1):
        assert server_url({"apiVersion": api_version, "kind": "RemoteMCPServer", "spec": {"url": "http://x"}}) == "http://x"
    assert server_url({"apiVersion": "example.com/v1", "kind": "RemoteMCPServer", "spec": {"url": "http://x"}}) == ""
    assert server_url({"apiVersion": V1, "kind": "RemoteMCPServer", "spec": {"url": 5}}) == ""


def test_the_review_shows_an_unset_model_as_unset_and_the_provider_kagent_uses():
    from krmfn.review.model import Render

    agent = {"apiVersion": "kagent.dev/v1alpha2", "kind": "Agent", "metadata": {"name": "a", "namespace": "n"},
             "spec": {"declarative": {"modelConfig": "m", "systemMessage": "hi"}}}
    config = {"apiVersion": "kagent.dev/v1alpha2", "kind": "ModelConfig", "metadata": {"name": "m", "namespace": "n"},
              "spec": {"apiKeySecret": "k"}}
    model = Render.from_objects([agent, config]).agent("a", "test").model
    assert (model.provider, model.model, model.resolved) == ("OpenAI", None, True)  # the CRD's default provider
    assert model.describe() == "OpenAI (no model set)"
    assert model.to_json()["model"] is None and model.parameters == {"apiKeySecret": "k"}
