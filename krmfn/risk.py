"""The risk model: how risky a tool is, decided in one place for expand, policy and the review.

A tool's risk is the riskiest class any trusted source gives it: krmfn's built-in catalog of the
kagent tool server (a floor by tool name, whatever server offers a tool of that name), the
ToolCatalogs of the repository and the policy's own catalog. What an object says about itself
(the `krmfn.dev/tool-risks` annotation, written by whoever wrote the object) may only raise a
risk. A tool no trusted source knows is unknown, and unknown counts as destructive.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any, Iterable

from .constants import ASSUMED_RISK, RISKS

RANK = {risk: rank for rank, risk in enumerate(RISKS)}
BUILTIN_FILE = os.path.join(os.path.dirname(__file__), "data", "kagent-tool-server.yaml")


def riskiest(risks: Iterable[Any]) -> str | None:
    """The riskiest valid class of `risks` (anything that is not a risk class is ignored)."""
    found = [r for r in risks if isinstance(r, str) and r in RANK]
    return max(found, key=RANK.__getitem__) if found else None


def effective(risk: str | None) -> str:
    """What a verdict uses: an unknown risk is destructive."""
    return risk or ASSUMED_RISK


@lru_cache(maxsize=1)
def builtin_kagent_tools() -> tuple[str, str, str, dict[str, str]]:
    """(server name, namespace, kind, tool -> risk) of the kagent tool server krmfn ships."""
    from .runtime import yamlio

    with open(BUILTIN_FILE, "rb") as handle:
        data = yamlio.load_one(handle.read(), BUILTIN_FILE)
    return data["server"], data["namespace"], data["kind"], dict(data["tools"])


def builtin_floor(tool: str) -> str | None:
    return builtin_kagent_tools()[3].get(tool)


def merge(into: dict[str, str], tools: dict[str, Any]) -> None:
    """Add `tools` (tool -> risk) to `into`; where both know a tool, the riskier class stays."""
    for tool, risk in tools.items():
        best = riskiest((into.get(tool), risk))
        if best is not None:
            into[tool] = best


class RiskModel:
    """The trusted risk classes of every known server's tools, keyed by "namespace/name"."""

    def __init__(self) -> None:
        self.servers: dict[str, dict[str, str]] = {}

    def add(self, server: str, tools: dict[str, Any]) -> None:
        merge(self.servers.setdefault(server, {}), tools)

    def knows(self, server: str) -> bool:
        return server in self.servers

    def tools(self, server: str) -> dict[str, str]:
        """Every tool a trusted source lists for `server`, with its risk (floored)."""
        return {tool: self.risk(server, tool) or ASSUMED_RISK for tool in self.servers.get(server, {})}

    def risk(self, server: str, tool: str, claimed: dict[str, Any] | None = None) -> str | None:
        """The tool's risk, or None when no trusted source knows it (then it counts as destructive).

        `claimed` (tool -> risk, what an object says of its own grants) can only raise a known risk.
        """
        known = riskiest((builtin_floor(tool), self.servers.get(server, {}).get(tool)))
        if known is None:
            return None
        return riskiest((known, (claimed or {}).get(tool)))


def claimed_risks(raw: Any) -> dict[str, dict[str, str]] | None:
    """The `krmfn.dev/tool-risks` annotation as server -> tool -> risk; None when it is malformed."""
    import json

    if raw is None:
        return {}
    if not isinstance(raw, str):
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        return None
    return {str(server): {str(t): str(r) for t, r in tools.items()} for server, tools in data.items()}
