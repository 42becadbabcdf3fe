"""Every golden case of every function (see tests/golden.py for the layout)."""

import pytest

from conftest import ROOT, SHARED
from golden import case_id, cases, check_case


@pytest.mark.parametrize("case", cases(), ids=case_id)
def test_golden(case, monkeypatch):
    monkeypatch.chdir(ROOT)
    if "../shared/" in (case / "config.yaml").read_text() and not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent: this case validates against the kagent CRDs kept there")
    check_case(case)


def test_every_function_has_golden_cases():
    from krmfn.runtime.registry import FUNCTIONS

    covered = {c.parent.parent.name for c in cases() if c.name != "example"}
    missing = sorted(entry.module.rsplit(".", 1)[1] for entry in FUNCTIONS.values())
    missing = [name for name in missing if name not in covered]
    assert not missing, f"functions without golden cases: {missing}"
