"""environment: per-environment ModelConfigs, agents pointed at them, canaries.

For every kagent Agent (v1alpha2, Declarative) the function manages, it resolves the tier:

* the requested tier is the Agent's `krmfn.dev/model-tier` annotation (written by expand);
* a hand-written Agent without that annotation is managed only when its `modelConfig` is
  `model-<tier>` of a tier of this environment (or `model-default`); it is then adopted: the
  function writes the annotation, so later runs see the same request. Any other hand-written
  Agent keeps its own ModelConfig and is not touched;
* tier `default` means `spec.defaultTier` (unless a tier is literally named `default`);
* a canary that selects the Agent replaces its main tier (never the memory embedding tier or the
  context summarizer's: embeddings must not change under stored memories).

An Agent asking for an effort (`krmfn.dev/effort`, from the description's spec.effort) runs its main
model at that effort: the tier's own mapping for the level, else the provider's default
(constants.EFFORT_SETTINGS), merged into the provider block; a tier with neither is an error, never
a dropped effort. The Agents' and AgentTemplates' model references are read by `reader.read_models`.

It then sets `spec.declarative.modelConfig` (and `memory.modelConfig`, and a context summarizer's
`model-<tier>` reference) to the resolved tier's ModelConfig (`model-<tier>-<effort>` for the main
model at an effort), annotates the Agent with `krmfn.dev/environment` (and `krmfn.dev/canary` when
a canary applies), and emits one ModelConfig per namespace per tier (and effort) in use: kagent
resolves `modelConfig` and `apiKeySecret` in the Agent's own namespace. ModelConfigs it emitted
before (labelled managed-by krmfn and krmfn.dev/model-tier) are replaced, so running it again, or
on its own output, changes nothing.

Nothing in the config may be a credential: a literal key, token, password or bearer header is
refused, naming the field and never the value (see `find_inline_secrets`).
"""

from __future__ import annotations

import copy
import difflib
from typing import Any

from ..runtime.typed import ValidationError

from ..api.agent import DEFAULT_TIER
from ..api.common import (
    ANNOTATION_MEMORY_TIER,
    ANNOTATION_MODEL_TIER,
    ANNOTATION_SOURCE,
    LABEL_MANAGED_BY,
    MANAGED_BY,
    meta_name,
    meta_namespace,
    model_config_name,
)
from ..api.environment import (
    ANNOTATION_CANARY,
    ANNOTATION_ENVIRONMENT,
    Canary,
    ModelEnvironment,
    Tier,
)
from .. import constants as k
from ..constants import AGENTTEMPLATE_KIND, ANNOTATION_EFFORT, KAGENT_V1ALPHA2, KAGENT_V1ALPHA3
from ..reader import ModelUses, is_model_config, read_agent, read_models
from ..reader.v1alpha3 import HARNESS_REF
from ..runtime.kobject import KObject, as_dict
from ..runtime.resourcelist import ResourceList
from ..runtime.record import record
from ..runtime.results import WARNING, Result
from ..runtime.typed import field_path, parse

LABEL_MODEL_TIER = ANNOTATION_MODEL_TIER  # the same key labels the ModelConfigs krmfn emits
MODEL_CONFIG_PREFIX = model_config_name("")

# Providers whose requests fail without a credential, unless the tier forwards the caller's token
# (apiKeyPassthrough) or, for the two with a `baseUrl`, points at a gateway that holds the key.
NEEDS_KEY = ("OpenAI", "Anthropic", "AzureOpenAI", "Gemini", "SAPAICore")
GATEWAY_PROVIDERS = ("OpenAI", "Anthropic")
# Providers that cannot work without their settings block (the block has required fields).
NEEDS_BLOCK = ("AzureOpenAI", "GeminiVertexAI", "AnthropicVertexAI", "Bedrock", "SAPAICore", "Foundry")


def parse_config(raw: dict) -> tuple[ModelEnvironment | None, list[Result]]:
    """The ModelEnvironment and the checks that need more than one field. The engine has already
    refused literal credentials (and hands over a copy without them)."""
    config, results = parse(ModelEnvironment, raw)
    if config is not None:
        results += check_config(config, raw)
    return config, results


def process(rl: ResourceList, config: ModelEnvironment) -> None:
    Environment(config, rl.function_config or {}, rl).run()


# --- inline credentials ------------------------------------------------------------------------------

from ..runtime.secrets import find_inline_secrets  # noqa: E402,F401  (the engine refuses them; see runtime/secrets.py)


# --- config checks that need more than one field ----------------------------------------------------


