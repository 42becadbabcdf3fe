"""Tests for krmfn.conformance: CRD loading, schema + CEL validation, reference checks.

The real kagent CRDs live outside the project (test data, never copied in):
`<repo>/../shared/kagent-crds/{v0.9.12,v0.10.0-rc3,main}/`.
"""

from __future__ import annotations

import copy
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from krmfn.conformance import (
    ConformanceInputError,
    CRDIndex,
    SchemaValidator,
    check_references,
    iter_rules,
    load_crds,
    validate,
)
from krmfn.conformance.cel import CELError, CELUnsupported, compile_rule
from krmfn.runtime.results import Result

CRD_ROOT = Path(__file__).resolve().parents[2] / "shared" / "kagent-crds"
SETS = ("v0.9.12", "v0.10.0-rc3", "main")
RULE_SETS = ("v0.9.12", "v0.10.0-rc3")  # every rule of these must have a breaking object
RULE_KINDS = ("Agent", "ModelConfig", "RemoteMCPServer")

if not CRD_ROOT.is_dir():  # pragma: no cover - depends on the checkout layout
    pytest.skip(f"kagent CRDs not found at {CRD_ROOT} (expected the shared test data next to the repo)",
                allow_module_level=True)

_CACHE: dict[str, CRDIndex] = {}


def crds(name: str) -> CRDIndex:
    if name not in _CACHE:
        _CACHE[name] = load_crds(CRD_ROOT / name)
    return _CACHE[name]


def errors(results: list[Result]) -> list[Result]:
    return [r for r in results if r.is_error]


def summary(results: list[Result]) -> list[tuple[str, str]]:
    return [(r.field, r.message) for r in results]


# ------------------------------------------------------------------------------------------
# object builders

NS = "agents"


def meta(name: str, ns: str = NS) -> dict:
    return {"name": name, "namespace": ns}


def agent(name: str = "k8s-agent", ns: str = NS, decl: dict | None = None, **spec: Any) -> dict:
    s: dict = {
        "type": "Declarative",
        "description": "Read-only Kubernetes troubleshooting assistant.",
        "declarative": {"modelConfig": "default-model-config", "systemMessage": "You are helpful."},
    }
    s["declarative"].update(decl or {})
    s.update(spec)
    return {"apiVersion": "kagent.dev/v1alpha2", "kind": "Agent", "metadata": meta(name, ns), "spec": s}


def agent_v1(**spec: Any) -> dict:
    s = {"description": "legacy", "systemMessage": "You are helpful.", "modelConfig": "m"}
    s.update(spec)
    return {"apiVersion": "kagent.dev/v1alpha1", "kind": "Agent", "metadata": meta("legacy"), "spec": s}


def byo_agent(deployment: dict | None = None, **spec: Any) -> dict:
    s = {"type": "BYO", "description": "byo", "byo": {"deployment": {"image": "ghcr.io/acme/agent:1", **(deployment or {})}}}
    s.update(spec)
    return {"apiVersion": "kagent.dev/v1alpha2", "kind": "Agent", "metadata": meta("byo-agent"), "spec": s}


def model_config(version: str = "v1alpha2", name: str = "default-model-config", ns: str = NS, **spec: Any) -> dict:
    s = {"model": "gpt-4.1-mini"}
    s.update(spec)
    return {"apiVersion": f"kagent.dev/{version}", "kind": "ModelConfig", "metadata": meta(name, ns), "spec": s}


def remote(name: str = "tools", ns: str = NS, **spec: Any) -> dict:
    s = {"description": "kagent tool server", "url": "https://kagent-tools.kagent:8084/mcp"}
    s.update(spec)
    return {"apiVersion": "kagent.dev/v1alpha2", "kind": "RemoteMCPServer", "metadata": meta(name, ns), "spec": s}


def mcp_server(name: str = "fs", ns: str = NS, **deployment: Any) -> dict:
    d = {"image": "mcp/filesystem:1", "port": 3000}
    d.update(deployment)
    return {"apiVersion": "kagent.dev/v1alpha1", "kind": "MCPServer", "metadata": meta(name, ns),
            "spec": {"deployment": d, "transportType": "stdio"}}


def secret(name: str, ns: str = NS, **data: str) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta(name, ns), "stringData": data}


def configmap(name: str, ns: str = NS, **data: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(name, ns), "data": data}


def mcp_tool(name: str = "tools", tool_names=("k8s_get_resources",), **extra: Any) -> dict:
    m = {"kind": "RemoteMCPServer", "name": name}
    if tool_names is not None:
        m["toolNames"] = list(tool_names)
    m.update(extra)
    return {"type": "McpServer", "mcpServer": m}


def agent_tool(name: str, **extra: Any) -> dict:
    return {"type": "Agent", "agent": {"name": name, **extra}}


# ------------------------------------------------------------------------------------------
# CRD loading


def test_load_indexes_served_versions_by_api_version_and_kind():
    idx = crds("v0.9.12")
    assert idx.label == "v0.9.12"
    schema = idx.schema("kagent.dev/v1alpha2", "Agent")
    assert schema["properties"]["spec"]["properties"]["declarative"]["type"] == "object"
    assert ("kagent.dev/v1alpha1", "MCPServer") in idx
    assert idx.get("kagent.dev/v1alpha3", "Agent") is None
    assert "kagent.dev" in idx.groups()
    assert crds("main").get("kagent.dev/v1alpha3", "ModelConfig") is not None


def test_load_accepts_files_and_parsed_dicts():
    f = CRD_ROOT / "v0.9.12" / "kagent.dev_agents.yaml"
    by_file = load_crds(f)
    by_dict = load_crds(yaml.safe_load(f.read_text()))
    assert by_file.kinds() == by_dict.kinds() == [("kagent.dev/v1alpha1", "Agent"), ("kagent.dev/v1alpha2", "Agent")]


def test_a_file_that_is_not_a_crd_is_a_clear_error(tmp_path):
    bad = tmp_path / "deployment.yaml"
    bad.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n")
    with pytest.raises(ConformanceInputError) as e:
        load_crds(bad)
    msg = str(e.value)
    assert str(bad) in msg and "not a CustomResourceDefinition" in msg and "apps/v1 Deployment" in msg
    assert "\n" not in msg


