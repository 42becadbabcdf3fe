"""kagent's resources: names and facts (`constants`, plain data), typed models (`models`, pydantic;
only where they are an input schema, e.g. a ModelEnvironment tier's provider blocks, and in tests)
and the server-side-defaulting drift check (`defaults`).

Names are resolved lazily, so `krmfn.kagent.constants` costs no pydantic import.
"""

from __future__ import annotations

import importlib


def __getattr__(name: str):
    for module in ("constants", "defaults", "models"):
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name, None)
        if value is not None:
            return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
