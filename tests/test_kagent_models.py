"""The kagent models against the real kagent CRDs (v0.9.12 and v0.10.0-rc3).

Checks that what the models emit is accepted structurally by both CRD versions, that it carries
every CRD `default:` (no server-side drift), that the models spell and cover every CRD field,
and that unknown fields and the CRDs' CEL rules are enforced when objects are built.
"""

from __future__ import annotations

import copy
import functools
import re
import types
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from krmfn.kagent import (
    AGENT_API_VERSION,
    MCPSERVER_API_VERSION,
    MODEL_PROVIDERS,
    MODEL_PROVIDERS_V0_9,
    PROVIDER_FIELDS,
    V0_10_ONLY_ENUM_VALUES,
    V0_10_ONLY_FIELDS,
    Agent,
    AllowedNamespaces,
    MCPServer,
    ModelConfig,
    RemoteMCPServer,
    crd_defaults_missing,
    openapi_schema,
)

CRD_ROOT = Path(__file__).resolve().parents[2] / "shared" / "kagent-crds"
V0_9 = "v0.9.12"
V0_10 = "v0.10.0-rc3"
VERSIONS = (V0_9, V0_10)

CRD_FILES = {  # kind -> (file, served version)
    "Agent": ("kagent.dev_agents.yaml", "v1alpha2"),
    "ModelConfig": ("kagent.dev_modelconfigs.yaml", "v1alpha2"),
    "RemoteMCPServer": ("kagent.dev_remotemcpservers.yaml", "v1alpha2"),
    "MCPServer": ("kagent.dev_mcpservers.yaml", "v1alpha1"),
}
MODEL_CLASSES = {"Agent": Agent, "ModelConfig": ModelConfig, "RemoteMCPServer": RemoteMCPServer,
                 "MCPServer": MCPServer}


@functools.lru_cache(maxsize=None)
def _load_schema(version: str, kind: str) -> dict:
    file, served = CRD_FILES[kind]
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(CRD_ROOT / version / file, encoding="utf-8") as fh:
        return openapi_schema(yaml.load(fh, Loader=loader), served)


@pytest.fixture(scope="session")
def schema():
    if not CRD_ROOT.is_dir():
        pytest.skip(f"kagent CRDs not found at {CRD_ROOT} (shared test data outside the repo)")
    return _load_schema


# --- a small structural check (the full conformance validator lives elsewhere) -----------------

_TYPES = {"string": (str,), "boolean": (bool,), "integer": (int,), "number": (int, float),
          "object": (dict,), "array": (list,)}


def structural_errors(value: Any, schema: dict, path: str = "") -> list[str]:
    """Unknown fields (which the API server would prune), missing required fields, wrong types,
    enum values and simple bounds. ObjectMeta (`metadata`) is not part of the CRD schema."""
    errors: list[str] = []
    where = path or "<root>"
    if schema.get("x-kubernetes-int-or-string"):
        if not isinstance(value, (int, str)) or isinstance(value, bool):
            errors.append(f"{where}: want int or string, got {type(value).__name__}")
        return errors
    want = schema.get("type")
    if want:
        ok = isinstance(value, _TYPES[want]) and not (want in ("integer", "number") and isinstance(value, bool))
        if not ok:
            return [f"{where}: want {want}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {value!r} not in {schema['enum']}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", 1 << 30):
            errors.append(f"{where}: length {len(value)} out of bounds")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{where}: does not match {schema['pattern']}")
    if isinstance(value, int) and not isinstance(value, bool) and value < schema.get("minimum", -(1 << 63)):
        errors.append(f"{where}: {value} below minimum {schema['minimum']}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", 1 << 30):
            errors.append(f"{where}: {len(value)} items out of bounds")
        for i, item in enumerate(value):
            errors += structural_errors(item, schema.get("items", {}), f"{path}[{i}]")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for name in schema.get("required", []):
            if name not in value:
                errors.append(f"{where}: required field {name!r} missing")
        for name, item in value.items():
            sub = f"{path}.{name}" if path else name
            if sub == "metadata":
                continue
            if name in props:
                errors += structural_errors(item, props[name], sub)
            elif isinstance(extra, dict):
                errors += structural_errors(item, extra, sub)
            elif extra is True or schema.get("x-kubernetes-preserve-unknown-fields"):
                continue
            else:
                errors.append(f"{sub}: unknown field")
    return errors