def test_a_directory_with_one_non_crd_file_names_that_file(tmp_path):
    (tmp_path / "a.yaml").write_text((CRD_ROOT / "v0.9.12" / "kagent.dev_agents.yaml").read_text())
    (tmp_path / "b.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    with pytest.raises(ConformanceInputError, match=re.escape(str(tmp_path / "b.yaml"))):
        load_crds(tmp_path)


def test_a_crd_without_schema_is_a_clear_error(tmp_path):
    crd = yaml.safe_load((CRD_ROOT / "v0.9.12" / "kagent.dev_remotemcpservers.yaml").read_text())
    del crd["spec"]["versions"][0]["schema"]
    f = tmp_path / "noschema.yaml"
    f.write_text(yaml.safe_dump(crd))
    with pytest.raises(ConformanceInputError, match=r"noschema\.yaml.*version v1alpha2 has no schema"):
        load_crds(f)


def test_invalid_yaml_and_missing_paths_are_clear_errors(tmp_path):
    f = tmp_path / "broken.yaml"
    f.write_text("kind: [unclosed\n")
    with pytest.raises(ConformanceInputError, match=r"broken\.yaml: not valid YAML"):
        load_crds(f)
    with pytest.raises(ConformanceInputError, match="no such file"):
        load_crds(tmp_path / "missing.yaml")


# ------------------------------------------------------------------------------------------
# every CEL rule of every real CRD compiles


def _all_rules(sets=SETS, kinds=None):
    for set_name in sets:
        for v in crds(set_name):
            if kinds and v.kind not in kinds:
                continue
            for path, rule in iter_rules(v.schema):
                yield set_name, v, path, rule


def test_every_cel_rule_of_every_crd_compiles():
    seen = 0
    for set_name in SETS:
        for v in crds(set_name):
            validator = crds(set_name).validator(v.api_version, v.kind)
            expected = [r["rule"] for _, r in iter_rules(v.schema)]
            assert [r.rule for r in validator.rules] == expected
            assert validator.unsupported_rules == [], (set_name, v, validator.unsupported_rules)
            seen += len(expected)
    assert seen > 100
    # Agent, ModelConfig, RemoteMCPServer and MCPServer all carry rules
    kinds = {v.kind for _, v, _, _ in _all_rules()}
    assert {"Agent", "ModelConfig", "RemoteMCPServer", "MCPServer"} <= kinds


def test_an_unsupported_rule_is_reported_loudly_never_skipped():
    schema = {"type": "object", "properties": {"spec": {
        "type": "object", "properties": {"cpu": {"type": "string"}},
        "x-kubernetes-validations": [{"rule": "quantity(self.cpu).isLessThan(quantity('1'))", "message": "too much"}],
    }}}
    v = SchemaValidator(schema, root=True)
    assert len(v.unsupported_rules) == 1 and "is not supported" in v.unsupported_rules[0].reason
    errs = v.errors({"metadata": {"name": "x"}, "spec": {"cpu": "2"}})
    assert len(errs) == 1
    path, message, check = errs[0]
    assert path == "spec" and check == "cel"
    assert message.startswith("rule cannot be checked offline (unsupported CEL")
    assert message.endswith("quantity(self.cpu).isLessThan(quantity('1'))")


# ------------------------------------------------------------------------------------------
# every rule of Agent / ModelConfig / RemoteMCPServer (v0.9.12, v0.10.0-rc3) has a breaking object


@dataclass
class Break:
    build: Callable[[str, str, str], dict]  # (kind, version, schema path) -> object
    options: dict = field(default_factory=dict)  # validator options needed to reach the rule
    also: tuple[str, ...] = ()  # prefixes of other messages the object necessarily triggers
    shadow: Callable[[list[Result]], None] | None = None  # assertion on API-server semantics


def _tool_obj(version: str, tool_v2: dict, tool_v1: dict) -> dict:
    if version == "v1alpha1":
        return agent_v1(tools=[tool_v1])
    return agent(decl={"tools": [tool_v2]})


_M2 = {"kind": "RemoteMCPServer", "name": "tools", "toolNames": ["k8s_get_resources"]}
_A2 = {"name": "helper"}
_M1 = {"toolServer": "tools", "toolNames": ["k8s_get_resources"]}
_A1 = {"ref": "helper"}
_GDCH = {"type": "GDCHServiceAccount", "gdchServiceAccount": {"audience": "https://gdch"}}


def _tls_obj(kind: str, tls: dict) -> dict:
    return model_config(tls=tls) if kind == "ModelConfig" else remote(tls=tls)


def _mc(**spec):
    return lambda k, v, p: model_config(v, **spec)


def _shadow_defaulted(results):
    assert errors(results) == [], "with defaulting the object is valid: spec.type defaults to Declarative"


def _shadow_enum(results):
    msgs = [r.message for r in errors(results)]
    assert msgs == ['Unsupported value: "Foo": supported values: "Declarative", "BYO"'], msgs


BREAKERS: dict[str, Break] = {
    # ---- Agent (v1alpha2 and the v1alpha1 tool rules)
    "!(has(self.mcpServer) && self.type != 'McpServer')": Break(
        lambda k, v, p: _tool_obj(v, {"type": "Agent", "agent": _A2, "mcpServer": _M2},
                                  {"type": "Agent", "agent": _A1, "mcpServer": _M1})),
    "!(!has(self.mcpServer) && self.type == 'McpServer')": Break(
        lambda k, v, p: _tool_obj(v, {"type": "McpServer"}, {"type": "McpServer"})),
    "!(has(self.agent) && self.type != 'Agent')": Break(
        lambda k, v, p: _tool_obj(v, {"type": "McpServer", "mcpServer": _M2, "agent": _A2},
                                  {"type": "McpServer", "mcpServer": _M1, "agent": _A1})),
    "!(!has(self.agent) && self.type == 'Agent')": Break(
        lambda k, v, p: _tool_obj(v, {"type": "Agent"}, {"type": "Agent"})),
    "!(has(self.isolateSessions) && self.type != 'Agent')": Break(
        lambda k, v, p: agent(decl={"tools": [{"type": "McpServer", "mcpServer": _M2, "isolateSessions": True}]})),
    "has(self.type)": Break(
        # spec.type has a default, so the API server can never see it missing: reachable only
        # with defaulting off; under API-server semantics the same object is accepted.
        lambda k, v, p: (lambda o: (o["spec"].pop("type"), o)[1])(agent()),
        options={"apply_defaults": False}, also=("no such key: type evaluating rule: ",),
        shadow=_shadow_defaulted),
    "self.type == 'Declarative' || self.type == 'BYO'": Break(
        # the enum rejects the value first and blocks CEL on the API server
        lambda k, v, p: agent(type="Foo"),
        options={"cel_on_invalid": True},
        also=("Unsupported value: ", "declarative must be specified if type is Declarative"),
        shadow=_shadow_enum),
    "(self.type == 'Declarative' && has(self.declarative)) || (self.type == 'BYO' && has(self.byo))": Break(
        lambda k, v, p: agent(type="BYO")),
    "!(self.from == 'Selector' && !has(self.selector))": Break(
        lambda k, v, p: agent(allowedNamespaces={"from": "Selector"}) if k == "Agent"
        else remote(allowedNamespaces={"from": "Selector"})),
    "!(has(self.serviceAccountName) && has(self.serviceAccountConfig))": Break(
        lambda k, v, p: byo_agent({"serviceAccountName": "sa", "serviceAccountConfig": {"labels": {"a": "b"}}})
        if p.startswith(".spec.byo") else
        agent(decl={"deployment": {"serviceAccountName": "sa", "serviceAccountConfig": {"labels": {"a": "b"}}}})),
    "!has(self.systemMessage) || !has(self.systemMessageFrom)": Break(
        lambda k, v, p: agent(decl={"systemMessageFrom": {"type": "ConfigMap", "name": "prompt", "key": "p"}})),
    "!has(self.requireApproval) || self.requireApproval.all(x, has(self.toolNames) && x in self.toolNames)": Break(
        lambda k, v, p: agent(decl={"tools": [mcp_tool(requireApproval=["k8s_delete_resource"])]})),
    "(has(self.value) && !has(self.valueFrom)) || (!has(self.value) && has(self.valueFrom))": Break(
        lambda k, v, p: agent(decl={"tools": [{**mcp_tool(), "headersFrom": [{"name": "X-Token"}]}]})
        if k == "Agent" else remote(headersFrom=[{"name": "X-Token", "value": "a",
                                                  "valueFrom": {"type": "Secret", "name": "s", "key": "k"}}])),
    # ---- ModelConfig
    "!(has(self.openAI) && self.provider != 'OpenAI')": Break(_mc(provider="Anthropic", openAI={})),
    "!(has(self.anthropic) && self.provider != 'Anthropic')": Break(_mc(provider="OpenAI", anthropic={})),
    "!(has(self.azureOpenAI) && self.provider != 'AzureOpenAI')": Break(
        _mc(azureOpenAI={"apiVersion": "2024-06-01", "azureEndpoint": "https://x.openai.azure.com"})),
    "!(has(self.ollama) && self.provider != 'Ollama')": Break(_mc(ollama={"host": "http://ollama:11434"})),
    "!(has(self.gemini) && self.provider != 'Gemini')": Break(_mc(gemini={})),
    "!(has(self.geminiVertexAI) && self.provider != 'GeminiVertexAI')": Break(
        _mc(geminiVertexAI={"location": "us-central1", "projectID": "p"})),
    "!(has(self.anthropicVertexAI) && self.provider != 'AnthropicVertexAI')": Break(
        _mc(anthropicVertexAI={"location": "us-east5", "projectID": "p"})),
    "!(has(self.bedrock) && self.provider != 'Bedrock')": Break(_mc(bedrock={"region": "us-east-1"})),
    "!(has(self.sapAICore) && self.provider != 'SAPAICore')": Break(_mc(sapAICore={"baseUrl": "https://sap"})),
    "!(has(self.foundry) && self.provider != 'Foundry')": Break(
        _mc(foundry={"deployment": "d", "endpoint": "https://foundry.example.com"})),
    "!(has(self.apiKeySecretKey) && !has(self.apiKeySecret))": Break(_mc(apiKeySecretKey="OPENAI_API_KEY")),
    "!(has(self.apiKeySecret) && !has(self.apiKeySecretKey) && self.provider != 'Bedrock' && self.provider != 'SAPAICore')":
        Break(_mc(apiKeySecret="openai")),
    "!(has(self.apiKeyPassthrough) && self.apiKeyPassthrough && has(self.apiKeySecret) && size(self.apiKeySecret) > 0)":
        Break(_mc(apiKeyPassthrough=True, apiKeySecret="openai", apiKeySecretKey="k")),
    "!(has(self.apiKeyPassthrough) && self.apiKeyPassthrough && (self.provider == 'Gemini' || self.provider == 'GeminiVertexAI' || self.provider == 'AnthropicVertexAI'))":
        Break(_mc(provider="Gemini", apiKeyPassthrough=True)),
    "!(has(self.openAI) && has(self.openAI.tokenExchange) && (!has(self.apiKeySecret) || size(self.apiKeySecret) == 0))":
        Break(_mc(openAI={"tokenExchange": _GDCH})),
    "!(has(self.openAI) && has(self.openAI.tokenExchange) && has(self.apiKeyPassthrough) && self.apiKeyPassthrough)":
        # tokenExchange needs a non-empty apiKeySecret, which passthrough forbids: both rules fire
        Break(_mc(apiKeyPassthrough=True, apiKeySecret="sa", apiKeySecretKey="k", openAI={"tokenExchange": _GDCH}),
              also=("apiKeyPassthrough and apiKeySecret are mutually exclusive",)),
    "!(has(self.openAI) && has(self.openAI.tokenExchange) && self.openAI.tokenExchange.type == 'GDCHServiceAccount' && !has(self.openAI.tokenExchange.gdchServiceAccount))":
        Break(_mc(apiKeySecret="sa", apiKeySecretKey="k", openAI={"tokenExchange": {"type": "GDCHServiceAccount"}})),
    "!(has(self.endpoint) && size(self.endpoint) > 0 && has(self.endpointFrom))": Break(
        _mc(provider="Foundry", foundry={"deployment": "d", "endpoint": "https://f",
                                         "endpointFrom": {"name": "foundry", "key": "endpoint"}})),
    "(has(self.endpoint) && size(self.endpoint) > 0) || has(self.endpointFrom)": Break(
        _mc(provider="Foundry", foundry={"deployment": "d"})),
    "!(has(self.maxTokens) && has(self.maxCompletionTokens))": Break(
        _mc(openAI={"maxTokens": 512, "maxCompletionTokens": 512})),
    # ---- TLS (ModelConfig and RemoteMCPServer)
    "!(has(self.caCertSecretKey) && size(self.caCertSecretKey) > 0 && (!has(self.caCertSecretRef) || size(self.caCertSecretRef) == 0))":
        Break(lambda k, v, p: _tls_obj(k, {"caCertSecretKey": "ca.crt"})),
    "!(has(self.caCertSecretRef) && size(self.caCertSecretRef) > 0 && (!has(self.caCertSecretKey) || size(self.caCertSecretKey) == 0))":
        Break(lambda k, v, p: _tls_obj(k, {"caCertSecretRef": "ca"})),
    "!(has(self.disableSystemCAs) && self.disableSystemCAs && (!has(self.disableVerify) || !self.disableVerify) && (!has(self.caCertSecretRef) || size(self.caCertSecretRef) == 0))":
        Break(lambda k, v, p: _tls_obj(k, {"disableSystemCAs": True})),
    # ---- RemoteMCPServer
    "!self.url.startsWith('http://') || !has(self.tls)": Break(
        lambda k, v, p: remote(url="http://tools.agents:8084/mcp", tls={"disableVerify": True})),
    "!(has(self.allowedNamespaces) && has(self.allowedNamespaces.from) && (self.allowedNamespaces.from == 'All' || self.allowedNamespaces.from == 'Selector') && has(self.tls) && has(self.tls.caCertSecretRef) && size(self.tls.caCertSecretRef) > 0)":
        Break(lambda k, v, p: remote(allowedNamespaces={"from": "All"},
                                     tls={"caCertSecretRef": "ca", "caCertSecretKey": "ca.crt"})),
}


def _rule_params():
    out = []
    for set_name, v, path, rule in _all_rules(RULE_SETS, RULE_KINDS):
        pid = f"{set_name}-{v.kind}-{v.version}-{path}-{rule['rule'][:50]}"
        out.append(pytest.param(set_name, v.api_version, v.kind, path, rule, id=pid))
    return out


RULE_PARAMS = _rule_params()


def test_rule_walk_found_the_kagent_rules():
    assert len(RULE_PARAMS) > 60


def _expected_field(schema_path: str, rule: dict) -> str:
    path = schema_path.replace("[]", "[0]").lstrip(".")
    fp = rule.get("fieldPath") or ""
    return path + fp if fp else path


@pytest.mark.parametrize("set_name,api_version,kind,schema_path,rule", RULE_PARAMS)
def test_each_cel_rule_has_an_object_that_breaks_it(set_name, api_version, kind, schema_path, rule):
    text = rule["rule"]
    entry = BREAKERS.get(text)
    if entry is None:
        pytest.fail(f"no breaking object in BREAKERS for {kind} {api_version} {schema_path} rule: {text}")
    version = api_version.split("/")[1]
    obj = entry.build(kind, version, schema_path)
    obj["apiVersion"], obj["kind"] = api_version, kind
    validator = crds(set_name).validator(api_version, kind)
    message = (rule.get("message") or "").strip() or f"failed rule: {text}"
    results = validator.validate(obj, **entry.options)
    field_path = _expected_field(schema_path, rule)
    assert any(r.field == field_path and r.message == message for r in results), summary(results)
    others = [r for r in results if not (r.field == field_path and r.message == message)]
    unexpected = [r for r in others if not r.message.startswith(entry.also)] if entry.also else others
    assert unexpected == [], summary(unexpected)
    if entry.shadow is not None:
        entry.shadow(validator.validate(obj))


def test_breakers_table_has_no_stale_entries():
    live = {r["rule"] for _, _, _, r in _all_rules(RULE_SETS, RULE_KINDS)}
    assert set(BREAKERS) - live == set()


# ------------------------------------------------------------------------------------------
# valid objects pass where their fields exist


def _valid_objects(set_name: str) -> list[dict]:
    objs = [
        agent(decl={
            "tools": [
                mcp_tool(tool_names=["k8s_get_resources", "k8s_describe_resource"],
                         requireApproval=["k8s_describe_resource"]),
                {**mcp_tool("fs", ["read_file"], kind="MCPServer"),
                 "headersFrom": [{"name": "X-Token", "valueFrom": {"type": "Secret", "name": "tok", "key": "t"}}]},
                agent_tool("helper"),
            ],
            "a2aConfig": {"skills": [{"id": "diagnose", "name": "Cluster diagnostics",
                                      "examples": ["Why is my pod crash looping?"], "tags": ["k8s"]}]},
            "memory": {"modelConfig": "embedding", "ttlDays": 15},
            "stream": True,
            "deployment": {"replicas": 1, "resources": {"requests": {"cpu": "100m", "memory": "256Mi"},
                                                        "limits": {"memory": 1073741824}}},
        }, allowedNamespaces={"from": "All"}),
        agent("helper", decl={"systemMessageFrom": {"type": "ConfigMap", "name": "prompts", "key": "helper.md"}}
              ) | {"spec": {**agent()["spec"], "declarative": {
                  "modelConfig": "default-model-config",
                  "systemMessageFrom": {"type": "ConfigMap", "name": "prompts", "key": "helper.md"}}}},
        byo_agent({"serviceAccountName": "byo"}),
        model_config(provider="OpenAI", apiKeySecret="openai", apiKeySecretKey="OPENAI_API_KEY",
                     openAI={"temperature": "0.2", "maxTokens": 4096, "reasoningEffort": "low"}),
        model_config(name="embedding", provider="Ollama", model="nomic-embed-text",
                     ollama={"host": "http://ollama.ollama:11434", "options": {"num_ctx": "8192"}}),
        model_config(name="claude", provider="Anthropic", model="claude-sonnet-4-5", apiKeySecret="anthropic",
                     apiKeySecretKey="ANTHROPIC_API_KEY", anthropic={"maxTokens": 8192, "temperature": "0.1"},
                     tls={"caCertSecretRef": "ca", "caCertSecretKey": "ca.crt"}),
        model_config(name="bedrock", provider="Bedrock", model="anthropic.claude", apiKeySecret="aws",
                     bedrock={"region": "us-east-1"}),
        remote(headersFrom=[{"name": "Authorization", "valueFrom": {"type": "Secret", "name": "tok", "key": "t"}}],
               allowedNamespaces={"from": "Selector", "selector": {"matchLabels": {"team": "platform"}}},
               protocol="STREAMABLE_HTTP", timeout="30s"),
        mcp_server(secretRefs=[{"name": "tok"}], env={"LOG_LEVEL": "info"}),
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("unrelated"), "spec": {"whatever": 1}},
    ]
    if set_name != "main":  # executeCodeBlocks was removed on main
        objs[0]["spec"]["declarative"]["executeCodeBlocks"] = False
    if set_name != "v0.9.12":  # fields added in v0.10
        objs[0]["spec"]["version"] = "1.2.0"
        objs[0]["spec"]["declarative"]["tools"][2]["isolateSessions"] = True
        objs.append(model_config(name="foundry", provider="Foundry", model="gpt-4o",
                                 foundry={"deployment": "gpt-4o", "endpointFrom": {"name": "aso", "key": "endpoint"}}))
    return objs


