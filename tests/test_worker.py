"""The warm worker (krmfn.worker): calls it serves behave exactly as in-process calls do.

Every test runs real `krmfn` processes against a worker directory of its own, and asks for the
`[debug] krmfn worker: served by ...` line (KRMFN_DEBUG=1) to know which calls a worker served.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from krmfn.commands.worker import live_workers, stop_workers
from krmfn.runtime import yamlio

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "functions"
SERVED = b"[debug] krmfn worker: served by process "
PASS_THROUGH = b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n"


@pytest.fixture
def worker_dir():
    # Short, so the socket path fits in sun_path; mkdtemp makes it 0700 and ours.
    directory = tempfile.mkdtemp(prefix="kw-")
    yield directory
    stop_workers(directory)
    shutil.rmtree(directory, ignore_errors=True)


def krmfn(worker_dir: str, *args: str, stdin: bytes = b"", cwd: Path | None = None, env: dict | None = None,
          debug: bool = True) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "KRMFN_WORKER_DIR": worker_dir,
                   "KRMFN_WORKER_IDLE": "60", **(env or {})}
    environment.pop("KRMFN_DEBUG", None)
    if debug:
        environment["KRMFN_DEBUG"] = "1"
    return subprocess.run([sys.executable, "-P", "-m", "krmfn", *args], input=stdin, capture_output=True, cwd=cwd,
                          env=environment, timeout=60)


def served(proc: subprocess.CompletedProcess) -> bool:
    return proc.stderr.startswith(SERVED)


def without_served_line(stderr: bytes) -> bytes:
    return b"".join(line for line in stderr.splitlines(keepends=True) if not line.startswith(SERVED))


def start_worker(worker_dir: str, env: dict | None = None) -> None:
    """Two cold calls start a worker; wait until it serves calls."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if served(krmfn(worker_dir, stdin=PASS_THROUGH, env=env)):
            return
        time.sleep(0.1)
    pytest.fail(f"no worker served a call within 30 s; directory holds {os.listdir(worker_dir)}")


def resource_list(case: Path) -> bytes:
    config = yamlio.load_one((case / "config.yaml").read_bytes(), "config")
    items = yamlio.load_all((case / "input.yaml").read_bytes(), "input")
    return yamlio.dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items,
                        "functionConfig": config}).encode()


def test_a_single_call_leaves_no_worker_behind(worker_dir):
    proc = krmfn(worker_dir, stdin=PASS_THROUGH)
    assert proc.returncode == 0 and not served(proc)
    time.sleep(0.5)
    assert list(live_workers(worker_dir)) == []
    assert not any(name.endswith(".sock") for name in os.listdir(worker_dir))


@pytest.mark.parametrize("case", [
    "expand/every-field", "expand/error-unknown-tool", "environment/canary", "policy/example-prod-fail",
])
def test_served_calls_match_in_process_calls_byte_for_byte(worker_dir, case):
    case_dir = CASES / case.split("/")[0] / "testdata" / case.split("/")[1]
    if not case_dir.is_dir():
        pytest.fail(f"golden case {case} is gone; pick another")
    start_worker(worker_dir)
    stdin = resource_list(case_dir)
    cold = krmfn(worker_dir, stdin=stdin, env={"KRMFN_WORKER": "0"})
    warm = krmfn(worker_dir, stdin=stdin)
    assert served(warm) and not served(cold)
    assert (warm.returncode, warm.stdout, without_served_line(warm.stderr)) == (cold.returncode, cold.stdout, cold.stderr)
    # and the ways in that read files: the legacy plugin and `krmfn run`
    for args, data in ((("legacy", str(case_dir / "config.yaml")), (case_dir / "input.yaml").read_bytes()),
                       (("run", str(case_dir / "config.yaml"), str(case_dir / "input.yaml")), b"")):
        cold = krmfn(worker_dir, *args, stdin=data, env={"KRMFN_WORKER": "0"})
        warm = krmfn(worker_dir, *args, stdin=data)
        assert served(warm), args
        assert (warm.returncode, warm.stdout, without_served_line(warm.stderr)) == (cold.returncode, cold.stdout, cold.stderr)


def test_a_served_call_runs_in_the_callers_directory_and_environment(worker_dir, tmp_path):
    case_dir = CASES / "expand" / "testdata" / "every-field"
    shutil.copy(case_dir / "config.yaml", tmp_path / "config.yaml")
    shutil.copy(case_dir / "input.yaml", tmp_path / "input.yaml")
    start_worker(worker_dir)
    relative = krmfn(worker_dir, "run", "config.yaml", "input.yaml", cwd=tmp_path)
    assert served(relative) and relative.returncode == 0, relative.stderr
    assert relative.stdout == (case_dir / "expected.yaml").read_bytes()
    # The input limit is read from the caller's environment, not the worker's.
    limited = krmfn(worker_dir, "run", "config.yaml", "input.yaml", cwd=tmp_path,
                    env={"KRMFN_MAX_INPUT_MB": "0.001"})
    assert served(limited) and limited.returncode == 1
    assert b"KRMFN_MAX_INPUT_MB" in limited.stderr and limited.stdout == b""