def check_config(config: ModelEnvironment, raw: dict) -> list[Result]:
    spec = config.spec
    out: list[Result] = []

    def error(path: str, message: str, severity: str = "error") -> None:
        out.append(Result.about(raw, path, message, severity=severity))

    names = sorted(spec.tiers)
    for name, tier in spec.tiers.items():
        _check_tier(name, tier, spec.is_v010, spec.kagent_version, error)

    if spec.default_tier is not None:
        if spec.default_tier not in spec.tiers:
            error("spec.defaultTier", f"tier {spec.default_tier!r} is not defined" + _hint(spec.default_tier, names))
        elif DEFAULT_TIER in spec.tiers and spec.default_tier != DEFAULT_TIER:
            error("spec.defaultTier", f"a tier is named {DEFAULT_TIER!r}: agents asking for {DEFAULT_TIER!r} use "
                                      "it, so defaultTier must be omitted")
    elif len(spec.tiers) > 1 and DEFAULT_TIER not in spec.tiers:
        error("spec.defaultTier", f"required: the tier agents asking for {DEFAULT_TIER!r} (or for no tier) use, "
                                  f"one of {', '.join(names)}")
    if spec.default_memory_tier is not None:
        if spec.default_memory_tier not in spec.tiers:
            error("spec.defaultMemoryTier", f"tier {spec.default_memory_tier!r} is not defined"
                  + _hint(spec.default_memory_tier, names))
        elif DEFAULT_TIER in spec.tiers:
            error("spec.defaultMemoryTier", f"a tier is named {DEFAULT_TIER!r}: memories asking for {DEFAULT_TIER!r} "
                                            "use it, so defaultMemoryTier must be omitted")

    seen: dict[str, int] = {}
    for index, canary in enumerate(spec.canaries):
        path = f"spec.canaries[{index}]"
        if canary.name in seen:
            error(f"{path}.name", f"canary {canary.name!r} is defined twice (also spec.canaries[{seen[canary.name]}])")
        seen.setdefault(canary.name, index)
        if canary.tier not in spec.tiers:
            error(f"{path}.tier", f"tier {canary.tier!r} is not defined" + _hint(canary.tier, names))
        duplicates = sorted({a for a in canary.agents if canary.agents.count(a) > 1})
        if duplicates:
            error(f"{path}.agents", f"listed twice: {', '.join(duplicates)}")
    return out


def _check_tier(name: str, tier: Tier, is_v010: bool, version: str, report) -> None:
    path = f"spec.tiers.{name}"
    problems: list[str] = []

    def error(where: str, message: str) -> None:
        problems.append(where)
        report(where, message)

    provider = tier.provider
    own = k.PROVIDER_FIELDS[provider]
    if not tier.model:
        error(f"{path}.model", f"tier {name!r} has no model: set the {provider} model name this tier runs")
    for other, block in k.PROVIDER_FIELDS.items():
        if block != own and _block(tier, block) is not None:
            error(f"{path}.{block}", f"{block} settings belong to provider {other}, but this tier's provider "
                                     f"is {provider} (its settings go in {own})")
    if provider in NEEDS_BLOCK and _block(tier, own) is None:
        required = [f for f, info in _block_class(own).model_fields.items() if info.is_required()]
        error(f"{path}.{own}", f"provider {provider} needs {own} settings ({', '.join(required)})")

    if not is_v010:
        if provider == "Foundry":
            error(f"{path}.provider", f"provider Foundry needs kagent v0.10; spec.kagentVersion is {version}")
        _check_v0_9(path, provider, _tier_blocks(tier), version, error)

    secret = tier.api_key_secret
    if tier.api_key_passthrough and secret is not None:
        error(f"{path}.apiKeyPassthrough", "apiKeyPassthrough and apiKeySecret are mutually exclusive")
    elif tier.api_key_passthrough and provider in k.PROVIDERS_WITHOUT_PASSTHROUGH:
        error(f"{path}.apiKeyPassthrough", f"provider {provider} cannot forward the caller's token; "
                                           "reference a Secret with apiKeySecret")
    elif secret is None:
        gateway = provider in GATEWAY_PROVIDERS and getattr(_block(tier, own), "baseUrl", None)
        if provider in NEEDS_KEY and not tier.api_key_passthrough and not gateway:
            how = (f", set apiKeyPassthrough: true, or set {own}.baseUrl to a gateway that holds the key"
                   if provider in GATEWAY_PROVIDERS else " or set apiKeyPassthrough: true")
            error(f"{path}.apiKeySecret", f"provider {provider} needs an API key: reference the Secret that holds "
                                          f"it (apiKeySecret: {{name, key}}){how}")
    elif secret.key is None and provider not in k.PROVIDERS_WITHOUT_SECRET_KEY:
        error(f"{path}.apiKeySecret.key", "required: the key in the Secret that holds the API key")
    elif secret.key is not None and provider == "SAPAICore":
        error(f"{path}.apiKeySecret.key", "SAPAICore reads keys client_id and client_secret from the Secret; "
                                          "omit key")
    if tier.tls is not None and tier.tls.ca_cert_secret is not None and tier.tls.ca_cert_secret.key is None:
        error(f"{path}.tls.caCertSecret.key", "required: the key in the Secret that holds the CA bundle")

    if not problems:  # the kagent rules, for what the checks above do not already say
        _check_kagent_rules(path, _spec_of(tier, is_v010), error)
    if not problems:
        _check_efforts(name, tier, is_v010, version, error)


