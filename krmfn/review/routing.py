"""Review routing: which owners must approve each finding of a review, by the repository's
`ReviewPolicy` (krmfn/api/review.py).

Routes are additive: a finding needs the owners of every route that matches it, and the policy's
`defaultOwners` when none does (fail closed: an unknown or unrouted change still needs someone).
A route's class ids are `krmfn diff`'s: a finding class (`tool-granted`), a gate (`tool-grant`,
`destructive-grant`, `any`, `object-change`) or an alias (changes.GATE_ALIASES). `risks` narrows
a route to findings that carry one of those risk classes; `unknown` counts as `destructive`.

Which revision's policy applies is the caller's choice and must be the base's (`krmfn diff --git`
reads it at the old revision): a pull request cannot route its own change away. A change to the
policy file itself needs the base policy's `defaultOwners`.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Iterable

from ..constants import RISKS
from .model import ALL_TOOLS
from .changes import CLASSES, GATE_ALIASES, GATES, OBJECT_GATES, EnvironmentReport, Finding, ObjectChange

# The conventional place of the policy, relative to the repository's top level.
DEFAULT_PATH = ".krmfn/review-policy.yaml"
KIND = "ReviewPolicy"
DEFAULT_ROUTE = "default"  # what `routes` names for a finding no route matched
POLICY_ROUTE = "review-policy"  # the change of the policy file itself
RESERVED_ROUTES = (DEFAULT_ROUTE, POLICY_ROUTE)
# Short names for the wording; gates and class names are accepted as they are.
ROUTE_ALIASES = {"new-agent": "agent-added", "delegation-change": "delegate-change"}
# What a file of each kind can change, for CODEOWNERS: the classes an edit to it may cause.
GRANT_CLASSES = ("tool-granted", "tool-revoked", "approval-added", "approval-removed",
                 "delegate-added", "delegate-removed", "reach-changed")
FILE_CLASSES = {
    "AgentDescription": GRANT_CLASSES,
    "ToolCatalog": (*GRANT_CLASSES, "config-changed"),  # a risk class changes every grant of the tool
    "ToolPolicy": (*GRANT_CLASSES, "config-changed"),
    "ModelEnvironment": ("model-changed", "effort-changed"),
}
RISK_NAMES = (*RISKS, "unknown")  # what a review shows; a route's `risks` may name each
# Findings that carry a tool's risk class, and those flagged when it is destructive (changes.py).
RISKY_CLASSES = ("tool-granted", "tool-revoked", "approval-added", "approval-removed", "reach-changed")
DESTRUCTIVE_CLASSES = ("tool-granted", "approval-removed", "reach-changed")


class PolicyError(ValueError):
    """A policy that cannot be used; each line names the file and the field."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        super().__init__("\n[error] ".join(line.removeprefix("[error] ") for line in lines))


def known_ids() -> list[str]:
    return sorted(set(CLASSES) | set(GATES) | set(OBJECT_GATES) | set(GATE_ALIASES) | set(ROUTE_ALIASES))


def canonical(class_id: str) -> str:
    class_id = ROUTE_ALIASES.get(class_id, class_id)
    return GATE_ALIASES.get(class_id, class_id)


# --- the policy --------------------------------------------------------------------------------


@dataclass
class Route:
    name: str
    classes: tuple[str, ...]  # canonical ids
    risks: tuple[str, ...]
    environments: tuple[str, ...]
    namespaces: tuple[str, ...]
    agents: tuple[str, ...]
    owners: tuple[str, ...]


@dataclass
class Policy:
    source: str  # how messages and reports name it: a path, or "path at REV"
    routes: list[Route]
    default_owners: tuple[str, ...]
    data: bytes = b""


def load(path: str, source: str | None = None) -> Policy:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as err:
        raise PolicyError([f"{path}: {err.strerror or err}"]) from None
    return parse(data, source or path)


