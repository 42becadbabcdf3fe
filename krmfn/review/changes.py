"""Classify every change between two renders, per agent.

Each change is one `Finding` of one class (see CLASSES and docs/review.md); a commit that changes
a prompt, a model and a tool gives three findings, never one "Agent changed". Objects that are not
Agents are summarised as added, removed or changed, with the fields that changed.

Summaries are one line, with identifiers in `code spans` (Markdown as is; the terminal renderer
strips or colours them).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable

from ..constants import (ANNOTATION_CATALOG_SERVER, ANNOTATION_SERVER_VERSION, ANNOTATION_TOOL_RISKS,
                         MCPSERVER_KIND, REMOTEMCPSERVER_KIND)
from ..risk import claimed_risks
from ..runtime.kobject import KObject
from .model import ALL_TOOLS, AgentView, Grant, ModelView, Render

CLASSES = (
    "agent-added", "agent-removed", "target-changed",
    "prompt-changed", "model-changed", "effort-changed",
    "tool-granted", "tool-revoked", "approval-added", "approval-removed", "skill-version-changed",
    "delegate-added", "delegate-removed", "skills-changed", "reach-changed",
    "config-changed", "operational",
)
CLASS_ORDER = {name: index for index, name in enumerate(CLASSES)}
MAX_LISTED = 4  # paths named in a one-line summary before "and N more"


@dataclass
class Finding:
    cls: str
    agent: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    diff: str | None = None  # unified diff of prompt text (prompt-changed, agent-added/removed)
    destructive: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"class": self.cls, "summary": self.summary, "destructive": self.destructive}
        out.update(self.details)
        if self.diff is not None:
            out["diff"] = self.diff
        return out


@dataclass
class AgentChange:
    agent: str
    status: str  # added, removed, changed
    findings: list[Finding]


@dataclass
class ObjectChange:
    change: str  # added, removed, changed
    api_version: str
    kind: str
    namespace: str
    name: str
    fields: list[str] = field(default_factory=list)

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    def to_json(self) -> dict[str, Any]:
        out = {"change": self.change, "apiVersion": self.api_version, "kind": self.kind,
               "namespace": self.namespace or None, "name": self.name}
        if self.change == "changed":
            out["fields"] = self.fields
        return out


@dataclass
class EnvironmentReport:
    name: str
    old_label: str
    new_label: str
    agents: list[AgentChange]
    objects: list[ObjectChange]
    unchanged_agents: int
    notes: list[str] = field(default_factory=list)
    # the revisions that failed to render, [{"at": label, "lines": [...]}]: this environment is then
    # not reviewed (the others are), and the command fails
    failed: list[dict[str, Any]] | None = None
    # objects that only moved between the kagent 0.x and 1.0 API groups: one note, still gated
    moved: list[ObjectChange] = field(default_factory=list)

    def findings(self) -> list[Finding]:
        return [f for change in self.agents for f in change.findings]

    def counts(self) -> dict[str, int]:
        counts = Counter(f.cls for f in self.findings())
        return {cls: counts[cls] for cls in CLASSES if counts[cls]}

    def destructive(self) -> list[Finding]:
        return [f for f in self.findings() if f.destructive]

    def to_json(self) -> dict[str, Any]:
        statuses = Counter(change.status for change in self.agents)
        objects = Counter(change.change for change in self.objects)
        return {
            "name": self.name,
            "old": self.old_label,
            "new": self.new_label,
            "notes": self.notes,
            **({"renderFailed": self.failed} if self.failed else {}),
            "summary": {
                "agents": {"added": statuses["added"], "removed": statuses["removed"],
                           "changed": statuses["changed"], "unchanged": self.unchanged_agents},
                "findings": self.counts(),
                "destructive": len(self.destructive()),
                "objects": {"added": objects["added"], "removed": objects["removed"], "changed": objects["changed"]},
            },
            "agents": [{"agent": c.agent, "status": c.status, "findings": [f.to_json() for f in c.findings]}
                       for c in self.agents],
            "objects": [o.to_json() for o in self.objects],
        }


# --- comparing ---------------------------------------------------------------------------------


def compare(old: Render, new: Render, name: str, old_label: str, new_label: str) -> EnvironmentReport:
    changes: list[AgentChange] = []
    unchanged = 0
    old_versions, new_versions = server_versions(old), server_versions(new)
    for key in sorted(set(old.agents) | set(new.agents)):
        before, after = old.agents.get(key), new.agents.get(key)
        if before is None:
            changes.append(AgentChange(key, "added", [agent_added(after)]))
        elif after is None:
            changes.append(AgentChange(key, "removed", [agent_removed(before)]))
        else:
            findings = sorted(agent_findings(before, after, old_versions, new_versions),
                              key=lambda f: CLASS_ORDER[f.cls])
            if findings:
                changes.append(AgentChange(key, "changed", findings))
            else:
                unchanged += 1
    moved: list[ObjectChange] = []
    report = EnvironmentReport(name, old_label, new_label, changes, object_changes(old, new, moved), unchanged,
                               moved=moved)
    report.notes.extend(moved_notes(moved))
    return report


def agent_findings(old: AgentView, new: AgentView, old_versions: dict | None = None,
                   new_versions: dict | None = None) -> Iterable[Finding]:
    key = new.key
    old, new, versions = by_catalog_server(old, new, old_versions or {}, new_versions or {})
    yield from prompt_findings(key, old, new)
    yield from model_findings(key, old.model, new.model, old.memory, new.memory)
    yield from tool_findings(key, old, new)
    yield from skill_version_findings(key, old, new, versions)
    for delegate in sorted(set(new.delegates) - set(old.delegates)):
        yield Finding("delegate-added", key, f"may now delegate to {code(delegate)}", {"delegate": delegate})
    for delegate in sorted(set(old.delegates) - set(new.delegates)):
        yield Finding("delegate-removed", key, f"no longer delegates to {code(delegate)}", {"delegate": delegate})
    yield from skills_findings(key, old.skills, new.skills)
    yield from reach_findings(key, old, new, _family(old_versions or {}), _family(new_versions or {}))
    config = changed_values(old.config, new.config)
    if old.api_version != new.api_version:
        yield target_finding(key, old, new, config)
    for server in sorted(set(old.tool_settings) & set(new.tool_settings)):
        for path, change in changed_values(old.tool_settings[server], new.tool_settings[server]).items():
            config[f"tools {server} {path}"] = change
    for server in sorted(set(old.tools) & set(new.tools) - set(versions)):  # a version's: in its finding
        for tool in sorted(set(old.tools[server]) & set(new.tools[server])):
            before, after = old.tools[server][tool].risk, new.tools[server][tool].risk
            if before != after:
                config[f"risk class of {server} {tool}"] = {"old": before, "new": after}
    if config:
        yield Finding("config-changed", key, value_changes(config), {"changes": config})
    operational = changed_values(old.deployment, new.deployment)
    if operational:
        yield Finding("operational", key, "deployment: " + value_changes(operational), {"changes": operational})


def target_finding(key: str, old: AgentView, new: AgentView, config: dict[str, dict[str, Any]]) -> Finding:
    """The move between kagent API versions (0.10 <-> 1.0) itself, and what it changes only in shape.

    Each version spells an agent differently, so a setting only one side has (0.10's `runtime`,
    1.0's inline harness) moves from `config` into this finding's `notCarried`/`newSettings`: still
    reported, not as a settings change. What both can say is compared as usual.
    """
    from ..constants import TARGET_OF_API_VERSION

    old_target = TARGET_OF_API_VERSION.get(old.api_version, old.api_version)
    new_target = TARGET_OF_API_VERSION.get(new.api_version, new.api_version)
    lost = {k: c["old"] for k, c in config.items() if k not in new.config}
    from ..reader.v1alpha3 import HARNESS_REF_PATH

    gained = {k: c["new"] for k, c in config.items() if k not in old.config and k != HARNESS_REF_PATH}
    config.pop(HARNESS_REF_PATH, None)  # the summary names it
    for path in list(lost) + list(gained):
        del config[path]
    split = sorted(s for s in set(old.tools) & set(new.tools) if old.bindings.get(s, 0) != new.bindings.get(s, 0))
    pieces = [f"moves from {code(old_target)} to {code(new_target)}"
              + (f" (Harness {code(new.harness)})" if new.harness else "")]
    if split:
        pieces.append("tool bindings of " + ", ".join(
            f"{code(s)} {old.bindings[s]} → {new.bindings[s]}" for s in split[:MAX_LISTED]) + _more(len(split))
            + " (approval is one flag per binding in kagent 1.0)")
    if lost:
        pieces.append(f"not carried to {new_target}: " + _values(lost))
    if gained:
        pieces.append(f"new in {new_target}: " + _values(gained))
    return Finding("target-changed", key, "; ".join(pieces), {
        "old": {"target": old_target, "apiVersion": old.api_version, "harness": old.harness or None},
        "new": {"target": new_target, "apiVersion": new.api_version, "harness": new.harness or None},
        "bindings": {s: {"old": old.bindings[s], "new": new.bindings[s]} for s in split},
        "notCarried": lost, "newSettings": gained})


def _values(values: dict[str, Any]) -> str:
    items = list(values.items())
    return ", ".join(f"{code(path)} {code(show(v))}" for path, v in items[:MAX_LISTED]) + _more(len(items))


def prompt_findings(key: str, old: AgentView, new: AgentView) -> Iterable[Finding]:
    diffs, parts, added, removed = [], [], 0, 0
    for part in _ordered(old.prompt, new.prompt):
        before, after = old.prompt.get(part), new.prompt.get(part)
        if before == after or (part in old.prompt and before is None) or (part in new.prompt and after is None):
            continue  # unchanged, or unresolved on one side (the source change shows under config)
        text, plus, minus = text_diff(before or "", after or "", part,
                                      old_exists=part in old.prompt, new_exists=part in new.prompt)
        diffs.append(text)
        parts.append(part)
        added += plus
        removed += minus
    if parts:
        yield Finding("prompt-changed", key, f"{', '.join(parts)} changed (+{added} −{removed} lines)",
                      {"parts": parts, "linesAdded": added, "linesRemoved": removed}, diff="".join(diffs))


def model_findings(key: str, old: ModelView, new: ModelView,
                   old_memory: ModelView | None = None, new_memory: ModelView | None = None) -> Iterable[Finding]:
    aspects: dict[str, Any] = {}
    for aspect, before, after in (("tier", old.tier, new.tier), ("modelConfig", old.config, new.config),
                                  ("provider", old.provider, new.provider), ("model", old.model, new.model)):
        if before != after:
            aspects[aspect] = {"old": before, "new": after}
    parameters = changed_values(old.parameters, new.parameters) if old.resolved and new.resolved else {}
    if old.effort != new.effort:
        # The agent's effort is behaviour of its own: the ModelConfig it moved to and the settings
        # that came with it are reported here, and the model as changed only for what else changed.
        effort = effort_finding(key, old, new, aspects.pop("modelConfig", None), parameters)
        yield effort
        parameters = {} if "provider" not in aspects else parameters
    if parameters:
        aspects["parameters"] = parameters
    memory_changed = _memory_changed(old_memory, new_memory)
    if memory_changed:
        aspects["memory"] = {"old": old_memory.to_json() if old_memory else None,
                             "new": new_memory.to_json() if new_memory else None}
    if not aspects:
        return
    pieces = []
    if "provider" in aspects or "model" in aspects:
        same_config = "modelConfig" not in aspects and new.config
        pieces.append(f"{_model_name(old)} → {_model_name(new)}"
                      + (f" (ModelConfig {code(new.config)})" if same_config else ""))
    elif not new.resolved:
        pieces.append(f"{code(new.config or '(none)')} (ModelConfig not in the render)")
    if "tier" in aspects:
        same = (" (model unchanged: " + _model_name(new) + ")"
                if old.resolved and new.resolved and "provider" not in aspects and "model" not in aspects else "")
        pieces.append(f"tier {code(old.tier or '(none)')} → {code(new.tier or '(none)')}{same}")
    elif "modelConfig" in aspects:
        pieces.append(f"ModelConfig {code(old.config or '(none)')} → {code(new.config or '(none)')}")
    if parameters:
        shown = parameters
        if "provider" in aspects:  # the old provider's settings go with it; say so in one word
            shown = {k: v for k, v in parameters.items() if v["new"] is not None}
            dropped = len(parameters) - len(shown)
        if shown:
            pieces.append("parameters " + value_changes(shown))
        if shown is not parameters and dropped:
            pieces.append(f"{count(dropped, 'setting')} of {old.provider} dropped")
    if memory_changed:
        pieces.append(f"memory model {_memory_name(old_memory)} → {_memory_name(new_memory)}")
    summary = "; ".join(pieces)
    yield Finding("model-changed", key, summary,
                  {"changed": sorted(aspects, key=["tier", "modelConfig", "provider", "model", "parameters", "memory"].index),
                   **{k: v for k, v in aspects.items()}, "before": old.to_json(), "after": new.to_json()})


def effort_finding(key: str, old: ModelView, new: ModelView, config: dict | None, parameters: dict) -> Finding:
    pieces = [f"effort {code(old.effort or '(none)')} → {code(new.effort or '(none)')}"]
    if config is not None:
        pieces.append(f"ModelConfig {code(old.config or '(none)')} → {code(new.config or '(none)')}")
    if parameters:
        pieces.append("parameters " + value_changes(parameters))
    details: dict[str, Any] = {"effort": {"old": old.effort, "new": new.effort}}
    if config is not None:
        details["modelConfig"] = config
    if parameters:
        details["parameters"] = parameters
    return Finding("effort-changed", key, "; ".join(pieces), details)


def tool_findings(key: str, old: AgentView, new: AgentView) -> Iterable[Finding]:
    for server in sorted(set(old.tools) | set(new.tools)):
        before, after = old.tools.get(server, {}), new.tools.get(server, {})
        for tool in sorted(set(after) - set(before)):
            grant = after[tool]
            yield Finding("tool-granted", key, f"granted {describe_grant(grant)}", grant_json(grant),
                          destructive=grant.risk == "destructive")
        for tool in sorted(set(before) - set(after)):
            yield Finding("tool-revoked", key, f"revoked {describe_grant(before[tool])}", grant_json(before[tool]))
        for tool in sorted(set(before) & set(after)):
            if after[tool].approval and not before[tool].approval:
                yield Finding("approval-added", key, f"{describe_grant(after[tool], approval=False)} now requires approval",
                              grant_json(after[tool]))
            elif before[tool].approval and not after[tool].approval:
                yield Finding("approval-removed", key,
                              f"{describe_grant(after[tool], approval=False)} no longer requires approval",
                              grant_json(after[tool]), destructive=after[tool].risk == "destructive")


@dataclass(frozen=True)
class ServerVersion:
    """What a render says of one object krmfn emitted for a version of a catalog server."""

    server: str  # the catalog server, namespace/name
    version: str | None  # None: the server as it was before it listed versions
    tools: dict[str, str] | None  # every tool the version offers, with its class (None: not said)


def server_versions(render: Render) -> dict[str, ServerVersion]:
    """Server object (namespace/name) -> the catalog server and version it is, from the
    `krmfn.dev/server-version` annotation expand writes on it (a kagent 1.0 copy is read as its
    original by the review model, or not at all). Descriptive only: what a render says of
    its servers never lowers a tool's risk (the grants' own classes are compared as before)."""
    out: dict[str, ServerVersion] = {}
    for (kind, namespace, name), obj in render.objects.items():
        if kind not in (REMOTEMCPSERVER_KIND, MCPSERVER_KIND):
            continue
        annotations = KObject(obj).annotations
        if ANNOTATION_CATALOG_SERVER in annotations:
            # a 1.0 copy: the review model already reads its grants under the original when the
            # render shows the same server (server_stand_ins); otherwise it stays a server of its own
            continue
        written = annotations.get(ANNOTATION_SERVER_VERSION)
        if isinstance(written, str) and "@" in written:
            server, version = written.rsplit("@", 1)
            tools = (claimed_risks(annotations.get(ANNOTATION_TOOL_RISKS)) or {}).get(server)
            out[f"{namespace}/{name}"] = ServerVersion(server, version, tools)
    return out


def _family(versions: dict[str, ServerVersion]) -> Callable[[str], str]:
    """Server object -> the catalog server it is a version of (itself when it is no version)."""
    return lambda server: versions[server].server if server in versions else server


def by_catalog_server(old: AgentView, new: AgentView, old_versions: dict[str, ServerVersion],
                      new_versions: dict[str, ServerVersion]):
    """The two views with each version's grants under its catalog server, so a version change is
    one finding rather than every tool revoked on one object and granted on another; and, per
    catalog server whose version differs, (old, new) ServerVersion (None: no version)."""
    def regroup(view: AgentView, versions: dict[str, ServerVersion], other: set[str]):
        tools: dict[str, dict] = {}
        used: dict[str, ServerVersion] = {}
        bindings: dict[str, int] = {}
        for key in sorted(view.tools):
            info = versions.get(key)
            target = key
            if info is not None and (info.version is not None or info.server in other):
                target = info.server
                used[info.server] = info
            tools.setdefault(target, {}).update(view.tools[key])
            if key in view.bindings:  # counted under the same key as the grants (the migration compares them)
                bindings[target] = bindings.get(target, 0) + view.bindings[key]
        return replace(view, tools=tools, bindings=bindings), used

    def families(view: AgentView, versions: dict[str, ServerVersion]) -> set[str]:
        return {versions[k].server for k in view.tools if k in versions and versions[k].version is not None}

    old_families, new_families = families(old, old_versions), families(new, new_versions)
    if not (old_families or new_families):
        return old, new, {}
    old_grouped, old_used = regroup(old, old_versions, new_families)
    new_grouped, new_used = regroup(new, new_versions, old_families)
    old_tools, new_tools = old_grouped.tools, new_grouped.tools
    changed = {}
    for server in sorted(old_families | new_families):
        if server not in old_tools or server not in new_tools:
            continue  # the grant itself came or went: tool-granted / tool-revoked say so
        before = old_used.get(server) or ServerVersion(server, None, None)
        after = new_used.get(server) or ServerVersion(server, None, None)
        if before.version != after.version:
            changed[server] = (before, after)
    return old_grouped, new_grouped, changed


def skill_version_findings(key: str, old: AgentView, new: AgentView,
                           versions: dict[str, tuple[ServerVersion, ServerVersion]]) -> Iterable[Finding]:
    """A server (skill) version change: the tools the version adds or removes, and every class that
    changed, for the agent's grants (a rise to destructive is flagged) and the server's other tools."""
    for server, (before, after) in sorted(versions.items()):
        added = removed = []
        risks: list[dict[str, Any]] = []
        granted_old, granted_new = old.tools.get(server, {}), new.tools.get(server, {})
        if before.tools is not None and after.tools is not None:
            added = sorted(set(after.tools) - set(before.tools))
            removed = sorted(set(before.tools) - set(after.tools))
            risks += [{"tool": t, "old": before.tools[t], "new": after.tools[t], "granted": t in granted_new}
                      for t in sorted(set(before.tools) & set(after.tools))
                      if before.tools[t] != after.tools[t] and t not in granted_new]
        risks += [{"tool": t, "old": granted_old[t].risk, "new": granted_new[t].risk, "granted": True}
                  for t in sorted(set(granted_old) & set(granted_new)) if granted_old[t].risk != granted_new[t].risk]
        risks.sort(key=lambda r: r["tool"])
        rose_to_destructive = [r for r in risks if r["granted"] and r["new"] == "destructive"
                               and r["old"] != "destructive"]
        pieces = [f"{code(server)} {before.version or '(no version)'} → {after.version or '(no version)'}"]
        tools_of = after.tools or {}
        if added:
            pieces.append("adds " + ", ".join(f"{code(t)} ({tools_of.get(t, 'unknown')})" for t in added[:MAX_LISTED])
                          + _more(len(added)))
        if removed:
            pieces.append("removes " + ", ".join(code(t) for t in removed[:MAX_LISTED]) + _more(len(removed)))
        for r in risks[:MAX_LISTED]:
            pieces.append(f"{code(r['tool'])} {r['old']} → {r['new']}" + (" (granted)" if r["granted"] else ""))
        if len(risks) > MAX_LISTED:
            pieces.append(f"{len(risks) - MAX_LISTED} more classes changed")
        yield Finding("skill-version-changed", key, "; ".join(pieces),
                      {"server": server, "oldVersion": before.version, "newVersion": after.version,
                       "toolsAdded": [{"tool": t, "risk": tools_of.get(t)} for t in added],
                       "toolsRemoved": removed, "riskChanges": risks},
                      destructive=bool(rose_to_destructive))


def skills_findings(key: str, old: dict[str, Any], new: dict[str, Any]) -> Iterable[Finding]:
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    changed = sorted(k for k in set(old) & set(new) if old[k] != new[k])
    if not (added or removed or changed):
        return
    pieces = [f"{label} {', '.join(code(k) for k in keys)}"
              for label, keys in (("added", added), ("removed", removed), ("changed", changed)) if keys]
    yield Finding("skills-changed", key, "; ".join(pieces), {"added": added, "removed": removed, "changed": changed})


def reach_findings(key: str, old: AgentView, new: AgentView, old_family: Callable[[str], str] = str,
                   new_family: Callable[[str], str] = str) -> Iterable[Finding]:
    """What the agent can get done through delegates, beyond its own grants' changes. A tool is
    the same tool in another version of its server (`*_family`: server object -> catalog server):
    that change is the delegate's skill-version-changed finding."""
    before = {(old_family(s), t) for s, t in old.reach}
    after = {(new_family(s), t) for s, t in new.reach}
    gained = [(k, r) for k, r in sorted(new.reach.items()) if r.via and (new_family(k[0]), k[1]) not in before]
    lost = [(k, r) for k, r in sorted(old.reach.items()) if r.via and (old_family(k[0]), k[1]) not in after]
    if not (gained or lost):
        return
    pieces = []
    if gained:
        pieces.append("now reaches " + ", ".join(_reach_text(k, r) for k, r in gained[:MAX_LISTED])
                      + _more(len(gained)))
    if lost:
        pieces.append("no longer reaches " + ", ".join(_reach_text(k, r) for k, r in lost[:MAX_LISTED])
                      + _more(len(lost)))

    def entries(items):
        return [{"server": s, "tool": t, "risk": r.risk, "via": list(r.via)} for (s, t), r in items]

    yield Finding("reach-changed", key, "; ".join(pieces), {"gained": entries(gained), "lost": entries(lost)},
                  destructive=any(r.risk == "destructive" for _, r in gained))


