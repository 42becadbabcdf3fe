"""The caller's side of the worker: hand this call to a warm worker, or say it cannot.

Runs before anything else in every `krmfn` function call, so it imports little beyond what the
interpreter has loaded anyway (`socket`, `struct`), and never fails the call: whatever goes wrong
before the worker has taken the call over (no worker, a stale one, an unsafe directory) means
the call runs in-process, as it would without a worker.

Protocol over a unix socket in a directory only this user can enter:
  client -> header (payload length) with SCM_RIGHTS fds 0, 1, 2, then the payload;
  worker -> b"OK" + child pid (or b"NO": not served, the client runs in-process);
  client -> b"GO": the call is the worker's from here on (the client has stopped waiting);
  worker -> exit status, once the call has finished and its output is flushed.
"""

from __future__ import annotations

import os
import stat
import struct
import sys

ENABLE_ENV = "KRMFN_WORKER"
IDLE_ENV = "KRMFN_WORKER_IDLE"
DIR_ENV = "KRMFN_WORKER_DIR"
DEFAULT_IDLE_SECONDS = 300
# How long a caller waits for a worker to take the call (it may still be warming up) before it
# runs the call itself.
HANDOVER_TIMEOUT_SECONDS = 10.0

HEADER = struct.Struct("!I")
PID = struct.Struct("!I")
STATUS = struct.Struct("!i")
MAX_PAYLOAD = 4 * 1024 * 1024
_MAX_SOCKET_PATH = 107  # sun_path is 108 bytes on Linux, with its terminating NUL

# The environment Python itself reads at start-up: a worker started under other values would
# not behave as this process does (hash seed, locale, import path, bytecode settings).
_STARTUP_ENV_PREFIXES = ("PYTHON", "LC_")
_STARTUP_ENV_NAMES = frozenset({"LANG", "PYDANTIC_DISABLE_PLUGINS"})
_WORKER_ENV_NAMES = frozenset({"PATH", "HOME", "TMPDIR", "XDG_RUNTIME_DIR", DIR_ENV, IDLE_ENV})
# sys.flags that change how the interpreter runs code, and the option that sets each.
_FLAG_OPTIONS = (("isolated", "-I"), ("ignore_environment", "-E"), ("no_user_site", "-s"),
                 ("no_site", "-S"), ("dont_write_bytecode", "-B"), ("safe_path", "-P"))


def enabled() -> bool:
    return os.environ.get(ENABLE_ENV, "").strip().lower() not in ("0", "off", "false", "no")


def idle_seconds() -> float:
    try:
        value = float(os.environ.get(IDLE_ENV, DEFAULT_IDLE_SECONDS))
    except ValueError:
        return DEFAULT_IDLE_SECONDS
    return value if value > 0 else DEFAULT_IDLE_SECONDS


def runtime_dir() -> str | None:
    """This user's worker directory, created 0700; None when it is missing or not safely ours."""
    path = os.environ.get(DIR_ENV)
    if not path:
        base = os.environ.get("XDG_RUNTIME_DIR") or os.environ.get("TMPDIR") or "/tmp"
        path = os.path.join(base, f"krmfn-{os.getuid()}")
    path = os.path.abspath(path)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    try:
        info = os.lstat(path)
    except OSError:
        return None
    # Someone else's directory, a symlink or a group-writable one: another user could put a
    # socket there that we would hand our stdin and stdout to.
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None
    return path


