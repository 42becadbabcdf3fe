"""Drift: what the cluster runs against the render of an overlay, in the review's change classes.

The render ("Git") is the old side and the cluster the new side of one `changes.compare`, so every
difference gets the class `krmfn diff` would give it, worded from the cluster's side ("prompt
changed in the cluster, not in Git"). What the API server adds is not drift:

* server bookkeeping (status, managedFields, uid, resourceVersion, generation, creationTimestamp,
  ..., the kubectl last-applied annotation) is dropped from every live object;
* of a live object that the render also holds, only the fields the render writes are compared
  (CRD defaults, labels and annotations others add), plus the fields that carry behaviour (the
  reader's `behaviour_fields`, at the API versions of both sides): a prompt source, a tool list
  or an approval list added in the cluster is drift even though the render leaves it out. Lists
  are compared element by element when they have the render's length, else whole (an added or
  removed tool is drift);
* a live object the render does not hold is reported ("not in Git") only when it carries krmfn's
  `app.kubernetes.io/managed-by: krmfn` label; anything else in the cluster is someone else's.

The cluster never classifies a tool: a live Agent's `krmfn.dev/tool-risks` annotation is replaced
by the render's (the built-in catalog stays the floor), and a tool granted in the cluster that Git
cannot classify is `unknown` and gated as destructive.

Nothing secret is shown: a live Secret's values are never read (each becomes `<redacted>`), and a
credential-looking value in any live object is redacted before it is compared or printed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from ..constants import (AGENT_KIND, AGENTTEMPLATE_KIND, ANNOTATION_ENVIRONMENT, ANNOTATION_TOOL_RISKS,
                         LAST_APPLIED_ANNOTATION, LABEL_MANAGED_BY, MANAGED_BY)
from ..reader.behaviour import EVERY, behaviour_fields
from ..runtime.kobject import KObject, as_dict
from . import changes
from .model import Render

GIT, CLUSTER = "Git", "cluster"
SERVER_METADATA = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink",
                   "deletionTimestamp", "deletionGracePeriodSeconds")
STATUS = {"added": "not in Git", "removed": "not applied", "changed": "drifted"}


class LiveError(ValueError):
    """Live input that cannot be compared; the message is one line naming the file and the field."""


def identity(obj: dict) -> tuple[str, str, str, str]:
    """(group, kind, namespace, name): the API version is left out, the server may store another."""
    kobj = KObject(obj)
    return kobj.group, str(obj.get("kind", "")), kobj.namespace, kobj.name


def is_managed(obj: dict) -> bool:
    return as_dict(KObject(obj).metadata.get("labels")).get(LABEL_MANAGED_BY) == MANAGED_BY


def check_live(items: list[dict], source: str) -> None:
    """Every live object needs a name: one line naming the first that has none."""
    for index, obj in enumerate(items):
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            raise LiveError(f"{source}: object {index + 1} ({obj.get('kind')}): metadata: expected an object")
        if not isinstance(meta.get("name"), str) or not meta["name"]:
            raise LiveError(f"{source}: object {index + 1} ({obj.get('kind')}): metadata.name: required")
        for field in ("labels", "annotations"):
            if meta.get(field) is not None and not isinstance(meta[field], dict):
                raise LiveError(f"{source}: {obj.get('kind')} {meta['name']}: metadata.{field}: expected an object")


def without_server_fields(obj: dict) -> dict:
    """The live object less what the API server writes itself, with nothing secret left in it."""
    from ..runtime import secrets

    out = {k: v for k, v in obj.items() if k != "status"}
    meta = {k: v for k, v in as_dict(obj.get("metadata")).items() if k not in SERVER_METADATA}
    annotations = {k: v for k, v in as_dict(meta.get("annotations")).items() if k != LAST_APPLIED_ANNOTATION}
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    out["metadata"] = meta
    if obj.get("kind") == "Secret" and obj.get("apiVersion") == "v1":  # values are never read, nor shown
        for field in ("data", "stringData"):
            if isinstance(out.get(field), dict):
                out[field] = {k: secrets.REDACTED for k in out[field]}
    return _redact_credentials(out)


def _redact_credentials(obj: dict) -> dict:
    """Like `secrets.redacted`, but a credential inside a text (a prompt) loses only itself, so the
    rest of the text can still be compared and shown."""
    from ..runtime import secrets

    found = secrets.scan(obj)
    if not found:
        return obj
    import copy

    out = copy.deepcopy(obj)
    for loc, _, by_key in found:
        parent = out
        for part in loc[:-1]:
            parent = parent[part]
        value = parent[loc[-1]]
        # a credential-named field loses its whole value; a credential inside a text only itself
        parent[loc[-1]] = secrets.redact(value) if isinstance(value, str) and not by_key else secrets.REDACTED
        if parent[loc[-1]] == value:
            parent[loc[-1]] = secrets.REDACTED
    return out


def behaviour(live: dict, rendered: dict) -> frozenset[tuple[str, ...]]:
    """The behaviour fields of either side's API version: the server may return another version of
    the group than the render's, and a field that carries behaviour at either is compared."""
    kind = str(live.get("kind", ""))
    return (behaviour_fields(str(live.get("apiVersion", "")), kind)
            | behaviour_fields(str(rendered.get("apiVersion", "")), kind))


