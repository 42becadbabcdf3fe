"""The kagent input schemas (krmfn/kagent/models.py) against the real kagent CRDs (v0.9.12, v0.10.0-rc3).

krmfn reads three parts of kagent's API from its users and copies them into its output: an
AgentDescription's `spec.deployment` (DeclarativeDeploymentSpec), a catalog server's `headersFrom`
(ValueRef) and a ModelEnvironment tier's provider blocks (ModelConfigSpec). These tests check that
the schemas spell and cover every CRD field of those parts, carry the CRD defaults, and enforce
unknown fields, types and the CRDs' CEL rules. What krmfn emits is built as plain data and checked
against the same CRDs by tests/test_output_conformance.py (every golden output: schema, CEL rules and
no missing CRD default), which replaced this module's checks of the former output models.
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

from krmfn.kagent import (
    DEFAULT_RUNTIME,
    MODEL_PROVIDERS,
    MODEL_PROVIDERS_V0_9,
    PROVIDER_FIELDS,
    V0_10_ONLY_ENUM_VALUES,
    V0_10_ONLY_FIELDS,
    crd_defaults_missing,
    openapi_schema,
)
from krmfn.kagent.models import DeclarativeDeploymentSpec, ModelConfigSpec, ValueRef
from krmfn.runtime.typed import BaseModel, ValidationError

CRD_ROOT = Path(__file__).resolve().parents[2] / "shared" / "kagent-crds"
V0_9 = "v0.9.12"
V0_10 = "v0.10.0-rc3"
VERSIONS = (V0_9, V0_10)

CRD_FILES = {  # kind -> (file, served version)
    "Agent": ("kagent.dev_agents.yaml", "v1alpha2"),
    "ModelConfig": ("kagent.dev_modelconfigs.yaml", "v1alpha2"),
    "RemoteMCPServer": ("kagent.dev_remotemcpservers.yaml", "v1alpha2"),
}
# model -> (kind, the path of the CRD schema it describes)
SCHEMAS = {
    "ModelConfigSpec": (ModelConfigSpec, "ModelConfig", "spec"),
    "DeclarativeDeploymentSpec": (DeclarativeDeploymentSpec, "Agent", "spec.declarative.deployment"),
    "ValueRef (Agent tools)": (ValueRef, "Agent", "spec.declarative.tools[].headersFrom[]"),
    "ValueRef (RemoteMCPServer)": (ValueRef, "RemoteMCPServer", "spec.headersFrom[]"),
}


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


# --- representative input ----------------------------------------------------------------------


def deployment(version: str = V0_9) -> dict[str, Any]:
    spec: dict[str, Any] = {
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
    }
    if version == V0_10:
        spec["envFrom"] = [{"configMapRef": {"name": "agent-env"}}]
        spec["deploymentAnnotations"] = {"owner": "platform"}
    return spec


HEADERS = [{"name": "X-Team", "value": "platform"},
           {"name": "Authorization", "valueFrom": {"type": "Secret", "name": "tool-token", "key": "token"}}]


def model_configs(version: str = V0_9) -> dict[str, dict]:
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
    return {name: {"provider": variants.get(name, name), **spec} for name, spec in specs.items()}


def _dumped(model: BaseModel) -> dict:
    return model.model_dump(mode="json", exclude_none=True)


@pytest.mark.parametrize("version", VERSIONS)
def test_valid_input_is_accepted_and_conforms_to_the_crd(schema, version):
    for name, spec in model_configs(version).items():
        out = _dumped(ModelConfigSpec.model_validate(copy.deepcopy(spec)))
        assert structural_errors(out, _schema_at(schema(version, "ModelConfig"), "spec")) == [], name
    out = _dumped(DeclarativeDeploymentSpec.model_validate(deployment(version)))
    assert out == deployment(version)
    assert structural_errors(out, _schema_at(schema(version, "Agent"), "spec.declarative.deployment")) == []
    for header in HEADERS:
        assert _dumped(ValueRef.model_validate(header)) == header
        assert structural_errors(header, _schema_at(schema(version, "RemoteMCPServer"), "spec.headersFrom[]")) == []


def test_every_provider_is_covered():
    assert set(model_configs(V0_9)) == set(MODEL_PROVIDERS_V0_9)
    assert {spec["provider"] for spec in model_configs(V0_10).values()} == set(MODEL_PROVIDERS)


def test_structural_check_can_fail(schema):
    spec = model_configs()["OpenAI"]
    spec["openAI"]["max_tokens"] = 1
    spec["apiKeyPassthrough"] = "false"
    errors = structural_errors(spec, _schema_at(schema(V0_9, "ModelConfig"), "spec"))
    assert "openAI.max_tokens: unknown field" in errors
    assert "apiKeyPassthrough: want boolean, got str" in errors
    del spec["model"]
    assert "<root>: required field 'model' missing" in structural_errors(
        spec, _schema_at(schema(V0_9, "ModelConfig"), "spec"))


def test_v010_model_configs_fail_on_v0912_at_the_listed_fields(schema):
    """The v0.10 specs fail on v0.9.12 exactly at the ModelConfig fields V0_10_ONLY_FIELDS lists."""
    found: set[str] = set()
    for spec in model_configs(V0_10).values():
        for error in structural_errors(spec, _schema_at(schema(V0_9, "ModelConfig"), "spec"), "spec"):
            path, _, message = error.partition(": ")
            if message == "unknown field":
                found.add(re.sub(r"\[\d+\]", "[]", path))
            else:  # enum values only v0.10 knows
                assert "not in" in message, error
    assert found == set(V0_10_ONLY_FIELDS["ModelConfig"])


def test_v010_only_lists_match_the_crds(schema):
    for kind, paths in V0_10_ONLY_FIELDS.items():
        if kind not in CRD_FILES:
            continue
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


# --- the schemas spell and cover every CRD field; their defaults are the CRD's -------------------


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


# Where a schema deliberately differs from the CRD default: path -> reason.
DEFAULT_EXCEPTIONS = {
    "spec.openAI.apiFormat": "v0.10-only default, cannot be carried for v0.9.12 (the environment writes it for v0.10)",
}


def _compare(model: type[BaseModel], node: dict, path: str, kind: str, version: str, problems: list[str]):
    props = node.get("properties", {})
    fields = {(f.alias or name): f for name, f in model.model_fields.items()}
    v010_only = set(V0_10_ONLY_FIELDS.get(kind, ()))
    for name, field in fields.items():
        sub = f"{path}.{name}"
        if version == V0_9 and re.sub(r"\[\d+\]", "[]", sub) in v010_only:
            if name in props:
                problems.append(f"{sub}: listed as v0.10-only but in v0.9.12")
            continue
        if name not in props:
            problems.append(f"{sub}: model field not in CRD")
            continue
        crd_default = props[name].get("default")
        # A required field is always given, so it cannot drift; an optional one must carry the
        # CRD's default as its own.
        if ("default" in props[name] and sub not in DEFAULT_EXCEPTIONS and not field.is_required()
                and field.default != crd_default):
            problems.append(f"{sub}: model default {field.default!r} != CRD default {crd_default!r}")
        child, is_list = _model_of(field.annotation)
        if child is not None:
            target = props[name].get("items", {}) if is_list else props[name]
            _compare(child, target, sub + ("[]" if is_list else ""), kind, version, problems)
    for name in props:
        if name not in fields:
            problems.append(f"{path}.{name}: CRD field missing from model")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_schemas_match_crd_fields_and_defaults(schema, name, version):
    model, kind, path = SCHEMAS[name]
    problems: list[str] = []
    _compare(model, _schema_at(schema(version, kind), path), path, kind, version, problems)
    assert problems == []


def test_the_field_comparison_can_fail(schema):
    problems: list[str] = []
    _compare(ValueRef, _schema_at(schema(V0_9, "Agent"), "spec.declarative.deployment"), "spec.declarative.deployment",
             "Agent", V0_9, problems)
    assert "spec.declarative.deployment.valueFrom: model field not in CRD" in problems
    assert "spec.declarative.deployment.replicas: CRD field missing from model" in problems


def test_runtime_is_pinned_and_differs_from_v010_default(schema):
    assert DEFAULT_RUNTIME == "python"
    assert _schema_at(schema(V0_9, "Agent"), "spec.declarative.runtime")["default"] == "python"
    assert _schema_at(schema(V0_10, "Agent"), "spec.declarative.runtime")["default"] == "go"


# --- no server-side default drift -------------------------------------------------------------------


def test_minimal_blocks_carry_every_crd_default(schema):
    """Provider blocks given with only their required fields: the schema defaults fill every CRD default."""
    for spec in ({"provider": "Bedrock", "model": "x", "bedrock": {"region": "r"}, "tls": {}},
                 {"provider": "SAPAICore", "model": "x", "sapAICore": {"baseUrl": "https://s"}}):
        out = _dumped(ModelConfigSpec.model_validate(spec))
        for version in VERSIONS:
            obj = {"spec": out}
            assert crd_defaults_missing(obj, {"properties": {"spec": _schema_at(schema(version, "ModelConfig"),
                                                                                "spec")}}) == [], (version, spec)
    foundry = _dumped(ModelConfigSpec.model_validate({"provider": "Foundry", "model": "x", "apiKeySecret": "s",
                                                      "apiKeySecretKey": "k", "foundry": {"deployment": "d",
                                                                                          "endpoint": "https://f"}}))
    assert foundry["foundry"]["apiVersion"] == "2024-10-21"
    assert crd_defaults_missing({"spec": foundry}, {"properties": {"spec": _schema_at(schema(V0_10, "ModelConfig"),
                                                                                      "spec")}}) == []


def test_openai_api_format_is_a_v010_default(schema):
    """The schema cannot default openAI.apiFormat (v0.9.12 lacks it): the environment writes it for v0.10."""
    obj = {"spec": _dumped(ModelConfigSpec.model_validate(model_configs(V0_9)["OpenAI"]))}
    for version, missing in ((V0_9, []), (V0_10, ["spec.openAI.apiFormat"])):
        root = {"properties": {"spec": _schema_at(schema(version, "ModelConfig"), "spec")}}
        assert crd_defaults_missing(obj, root) == missing


def test_defaults_walk_descends_maps_and_lists():
    schema = {"type": "object", "properties": {
        "m": {"type": "object", "additionalProperties": {"type": "object", "properties": {
            "d": {"type": "string", "default": "x"}}}},
        "l": {"type": "array", "items": {"type": "object", "properties": {"d": {"type": "integer", "default": 1}}}},
        "n": {"type": "string", "default": "n", "nullable": True}}}
    assert crd_defaults_missing({"m": {"a": {}, "b": {"d": "y"}}, "l": [{"d": 2}, {}], "n": None}, schema) == [
        "m.a.d", "l[1].d"]
    assert crd_defaults_missing({}, schema) == ["n"]


# --- unknown fields, wrong types and CEL rules are rejected -------------------------------------------


@pytest.mark.parametrize("model, build, mutate, where", [
    (DeclarativeDeploymentSpec, deployment, lambda o: o.update(image="x"), "image"),
    (DeclarativeDeploymentSpec, deployment, lambda o: o["imagePullSecrets"][0].update(namespace="x"), "namespace"),
    (ModelConfigSpec, lambda: model_configs()["OpenAI"], lambda o: o.update(openai={}), "openai"),
    (ModelConfigSpec, lambda: model_configs()["OpenAI"], lambda o: o["openAI"].update(max_tokens=1), "max_tokens"),
    (ModelConfigSpec, lambda: model_configs()["Ollama"], lambda o: o.update(apiKey="plain"), "apiKey"),
    (ValueRef, lambda: copy.deepcopy(HEADERS[1]), lambda o: o["valueFrom"].update(optional=True), "optional"),
])
def test_unknown_fields_are_rejected(model, build, mutate, where):
    obj = build()
    model.model_validate(copy.deepcopy(obj))  # the unmodified object is fine
    mutate(obj)
    with pytest.raises(ValidationError) as err:
        model.model_validate(obj)
    assert any(e["type"] == "extra_forbidden" and e["loc"][-1] == where for e in err.value.errors())


@pytest.mark.parametrize("spec_patch, message", [
    ({"openAI": {"temperature": 0.2}}, "Input should be a valid string"),  # sampling parameters are strings
    ({"openAI": {"maxTokens": "4096"}}, "Input should be a valid integer"),  # token counts are integers
    ({"openAI": {"maxTokens": 0}}, "Input should be greater than or equal to 1"),
    ({"openAI": {"maxTokens": 10, "maxCompletionTokens": 10}}, "maxTokens and maxCompletionTokens are mutually exclusive"),
    ({"openAI": {"reasoningEffort": "extreme"}}, "Input should be 'none', 'minimal', 'low', 'medium', 'high' or 'xhigh'"),
    ({"provider": "openai"}, "Input should be 'Anthropic', "),
    ({"anthropic": {}}, "provider.anthropic must be nil if the provider is not Anthropic"),
    ({"apiKeySecretKey": None}, "apiKeySecretKey must be set if apiKeySecret is set"),
    ({"apiKeyPassthrough": True}, "apiKeyPassthrough and apiKeySecret are mutually exclusive"),
    ({"openAI": {"tokenExchange": {"type": "GDCHServiceAccount"}}}, "requires openAI.tokenExchange.gdchServiceAccount"),
    ({"tls": {"caCertSecretRef": "ca"}}, "caCertSecretRef requires caCertSecretKey"),
    ({"tls": {"disableSystemCAs": True}}, "disableSystemCAs requires caCertSecretRef or disableVerify"),
])
def test_model_config_rules(spec_patch, message):
    spec = model_configs()["OpenAI"]
    for key, value in spec_patch.items():
        if value is None:
            spec.pop(key)
        elif key == "openAI":
            spec[key] = {**spec[key], **value}
        else:
            spec[key] = value
    with pytest.raises(ValidationError) as err:
        ModelConfigSpec.model_validate(spec)
    assert any(message in e["msg"] for e in err.value.errors()), err.value.errors()


def test_deployment_and_header_rules():
    with pytest.raises(ValidationError, match="validation error"):
        DeclarativeDeploymentSpec.model_validate({**deployment(), "serviceAccountName": "sa"})
    for header in ({"name": "X"}, {**HEADERS[0], "valueFrom": copy.deepcopy(HEADERS[1]["valueFrom"])}):
        with pytest.raises(ValidationError) as err:
            ValueRef.model_validate(header)
        assert err.value.errors()[0]["msg"] == "Value error, Exactly one of value or valueFrom must be specified"
    with pytest.raises(ValidationError):
        ValueRef.model_validate({"name": "X", "valueFrom": {"type": "Vault", "name": "s", "key": "k"}})
