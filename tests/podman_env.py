"""krmfn's private podman: the configuration and storage scripts/setup-podman writes under
.tools/podman/, so that tests never read or change the host's /etc/containers or image store.

conftest.py puts these variables into os.environ for the whole session, so every podman that a
test (or kustomize, through .tools/docker-shim/docker) starts uses them.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PODMAN_DIR = ROOT / ".tools" / "podman"


def podman_env() -> dict[str, str]:
    return {
        "CONTAINERS_CONF": str(PODMAN_DIR / "containers.conf"),
        "CONTAINERS_STORAGE_CONF": str(PODMAN_DIR / "storage.conf"),
    }
