"""Which function serves which function-config kind.

Modules are named, not imported: only the function a config asks for is ever loaded, so a
pass-through or a policy check never pays for Jinja2 or the CEL engine.
"""

from __future__ import annotations

from .. import API_VERSION
from .record import record


@record(frozen=True)
class FunctionEntry:
    kind: str
    module: str
    summary: str
    # A validator must not change items; the engine enforces it.
    validator: bool = False


FUNCTIONS: dict[str, FunctionEntry] = {
    entry.kind: entry
    for entry in (
        FunctionEntry(
            "AgentExpansion",
            "krmfn.fn.expand",
            "expand AgentDescriptions (with ToolCatalogs and prompt ConfigMaps) into kagent objects",
        ),
        FunctionEntry(
            "ModelEnvironment",
            "krmfn.fn.environment",
            "emit per-namespace ModelConfigs for this environment's model tiers and point agents at them",
        ),
        FunctionEntry(
            "ToolPolicy",
            "krmfn.fn.policy",
            "check every tool grant against the catalog and the policy (never modifies resources)",
            validator=True,
        ),
        FunctionEntry(
            "KagentConformance",
            "krmfn.fn.validate",
            "check kagent objects against the CRD schema and CEL rules, and their references",
            validator=True,
        ),
        FunctionEntry(
            "Pipeline",
            "krmfn.fn.pipeline",
            "run expand, environment, policy and conformance in one call (one process per overlay)",
        ),
    )
}


def known_kinds() -> str:
    return ", ".join(f"{API_VERSION}/{kind}" for kind in sorted(FUNCTIONS))
