"""`krmfn blame`: which commit wrote each line of an agent's rendered prompt.

  krmfn blame OVERLAY AGENT              the prompt as OVERLAY renders it, each line with the commit
                                         (short hash, date, author, pull request) that last changed
                                         its template line; lines a variable wrote name the variable
                                         and the file and field that set it
  krmfn blame --digest DIGEST OVERLAY    the commit whose render of OVERLAY produced the prompt with
                                         this krmfn.dev/prompt-digest (newest first, --max-commits)

The overlay is rendered from the working tree and the prompt file blamed as it is there (lines not
committed yet say so). Exit codes: 0 found; 1 error or, with --digest, not found.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys

from .args import CommandParser, UsageError
from .diff import EXIT_ERROR, EXIT_OK

MAX_COMMITS = 50
_PR = re.compile(r"Merge pull request #(\d+)|\(#(\d+)\)")  # the first in the subject
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
NOT_COMMITTED = "0" * 40


class BlameError(ValueError):
    pass


def parser():
    import argparse

    p = CommandParser(prog="krmfn blame", description=__doc__.split("\n\n")[0],
                      formatter_class=argparse.RawDescriptionHelpFormatter, epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    p.add_argument("paths", nargs="+", metavar="OVERLAY [AGENT]")
    p.add_argument("--digest", help="find the commit that rendered this prompt digest (sha256:...)")
    p.add_argument("--max-commits", type=int, default=MAX_COMMITS,
                   help=f"with --digest: how many commits to render at most (default {MAX_COMMITS})")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                   help="markdown: a table for a pull request comment")
    p.add_argument("--kustomize", help="the kustomize to render with")
    return p


def run(argv: list[str]) -> int:
    try:
        return _run(argv)
    except (UsageError, ValueError) as err:
        print(f"[error] {err}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as err:  # git missing, a file that vanished
        print(f"[error] {getattr(err, 'filename', None) or 'krmfn blame'}: {err.strerror or err}", file=sys.stderr)
        return EXIT_ERROR


def _run(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    from ..runtime import output

    if args.digest is not None:
        if len(args.paths) != 1:
            raise UsageError("krmfn blame --digest DIGEST OVERLAY: expected one OVERLAY")
        if not _DIGEST.match(args.digest):
            raise UsageError(f"--digest {args.digest!r}: expected sha256: and 64 hex digits "
                             "(the krmfn.dev/prompt-digest annotation)")
        if args.max_commits < 1:
            raise UsageError("--max-commits: expected a positive number")
        overlay = _overlay(args.paths[0])
        text = _find_digest(overlay, args.digest, args.max_commits, args.kustomize, args.format)
    else:
        if len(args.paths) != 2:
            raise UsageError("krmfn blame OVERLAY AGENT: expected an overlay and an agent (name or namespace/name)")
        overlay = _overlay(args.paths[0])
        text = _blame(overlay, args.paths[1], args.kustomize, args.format)
    output.write_stdout(text)
    return EXIT_OK


def _overlay(path: str) -> str:
    from ..render import tree

    if not os.path.isdir(path) or tree.kustomization_file(path) is None:
        raise UsageError(f"{path}: not a kustomization directory")
    return os.path.normpath(path)


# --- blame ---------------------------------------------------------------------------------------


def _blame(overlay: str, agent_name: str, kustomize: str | None, fmt: str) -> str:
    from ..expand import provenance
    from ..expand.prompts import digest

    top = _top(overlay)
    agent = _rendered_agent(overlay, agent_name, kustomize)
    text = agent.prompt.get("system message")
    if text is None:
        raise BlameError(f"agent {agent.key} has no rendered system message in {overlay}")
    config, items = provenance.capture_input(overlay, top, kustomize)
    traces = [t for t in provenance.trace_prompts(config, items)
              if (t.variables.get("namespace"), t.variables.get("name")) == (agent.namespace, agent.name)]
    if not traces:
        raise BlameError(f"agent {agent.key}: its prompt is not rendered by krmfn in {overlay} (a hand-written Agent?)")
    trace = traces[0]
    if trace.text != text:  # fail closed: a trace that is not the render is never shown as its provenance
        raise BlameError(f"agent {agent.key}: the traced prompt ({digest(trace.text)}) is not the rendered one "
                         f"({digest(text)}); cannot attribute its lines")
    description_file, description = _description(overlay, top, agent.namespace, agent.name)
    prompt = (description.get("spec") or {}).get("prompt") or {}
    template_file = _template_file(overlay, top, prompt, description_file)
    blamed = _git_blame(top, template_file)
    if template_file == description_file:  # inline text: find each template line in the YAML file
        line_map = _locate(trace.source.text.split("\n"), _read_lines(os.path.join(top, template_file)))
    else:
        line_map = {n: n for n in range(1, len(trace.source.text.split("\n")) + 1)}
    expand_file = _expand_config_file(overlay, top)
    prompt_vars = prompt.get("vars") if isinstance(prompt.get("vars"), dict) else {}
    rows = []
    for line in provenance.output_lines(trace):
        file_line = line_map.get(line.template_line) if line.template_line else None
        commit = blamed.get(file_line) if file_line else None
        variables = []
        for expression in line.expressions:
            variable = provenance.variable_of(expression, trace.source.text)
            variables.append({"expression": expression, "variable": variable,
                              "setIn": _set_in(variable, trace.variables, prompt_vars, description_file,
                                               expand_file, top, overlay)})
        rows.append({"line": line.number, "text": line.text, "file": template_file, "fileLine": file_line,
                     "commit": commit, "variables": variables})
    if fmt == "json":
        import json

        return json.dumps({"krmfnBlame": "v1", "overlay": overlay, "agent": agent.key, "digest": digest(text),
                           "file": template_file, "lines": rows}, indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return _markdown(agent.key, overlay, template_file, digest(text), rows)
    out = [f"# {agent.key} in {overlay}: {template_file} ({digest(text)})"]
    for row in rows:
        commit = row["commit"]
        if commit is None:
            who = "-".ljust(8) + "  " + "".ljust(10) + "  " + "(not from the template file)".ljust(20)
        else:
            pr = f" #{commit['pullRequest']}" if commit["pullRequest"] else ""
            who = f"{commit['short']:8}  {commit['date']:10}  {(commit['author'] + pr)[:20]:20}"
        out.append(f"{who} {row['fileLine'] or '':>4}| {row['text']}")
        for variable in row["variables"]:
            out.append(f"{'':46}↳ {{{{ {variable['expression']} }}}}: {variable['variable']} from {variable['setIn']}")
    return "\n".join(out) + "\n"


def _markdown(agent: str, overlay: str, template_file: str, prompt_digest: str, rows: list[dict]) -> str:
    """The blame as a Markdown table. Everything a pull request's author wrote (the prompt, names,
    git authors) is a code span in an escaped cell: it never formats, links or mentions anyone."""
    from ..review.render import md_cell, md_code

    out = [f"### Prompt of {md_code(agent)} in {md_code(overlay)}", "",
           f"Template {md_code(template_file)}; rendered prompt {md_code(prompt_digest)}.", "",
           "| Line | Prompt | Commit | Date | Author | PR | Set by |", "| ---: | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        commit = row["commit"]
        if commit is None:
            who = ["", "", "(not from the template file)", ""]
        else:
            who = [md_code(commit["short"]), commit["date"], md_code(commit["author"]),
                   f"#{commit['pullRequest']}" if commit["pullRequest"] else ""]
        set_by = "<br>".join(f"{md_code('{{ ' + v['expression'] + ' }}')}: {md_code(v['variable'])} from "
                             f"{md_code(v['setIn'])}" for v in row["variables"])
        cells = [str(row["fileLine"] or ""), md_code(row["text"]) if row["text"].strip() else "", *who, set_by]
        out.append("| " + " | ".join(md_cell(cell) for cell in cells) + " |")
    return "\n".join(out) + "\n"


def _set_in(variable: str, actual: dict, prompt_vars: dict, description_file: str, expand_file: str | None,
            top: str, overlay: str) -> str:
    """Where a variable was set; when the file there holds another value, the overlay patched it."""
    from ..expand import provenance
    from ..render import tree

    where = provenance.origin(variable, prompt_vars, description_file, expand_file)
    parts = variable.split(".")
    name = parts[1] if parts[0] == "vars" and len(parts) > 1 else parts[0]
    written: object = _MISSING
    if where.startswith(f"{description_file} spec.prompt.vars."):
        written, value = prompt_vars.get(name, _MISSING), (actual.get("vars") or {}).get(name, _MISSING)
    elif name == "environment" and expand_file:
        config = next((d for d in _docs(os.path.join(top, expand_file)) if d.get("kind") == "AgentExpansion"), {})
        written, value = (config.get("spec") or {}).get("environment", _MISSING), actual.get("environment")
    if written is not _MISSING and written != value:
        kustomization = tree.kustomization_file(overlay)
        return (f"a patch of the build ({os.path.relpath(os.path.realpath(kustomization), top) if kustomization else overlay}"
                f" or a base it reads); {where} says otherwise")
    return where


_MISSING = object()


def _rendered_agent(overlay: str, wanted: str, kustomize: str | None):
    from ..render import BuildOptions, RenderError, build, objects
    from ..review.model import Render

    try:
        rendered = build(overlay, BuildOptions(kustomize=kustomize))
    except RenderError as err:
        for line in err.lines:
            print(line, file=sys.stderr)
        raise BlameError(str(err)) from None
    try:
        return Render.from_objects(objects(rendered, overlay)).agent(wanted, overlay)
    except LookupError as err:
        raise BlameError(str(err)) from None


def _top(path: str) -> str:
    proc = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=path, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BlameError(f"{path} is not in a git repository")
    return os.path.realpath(proc.stdout.strip())


def _docs(path: str) -> tuple:
    """The YAML objects of a file, parsed once per run however often (and however spelt) it is
    asked for: finding the description, the expand config and each line's variables reads the
    overlay's files again and again."""
    return _parsed(os.path.realpath(path))


