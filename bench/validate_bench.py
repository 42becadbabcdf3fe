"""Micro benchmark: offline conformance validation vs. a libyaml round trip of the same stream.

Generates N Agents (default 1,000) and one ModelConfig per Agent as one YAML stream, then times,
best of 3 runs each:
  (a) yaml.load_all + yaml.dump_all with CSafeLoader / CSafeDumper
  (b) yaml.load_all + krmfn.conformance.validate against the kagent v0.9.12 CRDs
      (schema + CEL + reference checks; CRDs loaded and compiled once, before timing)
and prints both times and their ratio (the target is (b) <= 3 x (a)).

    python bench/validate_bench.py [--agents N] [--crds PATH]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml

from common import best_of  # noqa: E402  (bench/ is on sys.path when run as a script)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from krmfn.conformance import load_crds, validate, validate_schemas  # noqa: E402

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
DEFAULT_CRDS = ROOT.parent / "shared" / "kagent-crds" / "v0.9.12"


def make_objects(n: int) -> list[dict]:
    objs: list[dict] = []
    for i in range(n):
        group = i // 5  # agents come in groups of five: one lead that delegates to nobody
        ns = f"team-{group % 10}"
        name = f"agent-{i}"
        lead = f"agent-{group * 5}"
        objs.append({
            "apiVersion": "kagent.dev/v1alpha2",
            "kind": "ModelConfig",
            "metadata": {"name": f"{name}-model", "namespace": ns, "labels": {"krmfn.dev/tier": "standard"}},
            "spec": {
                "provider": "OpenAI",
                "model": "gpt-4.1-mini",
                "apiKeySecret": "openai-api-key",
                "apiKeySecretKey": "OPENAI_API_KEY",
                "openAI": {"temperature": "0.2", "maxTokens": 4096, "topP": "0.9"},
            },
        })
        objs.append({
            "apiVersion": "kagent.dev/v1alpha2",
            "kind": "Agent",
            "metadata": {
                "name": name,
                "namespace": ns,
                "labels": {"app.kubernetes.io/part-of": "platform-agents", "krmfn.dev/model-tier": "standard"},
                "annotations": {"krmfn.dev/source": f"agents/{name}.yaml"},
            },
            "spec": {
                "type": "Declarative",
                "description": f"Read-only Kubernetes troubleshooting assistant number {i}.",
                "declarative": {
                    "modelConfig": f"{name}-model",
                    "systemMessage": "You are a careful Kubernetes expert.\nOnly read, never write.\n" * 3,
                    "stream": True,
                    "tools": [
                        {
                            "type": "McpServer",
                            "mcpServer": {
                                "apiGroup": "kagent.dev",
                                "kind": "RemoteMCPServer",
                                "name": "kagent-tool-server",
                                "toolNames": ["k8s_get_resources", "k8s_get_pod_logs", "k8s_describe_resource"],
                                "requireApproval": ["k8s_describe_resource"],
                            },
                        },
                        {
                            "type": "McpServer",
                            "mcpServer": {
                                "kind": "RemoteMCPServer",
                                "name": "prometheus-mcp",
                                "toolNames": ["promql_query"],
                            },
                        },
                    ] + ([{"type": "Agent", "agent": {"name": lead}}] if lead != name else []),
                    "a2aConfig": {"skills": [{
                        "id": "diagnose",
                        "name": "Cluster diagnostics",
                        "description": "Explains why workloads fail.",
                        "examples": ["Why is my pod crash looping?"],
                        "tags": ["k8s", "diagnostics"],
                    }]},
                    "deployment": {
                        "replicas": 1,
                        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"},
                                      "limits": {"memory": "512Mi"}},
                    },
                },
            },
        })
    return objs


def external_names(n: int) -> set[tuple[str, str, str]]:
    out = set()
    for t in range(min(n, 10)):
        ns = f"team-{t}"
        out |= {("Secret", ns, "openai-api-key"), ("RemoteMCPServer", ns, "kagent-tool-server"),
                ("RemoteMCPServer", ns, "prometheus-mcp")}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--crds", type=Path, default=DEFAULT_CRDS)
    args = ap.parse_args(argv)
    if not args.crds.is_dir():
        print(f"CRDs not found at {args.crds}", file=sys.stderr)
        return 2

    text = yaml.dump_all(make_objects(args.agents), Dumper=Dumper, sort_keys=True)
    external = external_names(args.agents)

    t0 = time.perf_counter()
    crds = load_crds(args.crds)
    for key in crds.kinds():
        crds.validator(*key)
    setup = time.perf_counter() - t0

    def roundtrip():
        yaml.dump_all(list(yaml.load_all(text, Loader=Loader)), Dumper=Dumper, sort_keys=True)

    results: list = []

    def load_validate():
        results[:] = validate(list(yaml.load_all(text, Loader=Loader)), crds, external=external)

    def load_validate_schema_only():
        validate_schemas(list(yaml.load_all(text, Loader=Loader)), crds)

    def load_only():
        list(yaml.load_all(text, Loader=Loader))

    a = best_of(3, roundtrip)
    b = best_of(3, load_validate)
    c = best_of(3, load_validate_schema_only)
    d = best_of(3, load_only)
    errors = [r for r in results if r.is_error]
    n_objs = 2 * args.agents
    print(f"objects: {n_objs} ({args.agents} Agents + {args.agents} ModelConfigs), {len(text) / 1e6:.2f} MB YAML")
    print(f"CRDs {args.crds.name}: load + compile all versions once: {setup * 1000:.0f} ms")
    print(f"{'(a) load_all + dump_all (libyaml)':<48}{a * 1000:9.1f} ms")
    print(f"{'(b) load_all + validate (schema+CEL+references)':<48}{b * 1000:9.1f} ms   ratio b/a = {b / a:.2f}")
    print(f"{'    load_all + schema/CEL only':<48}{c * 1000:9.1f} ms   ratio = {c / a:.2f}")
    print(f"{'    load_all alone':<48}{d * 1000:9.1f} ms   (validate alone = {(b - d) * 1000:.1f} ms)")
    print(f"findings: {len(errors)} errors, {len(results) - len(errors)} other")
    for r in errors[:5]:
        print("  ", r.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
