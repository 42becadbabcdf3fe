"""`krmfn drift`: what the cluster runs against the render of an overlay.

  krmfn drift OVERLAY --live FILE      objects from `kubectl get ... -o yaml` (a v1 List or a stream; - for stdin)
  krmfn drift OVERLAY --kubectl        run kubectl for the kinds the render holds (current context,
                                       or --kubeconfig/--context)

Every difference is reported with the change classes of `krmfn diff`, from the cluster's side
("prompt changed in the cluster, not in Git"); objects of the render missing from the cluster are
"not applied", krmfn-managed objects the render does not hold are "not in Git". What the API server
adds (status, managed fields, uid, resourceVersion, defaults) is not drift; see the README.

Exit codes: 0 in sync (or no difference of a --fail-on class); 1 error (bad input, failed render or
kubectl); 3 drift of a --fail-on class (default: any).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from .args import CommandParser, UsageError
from .diff import EXIT_ERROR, EXIT_GATED, EXIT_OK

KUBECTL_ENV = "KRMFN_KUBECTL"  # the kubectl --kubectl runs (default: kubectl on PATH)
KUBECTL_TIMEOUT = 120


def parser():
    import argparse

    p = CommandParser(prog="krmfn drift", description=__doc__.split("\n\n")[0],
                      formatter_class=argparse.RawDescriptionHelpFormatter, epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    p.add_argument("overlay", metavar="OVERLAY", help="the kustomization directory the cluster should run")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--live", metavar="FILE", help="the live objects (kubectl get ... -o yaml); - for stdin")
    source.add_argument("--kubectl", action="store_true", help="read the live objects with kubectl")
    p.add_argument("--kubeconfig", help="with --kubectl: the kubeconfig file")
    p.add_argument("--context", help="with --kubectl: the kubeconfig context")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.add_argument("--fail-on", metavar="CLASSES", default="any",
                   help="classes of drift that make the exit code 3 (the classes of krmfn diff --fail-on; "
                        "default any; '' reports without failing)")
    p.add_argument("-o", "--output", help="write the report to this file instead of stdout")
    p.add_argument("--kustomize", help="the kustomize `krmfn build` uses")
    return p


def run(argv: list[str]) -> int:
    from ..review.drift import LiveError
    from ..review.sources import SourceError

    try:
        return _run(argv)
    except (UsageError, LiveError, SourceError, ValueError) as err:
        return _fail(str(err))
    except OSError as err:
        return _fail(f"{getattr(err, 'filename', None) or 'output'}: {err.strerror or err}")


def _run(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    from ..review import changes, drift
    from ..runtime import output

    if not args.live and not args.kubectl:
        raise UsageError("krmfn drift: say where the cluster's objects come from: --live FILE (or -) or --kubectl")
    if (args.kubeconfig or args.context) and not args.kubectl:
        raise UsageError("krmfn drift: --kubeconfig and --context only apply with --kubectl")
    gates = changes.parse_gates(args.fail_on)
    if args.output:
        output.check_writable_destination(args.output)
    rendered = _render(args.overlay, args.kustomize)
    if args.kubectl:
        live, source = _kubectl(rendered, args), "kubectl get"
    else:
        live, source = _read_live(args.live), ("<stdin>" if args.live == "-" else args.live)
    drift.check_live(live, source)
    result = drift.drift(os.path.normpath(args.overlay), rendered, live)
    hits = changes.gated([result.report], gates) if gates else []
    gate = {"failOn": gates, "matched": hits, "exitCode": EXIT_GATED if hits else EXIT_OK} if gates else None
    text = {"json": drift.to_json, "markdown": drift.to_markdown, "text": drift.to_text}[args.format](result, gate)
    if args.output:
        output.write_file(args.output, text)
    else:
        output.write_stdout(text)
    if hits:
        print(f"[error] drift: {len(hits)} difference{'s' if len(hits) != 1 else ''} of --fail-on "
              f"{','.join(gates)} between {args.overlay} and the cluster", file=sys.stderr)
        return EXIT_GATED
    return EXIT_OK


def _render(overlay: str, kustomize: str | None) -> list[dict]:
    from ..constants import KAGENT_GROUPS
    from ..runtime.kobject import KObject
    from ..render import BuildOptions, RenderError, build, objects

    if not os.path.isdir(overlay):
        raise UsageError(f"{overlay}: no such directory (krmfn drift needs the overlay's kustomization directory)")
    try:
        rendered = build(overlay, BuildOptions(kustomize=kustomize))
    except RenderError as err:
        for line in err.lines:
            print(line, file=sys.stderr)
        raise ValueError(str(err)) from None
    sys.stderr.write(rendered.stderr)
    docs = objects(rendered, overlay)
    if not any(KObject(d).group in KAGENT_GROUPS for d in docs):  # 0.x or 1.0
        raise ValueError(f"{overlay}: the render holds no kagent objects, so there is nothing to compare")
    return docs


def _read_live(path: str) -> list[dict]:
    from ..runtime import files, yamlio

    if path != "-" and not os.path.isfile(path):
        raise ValueError(f"{path}: no such file")
    try:
        return files.read_objects([path], annotate=False)
    except (files.FileInputError, yamlio.YamlError) as err:
        raise ValueError(str(err)) from None


def _kubectl(rendered: list[dict], args) -> list[dict]:
    """`kubectl get` of every kind the render holds, in every namespace (one call)."""
    from ..runtime import secrets, yamlio
    from ..runtime.kobject import KObject

    kubectl = os.environ.get(KUBECTL_ENV) or shutil.which("kubectl")
    if not kubectl:
        raise ValueError("--kubectl: no kubectl on PATH (or set KRMFN_KUBECTL)")
    kinds = sorted({f"{d['kind'].lower()}.{KObject(d).version}.{KObject(d).group}" if KObject(d).group
                    else d["kind"].lower() for d in rendered})
    command = [kubectl, "get", ",".join(kinds), "--all-namespaces", "-o", "yaml"]
    if args.kubeconfig:
        command += ["--kubeconfig", args.kubeconfig]
    if args.context:
        command += ["--context", args.context]
    try:
        proc = subprocess.run(command, capture_output=True, timeout=KUBECTL_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise ValueError(f"--kubectl: kubectl get did not answer within {KUBECTL_TIMEOUT} s") from None
    if proc.returncode != 0:
        detail = (proc.stderr.decode(errors="replace").strip().splitlines() or ["no message"])[-1]
        raise ValueError(f"--kubectl: kubectl get {','.join(kinds)} failed (exit {proc.returncode}): "
                         f"{secrets.redact(detail)}")
    docs = yamlio.load_all(proc.stdout, "kubectl get")
    items: list[dict] = []
    for doc in docs:
        members = doc.get("items") if isinstance(doc, dict) and str(doc.get("kind", "")).endswith("List") else [doc]
        for member in members if isinstance(members, list) else []:
            if isinstance(member, dict):
                items.append(member)
    return items


def _fail(message: str) -> int:
    print(f"[error] {message}", file=sys.stderr)
    return EXIT_ERROR
