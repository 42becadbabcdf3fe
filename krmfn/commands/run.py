"""`krmfn run CONFIG [PATH ...]`: run a function on files, like `kpt fn eval` / `kustomize fn run`.

For debugging and CI: prints the resulting objects as a plain YAML stream (or the whole
ResourceList with `--resource-list`) and the errors as readable lines.
"""

from __future__ import annotations

import argparse
import sys

from ..runtime import engine, files, output, yamlio
from ..runtime.resourcelist import ResourceList


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="krmfn run", description=__doc__.splitlines()[0])
    parser.add_argument("config", help="the function config file (e.g. a ModelEnvironment)")
    parser.add_argument("paths", nargs="*", default=["-"], help="input files or directories (default: stdin)")
    parser.add_argument("--resource-list", action="store_true", help="print the ResourceList with results")
    parser.add_argument("--allow-empty", action="store_true", help="an input without any object is not an error")
    args = parser.parse_args(argv)
    try:
        with open(args.config, "rb") as handle:
            config = yamlio.load_one(yamlio.read_input(handle, args.config), args.config)
        if not isinstance(config, dict):
            raise files.FileInputError(f"{args.config}: expected a function config object")
        items = files.read_objects(args.paths)
    except OSError as err:
        print(f"[error] {args.config}: {err.strerror}", file=sys.stderr)
        return 1
    except (files.FileInputError, yamlio.YamlError) as err:
        print(f"[error] {err}", file=sys.stderr)
        return 1
    if not items and not args.allow_empty:
        print(f"[error] {' '.join(args.paths)}: no objects in the input, so the function had nothing to work on "
              "(a wrong path?); pass --allow-empty if an empty input is expected", file=sys.stderr)
        return 1
    rl = ResourceList(items=items, function_config=config)
    code = engine.run(rl)
    if args.resource_list:
        output.write_stdout(rl.dump())
    elif code == 0:
        output.write_stdout(yamlio.dump_all(files.strip_locations(rl.items)))
    for line in engine.error_lines(rl.results):
        output.error(line)
    return code