def agent_added(agent: AgentView) -> Finding:
    grants = agent.grants()
    destructive = agent.destructive_grants()
    pieces = [f"new {agent.type} agent"]
    if agent.model.config or agent.model.tier:
        said = [f"tier {code(agent.model.tier)}"] if agent.model.tier else []
        said += [f"effort {code(agent.model.effort)}"] if agent.model.effort else []
        pieces.append(f"model {_model_name(agent.model)}" + (f" ({', '.join(said)})" if said else ""))
    pieces.append(count(len(grants), "tool") + (f" ({len(destructive)} destructive: "
                                                 + ", ".join(describe_grant(g) for g in destructive) + ")"
                                                 if destructive else ""))
    if agent.delegates:
        pieces.append("delegates to " + ", ".join(code(d) for d in agent.delegates))
    prompt = "".join(text_diff("", text, part, old_exists=False)[0]
                     for part, text in agent.prompt.items() if text is not None) or None
    return Finding("agent-added", agent.key, "; ".join(pieces), {
        "type": agent.type, "model": agent.model.to_json(), "tools": [grant_json(g) for g in grants],
        "delegates": agent.delegates, "skills": sorted(agent.skills),
    }, diff=prompt, destructive=bool(destructive))


def agent_removed(agent: AgentView) -> Finding:
    grants = agent.grants()
    summary = f"{agent.type} agent removed (it had {count(len(grants), 'tool')}"
    summary += f", delegated to {', '.join(code(d) for d in agent.delegates)})" if agent.delegates else ")"
    return Finding("agent-removed", agent.key, summary, {
        "type": agent.type, "model": agent.model.to_json(), "tools": [grant_json(g) for g in grants],
        "delegates": agent.delegates,
    })


