"""The environment function beyond its golden cases (tests/test_golden.py runs those).

* the output of every successful golden case is accepted by the kagent CRDs (schema and CEL rules)
  of the versions it targets, and every Agent's ModelConfig resolves in the Agent's namespace;
* one ModelConfig per namespace per tier in use, and no other;
* an inline credential never reaches stderr, results, output items or the echoed functionConfig;
* running twice, or on its own output, is byte-identical (also through the real CLI).
"""

from __future__ import annotations

import copy
import typing

import pytest
from krmfn.runtime.typed import BaseModel

from golden import ROOT, load_case, run_function

import support
from krmfn.api import environment as api
from krmfn.fn.environment import find_inline_secrets
from krmfn.kagent import models as k
from krmfn.runtime import yamlio
from krmfn.runtime.resourcelist import ResourceList

FUNCTION = ROOT / "functions" / "environment"
CASES = sorted(p.parent for p in (FUNCTION / "testdata").glob("*/config.yaml"))
SUCCESSFUL = [c for c in CASES if (c / "expected.yaml").exists()]
V0_9, V0_10 = "v0.9.12", "v0.10.0-rc3"

# The literal credentials of testdata/inline-secret (each must be refused and never shown).
INLINE_SECRETS = (
    "sk-proj-INLINEx0x0x0x0SECRETx0x0x0x0VALUE",
    "INLINE-BEARER-abcdef0123456789",
    "INLINE-HEADER-KEY-4242",
    "INLINE-URL-PASSWORD",
    "sk-INLINEinTHEwrongFIELD0123456789",
    "INLINE-AZURE-AD-TOKEN-9876",
    "sk-ant-INLINEsecretINtheREFERENCEfield00",
)


def _ids(cases):
    return [c.name for c in cases]


def _target_versions(config: dict) -> tuple[str, ...]:
    """v0.9 output must stay valid on v0.10 too; v0.10 output targets v0.10 only."""
    version = (config.get("spec") or {}).get("kagentVersion", api.DEFAULT_KAGENT_VERSION)
    return (V0_10,) if version.startswith("v0.10") else (V0_9, V0_10)


# --- conformance -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def crds(crd_root):
    from krmfn.conformance import load_crds

    return {version: load_crds(crd_root / version, label=version) for version in (V0_9, V0_10)}


def _external(objects: list[dict]) -> set[tuple[str, str, str]]:
    """The Secrets and ConfigMaps the ModelConfigs name: created out of band, never rendered."""
    out = set()
    for obj in objects:
        if obj.get("kind") != "ModelConfig":
            continue
        namespace, spec = obj["metadata"]["namespace"], obj["spec"]
        for name in (spec.get("apiKeySecret"), (spec.get("tls") or {}).get("caCertSecretRef")):
            if name:
                out.add(("Secret", namespace, name))
        endpoint = (spec.get("foundry") or {}).get("endpointFrom")
        if endpoint:
            out.add(("ConfigMap", namespace, endpoint["name"]))
    return out


# Deliberate: hand-written Agents the function leaves alone keep their own (missing) ModelConfig.
EXPECTED_REFERENCE_ERRORS = {("hand-written", "kagent.dev/v1alpha2/Agent/legacy/typo", "spec.declarative.modelConfig"),
                             ("effort-hand-written", "kagent.dev/v1alpha2/Agent/legacy/typo", "spec.declarative.modelConfig")}


@pytest.mark.parametrize("case", SUCCESSFUL, ids=_ids(SUCCESSFUL))
def test_output_conforms_to_kagent_crds(case, crds):
    if case.name.startswith("v1-"):
        pytest.skip("kagent 1.0 output: tests/test_kagent_v1.py checks it against the 1.0 CRDs")
    config, _ = load_case(case)
    objects = yamlio.load_all((case / "expected.yaml").read_bytes())
    external = _external(objects)
    # The Secrets the hand-written ModelConfig names are external too.
    external |= {("Secret", o["metadata"]["namespace"], o["spec"]["apiKeySecret"])
                 for o in objects if o.get("kind") == "ModelConfig" and o["spec"].get("apiKeySecret")}
    from krmfn.conformance import validate

    for version in _target_versions(config):
        problems = [r for r in validate(objects, crds[version], external=external)
                    if r.is_error and (case.name, str(r.resource), r.field) not in EXPECTED_REFERENCE_ERRORS]
        assert not problems, f"{case.name} on kagent {version}:\n" + "\n".join(r.line() for r in problems)


def test_v010_output_is_refused_by_v0912(crds):
    """The v0.10 case really uses v0.10-only fields: the version gate is not vacuous."""
    from krmfn.conformance import validate

    objects = yamlio.load_all((FUNCTION / "testdata" / "providers-v0.10" / "expected.yaml").read_bytes())
    assert any(r.is_error for r in validate(objects, crds[V0_9], check_references=False))