# --- representative objects --------------------------------------------------------------------

NS = "platform-agents"


def declarative_agent(version: str = V0_9) -> Agent:
    spec: dict[str, Any] = {
        "type": "Declarative",
        "description": "Read-only Kubernetes troubleshooting assistant.",
        "allowedNamespaces": {"from": "Selector", "selector": {"matchLabels": {"team": "platform"}}},
        "skills": {"refs": ["ghcr.io/acme/skills/k8s:1.0"], "gitRefs": [{"url": "https://github.com/acme/skills"}],
                   "gitAuthSecretRef": {"name": "git-token"}},
        "sandbox": {"network": {"allowedDomains": ["*.example.com"]}},
        "declarative": {
            "systemMessage": "You are a read-only Kubernetes assistant for {{.AgentName}}.",
            "promptTemplate": {"dataSources": [{"name": "kagent-builtin-prompts", "kind": "ConfigMap"}]},
            "modelConfig": "standard",
            "tools": [
                {"type": "McpServer", "mcpServer": {
                    "apiGroup": "kagent.dev", "kind": "RemoteMCPServer", "name": "kagent-tool-server",
                    "namespace": "kagent",
                    "toolNames": ["k8s_get_resources", "k8s_get_pod_logs", "k8s_describe_resource"],
                    "requireApproval": ["k8s_get_pod_logs"], "allowedHeaders": ["x-user-email"]},
                 "headersFrom": [{"name": "X-Team", "value": "platform"},
                                 {"name": "Authorization",
                                  "valueFrom": {"type": "Secret", "name": "tool-token", "key": "token"}}]},
                {"type": "McpServer", "mcpServer": {"apiGroup": "kagent.dev", "kind": "MCPServer",
                                                    "name": "github-mcp", "toolNames": ["search_issues"]}},
                {"type": "Agent", "agent": {"name": "promql-agent", "namespace": "observability"}},
            ],
            "a2aConfig": {"skills": [{"id": "diagnose", "name": "Cluster diagnostics",
                                      "description": "Finds why workloads fail.",
                                      "examples": ["Why is my pod crash looping?"], "tags": ["k8s"],
                                      "inputModes": ["text"], "outputModes": ["text"]}]},
            "memory": {"modelConfig": "embedding", "ttlDays": 15},
            "context": {"compaction": {"tokenThreshold": 50000,
                                       "summarizer": {"modelConfig": "summarizer"}}},
            "deployment": {
                "replicas": 2,
                "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": 1073741824}},
                "env": [{"name": "LOG_LEVEL", "value": "info"},
                        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "tok", "key": "t"}}}],
                "imagePullSecrets": [{"name": "regcred"}],
                "imagePullPolicy": "IfNotPresent",
                "imageRegistry": "registry.example.com",
                "labels": {"team": "platform"}, "annotations": {"a": "b"},
                "nodeSelector": {"kubernetes.io/os": "linux"},
                "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "agents", "effect": "NoSchedule"}],
                "podSecurityContext": {"runAsNonRoot": True},
                "securityContext": {"allowPrivilegeEscalation": False},
                "volumes": [{"name": "cfg", "configMap": {"name": "agent-cfg"}}],
                "volumeMounts": [{"name": "cfg", "mountPath": "/etc/agent"}],
                "serviceAccountConfig": {"annotations": {"iam": "role"}},
            },
        },
    }
    if version == V0_10:
        spec.update(version="1.2.0", iconUrl="https://example.com/icon.png",
                    documentationUrl="https://example.com/docs",
                    provider={"organization": "ACME", "url": "https://acme.example.com"})
        spec["skills"]["s3Refs"] = [{"uri": "s3://skills/k8s", "region": "eu-west-1"}]
        spec["declarative"]["shareTools"] = True
        spec["declarative"]["tools"][2]["isolateSessions"] = True
        spec["declarative"]["deployment"]["envFrom"] = [{"configMapRef": {"name": "agent-env"}}]
        spec["declarative"]["deployment"]["deploymentAnnotations"] = {"owner": "platform"}
    return Agent.model_validate({"metadata": {"name": "k8s-readonly", "namespace": NS}, "spec": spec})


