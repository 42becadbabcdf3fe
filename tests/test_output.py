"""Failing I/O is loud: a result not written whole is one `[error]` line and exit 1, never exit 0.

Real failures, in fresh processes with PYTHONUNBUFFERED=1 as krmfn's images run it: `/dev/full`
(ENOSPC), a closed stdin or stdout, and short writes from a real file size limit (RLIMIT_FSIZE in
the child, SIGXFSZ ignored, so the kernel writes what fits and then refuses with EFBIG).
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
import yaml
import support

ROOT = Path(__file__).resolve().parents[1]
POLICY = {"apiVersion": "krmfn.dev/v1alpha1", "kind": "ToolPolicy", "metadata": {"name": "policy"},
          "spec": {"environment": "dev", "rules": [{"name": "read-only", "allowedRisks": ["read"]}]}}
# 20 KiB of output: more than one pipe or page buffer, more than the size limit below
BIG = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big", "namespace": "a"},
       "data": {f"k{i}": "v" * 100 for i in range(200)}}
LIMIT = 8192
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "KRMFN_WORKER": "0", "PYTHONUNBUFFERED": "1"}


def _limit_file_size():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def krmfn(args: list[str], *, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, limit: bool = False,
          close: tuple[int, ...] = ()) -> tuple[int, bytes, str]:
    """`krmfn ARGS` in a fresh process; `close` names the standard fds closed before it starts."""
    def prepare():
        if limit:
            _limit_file_size()
        for fd in close:
            os.close(fd)

    proc = support.module(*args, env=ENV, timeout=120, text=False, stdio={"stdin": stdin, "stdout": stdout},
                          preexec_fn=prepare)
    return proc.returncode, proc.stdout or b"", proc.stderr.decode()


def one_error(stderr: str, *fragments: str) -> None:
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("[error] "), stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    for fragment in fragments:
        assert fragment in lines[0], stderr


@pytest.fixture
def inputs(tmp_path):
    config = tmp_path / "policy.yaml"
    config.write_text(yaml.safe_dump(POLICY))
    items = tmp_path / "big.yaml"
    items.write_text(yaml.safe_dump(BIG))
    resource_list = tmp_path / "rl.yaml"
    resource_list.write_text(yaml.safe_dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
                                             "items": [BIG], "functionConfig": POLICY}))
    kustomization = tmp_path / "kustomization"
    kustomization.mkdir()
    (kustomization / "big.yaml").write_text(yaml.safe_dump(BIG))
    (kustomization / "kustomization.yaml").write_text("resources: [big.yaml]\n")
    return tmp_path


def _kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        pytest.skip("kubectl is not installed")
    return found


def commands(inputs: Path) -> dict[str, tuple[list[str], Path | None]]:
    """Every command that writes a function's result: (argv, file on stdin)."""
    return {
        "krm": ([], inputs / "rl.yaml"),
        "run": (["run", str(inputs / "policy.yaml"), str(inputs / "big.yaml")], None),
        "run --resource-list": (["run", "--resource-list", str(inputs / "policy.yaml"), str(inputs / "big.yaml")], None),
        "legacy": (["legacy", str(inputs / "policy.yaml")], inputs / "big.yaml"),
        "build": (["build", "--kustomize", _kubectl(), str(inputs / "kustomization")], None),
        "install-plugins": (["install-plugins", str(inputs / "plugins")], None),
    }


MODES = ["krm", "run", "run --resource-list", "legacy", "build", "install-plugins"]


def _stdin(path: Path | None):
    return open(path or os.devnull, "rb")


@pytest.mark.parametrize("mode", MODES)
def test_the_baseline_writes_everything(mode, inputs):
    """The same calls, with nowhere failing: exit 0 and the whole output (so the cases below fail
    only because of the failing I/O)."""
    argv, stdin = commands(inputs)[mode]
    with _stdin(stdin) as handle:
        code, out, err = krmfn(argv, stdin=handle)
    assert code == 0, err
    assert len(out) > (0 if mode == "install-plugins" else LIMIT)


@pytest.mark.parametrize("mode", MODES)
def test_a_full_disk_is_one_line_and_exit_1(mode, inputs):
    argv, stdin = commands(inputs)[mode]
    with _stdin(stdin) as handle, open("/dev/full", "wb") as full:
        code, _, err = krmfn(argv, stdin=handle, stdout=full)
    assert code == 1, err
    one_error(err, "stdout: cannot write the output: No space left on device")


