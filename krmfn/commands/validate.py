"""`krmfn validate --crds DIR PATH...`: would a cluster running that kagent accept this render?

Checks every kagent object in the rendered YAML (files, directories, or `-` for stdin) against
the CRD schema and CEL rules, and the references the API server does not check. Prints one line
per problem; exit 1 when there is an error.
"""

from __future__ import annotations

import argparse
import sys

from ..constants import API_VERSION, KAGENT_GROUPS
from ..runtime import engine, files, yamlio
from ..runtime.kobject import KObject
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
    parser.add_argument("--allow-empty", action="store_true",
                        help="a render without any kagent object is not an error (nothing is checked)")
    args = parser.parse_args(argv)
    from ..api.conformance import external_reference

    for value in args.external:
        try:
            external_reference(value)
        except ValueError as err:  # said of the flag the user typed, not of a config they never wrote
            print(f"[error] --external {err}", file=sys.stderr)
            return 1
    try:
        items = files.read_objects(args.paths)
    except (files.FileInputError, yamlio.YamlError) as err:
        print(f"[error] {err}", file=sys.stderr)
        return 1
    kagent = sum(1 for i in items if KObject(i).group in KAGENT_GROUPS)
    if not kagent and not args.allow_empty:
        print(f"[error] {' '.join(args.paths)}: no kagent objects, so nothing was checked (a wrong path?); "
              "pass --allow-empty if an empty render is expected", file=sys.stderr)
        return 1
    config = {"apiVersion": API_VERSION, "kind": "KagentConformance", "metadata": {"name": "validate"},
              "spec": {"crds": args.crds, "external": args.external, "checkReferences": not args.no_references,
                       "warningsAsErrors": args.warnings_as_errors}}
    rl = ResourceList(items=items, function_config=config)
    code = engine.run(rl)
    for line in engine.error_lines(rl.results):
        print(line, file=sys.stderr)
    if code == 0:
        print(f"ok: {kagent} kagent objects conform to {', '.join(args.crds)}", file=sys.stderr)
    return code