def byo_agent(version: str = V0_9) -> Agent:
    deployment: dict[str, Any] = {"image": "ghcr.io/acme/byo-agent:1.0", "cmd": "/app/agent", "args": ["--port", "8080"],
                                  "workingDir": "/app", "replicas": 1, "env": [{"name": "MODE", "value": "prod"}],
                                  "serviceAccountName": "byo-agent"}
    if version == V0_10:
        deployment["envFrom"] = [{"secretRef": {"name": "byo-env"}}]
        deployment["deploymentAnnotations"] = {"owner": "platform"}
    return Agent(metadata={"name": "byo", "namespace": NS},
                 spec={"type": "BYO", "description": "A BYO agent.", "byo": {"deployment": deployment}})


def model_configs(version: str = V0_9) -> dict[str, ModelConfig]:
    secret = {"apiKeySecret": "llm-keys", "apiKeySecretKey": "api-key"}
    specs: dict[str, dict[str, Any]] = {
        "OpenAI": {**secret, "model": "gpt-4.1", "defaultHeaders": {"X-Org": "acme"},
                   "tls": {"caCertSecretRef": "corp-ca", "caCertSecretKey": "ca.crt"},
                   "openAI": {"baseUrl": "https://llm.example.com/v1", "organization": "acme", "temperature": "0.2",
                              "topP": "0.9", "frequencyPenalty": "0", "presencePenalty": "0", "maxTokens": 4096,
                              "seed": 7, "n": 1, "timeout": 60, "reasoningEffort": "low"}},
        "Anthropic": {**secret, "model": "claude-sonnet-4",
                      "anthropic": {"baseUrl": "https://api.anthropic.com", "maxTokens": 8192, "temperature": "0.5",
                                    "topK": 40, "topP": "0.95"}},
        "AzureOpenAI": {**secret, "model": "gpt-4o",
                        "azureOpenAI": {"azureEndpoint": "https://acme.openai.azure.com", "apiVersion": "2024-10-21",
                                        "azureDeployment": "gpt-4o", "maxTokens": 2048, "temperature": "0.1",
                                        "topP": "1"}},
        "Ollama": {"model": "llama3.2", "ollama": {"host": "http://ollama.ollama:11434", "options": {"num_ctx": "8192"}}},
        "Gemini": {**secret, "model": "gemini-2.5-pro", "gemini": {}},
        "GeminiVertexAI": {"model": "gemini-2.5-flash",
                           "geminiVertexAI": {"projectID": "acme-prod", "location": "europe-west4", "candidateCount": 1,
                                              "maxOutputTokens": 8192, "responseMimeType": "text/plain",
                                              "stopSequences": ["END"], "temperature": "0.3", "topK": "40",
                                              "topP": "0.9"}},
        "AnthropicVertexAI": {"model": "claude-sonnet-4@20250514",
                              "anthropicVertexAI": {"projectID": "acme-prod", "location": "us-east5", "maxTokens": 4096,
                                                    "stopSequences": ["END"], "temperature": "0.3", "topK": "20",
                                                    "topP": "0.9"}},
        "Bedrock": {"model": "anthropic.claude-3-5-sonnet", "apiKeySecret": "aws-creds",
                    "bedrock": {"region": "eu-central-1", "promptCaching": True, "cacheTTL": "1h",
                                "additionalModelRequestFields": {"top_k": 5, "thinking": {"type": "enabled"}}}},
        "SAPAICore": {"model": "gpt-4o", "apiKeySecret": "sap-oauth",
                      "sapAICore": {"baseUrl": "https://api.ai.sap.example.com",
                                    "authUrl": "https://tenant.authentication.eu10.hana.ondemand.com"}},
    }
    if version == V0_10:
        specs["OpenAI"]["openAI"].update(apiFormat="chatCompletions", reasoningEffort="xhigh")
        specs["Gemini"]["gemini"] = {"maxOutputTokens": 8192}
        specs["Bedrock"]["bedrock"].update(connectTimeout=10, readTimeout=120,
                                           guardrail={"identifier": "gr-123", "version": "1"})
        specs["Foundry"] = {**secret, "model": "gpt-4o",
                            "foundry": {"deployment": "gpt-4o", "endpoint": "https://acme.services.ai.azure.com"}}
        specs["FoundryFrom"] = {**secret, "model": "gpt-4o",
                                "foundry": {"deployment": "gpt-4o",
                                            "endpointFrom": {"name": "foundry", "key": "endpoint"}}}
        specs["OpenAIResponses"] = {**secret, "model": "gpt-5", "openAI": {
            "apiFormat": "responses", "maxCompletionTokens": 16384, "reasoningEffort": "none"}}
    variants = {"FoundryFrom": "Foundry", "OpenAIResponses": "OpenAI"}
    return {name: ModelConfig(metadata={"name": name.lower(), "namespace": NS},
                              spec={"provider": variants.get(name, name), **spec})
            for name, spec in specs.items()}


