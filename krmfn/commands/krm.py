"""KRM function mode: ResourceList on stdin, ResourceList on stdout (container and exec functions)."""

from __future__ import annotations

import sys

from ..runtime import engine, output
from ..runtime.resourcelist import InputError, ResourceList
from ..runtime.results import Result
from ..runtime.yamlio import YamlError, read_input


def main() -> int:
    if sys.stdin is not None and sys.stdin.isatty():
        # a person typed `krmfn`: say what it waits for instead of seeming to hang
        output.error("[info] krmfn runs as a KRM function: it is waiting for a ResourceList on stdin "
                     "(end it with Ctrl-D; `krmfn --help` lists the commands)")
    try:
        rl = ResourceList.parse(read_input(sys.stdin, "<stdin>"))
    except (InputError, YamlError) as err:
        # No usable input: still answer with a ResourceList that carries the error.
        rl = ResourceList(results=[Result(str(err))])
        return emit(rl, 1)
    return emit(rl, engine.run(rl))


def emit(rl: ResourceList, code: int) -> int:
    output.write_stdout(rl.dump())
    for line in engine.error_lines(rl.results):
        output.error(line)
    return code
