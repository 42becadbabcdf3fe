"""Whether a build's output can be what the functions produced, and a failed build's stderr as
one line per problem."""

from __future__ import annotations

import re


def unrendered(manifests: bytes) -> str | None:
    """Why this output cannot be what the functions produced, or None when it is fine."""
    from ..runtime import yamlio

    try:
        docs = yamlio.load_all(manifests, "kustomize output")
    except yamlio.YamlError as err:
        return str(err)
    if not docs:
        return "the build produced no resources; refusing to hand an empty render to a GitOps tool"
    for doc in docs:
        if isinstance(doc, dict) and str(doc.get("apiVersion", "")).startswith("krmfn.dev/"):
            meta = doc.get("metadata") or {}
            return (f"{doc.get('kind')} {meta.get('namespace', '')}/{meta.get('name', '')} is still in the output: "
                    "the krmfn functions did not run (exec functions need --enable-exec, legacy plugins "
                    "--enable-alpha-plugins and KUSTOMIZE_PLUGIN_HOME)")
    return None


# kubectl's log prefix (`E1125 10:36:57.049604    4735 run.go:72] "command failed" err="..."`).
_KLOG = re.compile(r"^[EWIF][0-9]{4} [0-9:.]+\s+[0-9]+ \S+\] (?P<message>.*)$")
_KLOG_ERR = re.compile(r'err="(?P<err>(?:[^"\\]|\\.)*)"')
_NOTHING_NEW = re.compile(r"^couldn't execute function: exit status [0-9]+$")


def failure_lines(stderr: str) -> list[str]:
    """A failed build's stderr as `[error]` lines: the functions' own lines as they are, and what
    kustomize itself said as one line (left out when it only repeats that a function failed)."""
    ours, theirs = [], []
    for line in stderr.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith(("[error] ", "[warning] ", "[info] ")):
            ours.append(line)
            continue
        klog = _KLOG.match(line)
        if klog:
            err = _KLOG_ERR.search(klog.group("message"))
            line = re.sub(r"\\(.)", r"\1", err.group("err")) if err else klog.group("message")
        line = line.removeprefix("Error: ").removeprefix("error: ").strip()  # kustomize, kubectl
        if line:
            theirs.append(line)
    if any(line.startswith("[error] ") for line in ours):
        theirs = [line for line in theirs if not _NOTHING_NEW.match(line)]
    if theirs:
        ours.append("[error] kustomize: " + " ".join(" ".join(theirs).split()))
    return ours