@pytest.mark.parametrize("set_name", SETS)
def test_valid_objects_pass(set_name):
    objs = _valid_objects(set_name)
    results = validate(objs, crds(set_name), check_references=False)
    assert summary(results) == []


@pytest.mark.parametrize("set_name", SETS)
def test_valid_objects_are_not_modified_by_validation(set_name):
    objs = _valid_objects(set_name)
    before = copy.deepcopy(objs)
    validate(objs, crds(set_name))
    assert objs == before


def test_a_v010_only_field_is_unknown_for_v0912():
    obj = agent(decl={"tools": [{**agent_tool("helper"), "isolateSessions": True}]}, version="1.2.0")
    old = summary(validate([obj], crds("v0.9.12"), check_references=False))
    assert ("spec.version", 'unknown field "spec.version"') in old
    assert ("spec.declarative.tools[0].isolateSessions",
            'unknown field "spec.declarative.tools[0].isolateSessions"') in old
    assert summary(validate([obj], crds("v0.10.0-rc3"), check_references=False)) == []
    mc = model_config(openAI={"maxCompletionTokens": 100})
    assert summary(validate([mc], crds("v0.9.12"), check_references=False)) == [
        ("spec.openAI.maxCompletionTokens", 'unknown field "spec.openAI.maxCompletionTokens"')]