def parse(data: bytes, source: str) -> Policy:
    from ..api.review import ReviewPolicy
    from ..runtime import yamlio
    from ..runtime.results import Result
    from ..runtime.typed import parse as typed_parse

    try:
        docs = [d for d in yamlio.load_all(data, source) if d is not None]
    except yamlio.YamlError as err:
        raise PolicyError([str(err)]) from None
    if len(docs) != 1 or not isinstance(docs[0], dict) or docs[0].get("kind") != KIND:
        raise PolicyError([f"{source}: expected one {KIND} (apiVersion: krmfn.dev/v1alpha1, kind: {KIND})"])
    doc = docs[0]
    model, results = typed_parse(ReviewPolicy, doc)
    if model is None:
        raise PolicyError([f"{r.line()} ({source})" for r in results])
    problems = []
    routes = []
    ids = known_ids()
    for index, route in enumerate(model.spec.routes):
        at = f"spec.routes[{index}]"
        if route.name in RESERVED_ROUTES:
            problems.append(Result.about(doc, f"{at}.name", f"route name {route.name!r} is reserved"))
        for position, class_id in enumerate(route.classes):
            if class_id not in ids:
                hint = difflib.get_close_matches(class_id, ids, n=1, cutoff=0.6)
                problems.append(Result.about(doc, f"{at}.classes[{position}]", f"unknown class {class_id!r}" + (
                    f"; did you mean {hint[0]!r}?" if hint else f"; choose from {', '.join(ids)}")))
        if route.risks and not any(canonical(c) not in OBJECT_GATES for c in route.classes):
            problems.append(Result.about(doc, f"{at}.risks", "objects carry no risk class: risks needs an agent class"))
        routes.append(Route(route.name, tuple(dict.fromkeys(canonical(c) for c in route.classes)),
                            tuple(route.risks), tuple(route.match.environments), tuple(route.match.namespaces),
                            tuple(route.match.agents), owner_set(route.owners)))
    if problems:
        raise PolicyError([f"{r.line()} ({source})" for r in problems])
    return Policy(source, routes, owner_set(model.spec.default_owners), data)


def owner_set(owners: Iterable[str]) -> tuple[str, ...]:
    """Owners once each (GitHub names are case-insensitive), in a stable order."""
    seen: dict[str, str] = {}
    for owner in owners:
        seen.setdefault(owner.lower(), owner)
    return tuple(seen[key] for key in sorted(seen))


# --- matching ----------------------------------------------------------------------------------


def risks_of(finding: Finding, *, lost: bool = True, floor: dict | None = None) -> set[str]:
    """The risk classes a finding is about (`unknown` read as `destructive`), each at least what
    the base render gave that tool (`floor`); `lost`: with the reach a delegate no longer gives."""
    details = finding.details
    entries = [details] if "risk" in details else []
    for key in ("tools", "gained", "lost") if lost else ("tools", "gained"):
        entries += [entry for entry in details.get(key) or () if isinstance(entry, dict)]
    risks = {_floored(entry, floor or {}) for entry in entries}
    risks.discard(None)
    return {"destructive" if risk == "unknown" else risk for risk in risks}


def _floored(entry: dict, floor: dict[tuple[str, str], str]) -> str | None:
    from ..risk import riskiest

    risk = entry.get("risk")
    server, tool = entry.get("server"), entry.get("tool")
    if tool == ALL_TOOLS:
        base = riskiest(r for (s, _), r in floor.items() if s == server)
    else:
        base = floor.get((server, tool))
    if risk == "unknown" or base == "unknown":
        return "unknown"
    return riskiest((risk, base)) or risk


def risk_floor(render) -> dict[tuple[str, str], str]:
    """(server, tool) -> the riskiest class the base render gives it: a change cannot route its own
    grant as less risky by re-classifying the tool in the same change (a catalog it edits)."""
    from ..risk import riskiest

    floor: dict[tuple[str, str], str] = {}
    for agent in render.agents.values():
        for server, tools in agent.tools.items():
            for tool, grant in tools.items():
                key = (server, tool)
                floor[key] = "unknown" if "unknown" in (grant.risk, floor.get(key)) else (
                    riskiest((floor.get(key), grant.risk)) or grant.risk)
    return floor


def class_matches(class_id: str, finding: Finding, floor: dict | None = None) -> bool:
    if class_id == "destructive-grant" and finding.cls in (*DESTRUCTIVE_CLASSES, "agent-added") \
            and "destructive" in risks_of(finding, lost=False, floor=floor):
        return True  # a tool of unknown risk counts as destructive (fail closed), flagged or not
    if class_id in GATES:
        return GATES[class_id](finding)
    return finding.cls == class_id


def _agent_pattern(pattern: str, namespace: str, name: str) -> bool:
    if "/" in pattern:
        return fnmatchcase(f"{namespace}/{name}", pattern)
    return fnmatchcase(name, pattern)


def applies(route: Route, item: Finding | ObjectChange, environments: Iterable[str] | None,
            namespace: str | None, name: str | None, floor: dict | None = None) -> bool:
    """Does `route` route `item`? None for environments, namespace or name: any (CODEOWNERS)."""
    if isinstance(item, ObjectChange):
        if not any(c in OBJECT_GATES for c in route.classes) or route.agents or route.risks:
            return False
    else:
        if not any(class_matches(c, item, floor) for c in route.classes):
            return False
        wanted = {"destructive" if r == "unknown" else r for r in route.risks}
        if wanted and not wanted & risks_of(item, floor=floor):
            return False
    if route.environments and environments is not None and not any(
            fnmatchcase(env, p) for env in environments for p in route.environments):
        return False
    if route.namespaces and namespace is not None and not any(fnmatchcase(namespace, p) for p in route.namespaces):
        return False
    if route.agents and name is not None and not any(_agent_pattern(p, namespace or "", name) for p in route.agents):
        return False
    return True