def test_code_changes_retire_the_worker(worker_dir, tmp_path):
    package = tmp_path / "src"
    shutil.copytree(ROOT / "krmfn", package / "krmfn", ignore=shutil.ignore_patterns("__pycache__"))
    env = {"PYTHONPATH": str(package)}
    start_worker(worker_dir, env)
    [(old_pid, _)] = list(live_workers(worker_dir))
    (package / "krmfn" / "runtime" / "engine.py").write_text(
        (package / "krmfn" / "runtime" / "engine.py").read_text() + "\n# changed\n")
    proc = krmfn(worker_dir, stdin=PASS_THROUGH, env=env)
    assert proc.returncode == 0 and not served(proc)  # the old code must not serve it
    deadline = time.monotonic() + 20  # a worker looks at its code every 5 s
    while any(pid == old_pid for pid, _ in live_workers(worker_dir)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert all(pid != old_pid for pid, _ in live_workers(worker_dir)), "the stale worker is still running"


def test_each_hash_seed_gets_its_own_worker(worker_dir):
    start_worker(worker_dir, {"PYTHONHASHSEED": "1"})
    other = krmfn(worker_dir, stdin=PASS_THROUGH, env={"PYTHONHASHSEED": "2"})
    assert other.returncode == 0 and not served(other)


def test_an_unsafe_directory_is_never_used(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    for _ in range(3):
        proc = krmfn(str(shared), stdin=PASS_THROUGH)
        assert proc.returncode == 0 and not served(proc)
    assert os.listdir(shared) == []
    assert stat.S_IMODE(shared.stat().st_mode) == 0o777


def test_worker_off_runs_in_process(worker_dir):
    for _ in range(3):
        proc = krmfn(worker_dir, stdin=PASS_THROUGH, env={"KRMFN_WORKER": "0"})
        assert proc.returncode == 0 and not served(proc)
    assert os.listdir(worker_dir) == []


def test_concurrent_calls_are_each_served_whole(worker_dir):
    case_dir = CASES / "expand" / "testdata" / "every-field"
    start_worker(worker_dir)
    stdin = resource_list(case_dir)
    expected = krmfn(worker_dir, stdin=stdin, env={"KRMFN_WORKER": "0"}).stdout
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "KRMFN_WORKER_DIR": worker_dir,
                   "KRMFN_WORKER_IDLE": "60", "KRMFN_DEBUG": "1"}
    procs = [subprocess.Popen([sys.executable, "-P", "-m", "krmfn"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=environment) for _ in range(8)]
    results = [proc.communicate(stdin, timeout=60) for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 8
    assert all(out == expected for out, _ in results)
    assert sum(err.startswith(SERVED) for _, err in results) >= 6  # a worker may be busy forking; most are served


def test_a_signal_to_the_caller_ends_the_served_call(worker_dir):
    start_worker(worker_dir)
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "KRMFN_WORKER_DIR": worker_dir,
                   "KRMFN_WORKER_IDLE": "60", "KRMFN_DEBUG": "1"}
    # stdin stays open: the served call blocks reading it until the signal comes.
    proc = subprocess.Popen([sys.executable, "-P", "-m", "krmfn"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=environment)
    line = proc.stderr.readline()
    assert line.startswith(SERVED), line
    child = int(line[len(SERVED):].split()[0])
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == -signal.SIGTERM
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child), "the worker's child outlived its caller's SIGTERM"
    proc.stdin.close()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def test_idle_workers_exit_and_clean_up(worker_dir):
    start_worker(worker_dir, {"KRMFN_WORKER_IDLE": "1"})
    assert list(live_workers(worker_dir))
    deadline = time.monotonic() + 15
    while list(live_workers(worker_dir)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert list(live_workers(worker_dir)) == []
    assert not [name for name in os.listdir(worker_dir) if name.endswith((".sock", ".lock"))]


def test_worker_command_lists_and_stops(worker_dir):
    start_worker(worker_dir)
    status = krmfn(worker_dir, "worker", "status", debug=False)
    [(pid, _)] = list(live_workers(worker_dir))
    assert status.returncode == 0 and f"{pid}\tw-".encode() in status.stdout
    stop = krmfn(worker_dir, "worker", "stop", debug=False)
    assert stop.returncode == 0 and b"stopped 1 worker(s)" in stop.stdout
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)
    assert not [name for name in os.listdir(worker_dir) if name.endswith((".sock", ".lock"))]
    wrong = krmfn(worker_dir, "worker", "restart", debug=False)
    assert wrong.returncode == 2 and wrong.stderr == b"[error] usage: krmfn worker [status|stop]\n"


def test_a_foreign_image_is_run_by_the_real_engine_and_its_status_kept(worker_dir, tmp_path):
    engine = tmp_path / "engine"
    engine.write_text("#!/bin/sh\necho \"engine: $*\"\nexit 3\n")
    engine.chmod(0o755)
    start_worker(worker_dir)
    proc = krmfn(worker_dir, "container-run", "run", "--rm", "-i", "docker.io/library/busybox:1",
                 env={"KRMFN_CONTAINER_ENGINE": str(engine)})
    assert served(proc)
    assert proc.returncode == 3 and proc.stdout == b"engine: run --rm -i docker.io/library/busybox:1\n"


def test_the_warm_up_sample_renders_cleanly():
    # A worker renders it before serving (krmfn/data/warm-up.yaml); an error there would leave
    # the paths it is meant to warm cold, silently.
    from krmfn.worker.server import render_sample

    results = render_sample()
    assert [r.line() for r in results if r.severity in ("error", "warning")] == []