def _check_v0_9(path: str, provider: str, blocks: dict[str, Any], version: str, error) -> None:
    """ModelConfig fields and values a v0.9 API server does not have (`blocks`: block -> settings)."""
    for field in k.V0_10_ONLY_FIELDS[k.MODELCONFIG_KIND]:
        parts = field.split(".")[1:]
        if parts[0] == "foundry" and provider != "Foundry":
            continue  # reported as a foreign block
        if _present(blocks, parts):
            error(f"{path}.{'.'.join(parts)}", f"{'.'.join(parts)} needs kagent v0.10; "
                                               f"spec.kagentVersion is {version}")
    for field, values in k.V0_10_ONLY_ENUM_VALUES[k.MODELCONFIG_KIND].items():
        parts = field.split(".")[1:]
        if parts == ["provider"]:
            continue
        value = _get(blocks, parts)
        if value in values:
            error(f"{path}.{'.'.join(parts)}", f"{value!r} needs kagent v0.10; spec.kagentVersion is {version}")


def _check_kagent_rules(path: str, spec: dict[str, Any], error) -> None:
    from ..kagent.models import ModelConfigSpec

    try:
        ModelConfigSpec.model_validate(spec)
    except ValidationError as err:
        for problem in err.errors(include_url=False):
            loc = tuple(p for p in problem["loc"] if not (isinstance(p, str) and "[" in p))
            message = problem["msg"]
            if message.startswith("Value error, "):
                message = message[len("Value error, "):]
            error(field_path(loc, path) if loc else path, message)


def _check_efforts(name: str, tier: Tier, is_v010: bool, version: str, error) -> None:
    """A tier's effort mappings, its own and its provider's defaults: known levels, its provider's
    block only, fields the CRD has (a level is never emitted with a setting kagent would refuse)."""
    own = k.PROVIDER_FIELDS[tier.provider]
    defaults = [level for level in k.EFFORT_SETTINGS.get(tier.provider, {}) if level not in tier.efforts]
    for level in [*tier.efforts, *defaults]:
        settings = effort_settings(tier, level) or {}
        path = f"spec.tiers.{name}.efforts.{level}"
        if level not in k.EFFORT_LEVELS:
            error(path, f"effort {level!r} is not a level" + _did_you_mean(level, k.EFFORT_LEVELS)
                  + f" (levels: {', '.join(k.EFFORT_LEVELS)})")
            continue
        problems: list[str] = []

        def report(where: str, message: str) -> None:
            problems.append(where)
            error(where, message)

        for block in settings:
            if block == own:
                continue
            if block in k.PROVIDER_FIELDS.values():
                owner = next(p for p, b in k.PROVIDER_FIELDS.items() if b == block)
                report(f"{path}.{block}", f"{block} settings belong to provider {owner}, but this tier's provider "
                                          f"is {tier.provider} (its settings go in {own})")
            else:
                report(f"{path}.{block}", f"unknown field {block!r}" + _did_you_mean(block, [own])
                       + f" (an effort maps to settings of the tier's {own} block)")
        if problems:
            continue
        spec = _effort_spec(tier, level, is_v010)
        merged = spec.get(own)
        if merged is not None:
            _, results = parse(_block_class(own), merged, subject={}, at=f"{path}.{own}")
            for result in results:
                report(result.field, result.message)
        if problems:
            continue
        if not is_v010:
            _check_v0_9(path, tier.provider, {own: settings.get(own, {})}, version, report)
        _check_kagent_rules(path, spec, report)


def _did_you_mean(value: str, known) -> str:
    close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.5)
    return f"; did you mean {close[0]!r}?" if close else ""


