"""The KRM function runtime: ResourceList I/O, typed configs, results, dispatch."""