@functools.cache
def _parsed(path: str) -> tuple:
    from ..runtime import yamlio

    try:
        with open(path, "rb") as handle:
            return tuple(d for d in yamlio.load_all(handle.read(), path) if isinstance(d, dict))
    except (OSError, yamlio.YamlError):
        return ()


def _description(overlay: str, top: str, namespace: str, name: str) -> tuple[str, dict]:
    from .. import API_VERSION
    from ..render import tree

    for path in tree.files(overlay):
        for doc in _docs(path):
            meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
            if doc.get("apiVersion") == API_VERSION and doc.get("kind") == "AgentDescription" \
                    and meta.get("name") == name and meta.get("namespace") in (None, namespace):
                return os.path.relpath(os.path.realpath(path), top), doc
    raise BlameError(f"no AgentDescription {namespace}/{name} in the files {overlay} reads")


def _template_file(overlay: str, top: str, prompt: dict, description_file: str) -> str:
    """The file the prompt template is in: a configMapGenerator's file, or the description itself."""
    from ..render import tree

    if isinstance(prompt.get("text"), str):
        return description_file
    key = prompt.get("file")
    config_map = prompt.get("configMap") if isinstance(prompt.get("configMap"), dict) else {}
    key = key if isinstance(key, str) else config_map.get("key")
    for directory in sorted(tree.reads(overlay)):
        kustomization = tree.kustomization_file(directory)
        for doc in _docs(kustomization) if kustomization else []:
            for generator in doc.get("configMapGenerator") or []:
                if not isinstance(generator, dict) or (config_map and generator.get("name") != config_map.get("name")):
                    continue
                for entry in generator.get("files") or []:
                    entry_key, _, path = str(entry).rpartition("=")
                    if (entry_key or os.path.basename(path)) == key:
                        return os.path.relpath(os.path.realpath(os.path.join(directory, path)), top)
    raise BlameError(f"prompt file {key!r} is in no configMapGenerator of the kustomizations {overlay} reads")


