"""`ReviewPolicy`: who must approve which change (review routing).

Not a function config: a file of the repository (`.krmfn/review-policy.yaml` by convention) that
`krmfn diff`, `krmfn review-gate` and `krmfn codeowners` read. Each route maps change classes
(the ids of `krmfn diff`: `destructive-grant`, `tool-grant`, `approval-removed`, ...), optionally
narrowed by risk class, environment, namespace or agent, to the GitHub users (`@alice`) and teams
(`@org/team`) who must approve them. A change no route matches needs `defaultOwners` (fail closed).

The class ids are checked by krmfn/review/routing.py, the home of what a class id means; this
module checks the shape only. Every field is documented in README.md ("Review routing").
"""

from __future__ import annotations

import re
from typing import Literal

from ..constants import REVIEW_RISKS
from ..runtime.typed import Field, KrmModel, field_validator, model_validator
from .common import Resource

# GitHub's rules: a login is 1-39 letters, digits and single hyphens, not starting or ending with
# one; a team is `org/slug`. An e-mail owner (CODEOWNERS allows one) cannot be asked for a review.
_USER = r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}"
OWNER = re.compile(rf"^@{_USER}(?:/[A-Za-z0-9][A-Za-z0-9_.-]{{0,99}})?\Z")
_PATTERN = re.compile(r"^[A-Za-z0-9*?\[\]!._/-]+\Z")


def _owners(values: list[str]) -> list[str]:
    for index, value in enumerate(values):
        if not OWNER.match(value):
            raise ValueError(f"[{index}] {value!r} is not a GitHub owner: write @user or @org/team")
    return values


def _patterns(values: list[str]) -> list[str]:
    for index, value in enumerate(values):
        if not value or not _PATTERN.match(value):
            raise ValueError(f"[{index}] {value!r} is not a name or glob pattern (letters, digits, '-', '.', '/', '*', '?')")
    return values


def _route_name(value: str) -> str:
    if not re.match(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\Z", value):
        raise ValueError(f"{value!r} is not a route name: lowercase letters, digits and '-'")
    return value


class RouteMatch(KrmModel):
    """Where a route applies. Every field given must match; within a list, any entry may."""

    environments: list[str] = Field(default_factory=list)
    namespaces: list[str] = Field(default_factory=list)
    agents: list[str] = Field(default_factory=list)

    check_environments = field_validator("environments")(_patterns)
    check_namespaces = field_validator("namespaces")(_patterns)
    check_agents = field_validator("agents")(_patterns)


ReviewRisk = Literal[REVIEW_RISKS]  # a tuple subscript: one value per class, in rank order


class Route(KrmModel):
    name: str
    description: str | None = Field(default=None)
    classes: list[str]
    risks: list[ReviewRisk] = Field(default_factory=list)
    match: RouteMatch = Field(default_factory=RouteMatch)
    owners: list[str]

    check_name = field_validator("name")(_route_name)
    check_owners = field_validator("owners")(_owners)

    @model_validator(mode="after")
    def _not_empty(self) -> "Route":
        if not self.classes:
            raise ValueError("a route needs at least one class in classes")
        if not self.owners:
            raise ValueError("a route needs at least one owner in owners (@user or @org/team)")
        return self


class ReviewPolicySpec(KrmModel):
    default_owners: list[str] = Field(alias="defaultOwners")
    routes: list[Route] = Field(default_factory=list)

    check_default_owners = field_validator("default_owners")(_owners)

    @model_validator(mode="after")
    def _checks(self) -> "ReviewPolicySpec":
        if not self.default_owners:
            raise ValueError("defaultOwners needs at least one owner: a change no route matches still needs someone")
        seen: set[str] = set()
        for route in self.routes:
            if route.name in seen:
                raise ValueError(f"route name {route.name!r} is used twice")
            seen.add(route.name)
        return self


class ReviewPolicy(Resource):
    kind: Literal["ReviewPolicy"]
    spec: ReviewPolicySpec