def test_a_field_removed_on_main_is_unknown_there():
    obj = agent(decl={"executeCodeBlocks": True})
    assert summary(validate([obj], crds("main"), check_references=False)) == [
        ("spec.declarative.executeCodeBlocks", 'unknown field "spec.declarative.executeCodeBlocks"')]


def test_kagent_kind_not_served_is_an_error_and_other_objects_are_ignored():
    objs = [
        {"apiVersion": "kagent.dev/v1alpha3", "kind": "Agent", "metadata": meta("x"), "spec": {}},
        {"apiVersion": "kagent.dev/v1alpha3", "kind": "AgentTemplate", "metadata": meta("t"), "spec": {}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("c"), "data": {"a": 1}},
        {"apiVersion": "example.com/v1", "kind": "Agent", "metadata": meta("y"), "spec": {"bogus": True}},
    ]
    results = validate(objs, crds("v0.9.12"), check_references=False)
    assert [(r.resource.kind, r.field) for r in results] == [("Agent", "apiVersion"), ("AgentTemplate", "apiVersion")]
    assert results[0].message.startswith("kind Agent is not served by these CRDs (v0.9.12) at kagent.dev/v1alpha3")
    assert "served versions: kagent.dev/v1alpha1, kagent.dev/v1alpha2" in results[0].message
    assert results[1].message.startswith("kind AgentTemplate is not served by these CRDs")
    on_main = validate(objs[1:2], crds("main"), check_references=False)  # served there: schema-checked
    assert not any("not served" in r.message for r in on_main)


