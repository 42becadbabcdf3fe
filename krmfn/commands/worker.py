"""`krmfn worker [status|stop]`: see or stop this user's warm workers (see krmfn.worker)."""

from __future__ import annotations

import os
import signal
import sys

from ..worker import client

USAGE = "usage: krmfn worker [status|stop]"


def run(argv: list[str]) -> int:
    action = argv[0] if argv else "status"
    if action not in ("status", "stop") or len(argv) > 1:
        print(f"[error] {USAGE}", file=sys.stderr)
        return 2
    directory = client.runtime_dir()
    if directory is None:
        print("[error] no usable worker directory (it must be this user's, mode 0700); "
              f"set {client.DIR_ENV} to choose one", file=sys.stderr)
        return 1
    if action == "stop":
        print(f"stopped {stop_workers(directory)} worker(s) in {directory}")
        return 0
    workers = list(live_workers(directory))
    state = "off" if not client.enabled() else f"on, idle timeout {client.idle_seconds():g} s"
    print(f"workers: {state}; directory {directory}")
    for pid, lock in workers:
        print(f"{pid}\t{os.path.basename(lock)[:-len('.lock')]}")
    return 0


def stop_workers(directory: str) -> int:
    """SIGTERM every worker in `directory` (each removes its socket and lock); how many there were."""
    stopped = 0
    for pid, _ in live_workers(directory):
        try:
            os.kill(pid, signal.SIGTERM)
            stopped += 1
        except OSError:
            pass
    return stopped


def live_workers(directory: str):
    """(pid, lock file) of every running krmfn worker in `directory`."""
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return
    for name in names:
        if not (name.startswith("w-") and name.endswith(".lock")):
            continue
        lock = os.path.join(directory, name)
        try:
            with open(lock) as handle:
                pid = int(handle.read().strip() or 0)
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                command = handle.read()
        except (OSError, ValueError):
            continue
        # The pid is ours only while that process is a worker (pids are reused).
        if pid and b"krmfn.worker" in command:
            yield pid, lock
