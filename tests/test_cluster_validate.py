"""krmfn's offline checker (krmfn/conformance) against kubectl-validate, which validates with the
API server's own code (OpenAPI schema, CEL): both must accept or reject every object alike, and
report the same CEL rule messages.

The objects: every golden output (functions/*/testdata/*/expected.yaml), every overlay render, one
object per CEL rule (test_conformance's BREAKERS) and one per schema keyword that the CRDs use at
each place they use it (generated here from the CRDs), each checked against every kagent.dev CRD set.
"""

from __future__ import annotations

import atexit
import copy
import re
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

import pytest

import test_conformance as tc
from cluster_tools import CRD_SETS, ROOT, SUPPORTED_SETS, TARGETS, kubectl_validate, render
from krmfn.conformance import load_crds, validate_schemas
from krmfn.conformance.regex import python_pattern
from krmfn.runtime import yamlio

pytestmark = pytest.mark.cluster


@lru_cache(maxsize=None)
def crds(set_name: str):
    return load_crds(tc.CRD_ROOT / set_name)


def kagent_objects(docs) -> list[dict]:
    return [d for d in docs if isinstance(d, dict) and str(d.get("apiVersion", "")).startswith("kagent.dev/")]


# ------------------------------------------------------------------------------------------
# the corpus


def golden_objects() -> list[tuple[str, dict]]:
    out = []
    for path in sorted(ROOT.glob("functions/*/testdata/*/expected.yaml")):
        for i, obj in enumerate(kagent_objects(yamlio.load_all(path.read_text(), str(path)))):
            out.append((f"{path.relative_to(ROOT).parent}#{i}", obj))
    return out


@lru_cache(maxsize=None)
def render_objects(set_name: str) -> tuple[tuple[str, dict], ...]:
    """Every render, its ModelEnvironments targeting this 0.x CRD set (the example's environments
    declare their own kagent: prod v0.10.0-rc3, the others v0.9.12); other sets get them as they are."""
    version = set_name if set_name in SUPPORTED_SETS and set_name.startswith("v0.") else None
    tmp = Path(tempfile.mkdtemp(prefix="krmfn-renders-"))
    atexit.register(shutil.rmtree, tmp, True)
    out = []
    for target in TARGETS:
        for i, obj in enumerate(kagent_objects(yamlio.load_all(render(target, version, tmp)))):
            out.append((f"{target}#{i}", obj))
    return tuple(out)


def cel_breakers(set_name: str) -> list[tuple[str, dict]]:
    """One object per CEL rule of the set (test_conformance's table, rules of every kind it covers).
    A breaker that needs validator options (defaults off) cannot break its rule on a real API
    server: it is named "cel-unreachable" and both checkers must accept it."""
    out = []
    for sname, v, path, rule in tc._all_rules((set_name,), tc.RULE_KINDS):
        entry = tc.BREAKERS.get(rule["rule"])
        if entry is None:
            continue  # test_conformance fails for a rule without a breaker
        obj = entry.build(v.kind, v.version, path)
        obj["apiVersion"], obj["kind"] = v.api_version, v.kind
        prefix = "cel-unreachable" if entry.options else "cel"
        out.append((f"{prefix} {v.kind}/{v.version} {path} {rule['rule'][:60]}", obj))
    return out


# type, required and unknown fields occur at thousands of places inside the embedded Kubernetes
# structures (pod specs); they are generated down to this depth (spec.a.b.c), the rest everywhere.
SHALLOW_KEYWORDS, SHALLOW_DEPTH = ("type", "required", "unknown-field"), 4
KEYWORDS = ("enum", "pattern", "pattern-newline", "maxLength", "minLength", "maxItems", "minItems", "maximum", "minimum",
            "required", "type", "unknown-field", "maxProperties")


def _walk(schema: dict, path: tuple):
    """(path, node) for every schema node; path items are property names or 0 for an array item."""
    yield path, schema
    for name, sub in (schema.get("properties") or {}).items():
        if path == () and name in ("metadata", "status", "apiVersion", "kind"):
            continue
        yield from _walk(sub, path + (name,))
    if isinstance(schema.get("items"), dict):
        yield from _walk(schema["items"], path + (0,))
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _walk(schema["additionalProperties"], path + ("k",))


