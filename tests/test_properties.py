"""Property-based tests (hypothesis) over AgentDescriptions, ModelEnvironments, ToolPolicies and whole
ResourceLists.

Properties:
  - no crash: no function ever answers with an `internal error` result;
  - the expand -> environment pipeline's output always passes the conformance checker against the
    kagent v0.9.12 CRDs (Secrets the ModelConfigs reference are declared external);
  - running a function on its own output changes nothing (byte for byte);
  - the policy (a validator) never modifies an item, whatever the policy and the items;
  - garbage as an item or as the function config gives exit 1 with results, or a clean pass-through.

Bounded and reproducible for CI: every test has a fixed example count, `derandomize=True` (the same
examples on every run and machine) and no example database.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import support
from krmfn.expand.catalog import builtin_kagent_tools
from krmfn.runtime import engine, yamlio
from krmfn.runtime.resourcelist import ResourceList

API = "krmfn.dev/v1alpha1"
CRDS = Path(__file__).resolve().parents[2] / "shared" / "kagent-crds" / "v0.9.12"
V0_10_CRDS = CRDS.parent / "v0.10.0-rc3"
KAGENT_TOOLS = sorted(builtin_kagent_tools()[3])
BUILTIN_SERVER = f"{builtin_kagent_tools()[1]}/{builtin_kagent_tools()[0]}"  # kagent/kagent-tool-server


def bounded(examples: int):
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


# --- running a function -----------------------------------------------------------------------------


def apply(config: dict, items: list[dict]) -> tuple[int, list[dict], list[str]]:
    """One function run, as the KRM entry point does it (through YAML, so types are what a
    ResourceList can carry). Returns the exit code, the output items and the stderr lines."""
    rl = ResourceList.parse(yamlio.dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
                                         "items": items, "functionConfig": config}))
    code = engine.run(rl)
    lines = engine.error_lines(rl.results)
    assert not any("internal error" in line for line in lines), lines
    if code == 1:
        assert any(line.startswith("[error] ") for line in lines), "exit 1 without an error result"
    return code, rl.items, lines


def run_cli(stdin: bytes) -> tuple[int, dict, str]:
    """The real entry point in-process: exit code, the ResourceList on stdout, stderr."""
    code, out, err = support.cli(stdin=stdin)
    return code, yamlio.load_one(out, "stdout"), err


def dumped(items: list[dict]) -> str:
    return yamlio.dump_all(items)


# --- strategies ---------------------------------------------------------------------------------------

label = st.from_regex(r"[a-z]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
namespaces = st.sampled_from(["team-a", "team-b", "platform-agents"])
TIER_POOL = ["standard", "premium", "fast", "embedding", "default"]
SECRET_NAMES = ["openai-api-key", "anthropic-api-key", "gemini-key", "azure-key"]
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ?", min_size=1, max_size=20).map(str.strip).filter(bool)
TEMPLATES = [
    "You are {{ name }}.",
    "{{ description }} ({{ namespace }}, {{ environment }}, tier {{ model }})",
    "Tools:{% for t in tools %} {{ t.name }} ({{ t.risk }}{% if t.requireApproval %}, approved{% endif %})"
    "{% endfor %}\nDelegates: {{ delegates | join(', ') }}",
    "Team {{ vars.team }}; skills: {% for s in skills %}{{ s.id }} {% endfor %}",
    "line one\nline two: {{ agent.name | upper }}\n",
]


@st.composite
def tool_grants(draw):
    """Grants on the kagent tool server (through a ToolCatalog entry in the agent's namespace, or the
    built-in server in namespace kagent), each tool from krmfn's built-in catalog."""
    allow = draw(st.lists(st.sampled_from(KAGENT_TOOLS), min_size=1, max_size=6, unique=True))
    approval = draw(st.lists(st.sampled_from(allow), unique=True, max_size=len(allow)))
    server = draw(st.sampled_from(["kagent-tools", BUILTIN_SERVER]))
    return [{"server": server, "allow": allow, "requireApproval": approval}]


