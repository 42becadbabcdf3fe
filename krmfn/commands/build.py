"""`krmfn build DIR`: render a kustomization with the krmfn functions, wherever it runs.

It picks the fastest kustomize that renders the kustomization correctly (`kubectl kustomize`;
the standalone `kustomize` when an exec function needs `--enable-exec`), passes the flags KRM
functions need, and checks the functions really ran (kustomize skips exec functions silently
without `--enable-exec`). Where no container engine can run the krmfn image (Argo CD's repo
server, CI without Docker), a `docker` stand-in first on PATH runs krmfn's own images natively, at
the version the kustomization pins; other images go to the real engine. See `krmfn.render`.
"""

from __future__ import annotations

import argparse
import os
import sys

from ..render import MODE_ENV  # noqa: F401  (the documented name of the mode's environment variable)


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="krmfn build", description=__doc__.splitlines()[0])
    parser.add_argument("directory", help="the kustomization to render (e.g. overlays/prod)")
    parser.add_argument("-o", "--output", help="write the manifests to this file instead of stdout")
    parser.add_argument("--kustomize", help="kustomize command (default: $KRMFN_KUSTOMIZE, else kubectl kustomize, "
                                            "or the standalone kustomize when exec functions need it)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="say on stderr which kustomize (path, version) and mode rendered it")
    engine = parser.add_mutually_exclusive_group()
    engine.add_argument("--native", action="store_true",
                        help="always run krmfn's own images natively (no container engine); without "
                             "--native/--containers, $KRMFN_BUILD_MODE (native, containers, auto) decides, "
                             "else auto: natively when no container engine works")
    engine.add_argument("--containers", action="store_true",
                        help="always run functions in the container engine, even krmfn's own")
    args = parser.parse_args(argv)
    from ..render import BuildOptions, RenderError, build

    mode = "native" if args.native else "containers" if args.containers else None
    from ..runtime import output

    try:
        if args.output:
            output.check_writable_destination(args.output)  # before minutes of rendering, not after
    except output.OutputError as err:
        return _fail(str(err))
    try:
        rendered = build(args.directory, BuildOptions(mode=mode, kustomize=args.kustomize))
    except RenderError as err:
        for line in err.lines:
            print(line, file=sys.stderr)
        return _fail(str(err))
    sys.stderr.write(rendered.stderr)
    if args.verbose:
        print(f"[info] krmfn build {args.directory}: {rendered.kustomize.describe()}, "
              f"{'kustomize build' if rendered.kustomize.standalone else 'kubectl kustomize'} "
              f"({rendered.kustomize.why}); krmfn's image run {rendered.mode}", file=sys.stderr)
        for line in agent_summaries(rendered.manifests):
            print(line, file=sys.stderr)
    from ..render.tree import unlisted_descriptions

    for path in unlisted_descriptions(args.directory):
        folder = os.path.dirname(path) or "."
        print(f"[warning] {path}: an AgentDescription no kustomization lists, so it is not rendered; add it to "
              f"the resources of {os.path.join(folder, 'kustomization.yaml')} (krmfn new agent does), or delete it",
              file=sys.stderr)
    # through the output module: a short or failed write is an error, and a file appears whole
    if args.output:
        output.write_file(args.output, rendered.manifests)
    else:
        output.write_stdout(rendered.manifests)
    return 0


def agent_summaries(manifests: bytes) -> list[str]:
    """One line per agent of a render: its model, how many tools (how many destructive), delegates."""
    from ..review.model import Render
    from ..runtime import yamlio

    render = Render.from_objects(yamlio.load_all(manifests, "the render"))
    lines = []
    for key, agent in sorted(render.agents.items()):
        grants = agent.grants()
        destructive = len(agent.destructive_grants())
        tier = f" (tier {agent.model.tier})" if agent.model.tier else ""
        line = (f"[info] agent {key}: {agent.model.describe()}{tier}, {len(grants)} tool{'s' if len(grants) != 1 else ''}"
                + (f" ({destructive} destructive)" if destructive else ""))
        if agent.delegates:
            line += ", delegates to " + ", ".join(agent.delegates)
        lines.append(line)
    return lines


def container_run(argv: list[str]) -> int:
    """`docker run ... IMAGE` as kustomize calls it, served natively for krmfn's own image."""
    from ..render import standin

    call = standin.parse(argv)
    if call.error:
        return _fail(call.why)
    if not call.serve:
        real = os.environ.get(standin.ENGINE_ENV)
        if not real:
            return _fail(f"{call.why}, and there is no container engine to run it (set {standin.ENGINE_ENV})")
        os.execv(real, [real, *argv])
    os.environ.update(call.env)
    from . import krm

    return krm.main()


def _fail(message: str) -> int:
    print(f"[error] {message}", file=sys.stderr)
    return 1
