"""The `krmfn` executable: every function, every way in.

With no arguments it is a KRM function (ResourceList on stdin). The hot path imports nothing
but the runtime; each subcommand imports its own module only when it runs.
"""

from __future__ import annotations

import os
import sys

USAGE = """\
usage: krmfn                          run as a KRM function (ResourceList on stdin -> stdout)
       krmfn run CONFIG [PATH ...]    run a function on files or directories (plain YAML out)
       krmfn validate [OPTIONS] PATH  check rendered kagent objects against the kagent CRDs
       krmfn build DIR                render a kustomization with the krmfn functions (what Argo CD and CI run)
       krmfn render-changed [--overlays GLOB]... [FILE...]   build the overlays FILEs can change (pre-commit)
       krmfn diff OLD NEW | --git A..B DIR...   agent-aware review of a change (text, Markdown, JSON)
       krmfn graph RENDER | --git REV DIR     Mermaid graph of agents, models, tools and delegation
       krmfn review-gate --repo O/R --pr N --report FILE   request the required reviewers, fail until they approved
       krmfn codeowners [PATH ...] [-o FILE [--check]]     CODEOWNERS lines for the files that hold grants
       krmfn drift OVERLAY --live FILE | --kubectl   what the cluster runs against the render (exit 3: drift)
       krmfn blame OVERLAY AGENT | --digest D OVERLAY   the commit behind each prompt line, or a digest
       krmfn legacy CONFIG_FILE       legacy kustomize exec plugin mode (YAML stream in and out)
       krmfn install-plugins [DIR]    install legacy exec plugins into KUSTOMIZE_PLUGIN_HOME
       krmfn new agent NAME -n NS     scaffold a description and its prompt, listed in base/agents
       krmfn show SOURCE AGENT        one agent as it will run: prompt, model, tools with risks, delegates
       krmfn tools [PATH ...]         the tool catalog (built-in and the repository's) with risk classes
       krmfn kinds                    list the function config kinds krmfn serves
       krmfn worker                   no-op, kept for one release (there is no warm worker any more)
       krmfn --version

Set KRMFN_DEBUG=1 to see a Python traceback when krmfn fails on a bug.
"""

COMMANDS = {
    "run": ("krmfn.commands.run", "run"),
    "legacy": ("krmfn.commands.legacy", "run"),
    "install-plugins": ("krmfn.commands.legacy", "install"),
    "validate": ("krmfn.commands.validate", "run"),
    "build": ("krmfn.commands.build", "run"),
    "render-changed": ("krmfn.commands.render_changed", "run"),
    "container-run": ("krmfn.commands.build", "container_run"),
    "diff": ("krmfn.commands.diff", "run"),
    "graph": ("krmfn.commands.graph", "run"),
    "review-gate": ("krmfn.commands.review_gate", "run"),
    "codeowners": ("krmfn.commands.codeowners", "run"),
    "drift": ("krmfn.commands.drift", "run"),
    "blame": ("krmfn.commands.blame", "run"),
    "tools": ("krmfn.commands.tools", "run"),
    "show": ("krmfn.commands.show", "run"),
    "new": ("krmfn.commands.new", "run"),
    "worker": ("krmfn.commands.worker", "run"),
}


def main(argv: list[str] | None = None) -> int:
    from .runtime.output import OutputError, error

    if argv is None:
        argv = sys.argv[1:]
    try:
        return _dispatch(argv)
    except KeyboardInterrupt:
        print("[error] interrupted", file=sys.stderr)
        return 130
    except OutputError as err:  # a result not written whole is a failure, never a partial success
        error(f"[error] {err}")
        return 1
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); nothing left to say.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as err:  # a krmfn bug: one line, as the engine gives for a function's (never a traceback)
        if os.environ.get("KRMFN_DEBUG", "") not in ("", "0", "false"):
            raise
        error(f"[error] internal error: {type(err).__name__}: {err} (set KRMFN_DEBUG=1 for a traceback)")
        return 1


def _dispatch(argv: list[str]) -> int:
    if not argv:
        from .commands import krm

        return krm.main()
    command, rest = argv[0], argv[1:]
    if command in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return 0
    if command == "--version":
        from . import __version__

        print(f"krmfn {__version__}")
        return 0
    if command == "kinds":
        from .runtime.registry import FUNCTIONS
        from . import API_VERSION

        for kind, entry in sorted(FUNCTIONS.items()):
            print(f"{API_VERSION}/{kind}\t{entry.summary}")
        return 0
    if command not in COMMANDS:
        print(f"[error] unknown command {command!r}; run `krmfn --help`", file=sys.stderr)
        return 2
    module_name, attr = COMMANDS[command]
    import importlib

    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name == module_name:
            print(f"[error] command {command!r} is not available in this build", file=sys.stderr)
            return 2
        raise
    return getattr(module, attr)(rest)


if __name__ == "__main__":
    sys.exit(main())
