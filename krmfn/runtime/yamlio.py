"""YAML in and out through libyaml: strict on input, deterministic on output.

Input is refused (with `YamlError`, one line naming the source and position) when it is not
UTF-8, has duplicate keys, or expands aliases beyond a sane size (a billion-laughs bomb would
otherwise explode when dumped). Output never has anchors, sorts keys and writes multi-line
strings as literal blocks, so prompts stay readable and diffs stay small.
"""

from __future__ import annotations

from typing import Any, Iterable

import yaml

MAX_EXPANDED_NODES = 2_000_000  # far above any real render, far below an alias bomb
MAX_DEPTH = 200  # kagent objects nest about 15 deep; this only stops hostile input
# 2,000 expanded agents are about 6 MB; parsing costs ~20x the input size in memory.
DEFAULT_MAX_INPUT_MB = 16
MAX_INPUT_ENV = "KRMFN_MAX_INPUT_MB"


class YamlError(ValueError):
    """Unreadable YAML. The message is one line and names the source."""


class _StrictLoader(yaml.CSafeLoader):
    aliases_seen = 0

    def construct_object(self, node, deep=False):  # noqa: D401 - PyYAML hook
        if node in self.constructed_objects:
            self.aliases_seen += 1
        return super().construct_object(node, deep=deep)

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


# Timestamps stay strings (the API server and kyaml treat them as strings).
_StrictLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str
)


class _Dumper(yaml.CSafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)


def max_input_bytes() -> int:
    import os

    try:
        return int(float(os.environ.get(MAX_INPUT_ENV, DEFAULT_MAX_INPUT_MB)) * 1024 * 1024)
    except ValueError:
        return DEFAULT_MAX_INPUT_MB * 1024 * 1024


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


def load_all(data: bytes | str, source: str = "<stdin>") -> list[Any]:
    """Every document of a YAML (or JSON) stream; empty documents are dropped."""
    text = decode(data, source)
    loader = _StrictLoader(text)
    try:
        docs = []
        while loader.check_data():
            doc = loader.get_data()
            if doc is not None:
                docs.append(doc)
        if loader.aliases_seen:
            _check_expansion(docs, source)
        return docs
    except YamlError as err:
        raise YamlError(f"{source}: {err}") from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        raise YamlError(f"{source}: {where}{err.problem or err.context or 'invalid YAML'}") from None
    except yaml.YAMLError as err:
        raise YamlError(f"{source}: invalid YAML: {' '.join(str(err).split())}") from None
    except RecursionError:
        raise YamlError(f"{source}: nesting is too deep") from None
    finally:
        loader.dispose()


def load_one(data: bytes | str, source: str) -> Any:
    docs = load_all(data, source)
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
    """Refuse alias graphs whose expansion (what dumping would write) is huge."""
    memo: dict[int, int] = {}

    def size(value: Any, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise YamlError(f"{source}: nesting deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            children = list(value.keys()) + list(value.values())
        elif isinstance(value, list):
            children = value
        else:
            return 1
        key = id(value)
        if key in memo:
            return memo[key]
        total = 1
        for child in children:
            total += size(child, depth + 1)
            if total > MAX_EXPANDED_NODES:
                raise YamlError(
                    f"{source}: aliases expand to more than {MAX_EXPANDED_NODES:,} nodes (an alias bomb?)"
                )
        memo[key] = total
        return total

    for doc in docs:
        size(doc, 0)
