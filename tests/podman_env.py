"""krmfn's private podman: the configuration and storage scripts/setup-podman writes under
.tools/podman/, so that tests never read or change the host's /etc/containers or image store, and
the podman wrapper (.tools/podman/bin/podman) that runs podman in a private mount namespace, so
that /var/lib/containers and /run/containers stay the host's too.

conftest.py puts these variables into os.environ and PODMAN_BIN first on PATH for the whole
session, so every podman that a test (or kustomize, through .tools/docker-shim/docker) starts is
the wrapper with them.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PODMAN_DIR = ROOT / ".tools" / "podman"
PODMAN_BIN = PODMAN_DIR / "bin"


def podman_env() -> dict[str, str]:
    return {
        "CONTAINERS_CONF": str(PODMAN_DIR / "containers.conf"),
        "CONTAINERS_STORAGE_CONF": str(PODMAN_DIR / "storage.conf"),
    }
