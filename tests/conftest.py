import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(TESTS))

# Device files every program on the machine relies on: a test run must leave them as it found them
# (an output written "atomically" by renaming a file over /dev/null once replaced the device).
HOST_DEVICES = ("/dev/null", "/dev/zero", "/dev/full")


def _not_devices() -> list[str]:
    import stat

    return [path for path in HOST_DEVICES if os.path.exists(path) and not stat.S_ISCHR(os.stat(path).st_mode)]


def pytest_sessionstart(session):
    session.config._krmfn_bad_devices = _not_devices()


# Every podman a test starts uses krmfn's private configuration, storage and mount namespace
# (the wrapper first on PATH), never the host's.
from podman_env import PODMAN_BIN, podman_env  # noqa: E402

os.environ.update(podman_env())
os.environ["PATH"] = f"{PODMAN_BIN}{os.pathsep}{os.environ.get('PATH', '')}"


def pytest_sessionfinish(session, exitstatus):
    broken = sorted(set(_not_devices()) - set(getattr(session.config, "_krmfn_bad_devices", [])))
    if broken:
        sys.stderr.write(f"\n[error] the test run replaced device files of the host: {', '.join(broken)}\n")
        session.exitstatus = 1

@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent: the kagent CRDs and reference data live there")
    return SHARED


@pytest.fixture(scope="session")
def crd_root(shared_dir) -> Path:
    return shared_dir / "kagent-crds"
