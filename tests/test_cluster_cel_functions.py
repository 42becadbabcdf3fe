"""Every function krmfn's CEL evaluator implements, against the API server's own CEL.

cel-python (tests/test_conformance.py) knows none of Kubernetes' string and list extensions, so
the oracle here is kubectl-validate, which validates with the API server's code. A CRD made for
the test carries one rule per expression; each object is judged by both, and every rule must pass
or fail alike. The test also fails when the evaluator gains a function no expression here uses.
"""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest
import yaml

import cluster_tools

pytestmark = pytest.mark.cluster

EXPRESSIONS = [
    "size(self.s) == self.i", "self.ls.size() > 1",
    "self.s.startsWith('a')", "self.s.endsWith('z')", "self.s.contains('bc')",
    "self.s.matches('^[a-c]+$')", "matches(self.s, 'b')",
    "self.s.lowerAscii() == self.s", "self.s.upperAscii() == 'ABC'", "self.s.trim() == self.s",
    "self.s.split('b').size() == 2", "self.s.split('b', 1).size() == 1",
    "self.ls.join() == 'xy'", "self.ls.join('-') == 'x-y'",
    "self.s.replace('b', 'q') == 'aqc'", "self.s.replace('a', '', 1) == 'bc'",
    "self.s.indexOf('c') == 2", "self.s.indexOf('a', 1) == -1",
    "self.s.lastIndexOf('a') == 0", "self.s.lastIndexOf('a', 0) == 0",
    "self.s.substring(1) == 'bc'", "self.s.substring(0, 1) == 'a'", "self.s.charAt(0) == 'a'",
    "self.l.isSorted()", "self.l.sum() > 3", "self.l.min() == 1", "self.l.max() == 3",
    "int(self.s.size()) == 3", "uint(self.i) > 1u", "double(self.i) == 3.0", "string(self.i) == '3'",
    "bool('true') == (self.i > 0)", "dyn(self.i) == 3",
]
OBJECTS = [
    {"s": "abc", "i": 3, "l": [1, 2, 3], "ls": ["x", "y"]},
    {"s": "ABC ", "i": 4, "l": [3, 1], "ls": ["x"]},
    {"s": "zz", "i": 2, "l": [5], "ls": ["a", "b", "c"]},
    {"s": "aba", "i": 0, "l": [1, 1, 2], "ls": ["x", "y"]},
]


def crd() -> dict:
    bounded = {"s": {"type": "string", "maxLength": 16},
               "i": {"type": "integer", "minimum": 0, "maximum": 100},
               "l": {"type": "array", "minItems": 1, "maxItems": 8, "items": {"type": "integer"}},
               "ls": {"type": "array", "minItems": 1, "maxItems": 8, "items": {"type": "string", "maxLength": 8}}}
    rules = [{"rule": expression, "message": f"rule-{index:02d}"} for index, expression in enumerate(EXPRESSIONS)]
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "celtests.test.krmfn.dev"},
            "spec": {"group": "test.krmfn.dev", "scope": "Namespaced",
                     "names": {"kind": "CelTest", "plural": "celtests", "singular": "celtest", "listKind": "CelTestList"},
                     "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                         "type": "object",
                         "properties": {"spec": {"type": "object", "required": ["s", "i", "l", "ls"],
                                                 "properties": bounded, "x-kubernetes-validations": rules}}}}}]}}


def test_every_evaluator_function_is_exercised():
    from krmfn.conformance import cel

    used = {name for name in cel._FUNCTIONS if any(re.search(rf"\b{name}\(", e) for e in EXPRESSIONS)}
    assert used == set(cel._FUNCTIONS), f"not exercised against the API server: {sorted(set(cel._FUNCTIONS) - used)}"


def failing(text: str) -> set[str]:
    return set(re.findall(r"rule-\d\d", text))


def test_each_function_evaluates_as_the_api_server_does(tmp_path, monkeypatch):
    from krmfn.conformance import load_crds, schema, validate

    monkeypatch.setattr(schema, "MAX_PROBLEMS_PER_OBJECT", 1000)  # every rule's verdict, not the first 20

    crds_dir = tmp_path / "crds"
    crds_dir.mkdir()
    (crds_dir / "celtest.yaml").write_text(yaml.safe_dump(crd(), sort_keys=False))
    objects = [{"apiVersion": "test.krmfn.dev/v1", "kind": "CelTest", "metadata": {"name": f"o{i}", "namespace": "n"},
                "spec": spec} for i, spec in enumerate(OBJECTS)]
    path = tmp_path / "objects.yaml"
    path.write_text("".join("---\n" + json.dumps(o) + "\n" for o in objects))
    proc = subprocess.run([str(cluster_tools.tool("kubectl-validate")), "--local-crds", str(crds_dir),
                           "--version", cluster_tools.KUBE_VERSION, "-o", "json", str(path)],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "KUBECONFIG": str(tmp_path / "none")})
    statuses = next(iter(json.loads(proc.stdout).values()))
    assert len(statuses) == len(objects), proc.stderr
    crds = load_crds(str(crds_dir))
    compared = 0
    for obj, status in zip(objects, statuses):
        theirs = failing(json.dumps(status))
        ours = failing(" ".join(r.message for r in validate([obj], crds, check_references=False)))
        assert ours == theirs, (obj["spec"], sorted(ours ^ theirs), [EXPRESSIONS[int(r[5:])] for r in sorted(ours ^ theirs)])
        compared += len(EXPRESSIONS)
    # the objects are chosen so every rule both passes and fails somewhere: a constant would not do
    per_rule = [{bool(failing(json.dumps(s)) & {f"rule-{i:02d}"}) for s in statuses} for i in range(len(EXPRESSIONS))]
    assert sum(len(outcomes) == 2 for outcomes in per_rule) >= len(EXPRESSIONS) * 2 // 3
    assert compared == len(EXPRESSIONS) * len(OBJECTS)
