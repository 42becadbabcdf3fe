"""The container tier leaves the host's podman alone: scripts/setup-podman, a container run
through the docker shim and podman calls through the wrapper change nothing under /etc/containers,
/var/lib/containers or /run/containers (Debian's podman 4.3 as root writes its blob-info cache and
netavark's state there whatever CONTAINERS_CONF says: the wrapper's private mount namespace keeps
them in .tools/podman/host/), nor the default storage's image list; krmfn's images live in its
private storage under .tools/podman/.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from podman_env import PODMAN_BIN, PODMAN_DIR, podman_env
from test_container import IMAGE, SHIM_DIR, require_podman

pytestmark = pytest.mark.container

# Where podman keeps host-wide state as root: its configuration, its default storage and caches,
# its run state. Each must look the same after the tier as before it (existing or not).
HOST_DIRS = (Path("/etc/containers"), Path("/var/lib/containers"), Path("/run/containers"))
HOST_STORAGE = Path("/var/lib/containers/storage")


def host_env() -> dict[str, str]:
    """The environment a user's own podman sees: without krmfn's variables and wrapper."""
    env = {k: v for k, v in os.environ.items() if k not in podman_env()}
    env["PATH"] = os.pathsep.join(d for d in env.get("PATH", "").split(os.pathsep) if d != str(PODMAN_BIN))
    return env


def tree_state(root: Path) -> dict:
    """Every path under root (root itself included) with its content, mtime and mode."""
    if not root.exists():
        return {str(root): "absent"}
    files = {}
    for path in [root, *sorted(root.rglob("*"))]:  # directories too: a new one is a change
        stat = path.lstat()
        content = path.read_bytes() if path.is_file() and not path.is_symlink() else None
        files[str(path)] = (content, stat.st_mtime_ns, stat.st_mode)
    return files


def host_state() -> dict:
    files = {}
    for root in HOST_DIRS:
        files.update(tree_state(root))
    images = None
    if HOST_STORAGE.exists():  # listing images would create the default storage: only when it exists
        proc = subprocess.run(["podman", "images", "--format", "json"], capture_output=True, env=host_env(),
                              timeout=120)
        assert proc.returncode == 0, proc.stderr.decode()
        images = sorted((i["Id"], tuple(sorted(i.get("Names") or ()))) for i in json.loads(proc.stdout or b"[]"))
    return {"files": files, "default storage exists": HOST_STORAGE.exists(), "images": images}


def test_setup_and_container_runs_leave_the_host_podman_unchanged(tmp_path):
    require_podman()  # installs podman if needed (the packages are the host's, on purpose)
    before = host_state()
    setup = subprocess.run([str(Path(__file__).resolve().parents[1] / "scripts" / "setup-podman")],
                           capture_output=True, text=True, timeout=1800)
    assert setup.returncode == 0, setup.stderr[-3000:]
    run = subprocess.run([str(SHIM_DIR / "docker"), "run", "--rm", "--network", "none", "--entrypoint",
                          "/opt/krmfn/bin/python", IMAGE, "-c", "print('ran')"],
                         capture_output=True, text=True, env=host_env(), timeout=300)
    assert run.returncode == 0 and run.stdout == "ran\n", run.stderr
    # podman info sets up netavark (its run state); a tiny build writes the blob-info cache.
    assert subprocess.run(["podman", "info"], capture_output=True, timeout=120).returncode == 0
    context = tmp_path / "context"
    context.mkdir()
    (context / "Containerfile").write_text(f"FROM {IMAGE}\nLABEL dev.krmfn.test=host-hygiene\n")
    build = subprocess.run(["podman", "build", "--network", "none", "-q", "-t", "localhost/krmfn-host-test",
                            str(context)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    subprocess.run(["podman", "rmi", "localhost/krmfn-host-test"], capture_output=True, timeout=120)
    # ... and the private copies of what podman would have written to the host are where it put them.
    assert (PODMAN_DIR / "host" / "var-lib-containers" / "cache" / "blob-info-cache-v1.boltdb").is_file()
    assert (PODMAN_DIR / "host" / "run-containers" / "networks").is_dir()
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
    assert not [line for line in Path("/proc/self/mounts").read_text().splitlines() if "krmfn-podman" in line]


def test_the_docker_shim_sets_the_private_configuration_itself():
    """kustomize runs the shim with the caller's environment, which need not carry the variables
    nor the wrapper on PATH."""
    require_podman()
    for program in (SHIM_DIR / "docker", PODMAN_BIN / "podman"):
        text = program.read_text()
        for name, value in podman_env().items():
            assert f'export {name}="{value}"' in text
    assert f'exec "{PODMAN_BIN / "podman"}"' in (SHIM_DIR / "docker").read_text()
    proc = subprocess.run([str(SHIM_DIR / "docker"), "info", "--format", "{{.Store.GraphRoot}}"],
                          capture_output=True, text=True, env=host_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(PODMAN_DIR / "storage")