def effort_settings(tier: Tier, level: str) -> dict[str, Any] | None:
    """What effort `level` sets on `tier` (block -> settings): the tier's own mapping, else the
    provider's default (constants.EFFORT_SETTINGS); None when neither exists (the render fails)."""
    if level in tier.efforts:
        return tier.efforts[level]
    default = k.EFFORT_SETTINGS.get(tier.provider, {}).get(level)
    return {k.PROVIDER_FIELDS[tier.provider]: default} if default is not None else None


def _effort_spec(tier: Tier, level: str, is_v010: bool) -> dict[str, Any]:
    """The ModelConfig spec of `tier` at effort `level`: its settings merged over the tier's."""
    return _spec_of(tier, is_v010, effort_settings(tier, level) or {})


def _merged(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        return {**base, **{key: _merged(base.get(key), value) for key, value in over.items()}}
    return copy.deepcopy(over)


def _block(tier: Tier, json_name: str) -> Any:
    return getattr(tier, _ATTRIBUTES[json_name])


def _block_class(json_name: str) -> Any:
    annotation = Tier.model_fields[_ATTRIBUTES[json_name]].annotation
    return next(a for a in annotation.__args__ if a is not type(None))


_ATTRIBUTES = {info.alias or name: name for name, info in Tier.model_fields.items()}


def _tier_blocks(tier: Tier) -> dict[str, Any]:
    return {block: _block(tier, block).model_dump(mode="json", exclude_none=True)
            for block in k.PROVIDER_FIELDS.values() if _block(tier, block) is not None}


def _present(data: Any, parts: list[str]) -> bool:
    return _get(data, parts) is not None


def _get(data: Any, parts: list[str]) -> Any:
    for part in parts:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _spec_of(tier: Tier, is_v010: bool, effort: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ModelConfig spec of a tier (the same in every namespace), as plain data: the fields that
    have a value, and the CRD defaults of the blocks present (so Git equals what the API server stores);
    with `effort` (block -> settings), at that effort."""
    values: dict[str, Any] = {"provider": tier.provider, "model": tier.model}
    if tier.api_key_secret is not None:
        values["apiKeySecret"] = tier.api_key_secret.name
        if tier.api_key_secret.key is not None:
            values["apiKeySecretKey"] = tier.api_key_secret.key
    if tier.api_key_passthrough is not None:
        values["apiKeyPassthrough"] = tier.api_key_passthrough
    if tier.default_headers:
        values["defaultHeaders"] = dict(tier.default_headers)
    if tier.tls is not None:
        ca = tier.tls.ca_cert_secret
        tls = {"caCertSecretRef": ca.name, "caCertSecretKey": ca.key} if ca is not None else {}
        tls = {name: value for name, value in tls.items() if value is not None}
        values["tls"] = {**tls, "disableSystemCAs": tier.tls.disable_system_cas,
                         "disableVerify": tier.tls.disable_verify}
    block_name = k.PROVIDER_FIELDS[tier.provider]
    block = _block(tier, block_name)
    blocks = {block_name: block.model_dump(mode="json", by_alias=True, exclude_none=True)} if block is not None else {}
    for name, settings in (effort or {}).items():  # an effort's settings, merged over the tier's
        blocks[name] = _merged(blocks.get(name, {}), settings)
    for name, settings in blocks.items():
        if is_v010 and name == "openAI" and "apiFormat" not in settings:
            # v0.10's CRD defaults it; writing it keeps Git equal to what the API server stores.
            settings["apiFormat"] = "chatCompletions"
        values[name] = settings
    return values


def _hint(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    listed = f" (tiers: {', '.join(known)})"
    return (f"; did you mean {close[0]!r}?" if close else "") + listed


# --- the function ------------------------------------------------------------------------------------


@record
class Plan:
    """What the function will do to one managed Agent."""

    index: int
    models: ModelUses
    tier: str | None = None  # resolved main tier
    effort: str | None = None  # the effort the Agent asks for (krmfn.dev/effort); the main model's only
    requested: str | None = None  # the request to record when adopting a hand-written Agent
    memory_tier: str | None = None
    memory_requested: str | None = None
    effort_requested: str | None = None  # likewise for the effort (`model-<tier>-<effort>`)
    summarizer_tier: str | None = None
    canary: str | None = None


@record
class Environment:
    config: ModelEnvironment
    raw: dict
    rl: ResourceList
    results: list[Result] = []  # copied per instance

    def __post_init__(self) -> None:
        self.spec = self.config.spec
        self.name = self.config.environment
        self.tiers = sorted(self.spec.tiers)

    def error(self, obj: dict, path: str, message: str, severity: str = "error") -> None:
        self.results.append(Result.about(obj, path, message, severity=severity))

    def run(self) -> None:
        items = self.rl.items
        keep: list[int] = []
        unmanaged_configs: dict[tuple[str, str], dict] = {}
        agents: list[int] = []
        v1_agents: list[int] = []  # api.kagent.dev Agents: the environment names their Harness
        for index, obj in enumerate(items):
            if is_model_config(obj):
                if _is_ours(obj):
                    continue  # replaced below
                unmanaged_configs[(meta_namespace(obj), meta_name(obj))] = obj
            elif _is_agent(obj):
                agents.append(index)
            elif KObject(obj).is_a(KAGENT_V1ALPHA3, "Agent"):
                v1_agents.append(index)
            keep.append(index)

        plans: dict[int, Plan] = {}
        canary_hits: dict[int, list[str]] = {i: [] for i in range(len(self.spec.canaries))}
        for index in agents:
            plan = self._plan(items[index], index, unmanaged_configs, canary_hits)
            if plan is not None:
                plans[index] = plan
        self._canary_warnings(items, agents, canary_hits)

        # (namespace, tier, effort or "", ModelConfig apiVersion)
        used: dict[tuple[str, str, str, str], None] = {}
        for index, plan in plans.items():
            namespace = meta_namespace(items[index])
            version = KObject(items[index]).api_version
            if plan.tier is not None:
                used[(namespace, plan.tier, plan.effort or "", version)] = None
            for tier in (plan.memory_tier, plan.summarizer_tier):
                if tier is not None:
                    used[(namespace, tier, "", version)] = None
        harnesses = self._harnesses(items, v1_agents, plans)
        for tier in sorted({t for _, t, _, version in used if version == KAGENT_V1ALPHA3}):
            self._check_v1_tier(tier)
        emitted: dict[tuple[str, str], tuple[str, str]] = {}  # (namespace, name) -> (tier, effort)
        for namespace, tier, effort, _ in sorted(used):
            name = model_config_name(tier, effort)
            other = emitted.setdefault((namespace, name), (tier, effort))
            if other != (tier, effort):
                plain = name[len(MODEL_CONFIG_PREFIX):]  # the tier whose own name it is
                both = " and ".join(f"tier {t!r}" + (f" at effort {e!r}" if e else "") for t, e in (other, (tier, effort)))
                self.error(self.raw, f"spec.tiers.{plain}",
                           f"ModelConfig {namespace}/{name} would be both {both}: rename tier {plain!r}")
            clash = unmanaged_configs.get((namespace, name))
            if clash is not None:
                self.error(clash, "metadata.name",
                           f"environment {self.name} emits ModelConfig {namespace}/{name} for tier {tier!r}"
                           + (f" at effort {effort!r}" if effort else "")
                           + f", and this ModelConfig (not labelled {LABEL_MANAGED_BY}: {MANAGED_BY}) "
                           "has the same name: rename or remove it")

        self.rl.results.extend(self.results)
        if any(r.is_error for r in self.results):
            return  # the engine gives the input back

        specs = {}
        for _, tier, effort, version in used:
            is_v010 = self.spec.is_v010 or version == KAGENT_V1ALPHA3
            specs[(tier, effort, version)] = (_effort_spec(self.spec.tiers[tier], effort, is_v010) if effort
                                              else _spec_of(self.spec.tiers[tier], is_v010))
        out = [self._apply(items[i], plans[i]) if i in plans
               else _with_harness(items[i], harnesses[i]) if i in harnesses else items[i] for i in keep]
        out += [self._model_config(namespace, tier, effort, specs[(tier, effort, version)], version)
                for namespace, tier, effort, version in sorted(
                    used, key=lambda u: (u[0], model_config_name(u[1], u[2]), u[3]))]
        self.rl.items = out

    # -- kagent 1.0 ---------------------------------------------------------------------------------
    def _harnesses(self, items: list[dict], v1_agents: list[int], plans: dict[int, Plan]) -> dict[int, str]:
        """The Harness each api.kagent.dev Agent without one runs on: its template's tier's, else spec.harness."""
        tiers = {(meta_namespace(items[i]), meta_name(items[i])): plan.tier for i, plan in plans.items()
                 if KObject(items[i]).api_version == KAGENT_V1ALPHA3}
        out: dict[int, str] = {}
        for index in v1_agents:
            obj = items[index]
            agent = read_agent(obj)
            if agent is None or agent.harness or agent.harness_ref is not None:
                continue  # the author's choice stands
            template = agent.template_ref.name if agent.template_ref is not None else None
            tier = tiers.get((meta_namespace(obj), template)) if isinstance(template, str) else None
            harness = (self.spec.tiers[tier].harness if tier in self.spec.tiers else None) or self.spec.harness
            if harness is None:
                self.error(obj, ".".join(HARNESS_REF[:-1]), f"a kagent 1.0 Agent needs a Harness and environment {self.name} "
                           "names none: set spec.harness (or the tier's harness) in the ModelEnvironment")
                continue
            out[index] = harness
        return out

    def _check_v1_tier(self, tier: str) -> None:
        """ModelConfig fields kagent 1.0 dropped: refused, never dropped silently."""
        t = self.spec.tiers[tier]
        gone = []
        if t.tls is not None and (t.tls.ca_cert_secret is not None or t.tls.disable_system_cas):
            gone.append(("tls", "caCertSecret and disableSystemCAs"))
        if t.open_ai is not None and getattr(t.open_ai, "token_exchange", None) is not None:
            gone.append(("openAI.tokenExchange", "tokenExchange"))
        for field_name, what in gone:
            self.error(self.raw, f"spec.tiers[{tier}].{field_name}",
                       f"{what}: not in the kagent 1.0 ModelConfig (api.kagent.dev/v1alpha3), which a kagent 1.0 "
                       f"agent of tier {tier!r} needs; remove it or give those agents another tier")

    # -- per Agent ----------------------------------------------------------------------------------
    def _plan(self, obj: dict, index: int, unmanaged: dict[tuple[str, str], dict],
              canary_hits: dict[int, list[str]]) -> Plan | None:
        models = read_models(obj)
        if models is None:  # a BYO Agent (no model), or no declarative section
            self._note_canaries(obj, index, canary_hits, managed=False)
            return None
        annotations = _annotations(obj)
        plan = Plan(index, models)
        requested = annotations.get(ANNOTATION_MODEL_TIER)
        effort = annotations.get(ANNOTATION_EFFORT)
        if requested is None:
            requested, named_effort = self._tier_and_effort_of(models.main.name)
            if requested is None:
                self._unmanaged_warning(obj, models.main.name, models.main.path, unmanaged)
                self._note_canaries(obj, index, canary_hits, managed=False)
                return None
            plan.requested = requested
            if effort is None and named_effort is not None:
                effort = plan.effort_requested = named_effort
        namespace = meta_namespace(obj)
        if not namespace:
            self.error(obj, "metadata.namespace", "required: the Agent's ModelConfig is emitted in its namespace "
                                                  "(set it, or the kustomization's namespace:)")
            return None
        field = f"metadata.annotations[{ANNOTATION_MODEL_TIER}]" if plan.requested is None else models.main.path
        plan.tier = self._resolve(obj, requested, field)
        canaries = self._note_canaries(obj, index, canary_hits, managed=True)
        canary = None
        if len(canaries) > 1:
            names = " and ".join(repr(self.spec.canaries[c].name) for c in canaries)
            self.error(obj, "metadata.name", f"selected by canaries {names}; an agent may be in one canary only")
        elif canaries:
            canary = self.spec.canaries[canaries[0]]
            plan.canary, plan.tier = canary.name, canary.tier
        plan.effort = self._effort(obj, effort, plan.tier, canary)

        if models.memory is not None:
            memory_requested = annotations.get(ANNOTATION_MEMORY_TIER)
            field = f"metadata.annotations[{ANNOTATION_MEMORY_TIER}]"
            if memory_requested is None:
                memory_requested = self._tier_of(models.memory.name)
                plan.memory_requested = memory_requested
                field = models.memory.path
                if memory_requested is None:
                    self._unmanaged_warning(obj, models.memory.name, field, unmanaged)
            if memory_requested is not None:
                plan.memory_tier = self._resolve(obj, memory_requested, field, memory=True)

        if models.summarizer is not None:
            summarizer_requested = self._tier_of(models.summarizer.name)
            if summarizer_requested is not None:
                plan.summarizer_tier = self._resolve(obj, summarizer_requested, models.summarizer.path)
            else:
                self._unmanaged_warning(obj, models.summarizer.name, models.summarizer.path, unmanaged)
        return plan

    def _effort(self, obj: dict, effort: Any, tier: str | None, canary: Canary | None) -> str | None:
        """The effort the Agent asks for, if the tier it runs on here can give it (else an error)."""
        if effort is None:
            return None
        field = f"metadata.annotations[{ANNOTATION_EFFORT}]"
        source = _annotations(obj).get(ANNOTATION_SOURCE)
        origin = f" (asked for by spec.effort of {source})" if source else ""
        if effort not in k.EFFORT_LEVELS:
            self.error(obj, field, f"effort {effort!r}{origin} is not a level" + _did_you_mean(str(effort), k.EFFORT_LEVELS)
                       + f" (levels: {', '.join(k.EFFORT_LEVELS)})")
            return None
        if tier is None:
            return None  # the unknown tier is reported
        spec = self.spec.tiers[tier]
        if effort_settings(spec, effort) is None:
            moved = f" (canary {canary.name!r})" if canary is not None else ""
            with_one = sorted(k.EFFORT_SETTINGS)
            specific = k.EFFORT_MODEL_SPECIFIC.get(spec.provider)
            why = (f"provider {spec.provider} has no default (its {specific} depend on the model)" if specific
                   else f"the kagent ModelConfig of provider {spec.provider} has no effort setting")
            self.error(obj, field,
                       f"effort {effort!r}{origin} has no setting on tier {tier!r}{moved} of environment {self.name}: "
                       f"{why}; map it in "
                       f"spec.tiers.{tier}.efforts.{effort} of the ModelEnvironment, or run the agent on a tier "
                       f"whose provider has one ({', '.join(with_one)})")
            return None
        return effort

    def _tier_and_effort_of(self, model_config: str) -> tuple[str | None, str | None]:
        """What a hand-written Agent's `model-<tier>` or `model-<tier>-<effort>` asks for (a tier
        named so wins), if the tier is one of this environment's."""
        tier = self._tier_of(model_config)
        if tier is not None or not model_config.startswith(MODEL_CONFIG_PREFIX):
            return tier, None
        base, _, level = model_config.rpartition("-")
        if level in k.EFFORT_LEVELS and self._tier_of(base) is not None:
            return self._tier_of(base), level
        return None, None

    def _tier_of(self, model_config: Any) -> str | None:
        """The tier a `model-<tier>` ModelConfig name asks for, if it is one of this environment's."""
        if not isinstance(model_config, str) or not model_config.startswith(MODEL_CONFIG_PREFIX):
            return None
        tier = model_config[len(MODEL_CONFIG_PREFIX):]
        return tier if tier in self.spec.tiers or tier == DEFAULT_TIER else None

    def _resolve(self, obj: dict, requested: str, field: str, *, memory: bool = False) -> str | None:
        if requested in self.spec.tiers:
            return requested
        if requested == DEFAULT_TIER:
            if memory and self.spec.default_memory_tier:
                return self.spec.default_memory_tier
            return self.spec.default_tier or self.tiers[0]  # check_config guarantees one tier then
        origin = ""
        source = _annotations(obj).get(ANNOTATION_SOURCE)
        if source and field.startswith("metadata.annotations"):
            what = "spec.memory.model" if ANNOTATION_MEMORY_TIER in field else "spec.model"
            origin = f" (asked for by {what} of {source})"
        self.error(obj, field, f"tier {requested!r}{origin} is not defined in environment {self.name}"
                   + _hint(requested, self.tiers))
        return None

    def _unmanaged_warning(self, obj: dict, model_config: Any, path: str,
                           unmanaged: dict[tuple[str, str], dict]) -> None:
        """A `model-...` reference that is neither a tier here nor a ModelConfig of the input: likely a typo."""
        if (isinstance(model_config, str) and model_config.startswith(MODEL_CONFIG_PREFIX)
                and (meta_namespace(obj), model_config) not in unmanaged):
            tier = model_config[len(MODEL_CONFIG_PREFIX):]
            self.error(obj, path, f"ModelConfig {model_config!r} is not in the input and {tier!r} is not a tier of "
                       f"environment {self.name}{_hint(tier, self.tiers)}; left as is", severity=WARNING)

    def _note_canaries(self, obj: dict, index: int, hits: dict[int, list[str]], *, managed: bool) -> list[int]:
        """The canaries selecting this Agent; records hits (or warns about unmanaged agents)."""
        name, namespace = meta_name(obj), meta_namespace(obj)
        labels = _labels(obj)
        selected = []
        for c, canary in enumerate(self.spec.canaries):
            if _selects(canary, name, namespace, labels):
                if managed:
                    selected.append(c)
                    hits[c].append(f"{namespace}/{name}")
                else:
                    hits[c].append("")  # reported here; not "selects nothing" as well
                    self.error(self.raw, f"spec.canaries[{c}]",
                               f"canary {canary.name!r} selects Agent {namespace}/{name}, whose model this "
                               "environment does not manage (a BYO agent, or one with its own ModelConfig)",
                               severity=WARNING)
        return selected

    def _canary_warnings(self, items: list[dict], agents: list[int], hits: dict[int, list[str]]) -> None:
        present = {(meta_namespace(items[i]), meta_name(items[i])) for i in agents}
        for c, canary in enumerate(self.spec.canaries):
            if not hits[c]:
                self.error(self.raw, f"spec.canaries[{c}]",
                           f"canary {canary.name!r} selects no managed Agent in this render; it has no effect",
                           severity=WARNING)
                continue
            for a, reference in enumerate(canary.agents):
                if not any(_reference_matches(reference, name, namespace) for namespace, name in present):
                    self.error(self.raw, f"spec.canaries[{c}].agents[{a}]",
                               f"no Agent {reference} in this render", severity=WARNING)

    def _apply(self, obj: dict, plan: Plan) -> dict:
        out = copy.deepcopy(obj)
        meta = out.setdefault("metadata", {})
        annotations = meta.get("annotations")
        if not isinstance(annotations, dict):
            annotations = meta["annotations"] = {}
        models = plan.models
        _put(out, models.main.keys, model_config_name(plan.tier, plan.effort))
        if plan.requested is not None:
            annotations[ANNOTATION_MODEL_TIER] = plan.requested
        if plan.effort_requested is not None:
            annotations[ANNOTATION_EFFORT] = plan.effort_requested
        if plan.memory_tier is not None and models.memory is not None:
            _put(out, models.memory.keys, model_config_name(plan.memory_tier))
            if plan.memory_requested is not None:
                annotations[ANNOTATION_MEMORY_TIER] = plan.memory_requested
        if plan.summarizer_tier is not None and models.summarizer is not None:
            _put(out, models.summarizer.keys, model_config_name(plan.summarizer_tier))
        annotations[ANNOTATION_ENVIRONMENT] = self.name
        if plan.canary is not None:
            annotations[ANNOTATION_CANARY] = plan.canary
        else:
            annotations.pop(ANNOTATION_CANARY, None)
        return out

    def _model_config(self, namespace: str, tier: str, effort: str, spec: dict[str, Any], api_version: str) -> dict:
        labels = {LABEL_MANAGED_BY: MANAGED_BY, LABEL_MODEL_TIER: tier}
        if effort:
            labels[ANNOTATION_EFFORT] = effort  # the same key labels the ModelConfigs of an effort
        meta = {"name": model_config_name(tier, effort), "namespace": namespace, "labels": labels,
                "annotations": {ANNOTATION_ENVIRONMENT: self.name}}
        # One copy per namespace: the items must not share mutable parts.
        return {"apiVersion": api_version, "kind": k.MODELCONFIG_KIND, "metadata": meta,
                "spec": copy.deepcopy(spec)}


def _put(obj: dict, keys: tuple[str, ...], value: str) -> None:
    """Set the field the reader found; a parent that is missing or not a map (a 1.0 template
    without a modelConfig) becomes one."""
    for key in keys[:-1]:
        if not isinstance(obj.get(key), dict):
            obj[key] = {}
        obj = obj[key]
    obj[keys[-1]] = value


def _selects(canary: Canary, name: str, namespace: str, labels: dict) -> bool:
    if canary.selector is not None:
        return canary.selector.matches({str(k_): str(v) for k_, v in labels.items()})
    return any(_reference_matches(reference, name, namespace) for reference in canary.agents)


def _reference_matches(reference: str, name: str, namespace: str) -> bool:
    return reference == f"{namespace}/{name}" if "/" in reference else reference == name


def _annotations(obj: dict) -> dict:
    return as_dict(KObject(obj).metadata.get("annotations"))


def _labels(obj: dict) -> dict:
    return as_dict(KObject(obj).metadata.get("labels"))


def _is_agent(obj: dict) -> bool:
    """What carries a model: a 0.x Agent, or a kagent 1.0 AgentTemplate."""
    return KObject(obj).is_a(KAGENT_V1ALPHA2, "Agent") or _is_template(obj)


def _is_template(obj: dict) -> bool:
    return KObject(obj).is_a(KAGENT_V1ALPHA3, AGENTTEMPLATE_KIND)


def _with_harness(obj: dict, harness: str) -> dict:
    out = copy.deepcopy(obj)
    _put(out, HARNESS_REF, harness)
    return out


def _is_ours(obj: dict) -> bool:
    labels = _labels(obj)
    return labels.get(LABEL_MANAGED_BY) == MANAGED_BY and LABEL_MODEL_TIER in labels
