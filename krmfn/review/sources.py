"""Where renders come from: a YAML stream, a directory of rendered YAML, or a kustomization rendered
by `krmfn build` at a git revision (in a temporary `git worktree`, removed afterwards).

Both revisions are rendered by this krmfn (the functions as installed now), so a diff shows what
changed in the repository, not what changed in krmfn.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

from .model import Render

WORKING_TREE = "working tree"


class SourceError(ValueError):
    """A render that cannot be had; the message is one line."""


@dataclass
class RevisionRange:
    old: str
    new: str | None  # None: the working tree
    merge_base: bool = False

    @classmethod
    def parse(cls, text: str) -> "RevisionRange":
        """`A..B`, `A...B` (from the merge base of A and B, like a pull request) or `A..` (to the working tree)."""
        if "..." in text:
            old, _, new = text.partition("...")
            merge_base = True
        elif ".." in text:
            old, _, new = text.partition("..")
            merge_base = False
        else:
            raise SourceError(f"--git {text!r}: expected REV1..REV2 (e.g. main..HEAD, or main.. for the working tree)")
        if not old:
            raise SourceError(f"--git {text!r}: the first revision is missing")
        return cls(old, new or None, merge_base)


@dataclass
class Span:
    old: str  # a commit
    new: str | None  # a commit, or None: the working tree
    old_label: str
    new_label: str


def load(path: str) -> Render:
    """The render in a file, a directory of rendered YAML, or `-` (stdin).

    A render without kagent objects is returned as it is: `require_kagent` says whether that is
    an error for the command (a typo in a CI path must not pass as "nothing changed").
    """
    from ..runtime import files, yamlio

    if path != "-" and not os.path.exists(path):
        raise SourceError(f"{path}: no such file or directory")
    try:
        return Render.from_objects(files.read_objects([path], annotate=False))
    except (files.FileInputError, yamlio.YamlError) as err:
        raise SourceError(str(err)) from None


class RenderFailed(SourceError):
    """A render that failed at one revision; `lines` are its error lines, repository paths only."""

    def __init__(self, message: str, lines: list[str]):
        super().__init__(message)
        self.lines = lines


def require_kagent(renders: "list[tuple[str, Render]]", allow_empty: bool) -> None:
    """Refuse a review of nothing: at least one of the renders must hold kagent objects."""
    if allow_empty or any(render.kagent_objects for _, render in renders):
        return
    paths = " and ".join(path for path, _ in renders)
    raise SourceError(f"{paths}: no kagent objects, so nothing was reviewed (a wrong path?); "
                      "pass --allow-empty if an empty render is expected")


class GitRenderer:
    """Renders kustomizations at revisions of the repository that holds them."""

    def __init__(self, some_path: str, kustomize: str | None = None):
        directory = some_path if os.path.isdir(some_path) else os.path.dirname(some_path) or "."
        self.top = os.path.realpath(self._git(["rev-parse", "--show-toplevel"], cwd=directory,
                                              what=f"{some_path} is not in a git repository").strip())
        self.kustomize = kustomize
        self.scratch = tempfile.mkdtemp(prefix="krmfn-review-")
        self.worktrees: dict[str, str] = {}  # commit -> worktree path

    def __enter__(self) -> "GitRenderer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def commit(self, revision: str) -> str:
        return self._git(["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
                         what=f"unknown git revision {revision!r}").strip()

    def merge_base(self, a: str, b: str) -> str:
        return self._git(["merge-base", a, b], what=f"{a} and {b} have no merge base").strip()

    def relative(self, directory: str) -> str:
        path = os.path.relpath(os.path.realpath(directory), self.top)
        if path.startswith(".."):
            raise SourceError(f"{directory} is outside the git repository {self.top}")
        return path

    def render(self, directory: str, commit: str | None) -> Render | None:
        """`directory` rendered at `commit` (None: as it is on disk); None when it does not exist there."""
        if commit is None:
            root = self.top
        else:
            root = self.worktrees.get(commit)
            if root is None:
                root = os.path.join(self.scratch, f"rev-{len(self.worktrees)}")
                self._git(["worktree", "add", "--detach", "--quiet", root, commit],
                          what=f"cannot check out {commit[:12]} into a temporary worktree")
                self.worktrees[commit] = root
        target = os.path.join(root, self.relative(directory))
        if not os.path.isdir(target):
            return None
        import sys

        from ..render import BuildOptions, RenderError, build

        try:
            rendered = build(target, BuildOptions(kustomize=self.kustomize))
        except RenderError as err:
            # the lines name files as the repository spells them, never the temporary worktree
            lines = [line.replace(root + os.sep, "").replace(root, ".") for line in [*err.lines, f"[error] {err}"]]
            where = "the working tree" if commit is None else commit[:12]
            raise RenderFailed(f"krmfn build {directory} failed at {where}", lines) from None
        sys.stderr.write(rendered.stderr)
        output = os.path.join(self.scratch, f"render-{len(os.listdir(self.scratch))}.yaml")
        with open(output, "wb") as handle:
            handle.write(rendered.manifests)
        return load(output)

    def file_at(self, commit: str | None, path: str) -> bytes | None:
        """`path` (from the top level) at `commit` (None: the working tree); None when it is not there."""
        if commit is None:
            full = os.path.join(self.top, path)
            if not os.path.isfile(full):
                return None
            with open(full, "rb") as handle:
                return handle.read()
        proc = subprocess.run(["git", "cat-file", "blob", f"{commit}:{path}"], cwd=self.top, capture_output=True)
        return proc.stdout if proc.returncode == 0 else None

    def span(self, text: str) -> "Span":
        """The commits and labels of a revision range (`A..B`, `A...B`, `A..`): one helper for
        `krmfn diff --git` and `krmfn graph --git`."""
        span = RevisionRange.parse(text)
        new_commit = self.commit(span.new) if span.new else None
        old_commit = self.commit(span.old)
        if span.merge_base:
            old_commit = self.merge_base(old_commit, new_commit or "HEAD")
        old_label = span.old if not span.merge_base else f"merge-base({span.old}, {span.new or 'HEAD'})"
        return Span(old_commit, new_commit, old_label, span.new or WORKING_TREE)

    def close(self) -> None:
        for root in self.worktrees.values():
            subprocess.run(["git", "-C", self.top, "worktree", "remove", "--force", root], capture_output=True)
        if self.worktrees:
            subprocess.run(["git", "-C", self.top, "worktree", "prune"], capture_output=True)
        self.worktrees.clear()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def _git(self, args: list[str], *, what: str, cwd: str | None = None) -> str:
        try:
            proc = subprocess.run(["git", *args], cwd=cwd or self.top, capture_output=True, text=True)
        except FileNotFoundError:
            raise SourceError("git is not installed") from None
        if proc.returncode != 0:
            detail = (proc.stderr.strip().splitlines() or [""])[-1]
            raise SourceError(what + (f" ({detail})" if detail else ""))
        return proc.stdout
