"""The KRM function runtime through the real `krmfn` entry point (a subprocess, as kustomize runs it)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
import yaml

import support
from krmfn import cli
from krmfn.runtime import engine, yamlio
from krmfn.runtime.resourcelist import ResourceList
from krmfn.runtime.results import Result

CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "keep", "namespace": "a",
             "annotations": {"config.kubernetes.io/path": "cm.yaml", "config.kubernetes.io/index": "0",
                             "internal.config.kubernetes.io/path": "cm.yaml",
                             "internal.config.kubernetes.io/index": "0",
                             "internal.config.kubernetes.io/id": "7", "config.k8s.io/id": "7"}},
             "data": {"on": "no", "n": "0755"}}
EXPAND = {"apiVersion": "krmfn.dev/v1alpha1", "kind": "AgentExpansion", "metadata": {"name": "expand"}}


def krmfn(stdin: bytes | str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return support.module(*args, stdin=stdin.encode() if isinstance(stdin, str) else stdin, env=env, timeout=60)


def resource_list(items, config=None) -> str:
    doc = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items}
    if config is not None:
        doc["functionConfig"] = config
    return yaml.safe_dump(doc)


def assert_one_error_line(proc, *fragments):
    lines = proc.stderr.decode().splitlines()
    assert proc.returncode == 1, proc.stderr
    assert len(lines) == 1, lines
    assert lines[0].startswith("[error] ")
    assert "Traceback" not in proc.stderr.decode()
    for fragment in fragments:
        assert fragment in lines[0]


def test_pass_through_keeps_items_and_annotations_byte_for_byte():
    proc = krmfn(resource_list([CONFIGMAP]))
    assert proc.returncode == 0 and proc.stderr == b""
    out = yamlio.load_one(proc.stdout, "out")
    assert out["kind"] == "ResourceList" and out["items"] == [CONFIGMAP]


def test_unknown_kind_lists_known_kinds():
    proc = krmfn(resource_list([CONFIGMAP], {"apiVersion": "krmfn.dev/v1alpha1", "kind": "Nope",
                                             "metadata": {"name": "x"}}))
    assert_one_error_line(proc, "unknown function config krmfn.dev/v1alpha1/Nope", "AgentExpansion",
                          "ModelEnvironment", "ToolPolicy")
    out = yamlio.load_one(proc.stdout, "out")
    assert out["items"] == [CONFIGMAP]  # a complete ResourceList, nothing lost
    assert out["results"][0]["severity"] == "error"


def test_other_version_of_the_group_is_refused_clearly():
    proc = krmfn(resource_list([], {"apiVersion": "krmfn.dev/v2", "kind": "AgentExpansion",
                                    "metadata": {"name": "x"}}))
    assert_one_error_line(proc, "apiVersion 'krmfn.dev/v2' is not served")


@pytest.mark.parametrize("stdin,fragment", [
    ("a: [", "line 2 column 1"),
    ("", "empty input"),
    ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n", "items: required field is missing"),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "expected ResourceList"),
    ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: [1]\n", "items[0]: expected an object"),
    (b"\xff\xfe", "not UTF-8"),
    ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nkind: List\nitems: []\n", "duplicate key 'kind'"),
    ("---\na: 1\n---\nb: 2\n", "found 2 documents"),
])
def test_bad_input_is_one_line_and_exit_1(stdin, fragment):
    proc = krmfn(stdin)
    assert_one_error_line(proc, fragment)
    out = yamlio.load_one(proc.stdout, "out")
    assert out["kind"] == "ResourceList" and out["items"] == [] and out["results"]


def test_kind_list_and_json_input_are_accepted():
    as_list = yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [CONFIGMAP]})
    as_json = json.dumps({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [CONFIGMAP]})
    for stdin in (as_list, as_json):
        proc = krmfn(stdin)
        assert proc.returncode == 0, proc.stderr
        assert yamlio.load_one(proc.stdout, "out")["items"] == [CONFIGMAP]


def test_typed_config_errors_name_the_field_and_suggest():
    config = dict(EXPAND, spec={"promtMode": "Inline"})
    proc = krmfn(resource_list([CONFIGMAP], config))
    assert_one_error_line(proc, "krmfn.dev/v1alpha1/AgentExpansion/expand spec.promtMode",
                          "unknown field 'promtMode'; did you mean 'promptMode'?")
    proc = krmfn(resource_list([CONFIGMAP], dict(EXPAND, spec={"promptMode": 3})))
    assert_one_error_line(proc, "spec.promptMode")


def _raising(rl, config=None):
    raise KeyError("boom")


def test_a_function_that_raises_gives_one_line_and_the_input_back(monkeypatch, capsys):
    rl = ResourceList(items=[CONFIGMAP], function_config=EXPAND)
    assert engine.run(rl, process=_raising) == 1
    assert rl.items == [CONFIGMAP]
    lines = engine.error_lines(rl.results)
    assert len(lines) == 1 and "internal error: KeyError" in lines[0] and "KRMFN_DEBUG=1" in lines[0]
    assert "Traceback" not in capsys.readouterr().err


def test_a_raising_function_through_the_cli(monkeypatch, capsys):
    """The real entry point with a real registered kind whose module raises."""
    import krmfn.fn.expand as expand

    monkeypatch.setattr(expand, "process", _raising)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(resource_list([CONFIGMAP], EXPAND).encode())))
    assert cli.main([]) == 1
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "internal error: KeyError: 'boom'" in captured.err
    assert yamlio.load_one(captured.out, "out")["items"] == [CONFIGMAP]


def test_debug_env_shows_the_traceback(monkeypatch, capsys):
    monkeypatch.setenv("KRMFN_DEBUG", "1")
    rl = ResourceList(items=[CONFIGMAP], function_config=EXPAND)
    assert engine.run(rl, process=_raising) == 1
    assert "Traceback" in capsys.readouterr().err


def test_empty_success_is_refused():
    rl = ResourceList(items=[CONFIGMAP], function_config=EXPAND)

    def drop_everything(rl, config=None):
        rl.items = []

    assert engine.run(rl, process=drop_everything) == 1
    assert rl.items == [CONFIGMAP]
    assert "refusing an empty success" in engine.error_lines(rl.results)[0]


def test_validator_that_modifies_is_caught(monkeypatch):
    import krmfn.runtime.registry as registry

    def sneaky(rl, config):
        rl.items[0] = dict(rl.items[0], data={})

    fake = registry.FunctionEntry("ToolPolicy", "tests_fake", "x", "krmfn.api.policy:ToolPolicy", validator=True)
    monkeypatch.setitem(registry.FUNCTIONS, "ToolPolicy", fake)
    monkeypatch.setitem(sys.modules, "tests_fake", type(sys)("tests_fake"))
    sys.modules["tests_fake"].process = sneaky
    rl = ResourceList(items=[CONFIGMAP], function_config={"apiVersion": "krmfn.dev/v1alpha1", "kind": "ToolPolicy",
                                                         "metadata": {"name": "p"}})
    assert engine.run(rl) == 1
    assert "validators must only report" in engine.error_lines(rl.results)[0]


def test_result_fields_follow_the_spec():
    result = Result.about(CONFIGMAP, "data.on", "bad", severity="warning")
    assert result.to_dict() == {
        "message": "bad", "severity": "warning",
        "resourceRef": {"apiVersion": "v1", "kind": "ConfigMap", "name": "keep", "namespace": "a"},
        "field": {"path": "data.on"}, "file": {"path": "cm.yaml", "index": 0},
    }
    assert result.line() == "[warning] v1/ConfigMap/a/keep data.on: bad (cm.yaml)"


def test_output_is_identical_across_hash_seeds():
    stdin = resource_list([CONFIGMAP, dict(CONFIGMAP, metadata={"name": "b"})])
    outputs = {krmfn(stdin, env={"PYTHONHASHSEED": str(seed)}).stdout for seed in (0, 1, 42, 4242)}
    assert len(outputs) == 1


def test_yaml_output_has_no_anchors_and_literal_blocks():
    shared = {"x": 1}
    text = yamlio.dump_all([{"a": shared, "b": shared, "s": "line1\nline2\n"}])
    assert "&" not in text and "*" not in text
    assert "s: |" in text


def test_alias_bomb_is_refused_quickly():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join('*' + chr(97 + i) for _ in range(10))}]\n" for i in range(9))
    with pytest.raises(yamlio.YamlError, match="alias bomb"):
        yamlio.load_all(bomb)


def test_cli_help_version_and_unknown_command():
    assert krmfn("", "--version").stdout.decode().startswith("krmfn ")
    assert b"krmfn run CONFIG" in krmfn("", "--help").stdout
    proc = krmfn("", "frobnicate")
    assert proc.returncode == 2 and b"unknown command 'frobnicate'" in proc.stderr


def test_input_comes_back_unchanged_when_a_function_mutates_it_deeply_and_fails():
    """The engine restores a deep snapshot: a function that edits nested fields in place before
    reporting an error must not leak its edits into the output."""
    item = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"a": "1"}},
            "data": {"k": "v"}}
    pristine = yamlio.dump_all([item])

    def mutate_then_fail(rl, config):
        rl.items[0]["metadata"]["labels"]["a"] = "changed"
        rl.items[0]["data"].clear()
        rl.items.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "extra"}})
        rl.results.append(Result("it went wrong"))

    rl = ResourceList(items=[item], function_config={"kind": "x"})
    assert engine.run(rl, process=mutate_then_fail) == 1
    assert yamlio.dump_all(rl.items) == pristine


def test_every_function_names_its_config_type():
    """The registry is the one place that says which type parses each function's config."""
    import importlib

    from krmfn.runtime.typed import BaseModel

    from krmfn.runtime.registry import FUNCTIONS

    for kind, entry in FUNCTIONS.items():
        module, _, name = entry.config.partition(":")
        target = getattr(importlib.import_module(module), name)
        assert callable(target), kind
        if isinstance(target, type):
            assert issubclass(target, BaseModel), kind