def remote_mcp_server() -> RemoteMCPServer:
    return RemoteMCPServer.model_validate({
        "metadata": {"name": "kagent-tool-server", "namespace": "kagent"},
        "spec": {"description": "kagent built-in tools", "url": "https://tools.kagent:8084/mcp",
                 "protocol": "STREAMABLE_HTTP", "timeout": "45s", "sseReadTimeout": "5m0s",
                 "terminateOnClose": True,
                 "headersFrom": [{"name": "Authorization",
                                  "valueFrom": {"type": "Secret", "name": "tools", "key": "token"}}],
                 "allowedNamespaces": {"from": "All"},
                 "tls": {"disableVerify": True}}})


def mcp_servers() -> list[MCPServer]:
    stdio = MCPServer(metadata={"name": "github-mcp", "namespace": NS}, spec={
        "transportType": "stdio", "stdioTransport": {},
        "deployment": {"image": "ghcr.io/github/github-mcp-server:0.5", "cmd": "/server/github-mcp-server",
                       "args": ["stdio"], "port": 3000, "env": {"GITHUB_TOOLSETS": "issues"},
                       "secretRefs": [{"name": "github-token"}], "configMapRefs": [{"name": "github-cfg"}],
                       "imagePullPolicy": "IfNotPresent", "imagePullSecrets": [{"name": "regcred"}],
                       "initContainer": {"image": "busybox:1.36"},
                       "resources": {"requests": {"cpu": "50m"}}, "serviceAccount": {"labels": {"a": "b"}}}})
    http = MCPServer(metadata={"name": "docs-mcp", "namespace": NS}, spec={
        "transportType": "http",
        "httpTransport": {"targetPort": 8000, "path": "/mcp", "tls": {"secretRef": "docs-tls"}},
        "timeout": "60s",
        "deployment": {"image": "ghcr.io/acme/docs-mcp:1.0", "port": 8000, "replicas": 2,
                       "sidecars": [{"name": "proxy", "image": "envoyproxy/envoy:v1.31"}]}})
    return [stdio, http]


def emitted(version: str) -> list[tuple[str, Any]]:
    """(kind, model object) for everything the tests render for `version`."""
    objects: list[tuple[str, Any]] = [("Agent", declarative_agent(version)), ("Agent", byo_agent(version))]
    objects += [("ModelConfig", mc) for mc in model_configs(version).values()]
    objects += [("RemoteMCPServer", remote_mcp_server())]
    objects += [("MCPServer", m) for m in mcp_servers()]
    return objects


# --- (1) structural conformance -----------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_emitted_objects_conform_to_crd(schema, version):
    for kind, model in emitted(version):
        obj = model.to_obj()
        assert obj["kind"] == kind
        assert obj["apiVersion"] == (MCPSERVER_API_VERSION if kind == "MCPServer" else AGENT_API_VERSION)
        assert structural_errors(obj, schema(version, kind)) == [], f"{kind}/{obj['metadata']['name']}"


def test_every_provider_is_covered():
    assert set(model_configs(V0_9)) == set(MODEL_PROVIDERS_V0_9)
    assert {mc.spec.provider for mc in model_configs(V0_10).values()} == set(MODEL_PROVIDERS)


