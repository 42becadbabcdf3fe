"""Agent-aware review of a render: what each agent is (model), what changed (changes), how to
show it (render, mermaid), and where the renders come from (sources).

Nothing here is imported by the KRM function hot path; `krmfn diff` and `krmfn graph` import the
modules they need when they run.
"""
