"""`krmfn new agent NAME --namespace NS [--dir DIR]`: scaffold an agent where the repository keeps them.

Writes DIR/NAME.yaml (an AgentDescription) and DIR/prompts/NS/NAME.md (its prompt), and adds them
to DIR/kustomization.yaml: the description to `resources:`, the prompt to the namespace's prompt
library (`configMapGenerator` entry labelled krmfn.dev/prompt-library; one is added when the
namespace has none). The kustomization is edited as text, so its comments and order stay; the
result is read back and checked before anything is written. DIR defaults to base/agents.
Exit codes: 0 written; 1 error (nothing written).
"""

from __future__ import annotations

import argparse
import os
import re

from ..constants import LABEL_PROMPT_LIBRARY
from ..runtime import output, yamlio

_NAME = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?\Z")


class NewError(ValueError):
    """One line: what is wrong, nothing was written."""


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="krmfn new", description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["agent"])
    parser.add_argument("name")
    parser.add_argument("--namespace", "-n", required=True)
    parser.add_argument("--dir", default=os.path.join("base", "agents"),
                        help="the kustomization that holds the descriptions (default: base/agents)")
    parser.add_argument("--model", default="standard", help="the model tier (default: standard)")
    args = parser.parse_args(argv)
    try:
        files = scaffold(args.dir, args.name, args.namespace, args.model)
    except NewError as err:
        output.error(f"[error] {err}")
        return 1
    for path, text in files:  # every check passed: now write, each file whole
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        output.write_file(path, text)
        output.error(f"[info] wrote {path}")
    return 0


def scaffold(directory: str, name: str, namespace: str, tier: str) -> list[tuple[str, str]]:
    """(path, text) of every file to write; raises NewError (and writes nothing) on any problem."""
    for what, value in (("NAME", name), ("--namespace", namespace), ("--model", tier)):
        if len(value) > 63 or not _NAME.match(value):
            raise NewError(f"{what} {value!r}: lowercase letters, digits and '-', starting with a letter (at most 63)")
    kustomization = os.path.join(directory, "kustomization.yaml")
    if not os.path.isfile(kustomization):
        raise NewError(f"{kustomization}: no such file (--dir names the kustomization that holds the descriptions)")
    description = os.path.join(directory, f"{name}.yaml")
    prompt_rel = f"prompts/{namespace}/{name}.md"
    prompt = os.path.join(directory, prompt_rel)
    for path in (description, prompt):
        if os.path.exists(path):
            raise NewError(f"{path} exists already: choose another name, or edit it")
    with open(kustomization, encoding="utf-8") as handle:
        text = handle.read()
    doc = yamlio.load_one(text, kustomization)
    if f"{name}.yaml" in (doc.get("resources") or []):
        raise NewError(f"{kustomization}: resources already lists {name}.yaml")
    edited = _add_resource(text, f"{name}.yaml", kustomization)
    edited = _add_prompt(edited, yamlio.load_one(edited, kustomization), namespace, prompt_rel, kustomization)
    after = yamlio.load_one(edited, kustomization)  # what kustomize will read: exactly the two additions
    libraries = [g for g in after.get("configMapGenerator") or [] if g.get("namespace") == namespace
                 and (g.get("options") or {}).get("labels", {}).get(LABEL_PROMPT_LIBRARY) == "true"]
    if f"{name}.yaml" not in (after.get("resources") or []) or not any(prompt_rel in (g.get("files") or [])
                                                                       for g in libraries):
        raise NewError(f"{kustomization}: could not add {name}.yaml and {prompt_rel} safely; add them by hand")
    return [
        (description, _DESCRIPTION.format(name=name, namespace=namespace, tier=tier)),
        (prompt, _PROMPT.format(name=name)),
        (kustomization, edited),
    ]


def _add_resource(text: str, entry: str, where: str) -> str:
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if re.match(r"resources:\s*(#.*)?$", line)), None)
    if start is None:
        return text.rstrip("\n") + f"\nresources:\n- {entry}\n"
    last, indent = start, ""
    for i in range(start + 1, len(lines)):
        match = re.match(r"(\s*)- ", lines[i])
        if match:
            last, indent = i, match.group(1)
        elif lines[i].strip() and not lines[i].lstrip().startswith("#"):
            break
    if lines[start].rstrip().endswith("[]"):
        raise NewError(f"{where}: resources is written as a flow list ([...]); add {entry} by hand")
    lines.insert(last + 1, f"{indent}- {entry}\n")
    return "".join(lines)


def _add_prompt(text: str, doc: dict, namespace: str, prompt: str, where: str) -> str:
    generators = doc.get("configMapGenerator") or []
    index = next((i for i, g in enumerate(generators) if g.get("namespace") == namespace
                  and (g.get("options") or {}).get("labels", {}).get(LABEL_PROMPT_LIBRARY) == "true"), None)
    lines = text.splitlines(keepends=True)
    top = next((i for i, line in enumerate(lines) if re.match(r"configMapGenerator:\s*(#.*)?$", line)), None)
    if index is None:
        block = (f"- name: agent-prompts\n  namespace: {namespace}\n  files:\n  - {prompt}\n  options:\n"
                 f"    disableNameSuffixHash: true\n    labels:\n      {LABEL_PROMPT_LIBRARY}: \"true\"\n")
        if top is None:
            return text.rstrip("\n") + "\nconfigMapGenerator:\n" + block
        end = len(lines)
        for i in range(top + 1, len(lines)):
            if lines[i].strip() and not lines[i][0].isspace() and not lines[i].startswith(("-", "#")):
                end = i
                break
        lines.insert(end, block)
        return "".join(lines)
    # the index-th entry of the configMapGenerator block, then its `files:` list
    entries = [i for i in range(top + 1, len(lines)) if lines[i].startswith("- ")]
    entry = entries[index]
    following = [e for e in entries if e > entry]
    stop = following[0] if following else len(lines)
    files_at = next((i for i in range(entry, stop) if re.match(r"\s*-?\s*files:\s*$", lines[i])), None)
    if files_at is None:
        raise NewError(f"{where}: the prompt library of namespace {namespace} has no block-style files: list; "
                       f"add {prompt} by hand")
    last, indent = files_at, "  "
    for i in range(files_at + 1, stop):
        match = re.match(r"(\s*)- ", lines[i])
        if match and len(match.group(1)) >= 2:
            last, indent = i, match.group(1)
        elif lines[i].strip():
            break
    lines.insert(last + 1, f"{indent}- {prompt}\n")
    return "".join(lines)


_DESCRIPTION = """\
apiVersion: krmfn.dev/v1alpha1
kind: AgentDescription
metadata:
  name: {name}
  namespace: {namespace}
spec:
  description: TODO one line on what {name} is for.
  prompt:
    file: {name}.md
  model: {tier}
  # tools:                      # each server from a ToolCatalog (or the built-in kagent tool server)
  # - server: kagent-tools
  #   allow: [k8s_get_resources]
  #   requireApproval: []
  # delegates: [other-agent]
"""

_PROMPT = """\
You are {name}. Say what you do, what you never do, and when to hand over to a human.
"""