# ------------------------------------------------------------------------------------------
# structural checks and API-server-like messages


def _schema_errors(obj, set_name="v0.9.12"):
    return summary(validate([obj], crds(set_name), check_references=False))


def test_enum_required_type_and_unknown_field_messages():
    obj = agent(decl={"runtime": "rust", "tools": [{"type": "McpServer", "mcpServer": {"toolNames": ["a"]}}],
                      "stream": "yes"}, surprise=1)
    errs = _schema_errors(obj)
    assert ("spec.declarative.runtime", 'Unsupported value: "rust": supported values: "python", "go"') in errs
    assert ("spec.declarative.tools[0].mcpServer.name", "Required value") in errs
    assert ("spec.declarative.stream",
            'Invalid value: "string": spec.declarative.stream in body must be of type boolean: "string"') in errs
    assert ("spec.surprise", 'unknown field "spec.surprise"') in errs


def test_length_pattern_minimum_items_and_format_messages():
    long_name = "x" * 254
    obj = agent(decl={"systemMessageFrom": {"type": "ConfigMap", "name": long_name, "key": "k"},
                      "systemMessage": None,
                      "memory": {"modelConfig": "m", "ttlDays": 0},
                      "a2aConfig": {"skills": []},
                      "tools": [mcp_tool(tool_names=[f"t{i}" for i in range(51)])]})
    errs = _schema_errors(obj)
    assert ("spec.declarative.systemMessageFrom.name",
            f'Invalid value: "{long_name[:200]}...": must be no more than 253 characters') in errs
    assert ("spec.declarative.memory.ttlDays",
            "Invalid value: 0: spec.declarative.memory.ttlDays in body should be greater than or equal to 1") in errs
    assert ("spec.declarative.a2aConfig.skills",
            "Invalid value: 0: spec.declarative.a2aConfig.skills in body should have at least 1 items") in errs
    assert ("spec.declarative.tools[0].mcpServer.toolNames", "Too many: 51: must have at most 50 items") in errs
    assert all(f != "spec.declarative.systemMessage" for f, _ in errs)  # null pruned, not an error
    v010 = agent(iconUrl="not a uri", decl={"deployment": {"resources": {"limits": {"cpu": "lots"}}}})
    errs = _schema_errors(v010, "v0.10.0-rc3")
    assert ("spec.iconUrl", 'Invalid value: "not a uri": spec.iconUrl in body must be of type uri: "not a uri"') in errs
    assert any(f == "spec.declarative.deployment.resources.limits.cpu" and "should match" in m for f, m in errs)
    assert _schema_errors(agent(iconUrl="https://example.com/icon.png"), "v0.10.0-rc3") == []


def test_metadata_is_validated_like_object_meta():
    obj = agent("Bad_Name", ns="Team A")
    obj["metadata"]["labels"] = {"app": "x" * 64}
    obj["metadata"]["bogus"] = 1
    errs = _schema_errors(obj)
    fields = [f for f, _ in errs]
    assert fields.count("metadata.name") == 1 and "RFC 1123 subdomain" in dict(errs)["metadata.name"]
    assert "metadata.namespace" in fields and "metadata.labels" in fields
    assert ("metadata.bogus", 'unknown field "metadata.bogus"') in errs
    nameless = agent()
    del nameless["metadata"]["name"]
    assert ("metadata.name", "Required value: name or generateName is required") in _schema_errors(nameless)


def test_defaults_are_applied_before_cel_and_differ_by_version():
    for set_name, runtime in (("v0.9.12", "python"), ("v0.10.0-rc3", "go")):
        v = crds(set_name).validator("kagent.dev/v1alpha2", "Agent")
        obj = agent()
        del obj["spec"]["type"]
        out = v.defaulted(obj)
        assert out["spec"]["type"] == "Declarative" and out["spec"]["declarative"]["runtime"] == runtime
        assert "type" not in obj["spec"]  # the input is never modified
        assert v.validate(obj) == []


def test_cel_rules_on_a_field_run_only_when_the_field_is_present():
    # tls rules live on spec.tls: without tls nothing runs, with an empty tls the defaults satisfy them
    assert _schema_errors(remote()) == []
    assert _schema_errors(remote(tls={})) == []


def test_missing_key_in_a_rule_is_an_evaluation_error_like_the_api_server():
    obj = agent(decl={"tools": [{"mcpServer": _M2}]})  # tools[].type has no default
    assert _schema_errors(obj) == [
        # the API server names the rule by its message (ruleErrorString), as kubectl-validate shows
        ("spec.declarative.tools[0]", "no such key: type evaluating rule: type.agent must be specified for Agent filter.type"),
        ("spec.declarative.tools[0]",
         "no such key: type evaluating rule: type.mcpServer must be nil if the type is not McpServer"),
    ]


def test_type_errors_block_cel_only_in_their_own_subtree():
    obj = agent(decl={"stream": "yes", "tools": [{"type": "McpServer"}]}, allowedNamespaces={"from": "Selector"})
    errs = _schema_errors(obj)
    msgs = [m for _, m in errs]
    assert "selector must be specified when from is Selector" in msgs  # independent subtree: checked
    assert "type.mcpServer must be specified for McpServer filter.type" in msgs
    assert not any("systemMessage and systemMessageFrom" in m for m in msgs)


def test_status_is_ignored_with_a_warning():
    obj = remote()
    obj["status"] = {"observedGeneration": "x"}
    results = validate([obj], crds("v0.9.12"), check_references=False)
    assert [(r.severity, r.field) for r in results] == [("warning", "status")]


# ------------------------------------------------------------------------------------------
# CEL semantics


@pytest.mark.parametrize("expr,self_value,expected", [
    ("has(self.a) && size(self.a) == 2", {"a": "hé"}, True),
    ("has(self.a)", {}, False),
    ("self.items.all(x, x > 0)", {"items": [1, 2]}, True),
    ("self.items.exists(x, x == 'b')", {"items": ["a", "b"]}, True),
    ("self.items.exists_one(x, x == 'a')", {"items": ["a", "a"]}, False),
    ("self.name.matches('^[a-z]+$')", {"name": "abc"}, True),
    ("self.url.startsWith('https://') && self.url.endsWith('/mcp') && self.url.contains('tools')",
     {"url": "https://tools/mcp"}, True),
    ("!self.path.split('/').exists(p, p == '..')", {"path": "a/../b"}, False),
    ("self.l.map(x, x * 2).filter(x, x > 2) == [4, 6]", {"l": [1, 2, 3]}, True),
    ("(has(self.a) ? 1 : 0) + (has(self.b) ? 1 : 0) == 1", {"a": {}}, True),
    ("self.s.lowerAscii() == 'abc' && self.s.size() == 3", {"s": "AbC"}, True),
    ("self.x == 'a' || true", {}, True),  # error absorbed by ||
    ("false && self.x == 'a'", {}, False),  # error absorbed by &&
    ("1 == 1.0 && !(true == 1)", {}, True),  # heterogeneous equality
    ("'x' in self.m", {"m": {"x": 1}}, True),
])
def test_cel_semantics(expr, self_value, expected):
    assert compile_rule(expr).evaluate({"self": self_value}) is expected