@st.composite
def agent_descriptions(draw, tiers: list[str]):
    """A list of AgentDescriptions with unique names; delegates only point forward (no cycles)."""
    count = draw(st.integers(1, 5))
    keys = draw(st.lists(st.tuples(namespaces, label), min_size=count, max_size=count,
                         unique_by=lambda k: k))
    models = tiers + ["default"]
    agents = []
    for index, (namespace, name) in enumerate(keys):
        later = keys[index + 1:]
        delegates = draw(st.lists(st.sampled_from(later), unique=True, max_size=3)) if later else []
        spec: dict = {
            "description": draw(words),
            "prompt": {"text": draw(st.sampled_from(TEMPLATES)), "vars": {"team": draw(label)}},
            "model": draw(st.sampled_from(models)),
        }
        if draw(st.booleans()):
            spec["tools"] = draw(tool_grants())
        if delegates:
            spec["delegates"] = [n if ns == namespace else f"{ns}/{n}" for ns, n in delegates]
        if draw(st.booleans()):
            spec["skills"] = [{"id": draw(label), "name": draw(words), "examples": [draw(words)]}]
        if draw(st.booleans()):
            spec["memory"] = {"model": draw(st.sampled_from(models)), "ttlDays": draw(st.integers(1, 30))}
        if draw(st.booleans()):
            spec["deployment"] = {"replicas": draw(st.integers(1, 5)),
                                  "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}}}
        if draw(st.booleans()):
            spec["stream"] = draw(st.booleans())
        if draw(st.booleans()):
            spec["prompt"]["mode"] = draw(st.sampled_from(["Inline", "ConfigMap"]))
        labels = {"team": draw(st.sampled_from(["sre", "billing"]))} if draw(st.booleans()) else {}
        agents.append({"apiVersion": API, "kind": "AgentDescription",
                       "metadata": {"name": name, "namespace": namespace, **({"labels": labels} if labels else {})},
                       "spec": spec})
    return agents


def catalogs(agents: list[dict]) -> list[dict]:
    """One ToolCatalog per namespace that has agents, exposing the kagent tool server there."""
    namespaces_used = sorted({a["metadata"]["namespace"] for a in agents})
    return [{"apiVersion": API, "kind": "ToolCatalog", "metadata": {"name": "tools", "namespace": ns},
             "spec": {"servers": [{"name": "kagent-tools", "toolsFrom": "kagent-tool-server",
                                   "remote": {"url": "http://kagent-tools.kagent.svc:8084/mcp"}}]}}
            for ns in namespaces_used]


@st.composite
def tiers_of_providers(draw):
    """A tier's provider, model and the provider's valid settings (v0.9.12)."""
    secret = {"name": draw(st.sampled_from(SECRET_NAMES)), "key": "API_KEY"}
    return draw(st.sampled_from([
        {"provider": "Ollama", "model": "llama3.2", "ollama": {"host": "http://ollama.ollama.svc:11434",
                                                               "options": {"num_ctx": "8192"}}},
        {"provider": "Ollama", "model": "qwen3"},
        {"provider": "OpenAI", "model": "gpt-4.1-mini", "apiKeySecret": secret,
         "openAI": {"temperature": "0.2", "maxTokens": 4096}},
        {"provider": "OpenAI", "model": "gpt-4.1", "openAI": {"baseUrl": "https://litellm.gw.svc:4000/v1"},
         "tls": {"caCertSecret": {"name": "gateway-ca", "key": "ca.crt"}}},
        {"provider": "Anthropic", "model": "claude-sonnet-4-5", "apiKeySecret": secret,
         "anthropic": {"maxTokens": 8192, "topK": 40}},
        {"provider": "AzureOpenAI", "model": "gpt-4o", "apiKeySecret": secret,
         "azureOpenAI": {"azureEndpoint": "https://x.openai.azure.com", "apiVersion": "2024-10-21"}},
        {"provider": "Gemini", "model": "gemini-2.5-pro", "apiKeySecret": secret},
        {"provider": "GeminiVertexAI", "model": "gemini-2.5-pro",
         "geminiVertexAI": {"projectID": "p", "location": "europe-west4"}},
        {"provider": "AnthropicVertexAI", "model": "claude-sonnet-4-5",
         "anthropicVertexAI": {"projectID": "p", "location": "us-east5", "maxTokens": 4096}},
        {"provider": "Bedrock", "model": "anthropic.claude-sonnet-4-5-v1:0", "bedrock": {"region": "eu-central-1"}},
    ]))


@st.composite
def model_environments(draw):
    names = draw(st.lists(st.sampled_from(TIER_POOL), min_size=1, max_size=4, unique=True))
    spec: dict = {"tiers": {name: draw(tiers_of_providers()) for name in names}}
    if len(names) > 1 and "default" not in names:
        spec["defaultTier"] = draw(st.sampled_from(names))
    environment = draw(st.sampled_from(["dev", "staging", "prod"]))
    return {"apiVersion": API, "kind": "ModelEnvironment", "metadata": {"name": environment}, "spec": spec}


def with_canaries(draw, environment: dict, agents: list[dict]) -> dict:
    tiers = sorted(environment["spec"]["tiers"])
    chosen = draw(st.lists(st.sampled_from(agents), unique_by=lambda a: a["metadata"]["name"], max_size=2))
    if chosen:
        environment = copy.deepcopy(environment)
        environment["spec"]["canaries"] = [{
            "name": "canary", "tier": draw(st.sampled_from(tiers)),
            "agents": [f"{a['metadata']['namespace']}/{a['metadata']['name']}" for a in chosen]}]
    return environment


@st.composite
def pipelines(draw):
    """(AgentExpansion, ModelEnvironment, input items) for the expand -> environment pipeline."""
    environment = draw(model_environments())
    tiers = sorted(environment["spec"]["tiers"])
    agents = draw(agent_descriptions(tiers))
    environment = with_canaries(draw, environment, agents)
    expansion = {"apiVersion": API, "kind": "AgentExpansion", "metadata": {"name": "expand"},
                 "spec": {"environment": environment["metadata"]["name"],
                          "promptMode": draw(st.sampled_from(["Inline", "ConfigMap"]))}}
    others = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
              for ns in sorted({a["metadata"]["namespace"] for a in agents})]
    items = catalogs(agents) + agents + others
    return expansion, environment, draw(st.permutations(items))


