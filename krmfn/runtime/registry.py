"""Which function serves which function-config kind, and what its config is.

Modules are named, not imported: only the function a config asks for is ever loaded, so a
pass-through or a policy check never pays for Jinja2 or the CEL engine.

The contract (see `krmfn.runtime.engine`): `config` names the config's type, a `KrmModel` (the
engine parses it, every problem reported with its field) or a function `raw -> (config, results)`
for configs that need more than a schema. The engine calls `process(rl, config)`; the function
reports through `rl.results` only, and the engine restores the input whenever one is an error.
"""

from __future__ import annotations

from ..constants import API_VERSION
from .record import record


@record(frozen=True)
class FunctionEntry:
    kind: str
    module: str
    summary: str
    config: str  # "module:name" of the config's type, or of a function that parses it
    # A validator must not change items; the engine enforces it.
    validator: bool = False


FUNCTIONS: dict[str, FunctionEntry] = {
    entry.kind: entry
    for entry in (
        FunctionEntry(
            "AgentExpansion",
            "krmfn.fn.expand",
            "expand AgentDescriptions (with ToolCatalogs and prompt ConfigMaps) into kagent objects",
            "krmfn.api.expansion:AgentExpansion",
        ),
        FunctionEntry(
            "ModelEnvironment",
            "krmfn.fn.environment",
            "emit per-namespace ModelConfigs for this environment's model tiers and point agents at them",
            "krmfn.fn.environment:parse_config",
        ),
        FunctionEntry(
            "ToolPolicy",
            "krmfn.fn.policy",
            "check every tool grant against the catalog and the policy (never modifies resources)",
            "krmfn.api.policy:ToolPolicy",
            validator=True,
        ),
        FunctionEntry(
            "KagentConformance",
            "krmfn.fn.validate",
            "check kagent objects against the CRD schema and CEL rules, and their references",
            "krmfn.api.conformance:KagentConformance",
            validator=True,
        ),
        FunctionEntry(
            "Pipeline",
            "krmfn.fn.pipeline",
            "run expand, environment, policy and conformance in one call (one process per overlay)",
            "krmfn.api.pipeline:Pipeline",
        ),
    )
}


def known_kinds() -> str:
    return ", ".join(f"{API_VERSION}/{kind}" for kind in sorted(FUNCTIONS))
