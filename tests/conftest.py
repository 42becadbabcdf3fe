import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(TESTS))

# Every podman a test starts uses krmfn's private configuration and storage, never the host's.
from podman_env import podman_env  # noqa: E402

os.environ.update(podman_env())

# krmfn's warm workers (krmfn.worker) started by this session live in a directory of their own
# and are stopped when the session ends, so a test run leaves no process behind. Subprocesses
# inherit both settings; tests of the worker itself use their own directories.
WORKER_DIR = tempfile.mkdtemp(prefix="krmfn-w-")
os.environ["KRMFN_WORKER_DIR"] = WORKER_DIR
os.environ.setdefault("KRMFN_WORKER_IDLE", "60")


def pytest_sessionfinish(session, exitstatus):
    import signal

    # Workers live in WORKER_DIR, or under a test's own TMPDIR (tests that mimic a clean CI or
    # Argo CD environment): a worker's command line names its socket.
    places = [WORKER_DIR.encode()]
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is not None:
        places.append(str(factory.getbasetemp()).encode())
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            command = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"krmfn.worker" in command and any(place in command for place in places):
            try:
                os.kill(int(proc.name), signal.SIGTERM)
            except OSError:
                pass
    shutil.rmtree(WORKER_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent: the kagent CRDs and reference data live there")
    return SHARED


@pytest.fixture(scope="session")
def crd_root(shared_dir) -> Path:
    return shared_dir / "kagent-crds"
