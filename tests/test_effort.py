"""Effort as part of an agent's behaviour (issue 18): spec.effort of an AgentDescription, mapped by
the environment to the provider's own setting, one ModelConfig per tier and effort in use.

The golden cases (functions/environment/testdata/effort*, v1-effort; tests/review_cases/
effort-changed) hold the behaviour; here: the reader's model references, expand's annotation,
the example repository through real kustomize builds, and kubectl-validate on every effort
ModelConfig krmfn emits.
"""

from __future__ import annotations

import copy

import pytest

import support
from cluster_tools import kubectl_validate, render
from golden import FUNCTIONS, ROOT
from krmfn import constants as k
from krmfn.reader import read_models
from krmfn.runtime import yamlio

AGENT = {
    "apiVersion": "kagent.dev/v1alpha2", "kind": "Agent", "metadata": {"name": "a", "namespace": "team"},
    "spec": {"type": "Declarative", "declarative": {
        "modelConfig": "model-smart", "memory": {"modelConfig": "model-embedding"},
        "context": {"compaction": {"summarizer": {"modelConfig": "model-cheap"}}}}},
}
TEMPLATE = {"apiVersion": "api.kagent.dev/v1alpha3", "kind": "AgentTemplate",
            "metadata": {"name": "a", "namespace": "team"}, "spec": {"modelConfig": {"name": "model-smart"}}}


def test_the_reader_names_every_model_reference_with_its_path():
    uses = read_models(AGENT)
    assert (uses.main.path, uses.main.name) == ("spec.declarative.modelConfig", "model-smart")
    assert (uses.memory.path, uses.memory.name) == ("spec.declarative.memory.modelConfig", "model-embedding")
    assert (uses.summarizer.path, uses.summarizer.name) == (
        "spec.declarative.context.compaction.summarizer.modelConfig", "model-cheap")
    uses = read_models(TEMPLATE)
    assert (uses.main.path, uses.main.name, uses.memory, uses.summarizer) == (
        "spec.modelConfig.name", "model-smart", None, None)


@pytest.mark.parametrize("change", [
    lambda a: a["spec"].update(type="BYO"),            # no model of its own
    lambda a: a["spec"].update(declarative="x"),       # malformed: the schema check reports it
    lambda a: a.update(apiVersion="api.kagent.dev/v1alpha3"),  # a 1.0 Agent: its template carries the model
    lambda a: a.update(kind="ModelConfig"),
])
def test_the_reader_gives_nothing_for_what_carries_no_model(change):
    agent = copy.deepcopy(AGENT)
    change(agent)
    assert read_models(agent) is None


def test_the_reader_tolerates_malformed_names():
    agent = copy.deepcopy(AGENT)
    agent["spec"]["declarative"].update(modelConfig=5, memory={})
    uses = read_models(agent)
    assert uses.main.name == "" and uses.memory.name == "" and uses.summarizer is not None


DESCRIPTION = {
    "apiVersion": "krmfn.dev/v1alpha1", "kind": "AgentDescription", "metadata": {"name": "a", "namespace": "team"},
    "spec": {"description": "A.", "prompt": {"text": "You are A."}, "model": "smart", "effort": "high"},
}


@pytest.mark.parametrize("target,kind", [("kagent-0.10", "Agent"), ("kagent-1.0", "AgentTemplate")])
def test_expand_keeps_the_effort_on_what_carries_the_model(target, kind):
    config = {"apiVersion": "krmfn.dev/v1alpha1", "kind": "AgentExpansion", "metadata": {"name": "x"},
              "spec": {"target": target}}
    code, rl = support.in_process(config, [copy.deepcopy(DESCRIPTION)])
    assert code == 0, [r.message for r in rl.results]
    [carrier] = [i for i in rl.items if i["kind"] == kind]
    assert carrier["metadata"]["annotations"][k.ANNOTATION_EFFORT] == "high"
    plain = copy.deepcopy(DESCRIPTION)
    del plain["spec"]["effort"]
    code, rl = support.in_process(config, [plain])
    assert code == 0 and not any(k.ANNOTATION_EFFORT in i["metadata"].get("annotations", {}) for i in rl.items)


def test_a_byo_agent_cannot_ask_for_effort():
    byo = copy.deepcopy(DESCRIPTION)
    del byo["spec"]["prompt"]
    byo["spec"]["byo"] = {"image": "example/agent:1"}
    config = {"apiVersion": "krmfn.dev/v1alpha1", "kind": "AgentExpansion", "metadata": {"name": "x"}, "spec": {}}
    code, rl = support.in_process(config, [byo])
    assert code == 1
    assert [r.message for r in rl.results if r.is_error] == ["a byo agent cannot also set effort"]


# --- the example repository, through real kustomize builds ---------------------------------------------

EXAMPLE = {"base": ("Ollama", None), "overlays/dev": ("Ollama", None),
           "overlays/staging": ("OpenAI", "high"), "overlays/prod": ("OpenAI", "high")}