def _expand_config_file(overlay: str, top: str) -> str | None:
    from .. import API_VERSION
    from ..render import tree

    fallback = None
    for path in tree.files(overlay):
        kinds = {d.get("kind") for d in _docs(path) if d.get("apiVersion") == API_VERSION}
        if "AgentExpansion" in kinds:
            return os.path.relpath(os.path.realpath(path), top)
        if "Pipeline" in kinds and fallback is None:
            fallback = os.path.relpath(os.path.realpath(path), top)
    return fallback


def _read_lines(path: str) -> list[str]:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read().split("\n")


def _locate(template_lines: list[str], file_lines: list[str]) -> dict[int, int]:
    """Template line -> file line, for a template written inline in a YAML file: each line at the
    first file line after the previous one with the same text (an index, so n log n, not n * m)."""
    import bisect

    where: dict[str, list[int]] = {}
    for index, line in enumerate(file_lines):
        where.setdefault(line.strip(), []).append(index)
    out: dict[int, int] = {}
    at = 0
    for number, line in enumerate(template_lines, 1):
        wanted = line.strip()
        if not wanted:  # an empty line: the next file line, when that is empty too
            if at < len(file_lines) and not file_lines[at].strip() and out:
                out[number] = at + 1
                at += 1
            continue
        positions = where.get(wanted, [])
        found = bisect.bisect_left(positions, at)
        if found < len(positions):
            out[number] = positions[found] + 1
            at = positions[found] + 1
    return out


