"""`krmfn worker`: a no-op kept for one release, for scripts that still call it.

krmfn 0.1 served function calls from a persistent per-user worker; a cold call is now fast
enough without one (see BENCHMARKS.md), so there is no worker to list or stop, and
KRMFN_WORKER is ignored.
"""

from __future__ import annotations

import sys


def run(argv: list[str]) -> int:
    print("[info] krmfn worker: there is no warm worker any more (every call runs in its own process); "
          "nothing to do", file=sys.stderr)
    return 0