def object_changes(old: Render, new: Render, moved: list[ObjectChange] | None = None) -> list[ObjectChange]:
    """Non-Agent objects added, removed or changed; with `moved`, an object that only moved between
    the kagent 0.x and 1.0 API groups goes there instead (a migration's API shape, said once)."""
    out = []
    for key in sorted(set(old.objects) | set(new.objects)):
        before, after = old.objects.get(key), new.objects.get(key)
        obj = after if after is not None else before
        api_version = str(obj.get("apiVersion", ""))
        if before is None or after is None:
            out.append(ObjectChange("added" if before is None else "removed", api_version, *key))
            continue
        from .model import flatten

        fields = sorted(changed_values(flatten(before), flatten(after)))
        if fields == ["apiVersion"] and moved is not None and _moved_group(before, after):
            moved.append(ObjectChange("moved", api_version, *key))
        elif fields:
            out.append(ObjectChange("changed", api_version, *key, fields=fields))
    return out


def _moved_group(before: dict, after: dict) -> bool:
    """A kind both kagent 0.x and 1.0 have (ModelConfig, RemoteMCPServer), moved between their groups."""
    from ..constants import KAGENT_GROUPS

    groups = {KObject(obj).group for obj in (before, after)}
    return len(groups) == 2 and groups <= set(KAGENT_GROUPS)


