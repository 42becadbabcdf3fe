"""YAML in and out through libyaml: strict on input, deterministic on output.

Input is refused (with `YamlError`, one line naming the source and position) when it is not
UTF-8, has duplicate keys or tags krmfn does not read, costs more work to load than its size
allows (nodes, nodes by depth: counted before anything is built), or expands aliases beyond a sane
size (a billion-laughs bomb would otherwise explode when dumped). Output never has anchors, sorts keys and writes multi-line
strings as literal blocks, so prompts stay readable and diffs stay small.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

import yaml

# Nodes that aliases may add to the input (each is copied in the output): anchors reuse a few
# blocks; a billion-laughs bomb adds billions. 100,000 more nodes cost about a second to process.
MAX_ALIAS_NODES = 100_000
MAX_DEPTH = 200  # kagent objects nest about 15 deep, CRD schemas about 40; this only stops hostile input
# Composing a node costs ~400 bytes and a few microseconds, so bytes alone do not bound the work.
# The nodes are counted on libyaml's events first (a fifth of the cost, no memory kept), so a
# hostile input is refused before anything is composed: one node per 40 bytes of the input limit (16 MiB: 419,430 nodes, twice a 2,000-agent render,
# refused within about a second and 200 MB). Deep nodes cost more downstream: nodes weighted by
# their depth get 16 times the node budget (every kagent CRD of every version together: 2.5 million).
BYTES_PER_NODE = 40
DEPTH_WEIGHT = 16
# 2,000 expanded agents are about 6 MB; parsing costs ~20x the input size in memory.
DEFAULT_MAX_INPUT_MB = 16
MAX_INPUT_ENV = "KRMFN_MAX_INPUT_MB"


class YamlError(ValueError):
    """Unreadable YAML. The message is one line and names the source."""


class Budget:
    """The work a run's loading may do, shared by every document and file of the run.

    Counted over libyaml's event stream before anything is composed (`count`): events cost a
    fifth of what composing nodes costs, so a hostile input is refused after that much work, never
    after building all of it.
    """

    def __init__(self) -> None:
        limit = max_input_bytes()
        self.max_nodes = limit // BYTES_PER_NODE
        self.max_weight = self.max_nodes * DEPTH_WEIGHT
        self.nodes = self.weight = 0

    def count(self, text: str) -> bool:
        """Add the nodes of every document of `text` (nodes, and nodes weighted by their depth, the
        root at depth 1; aliases add none), refusing at the first node over a budget, too deep or
        with a tag krmfn does not read. True when `text` has aliases (their expansion is checked
        once loaded)."""
        parser = yaml.CSafeLoader(text)  # the C parser alone: events, no nodes
        nodes, weight, depth, aliases = self.nodes, self.weight, 0, False
        max_nodes, max_weight = self.max_nodes, self.max_weight
        scalar, starts, ends = yaml.ScalarEvent, (yaml.SequenceStartEvent, yaml.MappingStartEvent), \
            (yaml.SequenceEndEvent, yaml.MappingEndEvent)
        try:
            while True:
                event = parser.get_event()
                kind = type(event)
                if kind is scalar:
                    nodes += 1
                    weight += depth + 1
                elif kind in starts:
                    depth += 1
                    nodes += 1
                    weight += depth
                    if depth > MAX_DEPTH:
                        _refuse(event, f"nesting deeper than {MAX_DEPTH} levels")
                elif kind in ends:
                    depth -= 1
                    continue
                elif kind is yaml.AliasEvent:
                    aliases = True
                    continue
                elif kind is yaml.StreamEndEvent:
                    return aliases
                else:
                    continue
                if nodes > max_nodes:
                    _refuse(event, f"more than {max_nodes:,} YAML nodes")
                if weight > max_weight:
                    _refuse(event, f"more than {max_weight:,} nodes counted by depth (too many nodes nested too deep)")
                tag = event.tag
                if tag is not None and tag != "!" and tag not in _TAGS:
                    mark, shown = event.start_mark, tag.replace("tag:yaml.org,2002:", "!!", 1)
                    raise YamlError(f"line {mark.line + 1} column {mark.column + 1}: the YAML tag {shown!r} is not "
                                    "supported (krmfn reads strings, numbers, booleans, null, lists and maps only)")
        finally:
            self.nodes, self.weight = nodes, weight
            parser.dispose()


def _refuse(event: Any, problem: str) -> None:
    mark = event.start_mark
    raise YamlError(f"line {mark.line + 1} column {mark.column + 1}: {problem}; refused before doing more work "
                    f"(raise the limit with {MAX_INPUT_ENV})")


class _StrictLoader(yaml.CSafeLoader):
    """Composes and constructs what `Budget.count` let through (bounded, plain tags only)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: set = set()
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    if key_node.value in seen:
                        mark = key_node.start_mark
                        raise YamlError(
                            f"line {mark.line + 1} column {mark.column + 1}: "
                            f"duplicate key {key_node.value!r}"
                        )
                    seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