def _placeholder(schema: dict):
    """A value of the node's type, with its required fields, ignoring other constraints."""
    t = schema.get("type")
    if "enum" in schema:
        return copy.deepcopy(schema["enum"][0])
    if t == "object" or "properties" in schema:
        return {name: _placeholder(schema["properties"][name]) for name in schema.get("required") or ()
                if name in (schema.get("properties") or {})}
    if t == "array":
        return []
    if t == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if t == "number":
        return 1.5
    if t == "boolean":
        return True
    if schema.get("x-kubernetes-int-or-string"):
        return 1
    return "a" * max(1, int(schema.get("minLength", 1)))


def _nonmatching(pattern: str) -> str | None:
    for candidate in ("#!not valid!#", "", "A B", "-", "0", "a" * 300):
        if not re.search(python_pattern(pattern), candidate):
            return candidate
    return None


def _matching(pattern: str) -> str | None:
    for candidate in ("a", "abc", "a1", "1", "A", "a-b", "http://a", "ghcr.io/a/b:1", "a@sha256:" + "0" * 64):
        if re.search(python_pattern(pattern), candidate):
            return candidate
    return None


def _violation(node: dict, keyword: str):
    """(value that breaks `keyword` at this node) or None when the keyword is absent."""
    if keyword == "enum" and "enum" in node:
        return "not-" + str(node["enum"][0]) + "-x"
    if keyword == "pattern" and "pattern" in node:
        return _nonmatching(node["pattern"])
    if keyword == "pattern-newline" and str(node.get("pattern", "")).endswith("$"):
        good = _matching(node["pattern"])  # Go's $ is the end of the text: a final newline breaks it
        return None if good is None else good + "\n"
    if keyword == "maxLength" and "maxLength" in node:
        return "a" * (int(node["maxLength"]) + 1)
    if keyword == "minLength" and int(node.get("minLength", 0)) > 0:
        return "a" * (int(node["minLength"]) - 1)
    item = node.get("items") if isinstance(node.get("items"), dict) else {}
    if keyword == "maxItems" and "maxItems" in node:
        return [_placeholder(item) for _ in range(int(node["maxItems"]) + 1)]
    if keyword == "minItems" and int(node.get("minItems", 0)) > 0:
        return [_placeholder(item) for _ in range(int(node["minItems"]) - 1)]
    if keyword == "maximum" and "maximum" in node:
        return int(node["maximum"]) + 1 if node.get("type") == "integer" else float(node["maximum"]) + 0.5
    if keyword == "minimum" and "minimum" in node:
        return int(node["minimum"]) - 1 if node.get("type") == "integer" else float(node["minimum"]) - 0.5
    if keyword == "required" and node.get("required"):
        value = _placeholder(node)
        value.pop(node["required"][0], None)
        return value
    if keyword == "type" and node.get("type") in ("string", "integer", "boolean", "object", "array", "number"):
        return {"string": 12, "integer": "twelve", "number": "x", "boolean": "yes", "object": "x",
                "array": "x"}[node["type"]]
    if keyword == "unknown-field" and node.get("type") == "object" and "properties" in node \
            and not node.get("x-kubernetes-preserve-unknown-fields"):
        value = _placeholder(node)
        value["krmfnUnknownField"] = "x"
        return value
    if keyword == "maxProperties" and "maxProperties" in node:
        value = _placeholder(node)
        for i in range(int(node["maxProperties"]) + 1):
            value[f"k{i}"] = _placeholder(node.get("additionalProperties") or {"type": "string"})
        return value
    return None


def _base(set_name: str, api_version: str, kind: str, schema: dict) -> dict:
    for obj in tc._valid_objects(set_name):
        if obj["apiVersion"] == api_version and obj["kind"] == kind:
            return copy.deepcopy(obj)
    obj = _placeholder(schema)
    obj.update(apiVersion=api_version, kind=kind, metadata=tc.meta("generated"))
    return obj


