"""Every golden case of every function (see tests/golden.py for the layout)."""

import pytest

from conftest import ROOT, SHARED
from golden import case_id, cases, check_case


@pytest.mark.parametrize("case", cases(), ids=case_id)
def test_golden(case, monkeypatch):
    monkeypatch.chdir(ROOT)
    configs = "".join(p.read_text() for p in case.glob("*.yaml") if p.name != "expected.yaml")
    if "../shared/" in configs and not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent: this case validates against the kagent CRDs kept there")
    check_case(case)


def test_every_function_has_golden_cases():
    from krmfn.runtime.registry import FUNCTIONS

    covered = {c.parent.parent.name for c in cases() if c.name != "example"}
    missing = sorted(entry.module.rsplit(".", 1)[1] for entry in FUNCTIONS.values())
    missing = [name for name in missing if name not in covered]
    assert not missing, f"functions without golden cases: {missing}"


def test_update_mode_writes_then_fails(tmp_path, monkeypatch):
    """KRMFN_UPDATE_GOLDEN must never turn a test green: it writes the expectations, then fails."""
    import shutil

    import golden

    case = tmp_path / "functions" / "expand" / "testdata" / "copy"
    shutil.copytree(golden.FUNCTIONS / "expand" / "testdata" / "byo-agent", case)
    (case / "expected.yaml").write_text("stale\n")
    monkeypatch.setattr(golden, "UPDATE", True)
    with pytest.raises(AssertionError, match="expectations written"):
        check_case(case)
    assert (case / "expected.yaml").read_text() != "stale\n"
    monkeypatch.setattr(golden, "UPDATE", False)
    check_case(case)  # what it wrote is what the function does


def test_a_function_that_changes_its_input_before_failing_is_caught(tmp_path, monkeypatch):
    """Were the engine's snapshot shallow, a failing function's in-place edits would come back as
    its "unchanged" input; the harness compares with a fresh parse of input.yaml and sees them."""
    import shutil

    import golden
    from krmfn.fn import expand
    from krmfn.runtime import engine

    case = tmp_path / "case"
    shutil.copytree(golden.FUNCTIONS / "expand" / "testdata" / "error-unknown-tool", case)
    real = expand.process

    def edits_then_fails(rl, config):
        for item in rl.items:
            item.setdefault("metadata", {}).setdefault("labels", {})["edited"] = "in-place"
        real(rl, config)

    monkeypatch.setattr(expand, "process", edits_then_fails)
    monkeypatch.setattr(engine, "clone", list)  # a shallow snapshot, as the engine once kept
    with pytest.raises(AssertionError, match="a failing run changed its input"):
        check_case(case)
