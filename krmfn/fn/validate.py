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
from ..runtime.kobject import KObject, is_schema_input
from ..runtime.resourcelist import ResourceList
from ..runtime.results import ERROR, Result


def process(rl: ResourceList, config: KagentConformance) -> None:
    from ..conformance import ConformanceInputError, load_crds, validate

    spec = config.spec
    schema_items = [i for i in rl.items if is_schema_input(i)]
    rl.items = [i for i in rl.items if not is_schema_input(i)]  # read, never emitted
    deployed = [i for i in rl.items if KObject(i).is_a(CRD_API_VERSION, CRD_KIND)]
    try:
        # spec.crds names the schema outright; otherwise every CRD of the input is one (a CRD the
        # render deploys is the schema of its objects too; two schemas of one kind are an error).
        sources = [*spec.crds, *schema_items] if spec.crds else [*schema_items, *deployed]
        if not sources:
            rl.results.append(Result.about(rl.function_config, "spec.crds", (
                "no CRDs: list the vendored kagent CRD chart under the kustomization's resources: and mark "
                f"its items {LOCAL_CONFIG_ANNOTATION}: \"true\" (functions/validate/README.md), or set spec.crds")))
            return
        label = None if spec.crds else "the input's local-config CRDs" if not deployed else "the input's CRDs"
        crds = load_crds(*sources, label=label)
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
