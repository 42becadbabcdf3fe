"""A cold krmfn function call (a fresh process, as kustomize starts one per function per build)
vs `python -c "import yaml"`: a pass-through ResourceList (no function config), an expand call on
the example repository's agents (base/agents, as `krmfn build` hands them to the function), and the
environment function on its example and the policy function on a passing case.
"""

from __future__ import annotations

import sys

from common import KRMFN, ROOT, Row, measure_interleaved, run_command

PASS_THROUGH = b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n"


def expand_input() -> bytes:
    """The ResourceList kustomize gives base/'s expand step: base/agents plus the expand config."""
    from krmfn.runtime import yamlio

    items = yamlio.load_all(run_command(["/usr/bin/kubectl", "kustomize", str(ROOT / "base" / "agents")]), "agents")
    config = yamlio.load_one((ROOT / "base" / "functions" / "expand.yaml").read_bytes(), "expand.yaml")
    return yamlio.dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
                        "items": items, "functionConfig": config}).encode()


def function_input(folder: str, items: str, config: str) -> bytes:
    """A function's example or golden case (a folder under functions/) as kustomize hands it over."""
    from krmfn.runtime import yamlio

    where = ROOT / "functions" / folder
    return yamlio.dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
                        "items": yamlio.load_all((where / items).read_bytes(), items),
                        "functionConfig": yamlio.load_one((where / config).read_bytes(), config)}).encode()


def run() -> list[Row]:
    krmfn = [KRMFN] if KRMFN else [sys.executable, "-m", "krmfn"]
    wall, cpu = measure_interleaved({"base": ([sys.executable, "-c", "import yaml"], b""),
                                     "passthrough": (krmfn, PASS_THROUGH), "expand": (krmfn, expand_input()),
                                     "environment": (krmfn, function_input("environment/example", "agents.yaml", "dev.yaml")),
                                     # a passing case: the example is refused on purpose
                                     "policy": (krmfn, function_input("policy/testdata/allowed-risks-pass", "input.yaml",
                                                                      "config.yaml"))}, n=15)
    rows = []
    for best, how, targets in ((wall, "", (1.5, 3.0)), (cpu, ", CPU time", (None, None))):
        rows += [Row(f"cold pass-through (ResourceList, no config){how}", best["passthrough"],
                     'python -c "import yaml"' + how, best["base"], targets[0]),
                 Row(f"cold expand (base/agents: 4 descriptions){how}", best["expand"],
                     'python -c "import yaml"' + how, best["base"], targets[1]),
                 Row(f"cold environment (its example){how}", best["environment"],
                     'python -c "import yaml"' + how, best["base"], None),
                 Row(f"cold policy (a passing case){how}", best["policy"],
                     'python -c "import yaml"' + how, best["base"], None)]
    return rows
