"""The worker: warm once, then fork a child per call that runs it as a fresh `krmfn` would.

One worker per fingerprint (see `client.fingerprint`): a lock file makes a second one started by
a concurrent caller step aside. Each call runs in its own forked child, so nothing one call does
(its environment, working directory, module state) reaches another, and the worker itself never
touches a caller's data. The worker exits after KRMFN_WORKER_IDLE seconds without a call, or
as soon as its socket is gone or its code changed.
"""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import struct
import sys

from . import client

# The check for a vanished socket or changed code runs at least this often.
_CHECK_SECONDS = 5.0
# The worker's lock; a forked child closes its copy, so a successor can start while it runs.
_lock: int | None = None


def main(socket_path: str, lock_path: str) -> int:
    directory = os.path.dirname(socket_path)
    if client.runtime_dir() != directory:
        return 1
    global _lock
    lock = _lock = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0  # another worker serves this fingerprint
    print_ = client.fingerprint()
    if client.paths(directory, print_)[0] != socket_path:
        return 1  # the code changed between the caller's look and ours
    os.ftruncate(lock, 0)
    os.write(lock, f"{os.getpid()}\n".encode())  # for `krmfn worker status|stop`
    # SIGTERM (`krmfn worker stop`) cleans up like an idle exit does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        os.unlink(socket_path)  # a dead worker's socket; the lock says none is alive
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)
    try:
        listener.bind(socket_path)
    finally:
        os.umask(old_umask)
    listener.listen(64)
    identity = os.stat(socket_path)
    try:
        # Callers that arrive while we warm up queue on the socket instead of paying for a cold run.
        try:
            warm()
        except Exception:  # noqa: BLE001 - whatever failed here fails the same way, and is reported, in the call
            pass
        import gc

        # Everything loaded so far lives as long as the worker: out of the collector's sight, a
        # child's collections do not touch (and so copy) the pages it shares with the worker.
        gc.collect()
        gc.freeze()
        serve(listener, socket_path, identity, print_)
    finally:
        _remove_if_ours(socket_path, identity, listener)
        for leftover in client.paths(directory, print_)[1:]:
            try:
                os.unlink(leftover)
            except OSError:
                pass
    return 0


def warm() -> None:
    """Import and build everything a call needs, once, so every forked child has it ready."""
    import importlib

    from .. import cli  # noqa: F401
    from ..commands import build, krm, legacy, run  # noqa: F401
    from ..runtime.registry import FUNCTIONS

    for entry in FUNCTIONS.values():
        importlib.import_module(entry.module)
    _build_validators()
    render_sample()


def _build_validators() -> None:
    # Models are declared with defer_build (a call pays only for the ones it uses); here every
    # model of krmfn gets its validator built before any child is forked.
    from pydantic import BaseModel

    for name, module in sorted(sys.modules.items()):
        if not name.startswith("krmfn.") or module is None:
            continue
        for value in list(vars(module).values()):
            if (isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel
                    and value.__module__ == name and not value.__pydantic_generic_metadata__["parameters"]):
                try:
                    value.model_rebuild()
                except Exception:  # a model that cannot be built ahead is built when used
                    pass


SAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "warm-up.yaml")


def render_sample() -> list:
    """Run expand, environment and policy once on a typical repository, as calls would (parse,
    render, dump), so the first real call finds Jinja2, the serializers and the caches warm.
    Returns the results (the sample must render cleanly; a test checks it)."""
    from ..runtime import engine, yamlio
    from ..runtime.resourcelist import ResourceList

    with open(SAMPLE, "rb") as handle:
        sample = yamlio.load_one(handle.read(), SAMPLE)
    items, results = sample["items"], []
    for config in sample["functions"]:
        text = yamlio.dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items,
                            "functionConfig": config})
        rl = ResourceList.parse(text, SAMPLE)
        engine.run(rl)
        rl.dump()
        items, results = rl.items, results + rl.results
    return results


def serve(listener: socket.socket, socket_path: str, identity: os.stat_result, print_: str) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    idle = client.idle_seconds()
    listener.settimeout(min(idle, _CHECK_SECONDS))
    quiet = 0.0
    while True:
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            quiet += listener.gettimeout()
            if quiet >= idle or not _still_current(socket_path, identity, print_):
                return
            continue
        quiet = 0.0
        with conn:
            if not _same_user(conn):
                continue
            pid = os.fork()
            if pid == 0:
                listener.close()
                if _lock is not None:
                    os.close(_lock)
                status = 1
                try:
                    status = serve_call(conn, print_)
                finally:
                    os._exit(status)
        if not _still_current(socket_path, identity, print_):
            return


def serve_call(conn: socket.socket, print_: str) -> int:
    """In the forked child: take over the caller's descriptors and run its call."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a call ends on SIGTERM as a fresh process would
    conn.settimeout(client.HANDOVER_TIMEOUT_SECONDS)
    header, fds, _flags, _addr = socket.recv_fds(conn, client.HEADER.size, 3)
    if len(header) != client.HEADER.size or len(fds) != 3:
        return 1
    length = client.HEADER.unpack(header)[0]
    payload = client.recv_exact(conn, length) if length <= client.MAX_PAYLOAD else None
    request = client.decode_request(payload) if payload is not None else None
    if request is None or request[0] != print_:
        conn.sendall(b"NO")
        return 1
    _, cwd, umask, argv, env = request
    conn.sendall(b"OK" + client.PID.pack(os.getpid()))
    if client.recv_exact(conn, 2) != b"GO":
        return 1  # the caller gave up waiting and runs the call itself
    conn.settimeout(None)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    code = run_call(cwd, umask, argv, env)
    conn.sendall(client.STATUS.pack(code))
    return code


def run_call(cwd: str, umask: int, argv: list[str], env: dict[str, str]) -> int:
    from .. import cli, worker

    worker.serving = True
    os.chdir(cwd)
    os.umask(umask)
    os.environ.clear()
    os.environ.update(env)
    import time

    time.tzset()  # TZ is read once per process, and this process began as the worker
    sys.argv = argv
    try:
        code = cli.main(argv[1:])
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except BaseException:  # what the interpreter would print for an uncaught exception
        import traceback

        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    return code


def _same_user(conn: socket.socket) -> bool:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid == os.getuid()


def _still_current(socket_path: str, identity: os.stat_result, print_: str) -> bool:
    try:
        now = os.stat(socket_path)
    except OSError:
        return False
    return (now.st_ino, now.st_dev) == (identity.st_ino, identity.st_dev) and client.fingerprint() == print_


def _remove_if_ours(socket_path: str, identity: os.stat_result, listener: socket.socket) -> None:
    try:
        now = os.stat(socket_path)
        if (now.st_ino, now.st_dev) == (identity.st_ino, identity.st_dev):
            os.unlink(socket_path)
    except OSError:
        pass
    listener.close()