def moved_notes(moved: list[ObjectChange]) -> list[str]:
    """One line per API version moved to."""
    out = []
    for api_version in sorted({o.api_version for o in moved}):
        these = [o for o in moved if o.api_version == api_version]
        names = ", ".join(f"{o.kind} {o.ref}" for o in these[:MAX_LISTED]) + _more(len(these))
        out.append(f"{count(len(these), 'object')} only moved to {api_version} (nothing else changed): {names}")
    return out


# --- gating ------------------------------------------------------------------------------------

GATES: dict[str, Callable[[Finding], bool]] = {
    "destructive-grant": lambda f: f.destructive,
    "tool-grant": lambda f: f.cls == "tool-granted" or (f.cls == "agent-added" and bool(f.details.get("tools"))),
    "tool-revoke": lambda f: f.cls == "tool-revoked",
    "model-change": lambda f: f.cls == "model-changed",
    "effort-change": lambda f: f.cls == "effort-changed",
    "prompt-change": lambda f: f.cls == "prompt-changed",
    "approval-added": lambda f: f.cls == "approval-added",
    "approval-removed": lambda f: f.cls == "approval-removed",
    "delegate-change": lambda f: f.cls in ("delegate-added", "delegate-removed"),
    "skills-change": lambda f: f.cls == "skills-changed",
    "skill-version-change": lambda f: f.cls == "skill-version-changed",
    "reach-change": lambda f: f.cls == "reach-changed",
    # a setting only one kagent API version has is shown under target-changed, and still gates here
    "config-change": lambda f: f.cls == "config-changed" or (
        f.cls == "target-changed" and bool(f.details.get("notCarried") or f.details.get("newSettings"))),
    "operational": lambda f: f.cls == "operational",
    "target-change": lambda f: f.cls == "target-changed",
    "agent-added": lambda f: f.cls == "agent-added",
    "agent-removed": lambda f: f.cls == "agent-removed",
    "any": lambda f: True,
}
OBJECT_GATES = ("object-change", "any")
GATE_ALIASES = {cls: cls for cls in CLASSES if cls in GATES}
GATE_ALIASES.update({"tool-granted": "tool-grant", "tool-revoked": "tool-revoke", "model-changed": "model-change",
                     "effort-changed": "effort-change",
                     "prompt-changed": "prompt-change", "delegate-added": "delegate-change",
                     "delegate-removed": "delegate-change", "skills-changed": "skills-change",
                     "skill-version-changed": "skill-version-change",
                     "reach-changed": "reach-change", "config-changed": "config-change",
                     "target-changed": "target-change",
                     "destructive": "destructive-grant"})


