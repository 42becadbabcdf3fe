"""The review gate: have the owners a `krmfn diff` report requires approved the pull request?

Read from GitHub: the pull request (author, head commit), its requested reviewers and its reviews.
A user's standing review is their latest APPROVED, CHANGES_REQUESTED or DISMISSED one (comments
change nothing). An approval counts only on the head commit (a push makes it stale: it approved
another change) unless stale approvals are accepted, and never the author's own. A team owner is
satisfied by an approval of an active member, unless a member's standing review requests changes.
Owners neither satisfied nor already asked are requested; nobody is asked twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .github import GitHub, GitHubError

APPROVED, CHANGES_REQUESTED, DISMISSED = "APPROVED", "CHANGES_REQUESTED", "DISMISSED"


class ReportError(ValueError):
    """A report the gate cannot decide on (one line, names the file)."""


@dataclass
class OwnerStatus:
    owner: str
    approved: bool
    detail: str  # "approved by @carol", "changes requested by @bob", "review requested", ...


@dataclass
class Outcome:
    pr: str
    head: str
    owners: list[OwnerStatus]
    requested_users: list[str] = field(default_factory=list)
    requested_teams: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[OwnerStatus]:
        return [o for o in self.owners if not o.approved]


def required_owners(report: Any, path: str) -> tuple[list[str], str]:
    """The owners a `krmfn diff --git ... --format json` report requires, and the commit it reviewed;
    refuses what cannot be decided on."""
    from ..api.review import OWNER

    if not isinstance(report, dict) or report.get("krmfnReview") != "v1":
        raise ReportError(f"{path}: not a `krmfn diff --format json` report")
    for environment in report.get("environments") or ():
        if isinstance(environment, dict) and environment.get("renderFailed"):
            raise ReportError(f"{path}: environment {environment.get('name')!r} failed to render, so its "
                              "changes were not routed; fix the render first")
    routing = report.get("routing")
    if not isinstance(routing, dict) or not isinstance(routing.get("requiredOwners"), list):
        raise ReportError(f"{path}: the report routes no reviewers: run krmfn diff with a review policy "
                          "(--review-policy FILE, or .krmfn/review-policy.yaml at the base revision)")
    owners = []
    for index, entry in enumerate(routing["requiredOwners"]):
        owner = entry.get("owner") if isinstance(entry, dict) else None
        if not isinstance(owner, str) or not OWNER.match(owner):
            raise ReportError(f"{path}: routing.requiredOwners[{index}].owner is not @user or @org/team")
        owners.append(owner)
    new = (routing.get("revisions") or {}).get("new") if isinstance(routing.get("revisions"), dict) else None
    if not isinstance(new, str) or not new:
        raise ReportError(f"{path}: the report names no commit it reviewed: make it with "
                          "`krmfn diff --git BASE..HEAD` (HEAD a commit, not the working tree)")
    return owners, new


def decide(github: GitHub, repo: str, number: int, owners: list[str], reviewed: str, *, request: bool = True,
           accept_stale: bool = False) -> Outcome:
    base = f"/repos/{repo}/pulls/{number}"
    pr = github.call("GET", base)
    try:
        author = pr["user"]["login"].lower()
        head = pr["head"]["sha"]
    except (TypeError, KeyError, AttributeError):
        raise GitHubError(f"GitHub API GET {base}: not a pull request") from None
    if reviewed not in (head, pr.get("merge_commit_sha")):  # a stale report must not pass a newer change
        raise ReportError(f"the report reviewed commit {reviewed[:12]}, but {repo}#{number} is at {head[:12]}"
                          f" (merge {str(pr.get('merge_commit_sha'))[:12]}): review the pull request's current change")
    asked = github.call("GET", f"{base}/requested_reviewers")
    asked = asked if isinstance(asked, dict) else {}
    asked_users = {str(u.get("login", "")).lower() for u in asked.get("users") or () if isinstance(u, dict)}
    asked_teams = {str(t.get("slug", "")).lower() for t in asked.get("teams") or () if isinstance(t, dict)}
    standing = _standing(github.pages(f"{base}/reviews?per_page=100"))
    org = repo.split("/")[0].lower()
    memberships: dict[tuple[str, str], bool] = {}

    def member(team: str, login: str) -> bool:
        team_org, slug = team.split("/")
        key = (team, login)
        if key not in memberships:
            data = github.call("GET", f"/orgs/{team_org}/teams/{slug}/memberships/{login}", missing_ok=True)
            memberships[key] = isinstance(data, dict) and data.get("state") == "active"
        return memberships[key]

    statuses, users, teams = [], [], []
    for owner in owners:
        name = owner[1:].lower()
        if "/" in name:
            team_org, slug = name.split("/")
            reviewers = {login: r for login, r in standing.items() if login != author and member(name, login)}
            status = _verdict(owner, reviewers, head, accept_stale, team=True)
            if not status.approved and not any(r["state"] == CHANGES_REQUESTED for r in reviewers.values()):
                if slug in asked_teams and team_org == org:
                    status.detail = "review requested" + _stale_note(status.detail)
                elif team_org != org:
                    status.detail = f"a team of another organisation: request it by hand{_stale_note(status.detail)}"
                else:
                    teams.append(slug)
                    status.detail = "review requested now" + _stale_note(status.detail)
        elif name == author:
            status = OwnerStatus(owner, False, "is the author, who cannot approve their own pull request")
        else:
            mine = {name: standing[name]} if name in standing else {}
            status = _verdict(owner, mine, head, accept_stale, team=False)
            if not status.approved and not (mine and mine[name]["state"] == CHANGES_REQUESTED):
                if name in asked_users:
                    status.detail = "review requested" + _stale_note(status.detail)
                else:
                    users.append(owner[1:])
                    status.detail = "review requested now" + _stale_note(status.detail)
        statuses.append(status)
    if request and (users or teams):
        github.call("POST", f"{base}/requested_reviewers", {"reviewers": users, "team_reviewers": teams})
    elif not request:
        for status in statuses:
            status.detail = status.detail.replace("review requested now", "not requested (--no-request)")
    return Outcome(f"{repo}#{number}", head, statuses, users if request else [], teams if request else [])


def _standing(reviews: list[Any]) -> dict[str, dict]:
    """login -> its latest state-changing review, in the order GitHub lists them (chronological)."""
    out: dict[str, dict] = {}
    for review in reviews:
        if not isinstance(review, dict) or not isinstance(review.get("user"), dict):
            continue
        state = review.get("state")
        if state in (APPROVED, CHANGES_REQUESTED, DISMISSED):
            out[str(review["user"].get("login", "")).lower()] = {
                "state": state, "commit": review.get("commit_id"), "login": review["user"].get("login")}
    return out


def _verdict(owner: str, reviews: dict[str, dict], head: str, accept_stale: bool, *, team: bool) -> OwnerStatus:
    against = sorted(r["login"] for r in reviews.values() if r["state"] == CHANGES_REQUESTED)
    if against:
        return OwnerStatus(owner, False, "changes requested" + (" by " + ", ".join(f"@{a}" for a in against)
                                                                 if team else ""))
    current = sorted(r["login"] for r in reviews.values()
                     if r["state"] == APPROVED and (accept_stale or r["commit"] == head))
    if current:
        return OwnerStatus(owner, True, "approved" + (" by " + ", ".join(f"@{a}" for a in current) if team else ""))
    stale = sorted(r["login"] for r in reviews.values() if r["state"] == APPROVED)
    if stale:
        return OwnerStatus(owner, False, "stale: approved an earlier commit" + (
            " (" + ", ".join(f"@{a}" for a in stale) + ")" if team else ""))
    dismissed = sorted(r["login"] for r in reviews.values() if r["state"] == DISMISSED)
    return OwnerStatus(owner, False, "approval dismissed" if dismissed else "")


def _stale_note(detail: str) -> str:
    return f" ({detail})" if detail else ""