# The only tags a node may have: what plain YAML resolves to. Others (`!!set`, whose order depends
# on the hash seed, `!!binary`, `!!omap`, `!!python/...`, local tags such as `!vault`) are refused.
_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map",
                                                           "timestamp"))

# Timestamps stay strings (the API server and kyaml treat them as strings).
_StrictLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str
)

# Plain scalars are typed the way kustomize and kpt (kyaml, go-yaml v3: YAML 1.2 core schema, plus
# YAML 1.1 octals such as 0755) type them, not the YAML 1.1 way PyYAML does by default: `on`,
# `yes`, `no`, `off` and `=` are strings, `1:30` is a string (not 90), `1e3`, `1.5e3` and `0o755`
# are numbers. So `krmfn run` on a file reads what `kustomize build` hands a function, and a
# function reading kustomize's output types every value as kustomize meant it.
_NULL = r"^(?:~|null|Null|NULL|)$"
_BOOL = r"^(?:true|True|TRUE|false|False|FALSE)$"
_INT = r"^[-+]?(?:0[bB]_*[01][01_]*|0[oO]_*[0-7][0-7_]*|0[xX]_*[0-9a-fA-F][0-9a-fA-F_]*|[0-9][0-9_]*)$"
_FLOAT = (r"^(?:[-+]?(?:\.[0-9][0-9_]*|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
          r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
_DIGITS = "0123456789"
_YAML12_NUMBERS = (("tag:yaml.org,2002:int", _INT, "-+" + _DIGITS),
                   ("tag:yaml.org,2002:float", _FLOAT, "-+." + _DIGITS))
_TIMESTAMP = next(r.pattern for t, r in yaml.resolver.Resolver.yaml_implicit_resolvers["2"]
                  if t == "tag:yaml.org,2002:timestamp")


def _resolvers(rules, base: dict | None = None) -> dict[str, list]:
    """A PyYAML implicit-resolver table (first character -> [(tag, regexp)]); "" is the empty scalar."""
    table = {char: list(entries) for char, entries in (base or {}).items()}
    for tag, pattern, first in rules:
        for char in first:
            table.setdefault(char, []).append((tag, re.compile(pattern, re.X if "\n" in pattern else 0)))
    return table


_StrictLoader.yaml_implicit_resolvers = _resolvers((
    ("tag:yaml.org,2002:null", _NULL, ["", "~", "n", "N"]),
    ("tag:yaml.org,2002:bool", _BOOL, "tTfF"),
    *_YAML12_NUMBERS,
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", "<"),
    ("tag:yaml.org,2002:timestamp", _TIMESTAMP, _DIGITS),
))


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node).replace("_", "")
    sign = -1 if text[:1] == "-" else 1
    text = text.lstrip("-+")
    prefix = text[:2].lower()
    if prefix in ("0b", "0o", "0x"):
        return sign * int(text[2:], {"0b": 2, "0o": 8, "0x": 16}[prefix])
    if len(text) > 1 and text[0] == "0" and set(text) <= set("01234567"):
        return sign * int(text, 8)  # the YAML 1.1 octal go-yaml v3 still reads: 0755 is 493
    return sign * int(text)


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


class _Dumper(yaml.CSafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


# A string is written plain only when every reader takes it for a string: PyYAML and the API
# server (YAML 1.1: `on`, `no`, `1:30`, `=` ...) and kustomize (YAML 1.2: `1e3`, `0o755`, `08` ...).
# go-yaml v2 (under sigs.k8s.io/yaml: `kubectl apply -f`, the API machinery) also reads y, Y, n and N
# as booleans, so ModelConfig `openAI.n: 1` written plain would reach the API server as `false: 1`.
_Dumper.yaml_implicit_resolvers = _resolvers(
    (*_YAML12_NUMBERS, ("tag:yaml.org,2002:bool", r"^(?:y|Y|n|N)$", "yYnN")),
    base=yaml.resolver.Resolver.yaml_implicit_resolvers)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)


def max_input_bytes() -> int:
    """The input limit in bytes; a value of KRMFN_MAX_INPUT_MB that is not a positive, finite
    number of MiB is refused (guessing a limit would hide the mistake)."""
    import math
    import os

    text = os.environ.get(MAX_INPUT_ENV)
    if text is None:
        return DEFAULT_MAX_INPUT_MB * 1024 * 1024
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= 1024 * 1024):
        raise YamlError(f"{MAX_INPUT_ENV}={text!r}: expected a positive number of MiB (default {DEFAULT_MAX_INPUT_MB})")
    return int(value * 1024 * 1024)


