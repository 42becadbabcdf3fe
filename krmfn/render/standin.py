"""The `docker` stand-in: where no container engine can run the krmfn image (Argo CD's repo
server, CI without Docker), a `docker` first on PATH serves krmfn's own image natively, at the
version the kustomization pins, and forwards every other image to the real engine."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys

from .. import __version__
from ..runtime.record import record

IMAGE_REPOSITORY = re.compile(r"^(?:.+/)?krmfn$")
# OCI's registered digests: an image reference ends in `@sha256:<64 hex>` (or sha512: 128)
_DIGEST = re.compile(r"(?:sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})\Z")
ENGINE_ENV = "KRMFN_CONTAINER_ENGINE"  # the real engine the stand-in forwards other images to
# `docker run` options that take a value (so the image is the first word that is not one).
_VALUE_OPTIONS = {"-a", "--attach", "-e", "--env", "--network", "--net", "-u", "--user", "--security-opt",
                  "--mount", "-v", "--volume", "--name", "--entrypoint", "-w", "--workdir", "--env-file",
                  "--platform", "--pull", "--memory", "-m", "--cpus", "--label", "-l", "--log-driver"}


def engine_works() -> bool:
    """True when `docker` on PATH reaches a running engine (the client alone is not enough)."""
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        return subprocess.run([docker, "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def install(directory: str, env: dict[str, str]) -> None:
    """Put a `docker` first on `env`'s PATH that runs krmfn images natively and forwards the rest."""
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


@record(frozen=True)
class DockerRun:
    """What the stand-in does with one `docker ...` command line."""

    serve: bool  # run krmfn's function here, natively
    env: dict  # -e NAME=VALUE settings for the served call
    why: str  # when not served: why (for the forwarding message, or the error)
    error: bool = False  # not served and not forwardable either: a refusal


def parse(argv: list[str]) -> DockerRun:
    """Decide what to do with `docker ARGV` as kustomize calls it."""
    if not argv or argv[0] != "run":
        return DockerRun(False, {}, "only `docker run` is served natively")
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
        return DockerRun(False, {}, "container-run: no image in the docker command line", error=True)
    name, pinned, digest = image.partition("@")
    if pinned and not _DIGEST.match(digest):
        return DockerRun(False, {}, f"image {image}: invalid digest {digest!r} (expected sha256: and 64 lower-case "
                                    "hex digits)", error=True)
    repository, _, tag = name.rpartition(":") if ":" in name.rsplit("/", 1)[-1] else (name, "", "")
    if not IMAGE_REPOSITORY.match(repository):
        return DockerRun(False, {}, f"image {image} is not krmfn's")
    if pinned and not tag:
        # The digest names bytes, not a version: only an engine can run exactly those.
        return DockerRun(False, {}, f"image {image} is krmfn's pinned by digest only, which does not say which "
                                    f"krmfn version it is, so it cannot be served natively: pin the version "
                                    f"as well ({repository}:{__version__}@{digest})")
    if tag.lstrip("v") != __version__:
        return DockerRun(False, {}, f"the kustomization pins {image}, but this krmfn is {__version__}: install krmfn "
                                    f"{tag.lstrip('v') or '(untagged)'} or render with a container engine", error=True)
    if mounts:
        return DockerRun(False, {}, f"{image}: mounts ({', '.join(mounts)}) cannot be served natively; "
                                    "use a container engine", error=True)
    return DockerRun(True, env, "")
