"""Golden test harness for every function, in the style of kustomize's frameworktestutil.

A case is a folder `functions/<function>/testdata/<case>/` (or a function's `example/`) holding:
  config.yaml              the function config
  input.yaml               the input items (a YAML stream)
  expected.yaml            the expected output items, when the function succeeds
  expected-stderr.txt      the expected stderr lines (errors and warnings), when there are any
A case with `expected-stderr.txt` containing an `[error]` line must exit 1, any other must exit 0.
Set KRMFN_UPDATE_GOLDEN=1 to (re)write the expectations from the current behaviour: the run writes
them and then fails (as kpt's RunGoldenTests does), so an update can never pass for a test run;
review the diff and run again. Every successful case is run a second time on its own output,
which must not change. A failing case must give its input back exactly: compared with a fresh
parse of input.yaml, never with the objects the function was handed (it may have changed those).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import support
from krmfn.runtime import engine, yamlio

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ROOT / "functions"
UPDATE = os.environ.get("KRMFN_UPDATE_GOLDEN", "") not in ("", "0")


@dataclass
class Outcome:
    code: int
    output: str
    stderr: str


def cases() -> list[Path]:
    """Every testdata case, and every function's example/ (so the documentation cannot rot)."""
    return sorted([p.parent for p in FUNCTIONS.glob("*/testdata/*/config.yaml")]
                  + [p for p in FUNCTIONS.glob("*/example") if p.is_dir()])


def case_id(case: Path) -> str:
    if case.name == "example":
        return f"{case.parent.name}/example"
    return f"{case.parent.parent.name}/{case.name}"


def run_function(config: dict, items: list[dict]) -> Outcome:
    code, rl = support.in_process(config, items)
    lines = engine.error_lines(rl.results)
    return Outcome(code, yamlio.dump_all(rl.items), "".join(line + "\n" for line in lines))


def load_case(case: Path) -> tuple[dict, list[dict]]:
    if case.name == "example":
        return load_example(case)
    config = yamlio.load_one((case / "config.yaml").read_bytes(), str(case / "config.yaml"))
    input_file = case / "input.yaml"
    items = yamlio.load_all(input_file.read_bytes(), str(input_file)) if input_file.exists() else []
    return config, items


def load_example(folder: Path) -> tuple[dict, list[dict]]:
    """An example as users run it: its one function config, and every other YAML file as input."""
    from krmfn.runtime.registry import FUNCTIONS as KINDS

    config, items = None, []
    for path in sorted(folder.glob("*.yaml")):
        if path.name in ("kustomization.yaml", "expected.yaml"):
            continue
        docs = yamlio.load_all(path.read_bytes(), str(path))
        if len(docs) == 1 and docs[0].get("apiVersion") == "krmfn.dev/v1alpha1" and docs[0].get("kind") in KINDS:
            assert config is None, f"{folder}: more than one function config"
            config = docs[0]
        else:
            items.extend(docs)
    assert config is not None, f"{folder}: no function config"
    return config, items


def check_case(case: Path) -> None:
    """Run in the repository root: configs name paths (such as ../shared/kagent-crds) from there."""
    config, items = load_case(case)
    first = run_function(config, items)
    expected_out, expected_err = case / "expected.yaml", case / "expected-stderr.txt"
    if UPDATE:
        _write(expected_out, first.output if first.code == 0 else None)
        _write(expected_err, first.stderr or None)
        raise AssertionError(f"{case_id(case)}: expectations written (KRMFN_UPDATE_GOLDEN is set); "
                             "review the diff, then run the tests without it")
    failing = "[error]" in (expected_err.read_text() if expected_err.exists() else "")
    assert expected_out.exists() or expected_err.exists(), f"{case}: no expectations (run with KRMFN_UPDATE_GOLDEN=1)"
    assert first.stderr == (expected_err.read_text() if expected_err.exists() else ""), \
        f"{case_id(case)}: stderr differs"
    assert first.code == (1 if failing else 0), f"{case_id(case)}: exit code {first.code}"
    if failing:
        assert not expected_out.exists(), f"{case_id(case)}: a failing case has no expected output"
        assert_input_returned(case, first.output)
        return
    assert first.output == expected_out.read_text(), f"{case_id(case)}: output differs"
    # Run again on its own output, with the local-config items a Pipeline consumed handed over again
    # (kustomize gives them to every run: they are resources of the kustomization).
    output = yamlio.load_all(first.output)
    second = run_function(config, output + [i for i in items if _local_config(i) and i not in output])
    assert second.code == 0 and second.output == first.output, \
        f"{case_id(case)}: not idempotent: running on its own output changed it"


def assert_input_returned(case: Path, output: str) -> None:
    """On failure the input comes back untouched (kustomize fails the build; nothing is lost)."""
    _, fresh = load_case(case)
    assert yamlio.load_all(output) == fresh, f"{case_id(case)}: a failing run changed its input"
def _local_config(item: dict) -> bool:
    annotations = (item.get("metadata") or {}).get("annotations") or {}
    return annotations.get("config.kubernetes.io/local-config") == "true"


def _write(path: Path, text: str | None) -> None:
    if text is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(text)


def check_text(expected: Path, actual: str, what: str) -> None:
    """One expectation file: compared, or with KRMFN_UPDATE_GOLDEN written and then a failure."""
    if UPDATE:
        expected.write_text(actual)
        raise AssertionError(f"{expected}: written (KRMFN_UPDATE_GOLDEN is set); review the diff, then run without it")
    assert expected.exists(), f"{expected}: missing (run with KRMFN_UPDATE_GOLDEN=1)"
    assert actual == expected.read_text(), f"{what} differs from {expected.relative_to(ROOT)}"