def _put(obj: dict, schema: dict, path: tuple, value) -> None:
    """Set obj at path (creating placeholders on the way, index 0 for array items)."""
    cur, node = obj, schema
    for step in path[:-1]:
        if step == 0:
            node = node["items"]
            if not cur:
                cur.append(_placeholder(node))
            cur = cur[0]
        else:
            node = (node.get("properties") or {}).get(step) or node.get("additionalProperties") or {}
            if step not in cur or not isinstance(cur[step], (dict, list)):
                cur[step] = [] if node.get("type") == "array" else _placeholder(node)
            cur = cur[step]
    last = path[-1]
    if last == 0:
        if cur:
            cur[0] = value
        else:
            cur.append(value)
    else:
        cur[last] = value


def keyword_breakers(set_name: str) -> list[tuple[str, dict]]:
    out = []
    for v in crds(set_name):
        for path, node in _walk(v.schema, ()):
            if not path:
                continue
            for keyword in KEYWORDS:
                if keyword in SHALLOW_KEYWORDS and len(path) > SHALLOW_DEPTH:
                    continue
                value = _violation(node, keyword)
                if value is None:
                    continue
                obj = _base(set_name, v.api_version, v.kind, v.schema)
                _put(obj, v.schema, path, value)
                dotted = ".".join("[0]" if p == 0 else str(p) for p in path).replace(".[0]", "[0]")
                out.append((f"{keyword} {v.kind}/{v.version} {dotted}", obj))
    return out


def corpus(set_name: str) -> list[tuple[str, dict]]:
    return golden_objects() + list(render_objects(set_name)) + cel_breakers(set_name) + keyword_breakers(set_name)


# ------------------------------------------------------------------------------------------
# the comparison


# The API server evaluates CEL rules only when the schema found no "blocking" error (Required,
# NotSupported, TooLong, TooMany, TypeInvalid; apiextensions-apiserver's hasBlockingErr), and
# rejects unknown fields while decoding, before any validation. krmfn skips rules only in the
# blocked subtree (krmfn/conformance/schema.py), so it may report more CEL failures there.
BLOCKED = "some validation rules were not checked because the object was invalid"


def _kv_messages(status: dict) -> list[str]:
    causes = (status.get("details") or {}).get("causes") or []
    return [f"{c.get('field', '')}: {c.get('message', '')}" for c in causes] or [status.get("message", "")]


def _kv_fields(status: dict) -> set[str]:
    causes = (status.get("details") or {}).get("causes") or []
    return {c.get("field", "") for c in causes if BLOCKED not in c.get("message", "")}


def _cel_evaluated(status: dict) -> bool:
    return not any(BLOCKED in m or "unknown field" in m for m in _kv_messages(status))


def _cel_message_seen(message: str, kv: list[str]) -> bool:
    return any(line.endswith(": " + message) for line in kv)


@lru_cache(maxsize=None)
def outcomes(set_name: str, workdir: str):
    items = corpus(set_name)
    statuses = kubectl_validate([obj for _, obj in items], set_name, Path(workdir))
    rows = []
    from krmfn.conformance import schema

    cap, schema.MAX_PROBLEMS_PER_OBJECT = schema.MAX_PROBLEMS_PER_OBJECT, 10**6  # every field, not the first 20
    try:
        for (name, obj), status in zip(items, statuses):
            results = [r for r in validate_schemas([copy.deepcopy(obj)], crds(set_name)) if r.is_error]
            rows.append((name, obj, status, results))
    finally:
        schema.MAX_PROBLEMS_PER_OBJECT = cap
    return rows


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("kubectl-validate"))