@pytest.mark.parametrize("case", SUCCESSFUL, ids=_ids(SUCCESSFUL))
def test_one_model_config_per_namespace_per_tier_in_use(case):
    objects = yamlio.load_all((case / "expected.yaml").read_bytes())
    emitted = [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in objects
               if o.get("kind") == "ModelConfig" and (o["metadata"].get("labels") or {}).get("krmfn.dev/model-tier")]
    assert len(emitted) == len(set(emitted)), "a ModelConfig is emitted twice"
    used = set()
    for o in objects:
        managed = "krmfn.dev/environment" in (o["metadata"].get("annotations") or {})
        if o.get("kind") == "AgentTemplate" and managed:  # kagent 1.0: the template holds the model
            used.add((o["metadata"]["namespace"], o["spec"]["modelConfig"]["name"]))
            continue
        if o.get("kind") != "Agent" or not managed:
            continue
        declarative = o["spec"]["declarative"]
        namespace = o["metadata"]["namespace"]
        used.add((namespace, declarative["modelConfig"]))
        if "memory" in declarative:
            used.add((namespace, declarative["memory"]["modelConfig"]))
        summarizer = ((declarative.get("context") or {}).get("compaction") or {}).get("summarizer") or {}
        if summarizer.get("modelConfig"):
            used.add((namespace, summarizer["modelConfig"]))
    assert set(emitted) == used
    # New ModelConfigs come last, sorted by (namespace, name); everything else keeps its input order.
    assert emitted == sorted(emitted)
    # They end their group's ModelConfigs (canonical order: group, kind, namespace, name).
    groups = {o["apiVersion"].rpartition("/")[0] for o in objects if o.get("kind") == "ModelConfig"}
    for group in groups:
        block = [o for o in objects if o.get("kind") == "ModelConfig" and o["apiVersion"].startswith(group + "/")]
        ours = [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in block
                if (o["metadata"].get("labels") or {}).get("krmfn.dev/model-tier")]
        tail = block[len(block) - len(ours):] if ours else []
        assert [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in tail] == ours


# --- secrets -------------------------------------------------------------------------------------------


def _inline_secret_case() -> tuple[dict, list[dict]]:
    config, items = load_case(FUNCTION / "testdata" / "inline-secret")
    text = (FUNCTION / "testdata" / "inline-secret" / "config.yaml").read_text()
    assert all(secret in text for secret in INLINE_SECRETS)
    return config, items


def _assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in INLINE_SECRETS:
            assert secret not in text
            assert secret[:12] not in text  # nor a truncated echo


def test_inline_secrets_refused_without_echo_in_function():
    config, items = _inline_secret_case()
    outcome = run_function(config, items)
    assert outcome.code == 1
    _assert_no_secret(outcome.stderr, outcome.output)
    assert outcome.stderr.count("literal credential refused") == len(INLINE_SECRETS)


def test_inline_secrets_never_reach_the_krm_output():
    """Through the real entry point: stdout is a whole ResourceList, functionConfig and results included."""
    config, items = _inline_secret_case()
    stdin = ResourceList(items=items, function_config=config).dump()
    run = support.module(stdin=stdin)
    assert run.returncode == 1
    _assert_no_secret(run.stdout, run.stderr)
    out = yamlio.load_one(run.stdout, "<stdout>")
    assert out["functionConfig"]["spec"]["tiers"]["standard"]["apiKey"] == "<redacted>"
    assert out["items"] == items  # failure: input back unchanged
    assert any(r["severity"] == "error" and r["field"]["path"] == "spec.tiers.standard.apiKey" for r in out["results"])


def test_inline_secrets_never_reach_the_legacy_plugin_output(tmp_path):
    config, items = _inline_secret_case()
    config_file = tmp_path / "config.yaml"
    config_file.write_text(yamlio.dump(config))
    run = support.module("legacy", str(config_file), stdin=yamlio.dump_all(items))
    assert run.returncode != 0
    _assert_no_secret(run.stdout, run.stderr)


