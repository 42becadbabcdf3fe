"""How the tests run krmfn: one helper per way in, each named for the path it exercises.

- `in_process(config, items)`: the engine on a ResourceList, no process (what every way in calls);
- `module(*args)`: `python -m krmfn ARGS` with this checkout first on the import path (the source
  tree as it is, in a fresh process);
- `installed(*args)`: the `krmfn` console script of .venv (what `scripts/setup` installs and
  kustomize, pre-commit and the docs call);
- `resource_list(items, config)`: a ResourceList document, as kustomize and kpt hand it over.

Every subprocess helper has a timeout and returns the CompletedProcess; none changes the host.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from krmfn.runtime import engine
from krmfn.runtime.resourcelist import ResourceList

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
TIMEOUT = 300


def in_process(config: dict, items: list[dict]) -> tuple[int, ResourceList]:
    rl = ResourceList(items=items, function_config=config)
    return engine.run(rl), rl


def module(*args: str, stdin: str | bytes | None = None, cwd: Path = ROOT, env: dict | None = None,
           timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    environment = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "krmfn", *args], input=stdin, cwd=cwd, env=environment,
                          capture_output=True, text=not isinstance(stdin, bytes), timeout=timeout)


def installed(*args: str, stdin: str | None = None, cwd: Path = ROOT, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run([str(VENV_BIN / "krmfn"), *args], input=stdin, cwd=cwd, env=shell_env(),
                          capture_output=True, text=True, timeout=timeout)


def shell(command: str, *, cwd: Path = ROOT, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    """A command line as a user types it (pipes included), with .venv/bin first on PATH."""
    return subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=cwd, env=shell_env(),
                          capture_output=True, text=True, timeout=timeout)


def shell_env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}


def resource_list(items: list[dict], config: dict | None = None) -> dict:
    out: dict = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items}
    if config is not None:
        out["functionConfig"] = config
    return out