def _git(top: str, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=top, capture_output=True, text=True)
    if proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or [""])[-1]
        raise BlameError(f"git {args[0]} failed: {detail}")
    return proc.stdout


def _git_blame(top: str, path: str) -> dict[int, dict]:
    """File line -> {short, hash, author, date, summary, pullRequest} (git blame --porcelain)."""
    out: dict[int, dict] = {}
    commits: dict[str, dict] = {}
    current = None
    for line in _git(top, "blame", "--porcelain", "--", path).splitlines():
        if line.startswith("\t"):
            continue
        words = line.split(" ")
        if len(words) >= 3 and re.fullmatch(r"[0-9a-f]{40}", words[0]):
            current = commits.setdefault(words[0], {"hash": words[0], "short": words[0][:8]})
            out[int(words[2])] = current
        elif current is not None and words[0] in ("author", "author-time", "summary"):
            current[words[0]] = line.partition(" ")[2]
    from datetime import datetime, timezone

    history = _History(top)
    for sha, commit in commits.items():
        commit["date"] = datetime.fromtimestamp(int(commit.get("author-time", "0")), timezone.utc).strftime("%Y-%m-%d")
        commit["author"] = commit.pop("author", "")
        commit.pop("author-time", None)
        if sha == NOT_COMMITTED:
            commit.update(short="-", author="not committed yet", date="", pullRequest=None)
            continue
        commit["pullRequest"] = _pull_request(sha, commit.get("summary", ""), history)
    return out


def _pull_request(sha: str, summary: str, history: "_History") -> int | None:
    """The PR number of a commit's subject, else of the merge that brought it into HEAD's
    first-parent history (a commit of that history itself was merged by none)."""
    found = _PR.search(summary)
    if found:
        return int(next(g for g in found.groups() if g))
    merge = history.merged_by(sha)
    found = _PR.search(history.subjects.get(merge, "")) if merge else None
    return int(next(g for g in found.groups() if g)) if found else None


class _History:
    """HEAD's history, read once (one `git log`): which first-parent merge brought in each commit.
    Each commit is assigned once, oldest merge first, so this is linear in the history."""

    def __init__(self, top: str):
        self.top = top
        self._owner: dict[str, str] | None = None
        self.subjects: dict[str, str] = {}

    def merged_by(self, sha: str) -> str | None:
        if self._owner is None:
            self._owner = self._assign()
        return self._owner.get(sha)

    def _assign(self) -> dict[str, str]:
        parents: dict[str, list[str]] = {}
        for line in _git(self.top, "log", "--format=%H %P%x1f%s", "HEAD").splitlines():
            ids, _, subject = line.partition("\x1f")
            commit, *its_parents = ids.split()
            parents[commit] = its_parents
            self.subjects[commit] = subject
        mainline = _git(self.top, "rev-list", "--first-parent", "HEAD").split()
        on_mainline = set(mainline)
        owner: dict[str, str] = {}
        for merge in reversed(mainline):
            todo = list(parents.get(merge, [])[1:])
            while todo:
                commit = todo.pop()
                if commit in on_mainline or commit in owner:
                    continue
                owner[commit] = merge
                todo.extend(parents.get(commit, []))
        return owner


