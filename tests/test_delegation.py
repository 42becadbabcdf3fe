"""expand's delegation graph: cycles and too-deep chains, checked against brute force, and linear
on graphs whose paths cannot be enumerated."""

from __future__ import annotations

import itertools

from hypothesis import given, settings, strategies as st

import support
from krmfn.delegation import cycles, strongly_connected, too_deep
from krmfn.runtime import yamlio

NODES = [f"ns/a{i}" for i in range(7)]


@st.composite
def graphs(draw, acyclic: bool = False):
    graph = {}
    for i, node in enumerate(NODES):
        candidates = NODES[i + 1:] if acyclic else NODES
        graph[node] = draw(st.lists(st.sampled_from(candidates), unique=True, max_size=4)) if candidates else []
    return graph


def reachable(graph, start):
    seen, todo = set(), [start]
    while todo:
        for succ in graph[todo.pop()]:
            if succ not in seen:
                seen.add(succ)
                todo.append(succ)
    return seen


def longest_simple_path(graph, start):
    best = 0
    todo = [(start, {start}, 0)]
    while todo:
        node, on_path, hops = todo.pop()
        best = max(best, hops)
        todo.extend((s, on_path | {s}, hops + 1) for s in graph[node] if s not in on_path)
    return best


@settings(max_examples=300, derandomize=True, deadline=None)
@given(graphs())
def test_components_and_cycles_match_brute_force(graph):
    reach = {node: reachable(graph, node) for node in graph}
    expected = {frozenset({a} | {b for b in graph if b in reach[a] and a in reach[b]}) for a in graph}
    assert {frozenset(c) for c in strongly_connected(graph)} == expected
    cyclic = {c for c in expected if len(c) > 1}
    found = cycles(graph)
    assert len(found) == len(cyclic)  # one per cyclic component
    for cycle in found:
        component = next(c for c in cyclic if cycle[0] in c)
        assert set(cycle) <= component
        assert cycle[0] == cycle[-1] == min(component)
        assert len(set(cycle[:-1])) == len(cycle) - 1  # elementary
        assert all(b in graph[a] for a, b in itertools.pairwise(cycle))  # every hop is a delegation


@settings(max_examples=300, derandomize=True, deadline=None)
@given(graphs(acyclic=True), st.integers(min_value=0, max_value=4))
def test_too_deep_matches_brute_force_on_acyclic_graphs(graph, limit):
    expected = {node: longest_simple_path(graph, node) for node in graph}
    deep = too_deep(graph, limit)
    assert [agent for agent, _, _ in deep] == sorted(n for n, hops in expected.items() if hops > limit)
    for agent, hops, chain in deep:
        assert hops == expected[agent] == len(chain) - 1 and chain[0] == agent
        assert all(b in graph[a] for a, b in itertools.pairwise(chain))


def _description(name: str, delegates: list[str]) -> dict:
    return {"apiVersion": "krmfn.dev/v1alpha1", "kind": "AgentDescription",
            "metadata": {"name": name, "namespace": "layers"},
            "spec": {"description": name, "prompt": {"text": name}, "delegates": delegates}}


def test_a_layered_graph_is_checked_without_enumerating_its_paths():
    # 12 layers of 6 agents, each delegating to every agent of the next layer: 6**11 (3.6e8)
    # chains from each first-layer agent, which a path-enumerating check would walk one by one.
    width, depth = 6, 12
    names = [[f"l{layer:02d}-{i}" for i in range(width)] for layer in range(depth)]
    items = [_description(name, names[layer + 1] if layer + 1 < depth else [])
             for layer in range(depth) for name in names[layer]]
    stdin = yamlio.dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items,
                         "functionConfig": {"apiVersion": "krmfn.dev/v1alpha1", "kind": "AgentExpansion",
                                            "metadata": {"name": "expand"}}}).encode()
    proc = support.module(stdin=stdin, timeout=120)
    lines = proc.stderr.decode().splitlines()
    assert proc.returncode == 1
    # only the first layer is 11 hops from the last one
    assert [line.split()[1] for line in lines] == [f"krmfn.dev/v1alpha1/AgentDescription/layers/{n}"
                                                   for n in names[0]]
    assert all("delegation chain of 11 hops, more than kagent's limit of 10: layers/l00-" in line for line in lines)
