"""The kagent fields that carry behaviour, per kagent API version and kind.

An agent's behaviour is its prompt sources, model, tools, approvals, delegations and skills (and in
kagent 1.0 its template and harness); a ModelConfig's is the model it selects, a RemoteMCPServer's
or kmcp MCPServer's the server it reaches or runs. Drift compares these fields even where the render
leaves them out, since one added in the cluster changes what runs; a CRD default or another's
label elsewhere does not. A path is a tuple of field names, `EVERY` standing for each list element;
each path is a field of the version's CRD schema (tests/test_reader_behaviour.py checks this).

The cluster may hand back an object at another served version of its group than the render's, and
a group's next version is unknown here: a version this table does not name (or a kind it does not
name at that version) gets every path the group's known versions name for the kind, so it is
compared at least as closely as any of them (fail closed). Other groups carry no kagent behaviour.
"""

from __future__ import annotations

from ..constants import (AGENT_KIND, AGENTTEMPLATE_KIND, KAGENT_V1ALPHA2, KAGENT_V1ALPHA3, KMCP_API_VERSION,
                         MCPSERVER_KIND, MODELCONFIG_KIND, REMOTEMCPSERVER_KIND)
from ..runtime.kobject import api_group

Path = tuple[str, ...]
EVERY = "[]"  # a path step for "every list element"


def _under(prefix: Path, paths: tuple[Path, ...]) -> tuple[Path, ...]:
    return tuple(prefix + path for path in paths)


# kagent 0.x: the declarative agent inline; a tool entry is an MCP server or an agent (delegation).
_AGENT_V1ALPHA2 = (
    ("spec", "type"), ("spec", "byo"), ("spec", "skills"),
    *_under(("spec", "declarative"), tuple((f,) for f in (
        "systemMessage", "systemMessageFrom", "promptTemplate", "modelConfig", "tools", "a2aConfig", "memory"))),
    *(("spec", "declarative", "tools", EVERY, f) for f in ("mcpServer", "agent")),
    *(("spec", "declarative", "tools", EVERY, "mcpServer", f) for f in ("toolNames", "requireApproval")),
)
# kagent 1.0: an AgentTemplate's spec, and an Agent's inline spec.template, hold the agent; a tool
# entry is an MCP binding or a sub-agent (delegation).
_TEMPLATE_BODY: tuple[Path, ...] = (
    *((f,) for f in ("systemPrompt", "systemPromptFrom", "promptTemplate", "modelConfig", "tools", "skills")),
    *(("tools", EVERY, f) for f in ("mcp", "subAgent")),
    *(("tools", EVERY, "mcp", f) for f in ("tools", "requireApproval")),
)
_AGENT_V1ALPHA3 = (
    *(("spec", f) for f in ("template", "templateRef", "harness", "harnessRef")),  # the harness runs it
    *_under(("spec", "template"), _TEMPLATE_BODY),
)
_MODELCONFIG = tuple(("spec", f) for f in ("provider", "model", "apiKeySecret", "apiKeySecretKey", "defaultHeaders"))
_REMOTEMCPSERVER = tuple(("spec", f) for f in ("url", "headersFrom", "protocol"))
_MCPSERVER = tuple(("spec", "deployment", f) for f in ("image", "cmd", "args", "env"))

BEHAVIOUR: dict[str, dict[str, frozenset[Path]]] = {
    version: {kind: frozenset(paths) for kind, paths in kinds.items()} for version, kinds in {
        KAGENT_V1ALPHA2: {AGENT_KIND: _AGENT_V1ALPHA2, MODELCONFIG_KIND: _MODELCONFIG,
                          REMOTEMCPSERVER_KIND: _REMOTEMCPSERVER},
        KMCP_API_VERSION: {MCPSERVER_KIND: _MCPSERVER},
        KAGENT_V1ALPHA3: {AGENT_KIND: _AGENT_V1ALPHA3, AGENTTEMPLATE_KIND: _under(("spec",), _TEMPLATE_BODY),
                          MODELCONFIG_KIND: _MODELCONFIG, REMOTEMCPSERVER_KIND: _REMOTEMCPSERVER},
    }.items()}


def behaviour_fields(api_version: str, kind: str) -> frozenset[Path]:
    """The behaviour paths of `kind` at `api_version` (see the module doc for an unknown version)."""
    known = BEHAVIOUR.get(api_version, {}).get(kind)
    if known is not None:
        return known
    group = api_group(api_version)
    return frozenset().union(*(kinds.get(kind, ()) for version, kinds in BEHAVIOUR.items()
                               if api_group(version) == group))
