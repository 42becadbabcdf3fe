"""`krmfn build DIR`: render a kustomization with the krmfn functions, wherever it runs.

It finds a kustomize (a standalone `kustomize` first, for `--enable-exec`; else `kubectl
kustomize`), passes the flags KRM functions need, and checks the functions really ran (kustomize
skips exec functions silently without `--enable-exec`). Where no container engine can run the
krmfn image (Argo CD's repo server, CI without Docker), a `docker` stand-in first on PATH runs
krmfn's own images natively, at the version the kustomization pins; other images go to the real
engine.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

from .. import __version__

IMAGE_REPOSITORY = re.compile(r"^(?:.+/)?krmfn$")
ENGINE_ENV = "KRMFN_CONTAINER_ENGINE"  # the real engine the stand-in forwards other images to
# Default of --native/--containers for every `krmfn build`, also those `krmfn diff --git` runs:
# native, containers or auto (CI sets native: no image pulls, the pinned version is checked).
MODE_ENV = "KRMFN_BUILD_MODE"
# `docker run` options that take a value (so the image is the first word that is not one).
_VALUE_OPTIONS = {"-a", "--attach", "-e", "--env", "--network", "--net", "-u", "--user", "--security-opt",
                  "--mount", "-v", "--volume", "--name", "--entrypoint", "-w", "--workdir", "--env-file",
                  "--platform", "--pull", "--memory", "-m", "--cpus", "--label", "-l", "--log-driver"}


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="krmfn build", description=__doc__.splitlines()[0])
    parser.add_argument("directory", help="the kustomization to render (e.g. overlays/prod)")
    parser.add_argument("-o", "--output", help="write the manifests to this file instead of stdout")
    parser.add_argument("--kustomize", help="kustomize binary (default: $KRMFN_KUSTOMIZE, `kustomize`, "
                                            "then `kubectl kustomize`)")
    engine = parser.add_mutually_exclusive_group()
    engine.add_argument("--native", action="store_true",
                        help="always run krmfn's own images natively (no container engine); without "
                             "--native/--containers, $KRMFN_BUILD_MODE (native, containers, auto) decides, "
                             "else auto: natively when no container engine works")
    engine.add_argument("--containers", action="store_true",
                        help="always run functions in the container engine, even krmfn's own")
    args = parser.parse_args(argv)
    mode = "native" if args.native else "containers" if args.containers else os.environ.get(MODE_ENV) or "auto"
    if mode not in ("native", "containers", "auto"):
        return _fail(f"{MODE_ENV}={mode!r}: use native, containers or auto")

    if not os.path.isdir(args.directory):
        return _fail(f"{args.directory}: no such directory")
    from ..runtime import output

    if args.output:
        output.check_writable_destination(args.output)  # before minutes of rendering, not after
    command = kustomize_command(args.kustomize, args.directory)
    if command is None:
        return _fail("no kustomize found: install the standalone kustomize or kubectl, or set KRMFN_KUSTOMIZE")
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="krmfn-build-") as shim_dir:
        if mode == "native" or (mode == "auto" and not engine_works()):
            install_docker_shim(shim_dir, env)
        proc = subprocess.run(command, capture_output=True, env=env)
    if proc.returncode != 0:
        for line in failure_lines(proc.stderr.decode(errors="replace")):
            print(line, file=sys.stderr)
        return _fail(f"kustomize build {args.directory} failed (exit {proc.returncode}); see the lines above")
    sys.stderr.write(proc.stderr.decode(errors="replace"))
    problem = unrendered(proc.stdout)
    if problem:
        return _fail(f"{args.directory}: {problem}")
    if args.output:
        output.write_file(args.output, proc.stdout)
    else:
        output.write_stdout(proc.stdout)
    return 0


def kustomize_command(explicit: str | None, directory: str) -> list[str] | None:
    chosen = explicit or os.environ.get("KRMFN_KUSTOMIZE")
    if chosen:
        words = shlex.split(chosen)
        if os.path.basename(words[0]) == "kubectl":
            return [*words, "kustomize", "--enable-alpha-plugins", directory] if len(words) == 1 else \
                [*words, "--enable-alpha-plugins", directory]
        return [*words, "build", "--enable-alpha-plugins", "--enable-exec", directory]
    if shutil.which("kustomize"):
        return ["kustomize", "build", "--enable-alpha-plugins", "--enable-exec", directory]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize", "--enable-alpha-plugins", directory]
    return None


def engine_works() -> bool:
    """True when `docker` on PATH reaches a running engine (the client alone is not enough)."""
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        return subprocess.run([docker, "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def install_docker_shim(directory: str, env: dict[str, str]) -> None:
    """Put a `docker` first on PATH that runs krmfn images natively and forwards the rest."""
    real = shutil.which("docker", path=env.get("PATH"))
    if real and ENGINE_ENV not in env and engine_works():
        env[ENGINE_ENV] = real
    path = os.path.join(directory, "docker")
    with open(path, "w") as handle:
        # -P: the directory being rendered must not shadow any module krmfn imports.
        handle.write(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -P -m krmfn container-run \"$@\"\n")
    os.chmod(path, 0o755)
    env["PATH"] = directory + os.pathsep + env.get("PATH", "")
    # The stand-in must run this very krmfn, installed or not.
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)


def container_run(argv: list[str]) -> int:
    """`docker run ... IMAGE` as kustomize calls it, served natively for krmfn's own image."""
    if not argv or argv[0] != "run":
        return _forward(argv, "only `docker run` is served natively")
    image, env, mounts = None, {}, []
    words = iter(argv[1:])
    for word in words:
        if word.startswith("-"):
            name, _, inline = word.partition("=")
            if name in _VALUE_OPTIONS:
                value = inline if inline else next(words, "")
                if name in ("-e", "--env") and "=" in value:
                    key, _, val = value.partition("=")
                    env[key] = val
                elif name in ("--mount", "-v", "--volume"):
                    mounts.append(value)
            continue
        image = word
        break
    if image is None:
        return _fail("container-run: no image in the docker command line")
    repository, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "")
    if not IMAGE_REPOSITORY.match(repository):
        return _forward(argv, f"image {image} is not krmfn's")
    if tag.lstrip("v") != __version__:
        return _fail(f"the kustomization pins {image}, but this krmfn is {__version__}: install krmfn "
                     f"{tag.lstrip('v') or '(untagged)'} or render with a container engine")
    if mounts:
        return _fail(f"{image}: mounts ({', '.join(mounts)}) cannot be served natively; use a container engine")
    os.environ.update(env)
    from . import krm

    return krm.main()


