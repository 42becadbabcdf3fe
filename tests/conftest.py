import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(TESTS))

@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent: the kagent CRDs and reference data live there")
    return SHARED


@pytest.fixture(scope="session")
def crd_root(shared_dir) -> Path:
    return shared_dir / "kagent-crds"
