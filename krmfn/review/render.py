"""Reports as terminal text (colour only when asked, i.e. on a TTY), Markdown (pull-request
comments, GitHub job summaries) or JSON (other tools).
"""

from __future__ import annotations

import re
from typing import Any

from .changes import CLASSES, EnvironmentReport, Finding, count

LABELS = {
    "agent-added": "agent added", "agent-removed": "agent removed",
    "prompt-changed": "prompt changed", "model-changed": "model changed", "effort-changed": "effort changed",
    "tool-granted": "tool granted", "tool-revoked": "tool revoked",
    "approval-added": "approval added", "approval-removed": "approval removed",
    "skill-version-changed": "skill version changed",
    "delegate-added": "delegate added", "delegate-removed": "delegate removed",
    "skills-changed": "skills changed", "reach-changed": "reach changed",
    "config-changed": "settings changed", "operational": "operational", "target-changed": "kagent target changed",
}
MAX_FIELDS = 6  # changed fields listed per non-agent object
_CODE_SPAN = re.compile(r"`` (.+?) ``|`([^`]+)`")


# --- JSON --------------------------------------------------------------------------------------


def to_json(reports: list[EnvironmentReport], gate: dict[str, Any] | None = None, routing=None) -> str:
    import json

    doc: dict[str, Any] = {"krmfnReview": "v1", "environments": [r.to_json() for r in reports]}
    if gate is not None:
        doc["gate"] = gate
    if routing is not None:  # the owners each finding needs, and all of them (krmfn review-gate reads it)
        for report, environment in zip(reports, doc["environments"]):
            for change, agent in zip(report.agents, environment["agents"]):
                for finding, entry in zip(change.findings, agent["findings"]):
                    entry["reviewers"] = routing.of(finding).to_json()
            for obj, entry in zip(report.objects, environment["objects"]):
                entry["reviewers"] = routing.of(obj).to_json()
        doc["routing"] = routing.to_json()
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# --- Markdown ----------------------------------------------------------------------------------


def to_markdown(reports: list[EnvironmentReport], gate: dict[str, Any] | None = None,
                graphs: dict[str, str] | None = None, routing=None) -> str:
    out = ["## krmfn review", ""]
    out.append(overall_line(reports))
    out.append("")
    if gate is not None and gate.get("matched"):
        out.append(f"> [!CAUTION]\n> `--fail-on {','.join(gate['failOn'])}`: "
                   f"{len(gate['matched'])} gated finding{'s' if len(gate['matched']) != 1 else ''}.")
        out.append("")
    if routing is not None:
        out.extend(_markdown_reviewers(routing))
    for report in reports:
        out.extend(_markdown_environment(report, (graphs or {}).get(report.name), routing))
    return "\n".join(out).rstrip("\n") + "\n"


def overall_line(reports: list[EnvironmentReport]) -> str:
    findings = [f for r in reports for f in r.findings()]
    destructive = sum(1 for f in findings if f.destructive)
    pairs = sum(len(r.agents) for r in reports)
    agents = len({change.agent for r in reports for change in r.agents})  # an agent, not an agent per environment
    objects = sum(len(r.objects) for r in reports)
    across = f" ({pairs} agent-environment changes)" if pairs != agents else ""
    text = (f"{count(agents, 'agent')} with changes{across}, {count(len(findings), 'finding')}, "
            f"{count(objects, 'other object')} changed, in {count(len(reports), 'environment')}.")
    if destructive:
        text = f"⚠️ **{count(destructive, 'finding')} {'touch' if destructive != 1 else 'touches'} destructive tools.** " + text
    return text


def _markdown_reviewers(routing) -> list[str]:
    # code spans: a report posted as a comment must not ping every owner on every push
    out = ["### Required reviewers", "", f"Review policy {md_code(routing.policy.source)}."]
    if routing.policy_changed:
        out[-1] += " This change edits the review policy itself: its default owners must approve."
    out.append("")
    required = routing.required()
    if not required:
        return out + ["No finding needs a reviewer.", ""]
    out += ["| Owner | Findings | Routes |", "| --- | ---: | --- |"]
    out += [f"| {md_code(r['owner'])} | {r['findings']} | {', '.join(md_code(n) for n in r['routes'])} |"
            for r in required]
    return out + [""]


