"""`krmfn tools [PATH ...]`: the tool catalog agents may draw from, with each tool's risk class.

Lists krmfn's built-in catalog of the kagent tool server and every ToolCatalog in the YAML files
under PATH (default: the current directory), with the risk the policy and the review use
(`krmfn.risk`: the riskiest class any catalog gives, the built-in catalog a floor). A server with
versions is listed per version (`NAMESPACE/NAME@VERSION`, its own tools and classes; the catalog's
default marked). Filter with --server (NAME, NAMESPACE/NAME or NAME@VERSION, globs allowed) and
--risk; --format json for scripts.
Exit codes: 0 listed; 1 error (a catalog that does not parse, or nothing matched).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from fnmatch import fnmatchcase

from ..constants import ANNOTATION_SERVERS_EMITTED, RISKS
from ..runtime.kobject import KObject
from ..runtime import files, output, yamlio


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="krmfn tools", description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", default=["."], help="files or directories holding ToolCatalogs")
    parser.add_argument("--server", action="append", default=[], help="only these servers (repeatable, globs)")
    parser.add_argument("--risk", action="append", default=[], choices=RISKS, help="only tools of this risk (repeatable)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    try:
        rows, problems = catalog_rows(args.paths)
    except (files.FileInputError, yamlio.YamlError) as err:
        output.error(f"[error] {err}")
        return 1
    for line in problems:
        output.error(line)
    if problems:
        return 1
    rows = [r for r in rows if _selected(r, args.server, args.risk)]
    if not rows:
        output.error("[error] no tool matches" + (" the filters" if args.server or args.risk else ""))
        return 1
    if args.format == "json":
        output.write_stdout(json.dumps(rows, indent=2) + "\n")
    else:
        width = max(len(_shown(r)) for r in rows)
        lines = [f"{'SERVER':<{width}}  {'RISK':<11}  TOOL  (SOURCE)"]
        lines += [f"{_shown(r):<{width}}  {r['risk']:<11}  {r['tool']}  ({r['source']}"
                  + (", default version" if r.get("default") else "") + ")" for r in rows]
        output.write_stdout("\n".join(lines) + "\n")
    return 0


def catalog_rows(paths: list[str]) -> tuple[list[dict], list[str]]:
    """One row per (server, tool): the risk model's class and where the tool is declared."""
    from ..api.catalog import ToolCatalog
    from ..expand.catalog import Catalog, version_order
    from ..runtime.results import Result
    from ..runtime.typed import parse

    catalog = Catalog()
    sources = {key: "built-in" for key in catalog.servers}
    problems: list[str] = []
    seen: set[str] = set()
    for path in paths:
        for file in _catalog_files(path):
            with open(file, "rb") as handle:
                docs = yamlio.load_all(yamlio.read_input(handle, file), file)
            for doc in docs:
                if not (isinstance(doc, dict) and doc.get("kind") == "ToolCatalog"):
                    continue
                ref = KObject(doc)
                if ref.annotations.get(ANNOTATION_SERVERS_EMITTED) == "true":
                    continue  # a copy expand passed on (a render), not a source
                identity = json.dumps([ref.namespace, ref.name, doc.get("spec")], sort_keys=True)
                if identity in seen:
                    continue  # the same catalog again (an example beside the sources): listed once
                seen.add(identity)
                model, found = parse(ToolCatalog, doc)
                problems += [f"{r.line()} ({file})" for r in found]
                if model is not None:
                    before = set(catalog.servers)
                    for field, message in catalog.add(model, doc):
                        problems.append(f"{Result.about(doc, field, message).line()} ({file})")
                    sources.update({key: os.path.relpath(file) for key in set(catalog.servers) - before})
    rows = []
    for key in sorted(catalog.servers):
        entry = catalog.servers[key]
        if entry.version is not None:
            continue  # listed under its server, below
        if not entry.versions:
            for tool in sorted(entry.tools):
                rows.append({"server": key, "kind": entry.kind, "tool": tool, "risk": entry.risk(tool),
                             "source": sources[key]})
        for version in sorted(entry.versions, key=version_order):
            release = entry.versions[version]
            for tool in sorted(release.tools):
                rows.append({"server": key, "version": version, "default": entry.spec.default == version,
                             "object": release.name, "kind": entry.kind, "tool": tool,
                             "risk": release.risk(tool), "source": sources[key]})
    return rows, problems


def _shown(row: dict) -> str:
    return f"{row['server']}@{row['version']}" if "version" in row else row["server"]


def _catalog_files(path: str) -> list[str]:
    """The YAML files under `path` that mention a ToolCatalog (read whole only if they do)."""
    if not os.path.exists(path):
        raise files.FileInputError(f"{path}: no such file or directory")
    if os.path.isfile(path):
        return [path]
    found = []
    for root, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in ("node_modules", "testdata"))
        for name in sorted(names):
            if name.endswith(files.YAML_SUFFIXES):
                file = os.path.join(root, name)
                try:
                    with open(file, "rb") as handle:
                        if b"ToolCatalog" in handle.read(1 << 20):
                            found.append(file)
                except OSError as err:
                    raise files.FileInputError(f"{file}: {err.strerror}") from None
    return found


def _selected(row: dict, servers: list[str], risks: list[str]) -> bool:
    names = [row["server"], row["server"].split("/", 1)[1]]
    if "version" in row:
        names += [f"{n}@{row['version']}" for n in names]
    if servers and not any(fnmatchcase(n, s) for n in names for s in servers):
        return False
    return not risks or row["risk"] in risks


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run(sys.argv[1:]))
