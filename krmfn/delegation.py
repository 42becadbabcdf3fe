"""The delegation graph of agents: cycles, chains deeper than kagent allows, and reach.

The one graph module: expand (AgentDescriptions), policy and the reference checks (rendered
Agents) and the review use it. Every walk is linear in agents plus delegations and free of
recursion, whatever the graph's shape: a repository is untrusted input, enumerating paths (the
obvious walk) is exponential in a dense or layered graph, and a recursive walk fails on a long chain.

Reach is asked as "which agent of this set is nearest": `nearest` answers it for every agent
at once with one breadth-first search backwards from the set, so callers never materialise the
(quadratic) set of everything every agent reaches.
"""

from __future__ import annotations

from collections import deque

Graph = dict[str, list[str]]  # agent -> the agents it delegates to (only agents in the graph)


def strongly_connected(graph: Graph) -> list[list[str]]:
    """Tarjan's components, iteratively (a long chain must not hit Python's recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = counter
                    counter += 1
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(graph[succ])))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def cycles(graph: Graph) -> list[list[str]]:
    """One cycle per cyclic component: the shortest through its first agent, closed (a, b, a).

    Self-delegation is left to the caller (it is reported on its own field).
    """
    found = []
    for component in strongly_connected(graph):
        if len(component) < 2:
            continue
        members, start = set(component), component[0]
        previous: dict[str, str] = {}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if start in graph[node] and node != start:
                chain = [node]
                while chain[-1] != start:
                    chain.append(previous[chain[-1]])
                found.append(list(reversed(chain)) + [start])
                break
            for succ in graph[node]:
                if succ in members and succ not in previous and succ != start:
                    previous[succ] = node
                    queue.append(succ)
    return sorted(found)


def too_deep(graph: Graph, limit: int) -> list[tuple[str, int, list[str]]]:
    """(agent, hops, chain) for every agent whose longest delegation chain has more than `limit` hops.

    Delegations inside a cycle are left out (the cycle is an error of its own), so what remains
    is acyclic and each agent's longest chain is found once.
    """
    component_of = {}
    for number, component in enumerate(strongly_connected(graph)):
        for member in component:
            component_of[member] = number
    height: dict[str, int] = {}
    below: dict[str, str | None] = {}
    for root in sorted(graph):
        work = [root]
        while work:
            node = work[-1]
            if node in height:
                work.pop()
                continue
            pending = [s for s in graph[node] if component_of[s] != component_of[node] and s not in height]
            if pending:
                work.extend(pending)
                continue
            work.pop()
            best, best_next = 0, None
            for succ in graph[node]:
                if component_of[succ] != component_of[node] and height[succ] + 1 > best:
                    best, best_next = height[succ] + 1, succ
            height[node], below[node] = best, best_next
    deep = []
    for agent in sorted(graph):
        if height[agent] > limit:
            chain, node = [agent], below[agent]
            while node is not None:
                chain.append(node)
                node = below[node]
            deep.append((agent, height[agent], chain))
    return deep


def nearest(graph: Graph, targets: "set[str] | list[str]") -> dict[str, tuple[int, str | None, str]]:
    """For every agent that reaches one of `targets` (in zero or more hops): (hops, next agent, target).

    The next agent lies on a shortest chain to the nearest target (None at a target itself); ties
    go to the smallest name, so the answer does not depend on input order. Agents that reach no
    target are absent. Delegations to agents outside `graph` are ignored.
    """
    reverse: dict[str, list[str]] = {node: [] for node in graph}
    for node in sorted(graph):
        for succ in graph[node]:
            if succ in reverse:
                reverse[succ].append(node)
    found: dict[str, tuple[int, str | None, str]] = {}
    queue: deque[str] = deque()
    for target in sorted(t for t in set(targets) if t in graph):
        found[target] = (0, None, target)
        queue.append(target)
    while queue:
        node = queue.popleft()
        hops, _, target = found[node]
        for caller in reverse[node]:
            if caller not in found:
                found[caller] = (hops + 1, node, target)
                queue.append(caller)
    return found


# A chain longer than this is shown as its start, a count, and its end: a display limit, not
# kagent's MAX_DELEGATION_DEPTH (the same number by coincidence).
SHOWN_HOPS = 10


def route(graph: Graph, found: dict[str, tuple[int, str | None, str]], agent: str,
          first: str | None = None) -> tuple[list[str], int] | None:
    """The shortest chain from `agent` to its nearest target through at least one delegation
    (through `first` only, when given), as ([delegate, ..., target], hops).

    A chain of more than SHOWN_HOPS agents comes back shortened to its first SHOWN_HOPS - 1 agents,
    "... (N more agents)" and its target: showing every chain of a long one in full is quadratic.
    """
    candidates = [first] if first is not None else sorted(set(graph.get(agent, ())))
    best = None
    for succ in candidates:
        if succ in found and (best is None or found[succ][0] < found[best][0]):
            best = succ
    if best is None:
        return None
    hops, _, target = found[best]
    chain = [best]
    while found[chain[-1]][1] is not None and len(chain) < SHOWN_HOPS:
        chain.append(found[chain[-1]][1])
    if chain[-1] != target:
        chain[-1:] = [f"... ({hops + 1 - len(chain)} more agents)", target]
    return chain, hops + 1