def compared(live: Any, rendered: Any, extra: frozenset[tuple[str, ...]], path: tuple[str, ...] = ()) -> Any:
    """`live` cut down to what the drift rule compares against `rendered` (see the module doc);
    `extra`: the behaviour fields, kept even where `rendered` leaves them out."""
    if isinstance(live, dict) and isinstance(rendered, dict):
        out = {}
        for key, value in live.items():
            here = path + (str(key),)
            if key in rendered:
                out[key] = compared(value, rendered[key], extra, here)
            elif here in extra:
                out[key] = value
        return out
    if isinstance(live, list) and isinstance(rendered, list) and len(live) == len(rendered):
        return [compared(a, b, extra, path + (EVERY,)) for a, b in zip(live, rendered)]
    return live


@dataclass
class DriftReport:
    overlay: str
    report: changes.EnvironmentReport  # old: the render (Git), new: the cluster
    live_objects: int
    rendered_objects: int

    @property
    def in_sync(self) -> bool:
        return not self.report.agents and not self.report.objects


def drift(overlay: str, rendered: Iterable[dict], live: Iterable[dict]) -> DriftReport:
    """Compare the render of `overlay` with the live objects (already read and checked)."""
    rendered = list(rendered)
    git_render = Render.from_objects(rendered)
    want = {identity(obj): obj for obj in rendered}

    def ours(obj: dict) -> bool:  # krmfn's, and not another overlay's (same cluster, other environment)
        environment = as_dict(KObject(obj).metadata.get("annotations")).get(ANNOTATION_ENVIRONMENT)
        return is_managed(obj) and environment in (None, git_render.environment)

    live_view = []
    for obj in live:
        obj = without_server_fields(obj)
        key = identity(obj)
        if key in want:
            obj = compared(obj, want[key], behaviour(obj, want[key]))
        if key[1] in (AGENT_KIND, AGENTTEMPLATE_KIND):
            obj = _risks_from_git(obj, want.get(key))
        if key not in want and not ours(obj) and key[1] not in ("ConfigMap", "Secret"):
            continue  # someone else's (a ConfigMap or Secret stays: an Agent's prompt may name it)
        live_view.append(obj)
    live_render = Render.from_objects(live_view)
    report = changes.compare(git_render, live_render, overlay, GIT, CLUSTER)
    managed_live = {identity(obj)[1:] for obj in live_view if ours(obj)}
    # a live object or Agent that is not krmfn's is not "not in Git": it was never meant to be
    report.objects = [o for o in report.objects if o.change != "added" or (o.kind, o.namespace, o.name) in managed_live]
    agents = {(KObject(o).namespace, KObject(o).name) for o in live_view
              if ours(o) and o.get("kind") in (AGENT_KIND, AGENTTEMPLATE_KIND)}
    report.agents = [c for c in report.agents if c.status != "added" or tuple(c.agent.split("/", 1)) in agents]
    for change in report.agents:
        for finding in change.findings:
            # what the cluster grants and Git cannot classify counts as the worst (fail closed)
            if finding.cls in UNKNOWN_FAILS_CLOSED and finding.details.get("risk") == "unknown":
                finding.destructive = True
            if finding.cls == "agent-added" and any(t.get("risk") == "unknown" for t in finding.details.get("tools", ())):
                finding.destructive = True
            finding.summary = worded(finding)
            if finding.diff is not None:  # the prompt diff's sides, by name
                finding.diff = "\n".join(_sides(line) for line in finding.diff.split("\n"))
    return DriftReport(overlay, report, len(live_view), len(rendered))


def _sides(line: str) -> str:
    if line.startswith("--- old/"):
        return "--- git/" + line[len("--- old/"):]
    if line.startswith("+++ new/"):
        return "+++ cluster/" + line[len("+++ new/"):]
    return line


UNKNOWN_FAILS_CLOSED = ("tool-granted", "approval-removed")


def _risks_from_git(obj: dict, rendered: dict | None) -> dict:
    """The live object with the render's tool-risks annotation (or none): the cluster's own copy is
    not trusted to classify a tool, so an edit there can never lower a risk (unknown stays unknown)."""
    meta = dict(as_dict(obj.get("metadata")))
    annotations = {k: v for k, v in as_dict(meta.get("annotations")).items() if k != ANNOTATION_TOOL_RISKS}
    claimed = as_dict(KObject(rendered).metadata.get("annotations")).get(ANNOTATION_TOOL_RISKS) if rendered else None
    if claimed is not None:
        annotations[ANNOTATION_TOOL_RISKS] = claimed
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    return {**obj, "metadata": meta}


