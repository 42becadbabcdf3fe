"""Validating 1,000 Agents + 1,000 ModelConfigs against the v0.9.12 CRDs vs libyaml load-and-dump.

Uses the generator of bench/validate_bench.py (which prints a more detailed breakdown on its own).
"""

from __future__ import annotations

import sys
import time

import yaml

from common import Row, best_of
from validate_bench import DEFAULT_CRDS, external_names, make_objects

AGENTS = 1000


def run() -> list[Row]:
    if not DEFAULT_CRDS.is_dir():
        print(f"validate_scale: skipped ({DEFAULT_CRDS} is absent)", file=sys.stderr)
        return []
    from krmfn.conformance import load_crds, validate

    text = yaml.dump_all(make_objects(AGENTS), Dumper=yaml.CSafeDumper, sort_keys=True)
    external = external_names(AGENTS)
    floor = best_of(3, lambda: yaml.dump_all(list(yaml.load_all(text, Loader=yaml.CSafeLoader)),
                                             Dumper=yaml.CSafeDumper, sort_keys=True))
    crds = load_crds(DEFAULT_CRDS)
    warm = best_of(3, lambda: validate(list(yaml.load_all(text, Loader=yaml.CSafeLoader)), crds, external=external))

    def cold():
        fresh = load_crds(DEFAULT_CRDS)
        validate(list(yaml.load_all(text, Loader=yaml.CSafeLoader)), fresh, external=external)

    start = time.perf_counter()
    cold()
    cold_time = time.perf_counter() - start
    return [
        Row(f"validate {AGENTS} Agents + {AGENTS} ModelConfigs", warm, "libyaml load + dump, same stream", floor, 3.0),
        Row("  same, CRD loading and compiling included", cold_time, "libyaml load + dump, same stream", floor, None),
    ]
