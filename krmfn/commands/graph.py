"""`krmfn graph`: a Mermaid flowchart of agents, model configs, tool servers and delegation.

  krmfn graph RENDER                  a rendered YAML stream, directory of rendered YAML, or `-`
  krmfn graph --git REV DIR           the kustomization DIR rendered at REV (REV1..REV2: their difference)
  krmfn graph --diff OLD NEW          the difference of two renders (added green, removed red and dashed)

--markdown wraps the diagram in a ```mermaid block, ready for a pull-request comment.
Exit codes: 0 printed; 1 error.
"""

from __future__ import annotations

import argparse
import os
import sys

from .args import CommandParser, UsageError


def run(argv: list[str]) -> int:
    p = CommandParser(prog="krmfn graph", description=__doc__.split("\n\n")[0],
                      formatter_class=argparse.RawDescriptionHelpFormatter,
                      epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    p.add_argument("paths", nargs="*", metavar="PATH")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--git", metavar="REV", help="render DIR at REV (or REV1..REV2 for a difference)")
    mode.add_argument("--diff", action="store_true", help="PATHS are OLD and NEW: draw their difference")
    p.add_argument("--markdown", action="store_true", help="wrap the diagram in a ```mermaid block")
    p.add_argument("--direction", choices=("LR", "TB", "RL", "BT"), default="LR")
    p.add_argument("-o", "--output", help="write to this file instead of stdout")
    p.add_argument("--kustomize", help="with --git: the kustomize `krmfn build` uses")
    p.add_argument("--allow-empty", action="store_true", help="a render without any kagent object is not an error")
    try:
        args = p.parse_args(argv)
        if args.output:
            from ..runtime import output

            output.check_writable_destination(args.output)  # before rendering, not after
        text = _graph(args)
        if args.markdown:
            text = f"```mermaid\n{text}```\n"
        from ..runtime import output

        if args.output:
            output.write_file(args.output, text)
        else:
            output.write_stdout(text)
        return 0
    except (UsageError, ValueError) as err:
        print(f"[error] {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"[error] {getattr(err, 'filename', None) or 'output'}: {err.strerror or err}", file=sys.stderr)
        return 1


def _graph(args) -> str:
    from ..review import mermaid, sources
    from ..review.model import Render

    if args.git is not None:
        if len(args.paths) != 1:
            raise UsageError("krmfn graph: --git REV takes one kustomization DIR")
        directory = args.paths[0]
        if not os.path.isdir(directory):
            raise sources.SourceError(f"{directory}: no such directory")
        with sources.GitRenderer(directory, args.kustomize) as git:
            if ".." in args.git:
                span = git.span(args.git)
                old, new = git.render(directory, span.old), git.render(directory, span.new)
                if old is None and new is None:
                    raise sources.SourceError(f"{directory} exists at neither revision")
                return mermaid.graph_diff(old or Render({}, {}, {}), new or Render({}, {}, {}), args.direction)
            rendered = git.render(directory, git.commit(args.git))
            if rendered is None:
                raise sources.SourceError(f"{directory} does not exist at {args.git}")
            return mermaid.graph(rendered, args.direction)
    if args.kustomize:
        raise UsageError("krmfn graph: --kustomize only applies with --git")
    if args.diff:
        if len(args.paths) != 2:
            raise UsageError("krmfn graph: --diff takes OLD and NEW")
        old, new = sources.load(args.paths[0]), sources.load(args.paths[1])
        sources.require_kagent([(args.paths[0], old), (args.paths[1], new)], args.allow_empty)
        return mermaid.graph_diff(old, new, args.direction)
    if len(args.paths) != 1:
        raise UsageError("krmfn graph: expected one RENDER (a file, a directory or -)")
    rendered = sources.load(args.paths[0])
    sources.require_kagent([(args.paths[0], rendered)], args.allow_empty)
    return mermaid.graph(rendered, args.direction)
