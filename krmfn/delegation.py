"""The delegation graph of agents: cycles and chains deeper than kagent allows.

Shared by expand (AgentDescriptions) and policy (rendered Agents). Linear in agents plus
delegations and free of recursion, whatever the graph's shape: a repository is untrusted input,
enumerating paths (the obvious walk) is exponential in a dense or layered graph, and a recursive
walk fails on a long chain.
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