@pytest.mark.parametrize("mode", [m for m in MODES if m != "install-plugins"])
def test_a_short_write_is_one_line_and_exit_1(mode, inputs, tmp_path):
    """The kernel takes the first 8 KiB of 20 KiB and then refuses: the call must not exit 0."""
    argv, stdin = commands(inputs)[mode]
    target = tmp_path / "out.yaml"
    with _stdin(stdin) as handle, open(target, "wb") as out:
        code, _, err = krmfn(argv, stdin=handle, stdout=out, limit=True)
    assert code == 1, err
    one_error(err, "stdout: cannot write the output: file too large")
    assert target.stat().st_size == LIMIT  # a real short write happened


@pytest.mark.parametrize("mode", [m for m in MODES if m != "install-plugins"])
def test_a_closed_stdout_is_one_line_and_exit_1(mode, inputs):
    argv, stdin = commands(inputs)[mode]
    with _stdin(stdin) as handle:
        code, _, err = krmfn(argv, stdin=handle, stdout=None, close=(1,))
    assert code == 1, err
    one_error(err, "stdout: cannot write the output: standard output is closed")


@pytest.mark.parametrize("argv", [[], ["run", "POLICY", "-"]])
def test_a_closed_stdin_is_one_line_and_exit_1(argv, inputs):
    argv = [str(inputs / "policy.yaml") if a == "POLICY" else a for a in argv]
    code, out, err = krmfn(argv, stdin=None, close=(0,))
    assert code == 1, err
    one_error(err, "<stdin>: cannot read the input: it is closed")
    if not argv:  # KRM mode still answers with a ResourceList carrying the error
        assert yaml.safe_load(out)["results"][0]["message"] == "<stdin>: cannot read the input: it is closed"


# --- files: written whole or not at all --------------------------------------------------------------------


def test_build_output_file_is_written_whole(inputs, tmp_path):
    target = tmp_path / "out" / "render.yaml"
    target.parent.mkdir()
    code, out, err = krmfn(["build", "--kustomize", _kubectl(), str(inputs / "kustomization"), "-o", str(target)])
    assert code == 0 and out == b"", err
    assert yaml.safe_load(target.read_text()) == BIG
    assert sorted(os.listdir(target.parent)) == ["render.yaml"]  # no temporary file left behind
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_short_write_to_the_build_output_file_leaves_no_partial_file(inputs, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "render.yaml"
    target.write_text("the previous render\n")
    code, _, err = krmfn(["build", "--kustomize", _kubectl(), str(inputs / "kustomization"), "-o", str(target)],
                         limit=True)
    assert code == 1, err
    one_error(err, f"{target}: cannot write the output: file too large")
    assert target.read_text() == "the previous render\n"  # untouched until a new one is whole
    assert sorted(os.listdir(folder)) == ["render.yaml"]


@pytest.mark.parametrize("where,fragment", [
    ("a directory", "cannot write the output: it is a directory"),
    ("a missing folder", "no such directory"),
    ("under a file", "no such directory"),
])
def test_output_files_that_cannot_be_written(where, fragment, inputs, tmp_path):
    target = {"a directory": tmp_path, "a missing folder": tmp_path / "missing" / "out.yaml",
              "under a file": inputs / "policy.yaml" / "out.yaml"}[where]
    for argv in (["build", "--kustomize", _kubectl(), str(inputs / "kustomization"), "-o", str(target)],
                 ["diff", str(inputs / "big.yaml"), str(inputs / "big.yaml"), "-o", str(target)],
                 ["graph", str(inputs / "big.yaml"), "-o", str(target)]):
        code, out, err = krmfn(argv)
        assert code == 1 and out == b"", (argv, err)
        one_error(err, str(target), fragment)


@pytest.mark.parametrize("where", ["a file", "a file's child"])
def test_install_plugins_into_a_non_directory(where, inputs):
    home = inputs / "policy.yaml" if where == "a file" else inputs / "policy.yaml" / "plugins"
    code, out, err = krmfn(["install-plugins", str(home)])
    assert code == 1 and out == b"", err
    one_error(err, "install-plugins: ", "Not a directory")


def test_an_output_fifo_is_written_in_place_not_replaced(inputs, tmp_path):
    """`-o /dev/stdout`, `-o /dev/null` or a FIFO: written in place. Renaming a temporary file over
    it would replace the device or FIFO itself (tested on a FIFO of our own, never on /dev)."""
    import stat
    import threading

    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    code, out, err = krmfn(["build", "--kustomize", _kubectl(), str(inputs / "kustomization"), "-o", str(fifo)])
    reader.join(timeout=60)
    assert code == 0 and out == b"", err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert yaml.safe_load(received[0]) == BIG
