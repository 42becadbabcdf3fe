"""krmfn: KRM functions that turn AI agent descriptions into kagent custom resources."""

__version__ = "0.1.0"

from .constants import API_VERSION, GROUP  # noqa: E402,F401  (re-exported)