def _forward(argv: list[str], why: str) -> int:
    real = os.environ.get(ENGINE_ENV)
    if not real:
        return _fail(f"{why}, and there is no container engine to run it (set {ENGINE_ENV})")
    os.execv(real, [real, *argv])
    return 1  # not reached


def unrendered(manifests: bytes) -> str | None:
    """Why this output cannot be what the functions produced, or None when it is fine."""
    from ..runtime import yamlio

    try:
        docs = yamlio.load_all(manifests, "kustomize output")
    except yamlio.YamlError as err:
        return str(err)
    if not docs:
        return "the build produced no resources; refusing to hand an empty render to a GitOps tool"
    for doc in docs:
        if isinstance(doc, dict) and str(doc.get("apiVersion", "")).startswith("krmfn.dev/"):
            meta = doc.get("metadata") or {}
            return (f"{doc.get('kind')} {meta.get('namespace', '')}/{meta.get('name', '')} is still in the output: "
                    "the krmfn functions did not run (exec functions need --enable-exec, legacy plugins "
                    "--enable-alpha-plugins and KUSTOMIZE_PLUGIN_HOME)")
    return None


# kubectl's log prefix (`E1125 10:36:57.049604    4735 run.go:72] "command failed" err="..."`).
_KLOG = re.compile(r"^[EWIF][0-9]{4} [0-9:.]+\s+[0-9]+ \S+\] (?P<message>.*)$")
_KLOG_ERR = re.compile(r'err="(?P<err>(?:[^"\\]|\\.)*)"')
_NOTHING_NEW = re.compile(r"^couldn't execute function: exit status [0-9]+$")


def failure_lines(stderr: str) -> list[str]:
    """A failed build's stderr as `[error]` lines: the functions' own lines as they are, and what
    kustomize itself said as one line (left out when it only repeats that a function failed)."""
    ours, theirs = [], []
    for line in stderr.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith(("[error] ", "[warning] ", "[info] ")):
            ours.append(line)
            continue
        klog = _KLOG.match(line)
        if klog:
            err = _KLOG_ERR.search(klog.group("message"))
            line = re.sub(r"\\(.)", r"\1", err.group("err")) if err else klog.group("message")
        line = line.removeprefix("Error: ").strip()
        if line:
            theirs.append(line)
    if any(line.startswith("[error] ") for line in ours):
        theirs = [line for line in theirs if not _NOTHING_NEW.match(line)]
    if theirs:
        ours.append("[error] kustomize: " + " ".join(" ".join(theirs).split()))
    return ours


def _fail(message: str) -> int:
    print(f"[error] {message}", file=sys.stderr)
    return 1