RISKS = ["read", "write", "destructive"]
globs = st.sampled_from(["team-*", "team-a", "platform-agents", "*", "kagent"])


@st.composite
def tool_policies(draw):
    rules = []
    for index in range(draw(st.integers(0, 4))):
        rule: dict = {"name": f"rule-{index}", "severity": draw(st.sampled_from(["error", "warning"]))}
        if draw(st.booleans()):
            rule["match"] = draw(st.sampled_from([
                {"namespaces": draw(st.lists(globs, min_size=1, max_size=2))},
                {"agents": [draw(st.sampled_from(["*", "team-a/*", "helper"]))]},
                {"agentSelector": {"matchLabels": {"team": "sre"}}},
                {"namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name",
                                                             "operator": "In", "values": ["team-a"]}]}},
                {"environments": ["prod"]},
            ]))
        constraint = draw(st.sampled_from(["allowedRisks", "requireApproval", "explicitTools", "maxTools",
                                           "crossNamespace", "models"]))
        rule[constraint] = {
            "allowedRisks": draw(st.lists(st.sampled_from(RISKS), min_size=1, unique=True)),
            "requireApproval": draw(st.lists(st.sampled_from(RISKS), min_size=1, unique=True)),
            "explicitTools": True,
            "maxTools": draw(st.integers(0, 8)),
            "crossNamespace": {"toolServers": draw(st.lists(globs, max_size=2)),
                               "agents": draw(st.lists(globs, max_size=2))},
            "models": {"forbiddenProviders": ["Ollama"]},
        }[constraint]
        rules.append(rule)
    spec: dict = {"rules": rules, "unverifiable": draw(st.sampled_from(["error", "warning", "ignore"]))}
    if draw(st.booleans()):
        spec["environment"] = "prod"
    if draw(st.booleans()):
        spec["maxDelegationDepth"] = draw(st.integers(1, 10))
    return {"apiVersion": API, "kind": "ToolPolicy", "metadata": {"name": "policy"}, "spec": spec}


