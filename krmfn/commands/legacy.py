"""Legacy kustomize exec plugins: `kubectl kustomize --enable-alpha-plugins` without KRM functions.

kustomize runs `$KUSTOMIZE_PLUGIN_HOME/<group>/<version>/<lowercase kind>/<Kind> CONFIG_FILE`
in the kustomization directory, with the resources as a plain YAML stream on stdin (nothing for
a generator), and reads a plain YAML stream back. The same engine runs behind it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys

from .. import API_VERSION, GROUP
from ..runtime import engine, output, yamlio
from ..runtime.registry import FUNCTIONS
from ..runtime.resourcelist import ResourceList


def run(argv: list[str]) -> int:
    if len(argv) < 1:
        print("[error] krmfn legacy: expected the plugin config file as the first argument", file=sys.stderr)
        return 1
    config_path = argv[0]
    try:
        with open(config_path, "rb") as handle:
            config = yamlio.load_one(yamlio.read_input(handle, config_path), config_path)
        if not isinstance(config, dict):
            raise yamlio.YamlError(f"{config_path}: expected a function config object")
        data = b"" if sys.stdin is None or sys.stdin.isatty() else yamlio.read_input(sys.stdin, "<stdin>")
        items = yamlio.load_all(data, "<stdin>")
    except OSError as err:
        print(f"[error] {config_path}: {err.strerror}", file=sys.stderr)
        return 1
    except yamlio.YamlError as err:
        print(f"[error] {err}", file=sys.stderr)
        return 1
    bad = [i for i, item in enumerate(items) if not isinstance(item, dict)]
    if bad:
        print(f"[error] <stdin>: document {bad[0] + 1}: not a Kubernetes object", file=sys.stderr)
        return 1
    rl = ResourceList(items=items, function_config=config)
    code = engine.run(rl)
    for line in engine.error_lines(rl.results):
        output.error(line)
    if code == 0:
        output.write_stdout(yamlio.dump_all(rl.items))
    return code


def install(argv: list[str]) -> int:
    """`krmfn install-plugins [DIR]`: one executable per kind under DIR (default $KUSTOMIZE_PLUGIN_HOME)."""
    home = argv[0] if argv else os.environ.get("KUSTOMIZE_PLUGIN_HOME") or os.path.join(
        os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config"), "kustomize", "plugin"
    )
    command = _krmfn_command()
    version = API_VERSION.split("/")[1]
    installed = []
    for kind in sorted(FUNCTIONS):
        folder = os.path.join(home, GROUP, version, kind.lower())
        path = os.path.join(folder, kind)
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as err:
            output.error(f"[error] install-plugins: {err.filename or folder}: {err.strerror or err}")
            return 1
        output.write_file(path, f"#!/bin/sh\n# kustomize legacy exec plugin for {API_VERSION}/{kind}, installed by "
                                f"krmfn\nexec {command} legacy \"$@\"\n")
        try:
            os.chmod(path, 0o755)
        except OSError as err:
            output.error(f"[error] install-plugins: {path}: {err.strerror or err}")
            return 1
        installed.append(path + "\n")
    output.write_stdout("".join(installed))
    return 0


def _krmfn_command() -> str:
    """A shell command running this krmfn, whatever PATH kustomize has."""
    candidate = os.path.abspath(sys.argv[0]) if os.path.basename(sys.argv[0]) == "krmfn" else None
    if candidate and os.access(candidate, os.X_OK):
        return shlex.quote(candidate)
    found = shutil.which("krmfn")
    if found:
        return shlex.quote(os.path.abspath(found))
    # Not installed as a command (a source checkout): this interpreter, this package.
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    # -P: the directory kustomize runs the plugin in must not shadow any module.
    return f"env PYTHONPATH={shlex.quote(package_root)} {shlex.quote(sys.executable)} -P -m krmfn"