@pytest.mark.e2e
@pytest.mark.parametrize("target", sorted(EXAMPLE))
def test_the_example_supervisor_runs_its_effort_in_every_environment(target):
    items = yamlio.load_all(render(target))
    supervisor = next(i for i in items if i["kind"] == "Agent" and i["metadata"]["name"] == "supervisor")
    assert supervisor["metadata"]["annotations"][k.ANNOTATION_EFFORT] == "high"
    assert supervisor["spec"]["declarative"]["modelConfig"] == "model-premium-high"
    configs = {i["metadata"]["name"]: i for i in items if i["kind"] == "ModelConfig"
               and i["metadata"]["namespace"] == "platform-agents"}
    assert "model-premium" not in configs  # only the supervisor is on premium, at effort high
    config = configs["model-premium-high"]
    assert config["metadata"]["labels"][k.ANNOTATION_EFFORT] == "high"
    provider, reasoning = EXAMPLE[target]
    assert config["spec"]["provider"] == provider
    assert config["spec"].get("openAI", {}).get("reasoningEffort") == reasoning
    # agents without effort keep today's names
    assert {"model-standard"} <= set(configs)


# --- kubectl-validate: what the API server's own validation says ------------------------------------------


def _effort_configs(items: list[dict]) -> list[dict]:
    return [i for i in items if i.get("kind") == "ModelConfig" and k.ANNOTATION_EFFORT in i["metadata"].get("labels", {})]


def _golden(case: str) -> list[dict]:
    return _effort_configs(yamlio.load_all((FUNCTIONS / "environment/testdata" / case / "expected.yaml").read_bytes()))


@pytest.mark.cluster
@pytest.mark.parametrize("set_name,objects", [
    ("v0.10.0-rc3", lambda: _golden("effort")),
    ("v1.0", lambda: _golden("v1-effort") + _effort_configs(yamlio.load_all(render("overlays/prod-kagent-1.0")))),
    # overlays/prod declares kagentVersion v0.10.0-rc3 (it writes openAI.apiFormat, which v0.9 lacks)
    ("v0.9.12", lambda: [o for t in EXAMPLE if t != "overlays/prod" for o in _effort_configs(yamlio.load_all(render(t)))]),
    ("v0.10.0-rc3", lambda: [o for t in EXAMPLE for o in _effort_configs(yamlio.load_all(render(t)))]),
], ids=["golden-0.10", "golden-1.0", "example-0.9", "example-0.10"])
def test_kubectl_validate_accepts_every_effort_model_config(set_name, objects, tmp_path):
    objects = objects()
    assert objects
    statuses = kubectl_validate(objects, set_name, tmp_path)
    rejected = [(o["metadata"]["name"], s) for o, s in zip(objects, statuses) if s.get("status") != "Success"]
    assert rejected == []


def test_the_effort_cases_are_checked_by_the_conformance_suites():
    """test_output_conformance and test_kagent_v1 check every golden output by its path: these must be
    among them (a successful case, a v1- one for kagent 1.0)."""
    cases = {p.parent.name for p in ROOT.glob("functions/*/testdata/*/expected.yaml")}
    assert {"effort", "v1-effort"} <= cases


@pytest.mark.parametrize("case,set_name", [("effort", "v0.10.0-rc3"), ("effort-hand-written", "v0.10.0-rc3"),
                                           ("v1-effort", "v1.0")])
def test_effort_model_configs_leave_no_default_to_the_server(case, set_name):
    """Git equals what the API server stores: an effort's block gets the CRD defaults the tier's gets
    (OpenAI's apiFormat on v0.10 and 1.0, even when only the effort brings the block). What krmfn's
    ModelConfigs without effort leave to the server (1.0's spec.stream) is not the effort's to add."""
    from krmfn.conformance import load_crds
    from krmfn.kagent.defaults import crd_defaults_missing

    crd_root = ROOT.parent / "shared" / "kagent-crds" / set_name
    if not crd_root.is_dir():
        pytest.skip(f"{crd_root} is absent: the kagent CRDs live in ../shared")
    index = load_crds(str(crd_root), label=set_name)
    items = yamlio.load_all((FUNCTIONS / "environment/testdata" / case / "expected.yaml").read_bytes())

    def missing(obj: dict) -> set[str]:
        return set(crd_defaults_missing(obj, index.validator(obj["apiVersion"], obj["kind"]).crd.schema))

    configs = _effort_configs(items)
    plain = [i for i in items if i["kind"] == "ModelConfig" and i not in configs]
    assert configs and plain
    baseline = set().union(*(missing(obj) for obj in plain))
    for obj in configs:
        assert missing(obj) - baseline == set(), obj["metadata"]["name"]


def test_a_new_agent_shows_its_effort_in_review(tmp_path, capsys):
    from krmfn.commands import diff as diff_cmd

    new = (ROOT / "tests/review_cases/effort-changed/new.yaml").read_text()
    docs = yamlio.load_all(new)
    old = [d for d in docs if d["metadata"]["name"] != "planner"]
    (tmp_path / "old.yaml").write_text(yamlio.dump_all(old))
    (tmp_path / "new.yaml").write_text(new)
    assert diff_cmd.run([str(tmp_path / "old.yaml"), str(tmp_path / "new.yaml"), "--format", "json"]) == 0
    import json

    [agent] = json.loads(capsys.readouterr().out)["environments"][0]["agents"]
    [finding] = agent["findings"]
    assert finding["class"] == "agent-added" and "(tier `smart`, effort `high`)" in finding["summary"]
    assert finding["model"]["effort"] == "high"
