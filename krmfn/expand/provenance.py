"""Prompt provenance: where each line of a rendered prompt came from (`krmfn blame`).

Only `krmfn blame` imports this; the functions never do. How an overlay's prompt is traced:

1. the directories the overlay reads are copied to a temporary tree in which every krmfn function
   config loses its `config.kubernetes.io/function` annotation, so kustomize runs it as a legacy
   exec plugin from a temporary KUSTOMIZE_PLUGIN_HOME whose plugins only record their input: that
   is exactly what the overlay's first krmfn function (expand, or the Pipeline) receives, patches
   and generators applied;
2. that input runs through the engine in this process with a `TracingRenderer`, which renders each
   prompt as expand does and records, for every piece Jinja2 yields, the template line it came from
   and, for `{{ ... }}` output, the expression;
3. the result must equal what the overlay's real render holds (the caller checks the digest): a
   trace that does not reproduce the prompt is refused, never shown.

A template line is a line of the prompt file (a configMapGenerator file) or of the inline
`spec.prompt.text`; `git blame --porcelain` then says which commit last changed it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import Any

from .prompts import PromptRenderer, PromptSource

_EXPRESSION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)
_FOR = re.compile(r"\{%-?\s*for\s+([A-Za-z_][\w, ]*?)\s+in\s+([A-Za-z_][\w.]*)")
_IDENT = re.compile(r"[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*")


class ProvenanceError(ValueError):
    """A trace that cannot be made; one line."""


@dataclass
class Piece:
    text: str
    start: int | None  # offset in the template source of its first character (None: not found)
    expression: str | None = None  # the `{{ ... }}` that produced it


@dataclass
class Trace:
    source: PromptSource
    variables: dict[str, Any]
    text: str = ""
    pieces: list[Piece] = field(default_factory=list)


@dataclass
class OutputLine:
    number: int
    text: str
    template_line: int | None  # 1-based line of the template it came from
    expressions: list[str]  # the `{{ ... }}` expressions that wrote into it


class TracingRenderer(PromptRenderer):
    """PromptRenderer that records every render (the output is PromptRenderer's, byte for byte)."""

    traces: list[Trace] = []

    def render(self, source: PromptSource, variables: dict[str, Any]) -> str:
        trace = Trace(source, variables)
        TracingRenderer.traces.append(trace)
        self._trace = trace
        text = super().render(source, variables)
        trace.text = text
        if not trace.pieces:  # plain text: every line is its own template line
            trace.pieces = [Piece(text, 0)]
        return text

    def _parts(self, template, variables):
        generator = template.generate(variables)
        source, cursor = self._trace.source.text, 0
        line_starts = _line_starts(source)
        code_lines = self._environment().compile(source, template.name, template.name, raw=True).splitlines()
        for part in generator:
            frame = generator
            while getattr(frame, "gi_yieldfrom", None) is not None:
                frame = frame.gi_yieldfrom
            code_line = frame.gi_frame.f_lineno if frame.gi_frame is not None else 0
            line = template.get_corresponding_lineno(code_line) or 1
            from_line = line_starts[min(line, len(line_starts)) - 1]
            if _is_constant(code_lines, code_line):
                # Jinja2 maps a constant to the line of the node before it (<= its own): find it from there
                at = source.find(part, from_line) if part else -1
                self._trace.pieces.append(Piece(part, at if at >= 0 else from_line))
                if at >= 0:
                    cursor = at + len(part)
            else:
                match = _EXPRESSION.search(source, max(cursor, from_line))
                if match is None or _line_of(line_starts, match.start()) != line:
                    match = _EXPRESSION.search(source, from_line)
                expression = match.group(1) if match else None
                self._trace.pieces.append(Piece(part, match.start() if match else from_line, expression))
                if match:
                    cursor = match.end()
            yield part


def _is_constant(code_lines: list[str], code_line: int) -> bool:
    """Whether the compiled line yields a string literal (template text), not an expression."""
    if not 0 < code_line <= len(code_lines):
        return False
    return code_lines[code_line - 1].strip().startswith(("yield '", 'yield "'))


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for match in re.finditer("\n", text):
        starts.append(match.end())
    return starts


def _line_of(starts: list[int], offset: int) -> int:
    import bisect

    return bisect.bisect_right(starts, offset)


def output_lines(trace: Trace) -> list[OutputLine]:
    """Each line of the rendered prompt with its template line and the expressions written into it."""
    starts = _line_starts(trace.source.text)
    lines: list[OutputLine] = []
    current: dict[str, Any] = {"text": [], "line": None, "const_line": None, "expressions": []}

    def close() -> None:
        text = "".join(current["text"])
        template_line = current["const_line"] or current["line"]
        lines.append(OutputLine(len(lines) + 1, text, template_line, list(dict.fromkeys(current["expressions"]))))
        current.update(text=[], line=None, const_line=None, expressions=[])

    for piece in trace.pieces:
        chunks = piece.text.split("\n")
        offset = piece.start
        for index, chunk in enumerate(chunks):
            if index:
                close()
            # what follows a piece's last newline may be a tag's place, not output: it names no line
            counts = bool(chunk) or index < len(chunks) - 1
            where = _line_of(starts, offset) if offset is not None else None
            if piece.expression is not None and counts:
                current["expressions"].append(piece.expression)
            if piece.expression is None and chunk.strip() and current["const_line"] is None:
                current["const_line"] = where
            if counts:
                current["line"] = current["line"] or where
            current["text"].append(chunk)
            if offset is not None and piece.expression is None:
                offset += len(chunk) + 1
    if current["text"] and "".join(current["text"]) != "":
        close()
    return lines


def variable_of(expression: str, template: str) -> str:
    """The template variable an expression reads (`vars.team`, `environment`, `tools` for a loop's
    `tool.name`)."""
    found = _IDENT.match(expression.strip())
    if found is None:
        return expression
    name = found.group(0)
    loops = {}
    for targets, iterable in _FOR.findall(template):
        for target in (t.strip() for t in targets.split(",")):
            loops[target] = iterable
    root = name.split(".")[0]
    seen = set()
    while root in loops and root not in seen:
        seen.add(root)
        name = loops[root]
        root = name.split(".")[0]
    return name


# Where krmfn's own template variables come from (the description's fields, or the expand config).
BUILT_IN = {
    "name": "metadata.name", "agent.name": "metadata.name", "namespace": "metadata.namespace",
    "agent.namespace": "metadata.namespace", "description": "spec.description",
    "agent.description": "spec.description", "agent.labels": "metadata.labels", "model": "spec.model",
    "tools": "spec.tools", "skills": "spec.skills", "delegates": "spec.delegates",
}


def origin(variable: str, prompt_vars: dict[str, Any], description_file: str, expand_file: str | None) -> str:
    """`FILE FIELD` where a template variable was set."""
    parts = variable.split(".")
    if parts[0] == "vars" and len(parts) > 1:
        return f"{description_file} spec.prompt.vars.{parts[1]}"
    if parts[0] in prompt_vars:
        return f"{description_file} spec.prompt.vars.{parts[0]}"
    if parts[0] == "environment":
        return f"{expand_file or 'the expand config'} spec.environment"
    for prefix in (".".join(parts[:2]), parts[0]):
        if prefix in BUILT_IN:
            return f"{description_file} {BUILT_IN[prefix]}"
    return "(not a variable krmfn sets)"


# --- capturing the input of the overlay's first krmfn function ------------------------------------


def capture_input(overlay: str, top: str, kustomize: str | None = None) -> tuple[dict, list[dict]]:
    """(function config, items) the first krmfn function of `overlay` receives."""
    from .. import API_VERSION
    from ..render import kustomize as kz
    from ..render import tree
    from ..runtime import yamlio
    from ..runtime.registry import FUNCTIONS

    scratch = tempfile.mkdtemp(prefix="krmfn-blame-")
    try:
        copy_root = os.path.join(scratch, "repo")
        for directory in sorted(tree.reads(overlay)):
            relative = os.path.relpath(os.path.realpath(directory), top)
            if relative.startswith(".."):
                raise ProvenanceError(f"{directory} is outside the git repository {top}")
            shutil.copytree(directory, os.path.join(copy_root, relative), dirs_exist_ok=True, symlinks=True)
        for path in tree.files(overlay):
            relative = os.path.relpath(os.path.realpath(path), top)
            target = os.path.join(copy_root, relative)
            if not relative.startswith("..") and not os.path.exists(target):
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copy2(path, target)
        copied_overlay = os.path.join(copy_root, os.path.relpath(os.path.realpath(overlay), top))
        for path in tree.files(copied_overlay):
            with open(path, "rb") as handle:
                data = handle.read()
            if kz.FUNCTION_ANNOTATION.encode() not in data or API_VERSION.encode() not in data:
                continue
            docs = yamlio.load_all(data, path)
            for doc in docs:
                annotations = ((doc or {}).get("metadata") or {}).get("annotations") if isinstance(doc, dict) else None
                if doc.get("apiVersion") == API_VERSION and isinstance(annotations, dict):
                    annotations.pop(kz.FUNCTION_ANNOTATION, None)
            with open(path, "w") as handle:
                handle.write(yamlio.dump_all(docs))
        plugins, captured = os.path.join(scratch, "plugins"), os.path.join(scratch, "captured")
        os.makedirs(captured)
        group, version = API_VERSION.split("/")
        for kind in FUNCTIONS:
            folder = os.path.join(plugins, group, version, kind.lower())
            os.makedirs(folder)
            script = os.path.join(folder, kind)
            with open(script, "w") as handle:  # record the input, hand it back unchanged
                handle.write("#!/bin/sh\nn=$(ls '%s' | wc -l)\ncp \"$1\" '%s'/$n-config.yaml\n"
                             "tee '%s'/$n-items.yaml\n" % (captured, captured, captured))
            os.chmod(script, 0o755)
        tool = kz.choose(kustomize, copied_overlay)
        if tool is None:
            raise ProvenanceError("no kustomize found: install kubectl or the standalone kustomize")
        env = {**os.environ, "KUSTOMIZE_PLUGIN_HOME": plugins}
        proc = subprocess.run(tool.command(copied_overlay), capture_output=True, env=env, timeout=300)
        if proc.returncode != 0:
            detail = (proc.stderr.decode(errors="replace").strip().splitlines() or [""])[-1]
            raise ProvenanceError(f"kustomize build {overlay} (to trace its prompts) failed: "
                                  f"{detail.replace(copy_root + os.sep, '')}")
        names = sorted(os.listdir(captured), key=lambda n: int(n.split("-")[0]))
        if not names:
            raise ProvenanceError(f"{overlay}: no krmfn function runs in this overlay, so no prompt is rendered")
        first = names[0].split("-")[0]
        with open(os.path.join(captured, f"{first}-config.yaml"), "rb") as handle:
            config = yamlio.load_one(handle.read(), "function config")
        with open(os.path.join(captured, f"{first}-items.yaml"), "rb") as handle:
            items = [d for d in yamlio.load_all(handle.read(), "function input") if isinstance(d, dict)]
        return config, items
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def trace_prompts(config: dict, items: list[dict]) -> list[Trace]:
    """Run the function on its captured input with the tracing renderer; the traces of every prompt."""
    from ..fn import expand as expand_fn
    from ..runtime import engine
    from ..runtime.resourcelist import ResourceList

    TracingRenderer.traces = []
    original = expand_fn.PromptRenderer
    expand_fn.PromptRenderer = TracingRenderer  # this process only; restored below
    try:
        rl = ResourceList(items=items, function_config=config)
        code = engine.run(rl)
    finally:
        expand_fn.PromptRenderer = original
    if code != 0:
        lines = engine.error_lines(rl.results)
        raise ProvenanceError(lines[0].removeprefix("[error] ") if lines else "the render failed")
    return list(TracingRenderer.traces)