@pytest.mark.parametrize("set_name", CRD_SETS)
def test_corpus_covers_every_source(set_name):
    names = [name for name, _ in corpus(set_name)]
    assert sum(n.startswith("functions/") for n in names) > 40
    assert {n.split("#")[0] for n in names if n.split("#")[0] in TARGETS} == set(TARGETS)
    used = {kw for v in crds(set_name) for path, node in _walk(v.schema, ()) if path
            for kw in KEYWORDS if _violation(node, kw) is not None}
    assert {"enum", "pattern", "pattern-newline", "maxLength", "required", "type", "unknown-field"} <= used
    for keyword in used:
        assert any(n.startswith(keyword + " ") for n in names), f"no {keyword} breaker"
    if set_name in tc.RULE_SETS:
        assert sum(n.startswith("cel ") for n in names) > 30


@pytest.mark.parametrize("set_name", CRD_SETS)
def test_krmfn_and_kubectl_validate_agree_on_every_object(set_name, workdir):
    disagreements = []
    for name, obj, status, results in outcomes(set_name, workdir):
        kv_ok = status.get("status") == "Success"
        if kv_ok != (not results):
            disagreements.append(f"{name}: kubectl-validate {'accepts' if kv_ok else 'rejects'}, krmfn "
                                 f"{'rejects' if results else 'accepts'}\n    kubectl-validate: {_kv_messages(status)}"
                                 f"\n    krmfn: {[(r.field, r.message) for r in results]}")
    assert not disagreements, f"{len(disagreements)} disagreements:\n" + "\n".join(disagreements[:40])


@pytest.mark.parametrize("set_name", CRD_SETS)
def test_krmfn_reports_every_field_the_api_server_reports(set_name, workdir):
    """Rejected alike for the same reasons: every field kubectl-validate names, krmfn names too;
    where the API server evaluated everything, krmfn names no other field."""
    gaps = []
    for name, obj, status, results in outcomes(set_name, workdir):
        if status.get("status") == "Success":
            continue
        kv, ours = _kv_fields(status), {r.field for r in results}
        extra = ours - kv if _cel_evaluated(status) else set()
        if kv - ours or extra:
            gaps.append(f"{name}: only kubectl-validate: {sorted(kv - ours)}; only krmfn: {sorted(extra)}"
                        f"\n    kubectl-validate: {_kv_messages(status)}\n    krmfn: {[(r.field, r.message) for r in results]}")
    assert not gaps, f"{len(gaps)} objects:\n" + "\n".join(gaps[:30])


@pytest.mark.parametrize("set_name", CRD_SETS)
def test_cel_failures_carry_the_same_rule_message(set_name, workdir):
    """Where the API server evaluated the CEL rules, both report the same rule messages."""
    mismatches = []
    evaluated = 0
    for name, obj, status, results in outcomes(set_name, workdir):
        if status.get("status") == "Success" or not _cel_evaluated(status):
            continue
        evaluated += 1
        kv = _kv_messages(status)
        ours = [r for r in results if dict(r.tags).get("check") == "cel"]
        for r in ours:
            if not _cel_message_seen(r.message, kv):
                mismatches.append(f"{name}: krmfn says {r.field}: {r.message!r}; kubectl-validate: {kv}")
        for line in kv:
            if '"object": ' in line and not any(line.endswith(": " + r.message) for r in ours):
                mismatches.append(f"{name}: kubectl-validate says {line!r}; krmfn: {[r.message for r in ours]}")
    assert evaluated > 50
    assert not mismatches, "\n".join(mismatches[:40])


@pytest.mark.parametrize("set_name", tc.RULE_SETS)
def test_every_cel_breaker_is_rejected_by_kubectl_validate(set_name, workdir):
    rows = [row for row in outcomes(set_name, workdir) if row[0].startswith("cel ")]
    assert len(rows) > 30
    accepted = [name for name, _, status, _ in rows if status.get("status") == "Success"]
    assert accepted == []


@pytest.mark.parametrize("set_name", SUPPORTED_SETS)
def test_renders_are_accepted_by_kubectl_validate(set_name, workdir):
    rejected = [(name, _kv_messages(status)) for name, _, status, _ in outcomes(set_name, workdir)
                if name.split("#")[0] in TARGETS and status.get("status") != "Success"]
    assert rejected == []
