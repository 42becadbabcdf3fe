"""Mermaid flowcharts of a render: agents, their ModelConfigs, the tool servers with the tools each
agent is granted, and delegation edges, grouped by namespace. It renders in GitHub Markdown.

For the difference between two renders, the union is drawn: added nodes and edges in green, removed
ones red and dashed (node text struck through), changed ones amber; tool lists on edges mark added
tools `+` and removed ones `−`; destructive tools carry ⚠.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .model import ALL_TOOLS, AgentView, Grant, ModelView, Render

MAX_TOOLS_ON_EDGE = 8
STYLES = {
    "agent": "fill:#ddf4ff,stroke:#0969da,color:#0a3069",
    "model": "fill:#fbefff,stroke:#8250df,color:#3e1f79",
    "server": "fill:#f6f8fa,stroke:#57606a,color:#24292f",
    "added": "fill:#dafbe1,stroke:#1a7f37,stroke-width:2px,color:#044f1e",
    "removed": "fill:#ffebe9,stroke:#cf222e,stroke-dasharray:5 5,color:#82071e,text-decoration:line-through",
    "changed": "fill:#fff8c5,stroke:#9a6700,stroke-width:2px,color:#4d2d00",
}
LINK_STYLES = {
    "added": "stroke:#1a7f37,stroke-width:2px",
    "removed": "stroke:#cf222e,stroke-width:1px,stroke-dasharray:4 4",
    "changed": "stroke:#9a6700,stroke-width:2px",
    "destructive": "stroke:#cf222e,stroke-width:3px",
}


@dataclass
class Node:
    key: str
    kind: str  # agent, model, server
    namespace: str
    label: str  # already escaped, may hold <br/>
    status: str = "same"  # same, added, removed, changed


@dataclass
class Edge:
    source: str
    target: str
    kind: str  # model, tools, delegate
    label: str = ""
    status: str = "same"
    destructive: bool = False


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: dict[tuple[str, str, str], Edge] = field(default_factory=dict)


def graph(render: Render, direction: str = "LR") -> str:
    return to_mermaid(build(render), direction, diff=False)


def graph_diff(old: Render, new: Render, direction: str = "LR") -> str:
    return to_mermaid(build_diff(old, new), direction, diff=True)


# --- building ----------------------------------------------------------------------------------


def build(render: Render) -> Graph:
    g = Graph()
    for agent in render.agents.values():
        _add_agent(g, agent, render)
    return g


def build_diff(old: Render, new: Render) -> Graph:
    from .changes import agent_findings, model_findings

    before, after = build(old), build(new)
    g = Graph()
    for key in list(before.nodes) + [k for k in after.nodes if k not in before.nodes]:
        a, b = before.nodes.get(key), after.nodes.get(key)
        if a is None:
            g.nodes[key] = Node(b.key, b.kind, b.namespace, b.label, "added")
        elif b is None:
            g.nodes[key] = Node(a.key, a.kind, a.namespace, a.label, "removed")
        else:
            g.nodes[key] = Node(b.key, b.kind, b.namespace, b.label, "same")
    for key, node in g.nodes.items():
        if node.status != "same":
            continue
        if node.kind == "agent":
            agent_key = key.split(":", 1)[1]
            if agent_key in old.agents and agent_key in new.agents and \
                    any(True for _ in agent_findings(old.agents[agent_key], new.agents[agent_key])):
                node.status = "changed"
        elif node.kind == "model":
            a, b = _model_of(old, key), _model_of(new, key)
            if a is not None and b is not None and any(True for _ in model_findings("", a, b)):
                node.status = "changed"
                if (a.provider, a.model) != (b.provider, b.model):
                    node.label = _text(b.config or "") + "<br/>" + _text(_model_text(a)) + " → " + _text(_model_text(b))
    for key in list(before.edges) + [k for k in after.edges if k not in before.edges]:
        a, b = before.edges.get(key), after.edges.get(key)
        if a is None:
            g.edges[key] = Edge(b.source, b.target, b.kind, b.label, "added", b.destructive)
        elif b is None:
            g.edges[key] = Edge(a.source, a.target, a.kind, a.label, "removed")
        elif a.kind == "tools":
            g.edges[key] = _tools_edge_diff(old, new, a, b)
        else:
            g.edges[key] = Edge(b.source, b.target, b.kind, b.label, "same")
    return g


def _add_agent(g: Graph, agent: AgentView, render: Render) -> None:
    key = f"agent:{agent.key}"
    label = _text(agent.name) + ("<br/>BYO" if agent.type == "BYO" else "")
    g.nodes[key] = Node(key, "agent", agent.namespace, label)
    if agent.model.config:
        model_key = f"model:{agent.namespace}/{agent.model.config}"
        g.nodes.setdefault(model_key, Node(model_key, "model", agent.namespace, _model_label(agent.model)))
        g.edges[(key, model_key, "model")] = Edge(key, model_key, "model")
    for server, grants in sorted(agent.tools.items()):
        server_key = f"server:{server}"
        namespace, _, name = server.partition("/")
        g.nodes.setdefault(server_key, Node(server_key, "server", namespace, _text(name)))
        g.edges[(key, server_key, "tools")] = Edge(
            key, server_key, "tools", _tool_label([(grant, "") for _, grant in sorted(grants.items())]),
            destructive=any(grant.risk == "destructive" for grant in grants.values()))
    for delegate in agent.delegates:
        delegate_key = f"agent:{delegate}"
        if delegate not in render.agents:
            namespace, _, name = delegate.partition("/")
            g.nodes.setdefault(delegate_key, Node(delegate_key, "agent", namespace,
                                                  _text(name) + "<br/>(not in the render)"))
        g.edges[(key, delegate_key, "delegate")] = Edge(key, delegate_key, "delegate")


def _tools_edge_diff(old: Render, new: Render, a: Edge, b: Edge) -> Edge:
    agent_key, server = a.source.split(":", 1)[1], a.target.split(":", 1)[1]
    before = old.agents[agent_key].tools.get(server, {})
    after = new.agents[agent_key].tools.get(server, {})
    items: list[tuple[Grant, str]] = []
    for tool in sorted(set(before) | set(after)):
        if tool not in before:
            items.append((after[tool], "+ "))
        elif tool not in after:
            items.append((before[tool], "− "))
        else:
            items.append((after[tool], ""))
    changed = any(mark for _, mark in items) or any(
        before[t].approval != after[t].approval or before[t].risk != after[t].risk for t in set(before) & set(after))
    destructive = any(mark == "+ " and grant.risk == "destructive" for grant, mark in items)
    return Edge(b.source, b.target, "tools", _tool_label(items), "changed" if changed else "same", destructive)


def _model_of(render: Render, key: str) -> ModelView | None:
    namespace, _, config = key.split(":", 1)[1].partition("/")
    for agent in render.agents.values():
        if agent.namespace == namespace and agent.model.config == config:
            return agent.model
    return None


def _model_text(model: ModelView) -> str:
    if model.resolved:
        return f"{model.provider} {model.model}"
    return f"tier {model.tier}" if model.tier else "not in the render"


def _model_label(model: ModelView) -> str:
    return _text(model.config or "") + "<br/>" + _text(_model_text(model))


def _tool_label(items: list[tuple[Grant, str]]) -> str:
    lines = []
    for grant, mark in items[:MAX_TOOLS_ON_EDGE]:
        name = "every tool" if grant.tool == ALL_TOOLS else grant.tool
        line = mark + ("⚠ " if grant.risk == "destructive" else "") + name
        if grant.approval:
            line += " (approval)"
        lines.append(_text(line))
    if len(items) > MAX_TOOLS_ON_EDGE:
        lines.append(f"… {len(items) - MAX_TOOLS_ON_EDGE} more")
    return "<br/>".join(lines)


# --- writing -----------------------------------------------------------------------------------


def to_mermaid(g: Graph, direction: str = "LR", *, diff: bool) -> str:
    ids = _Ids()
    out = [f"flowchart {direction}"]
    if diff:
        out.append("  %% krmfn graph --diff: green added, red dashed removed, amber changed")
    namespaces = sorted({node.namespace for node in g.nodes.values()})
    for namespace in namespaces:
        out.append(f'  subgraph {ids.get("ns:" + namespace, "ns_")}["{_text(namespace or "(cluster)")}"]')
        for node in sorted((n for n in g.nodes.values() if n.namespace == namespace), key=_node_order):
            out.append(f"    {ids.get(node.key)}{_shape(node)}")
        out.append("  end")
    link_styles: dict[str, list[int]] = {}
    for index, edge in enumerate(sorted(g.edges.values(), key=lambda e: (e.source, e.kind, e.target))):
        arrow = {"model": "-.->", "tools": "-->", "delegate": "==>"}[edge.kind]
        if edge.status == "removed":
            arrow = "-.->"
        label = edge.label if edge.kind == "tools" else ("delegates" if edge.kind == "delegate" else "")
        text = f'|"{label}"|' if label else ""
        out.append(f"  {ids.get(edge.source)} {arrow}{text} {ids.get(edge.target)}")
        style = edge.status if edge.status != "same" else None
        if edge.destructive and edge.status != "removed":
            style = "destructive"
        if style:
            link_styles.setdefault(style, []).append(index)
    kinds = ("agent", "model", "server")
    for name in (*kinds, *(("added", "removed", "changed") if diff else ())):
        out.append(f"  classDef {name} {STYLES[name]}")
    for name in kinds:
        members = [ids.get(n.key) for n in g.nodes.values() if n.kind == name and n.status == "same"]
        if members:
            out.append(f"  class {','.join(sorted(members))} {name}")
    for status in ("added", "removed", "changed"):
        members = [ids.get(n.key) for n in g.nodes.values() if n.status == status]
        if members:
            out.append(f"  class {','.join(sorted(members))} {status}")
    for style in ("added", "removed", "changed", "destructive"):
        if style in link_styles:
            out.append(f"  linkStyle {','.join(map(str, link_styles[style]))} {LINK_STYLES[style]}")
    return "\n".join(out) + "\n"


def _shape(node: Node) -> str:
    label = node.label
    if node.kind == "agent":
        return f'(["{label}"])'
    if node.kind == "model":
        return f'[("{label}")]'
    return '{{"' + label + '"}}'


def _node_order(node: Node) -> tuple[int, str]:
    return ({"agent": 0, "model": 1, "server": 2}[node.kind], node.key)


def _text(text: str) -> str:
    """Text safe inside a quoted Mermaid label (entity codes for the characters it parses)."""
    return (text.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
            .replace("|", "#124;").replace("\n", " "))


class _Ids:
    """Readable, unique Mermaid ids: a kind prefix and the name with other characters as `_`."""

    PREFIXES = {"agent": "a_", "model": "m_", "server": "s_", "ns": "ns_"}

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}
        self.taken: set[str] = set()

    def get(self, key: str, prefix: str | None = None) -> str:
        if key in self.ids:
            return self.ids[key]
        kind, _, name = key.partition(":")
        base = (prefix or self.PREFIXES.get(kind, "n_")) + (re.sub(r"[^A-Za-z0-9]", "_", name) or "x")
        candidate, n = base, 2
        while candidate in self.taken:
            candidate, n = f"{base}_{n}", n + 1
        self.ids[key] = candidate
        self.taken.add(candidate)
        return candidate
