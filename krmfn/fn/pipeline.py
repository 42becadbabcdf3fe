"""pipeline: expand, environment, policy and conformance in one call (see `krmfn.api.pipeline`).

Each stage runs through the engine exactly as the function alone would (its own config, its own
checks, a validator may not change anything, canonical order after each stage), so a pipeline
render is the step-by-step render. The first stage that fails stops the pipeline; the engine then
hands back the input unchanged, with every result so far.
"""

from __future__ import annotations

import copy

from .. import API_VERSION
from ..api.pipeline import STAGE_KINDS, Pipeline
from ..runtime import engine
from ..runtime.resourcelist import LOCAL_CONFIG, ResourceList
from ..runtime.results import FunctionFailure, Result
from ..runtime.typed import parse


def process(rl: ResourceList) -> None:
    raw = rl.function_config or {}
    config, problems = parse(Pipeline, raw)
    if config is None:
        raise FunctionFailure(problems)
    stages, consumed, problems = _resolve(config, raw, rl.items)
    if problems:
        raise FunctionFailure(problems)
    items = [item for index, item in enumerate(rl.items) if index not in consumed]
    echoed = copy.deepcopy(raw)  # the config as it goes back in the output (credentials redacted)
    for index, stage_config in stages:
        stage = ResourceList(items=items, function_config=stage_config)
        code = engine.run(stage)
        rl.results.extend(stage.results)
        if stage.function_config is not stage_config and config.spec.stages[index].config is not None:
            echoed["spec"]["stages"][index]["config"] = stage.function_config  # what the stage redacted
        if code != 0:
            rl.function_config = echoed
            raise FunctionFailure([])
        items = stage.items
    rl.function_config = echoed
    rl.items = items


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
                       if item.get("apiVersion") == API_VERSION and item.get("kind") == ref.kind
                       and _name(item) == ref.name]
            if not matches:
                problems.append(Result.about(raw, where, (
                    f"no {ref.kind} named {ref.name!r} in the input: list its file under the kustomization's "
                    f"resources: and mark it {LOCAL_CONFIG}: \"true\"")))
                continue
            if len(matches) > 1:
                problems.append(Result.about(raw, where, f"{len(matches)} {ref.kind}s named {ref.name!r} in the input"))
                continue
            found = items[matches[0]]
            if _annotations(found).get(LOCAL_CONFIG) != "true":
                problems.append(Result.about(found, f"metadata.annotations[{LOCAL_CONFIG}]", (
                    f"used as a config by {where} of Pipeline {_name(raw)}: mark it {LOCAL_CONFIG}: \"true\" "
                    "so it is never deployed")))
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


def _name(obj: dict) -> str:
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return name if isinstance(name, str) else ""


def _annotations(obj: dict) -> dict:
    meta = obj.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    return annotations if isinstance(annotations, dict) else {}
