"""`krmfn review-gate`: request the reviewers a review requires on a pull request, and fail until
each of them has approved.

  krmfn review-gate --repo OWNER/REPO --pr N --report review.json

REPORT is `krmfn diff --git BASE..HEAD DIR... --format json` with a review policy (its
`routing.requiredOwners`). The GitHub API is GITHUB_API_URL (default https://api.github.com), the
token GITHUB_TOKEN (never printed); team owners need a token that may read the org's team
memberships. README: Review routing.

Exit codes: 0 every required owner approved; 1 error (unreadable report, GitHub unreachable or
refusing, usage); 3 an owner has not approved yet (stderr names them).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

from .args import CommandParser, UsageError

EXIT_OK, EXIT_ERROR, EXIT_WAITING = 0, 1, 3
_REPO = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}\Z")


def parser() -> argparse.ArgumentParser:
    p = CommandParser(prog="krmfn review-gate", description=__doc__.split("\n\n")[0],
                      formatter_class=argparse.RawDescriptionHelpFormatter, epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    p.add_argument("--repo", required=True, metavar="OWNER/REPO", help="the repository (GITHUB_REPOSITORY in Actions)")
    p.add_argument("--pr", required=True, metavar="N", help="the pull request number")
    p.add_argument("--report", required=True, metavar="FILE", help="the krmfn diff JSON report of the pull request")
    p.add_argument("--no-request", action="store_true", help="only check; request nobody")
    p.add_argument("--accept-stale-approvals", action="store_true",
                   help="count approvals of earlier commits of the pull request too")
    return p


def run(argv: list[str]) -> int:
    from ..review.gate import ReportError
    from ..review.github import GitHubError

    try:
        return _run(argv)
    except (UsageError, ReportError, GitHubError) as err:
        print(f"[error] {err}", file=sys.stderr)
        return EXIT_ERROR


def _run(argv: list[str]) -> int:
    from ..review import gate
    from ..review.github import DEFAULT_API_URL, GitHub
    from ..runtime import output

    args = parser().parse_args(argv)
    if not _REPO.match(args.repo):
        raise UsageError(f"krmfn review-gate: --repo {args.repo!r}: expected OWNER/REPO")
    if not args.pr.isdigit() or int(args.pr) < 1:
        raise UsageError(f"krmfn review-gate: --pr {args.pr!r}: expected a pull request number")
    try:
        with open(args.report, "rb") as handle:
            report = json.loads(handle.read())
    except OSError as err:
        raise gate.ReportError(f"{args.report}: {err.strerror or err}") from None
    except ValueError:
        raise gate.ReportError(f"{args.report}: not JSON (expected `krmfn diff --format json`)") from None
    owners, reviewed = gate.required_owners(report, args.report)
    token = os.environ.get("GITHUB_TOKEN", "")
    if not token:
        raise UsageError("krmfn review-gate: GITHUB_TOKEN is not set")
    github = GitHub(os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL, token)
    outcome = gate.decide(github, args.repo, int(args.pr), owners, reviewed, request=not args.no_request,
                          accept_stale=args.accept_stale_approvals)
    approved = len(owners) - len(outcome.missing)
    lines = [f"krmfn review-gate: {outcome.pr} at {outcome.head[:12]}: {approved} of {len(owners)} "
             f"required owner{'s' if len(owners) != 1 else ''} approved"]
    lines += [f"  {'ok' if s.approved else 'missing':<8} {s.owner}" + (f": {s.detail}" if s.detail else "")
              for s in outcome.owners]
    output.write_stdout("\n".join(lines) + "\n")
    if outcome.missing:
        print(f"[error] not approved yet by {', '.join(s.owner for s in outcome.missing)}", file=sys.stderr)
        return EXIT_WAITING
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run(sys.argv[1:]))
