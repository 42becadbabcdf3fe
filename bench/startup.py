"""krmfn start-up: a pass-through ResourceList (no function config) vs `python -c "import yaml"`.

Measured twice: as krmfn runs by default (a warm worker serves the call, see krmfn.worker) and
with KRMFN_WORKER=0 (every call a fresh interpreter: the runtime's own lean start-up).
"""

from __future__ import annotations

import sys

from common import KRMFN, Row, time_command

PASS_THROUGH = b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n"


def run() -> list[Row]:
    krmfn = [KRMFN] if KRMFN else [sys.executable, "-m", "krmfn"]
    ours = time_command(krmfn, n=15, stdin=PASS_THROUGH)
    cold = time_command(krmfn, n=15, stdin=PASS_THROUGH, env={"KRMFN_WORKER": "0"})
    base = time_command([sys.executable, "-c", "import yaml"], n=15)
    return [Row("krmfn start-up (pass-through ResourceList)", ours, 'python -c "import yaml"', base, 2.0),
            Row("  same, KRMFN_WORKER=0 (no worker)", cold, 'python -c "import yaml"', base, 2.0)]