# Garbage: JSON-ish values, and KRM-shaped objects whose fields are garbage.
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=12), st.sampled_from(["", "*", "a/b", "team-a", "kagent", "model-default",
                                                           "{{ name }}", "McpServer", "Agent", "All", "on", "0755"]))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.text(max_size=8), st.sampled_from(
        ["name", "namespace", "spec", "metadata", "tools", "declarative", "mcpServer", "agent", "toolNames",
         "labels", "annotations", "allow", "server", "delegates", "prompt", "text", "type", "modelConfig",
         "memory", "tiers", "provider", "model", "rules", "match", "data", "allowedNamespaces", "selector"])),
        inner, max_size=5)), max_leaves=30)
KINDS = [(API, "AgentDescription"), (API, "ToolCatalog"), ("kagent.dev/v1alpha2", "Agent"),
         ("kagent.dev/v1alpha2", "ModelConfig"), ("kagent.dev/v1alpha2", "RemoteMCPServer"),
         ("kagent.dev/v1alpha1", "MCPServer"), ("v1", "ConfigMap"), ("v1", "Namespace"), ("v1", "Secret")]
junk_items = st.builds(
    lambda kind, metadata, spec: {"apiVersion": kind[0], "kind": kind[1], "metadata": metadata, "spec": spec},
    st.sampled_from(KINDS),
    st.one_of(json_values, st.fixed_dictionaries(
        {"name": label, "namespace": namespaces},
        optional={"labels": json_values, "annotations": json_values})),
    json_values)


def conformance_crds(where: Path = CRDS):
    if not where.is_dir():
        pytest.skip(f"{where} is absent: the kagent CRDs live in ../shared")
    from krmfn.conformance import load_crds

    if where not in _CRDS:
        _CRDS[where] = load_crds(str(where))
    return _CRDS[where]


_CRDS: dict = {}


def external_references(items: list[dict]) -> set[tuple[str, str, str]]:
    """The Secrets the ModelConfigs reference (created out of band), and the built-in tool server."""
    out = {("RemoteMCPServer", "kagent", "kagent-tool-server")}
    for item in items:
        if item["kind"] == "ModelConfig":
            spec, ns = item["spec"], item["metadata"]["namespace"]
            for name in (spec.get("apiKeySecret"), (spec.get("tls") or {}).get("caCertSecretRef")):
                if name:
                    out.add(("Secret", ns, name))
    return out


# --- the properties ----------------------------------------------------------------------------------


@bounded(100)
@given(pipelines())
def test_the_pipeline_always_renders_objects_kagent_accepts(case):
    from krmfn.conformance import validate

    crds = conformance_crds()
    expansion, environment, items = case
    code, expanded, lines = apply(expansion, items)
    assert code == 0, lines
    code, rendered, lines = apply(environment, expanded)
    assert code == 0, lines
    kinds = {i["kind"] for i in rendered}
    assert "AgentDescription" not in kinds and "ModelConfig" in kinds
    # catalogs go on as local config (for the policy), which kustomize leaves out of the build
    assert all(i["metadata"]["annotations"]["config.kubernetes.io/local-config"] == "true"
               for i in rendered if i["kind"] == "ToolCatalog")
    problems = [r.line() for r in validate(rendered, crds, external=external_references(rendered)) if r.is_error]
    assert problems == []
    # expand and environment build kagent objects as plain dicts: both outputs must be valid for
    # both 0.x lines (the schema and CEL rules of v0.9.12 and v0.10.0-rc3)
    from krmfn.conformance import validate_schemas

    for index in (crds, conformance_crds(V0_10_CRDS)):
        for output in (expanded, rendered):
            assert [r.line() for r in validate_schemas(output, index) if r.is_error] == []
    # each function on its own output changes nothing, byte for byte
    for config, output in ((expansion, expanded), (environment, rendered)):
        code, again, lines = apply(config, output)
        assert code == 0, lines
        assert dumped(again) == dumped(output)
    # and the input's order does not matter
    assert dumped(apply(expansion, items[::-1])[1]) == dumped(expanded)