def read_input(stream: Any, source: str, already: int = 0) -> bytes:
    """All of a stream (its binary layer when it has one), refused as soon as it (plus `already`
    bytes read before it from other sources of the same run) passes the input limit: a huge input
    is never read whole. A closed or unreadable stream is one line too."""
    limit = max_input_bytes()
    stream = getattr(stream, "buffer", stream)
    if stream is None:
        raise YamlError(f"{source}: cannot read the input: it is closed")
    try:
        data = stream.read(max(limit - already, 0) + 1)
    except (OSError, ValueError) as err:
        raise YamlError(f"{source}: cannot read the input: {getattr(err, 'strerror', None) or err}") from None
    if already + len(data) > limit:
        what = "input is" if not already else "inputs together are"
        raise YamlError(f"{source}: {what} more than the {limit / 1048576:g} MiB limit "
                        f"(raise it with {MAX_INPUT_ENV})")
    return data


def decode(data: bytes | str, source: str) -> str:
    """Bytes to text: UTF-8 only, a leading BOM dropped, size bounded."""
    limit = max_input_bytes()
    if len(data) > limit:
        raise YamlError(
            f"{source}: input is {len(data) / 1048576:.1f} MiB, more than the {limit / 1048576:g} MiB limit "
            f"(raise it with {MAX_INPUT_ENV})"
        )
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise YamlError(f"{source}: not UTF-8 (byte {err.start}: {data[err.start:err.start + 1]!r})") from None
    return data[1:] if data.startswith("\ufeff") else data


def load_all(data: bytes | str, source: str = "<stdin>", budget: Budget | None = None) -> list[Any]:
    """Every document of a YAML (or JSON) stream; empty documents are dropped. `budget` is shared
    by every load of the same run (a fresh one when not given)."""
    text = decode(data, source)
    loader = _StrictLoader(text)
    try:
        aliases = (budget if budget is not None else Budget()).count(text)
        docs = []
        while loader.check_data():
            doc = loader.get_data()
            if doc is not None:
                docs.append(doc)
        if aliases:
            _check_expansion(docs, source)
        return docs
    except YamlError as err:
        raise YamlError(f"{source}: {err}") from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        raise YamlError(f"{source}: {where}{err.problem or err.context or 'invalid YAML'}") from None
    except yaml.reader.ReaderError as err:  # a control character such as NUL
        before = text.encode("utf-8", "surrogatepass")[:err.position]
        line, column = before.count(b"\n") + 1, len(before) - (before.rfind(b"\n") + 1) + 1
        character = err.character if isinstance(err.character, int) else ord(str(err.character)[:1] or "?")
        raise YamlError(f"{source}: line {line} column {column}: unacceptable character #x{character:04x}: "
                        f"{err.reason}") from None
    except yaml.YAMLError as err:
        raise YamlError(f"{source}: invalid YAML: {' '.join(str(err).split())}") from None
    except RecursionError:
        raise YamlError(f"{source}: nesting is too deep") from None
    except ValueError as err:  # e.g. an integer of more than 4,300 digits
        raise YamlError(f"{source}: invalid YAML: {' '.join(str(err).split())}") from None
    finally:
        loader.dispose()


def load_one(data: bytes | str, source: str, budget: Budget | None = None) -> Any:
    docs = load_all(data, source, budget)
    if len(docs) != 1:
        raise YamlError(f"{source}: expected one YAML document, found {len(docs)}")
    return docs[0]


def dump_all(docs: Iterable[Any]) -> str:
    return yaml.dump_all(
        list(docs),
        Dumper=_Dumper,
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=True,
        width=1_000_000,
        explicit_start=False,
    )


def dump(doc: Any) -> str:
    return dump_all([doc])


def _check_expansion(docs: list[Any], source: str) -> None:
    """Refuse alias graphs whose expansion (what dumping would write) is much larger than the input
    itself: YAML anchors reuse small blocks; a billion-laughs bomb multiplies them."""
    memo: dict[int, int | None] = {}
    distinct = 0

    def size(value: Any, depth: int) -> int:
        nonlocal distinct
        if depth > MAX_DEPTH:
            raise YamlError(f"nesting deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            children = [*value.keys(), *value.values()]
        elif isinstance(value, list):
            children = value
        else:
            return 1
        key = id(value)
        if key in memo:
            if memo[key] is None:
                raise YamlError("an alias refers to a node that contains it (a recursive alias)")
            return memo[key]
        memo[key] = None
        distinct += 1 + sum(1 for child in children if not isinstance(child, (dict, list)))
        total = 1 + sum(size(child, depth + 1) for child in children)
        memo[key] = total
        return total

    added = sum(size(doc, 0) for doc in docs) - distinct
    if added > MAX_ALIAS_NODES:
        raise YamlError(f"aliases expand to {added:,} more nodes than the input holds, more than "
                        f"{MAX_ALIAS_NODES:,} (an alias bomb?)")