# --- digest --------------------------------------------------------------------------------------


def _find_digest(overlay: str, wanted: str, max_commits: int, kustomize: str | None, fmt: str) -> str:
    from ..expand.prompts import digest
    from ..render import tree
    from ..review import sources

    top = _top(overlay)
    paths = sorted({os.path.relpath(os.path.realpath(p), top) for p in [*tree.reads(overlay), *tree.files(overlay)]})
    log = _git(top, "log", f"-n{max_commits}", "--format=%H%x1f%an%x1f%ad%x1f%s", "--date=short", "HEAD", "--", *paths)
    commits = [dict(zip(("hash", "author", "date", "summary"), line.split("\x1f"))) for line in log.splitlines() if line]
    run: list[tuple[dict, list[str]]] = []  # the newest consecutive commits that render the digest
    failed = 0
    with sources.GitRenderer(overlay, kustomize) as git:
        for commit in commits:
            try:
                render = git.render(overlay, commit["hash"])
            except sources.RenderFailed:
                failed += 1
                render = None
            agents = sorted(key for key, agent in (render.agents.items() if render else ())
                            if agent.prompt.get("system message") is not None
                            and digest(agent.prompt["system message"]) == wanted)
            if agents:
                run.append((commit, agents))
            elif run:
                break  # the commit before the digest's first render: the oldest in the run introduced it
    if not run:
        note = f" ({failed} of them did not render)" if failed else ""
        raise BlameError(f"prompt digest {wanted} was not rendered by {overlay} at any of the last "
                         f"{len(commits)} commits that changed the files it reads{note}; raise --max-commits "
                         "to look further back")
    introduced, agents = run[-1]
    newest = run[0][0]
    # the run reached the oldest commit looked at: the digest may be older still
    open_ended = run[-1][0] is commits[-1] and len(commits) == max_commits
    history = _History(top)
    for commit in (introduced, newest):
        commit["short"] = commit["hash"][:8]
        commit["pullRequest"] = _pull_request(commit["hash"], commit["summary"], history)
    if fmt == "json":
        import json

        return json.dumps({"krmfnBlame": "v1", "overlay": overlay, "digest": wanted, "agents": agents,
                           "introducedBy": introduced, "renderedThrough": newest, "maybeOlder": open_ended,
                           "commitsRendered": len(run) + (1 if len(run) < len(commits) else 0)},
                          indent=2, ensure_ascii=False) + "\n"

    if fmt == "markdown":
        from ..review.render import md_code

        def described(commit: dict) -> str:
            pr = f", #{commit['pullRequest']}" if commit["pullRequest"] else ""
            return f"{md_code(commit['short'])} ({commit['date']}, {md_code(commit['author'])}{pr}): {md_code(commit['summary'])}"

        lines = [f"{md_code(wanted)} is the prompt of {', '.join(md_code(a) for a in agents)} in {md_code(overlay)}.", "",
                 f"- introduced by {described(introduced)}"
                 + (f" or earlier (`--max-commits {max_commits}` reached)" if open_ended else "")]
        if newest is not introduced:
            lines.append(f"- unchanged through {described(newest)}")
        return "\n".join(lines) + "\n"

    def describe(commit: dict) -> str:
        pr = f", #{commit['pullRequest']}" if commit["pullRequest"] else ""
        return f"{commit['short']} ({commit['date']}, {commit['author']}{pr}): {commit['summary']}"

    lines = [f"{wanted} is the prompt of {', '.join(agents)} in {overlay}",
             f"  introduced by {describe(introduced)}"
             + (f" or earlier (--max-commits {max_commits} reached)" if open_ended else "")]
    if newest is not introduced:
        lines.append(f"  unchanged through {describe(newest)}")
    return "\n".join(lines) + "\n"