def fingerprint() -> str:
    """What a worker must share with this process to run a call exactly as it would run here."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parts = [sys.executable, sys.version, repr(sys.path), package]
    parts += [f"{name}={getattr(sys.flags, name)}" for name, _ in _FLAG_OPTIONS]
    parts += [f"optimize={sys.flags.optimize}"]
    parts += [f"{key}={value}" for key, value in sorted(os.environ.items())
              if key.startswith(_STARTUP_ENV_PREFIXES) or key in _STARTUP_ENV_NAMES]
    # krmfn's own code and data, and the import path's directories (a pip install or upgrade
    # changes their modification times): new code gets a new worker.
    for root, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            try:
                info = os.stat(os.path.join(root, name))
            except OSError:
                continue
            parts.append(f"{root}/{name}:{info.st_mtime_ns}:{info.st_size}")
    for entry in sys.path:
        if not os.path.isabs(entry):
            parts.append(f"{entry}:relative")  # relative to the caller's directory: not the worker's
            continue
        try:
            parts.append(f"{entry}:{os.stat(entry).st_mtime_ns}")
        except OSError:
            parts.append(f"{entry}:-")
    return "\n".join(parts)


def paths(directory: str, print_: str) -> tuple[str, str, str]:
    """The socket, lock file and last-cold-call marker of the worker for this fingerprint."""
    import zlib

    stem = os.path.join(directory, f"w-{zlib.crc32(print_.encode()):08x}")
    return f"{stem}.sock", f"{stem}.lock", f"{stem}.seen"


def encode_request(print_: str, argv: list[str]) -> bytes:
    umask = os.umask(0)
    os.umask(umask)
    fields = [print_, os.getcwd(), str(umask), str(len(argv)), *argv]
    fields += [f"{key}={value}" for key, value in os.environ.items()]
    return "\0".join(fields).encode("utf-8", "surrogateescape")


def decode_request(payload: bytes) -> tuple[str, str, int, list[str], dict[str, str]]:
    fields = payload.decode("utf-8", "surrogateescape").split("\0")
    print_, cwd, umask, count = fields[0], fields[1], int(fields[2]), int(fields[3])
    argv = fields[4:4 + count]
    env = dict(field.split("=", 1) for field in fields[4 + count:] if "=" in field)
    return print_, cwd, umask, argv, env


def forward(argv: list[str]) -> int | None:
    """Run this call in a worker and return its exit status; None when it must run in-process."""
    if not enabled() or sys.platform != "linux":
        return None
    directory = runtime_dir()
    if directory is None:
        return None
    print_ = fingerprint()
    socket_path, lock_path, seen_path = paths(directory, print_)
    if len(socket_path.encode()) > _MAX_SOCKET_PATH:
        return None
    import socket

    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(socket_path)
    except OSError:
        conn.close()
        if _called_recently(seen_path):
            start_worker(socket_path, lock_path)
        return None
    try:
        child = _hand_over(conn, print_, [sys.argv[0], *argv])
    except (OSError, ValueError):
        child = None
    if child is None:
        conn.close()
        return None
    return _serve_through(conn, child, socket_path)


def _hand_over(conn, print_: str, argv: list[str]) -> int | None:
    """Offer the call; the pid of the worker's child that took it, or None."""
    import socket

    conn.settimeout(HANDOVER_TIMEOUT_SECONDS)
    payload = encode_request(print_, argv)
    if len(payload) > MAX_PAYLOAD:
        return None
    socket.send_fds(conn, [HEADER.pack(len(payload))], [0, 1, 2])
    conn.sendall(payload)
    reply = recv_exact(conn, 2 + PID.size)
    if reply is None or reply[:2] != b"OK":
        return None
    return PID.unpack(reply[2:])[0]


def _serve_through(conn, child: int, socket_path: str) -> int | None:
    """Give the call to the worker's child, wait for it, pass on signals meant for this process."""
    import signal

    relayed: list[int] = []

    def relay(signum, _frame):
        relayed.append(signum)
        try:
            os.kill(child, signum)
        except OSError:
            pass

    # Before GO: from then on a signal to this process must reach the call.
    handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = [signal.signal(signum, relay) for signum in handled]
    try:
        conn.sendall(b"GO")
    except OSError:  # the child never got the call: it is still ours to run
        for signum, handler in zip(handled, previous):
            signal.signal(signum, handler)
        conn.close()
        return None
    status = None
    try:
        conn.settimeout(None)
        if os.environ.get("KRMFN_DEBUG", "") not in ("", "0", "false"):
            print(f"[debug] krmfn worker: served by process {child} ({socket_path})", file=sys.stderr, flush=True)
        status = recv_exact(conn, STATUS.size)
    except OSError:
        pass
    conn.close()
    if status is not None:
        return STATUS.unpack(status)[0]
    if relayed:
        # The call died of the signal this process was sent: die of it too, as a caller expects.
        signal.signal(relayed[-1], signal.SIG_DFL)
        os.kill(os.getpid(), relayed[-1])
    print(f"[error] krmfn worker: the call ended without an exit status (process {child} died); "
          f"set {ENABLE_ENV}=0 to run without a worker", file=sys.stderr)
    return 1


def recv_exact(conn, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _called_recently(seen_path: str) -> bool:
    """Whether a cold call with this fingerprint ran within the idle time (and note this one).

    A one-off call (`krmfn run` by hand, a build that runs a single function) leaves no worker
    behind; the second call of a build starts one for the rest of it, and for the builds after.
    """
    import time

    try:
        recent = time.time() - os.stat(seen_path).st_mtime < idle_seconds()
    except OSError:
        recent = False
    try:
        with open(seen_path, "a"):
            pass
        os.utime(seen_path)
    except OSError:
        pass
    return recent


def start_worker(socket_path: str, lock_path: str) -> None:
    """Start a worker in the background for the calls that come after this one."""
    import subprocess

    options = [option for name, option in _FLAG_OPTIONS if getattr(sys.flags, name)]
    options += ["-O"] * sys.flags.optimize
    code = ("import sys; sys.path[:] = {path!r}; from krmfn.worker import server; "
            "sys.exit(server.main({socket!r}, {lock!r}))").format(
        path=list(sys.path), socket=socket_path, lock=lock_path)
    # Only what the interpreter and the worker itself read: a long-lived process must not keep
    # the starting caller's credentials (each call brings its own environment).
    env = {key: value for key, value in os.environ.items()
           if key.startswith(_STARTUP_ENV_PREFIXES) or key in _STARTUP_ENV_NAMES or key in _WORKER_ENV_NAMES}
    try:
        # Its own session and no inherited descriptors: the worker must never hold a pipe the
        # caller's caller (kustomize, a test, a CI step) waits on.
        subprocess.Popen([sys.executable, *options, "-c", code], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True,
                         start_new_session=True, cwd="/", env=env)
    except OSError:
        pass
