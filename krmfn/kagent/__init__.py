"""kagent's resources: the schemas of the kagent fields users write (`models`: an
AgentDescription's deployment, a catalog's headersFrom, a ModelEnvironment tier's provider blocks)
and the server-side-defaulting drift check (`defaults`). kagent's names and facts as plain data
are in `krmfn.constants`.

Names are resolved lazily, so importing the package imports neither submodule.
"""

from __future__ import annotations

import importlib


def __getattr__(name: str):
    for module in ("krmfn.constants", f"{__name__}.defaults", f"{__name__}.models"):
        value = getattr(importlib.import_module(module), name, None)
        if value is not None:
            return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