@pytest.mark.parametrize("where, value, secret", [
    (("provider",), "sk-proj-aaaaaaaaaaaaaaaaaaaaaaaa", "aaaaaaaaaaaa"),  # a field pydantic would echo on error
    (("ollama", "options"), {"num_ctx": "Bearer abcdefghijklmnop"}, "abcdefghijklmnop"),
    (("ollama", "host"), "https://user:hunter2hunter2@ollama:11434", "hunter2"),
    (("model",), "AKIAABCDEFGHIJKLMNOP", "ABCDEFGHIJKLMNOP"),
    (("defaultHeaders",), {"Proxy-Authorization": "Basic dXNlcjpwYXNz"}, "dXNlcjpwYXNz"),
    (("defaultHeaders",), {"Cookie": "session=abcdef"}, "abcdef"),
    (("defaultHeaders",), {"Ocp-Apim-Subscription-Key": "0123456789abcdef"}, "0123456789abcdef"),
    (("defaultHeaders",), {"X-Auth-Token": 1234567}, "1234567"),
    (("password",), 123456789, "123456789"),
    (("clientSecret",), "abcdefghij", "abcdefghij"),
])
def test_secret_in_any_field_is_refused_without_echo(where, value, secret):
    config = {"apiVersion": "krmfn.dev/v1alpha1", "kind": "ModelEnvironment", "metadata": {"name": "dev"},
              "spec": {"tiers": {"local": {"provider": "Ollama", "model": "llama3.2"}}}}
    node = config["spec"]["tiers"]["local"]
    for part in where[:-1]:
        node = node.setdefault(part, {})
    node[where[-1]] = value
    outcome = run_function(copy.deepcopy(config), [])
    assert outcome.code == 1
    assert "literal credential refused" in outcome.stderr
    assert secret not in outcome.stderr and secret not in outcome.output


def test_secret_references_and_token_counts_are_not_credentials():
    """No false positives on any valid config: the golden ones, the example, token-count fields."""
    configs = [load_case(c)[0] for c in SUCCESSFUL]
    configs += [yamlio.load_one(p.read_bytes(), str(p)) for p in sorted((FUNCTION / "example").glob("*.yaml"))
                if b"kind: ModelEnvironment" in p.read_bytes()]
    assert len(configs) > len(SUCCESSFUL)
    for config in configs:
        assert find_inline_secrets(config) == []
    assert find_inline_secrets({"maxTokens": 10, "maxOutputTokens": 5, "tokenExchange": {"type": "x"},
                                "apiKeyPassthrough": True, "apiKeySecret": {"name": "openai", "key": "OPENAI_API_KEY"},
                                "caCertSecret": {"name": "ca", "key": "ca.crt"}}) == []


# --- idempotence ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", SUCCESSFUL, ids=_ids(SUCCESSFUL))
def test_running_twice_is_byte_identical(case):
    config, items = load_case(case)
    first = run_function(copy.deepcopy(config), copy.deepcopy(items))
    again = run_function(copy.deepcopy(config), copy.deepcopy(items))
    assert first.code == again.code == 0
    assert first.output == again.output and first.stderr == again.stderr
    on_output = run_function(copy.deepcopy(config), yamlio.load_all(first.output))
    assert on_output.output == first.output


def test_cli_on_its_own_output_is_byte_identical():
    config, items = load_case(FUNCTION / "testdata" / "canary")
    stdin = ResourceList(items=items, function_config=config).dump()
    first = support.module(stdin=stdin)
    assert first.returncode == 0, first.stderr
    second = support.module(stdin=first.stdout)
    assert second.returncode == 0 and second.stdout == first.stdout


def test_failure_leaves_items_untouched():
    config, items = load_case(FUNCTION / "testdata" / "unknown-tier")
    before = copy.deepcopy(items)
    rl = ResourceList(items=items, function_config=config)
    from krmfn.runtime import engine

    assert engine.run(rl) == 1
    assert rl.items == before and items == before


# --- the example and the API ---------------------------------------------------------------------------


def test_example_renders():
    example = FUNCTION / "example"
    config = yamlio.load_one((example / "dev.yaml").read_bytes(), "dev.yaml")
    items = yamlio.load_all((example / "agents.yaml").read_bytes())
    outcome = run_function(config, items)
    assert outcome.code == 0, outcome.stderr
    kinds = [o["kind"] for o in yamlio.load_all(outcome.output)]
    assert "ModelConfig" in kinds


def _fields(model: type[BaseModel], seen: set) -> list[tuple[str, str, object]]:
    if model in seen or not model.__module__.startswith("krmfn.api"):
        return []
    seen.add(model)
    out = []
    for name, info in model.model_fields.items():
        out.append((model.__name__, name, info))
        for arg in _walk_types(info.annotation):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                out += _fields(arg, seen)
    return out


def _walk_types(tp):
    yield tp
    for arg in typing.get_args(tp):
        yield from _walk_types(arg)


def test_every_model_environment_field_is_documented():
    skip = {("ModelEnvironment", "api_version"), ("ModelEnvironment", "metadata"), ("ModelEnvironment", "kind"),
            ("ModelEnvironment", "spec")}
    undocumented = [f"{m}.{n}" for m, n, info in _fields(api.ModelEnvironment, set())
                    if (m, n) not in skip and m not in ("ObjectMeta",) and not info.description]
    assert not undocumented


def test_every_kagent_provider_has_a_tier_block():
    aliases = {info.alias or name for name, info in api.Tier.model_fields.items()}
    assert set(k.PROVIDER_FIELDS.values()) <= aliases
    assert set(typing.get_args(api.Tier.model_fields["provider"].annotation)) == set(k.MODEL_PROVIDERS)
