"""Determinism: the same input gives byte-identical output, whatever the hash seed and the item order.

The input is the example repository's: `base/agents` rendered once with `kubectl kustomize`, then
the ResourceLists each function of `overlays/prod` receives (expand, then environment, then policy,
with prod's function configs). Each function runs 20 times, each time in a fresh process under
another PYTHONHASHSEED and with the items shuffled (random.Random(seed)). `krmfn build
overlays/prod` is also run twice under different hash seeds.
"""

from __future__ import annotations

import random
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import support
from krmfn.runtime import engine, yamlio
from krmfn.runtime.resourcelist import ResourceList

ROOT = Path(__file__).resolve().parents[1]
PROD = ROOT / "overlays" / "prod"
RUNS = 20
SEEDS = [1 + 7919 * run for run in range(RUNS)]  # 20 different hash seeds, the same on every machine


def kubectl() -> str:
    found = Path("/usr/bin/kubectl") if Path("/usr/bin/kubectl").exists() else shutil.which("kubectl")
    if not found:
        pytest.skip("kubectl is not installed (the example repository is rendered with kubectl kustomize)")
    return str(found)


def run_in_process(config: dict, items: list[dict]) -> list[dict]:
    rl = ResourceList(items=items, function_config=config)
    assert engine.run(rl) == 0, engine.error_lines(rl.results)
    return rl.items


@pytest.fixture(scope="module")
def stages() -> dict[str, tuple[dict, list[dict]]]:
    """function -> (prod's function config, the items kustomize hands it), from one render of base/agents."""
    proc = subprocess.run([kubectl(), "kustomize", str(ROOT / "base" / "agents")], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    rendered = yamlio.load_all(proc.stdout, "base/agents")
    configs = {name: yamlio.load_one((PROD / f"{name}.yaml").read_bytes(), f"{name}.yaml")
               for name in ("expand", "environment", "policy")}
    expanded = run_in_process(configs["expand"], rendered)
    environment = run_in_process(configs["environment"], expanded)
    return {"expand": (configs["expand"], rendered), "environment": (configs["environment"], expanded),
            "policy": (configs["policy"], environment)}


def krmfn_once(config: dict, items: list[dict], seed: int) -> tuple[list[dict], subprocess.CompletedProcess]:
    shuffled = list(items)
    random.Random(seed).shuffle(shuffled)
    stdin = yamlio.dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": shuffled,
                         "functionConfig": config}).encode()
    proc = support.module(stdin=stdin, timeout=120, env={"KRMFN_DEBUG": "", "PYTHONHASHSEED": str(seed)})
    return shuffled, proc


@pytest.mark.parametrize("function", ["expand", "environment", "policy"])
def test_twenty_runs_under_other_hash_seeds_and_orders_are_byte_identical(stages, function):
    config, items = stages[function]
    assert len(items) >= 8
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(pool.map(lambda seed: krmfn_once(config, items, seed), SEEDS))
    orders = {tuple(yamlio.dump(i) for i in shuffled) for shuffled, _ in runs}
    assert len(orders) > 1, "the items were not shuffled"
    for shuffled, proc in runs:
        assert proc.returncode == 0, proc.stderr.decode()
    if function == "policy":
        # A validator hands every item back as it came (in the order it came), and reports the same.
        for shuffled, proc in runs:
            assert yamlio.load_one(proc.stdout, "out")["items"] == shuffled
        canonical = {yamlio.dump_all(sorted(yamlio.load_one(p.stdout, "out")["items"], key=engine.canonical_key))
                     for _, p in runs}
        assert len(canonical) == 1
        assert len({(p.stderr, yamlio.dump(yamlio.load_one(p.stdout, "out").get("results"))) for _, p in runs}) == 1
    else:
        outputs = {proc.stdout for _, proc in runs}
        assert len(outputs) == 1, f"{len(outputs)} different outputs from {RUNS} runs"
        assert len({proc.stderr for _, proc in runs}) == 1


def test_build_of_prod_is_byte_identical_under_other_hash_seeds():
    kubectl()
    outputs = []
    for seed in (11, 4242):
        proc = support.module("build", str(PROD), timeout=300, text=False,
                              env={"KRMFN_DEBUG": "", "PYTHONHASHSEED": str(seed)})
        assert proc.returncode == 0, proc.stderr.decode()
        outputs.append(proc.stdout)
    assert outputs[0] == outputs[1]
    assert b"kind: Agent" in outputs[0] and b"kind: ModelConfig" in outputs[0]
