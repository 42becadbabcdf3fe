"""How the tests run krmfn: one helper per way in, each named for the path it exercises.

- `in_process(config, items)`: the engine on a ResourceList, no process (what every way in calls);
- `cli(*args, stdin=...)`: `krmfn ARGS` in this process through `krmfn.cli.main`, stdin/stdout/stderr
  captured (the console script's path without a process: fast, and exceptions reach the test);
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


def cli(*args: str, stdin: bytes | str = b"", cwd: Path | None = None) -> tuple[int, bytes, str]:
    """(exit code, stdout bytes, stderr text) of `krmfn ARGS` run in this process."""
    import io

    from krmfn import cli as entry

    data = stdin.encode() if isinstance(stdin, str) else stdin
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    stderr = io.StringIO()
    saved = sys.stdin, sys.stdout, sys.stderr, os.getcwd()
    sys.stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    sys.stdout, sys.stderr = stdout, stderr
    try:
        if cwd is not None:
            os.chdir(cwd)
        code = entry.main(list(args))
    except SystemExit as exit_:  # argparse
        code = exit_.code
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved[:3]
        os.chdir(saved[3])
    stdout.flush()
    return code, stdout.buffer.getvalue(), stderr.getvalue()


def module(*args: str, stdin: str | bytes | None = None, cwd: Path = ROOT, env: dict | None = None,
           timeout: float = TIMEOUT, text: bool | None = None, unset: tuple[str, ...] = (),
           stdio: dict | None = None, preexec_fn=None) -> subprocess.CompletedProcess:
    """`env` is added to this process's environment, `unset` names taken out of it; `text`: str or
    bytes I/O (by default, what stdin is; text when there is none). `stdio` ({"stdin": ..., "stdout":
    ...}: a file, DEVNULL) replaces the captured stream for tests of krmfn's own I/O; `preexec_fn`
    runs in the child before krmfn (a resource limit, a closed descriptor)."""
    environment = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}
    for name in unset:
        environment.pop(name, None)
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **(stdio or {})}
    if stdin is not None:
        streams["input"] = stdin
    return subprocess.run([sys.executable, "-m", "krmfn", *args], cwd=cwd, env=environment, **streams,
                          text=not isinstance(stdin, bytes) if text is None else text,
                          timeout=timeout, preexec_fn=preexec_fn)


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