def _reviewers_cell(assignment) -> str:
    return md_cell(", ".join(md_code(o) for o in assignment.owners))


def _markdown_environment(report: EnvironmentReport, graph: str | None, routing=None) -> list[str]:
    out = [f"### {md_code(report.name)}: {md_code(report.old_label)} → {md_code(report.new_label)}", ""]
    for note in report.notes:
        out += [f"> {note}", ""]
    if report.failed:
        for failure in report.failed:
            out += [f":x: **The render failed at {md_code(failure['at'])}**, so this environment is not reviewed:",
                    "", *_fence("\n".join(failure["lines"]) + "\n", "text"), ""]
        return out
    if not report.agents and not report.objects:
        return out + ["No changes.", ""]
    counts = report.counts()
    if counts:
        out += ["| Change | Count |", "| --- | ---: |"]
        out += [f"| {_md_class(cls)} | {n} |" for cls, n in counts.items()]
        out.append("")
    elif report.agents == []:
        out += ["No agent changes.", ""]
    for change in report.agents:
        if routing is None:
            out += [f"#### {md_code(change.agent)} ({change.status})", "", "| Change | Details |", "| --- | --- |"]
        else:
            out += [f"#### {md_code(change.agent)} ({change.status})", "", "| Change | Details | Reviewers |",
                    "| --- | --- | --- |"]
        for finding in change.findings:
            row = f"| {_md_class(finding.cls, finding.destructive)} | {md_cell(finding.summary)} |"
            out.append(row if routing is None else f"{row} {_reviewers_cell(routing.of(finding))} |")
        out.append("")
        for finding in change.findings:
            if finding.diff:
                title = "Prompt" if finding.cls == "agent-added" else "Prompt diff"
                out += [f"<details><summary>{title} of {change.agent}</summary>", "",
                        *_fence(finding.diff, "diff"), "", "</details>", ""]
    if report.objects:
        if routing is None:
            out += ["#### Other objects", "", "| Change | Kind | Name | Fields |", "| --- | --- | --- | --- |"]
        else:
            out += ["#### Other objects", "", "| Change | Kind | Name | Fields | Reviewers |",
                    "| --- | --- | --- | --- | --- |"]
        for obj in report.objects:
            fields = ", ".join(md_code(f) for f in obj.fields[:MAX_FIELDS])
            if len(obj.fields) > MAX_FIELDS:
                fields += f" and {len(obj.fields) - MAX_FIELDS} more"
            row = f"| {obj.change} | {obj.kind} | {md_cell(md_code(obj.ref))} | {md_cell(fields)} |"
            out.append(row if routing is None else f"{row} {_reviewers_cell(routing.of(obj))} |")
        out.append("")
    if graph:
        out += ["<details><summary>Graph</summary>", "", *_fence(graph, "mermaid"), "", "</details>", ""]
    return out


def _md_class(cls: str, destructive: bool = False) -> str:
    label = LABELS.get(cls, cls)
    return f"⚠️ **{label}** (destructive)" if destructive else label


def md_code(text: str) -> str:
    """A code span (backticks in `text` survive): names in Markdown never format, link or mention."""
    from .changes import code

    return code(text)