# --- routing a review --------------------------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    owners: tuple[str, ...]
    routes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"owners": list(self.owners), "routes": list(self.routes)}


@dataclass
class Routing:
    policy: Policy
    assignments: dict[int, Assignment] = field(default_factory=dict)  # id(Finding | ObjectChange) ->
    # (owner, route, environment, subject) of every requirement, for the summary
    needs: list[tuple[str, str, str, str]] = field(default_factory=list)
    policy_changed: bool = False
    revisions: dict[str, str | None] | None = None  # with --git: the commits compared (the gate checks them)

    def of(self, item: Finding | ObjectChange) -> Assignment | None:
        return self.assignments.get(id(item))

    def required(self) -> list[dict[str, Any]]:
        """Per owner: the routes that need them and how many findings."""
        by_owner: dict[str, dict[str, Any]] = {}
        for owner, route, environment, subject in self.needs:
            entry = by_owner.setdefault(owner.lower(), {"owner": owner, "routes": set(), "environments": set(),
                                                        "findings": set()})
            entry["routes"].add(route)
            if environment:
                entry["environments"].add(environment)
            entry["findings"].add((environment, subject))
        return [{"owner": e["owner"], "routes": sorted(e["routes"]), "environments": sorted(e["environments"]),
                 "findings": len(e["findings"])} for _, e in sorted(by_owner.items())]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"policy": self.policy.source, "policyChanged": self.policy_changed}
        if self.revisions is not None:
            out["revisions"] = self.revisions
        out["requiredOwners"] = self.required()
        return out


def route(policy: Policy, reports: list[EnvironmentReport], environments: list[set[str]],
          policy_changed: bool = False, floors: list[dict] | None = None) -> Routing:
    """Assign owners to every finding and object change; `environments[i]` are the names report i
    answers to (its directory, the directory's last part, the renders' environment), `floors[i]`
    the risk floor of its base render (`risk_floor`)."""
    routing = Routing(policy, policy_changed=policy_changed)
    for index, (report, names) in enumerate(zip(reports, environments)):
        floor = floors[index] if floors else None
        for change in report.agents:
            namespace, _, name = change.agent.partition("/")
            for position, finding in enumerate(change.findings):
                _assign(routing, finding, names, namespace, name, report.name,
                        f"{change.agent} {finding.cls} {position}", floor)
        for obj in report.objects:
            _assign(routing, obj, names, obj.namespace, None, report.name, f"{obj.kind} {obj.ref}")
    if policy_changed:
        routing.needs.extend((owner, POLICY_ROUTE, "", policy.source) for owner in policy.default_owners)
    return routing


def _assign(routing: Routing, item, names, namespace, name, environment, subject, floor=None) -> None:
    policy = routing.policy
    matched = [r for r in policy.routes if applies(r, item, names, namespace, name, floor)]
    if matched:
        owners = owner_set(o for r in matched for o in r.owners)
        routes = tuple(r.name for r in matched)
    else:
        owners, routes = policy.default_owners, (DEFAULT_ROUTE,)
    routing.assignments[id(item)] = Assignment(owners, routes)
    for r in matched or [None]:
        for owner in (r.owners if r else policy.default_owners):
            routing.needs.append((owner, r.name if r else DEFAULT_ROUTE, environment, subject))


def environment_names(name: str, *renders) -> set[str]:
    """What a route's `environments` patterns are matched against for one report."""
    names = {name, os.path.basename(os.path.normpath(name))}
    names.update(r.environment for r in renders if getattr(r, "environment", None))
    return {n for n in names if n}


# --- CODEOWNERS --------------------------------------------------------------------------------


def file_owners(policy: Policy, kinds: dict[str, set[tuple[str, str]]]) -> tuple[str, ...]:
    """The owners of a file holding objects of `kinds` (kind -> {(namespace, name)}): every route
    an edit to such an object could trip (environments ignored: a base file feeds every one),
    else the default owners."""
    owners: list[str] = []
    for kind, objects in kinds.items():
        scoped = kind == "AgentDescription"
        for cls in FILE_CLASSES.get(kind, ()):
            for risk in (RISK_NAMES if cls in RISKY_CLASSES else (None,)):
                probe = Finding(cls, "", "", {"risk": risk} if risk else {},
                                destructive=cls in DESTRUCTIVE_CLASSES and risk in ("destructive", "unknown"))
                for namespace, name in (objects if scoped else {(None, None)}):
                    for r in policy.routes:
                        if applies(r, probe, None, namespace, name):
                            owners.extend(r.owners)
    return owner_set(owners) or policy.default_owners
