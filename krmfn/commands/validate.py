"""`krmfn validate --crds DIR PATH...`: would a cluster running that kagent accept this render?

Checks every kagent object in the rendered YAML (files, directories, or `-` for stdin) against
the CRD schema and CEL rules, and the references the API server does not check. Prints one line
per problem; exit 1 when there is an error.
"""

from __future__ import annotations

import argparse
import sys

from ..runtime import engine, files, yamlio
from ..runtime.resourcelist import ResourceList


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="krmfn validate", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="rendered YAML: files, directories, or - for stdin")
    parser.add_argument("--crds", action="append", default=[], required=True,
                        help="CRD file or directory of the target kagent version (repeatable)")
    parser.add_argument("--external", action="append", default=[], metavar="KIND/NAMESPACE/NAME",
                        help="an object that exists outside the render (NAMESPACE may be *); repeatable")
    parser.add_argument("--no-references", action="store_true", help="only the schema and CEL checks")
    parser.add_argument("--warnings-as-errors", action="store_true")
    args = parser.parse_args(argv)
    try:
        items = files.read_objects(args.paths)
    except (files.FileInputError, yamlio.YamlError) as err:
        print(f"[error] {err}", file=sys.stderr)
        return 1
    config = {"apiVersion": "krmfn.dev/v1alpha1", "kind": "KagentConformance", "metadata": {"name": "validate"},
              "spec": {"crds": args.crds, "external": args.external, "checkReferences": not args.no_references,
                       "warningsAsErrors": args.warnings_as_errors}}
    rl = ResourceList(items=items, function_config=config)
    code = engine.run(rl)
    for line in engine.error_lines(rl.results):
        print(line, file=sys.stderr)
    if code == 0:
        kagent = sum(1 for i in items if str(i.get("apiVersion", "")).startswith(("kagent.dev/", "api.kagent.dev/")))
        print(f"ok: {kagent} kagent objects conform to {', '.join(args.crds)}", file=sys.stderr)
    return code