@pytest.mark.parametrize("expr,self_value,error", [
    ("self.x == 'a'", {}, "no such key: x"),
    ("self.items[3]", {"items": []}, "index out of bounds: 3"),
    ("1 / 0 == 1", {}, "division by zero"),
    ("self.a + 1", {"a": "s"}, "no such overload"),
    ("9223372036854775807 + 1 > 0", {}, "integer overflow"),
])
def test_cel_errors(expr, self_value, error):
    with pytest.raises(CELError, match=re.escape(error)):
        compile_rule(expr).evaluate({"self": self_value})


@pytest.mark.parametrize("expr", ["self.a.?b", "quantity('1')", "foo", "self.x.bogus()", "Msg{a: 1}", "a.b("])
def test_cel_unsupported_is_refused_at_compile_time(expr):
    with pytest.raises(CELUnsupported):
        compile_rule(expr)


def test_cel_agrees_with_cel_python_on_the_kagent_rules():
    celpy = pytest.importorskip("celpy", reason="cel-python not installed: differential check skipped")
    env = celpy.Environment()
    rng = random.Random(7)
    strings = ["", "x", "Selector", "All", "Same", "http://a", "https://a", "McpServer", "Agent", "Declarative",
               "BYO", "OpenAI", "Bedrock", "Gemini", "Foundry", "GDCHServiceAccount", "SAPAICore", "Ollama"]

    def gen(s, depth=0):
        t = s.get("type")
        if "enum" in s and rng.random() < 0.8:
            return rng.choice(s["enum"])
        if t == "boolean":
            return rng.random() < 0.5
        if t == "integer":
            return rng.randint(0, 3)
        if t == "array":
            return [gen(s.get("items", {}), depth + 1) for _ in range(rng.randint(0, 3))]
        if t == "object":
            return {k: gen(v, depth + 1) for k, v in (s.get("properties") or {}).items()
                    if depth < 3 and rng.random() < 0.5}
        return rng.choice(strings)

    nodes = {}
    for _, v, path, rule in _all_rules(RULE_SETS, RULE_KINDS + ("MCPServer",)):
        node = v.schema
        for part in re.findall(r"\.(\w+)|(\[\])", path):
            node = node["properties"][part[0]] if part[0] else node["items"]
        nodes.setdefault(rule["rule"], node)
    compared = 0
    for text, node in nodes.items():
        mine, theirs = compile_rule(text), env.program(env.compile(text))
        for _ in range(40):
            value = gen(node)
            try:
                a = mine.evaluate({"self": value})
            except CELError:
                a = "error"
            try:
                b = theirs.evaluate({"self": celpy.json_to_cel(value)})
                b = "error" if isinstance(b, celpy.CELEvalError) else bool(b)
            except Exception:  # celpy raises for evaluation errors
                b = "error"
            assert a == b, (text, value, a, b)
            compared += 1
    assert compared > 1000


# ------------------------------------------------------------------------------------------
# reference checks


def _world(*extra: dict) -> list[dict]:
    return [model_config(), secret("openai", OPENAI_API_KEY="sk"), remote(), *extra]


def _refs(objs, external=frozenset()):
    return [(r.severity, r.resource.name, r.field, r.message) for r in check_references(objs, external)]


def _ref_errors(objs, external=frozenset()):
    return [(name, f, m) for sev, name, f, m in _refs(objs, external) if sev == "error"]


def test_a_consistent_set_has_no_reference_findings():
    objs = _world(
        agent(decl={"tools": [mcp_tool(), agent_tool("helper")], "memory": {"modelConfig": "default-model-config"}}),
        agent("helper"),
        model_config(name="m2", apiKeySecret="openai", apiKeySecretKey="OPENAI_API_KEY"),
    )
    assert _refs(objs) == []


def test_model_config_must_exist_in_the_same_namespace():
    objs = [agent(), model_config(ns="other")]
    errs = _ref_errors(objs)
    assert len(errs) == 1
    name, fld, msg = errs[0]
    assert fld == "spec.declarative.modelConfig"
    assert msg.startswith('ModelConfig "default-model-config" not found in namespace "agents"')
    assert _ref_errors(objs, {("ModelConfig", NS, "default-model-config")}) == []


def test_model_config_must_be_set():
    obj = agent()
    del obj["spec"]["declarative"]["modelConfig"]
    assert [f for _, f, _ in _ref_errors([obj])] == ["spec.declarative.modelConfig"]
    assert "does not apply the documented default" in _ref_errors([obj])[0][2]


def test_memory_and_summarizer_model_configs_must_exist():
    obj = agent(decl={"memory": {"modelConfig": "embedding"},
                      "context": {"compaction": {"summarizer": {"modelConfig": "cheap"}}}})
    assert [f for _, f, _ in _ref_errors([obj, model_config()])] == [
        "spec.declarative.memory.modelConfig", "spec.declarative.context.compaction.summarizer.modelConfig"]


def test_a_system_message_source_is_required():
    obj = agent()
    del obj["spec"]["declarative"]["systemMessage"]
    assert _ref_errors(_world(obj)) == [(
        "k8s-agent", "spec.declarative.systemMessage",
        "a Declarative agent needs systemMessage or systemMessageFrom (kagent refuses it: at least one system "
        "message source must be specified)")]


def test_system_message_from_must_resolve_and_have_the_key():
    obj = agent(decl={"systemMessageFrom": {"type": "ConfigMap", "name": "prompts", "key": "k8s.md"}})
    del obj["spec"]["declarative"]["systemMessage"]
    assert [f for _, f, _ in _ref_errors(_world(obj))] == ["spec.declarative.systemMessageFrom.name"]
    errs = _ref_errors(_world(obj, configmap("prompts", other="x")))
    assert errs == [("k8s-agent", "spec.declarative.systemMessageFrom.key",
                     'key "k8s.md" not found in ConfigMap agents/prompts (has: other)')]
    assert _ref_errors(_world(obj, configmap("prompts", **{"k8s.md": "You are..."}))) == []
    assert _ref_errors(_world(obj), {("ConfigMap", NS, "prompts")}) == []


