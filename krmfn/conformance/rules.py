"""The `x-kubernetes-validations` CEL rules of a CRD schema: each compiled once (the expression
compiler is `cel.py`), then run on a node as the API server runs them: skipped below a blocking
schema error or inside a list over its maxItems, transition rules not on create, with the API
server's per-call cost limit and per-object budget, and its messages.
"""

from __future__ import annotations

import re
from typing import Any

from .cel import PER_CALL_LIMIT, CELCostExceeded, CELError, CELUnsupported, Program, compile_rule
from .formats import format_value
from ..runtime.record import record


@record(frozen=True)
class RuleInfo:
    """One `x-kubernetes-validations` rule as compiled (for listing and tests)."""

    schema_path: str  # e.g. ".spec.declarative.tools[]"
    rule: str
    message: str  # the message reported when the rule fails
    field_path: str = ""
    supported: bool = True
    reason: str = ""  # why it is unsupported
    transition: bool = False  # uses oldSelf: not evaluated on create
    has_message: bool = False  # the rule has its own message (the API server names a rule by it)

    @property
    def message_or_rule(self) -> str:
        return self.message if self.has_message else " ".join(self.rule.split())


class _Rule:
    __slots__ = ("info", "program", "suffix", "named")

    def __init__(self, info: RuleInfo, program: Program | None, suffix: str, named: str):
        self.info, self.program, self.suffix = info, program, suffix
        self.named = named  # how evaluation errors name the rule: its message, else its text


def compile_rules(s: dict, spath: str, infos: list[RuleInfo]) -> list[_Rule]:
    """The x-kubernetes-validations of schema node `s`, each compiled once; each rule's RuleInfo is
    appended to `infos` (a schema's list of its rules)."""
    out: list[_Rule] = []
    for r in s.get("x-kubernetes-validations") or ():
        if not isinstance(r, dict):
            continue
        text = r.get("rule")
        message = (r.get("message") or "").strip()
        field_path = r.get("fieldPath") or ""
        msg = message or f"failed rule: {' '.join(str(text).split())}"
        program: Program | None = None
        reason = ""
        try:
            program = compile_rule(text)
        except CELUnsupported as e:
            reason = str(e)
        except Exception as e:  # pragma: no cover - a parser bug must still be loud
            reason = f"{type(e).__name__}: {e}"
        info = RuleInfo(
            schema_path=spath or ".", rule=str(text), message=msg, field_path=field_path,
            supported=program is not None, reason=reason,
            transition=bool(program is not None and program.uses_old_self), has_message=bool(message),
        )
        infos.append(info)
        out.append(_Rule(info, program, _field_path_suffix(field_path), message or str(text).strip()))
    return out


def iter_rules(schema: Any, path: str = ""):
    """Yield (schema_path, rule_dict) for every x-kubernetes-validations entry of a schema."""
    if not isinstance(schema, dict):
        return
    for r in schema.get("x-kubernetes-validations") or ():
        yield path, r
    for k, v in (schema.get("properties") or {}).items():
        yield from iter_rules(v, f"{path}.{k}")
    if isinstance(schema.get("items"), dict):
        yield from iter_rules(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from iter_rules(schema["additionalProperties"], f"{path}{{}}")
    for kw in ("allOf", "anyOf", "oneOf"):
        for i, sub in enumerate(schema.get(kw) or ()):
            yield from iter_rules(sub, f"{path}<{kw}[{i}]>")
    if isinstance(schema.get("not"), dict):
        yield from iter_rules(schema["not"], f"{path}<not>")


def _field_path_suffix(field_path: str) -> str:
    """`.foo.bar` / `['foo.bar']` -> `.foo.bar` / `[foo.bar]` appended to the node path."""
    if not field_path:
        return ""
    out = re.sub(r"\[\s*'([^']*)'\s*\]", r"[\1]", field_path)
    return out if out.startswith((".", "[")) else "." + out


# The API server's words when an object's rules together cost too much (apiextensions-apiserver).
_OUT_OF_BUDGET = "Invalid value: \"object\": validation failed due to running out of cost budget, no further validation rules will be run"


def rule_runner(rules: list[_Rule]):
    """`run(value, path, ctx, b0)` for a node's rules, or None when it has none: the schema checker's
    `ctx` holds the errors, the blocking count (b0: before this node) and the cost budget."""
    if not rules:
        return None
    rules_t = tuple(rules)

    def run(value, path, ctx, b0):
        if (ctx.blocking != b0 and not ctx.cel_on_invalid) or ctx.over_max_items:
            ctx.cel_skipped += 1
            return
        if ctx.cel_budget < 0:
            return  # the budget ran out: as the API server, no further rules run
        if ctx.cel_budget == 0:
            ctx.err(path, _OUT_OF_BUDGET, "cel")
            ctx.cel_budget = -1
            return
        act = {"self": value}
        for r in rules_t:
            info = r.info
            where = path + r.suffix if path or not r.suffix else r.suffix.lstrip(".")
            prog = r.program
            if prog is None:
                ctx.err(where, f"rule cannot be checked offline (unsupported CEL: {info.reason}): {info.rule}", "cel")
                continue
            if prog.uses_old_self:
                continue  # transition rules do not apply on create
            limit = min(PER_CALL_LIMIT, ctx.cel_budget)
            try:
                res, cost = prog.run(act, limit)
                ctx.cel_budget -= cost
            except CELCostExceeded:
                ctx.cel_budget = -1
                if limit == PER_CALL_LIMIT:
                    ctx.err(path, "'operation cancelled: actual cost limit exceeded': no further validation rules "
                                  f"will be run due to call cost exceeds limit for rule: {info.message_or_rule}", "cel")
                else:
                    ctx.err(path, _OUT_OF_BUDGET, "cel")
                return
            except CELError as e:
                ctx.err(where, f"{e} evaluating rule: {r.named}", "cel")  # the API server's ruleErrorString
                continue
            except (RecursionError, TypeError, ValueError, AttributeError) as e:  # evaluator bug: stay loud
                ctx.err(where, f"internal error ({type(e).__name__}: {e}) evaluating rule: {info.rule}", "cel")
                continue
            if res is True:
                continue
            if res is False:
                ctx.err(where, info.message, "cel")
            else:
                ctx.err(where, f"rule did not evaluate to a bool ({format_value(res)}): {info.rule}", "cel")

    return run
