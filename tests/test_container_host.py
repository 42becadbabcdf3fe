"""The container tier leaves the host's podman alone: scripts/setup-podman and a container run
through the docker shim change neither /etc/containers/* nor the default storage's image list;
krmfn's images live in its private storage under .tools/podman/.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from podman_env import PODMAN_DIR, podman_env
from test_container import IMAGE, SHIM_DIR, require_podman

pytestmark = pytest.mark.container

HOST_CONF = Path("/etc/containers")
HOST_STORAGE = Path("/var/lib/containers/storage")


def host_env() -> dict[str, str]:
    """The environment a user's own podman sees: without krmfn's variables."""
    return {k: v for k, v in os.environ.items() if k not in podman_env()}


def host_state() -> dict:
    files = {}
    if HOST_CONF.is_dir():
        for path in sorted(HOST_CONF.rglob("*")):  # directories too: a new one is a change
            stat = path.stat()
            files[str(path)] = (path.read_bytes() if path.is_file() else None, stat.st_mtime_ns, stat.st_mode)
    images = None
    if HOST_STORAGE.exists():  # listing images would create the default storage: only when it exists
        proc = subprocess.run(["podman", "images", "--format", "json"], capture_output=True, env=host_env(),
                              timeout=120)
        assert proc.returncode == 0, proc.stderr.decode()
        images = sorted((i["Id"], tuple(sorted(i.get("Names") or ()))) for i in json.loads(proc.stdout or b"[]"))
    return {"files": files, "default storage exists": HOST_STORAGE.exists(), "images": images}


def test_setup_and_container_runs_leave_the_host_podman_unchanged():
    require_podman()  # installs podman if needed (the packages are the host's, on purpose)
    before = host_state()
    setup = subprocess.run([str(Path(__file__).resolve().parents[1] / "scripts" / "setup-podman")],
                           capture_output=True, text=True, timeout=1800)
    assert setup.returncode == 0, setup.stderr[-3000:]
    run = subprocess.run([str(SHIM_DIR / "docker"), "run", "--rm", "--network", "none", "--entrypoint",
                          "/opt/krmfn/bin/python", IMAGE, "-c", "print('ran')"],
                         capture_output=True, text=True, env=host_env(), timeout=300)
    assert run.returncode == 0 and run.stdout == "ran\n", run.stderr
    # ... and the image it ran is in krmfn's private storage.
    info = subprocess.run(["podman", "info", "--format", "json"], capture_output=True, timeout=120)
    assert info.returncode == 0, info.stderr.decode()
    store = json.loads(info.stdout)["store"]
    assert store["graphRoot"] == str(PODMAN_DIR / "storage")
    assert store["configFile"] == str(PODMAN_DIR / "storage.conf")
    exists = subprocess.run(["podman", "image", "exists", IMAGE], timeout=60)
    assert exists.returncode == 0
    after = host_state()  # after every podman call of this test: none may touch the host
    assert after == before


def test_the_docker_shim_sets_the_private_configuration_itself():
    """kustomize runs the shim with the caller's environment, which need not carry the variables."""
    require_podman()
    text = (SHIM_DIR / "docker").read_text()
    for name, value in podman_env().items():
        assert f'export {name}="{value}"' in text
    proc = subprocess.run([str(SHIM_DIR / "docker"), "info", "--format", "{{.Store.GraphRoot}}"],
                          capture_output=True, text=True, env=host_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(PODMAN_DIR / "storage")
