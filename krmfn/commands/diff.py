"""`krmfn diff`: an agent-aware diff of two renders, for reviewers and CI gates.

  krmfn diff OLD NEW                      two YAML streams (or `-`) or two directories of rendered YAML
  krmfn diff --git REV1..REV2 DIR [DIR...] render each kustomization DIR at both revisions (temporary
                                          git worktrees, `krmfn build`) and compare; several DIRs are
                                          several environments, reported one by one

REV1...REV2 starts from the merge base (what a pull request changes); REV1.. compares with the
working tree. Every change is classified per agent (prompt, model, tools, approvals, delegates,
skills, reach, settings, operational); see docs/review.md.

With a review policy (`--review-policy FILE`, or with --git the repository's
.krmfn/review-policy.yaml as it is at REV1, never at REV2), every finding names the
owners who must approve it, and a summary lists them all (README: Review routing).

Exit codes: 0 no gated finding; 1 error (bad input, unknown revision, failed render, usage);
3 a class listed in --fail-on occurred.
"""

from __future__ import annotations

import argparse
import os
import sys

from .args import CommandParser, UsageError

EXIT_OK, EXIT_ERROR, EXIT_GATED = 0, 1, 3


def parser() -> argparse.ArgumentParser:
    p = CommandParser(prog="krmfn diff", description=__doc__.split("\n\n")[0],
                      formatter_class=argparse.RawDescriptionHelpFormatter,
                      epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    p.add_argument("paths", nargs="*", metavar="PATH", help="OLD NEW, or with --git the kustomization DIRs")
    p.add_argument("--git", metavar="REV1..REV2", help="render the DIRs at two git revisions")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="colour the text format (auto: only when stdout is a terminal and NO_COLOR is unset)")
    p.add_argument("--fail-on", metavar="CLASSES", default="",
                   help="comma-separated classes that make the exit code 3: destructive-grant, tool-grant, "
                        "tool-revoke, model-change, prompt-change, approval-added, approval-removed, "
                        "delegate-change, skills-change, reach-change, config-change, operational, "
                        "target-change, agent-added, agent-removed, object-change, any")
    p.add_argument("--graph", action="store_true", help="markdown: add a Mermaid graph of the change per environment")
    p.add_argument("-o", "--output", help="write the report to this file instead of stdout "
                                          "(for a GitHub job summary: >> \"$GITHUB_STEP_SUMMARY\")")
    p.add_argument("--kustomize", help="with --git: the kustomize `krmfn build` uses")
    p.add_argument("--review-policy", metavar="FILE",
                   help="route findings to their required reviewers by this ReviewPolicy (default with --git: "
                        ".krmfn/review-policy.yaml at the old revision)")
    p.add_argument("--no-review-policy", action="store_true", help="do not route findings to reviewers")
    p.add_argument("--allow-empty", action="store_true",
                   help="a review of renders without any kagent object is not an error")
    return p


def run(argv: list[str]) -> int:
    try:
        return _run(argv)
    except UsageError as err:
        return _fail(str(err))
    except ValueError as err:  # SourceError, PolicyError and --fail-on problems: already one line
        return _fail(str(err))
    except OSError as err:
        return _fail(f"{getattr(err, 'filename', None) or 'output'}: {err.strerror or err}")


