"""Run one function over a ResourceList: dispatch, parse its config, contain failures, decide the exit code.

Whatever happens inside a function, the caller gets back a complete ResourceList (on failure:
the input items exactly as they came, from a deep snapshot, plus results) and an exit code that
is 1 whenever any result is an error. Nothing here prints (but a traceback when asked for with
KRMFN_DEBUG=1); the entry points (`krmfn.cli`) do.
"""

from __future__ import annotations

import importlib
import os
from typing import Any, Callable

from ..constants import API_VERSION, GROUP
from .registry import FUNCTIONS, FunctionEntry, known_kinds
from .resourcelist import ResourceList
from .results import ERROR, FileRef, FunctionFailure, Result, ResourceRef, has_errors

DEBUG_ENV = "KRMFN_DEBUG"


def debug_enabled() -> bool:
    return os.environ.get(DEBUG_ENV, "") not in ("", "0", "false")


def resolve(function_config: dict) -> tuple[FunctionEntry | None, Result | None]:
    api_version, kind = function_config.get("apiVersion"), function_config.get("kind")
    ref = ResourceRef.of(function_config)
    if isinstance(api_version, str) and api_version.split("/")[0] == GROUP and api_version != API_VERSION:
        return None, Result(
            f"apiVersion {api_version!r} is not served; this krmfn serves {API_VERSION}",
            resource=ref, field="apiVersion",
        )
    entry = FUNCTIONS.get(kind) if api_version == API_VERSION and isinstance(kind, str) else None
    if entry is None:
        return None, Result(
            f"unknown function config {api_version}/{kind}; krmfn knows: {known_kinds()}",
            resource=ref, field="kind",
        )
    return entry, None


def run(rl: ResourceList, process: Callable[[ResourceList, Any], None] | None = None, config: Any = None) -> int:
    """Apply the function the config names (or `process` with `config`, for tests) to `rl`.

    Returns the exit code.
    """
    if rl.function_config is None and process is None:
        return 0  # no config: a pass-through, as kustomize's `cat` functions are
    entry = None
    original = clone(rl.items)
    if process is None:
        entry, problem = resolve(rl.function_config)
        if problem is not None:
            rl.results.append(problem)
            withhold_credentials(rl)
            return 1
        config, problems = parse_config_refusing_credentials(entry, rl.function_config)
        rl.results.extend(problems)
        if config is None or has_errors(problems):
            withhold_credentials(rl)
            return 1
        process = importlib.import_module(entry.module).process

    before = _fingerprint(rl.items) if entry is not None and entry.validator else None
    duplicates = duplicate_identities(rl.items, "input")
    rl.results.extend(duplicates)
    try:
        if not duplicates:
            process(rl, config)
            rl.results.extend(duplicate_identities(rl.items, "output"))
    except FunctionFailure as failure:  # kept for callers outside krmfn's functions
        rl.results.extend(failure.results)
    except Exception as err:  # a bug must still yield a complete ResourceList and one line
        detail = f"internal error: {type(err).__name__}: {err}"
        if debug_enabled():
            import traceback  # here only: it costs every call ~10 ms of start-up (linecache, tokenize)

            traceback.print_exc()  # asked for: the one place krmfn shows a traceback
        else:
            detail += f" (set {DEBUG_ENV}=1 for a traceback)"
        rl.results.append(Result(detail, resource=rl.config_ref))

    if not has_errors(rl.results):
        if before is not None and _fingerprint(rl.items) != before:
            rl.results.append(Result(
                "validator changed the resources; validators must only report",
                resource=rl.config_ref,
            ))
        elif original and not rl.items:
            rl.results.append(Result(
                f"the function produced no items from {len(original)} input items; "
                "refusing an empty success (kustomize would drop every resource)",
                resource=rl.config_ref,
            ))
    if has_errors(rl.results):
        rl.items = original
        withhold_credentials(rl)
        return 1
    if before is None:
        # Output order must not depend on input order (kustomize and kpt may hand items over in
        # any order).
        rl.items.sort(key=canonical_key)
    return 0