def test_empty_mcp_server_kind_resolves_to_a_kmcp_mcpserver():
    tool = {"type": "McpServer", "mcpServer": {"name": "tools", "toolNames": ["k8s_get_resources"]}}
    errs = _ref_errors(_world(agent(decl={"tools": [tool]})))
    assert len(errs) == 1 and errs[0][1] == "spec.declarative.tools[0].mcpServer.name"
    assert errs[0][2].startswith('MCPServer "tools" not found')
    assert "set kind: RemoteMCPServer" in errs[0][2]
    assert _ref_errors(_world(agent(decl={"tools": [tool]}), mcp_server("tools"))) == []
    explicit = {"type": "McpServer", "mcpServer": {"name": "fs", "kind": "MCPServer", "apiGroup": "kagent.dev",
                                                   "toolNames": ["read_file"]}}
    assert _ref_errors(_world(agent(decl={"tools": [explicit]}), mcp_server("fs"))) == []


def test_remote_mcp_server_and_service_kinds_must_resolve():
    objs = [model_config(), agent(decl={"tools": [mcp_tool("missing"), mcp_tool("svc", kind="Service")]})]
    assert [(f, m.split(":")[0]) for _, f, m in _ref_errors(objs)] == [
        ("spec.declarative.tools[0].mcpServer.name", 'RemoteMCPServer "missing" not found in namespace "agents"'),
        ("spec.declarative.tools[1].mcpServer.name", 'Service "svc" not found in namespace "agents"'),
    ]
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": meta("svc"), "spec": {"ports": [{"port": 80}]}}
    objs[1]["spec"]["declarative"]["tools"].pop(0)
    assert _ref_errors(objs + [svc]) == []


def test_unknown_mcp_server_kind_is_refused():
    errs = _ref_errors(_world(agent(decl={"tools": [mcp_tool("tools", kind="ToolServer")]})))
    assert errs == [("k8s-agent", "spec.declarative.tools[0].mcpServer.kind",
                     'unknown tool server type "ToolServer": kagent resolves only MCPServer (the default), '
                     "RemoteMCPServer and Service")]


@pytest.mark.parametrize("tool_names", [None, []])
def test_empty_tool_names_grant_every_tool(tool_names):
    errs = _ref_errors(_world(agent(decl={"tools": [mcp_tool(tool_names=tool_names)]})))
    assert errs == [("k8s-agent", "spec.declarative.tools[0].mcpServer.toolNames",
                     "toolNames is empty: kagent then grants every tool of RemoteMCPServer agents/tools; "
                     "list the allowed tools explicitly")]


def test_require_approval_must_be_a_subset_of_tool_names():
    errs = _ref_errors(_world(agent(decl={"tools": [mcp_tool(requireApproval=["k8s_get_resources", "k8s_delete"])]})))
    assert errs == [("k8s-agent", "spec.declarative.tools[0].mcpServer.requireApproval[1]",
                     '"k8s_delete" requires approval but is not in toolNames')]


def test_agent_tools_must_resolve_and_not_reference_themselves():
    objs = _world(agent(decl={"tools": [agent_tool("nobody"), agent_tool("k8s-agent")]}))
    assert _ref_errors(objs) == [
        ("k8s-agent", "spec.declarative.tools[0].agent.name",
         'Agent "nobody" not found in namespace "agents": it is neither in the rendered output nor declared external'),
        ("k8s-agent", "spec.declarative.tools[1].agent.name",
         "agent tool cannot be used to reference itself (agents/k8s-agent)"),
    ]


def test_cross_namespace_remote_mcp_server_needs_allowed_namespaces():
    tool = mcp_tool("shared", namespace="platform")
    base = [model_config(), agent(decl={"tools": [tool]})]
    errs = _ref_errors(base + [remote("shared", "platform")])
    assert [f for _, f, _ in errs] == ["spec.declarative.tools[0].mcpServer.namespace"]
    assert "is not allowed from namespace \"agents\"" in errs[0][2]
    same = remote("shared", "platform", allowedNamespaces={"from": "Same"})
    assert "from is Same" in _ref_errors(base + [same])[0][2]
    assert _ref_errors(base + [remote("shared", "platform", allowedNamespaces={"from": "All"})]) == []


def test_cross_namespace_selector_uses_the_namespace_labels():
    tool = mcp_tool("shared", namespace="platform")
    target = remote("shared", "platform", allowedNamespaces={
        "from": "Selector", "selector": {"matchLabels": {"krmfn.dev/agents": "true"}}})
    base = [model_config(), agent(decl={"tools": [tool]}), target]
    ns_obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS, "labels": {"krmfn.dev/agents": "true"}}}
    assert _refs(base + [ns_obj]) == []
    ns_obj["metadata"]["labels"] = {"krmfn.dev/agents": "false"}
    assert "do not match" in _ref_errors(base + [ns_obj])[0][2]
    findings = _refs(base)  # the Namespace is not rendered: cannot decide
    assert [(s, f) for s, _, f, _ in findings] == [("warning", "spec.declarative.tools[0].mcpServer.namespace")]
    by_name = copy.deepcopy(target)
    by_name["spec"]["allowedNamespaces"]["selector"] = {
        "matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": [NS]}]}
    assert _refs(base[:2] + [by_name]) == []  # the automatic name label is always known


def test_cross_namespace_mcpserver_and_service_are_refused():
    objs = _world(agent(decl={"tools": [mcp_tool("fs", kind="MCPServer", namespace="platform")]}),
                  mcp_server("fs", "platform"))
    errs = _ref_errors(objs)
    assert [f for _, f, _ in errs] == ["spec.declarative.tools[0].mcpServer.namespace"]
    assert "MCPServer does not support cross-namespace references" in errs[0][2]


def test_cross_namespace_agent_tool_needs_allowed_namespaces():
    helper = agent("helper", "platform")
    objs = _world(agent(decl={"tools": [agent_tool("helper", namespace="platform")]}),
                  model_config(ns="platform"), helper)
    errs = _ref_errors(objs)
    assert [f for _, f, _ in errs] == ["spec.declarative.tools[0].agent.namespace"]
    assert "cross-namespace reference to Agent platform/helper is not allowed" in errs[0][2]
    helper["spec"]["allowedNamespaces"] = {"from": "All"}
    assert _ref_errors(objs) == []


def test_delegation_cycles_are_errors():
    objs = _world(agent("a", decl={"tools": [agent_tool("b")]}), agent("b", decl={"tools": [agent_tool("c")]}),
                  agent("c", decl={"tools": [agent_tool("a")]}))
    assert _ref_errors(objs) == [("a", "spec.declarative.tools[0].agent.name",
                                  "delegation cycle: agents/a -> agents/b -> agents/c -> agents/a "
                                  "(kagent refuses cyclic agent tool chains)")]


@pytest.mark.parametrize("depth,ok", [(10, True), (11, False)])
def test_delegation_depth_is_limited_to_ten(depth, ok):
    chain = [agent(f"a{i}", decl={"tools": [agent_tool(f"a{i + 1}")]}) for i in range(depth)] + [agent(f"a{depth}")]
    errs = _ref_errors(_world(*chain))
    if ok:
        assert errs == []
    else:
        assert [(n, f) for n, f, _ in errs] == [("a0", "spec.declarative.tools[0].agent.name")]
        assert errs[0][2].startswith("delegation chain is 11 levels deep, more than kagent's limit of 10")


