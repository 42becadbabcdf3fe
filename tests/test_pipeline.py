"""The Pipeline function: its render is the step-by-step render, and it keeps each stage's contract.

(Through real kustomize builds, in every mode: tests/test_e2e_kustomize.py renders the example
overlays with the Pipeline and step by step, and compares them byte for byte.)
"""

from __future__ import annotations

import copy
from pathlib import Path

import support
from krmfn.runtime import yamlio
from krmfn.runtime.resourcelist import ResourceList

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "functions/pipeline/example"
LOCAL_CONFIG = "config.kubernetes.io/local-config"


def run(config: dict, items: list[dict]) -> tuple[int, ResourceList]:
    return support.in_process(copy.deepcopy(config), copy.deepcopy(items))


def example() -> tuple[dict, list[dict]]:
    config = yamlio.load_one((EXAMPLE / "config.yaml").read_bytes(), "config.yaml")
    return config, yamlio.load_all((EXAMPLE / "input.yaml").read_bytes(), "input.yaml")


def test_the_pipeline_equals_its_stages_run_one_by_one():
    config, items = example()
    code, piped = run(config, items)
    assert code == 0, [r.line() for r in piped.results]
    by_name = {(i["kind"], i["metadata"]["name"]): i for i in items}
    configs = [s.get("config") or by_name[(s["configRef"]["kind"], s["configRef"]["name"])]
               for s in config["spec"]["stages"]]
    # step by step, as kustomize would: every stage sees every resource, local-config ones included
    staged, results = items, []
    for stage in configs:
        code, rl = run(stage, staged)
        assert code == 0, [r.line() for r in rl.results]
        staged, results = rl.items, results + [r.line() for r in rl.results]
    def kustomize_keeps(objects):  # what the build prints: kustomize leaves local config out
        return [i for i in objects if (i["metadata"].get("annotations") or {}).get(LOCAL_CONFIG) != "true"]

    assert yamlio.dump_all(kustomize_keeps(piped.items)) == yamlio.dump_all(kustomize_keeps(staged))
    assert [r.line() for r in piped.results] == results  # the same results, from the same stages
    # the stage configs are consumed; what krmfn's kinds remain is the catalog, as local config
    left = [i for i in piped.items if i["apiVersion"].startswith("krmfn.dev/")]
    assert [i["kind"] for i in left] == ["ToolCatalog"] and not kustomize_keeps(left)


def test_a_failing_stage_stops_the_pipeline_and_the_input_comes_back():
    config, items = example()
    config["spec"]["stages"][0]["config"]["spec"]["runtime"] = "rust"
    code, rl = run(config, items)
    assert code == 1
    assert rl.items == items
    lines = [r.line() for r in rl.results if r.is_error]
    assert len(lines) == 1 and "AgentExpansion/expand spec.runtime" in lines[0], lines


def test_an_inline_credential_never_comes_back_in_the_output():
    secret = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD"
    config, items = example()
    config["spec"]["stages"][1] = {"config": {
        "apiVersion": "krmfn.dev/v1alpha1", "kind": "ModelEnvironment", "metadata": {"name": "dev"},
        "spec": {"tiers": {"standard": {"provider": "Ollama", "model": "llama3.2",
                                        "defaultHeaders": {"Authorization": f"Bearer {secret}"}}}}}}
    stdin = yamlio.dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items,
                         "functionConfig": config})
    proc = support.module(stdin=stdin.encode(), timeout=120)
    assert proc.returncode == 1
    assert secret.encode() not in proc.stdout and secret.encode() not in proc.stderr
    assert b"literal credential refused" in proc.stderr
    assert b"<redacted>" in proc.stdout  # the echoed Pipeline config carries the marker instead


def _with_credential_in_the_environment_item(items: list[dict], secret: str) -> list[dict]:
    items = copy.deepcopy(items)
    env = next(i for i in items if i["kind"] == "ModelEnvironment")
    env["spec"]["tiers"]["standard"]["defaultHeaders"] = {"Authorization": f"Bearer {secret}"}
    env["spec"]["tiers"]["standard"]["apiKey"] = secret  # found by its key too
    return items


def test_a_credential_in_a_config_item_never_comes_back_in_the_krm_output():
    """A stage's configRef item is an input item: on failure the engine restores the input, and
    that must not put the credential back on stdout (the refusal says it is shown redacted)."""
    secret = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789WXYZ"
    config, items = example()
    items = _with_credential_in_the_environment_item(items, secret)
    proc = support.module(stdin=yamlio.dump(support.resource_list(items, config)).encode())
    assert proc.returncode == 1
    assert secret.encode() not in proc.stdout and secret.encode() not in proc.stderr
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 2 and all("ModelEnvironment/dev spec.tiers.standard." in line and "literal credential "
                                   "refused" in line and "the output shows it as <redacted>" in line
                                   for line in lines), lines
    out = yamlio.load_one(proc.stdout, "stdout")
    env = next(i for i in out["items"] if i["kind"] == "ModelEnvironment")
    assert env["spec"]["tiers"]["standard"]["apiKey"] == "<redacted>"
    assert env["spec"]["tiers"]["standard"]["defaultHeaders"] == {"Authorization": "<redacted>"}
    # every other item comes back exactly as it came
    assert [i for i in out["items"] if i["kind"] != "ModelEnvironment"] == \
        [i for i in items if i["kind"] != "ModelEnvironment"]


def test_a_credential_in_a_config_item_is_refused_before_any_stage_runs():
    secret = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789WXYZ"
    config, items = example()
    items = _with_credential_in_the_environment_item(items, secret)
    config["spec"]["stages"][0]["config"]["spec"]["runtime"] = "rust"  # the first stage would fail too
    code, rl = run(config, items)
    assert code == 1
    lines = [r.line() for r in rl.results if r.is_error]
    assert len(lines) == 2 and all("literal credential refused" in line for line in lines), lines
    assert secret not in yamlio.dump_all(rl.items)


def test_a_credential_in_a_config_item_through_krmfn_run(tmp_path):
    secret = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789WXYZ"
    config, items = example()
    (tmp_path / "config.yaml").write_text(yamlio.dump(config))
    (tmp_path / "input.yaml").write_text(yamlio.dump_all(_with_credential_in_the_environment_item(items, secret)))
    proc = support.module("run", str(tmp_path / "config.yaml"), str(tmp_path / "input.yaml"))
    assert proc.returncode == 1 and proc.stdout == ""
    assert secret not in proc.stderr and proc.stderr.count("literal credential refused") == 2, proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_engine_withholds_a_credential_in_any_restored_function_config():
    """Whatever made the run fail, a krmfn function config among the items goes back redacted, and
    the output says so (one line per value)."""
    secret = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789WXYZ"
    config, items = example()
    items = _with_credential_in_the_environment_item(items, secret)
    expand = config["spec"]["stages"][0]["config"]
    expand["spec"]["runtime"] = "rust"  # expand alone fails; the ModelEnvironment item just passes
    code, rl = run(expand, items)
    assert code == 1 and secret not in yamlio.dump_all(rl.items)
    withheld = [r.line() for r in rl.results if "the output shows it as <redacted>" in r.line()]
    assert len(withheld) == 2 and all("ModelEnvironment/dev" in line for line in withheld), withheld