def md_cell(text: str) -> str:
    """`text` safe in one Markdown table cell (pipes and backslashes escaped, one line)."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _fence(text: str, info: str) -> list[str]:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + info, *text.rstrip("\n").split("\n"), fence]


# --- terminal text -----------------------------------------------------------------------------

COLOURS = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "magenta": "35", "cyan": "36",
           "dim": "2", "bold": "1"}
CLASS_COLOURS = {
    "agent-added": "green", "tool-granted": "green", "approval-added": "green", "delegate-added": "green",
    "agent-removed": "red", "tool-revoked": "red", "approval-removed": "red", "delegate-removed": "red",
    "prompt-changed": "yellow", "model-changed": "magenta", "effort-changed": "magenta", "skills-changed": "yellow",
    "reach-changed": "yellow", "config-changed": "yellow", "operational": "dim", "target-changed": "blue",
}


def to_text(reports: list[EnvironmentReport], *, colour: bool = False, gate: dict[str, Any] | None = None,
            routing=None) -> str:
    def paint(text: str, *names: str) -> str:
        if not colour or not names:
            return text
        return "".join(f"\033[{COLOURS[n]}m" for n in names) + text + "\033[0m"

    def plain(summary: str) -> str:
        return _CODE_SPAN.sub(lambda m: paint(m.group(1) or m.group(2), "cyan"), summary)

    width = max(len(cls) for cls in CLASSES)
    out = [paint("krmfn review", "bold") + ": " + plain(overall_line(reports).replace("**", "").replace("⚠️ ", "! "))]
    for report in reports:
        out += ["", paint(f"== {report.name}: {report.old_label} -> {report.new_label}", "bold")]
        out += [f"   {note}" for note in report.notes]
        if report.failed:
            for failure in report.failed:
                out.append(paint(f"   the render failed at {failure['at']}, so this environment is not reviewed:",
                                 "red", "bold"))
                out += [f"     {line}" for line in failure["lines"]]
            continue
        if not report.agents and not report.objects:
            out.append("   no changes")
        for change in report.agents:
            out.append(paint(f"{change.agent}", "bold") + f" ({change.status})")
            for finding in change.findings:
                mark = paint("!", "red", "bold") if finding.destructive else " "
                label = paint(finding.cls.ljust(width), CLASS_COLOURS.get(finding.cls, "yellow"))
                out.append(f"  {mark} {label}  {plain(finding.summary)}")
                if routing is not None:
                    out.append("      " + paint("reviewers: " + _text_assignment(routing.of(finding)), "blue"))
                if finding.cls == "agent-added":  # a new agent: what it may do and what it is told
                    tools = finding.details.get("tools") or []
                    if tools:
                        out.append("      tools: " + ", ".join(
                            f"{t['tool']} on {t['server']} ({t['risk']}{', requires approval' if t.get('requireApproval') else ''})"
                            for t in tools))
                if finding.diff and finding.cls in ("prompt-changed", "agent-added"):
                    out.extend("      " + _diff_line(line, paint) for line in finding.diff.rstrip("\n").split("\n"))
        if report.objects:
            out.append(paint("other objects", "bold"))
            for obj in report.objects:
                fields = ", ".join(obj.fields[:MAX_FIELDS]) + (f" and {len(obj.fields) - MAX_FIELDS} more"
                                                              if len(obj.fields) > MAX_FIELDS else "")
                colour_name = {"added": "green", "removed": "red"}.get(obj.change, "yellow")
                out.append(f"    {paint(obj.change.ljust(7), colour_name)}  {obj.kind} {obj.ref}"
                           + (f"  ({fields})" if fields else ""))
                if routing is not None:
                    out.append("      " + paint("reviewers: " + _text_assignment(routing.of(obj)), "blue"))
    if routing is not None:
        out += ["", paint(f"required reviewers (review policy {routing.policy.source}):", "bold")]
        if routing.policy_changed:
            out.append("   this change edits the review policy itself: its default owners must approve")
        out += [f"   {r['owner']}: {count(r['findings'], 'finding')} ({', '.join(r['routes'])})"
                for r in routing.required()] or ["   none"]
    if gate is not None and gate.get("matched"):
        out += ["", paint(f"gated by --fail-on {','.join(gate['failOn'])}: {len(gate['matched'])} finding(s)", "red", "bold")]
    return "\n".join(out) + "\n"


def _text_assignment(assignment) -> str:
    return f"{', '.join(assignment.owners)} ({', '.join(assignment.routes)})"


def _diff_line(line: str, paint) -> str:
    if line.startswith(("+++", "---")):
        return paint(line, "bold")
    if line.startswith("+"):
        return paint(line, "green")
    if line.startswith("-"):
        return paint(line, "red")
    if line.startswith("@@"):
        return paint(line, "cyan")
    return line


def class_label(finding: Finding) -> str:
    return LABELS.get(finding.cls, finding.cls)