def test_duplicate_identities_are_refused_by_every_function(monkeypatch):
    from pathlib import Path

    from krmfn.runtime.registry import FUNCTIONS

    root = Path(__file__).resolve().parents[1]
    twin = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}, "data": {}}
    for kind, entry in FUNCTIONS.items():
        # a config the function accepts: one of its passing golden cases'
        folder = root / "functions" / entry.module.rsplit(".", 1)[1] / "testdata"
        case = sorted(folder.glob("*/expected.yaml"))[0].parent
        if "../shared" in (case / "config.yaml").read_text() and not (root.parent / "shared").is_dir():
            continue  # the conformance configs name the CRDs kept in ../shared
        monkeypatch.chdir(root)
        config = yamlio.load_one((case / "config.yaml").read_bytes(), str(case))
        rl = ResourceList(items=[twin, dict(twin, data={"other": "x"})], function_config=config)
        code = engine.run(rl)
        lines = engine.error_lines(rl.results)
        assert code == 1 and any("duplicate ConfigMap n/c" in line for line in lines), (kind, lines)


def test_an_output_path_that_is_a_fifo_or_device_is_written_in_place(tmp_path):
    """`-o /dev/null` (render-changed builds that way) or a FIFO: written to, never renamed over."""
    import stat
    import threading

    from krmfn.runtime import output

    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
    reader.start()
    output.write_file(str(fifo), "kind: ConfigMap\n")
    reader.join(10)
    assert got == [b"kind: ConfigMap\n"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # still the FIFO, not a file renamed over it
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]

    before = os.stat(os.devnull)
    output.write_file(os.devnull, "nothing\n")
    after = os.stat(os.devnull)
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_on_a_terminal_krmfn_says_it_waits_for_a_resource_list():
    """`krmfn` typed by a person: a line on stderr, then the usual answer to an empty input (Ctrl-D)."""
    import pty
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    controller, terminal = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "krmfn"], stdin=terminal, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(root)})
    os.close(terminal)
    try:
        os.write(controller, b"\x04")  # end of input, as a person types it
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
        os.close(controller)
    assert "waiting for a ResourceList on stdin" in stderr.splitlines()[0]
    # not a terminal: no such line (kustomize and kpt read stdout and stderr)
    piped = krmfn(b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n")
    assert b"waiting" not in piped.stderr


def test_a_record_is_the_part_of_dataclasses_krmfn_uses():
    """`runtime.record` stands in for `dataclasses` on the functions' start-up path: value equality
    and hashing when frozen, per-instance mutable defaults, and identity semantics with eq=False."""
    from krmfn.runtime.record import record

    @record(frozen=True)
    class Point:
        x: int
        name: str = "p"

    a, b = Point(1), Point(1)
    assert a == b and hash(a) == hash(b)
    assert a.replace(x=2) == Point(2) and a != Point(2)
    with pytest.raises(AttributeError):
        a.x = 3

    @record(frozen=True, eq=False)
    class Handle:
        name: str

    first, second = Handle("h"), Handle("h")
    assert first != second and first == first and len({first, second}) == 2

    @record
    class Mutable:
        tags: list = []

    assert Mutable().tags is not Mutable().tags  # a mutable default is copied per instance
    with pytest.raises(TypeError):
        hash(Mutable())