def test_structural_check_can_fail(schema):
    obj = declarative_agent().to_obj()
    obj["spec"]["declarative"]["tools"][0]["mcpServer"]["toolname"] = ["x"]
    obj["spec"]["declarative"]["stream"] = "false"
    del obj["spec"]["declarative"]["memory"]["modelConfig"]
    errors = structural_errors(obj, schema(V0_9, "Agent"))
    assert "spec.declarative.tools[0].mcpServer.toolname: unknown field" in errors
    assert "spec.declarative.stream: want boolean, got str" in errors
    assert "spec.declarative.memory: required field 'modelConfig' missing" in errors


def test_v010_fields_are_unknown_to_v0912(schema):
    """The v0.10 objects fail on v0.9.12 exactly at the fields V0_10_ONLY_FIELDS lists."""
    found: set[str] = set()
    for kind, model in emitted(V0_10):
        for error in structural_errors(model.to_obj(), schema(V0_9, kind)):
            path, _, message = error.partition(": ")
            if message == "unknown field":
                found.add(f"{kind}:" + re.sub(r"\[\d+\]", "[]", path))
            else:  # enum values only v0.10 knows
                assert "not in" in message, error
    listed = {f"{kind}:{path}" for kind, paths in V0_10_ONLY_FIELDS.items() for path in paths}
    assert found == listed


def test_v010_only_lists_match_the_crds(schema):
    for kind, paths in V0_10_ONLY_FIELDS.items():
        for path in paths:
            assert _schema_at(schema(V0_10, kind), path) is not None, f"{kind} {path} not in v0.10"
            assert _schema_at(schema(V0_9, kind), path) is None, f"{kind} {path} already in v0.9.12"
    for kind, enums in V0_10_ONLY_ENUM_VALUES.items():
        for path, values in enums.items():
            new, old = _schema_at(schema(V0_10, kind), path)["enum"], _schema_at(schema(V0_9, kind), path)["enum"]
            assert set(values) == set(new) - set(old)
    provider = _schema_at(schema(V0_10, "ModelConfig"), "spec.provider")
    assert tuple(provider["enum"]) == MODEL_PROVIDERS
    assert tuple(_schema_at(schema(V0_9, "ModelConfig"), "spec.provider")["enum"]) == MODEL_PROVIDERS_V0_9
    assert set(PROVIDER_FIELDS.values()) <= set(_schema_at(schema(V0_10, "ModelConfig"), "spec")["properties"])


def _schema_at(root: dict, path: str) -> dict | None:
    node: dict | None = root
    for part in path.split("."):
        name, is_list = (part[:-2], True) if part.endswith("[]") else (part, False)
        node = (node or {}).get("properties", {}).get(name)
        if node is None:
            return None
        if is_list:
            node = node.get("items")
    return node


# --- the models spell and cover every CRD field; their defaults are the CRD's --------------------

# Where a model deliberately differs from the CRD default: (kind, path) -> reason.
DEFAULT_EXCEPTIONS = {
    ("Agent", "spec.declarative.runtime"): "pinned to python: the CRD default differs between versions",
    ("ModelConfig", "spec.openAI.apiFormat"): "v0.10-only default, cannot be carried for v0.9.12",
}


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """(model class inside Optional/list, whether a list) or (None, _) for plain types."""
    is_list = False
    for _ in range(4):
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        if origin in (typing.Union, types.UnionType):
            annotation = next(a for a in args if a is not type(None))
        elif origin is list:
            annotation, is_list = args[0], True
        else:
            break
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, is_list
    return None, is_list


def _compare(model: type[BaseModel], node: dict, path: str, kind: str, version: str, problems: list[str]):
    props = node.get("properties", {})
    fields = {(f.alias or name): f for name, f in model.model_fields.items()}
    v010_only = {p for p in V0_10_ONLY_FIELDS[kind]}
    for name, field in fields.items():
        sub = f"{path}.{name}" if path else name
        if version == V0_9 and re.sub(r"\[\d+\]", "[]", sub) in v010_only:
            if name in props:
                problems.append(f"{sub}: listed as v0.10-only but in v0.9.12")
            continue
        if name not in props:
            problems.append(f"{sub}: model field not in CRD")
            continue
        if name == "metadata" and not path:
            continue
        crd_default = props[name].get("default")
        if (kind, sub.replace("[]", "")) not in DEFAULT_EXCEPTIONS and "default" in props[name]:
            # A required field is always emitted, so it cannot drift; an optional one must carry
            # the CRD's default as its own.
            if not field.is_required() and field.default != crd_default:
                problems.append(f"{sub}: model default {field.default!r} != CRD default {crd_default!r}")
        child, is_list = _model_of(field.annotation)
        if child is not None:
            target = props[name].get("items", {}) if is_list else props[name]
            _compare(child, target, sub + ("[]" if is_list else ""), kind, version, problems)
    for name in props:
        if name not in fields and not (name == "status" and not path):
            problems.append(f"{(path + '.') if path else ''}{name}: CRD field missing from model")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("kind", sorted(MODEL_CLASSES))
