"""krmfn: KRM functions that turn AI agent descriptions into kagent custom resources."""

__version__ = "0.1.0"

GROUP = "krmfn.dev"
API_VERSION = "krmfn.dev/v1alpha1"