def gate_names() -> list[str]:
    return sorted(set(GATES) | set(OBJECT_GATES))


def parse_gates(text: str) -> list[str]:
    """`a,b` -> canonical gate names; ValueError (one line) on an unknown one."""
    names = []
    for raw in (part.strip() for part in text.split(",")):
        if not raw:
            continue
        name = GATE_ALIASES.get(raw, raw)
        if name not in GATES and name not in OBJECT_GATES:
            raise ValueError(f"--fail-on: unknown class {raw!r}; choose from {', '.join(gate_names())}")
        if name not in names:
            names.append(name)
    return names


def gated(reports: list[EnvironmentReport], gates: list[str]) -> list[dict[str, str]]:
    """What tripped a gate: one entry per (environment, gate, agent or object)."""
    hits = []
    for report in reports:
        for gate in gates:
            if gate in GATES:
                hits.extend({"environment": report.name, "gate": gate, "agent": f.agent, "class": f.cls,
                             "summary": f.summary} for f in report.findings() if GATES[gate](f))
            if gate in OBJECT_GATES:
                hits.extend({"environment": report.name, "gate": gate, "object": f"{o.kind} {o.ref}",
                             "class": f"object-{o.change}"} for o in report.objects + report.moved)
    return hits


# --- text helpers ------------------------------------------------------------------------------


