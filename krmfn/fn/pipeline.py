"""pipeline: expand, environment, policy and conformance in one call (see `krmfn.api.pipeline`).

Each stage runs through the engine exactly as the function alone would (its own config, its own
checks, a validator may not change anything, canonical order after each stage), so a pipeline
render is the step-by-step render. The first stage that fails stops the pipeline; the engine then
hands back the input unchanged, with every result so far.
"""

from __future__ import annotations

from ..api.pipeline import STAGE_KINDS, Pipeline
from ..constants import API_VERSION, LOCAL_CONFIG_ANNOTATION as LOCAL_CONFIG
from ..runtime import engine
from ..runtime.kobject import KObject, is_schema_input
from ..runtime.resourcelist import ResourceList
from ..runtime.results import Result
from ..runtime.secrets import scan
from ..runtime.typed import field_path
from ..sources import Sources

ENVIRONMENT_KIND, CONFORMANCE_KIND = STAGE_KINDS[1], STAGE_KINDS[3]


def process(rl: ResourceList, config: Pipeline) -> None:
    raw = rl.function_config or {}
    stages, consumed, problems = _resolve(config, raw, rl.items)
    rl.results.extend(problems)
    if problems:
        return
    items = [item for index, item in enumerate(rl.items) if index not in consumed and not is_schema_input(item)]
    # The local-config CRDs (a vendored chart) are the conformance stage's schema: the other stages
    # never see them (nor copy and fingerprint a megabyte of schema each), conformance consumes them.
    schemas = [item for item in rl.items if is_schema_input(item)]
    # A finding about a rendered object also names what the user edited (krmfn.sources).
    environment = next((c for _, c in stages if c.get("kind") == ENVIRONMENT_KIND), None)
    sources = Sources(rl.items, environment)
    # An inline stage config holds no credential here: the engine refused any in the Pipeline's
    # config before this ran, so the config goes back out as it came.
    for _, stage_config in stages:
        conformance = stage_config.get("kind") == CONFORMANCE_KIND
        stage = ResourceList(items=items + schemas if conformance else items,
                             function_config=engine.clone(stage_config))
        code = engine.run(stage)
        rl.results.extend(sources.attribute(stage.results, stage.items))
        if code != 0:
            break  # the engine hands back the pipeline's input
        items = stage.items
        if conformance:
            schemas = []
    rl.items = items + schemas


def _resolve(config: Pipeline, raw: dict, items: list[dict]) -> tuple[list[tuple[int, dict]], set[int], list[Result]]:
    """(stage index, config) in run order, the input items consumed as configs, and the problems."""
    stages: list[tuple[int, dict]] = []
    consumed: set[int] = set()
    problems: list[Result] = []
    last = -1
    for index, stage in enumerate(config.spec.stages):
        path = f"spec.stages[{index}]"
        if stage.config is not None:
            found, kind, where = stage.config, stage.config.get("kind"), f"{path}.config"
            if stage.config.get("apiVersion") != API_VERSION or kind not in STAGE_KINDS:
                problems.append(Result.about(raw, f"{where}.kind", (
                    f"a stage runs one of {API_VERSION} {', '.join(STAGE_KINDS)}; "
                    f"got {stage.config.get('apiVersion')}/{kind}")))
                continue
        else:
            ref = stage.config_ref
            kind, where = ref.kind, f"{path}.configRef"
            matches = [i for i, item in enumerate(items)
                       if KObject(item).is_a(API_VERSION, ref.kind) and KObject(item).name == ref.name]
            if not matches:
                problems.append(Result.about(raw, where, (
                    f"no {ref.kind} named {ref.name!r} in the input: list its file under the kustomization's "
                    f"resources: and mark it {LOCAL_CONFIG}: \"true\"")))
                continue
            if len(matches) > 1:
                problems.append(Result.about(raw, where, f"{len(matches)} {ref.kind}s named {ref.name!r} in the input"))
                continue
            found = items[matches[0]]
            if KObject(found).annotations.get(LOCAL_CONFIG) != "true":
                problems.append(Result.about(found, f"metadata.annotations[{LOCAL_CONFIG}]", (
                    f"used as a config by {where} of Pipeline {KObject(raw).name}: mark it {LOCAL_CONFIG}: \"true\" "
                    "so it is never deployed")))
                continue
            secrets = scan(found)
            if secrets:  # refused before any stage runs, as the engine refuses inline ones
                problems.extend(Result.about(found, field_path(loc), f"{message}; {engine.WITHHELD}")
                                for loc, message, _ in secrets)
                continue
            if matches[0] in consumed:
                problems.append(Result.about(raw, where, f"{ref.kind} {ref.name!r} is the config of two stages"))
                continue
            consumed.add(matches[0])
        order = STAGE_KINDS.index(kind)
        if order <= last:
            problems.append(Result.about(raw, where, (
                f"{kind} cannot come here: stages run in the order {', '.join(STAGE_KINDS)}, each at most once")))
            continue
        last = order
        stages.append((index, found))
    return stages, consumed, problems
