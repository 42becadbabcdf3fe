"""`krmfn show SOURCE AGENT`: one agent as it will run.

SOURCE is a kustomization (rendered first, as `krmfn build` renders it) or a render (a file, a
directory of rendered YAML, or `-`); AGENT is NAME or NAMESPACE/NAME. Prints what the agent is told
(its rendered prompt), the model and provider that run it, every tool it may call with its risk
class and whether a human must approve each call (a server version as SERVER@VERSION), the agents
it delegates to, and what it reaches through them. --format json for scripts. Exit codes: 0 shown;
1 error (no such agent, a failed render).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from ..runtime import output


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="krmfn show", description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="a kustomization DIR (e.g. overlays/prod) or a render (file, directory, -)")
    parser.add_argument("agent", help="NAME or NAMESPACE/NAME")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    from ..review import sources

    try:
        render = _render(args.source)
    except sources.SourceError as err:
        output.error(f"[error] {err}")
        return 1
    try:
        agent = render.agent(args.agent, args.source)
    except LookupError as err:
        output.error(f"[error] {err}")
        return 1
    from ..review.changes import server_versions

    versions = {key: f"{v.server}@{v.version}" for key, v in server_versions(render).items() if v.version}
    if args.format == "json":
        output.write_stdout(json.dumps(_doc(agent, versions), indent=2, ensure_ascii=False) + "\n")
    else:
        output.write_stdout(_text(agent, versions))
    return 0


def _render(source: str):
    from ..review import sources
    from ..review.model import Render
    from ..runtime.files import KUSTOMIZATIONS

    if os.path.isdir(source) and any(os.path.isfile(os.path.join(source, n)) for n in KUSTOMIZATIONS):
        from ..render import RenderError, build, objects

        try:
            rendered = build(source)
        except RenderError as err:
            raise sources.SourceError("; ".join([str(err), *err.lines])) from None
        return Render.from_objects(objects(rendered, source))
    return sources.load(source)


def _server(key: str, versions: dict[str, str]) -> dict:
    """A server object, and the catalog server version it is (`SERVER@VERSION`) when it is one."""
    return {"server": key, **({"serverVersion": versions[key]} if key in versions else {})}


def _doc(agent, versions: dict[str, str]) -> dict:
    return {
        "agent": agent.key, "type": agent.type, "description": agent.description,
        "model": agent.model.to_json(), "memory": agent.memory.to_json() if agent.memory else None,
        "prompt": {part: text for part, text in agent.prompt.items()}, "promptSource": agent.prompt_source,
        "tools": [{**_server(g.server, versions), "tool": g.tool, "risk": g.risk, "requireApproval": g.approval}
                  for g in agent.grants()],
        "delegates": agent.delegates,
        "reach": [{**_server(s, versions), "tool": t, "risk": r.risk, "via": list(r.via)}
                  for (s, t), r in sorted(agent.reach.items())],
        "deployment": agent.deployment,
    }


def _text(agent, versions: dict[str, str]) -> str:
    out = [f"{agent.key} ({agent.type})"]
    if agent.description:
        out.append(f"  {agent.description}")
    said = [f"tier {agent.model.tier}"] if agent.model.tier else []
    said += [f"effort {agent.model.effort}"] if agent.model.effort else []
    tier = f" ({', '.join(said)})" if said else ""
    out += ["", f"model: {agent.model.describe()}{tier}, ModelConfig {agent.model.config or '(none)'}"]
    if agent.memory is not None:
        out.append(f"memory: {agent.memory.describe()}, ModelConfig {agent.memory.config}")
    out += ["", "tools:"]
    grants = agent.grants()
    out += [f"  {g.tool}  on {versions.get(g.server, g.server)}  {g.risk}" + ("  (requires approval)" if g.approval else "") for g in grants] \
        or ["  (none)"]
    out += ["", "delegates to: " + (", ".join(agent.delegates) or "(none)")]
    if agent.reach:
        out.append("reaches through them:")
        out += [f"  {r.risk}: {t} on {versions.get(s, s)} via {' -> '.join(r.via)}" for (s, t), r in
                sorted(agent.reach.items(), key=lambda kv: kv[1].risk)]
    out += ["", f"prompt ({agent.prompt_source}):"]
    for part, text in agent.prompt.items():
        out.append(f"--- {part}")
        out += ["  " + line for line in (text if text is not None else "(not in the render)").splitlines()]
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run(sys.argv[1:]))