def test_models_match_crd_fields_and_defaults(schema, kind, version):
    problems: list[str] = []
    _compare(MODEL_CLASSES[kind], schema(version, kind), "", kind, version, problems)
    assert problems == []


def test_runtime_is_pinned_and_differs_from_v010_default(schema):
    assert declarative_agent().spec.declarative.runtime == "python"
    assert _schema_at(schema(V0_9, "Agent"), "spec.declarative.runtime")["default"] == "python"
    assert _schema_at(schema(V0_10, "Agent"), "spec.declarative.runtime")["default"] == "go"


# --- (2) no server-side default drift ---------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_emitted_objects_carry_every_crd_default(schema, version):
    for kind, model in emitted(version):
        obj = model.to_obj()
        assert crd_defaults_missing(obj, schema(version, kind)) == [], f"{kind}/{obj['metadata']['name']}"


def test_minimal_objects_carry_every_crd_default(schema):
    """Objects built with only required fields: the model defaults fill every CRD default."""
    agent = Agent(metadata={"name": "a"}, spec={"declarative": {"modelConfig": "m",
                  "context": {"compaction": {}}}, "allowedNamespaces": {},
                  "skills": {"gitRefs": [{"url": "https://g"}]}}).to_obj()
    rmcp = RemoteMCPServer(metadata={"name": "r"}, spec={"description": "d", "url": "https://x", "tls": {}}).to_obj()
    mcp = MCPServer(metadata={"name": "m"}, spec={"deployment": {}, "httpTransport": {"tls": {}}}).to_obj()
    mc = ModelConfig(metadata={"name": "b"}, spec={"provider": "Bedrock", "model": "x", "bedrock": {"region": "r"},
                                                   "tls": {}}).to_obj()
    sap = ModelConfig(metadata={"name": "s"}, spec={"provider": "SAPAICore", "model": "x",
                                                    "sapAICore": {"baseUrl": "https://s"}}).to_obj()
    for version in VERSIONS:
        for kind, obj in (("Agent", agent), ("RemoteMCPServer", rmcp), ("MCPServer", mcp),
                          ("ModelConfig", mc), ("ModelConfig", sap)):
            assert crd_defaults_missing(obj, schema(version, kind)) == [], (version, kind)
            assert structural_errors(obj, schema(version, kind)) == [], (version, kind)
    assert agent["spec"]["type"] == "Declarative"
    assert agent["spec"]["declarative"]["stream"] is False
    assert agent["spec"]["declarative"]["context"]["compaction"] == {"compactionInterval": 5, "overlapSize": 2}
    assert rmcp["spec"] == {"description": "d", "url": "https://x", "protocol": "STREAMABLE_HTTP",
                            "timeout": "30s", "terminateOnClose": True,
                            "tls": {"disableSystemCAs": False, "disableVerify": False}}
    assert mcp["spec"]["deployment"] == {"port": 3000, "replicas": 1}
    v010 = ModelConfig(metadata={"name": "f"}, spec={"provider": "Foundry", "model": "x", "foundry": {
        "deployment": "d", "endpoint": "https://f"}, "apiKeySecret": "s", "apiKeySecretKey": "k"}).to_obj()
    assert crd_defaults_missing(v010, schema(V0_10, "ModelConfig")) == []
    assert v010["spec"]["foundry"]["apiVersion"] == "2024-10-21"