def text_diff(old: str, new: str, part: str, *, old_exists: bool = True, new_exists: bool = True) -> tuple[str, int, int]:
    """A unified diff of two texts (not of their YAML), with its added and removed line counts."""
    import difflib

    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(),
                                      f"old/{part}" if old_exists else "/dev/null",
                                      f"new/{part}" if new_exists else "/dev/null", lineterm="", n=3))
    if not lines:  # the texts differ only in line endings or a final newline
        lines = [f"--- old/{part}", f"+++ new/{part}", "(only line endings or the final newline changed)"]
    body = [line for line in lines[2:] if not line.startswith("@@")]
    plus = sum(1 for line in body if line.startswith("+"))
    minus = sum(1 for line in body if line.startswith("-"))
    return "".join(line + "\n" for line in lines), plus, minus


def code(text: Any) -> str:
    """`text` as a Markdown code span that survives backticks in it."""
    text = str(text)
    if "`" not in text:
        return f"`{text}`"
    return f"`` {text} ``"


def show(value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


def changed_values(old: dict[str, Any], new: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: {"old": old.get(k), "new": new.get(k)} for k in sorted(set(old) | set(new))
            if old.get(k) != new.get(k) or (k in old) != (k in new)}


def value_changes(changes: dict[str, dict[str, Any]]) -> str:
    items = list(changes.items())
    shown = [f"{code(path)} {code(show(c['old']))} → {code(show(c['new']))}" for path, c in items[:MAX_LISTED]]
    return ", ".join(shown) + _more(len(items))


def describe_grant(grant: Grant, *, approval: bool = True) -> str:
    tool = "every tool" if grant.tool == ALL_TOOLS else code(grant.tool)
    return f"{tool} on {code(grant.server)} ({grant.risk}{', requires approval' if approval and grant.approval else ''})"


def grant_json(grant: Grant) -> dict[str, Any]:
    return {"server": grant.server, "tool": grant.tool, "risk": grant.risk, "requireApproval": grant.approval}


def _model_name(model: ModelView) -> str:
    if model.resolved:
        return f"{model.provider} {code(model.model)}"
    return f"{code(model.config or '(none)')}"


def _memory_changed(old: ModelView | None, new: ModelView | None) -> bool:
    if old is None or new is None:
        return (old is None) != (new is None)
    return (old.config, old.provider, old.model, old.parameters) != (new.config, new.provider, new.model, new.parameters)


def _memory_name(model: ModelView | None) -> str:
    return "(none)" if model is None else _model_name(model)


def _reach_text(key: tuple[str, str], reach) -> str:
    server, tool = key
    name = "every tool" if tool == ALL_TOOLS else code(tool)
    return f"{name} on {code(server)} ({reach.risk}) via {' → '.join(code(v) for v in reach.via)}"


def _ordered(a: dict, b: dict) -> list:
    return list(a) + [k for k in b if k not in a]


def _more(total: int) -> str:
    return f" and {total - MAX_LISTED} more" if total > MAX_LISTED else ""


def count(n: int, noun: str) -> str:
    """`1 agent`, `2 agents`: the review's, the render's and drift's one way to count."""
    return f"{n} {noun}" + ("" if n == 1 else "s")