def _run(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    from ..review import changes

    gates = changes.parse_gates(args.fail_on)
    if args.output:
        from ..runtime import output

        output.check_writable_destination(args.output)  # before rendering, not after
    if args.review_policy and args.no_review_policy:
        raise UsageError("krmfn diff: --review-policy and --no-review-policy exclude each other")
    policy = None
    if args.review_policy:
        from ..review import routing as routing_module

        policy = routing_module.load(args.review_policy)  # before rendering: a bad policy fails fast
    pairs, policy, policy_changed, revisions = _renders(args, policy)
    reports = [changes.compare(old, new, name, old_label, new_label)
               for name, old, new, old_label, new_label, *_ in pairs]
    for report, pair in zip(reports, pairs):
        report.notes.extend(pair[5])
        report.failed = pair[6]
    routing = None
    if policy is not None:
        from ..review import routing as routing_module

        routing = routing_module.route(policy, reports, [routing_module.environment_names(name, old, new)
                                                         for name, old, new, *_ in pairs], policy_changed,
                                       [routing_module.risk_floor(old) for _, old, *_ in pairs])
        routing.revisions = revisions
    gate = None
    hits: list = []
    if gates:
        hits = changes.gated(reports, gates)
        gate = {"failOn": gates, "matched": hits, "exitCode": EXIT_GATED if hits else EXIT_OK}
    text = _format(args, reports, gate, pairs, routing)
    from ..runtime import output

    if args.output:
        output.write_file(args.output, text)
    else:
        output.write_stdout(text)
    for report in reports:
        for failure in report.failed or ():
            for line in failure["lines"]:
                print(line, file=sys.stderr)
            print(f"[error] {report.name}: the render failed at {failure['at']}; the report above reviews "
                  "every environment that rendered", file=sys.stderr)
    if any(report.failed for report in reports):
        return EXIT_ERROR
    if hits:
        print(f"[error] --fail-on {','.join(gates)}: {len(hits)} gated finding{'s' if len(hits) != 1 else ''}"
              f" ({', '.join(sorted({h['class'] for h in hits}))})", file=sys.stderr)
        return EXIT_GATED
    return EXIT_OK


def _renders(args, policy) -> tuple[list[tuple], object, bool, dict | None]:
    """(name, old Render, new Render, old label, new label, notes, failed) per environment, the
    review policy that applies, whether the range changes the policy file, and (--git) the commits."""
    from ..review import sources
    from ..review.model import Render

    if args.git is None:
        if args.kustomize:
            raise UsageError("krmfn diff: --kustomize only applies with --git")
        if len(args.paths) != 2:
            raise UsageError(f"krmfn diff: expected OLD and NEW, got {len(args.paths)} path(s) "
                             "(or use --git REV1..REV2 DIR...)")
        old, new = args.paths
        if old == "-" and new == "-":
            raise UsageError("krmfn diff: only one side can be stdin")
        before, after = sources.load(old), sources.load(new)
        sources.require_kagent([(old, before), (new, after)], args.allow_empty)
        name = after.environment or before.environment or "render"
        return [(name, before, after, old, new, [], None)], policy, False, None
    if not args.paths:
        raise UsageError("krmfn diff: --git needs at least one kustomization DIR (e.g. overlays/prod)")
    sources.RevisionRange.parse(args.git)  # a malformed range is a usage error before any directory check
    for path in args.paths:
        if not os.path.isdir(path):
            raise sources.SourceError(f"{path}: no such directory")
    out = []
    with sources.GitRenderer(args.paths[0], args.kustomize) as git:
        span = git.span(args.git)
        old_commit, new_commit, old_label, new_label = span.old, span.new, span.old_label, span.new_label
        policy, policy_changed = _git_policy(args, git, span, policy)
        for path in args.paths:
            name = os.path.normpath(path)
            notes = []
            failed, sides = [], []
            for commit, label in ((old_commit, old_label), (new_commit, new_label)):
                try:
                    sides.append(git.render(path, commit))
                except sources.RenderFailed as err:  # a finding of this environment; the others go on
                    failed.append({"at": label, "lines": err.lines})
                    sides.append(None)
            if failed:
                out.append((name, Render({}, {}, {}), Render({}, {}, {}), old_label, new_label, notes, failed))
                continue
            old, new = sides
            if old is None and new is None:
                raise sources.SourceError(f"{path} exists at neither {old_label} nor {new_label}")
            if old is None:
                notes.append(f"{name} does not exist at {old_label}: everything in it is new.")
            if new is None:
                notes.append(f"{name} does not exist at {new_label}: everything in it is gone.")
            out.append((name, old or Render({}, {}, {}), new or Render({}, {}, {}), old_label, new_label, notes, None))
    return out, policy, policy_changed, {"old": old_commit, "new": new_commit}


def _git_policy(args, git, span, policy):
    """The policy of the base, REV1 itself (the branch a pull request targets, also with `...`:
    its current policy, not the merge base's; what the change edits cannot exempt it), unless one
    was given; and whether the range itself changes that file."""
    if args.no_review_policy:
        return None, False
    from ..review import routing, sources

    base = sources.RevisionRange.parse(args.git).old
    applied = git.file_at(git.commit(base), routing.DEFAULT_PATH)
    changed = git.file_at(span.old, routing.DEFAULT_PATH) != git.file_at(span.new, routing.DEFAULT_PATH)
    if policy is None and applied is not None:
        policy = routing.parse(applied, f"{routing.DEFAULT_PATH} at {base}")
    return policy, changed and policy is not None


def _format(args, reports, gate, pairs, routing=None) -> str:
    from ..review import render

    if args.format == "json":
        return render.to_json(reports, gate, routing)
    if args.format == "markdown":
        graphs = None
        if args.graph:
            from ..review import mermaid

            graphs = {name: mermaid.graph_diff(old, new) for name, old, new, *_ in pairs}
        return render.to_markdown(reports, gate, graphs, routing)
    colour = args.color == "always" or (
        args.color == "auto" and not args.output and sys.stdout.isatty() and not os.environ.get("NO_COLOR"))
    return render.to_text(reports, colour=colour, gate=gate, routing=routing)


def _fail(message: str) -> int:
    print(f"[error] {message}", file=sys.stderr)
    return EXIT_ERROR
