"""validate: the rendered kagent objects against the kagent CRDs and their references.

Never modifies anything. Under kustomize it runs as a pass-through transformer (kustomize's
`validators:` is broken for KRM functions); under kpt it is a validator.
"""

from __future__ import annotations

from ..api.common import meta_namespace
from ..api.conformance import KagentConformance
from ..constants import CRD_API_VERSION, CRD_KIND
from ..runtime.resourcelist import ResourceList
from ..runtime.results import ERROR, Result



def process(rl: ResourceList, config: KagentConformance) -> None:
    from ..conformance import ConformanceInputError, load_crds, validate

    spec = config.spec
    try:
        if spec.crds:
            crds = load_crds(*spec.crds)
        else:
            in_input = [i for i in rl.items if (i.get("apiVersion"), i.get("kind")) == (CRD_API_VERSION, CRD_KIND)]
            if not in_input:
                rl.results.append(Result.about(rl.function_config, "spec.crds",
                                               "no CRDs: set spec.crds, or include the kagent CRDs in the input"))
                return
            crds = load_crds(*in_input, label="the input's CRDs")
    except ConformanceInputError as err:
        rl.results.append(Result.about(rl.function_config, "spec.crds", str(err)))
        return
    results = validate(rl.items, crds, external=expand_external(spec.external, rl.items),
                       check_references=spec.check_references)
    if spec.warnings_as_errors:
        results = [Result(r.message, ERROR, r.resource, r.field, r.file, r.tags) for r in results]
    rl.results.extend(results)


def expand_external(references: list[str], objects: list[dict]) -> frozenset[tuple[str, str, str]]:
    """KIND/NAMESPACE/NAME entries, `*` standing for every namespace present in the render."""
    namespaces = {meta_namespace(o) for o in objects} - {""}
    out = set()
    for reference in references:
        kind, namespace, name = reference.split("/")
        for ns in (sorted(namespaces) if namespace == "*" else [namespace]):
            out.add((kind, ns, name))
    return frozenset(out)