def test_defaults_missing_reports_omitted_fields(schema):
    agent = declarative_agent().to_obj()
    del agent["spec"]["type"]
    del agent["spec"]["declarative"]["runtime"]
    del agent["spec"]["skills"]["gitRefs"][0]["ref"]
    agent["spec"]["declarative"]["context"]["compaction"]["overlapSize"] = None  # null is dropped, then defaulted
    for version in VERSIONS:
        assert sorted(crd_defaults_missing(agent, schema(version, "Agent"))) == [
            "spec.declarative.context.compaction.overlapSize",
            "spec.declarative.runtime",
            "spec.skills.gitRefs[0].ref",
            "spec.type",
        ]
    rmcp = remote_mcp_server().to_obj()
    del rmcp["spec"]["tls"]  # absent parent: its defaults do not apply
    del rmcp["spec"]["terminateOnClose"]
    assert crd_defaults_missing(rmcp, schema(V0_9, "RemoteMCPServer")) == ["spec.terminateOnClose"]


def test_openai_api_format_is_a_v010_default(schema):
    """The model cannot default openAI.apiFormat (v0.9.12 lacks it): emit it when targeting v0.10."""
    obj = model_configs(V0_9)["OpenAI"].to_obj()
    assert crd_defaults_missing(obj, schema(V0_9, "ModelConfig")) == []
    assert crd_defaults_missing(obj, schema(V0_10, "ModelConfig")) == ["spec.openAI.apiFormat"]


def test_defaults_walk_descends_maps_and_lists():
    schema = {"type": "object", "properties": {
        "m": {"type": "object", "additionalProperties": {"type": "object", "properties": {
            "d": {"type": "string", "default": "x"}}}},
        "l": {"type": "array", "items": {"type": "object", "properties": {"d": {"type": "integer", "default": 1}}}},
        "n": {"type": "string", "default": "n", "nullable": True}}}
    assert crd_defaults_missing({"m": {"a": {}, "b": {"d": "y"}}, "l": [{"d": 2}, {}], "n": None}, schema) == [
        "m.a.d", "l[1].d"]
    assert crd_defaults_missing({}, schema) == ["n"]


# --- (3) unknown fields, wrong types and CEL rules are rejected -----------------------------------


@pytest.mark.parametrize("build, mutate, where", [
    (lambda: declarative_agent().to_obj(), lambda o: o.update(extra=1), "extra"),
    (lambda: declarative_agent().to_obj(), lambda o: o["metadata"].update(uid="1"), "uid"),
    (lambda: declarative_agent().to_obj(),
     lambda o: o["spec"]["declarative"]["tools"][0]["mcpServer"].update(toolname=["x"]), "toolname"),
    (lambda: declarative_agent().to_obj(), lambda o: o["spec"]["declarative"].update(systemPrompt="x"),
     "systemPrompt"),
    (lambda: declarative_agent().to_obj(), lambda o: o["spec"]["declarative"]["deployment"].update(image="x"),
     "image"),
    (lambda: byo_agent().to_obj(), lambda o: o["spec"]["byo"]["deployment"].update(imageRegistry="x"),
     "imageRegistry"),
    (lambda: model_configs()["OpenAI"].to_obj(), lambda o: o["spec"].update(openai={}), "openai"),
    (lambda: model_configs()["OpenAI"].to_obj(), lambda o: o["spec"]["openAI"].update(max_tokens=1), "max_tokens"),
    (lambda: model_configs()["Ollama"].to_obj(), lambda o: o["spec"].update(apiKey="plain"), "apiKey"),
    (lambda: remote_mcp_server().to_obj(), lambda o: o["spec"].update(headers={}), "headers"),
    (lambda: mcp_servers()[0].to_obj(), lambda o: o["spec"]["deployment"].update(command="x"), "command"),
    (lambda: mcp_servers()[0].to_obj(), lambda o: o["spec"]["stdioTransport"].update(cmd="x"), "cmd"),
])
def test_unknown_fields_are_rejected(build, mutate, where):
    obj = build()
    model = MODEL_CLASSES[obj["kind"]]
    model.model_validate(copy.deepcopy(obj))  # the unmodified object is fine
    mutate(obj)
    with pytest.raises(ValidationError) as err:
        model.model_validate(obj)
    assert any(e["type"] == "extra_forbidden" and e["loc"][-1] == where for e in err.value.errors())


