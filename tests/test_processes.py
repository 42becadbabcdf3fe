"""No krmfn process outlives the command that started it (there is no background worker).

Every process a test starts carries a marker in its environment, which children inherit, and a
TMPDIR of its own: a process counts as this test's when its environment holds the marker, or its
command line or working directory names that TMPDIR (a daemon may scrub its environment and
`chdir("/")`, but its socket or lock lives in the TMPDIR). Other krmfn runs on the same machine
are never counted.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import support

ROOT = Path(__file__).resolve().parents[1]
MARK = "KRMFN_TEST_PROCESS_MARK"
PASS_THROUGH = (b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
                b"- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n")
EXPAND = (b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
          b"- apiVersion: krmfn.dev/v1alpha1\n  kind: AgentDescription\n"
          b"  metadata: {name: a, namespace: n}\n  spec: {description: d, prompt: {text: hi}}\n"
          b"functionConfig:\n  apiVersion: krmfn.dev/v1alpha1\n  kind: AgentExpansion\n"
          b"  metadata: {name: x}\n  spec: {}\n")


def left_processes(mark: str, tmp: Path) -> list[tuple[int, str]]:
    """(pid, command line) of every live krmfn process that belongs to this test (see above)."""
    needle, place = f"{MARK}={mark}".encode(), str(tmp).encode()
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        if int(proc.name) == os.getpid():
            continue  # pytest itself
        try:
            environ = (proc / "environ").read_bytes()
            cmdline = (proc / "cmdline").read_bytes()
            cwd = os.readlink(proc / "cwd").encode()
        except OSError:
            continue  # gone, or not ours to read
        ours = needle in environ.split(b"\0") or place in cmdline or cwd.startswith(place)
        if ours and b"krmfn" in cmdline:
            found.append((int(proc.name), cmdline.replace(b"\0", b" ").decode(errors="replace")))
    return found


def environment(mark: str, tmp: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), MARK: mark, "TMPDIR": str(tmp),
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    for name in UNSET:
        env.pop(name, None)
    return env


UNSET = ("KRMFN_WORKER", "XDG_RUNTIME_DIR")


def krmfn(mark: str, tmp: Path, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return support.module(*args, stdin=stdin, env=environment(mark, tmp), unset=UNSET, cwd=tmp)


def test_the_scan_sees_a_running_krmfn(tmp_path):
    """The scan itself can fail: a krmfn waiting on its stdin is found, and is gone once it ends."""
    mark = uuid.uuid4().hex
    proc = subprocess.Popen([sys.executable, "-m", "krmfn"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=environment(mark, tmp_path), cwd="/")
    try:
        deadline = time.monotonic() + 10
        while not left_processes(mark, tmp_path) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [pid for pid, _ in left_processes(mark, tmp_path)] == [proc.pid]
    finally:
        proc.communicate(PASS_THROUGH, timeout=60)
    assert left_processes(mark, tmp_path) == []


@pytest.mark.e2e
def test_no_krmfn_process_is_left_after_three_commands(tmp_path):
    mark = uuid.uuid4().hex
    for stdin in (EXPAND, EXPAND):
        call = krmfn(mark, tmp_path, stdin=stdin)
        assert call.returncode == 0, call.stderr.decode()
        assert b"kind: Agent\n" in call.stdout
    build = krmfn(mark, tmp_path, "build", "-o", os.devnull, "--native", str(ROOT / "overlays/dev"))
    assert build.returncode == 0, build.stderr.decode()
    noop = krmfn(mark, tmp_path, "worker")
    assert noop.returncode == 0 and noop.stdout == b""
    assert noop.stderr.decode().count("\n") == 1 and "no warm worker" in noop.stderr.decode()
    time.sleep(0.5)  # a daemon forked in the background would be up by now
    assert left_processes(mark, tmp_path) == []