def test_model_config_secrets_must_exist_with_their_keys():
    mc = model_config(apiKeySecret="openai", apiKeySecretKey="WRONG",
                      tls={"caCertSecretRef": "ca", "caCertSecretKey": "ca.crt"})
    errs = _ref_errors([mc, secret("openai", OPENAI_API_KEY="sk")])
    assert [(f, m.split(" (")[0]) for _, f, m in errs] == [
        ("spec.apiKeySecretKey", 'key "WRONG" not found in Secret agents/openai'),
        ("spec.tls.caCertSecretRef", 'Secret "ca" not found in namespace "agents": it is neither in the rendered '
                                     "output nor declared external"),
    ]
    assert [f for _, f, _ in _ref_errors([mc], {("Secret", NS, "openai"), ("Secret", NS, "ca")})] == []


def test_remote_mcp_server_and_agent_header_secrets_must_exist():
    hdr = [{"name": "Authorization", "valueFrom": {"type": "Secret", "name": "tok", "key": "t"}}]
    objs = [model_config(), remote(headersFrom=hdr), agent(decl={"tools": [{**mcp_tool(), "headersFrom": hdr}]})]
    assert sorted((n, f) for n, f, _ in _ref_errors(objs)) == [
        ("k8s-agent", "spec.declarative.tools[0].headersFrom[0].valueFrom.name"),
        ("tools", "spec.headersFrom[0].valueFrom.name"),
    ]
    assert _ref_errors(objs + [secret("tok", t="x")]) == []


def test_mcpserver_and_deployment_secret_and_configmap_refs():
    srv = mcp_server(secretRefs=[{"name": "gh-token"}], configMapRefs=[{"name": "cfg"}])
    dep = {"env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "s1", "key": "k"}}},
                   {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "c1", "key": "k", "optional": True}}}],
           "imagePullSecrets": [{"name": "regcred"}],
           "volumes": [{"name": "v", "secret": {"secretName": "s2"}}]}
    objs = [model_config(), srv, agent(decl={"deployment": dep})]
    assert sorted(f for _, f, _ in _ref_errors(objs)) == sorted([
        "spec.deployment.secretRefs[0].name", "spec.deployment.configMapRefs[0].name",
        "spec.declarative.deployment.env[0].valueFrom.secretKeyRef.name",
        "spec.declarative.deployment.imagePullSecrets[0].name", "spec.declarative.deployment.volumes[0].secret.secretName",
    ])


def test_every_pod_and_secret_reference_of_an_agent_is_checked():
    """The kagent reader's object_refs: skills, BYO and declarative pod specs, system message and
    prompt data sources, each named by its field; optional ones waived, except where kagent has no
    `optional` (a ValueSource), so writing one cannot waive the check."""
    pod = {"envFrom": [{"secretRef": {"name": "ef-s"}}, {"configMapRef": {"name": "ef-c", "optional": True}}],
           "volumes": [{"name": "a", "configMap": {"name": "vol-c"}},
                       {"name": "b", "secret": {"secretName": "vol-s", "optional": True}},
                       {"name": "c", "projected": {"sources": [{"secret": {"name": "proj-s"}}]}}],
           "sidecars": [{"name": "s", "env": [{"name": "E", "valueFrom": {"secretKeyRef": {"name": "side-s", "key": "k"}}}]}]}
    skills = {"gitAuthSecretRef": {"name": "git"}, "imagePullSecrets": [{"name": "skill-pull"}],
              "initContainer": {"envFrom": [{"secretRef": {"name": "init-s"}}]}}
    declarative = agent(skills=skills, decl={
        "systemMessageFrom": {"type": "Secret", "name": "sysmsg", "key": "m", "optional": True},
        "promptTemplate": {"dataSources": [{"name": "frag"}, {"kind": "Secret", "name": "nope"}]},
        "deployment": pod})
    byo = byo_agent(pod)
    errors = sorted((n, f, m.split(":")[0]) for n, f, m in _ref_errors(_world(declarative, byo)))
    d, b = "spec.declarative.deployment", "spec.byo.deployment"
    assert errors == sorted([
        *((name, f"{base}.{field}", f'{kind} "{ref}" not found in namespace "agents"')
          for name, base in (("byo-agent", b), ("k8s-agent", d))
          for field, kind, ref in (("envFrom[0].secretRef.name", "Secret", "ef-s"),
                                   ("volumes[0].configMap.name", "ConfigMap", "vol-c"),
                                   ("volumes[2].projected.sources[0].secret.name", "Secret", "proj-s"),
                                   ("sidecars[0].env[0].valueFrom.secretKeyRef.name", "Secret", "side-s"))),
        ("k8s-agent", "spec.skills.gitAuthSecretRef.name", 'Secret "git" not found in namespace "agents"'),
        ("k8s-agent", "spec.skills.imagePullSecrets[0].name", 'Secret "skill-pull" not found in namespace "agents"'),
        ("k8s-agent", "spec.skills.initContainer.envFrom[0].secretRef.name",
         'Secret "init-s" not found in namespace "agents"'),
        ("k8s-agent", "spec.declarative.systemMessageFrom.name", 'Secret "sysmsg" not found in namespace "agents"'),
        ("k8s-agent", "spec.declarative.promptTemplate.dataSources[0].name",
         'ConfigMap "frag" not found in namespace "agents"'),
        ("k8s-agent", "spec.declarative.promptTemplate.dataSources[1].kind",
         "prompt data sources must be ConfigMaps, not core/Secret"),
    ])


def test_the_reader_gives_a_model_configs_provider_and_model_for_both_versions():
    from krmfn.reader import read_model_config

    assert (read_model_config(model_config()).provider, read_model_config(model_config()).model) == (
        "OpenAI", "gpt-4.1-mini")  # the CRD default
    v1 = {**model_config(provider="Anthropic", model="claude"), "apiVersion": "api.kagent.dev/v1alpha3"}
    assert (read_model_config(v1).provider, read_model_config(v1).model) == ("Anthropic", "claude")
    # not a string: never the default (a policy must not read a malformed provider as OpenAI)
    assert read_model_config(model_config(provider=["Anthropic"])).provider == "['Anthropic']"
    # kagent 0.10 still serves v1alpha1: one object, the same provider (default OpenAI) and model
    assert (read_model_config(model_config("v1alpha1")).provider, read_model_config(model_config("v1alpha1")).model) \
        == ("OpenAI", "gpt-4.1-mini")
    assert read_model_config({**model_config(), "apiVersion": "example.com/v1alpha2"}) is None
    assert read_model_config(secret("x")) is None


def test_agent_name_must_be_a_dns1035_label():
    errs = _ref_errors(_world(agent("1st-agent")))
    assert [(n, f) for n, f, _ in errs] == [("1st-agent", "metadata.name")]


def test_validate_combines_schema_and_reference_results_sorted():
    objs = _world(agent(decl={"tools": [mcp_tool(tool_names=[])]}, surprise=True))
    results = validate(objs, crds("v0.9.12"))
    assert [(r.field, dict(r.tags)["check"]) for r in results] == [
        ("spec.declarative.tools[0].mcpServer.toolNames", "reference"),
        ("spec.surprise", "schema"),
    ]
    assert validate(objs, crds("v0.9.12"), check_references=False)[0].field == "spec.surprise"
