"""validate: the rendered kagent objects against the kagent CRDs and their references.

Never modifies the rendered objects. Under kustomize it runs as a pass-through transformer
(kustomize's `validators:` is broken for KRM functions); under kpt it is a validator.

The schema comes from `spec.crds` files or from the input: CustomResourceDefinitions marked
`config.kubernetes.io/local-config: "true"` (a vendored CRD chart the overlay lists as resources)
are read as the schema and never emitted; unmarked ones are ordinary output (a render that
deploys the CRDs) and are used only when nothing else gives a schema.
"""

from __future__ import annotations

from ..api.common import meta_namespace
from ..api.conformance import KagentConformance
from ..constants import CRD_API_VERSION, CRD_KIND, LOCAL_CONFIG_ANNOTATION
from ..runtime.kobject import is_schema_input
from ..runtime.resourcelist import ResourceList
from ..runtime.results import ERROR, Result


def process(rl: ResourceList, config: KagentConformance) -> None:
    from ..conformance import ConformanceInputError, load_crds, validate

    spec = config.spec
    schema_items = [i for i in rl.items if is_schema_input(i)]
    rl.items = [i for i in rl.items if not is_schema_input(i)]  # read, never emitted
    try:
        if spec.crds or schema_items:
            crds = load_crds(*spec.crds, *schema_items,
                             label=None if not schema_items else "the input's local-config CRDs")
        else:
            in_input = [i for i in rl.items if (i.get("apiVersion"), i.get("kind")) == (CRD_API_VERSION, CRD_KIND)]
            if not in_input:
                rl.results.append(Result.about(rl.function_config, "spec.crds", (
                    "no CRDs: list the vendored kagent CRD chart under the kustomization's resources: and mark "
                    f"its items {LOCAL_CONFIG_ANNOTATION}: \"true\" (functions/validate/README.md), or set spec.crds")))
                return
            crds = load_crds(*in_input, label="the input's CRDs")
    except ConformanceInputError as err:
        rl.results.append(Result.about(rl.function_config, "spec.crds", str(err)))
        return
    results = validate(rl.items, crds, external=expand_external(spec.external, rl.items),
                       check_references=spec.check_references)
    if spec.warnings_as_errors:
        results = [r.replace(severity=ERROR) for r in results]
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