def worded(finding: changes.Finding) -> str:
    """The review's summary from the cluster's side."""
    from .render import class_label

    if finding.cls == "agent-added":
        return "runs in the cluster, not in Git: " + finding.summary
    if finding.cls == "agent-removed":
        return "in Git, not applied to the cluster: " + finding.summary.replace(" removed", "", 1)
    return f"{class_label(finding)} in the cluster, not in Git: {finding.summary}"


# --- output ------------------------------------------------------------------------------------


def to_json(result: DriftReport, gate: dict[str, Any] | None = None) -> str:
    import json

    env = result.report.to_json()
    for entry in env["agents"]:
        entry["status"] = STATUS.get(entry["status"], entry["status"])
    for entry in env["objects"]:
        entry["change"] = STATUS.get(entry["change"], entry["change"])
    doc: dict[str, Any] = {"krmfnDrift": "v1", "overlay": result.overlay, "inSync": result.in_sync,
                           "summary": env["summary"], "agents": env["agents"], "objects": env["objects"]}
    if gate is not None:
        doc["gate"] = gate
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def headline(result: DriftReport) -> str:
    report = result.report
    if result.in_sync:
        return (f"in sync: the cluster runs what {result.overlay} renders "
                f"({changes.count(result.rendered_objects, 'object')}).")
    findings = len(report.findings())
    return (f"drift: {changes.count(len(report.agents), 'agent')} ({changes.count(findings, 'finding')}) and "
            f"{changes.count(len(report.objects), 'other object')} differ from {result.overlay}.")


def to_text(result: DriftReport, gate: dict[str, Any] | None = None) -> str:
    from .render import MAX_FIELDS

    out = [f"krmfn drift {result.overlay}: {headline(result)}"]
    report = result.report
    width = max(len(cls) for cls in changes.CLASSES)
    for change in report.agents:
        out.append(f"{change.agent} ({STATUS.get(change.status, change.status)})")
        for finding in change.findings:
            mark = "!" if finding.destructive else " "
            out.append(f"  {mark} {finding.cls.ljust(width)}  {_plain(finding.summary)}")
            if finding.diff and finding.cls == "prompt-changed":
                out.extend("      " + line for line in finding.diff.rstrip("\n").split("\n"))
    if report.objects:
        out.append("other objects")
        for obj in report.objects:
            status = STATUS.get(obj.change, obj.change)
            fields = f"  ({', '.join(obj.fields[:MAX_FIELDS])}{' and more' if len(obj.fields) > MAX_FIELDS else ''})" \
                if obj.fields else ""
            out.append(f"    {status.ljust(11)}  {obj.kind} {obj.ref}{fields}")
    if gate is not None and gate.get("matched"):
        out.append(f"gated by --fail-on {','.join(gate['failOn'])}: {len(gate['matched'])} finding(s)")
    return "\n".join(out) + "\n"


def to_markdown(result: DriftReport, gate: dict[str, Any] | None = None) -> str:
    from .render import MAX_FIELDS, _fence, _md_class, md_cell

    code = changes.code
    out = [f"## krmfn drift: {code(result.overlay)}", "", headline(result), ""]
    for change in result.report.agents:
        out += [f"#### {code(change.agent)} ({STATUS.get(change.status, change.status)})", "",
                "| Change | Details |", "| --- | --- |"]
        out += [f"| {_md_class(f.cls, f.destructive)} | {md_cell(f.summary)} |" for f in change.findings]
        out.append("")
        for finding in change.findings:
            if finding.diff and finding.cls == "prompt-changed":
                out += [f"<details><summary>Prompt in Git and in the cluster: {change.agent}</summary>", "",
                        *_fence(finding.diff, "diff"), "", "</details>", ""]
    if result.report.objects:
        out += ["#### Other objects", "", "| Drift | Kind | Name | Fields |", "| --- | --- | --- | --- |"]
        for obj in result.report.objects:
            fields = ", ".join(code(f) for f in obj.fields[:MAX_FIELDS]) + (" and more" if len(obj.fields) > MAX_FIELDS else "")
            out.append(f"| {STATUS.get(obj.change, obj.change)} | {obj.kind} | {md_cell(code(obj.ref))} | {md_cell(fields)} |")
        out.append("")
    if gate is not None and gate.get("matched"):
        out += [f"> `--fail-on {','.join(gate['failOn'])}`: {len(gate['matched'])} gated finding(s).", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _plain(summary: str) -> str:
    from .render import _CODE_SPAN

    return _CODE_SPAN.sub(lambda m: m.group(1) or m.group(2), summary)


