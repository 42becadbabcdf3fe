"""A warm worker that serves krmfn's function calls without paying Python's start-up each time.

kustomize starts one process per function per build. A krmfn function spends most of its time
importing pydantic, building its validators and loading Jinja2; the render itself takes a few
milliseconds. As Mercurial's `chg` does for `hg`, the first call starts a worker in the
background (and runs in-process itself); later calls hand their stdin, stdout and stderr to the
worker, which forks an already-warm child to run the call with the caller's arguments,
environment, working directory and umask. See `client` (the caller's side, kept lean) and
`server`.

KRMFN_WORKER=0 turns it off; KRMFN_WORKER_IDLE sets how long an idle worker lives (seconds).
"""

# Set in the forked child that serves a call, for the few places that must behave differently
# there (a process that would exec another program must run it as a child instead).
serving = False