def parse_config(entry: FunctionEntry, raw: dict) -> tuple[Any, list[Result]]:
    """The function's config, parsed once by the type the registry names."""
    module_name, _, name = entry.config.partition(":")
    parser = getattr(importlib.import_module(module_name), name)
    if isinstance(parser, type):
        from .typed import parse

        return parse(parser, raw)
    return parser(raw)


def parse_config_refusing_credentials(entry: FunctionEntry, raw: dict) -> tuple[Any, list[Result]]:
    """A literal credential in any function config is refused, never echoed: the config goes back out
    in the ResourceList, so `raw` itself is redacted; the config is parsed without the values."""
    from .secrets import redacted, scan

    secrets = scan(raw)
    if not secrets:
        return parse_config(entry, raw)
    from .typed import field_path

    refusals = [Result.about(raw, field_path(loc), message) for loc, message, _ in secrets]
    _, problems = parse_config(entry, redacted(raw, secrets, for_parsing=True))
    refused = {r.field for r in refusals}  # a value refused as a credential is not also "malformed"
    shown = redacted(raw, secrets, for_parsing=False)
    raw.clear()
    raw.update(shown)
    return None, refusals + [p for p in problems if p.field not in refused]


WITHHELD = "the output shows it as <redacted>"


def withhold_credentials(rl: ResourceList) -> None:
    """Restored items go back out, but never a literal credential in a krmfn function config among
    them (a Pipeline stage's configRef item): its value is replaced by <redacted>, and each one is
    refused (once, where no result names that field yet), saying so."""
    from .kobject import KObject
    from .secrets import redacted, scan
    from .typed import field_path

    named = {(str(r.resource), r.field) for r in rl.results}
    for index, item in enumerate(rl.items):
        ref = KObject(item)
        if ref.api_version != API_VERSION or ref.kind not in FUNCTIONS:
            continue
        secrets = scan(item)
        if not secrets:
            continue
        rl.items[index] = redacted(item, secrets, for_parsing=False)
        for loc, message, _ in secrets:
            field = field_path(loc)
            if (str(ResourceRef.of(item)), field) not in named:
                rl.results.append(Result.about(item, field, f"{message}; {WITHHELD}"))


def duplicate_identities(items: list, where: str) -> list[Result]:
    """Two items that are one object to the API server: kustomize and Argo CD would keep one of
    them, and a verdict about the other would be about nothing. Refused in every function."""
    from .kobject import KObject

    first: dict[tuple, dict] = {}
    out = []
    for item in items:
        ref = KObject(item)
        if not ref.kind or not ref.name:
            continue
        identity = ref.identity()
        if identity in first:
            other = FileRef.of(first[identity])
            also = f" ({other.path})" if other is not None else ""
            name = f"{ref.namespace}/{ref.name}" if identity[2] else ref.name
            out.append(Result.about(item, "metadata.name",
                                    f"duplicate {ref.kind} {name}: another {where} item is the same object{also}; "
                                    "each object may appear once"))
        else:
            first[identity] = item
    return out


def clone(value: Any) -> Any:
    """A deep copy of YAML data (maps, lists, scalars): the snapshot restored on failure."""
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clone(v) for v in value]
    return value


def canonical_key(item: dict) -> tuple[str, str, str, str]:
    meta = item.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    api_version = str(item.get("apiVersion", ""))
    group = api_version.rpartition("/")[0]
    return (group, str(item.get("kind", "")), str(meta.get("namespace") or ""), str(meta.get("name", "")))


def _fingerprint(items: list[dict]) -> str:
    """What a validator must leave unchanged: every item but the schema inputs it may consume."""
    from . import yamlio
    from .kobject import is_schema_input

    return yamlio.dump_all([item for item in items if not is_schema_input(item)])


def error_lines(results: list[Result]) -> list[str]:
    """The stderr lines: errors and warnings, in stable order."""
    from .resourcelist import sorted_results

    return [r.line() for r in sorted_results(results) if r.severity in (ERROR, "warning")]