@bounded(80)
@given(pipelines(), tool_policies())
def test_the_policy_never_modifies_items_and_says_the_same_again(case, policy):
    expansion, environment, items = case
    code, _, _ = apply(expansion, items)
    assert code == 0
    _, rendered, _ = apply(environment, apply(expansion, items)[1])
    for subject in (items, rendered):
        code, out, lines = apply(policy, subject)
        assert dumped(out) == dumped(subject)  # a validator only reports
        assert code == (1 if any(line.startswith("[error] ") for line in lines) else 0)
        assert apply(policy, out)[1:] == (out, lines)  # and says the same thing again


@bounded(120)
@given(st.lists(junk_items, max_size=4), st.sampled_from(["expand", "environment", "policy", "validate"]))
def test_junk_items_never_crash_a_function(items, which):
    config = {
        "expand": {"apiVersion": API, "kind": "AgentExpansion", "metadata": {"name": "expand"}},
        "environment": {"apiVersion": API, "kind": "ModelEnvironment", "metadata": {"name": "dev"},
                        "spec": {"tiers": {"default": {"provider": "Ollama", "model": "llama3.2"}}}},
        "policy": {"apiVersion": API, "kind": "ToolPolicy", "metadata": {"name": "policy"},
                   "spec": {"rules": [{"name": "r", "allowedRisks": ["read"], "explicitTools": True, "maxTools": 2,
                                       "crossNamespace": {}, "models": {"forbiddenProviders": ["Ollama"]}}]}},
        "validate": {"apiVersion": API, "kind": "KagentConformance", "metadata": {"name": "validate"},
                     "spec": {"crds": [str(CRDS)]}},
    }[which]
    if which == "validate":
        conformance_crds()
    code, out, lines = apply(config, items)
    if code == 1:
        assert dumped(out) == dumped(ResourceList.parse(yamlio.dump(
            {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items})).items)
    elif which in ("policy", "validate"):
        assert dumped(out) == dumped(yamlio.load_all(yamlio.dump_all(items)))


@bounded(150)
@given(json_values, st.sampled_from(["AgentExpansion", "ModelEnvironment", "ToolPolicy", "KagentConformance"]),
       st.sampled_from(["spec", "whole", "metadata"]))
def test_garbage_function_configs_are_refused_with_results(garbage, kind, where):
    config = {"apiVersion": API, "kind": kind, "metadata": {"name": "x"}}
    if where == "whole":
        config = garbage if isinstance(garbage, dict) else {"apiVersion": API, "kind": kind, "spec": garbage}
    else:
        config[where] = garbage
    item = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "keep", "namespace": "a"}}
    stdin = yamlio.dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [item],
                         "functionConfig": config}).encode()
    code, out, err = run_cli(stdin)
    assert "internal error" not in err and "Traceback" not in err
    assert out["items"] == [item]  # nothing lost, whatever happened
    if code == 1:
        assert err and all(line.startswith("[error] ") or line.startswith("[warning] ") for line in err.splitlines())
        assert any(r["severity"] == "error" for r in out["results"])
    else:
        assert code == 0 and not any(line.startswith("[error] ") for line in err.splitlines())


@bounded(100)
@given(st.lists(json_values, min_size=1, max_size=3))
def test_garbage_items_in_a_resource_list_are_refused_or_passed_through(values):
    stdin = yamlio.dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": values,
                         "functionConfig": {"apiVersion": API, "kind": "ToolPolicy", "metadata": {"name": "p"}}})
    code, out, err = run_cli(stdin.encode())
    assert "internal error" not in err and "Traceback" not in err
    if all(isinstance(v, dict) for v in values):
        assert code == 0 and dumped(out["items"]) == dumped(yamlio.load_all(yamlio.dump_all(values)))
    else:
        assert code == 1 and len(err.splitlines()) == 1 and err.startswith("[error] <stdin>: items[")
        assert out["items"] == [] and out["results"]


@bounded(100)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=40), max_size=5))
def test_any_text_as_yaml_is_parsed_or_refused_in_one_line(lines):
    """Arbitrary text on stdin: a ResourceList, or one `[error] <stdin>: ...` line; never a crash."""
    code, out, err = run_cli("\n".join(lines).encode("utf-8", "surrogatepass"))
    assert "Traceback" not in err and "internal error" not in err
    if code == 1:
        assert len(err.splitlines()) == 1 and err.startswith("[error] <stdin>: ") and out["items"] == []