@pytest.mark.parametrize("spec_patch", [
    {"openAI": {"temperature": 0.2}},  # sampling parameters are strings
    {"openAI": {"maxTokens": "4096"}},  # token counts are integers
    {"openAI": {"maxTokens": 0}},
    {"openAI": {"maxTokens": 10, "maxCompletionTokens": 10}},
    {"openAI": {"reasoningEffort": "extreme"}},
    {"provider": "openai"},
    {"anthropic": {}},  # block of another provider
    {"apiKeySecretKey": None},  # apiKeySecret without key
    {"apiKeyPassthrough": True},  # with apiKeySecret
    {"openAI": {"tokenExchange": {"type": "GDCHServiceAccount"}}},
    {"tls": {"caCertSecretRef": "ca"}},
    {"tls": {"disableSystemCAs": True}},
])
def test_model_config_rules(spec_patch):
    spec = model_configs()["OpenAI"].to_obj()["spec"]
    for key, value in spec_patch.items():
        if value is None:
            spec.pop(key)
        elif key == "openAI":
            spec[key] = {**spec[key], **value}
        else:
            spec[key] = value
    with pytest.raises(ValidationError):
        ModelConfig(metadata={"name": "x"}, spec=spec)


@pytest.mark.parametrize("mutate", [
    lambda d: d["tools"][0].update(type="Agent"),  # mcpServer with type Agent
    lambda d: d["tools"][2].pop("agent"),
    lambda d: d["tools"][0].update(isolateSessions=True),
    lambda d: d["tools"][0]["mcpServer"].update(requireApproval=["k8s_delete_resource"]),
    lambda d: d["tools"][0]["headersFrom"][0].update(valueFrom={"type": "Secret", "name": "s", "key": "k"}),
    lambda d: d.update(systemMessageFrom={"type": "ConfigMap", "name": "p", "key": "prompt.md"}),
    lambda d: d["deployment"].update(serviceAccountName="sa"),
    lambda d: d.pop("modelConfig"),
    lambda d: d.update(stream="true"),
    lambda d: d["a2aConfig"].update(skills=[]),
    lambda d: d.update(runtime="java"),
])
def test_agent_rules(mutate):
    obj = declarative_agent().to_obj()
    mutate(obj["spec"]["declarative"])
    with pytest.raises(ValidationError):
        Agent.model_validate(obj)


def test_agent_type_needs_matching_block():
    with pytest.raises(ValidationError):
        Agent(metadata={"name": "a"}, spec={"type": "BYO", "declarative": {"modelConfig": "m"}})
    with pytest.raises(ValidationError):
        Agent(metadata={"name": "a"}, spec={})
    with pytest.raises(ValidationError):
        AllowedNamespaces(from_="Selector")


def test_remote_mcp_server_rules():
    base = remote_mcp_server().to_obj()
    for patch in ({"url": "http://plain:8084/mcp"},  # tls with http://
                  {"tls": {"caCertSecretRef": "ca", "caCertSecretKey": "ca.crt"}},  # from: All + pinned CA
                  {"protocol": "WEBSOCKET"}):
        with pytest.raises(ValidationError):
            RemoteMCPServer.model_validate({**base, "spec": {**base["spec"], **patch}})
    spec = {k: v for k, v in base["spec"].items() if k != "description"}
    with pytest.raises(ValidationError):
        RemoteMCPServer.model_validate({**base, "spec": spec})


# --- to_obj ---------------------------------------------------------------------------------------


def test_to_obj_round_trips_with_json_names():
    for version in VERSIONS:
        for kind, model in emitted(version):
            obj = model.to_obj()
            assert type(model).model_validate(obj).to_obj() == obj
            assert "None" not in repr(obj) and "from_" not in repr(obj)
    agent = declarative_agent().to_obj()
    assert agent["spec"]["allowedNamespaces"]["from"] == "Selector"
    assert yaml.safe_load(yaml.safe_dump(agent)) == agent
    ollama = model_configs()["Ollama"]
    assert ollama.spec.ollama.options == {"num_ctx": "8192"}
    assert ollama.to_obj()["spec"] == {"provider": "Ollama", "model": "llama3.2",
                                       "ollama": {"host": "http://ollama.ollama:11434",
                                                  "options": {"num_ctx": "8192"}}}
