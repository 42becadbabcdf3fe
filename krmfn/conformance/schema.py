"""Structural validation of one object against a CRD version's openAPIV3Schema, as the API server
does it on create: defaulting, then OpenAPI value validation, then every `x-kubernetes-validations`
CEL rule.

The schema is compiled ONCE into a tree of checker closures (`ObjectValidator`, cached per CRD
version by `CRDIndex.validator`); every CEL rule is compiled once and run by `rules.py` (the
expression compiler is `cel.py`). A checker is `check(value, path, ctx) -> value'` where `value'`
is the value after structural defaulting (the same object when nothing was defaulted), so CEL
rules see what the API server's rules would see.

Behaviour that mirrors the API server (kube-openapi + apiextensions-apiserver):
- defaults are applied before validation; a `null` in a non-nullable field is dropped (or
  defaulted when the field has a default), so `required` then reports it;
- type errors (`Invalid value: "string": spec.x in body must be of type integer: "string"`) and
  enum errors (`Unsupported value: ...`) are "blocking": the API server then skips CEL rules. Here
  rules are skipped only on nodes whose own subtree has a blocking error, so independent rules
  elsewhere in the object are still reported (`cel_on_invalid=True` evaluates them anyway);
- a rule on a field runs only when the field is present; rule failures report the rule's
  `message` (or `failed rule: <rule>`), at the node's path plus the rule's `fieldPath`;
  evaluation errors report `<error> evaluating rule: <the rule's message, else the rule>`;
  transition rules (`oldSelf`) do not apply on create and are skipped;
- `format`: only the formats the API server keeps are checked (uri, date-time, byte, date, uuid,
  ipv4, ipv6, cidr, mac, hostname, email, duration, ...); integer/number formats (int32, int64,
  float, double) are stripped by the API server and so are not range-checked beyond int64.
Differences, on purpose: a field the schema does not declare is an error (the API server prunes
it silently, which loses what the author meant), and so is `status` content when the CRD has a
status subresource (reported as a warning: the API server drops it on create).
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
import re
from typing import TYPE_CHECKING, Any, Callable

from ..runtime.results import ERROR, WARNING, Result
from .regex import python_pattern
from .cel import PER_OBJECT_BUDGET
from .formats import FORMATS, format_value
from .rules import RuleInfo, compile_rules, iter_rules, rule_runner  # noqa: F401  (RuleInfo, iter_rules: public)
from ..names import (  # noqa: F401  (qualified_name_errors, label_value_errors: the checker's public API)
    TOTAL_ANNOTATION_SIZE_LIMIT, dns1123_label_errors, dns1123_subdomain_errors, label_value_errors,
    qualified_name_errors,
)

if TYPE_CHECKING:  # only a type: crds.py imports this module when it compiles a schema
    from .crds import CRDVersion

__all__ = [
    "ObjectValidator",
    "RuleInfo",
    "SchemaValidator",
    "iter_rules",
    "format_value",
]

Checker = Callable[[Any, str, "_Ctx"], Any]
_MISSING = object()
_BAD = object()
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# ObjectMeta fields accepted in a manifest (strict decoding rejects anything else).
OBJECT_META_FIELDS = frozenset(
    (
        "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
        "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
        "annotations", "ownerReferences", "finalizers", "managedFields",
    )
)



# ------------------------------------------------------------------------------------------
# public API


MAX_PROBLEMS_PER_OBJECT = 20  # then one "... and N more problems" line


class _Ctx:
    __slots__ = ("errors", "blocking", "apply_defaults", "cel_on_invalid", "cel_skipped", "cel_budget",
                 "over_max_items")

    def __init__(self, apply_defaults: bool = True, cel_on_invalid: bool = False):
        self.errors: list[tuple[str, str, str]] = []  # (path, message, check)
        self.blocking = 0
        self.apply_defaults = apply_defaults
        self.cel_on_invalid = cel_on_invalid
        self.cel_skipped = 0
        self.cel_budget = PER_OBJECT_BUDGET  # what this object's rules may still cost; < 0: spent
        self.over_max_items = 0  # inside a list longer than its maxItems: no rules run there

    def err(self, path: str, message: str, check: str = "schema") -> None:
        self.errors.append((path, message, check))

    def block(self, path: str, message: str) -> None:
        self.blocking += 1
        self.errors.append((path, message, "schema"))


class SchemaValidator:
    """A compiled openAPIV3Schema (any node, not only a whole object)."""

    def __init__(self, schema: dict, *, root: bool = False, name: str = ""):
        self.name = name
        self.rules: list[RuleInfo] = []
        self._compiler = _Compiler(self.rules)
        self.check: Checker = self._compiler.compile(schema if isinstance(schema, dict) else {}, "", root=root)

    @property
    def unsupported_rules(self) -> list[RuleInfo]:
        return [r for r in self.rules if not r.supported]

    def errors(self, value: Any, *, apply_defaults: bool = True, cel_on_invalid: bool = False,
               path: str = "") -> list[tuple[str, str, str]]:
        """(field path, message, check) for every problem; check is "schema" or "cel"."""
        ctx = _Ctx(apply_defaults, cel_on_invalid)
        self.check(value, path, ctx)
        return ctx.errors

    def defaulted(self, value: Any) -> Any:
        """The value after structural defaulting (input is never modified)."""
        return self.check(value, "", _Ctx(True, False))


class ObjectValidator(SchemaValidator):
    """The compiled schema of one served CRD version; validates whole objects."""

    def __init__(self, crd: CRDVersion):
        self.crd = crd
        super().__init__(crd.schema, root=True, name=f"{crd.api_version} {crd.kind}")

    def validate(self, obj: Any, *, apply_defaults: bool = True, cel_on_invalid: bool = False) -> list[Result]:
        results: list[Result] = []
        view = obj
        if self.crd.status_subresource and isinstance(obj, dict) and "status" in obj:
            view = {k: v for k, v in obj.items() if k != "status"}
            results.append(Result.about(
                obj, "status",
                "status is ignored: the API server drops it on create (status subresource)",
                severity=WARNING, check="schema",
            ))
        if self.crd.deprecated:
            text = self.crd.deprecation_warning or (
                f"{self.crd.api_version} {self.crd.kind} is deprecated"
            )
            results.append(Result.about(obj, "apiVersion", text, severity=WARNING, check="schema"))
        ctx = _Ctx(apply_defaults, cel_on_invalid)
        self.check(view, "", ctx)
        for path, message, check in ctx.errors[:MAX_PROBLEMS_PER_OBJECT]:
            results.append(Result.about(obj, path, message, severity=ERROR, check=check))
        more = len(ctx.errors) - MAX_PROBLEMS_PER_OBJECT
        if more > 0:  # 30,000 bad entries are one mistake repeated, not 30,000 lines to read
            results.append(Result.about(obj, "", f"... and {more:,} more problem{'s' if more != 1 else ''} "
                                                 f"(the first {MAX_PROBLEMS_PER_OBJECT} are shown)",
                                        severity=ERROR, check="schema"))
        return results


# ------------------------------------------------------------------------------------------
# helpers


def _json_kind(v: Any) -> str:
    t = type(v)
    if t is str:
        return "string"
    if t is bool:
        return "boolean"
    if t is int:
        return "integer"
    if t is float:
        return "number"
    if t is dict:
        return "object"
    if t is list:
        return "array"
    if v is None:
        return "null"
    if isinstance(v, (_dt.date, _dt.datetime)):
        return "string"
    return t.__name__


def _in_body(path: str) -> str:
    return f"{path or '<root>'} in body"


def _type_error(ctx: _Ctx, path: str, expected: str, v: Any) -> None:
    kind = _json_kind(v)
    ctx.block(path, f'Invalid value: "{kind}": {_in_body(path)} must be of type {expected}: "{kind}"')


def _copy(v: Any) -> Any:
    return copy.deepcopy(v) if isinstance(v, (dict, list)) else v


def _norm_str(v: Any) -> Any:
    t = type(v)
    if t is str:
        return v
    if isinstance(v, _dt.datetime):  # YAML timestamps reach the API server as JSON strings
        return v.isoformat().replace("+00:00", "Z")
    if isinstance(v, _dt.date):
        return v.isoformat()
    return _BAD


def _norm_int(v: Any) -> Any:
    t = type(v)
    if t is int:
        return v if INT64_MIN <= v <= INT64_MAX else _BAD
    if t is float and v.is_integer() and INT64_MIN <= v <= INT64_MAX:
        return int(v)  # kubectl's YAML->JSON conversion turns 1.0 into 1
    return _BAD


def _norm_num(v: Any) -> Any:
    t = type(v)
    return v if t is int or t is float else _BAD


def _norm_bool(v: Any) -> Any:
    return v if type(v) is bool else _BAD


def _norm_int_or_string(v: Any) -> Any:
    if type(v) is str:
        return v
    n = _norm_int(v)
    if n is not _BAD:
        return n
    return _norm_str(v)


_NORMALIZERS: dict[str, tuple[Callable[[Any], Any], type | None]] = {
    "string": (_norm_str, str),
    "integer": (_norm_int, int),
    "number": (_norm_num, None),
    "boolean": (_norm_bool, bool),
}


def _json_equal(a: Any, b: Any) -> bool:
    ta, tb = type(a), type(b)
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if ta in (int, float) and tb in (int, float):
        return a == b
    if ta is not tb:
        return False
    if ta is list:
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b))
    if ta is dict:
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    return a == b


def _hashable(v: Any) -> Any:
    if isinstance(v, dict):
        return ("{}", tuple(sorted((k, _hashable(x)) for k, x in v.items())))
    if isinstance(v, list):
        return ("[]", tuple(_hashable(x) for x in v))
    if isinstance(v, bool):
        return ("b", v)
    if isinstance(v, (int, float)):
        return ("n", float(v))
    return ("s", v)




# ------------------------------------------------------------------------------------------
# compiler


class _Compiler:
    def __init__(self, rules: list[RuleInfo]):
        self.rules = rules

    # entry --------------------------------------------------------------------------------
    def compile(self, s: dict, spath: str, *, root: bool = False, junctor: bool = False,
                metadata: bool = False, embedded_meta: bool = False) -> Checker:
        if not isinstance(s, dict):
            s = {}
        if metadata:
            return self._metadata(s, spath, strict_name=not embedded_meta)
        typ = s.get("type")
        if s.get("x-kubernetes-int-or-string") is True:
            typ = "int-or-string"
        nullable = s.get("nullable") is True
        checks = self._value_checks(s, spath, typ, junctor)
        rules = [] if junctor else compile_rules(s, spath, self.rules)
        if typ == "object" or (typ is None and any(k in s for k in ("properties", "additionalProperties", "required"))):
            return self._object(s, spath, nullable, checks, rules, root=root, junctor=junctor,
                                typed=typ == "object")
        if typ == "array":
            return self._array(s, spath, nullable, checks, rules, junctor)
        return self._scalar(typ, nullable, checks, rules, s)

    # value validations (type-independent list of closures) ----------------------------------
    def _value_checks(self, s: dict, spath: str, typ: Any, junctor: bool) -> list[Callable]:
        checks: list[Callable] = []
        enum = s.get("enum")
        if isinstance(enum, list) and enum:
            allowed = list(enum)
            shown = ", ".join(json.dumps(e) if isinstance(e, str) else
                              json.dumps(e, separators=(",", ":")) for e in allowed)
            str_set = frozenset(e for e in allowed if isinstance(e, str))
            only_str = len(str_set) == len(allowed)

            def enum_check(v, path, ctx):
                if only_str and type(v) is str:
                    if v in str_set:
                        return
                elif any(_json_equal(v, e) for e in allowed):
                    return
                ctx.block(path, f"Unsupported value: {format_value(v)}: supported values: {shown}")

            checks.append(enum_check)
        # strings
        max_len, min_len = s.get("maxLength"), s.get("minLength")
        pattern, fmt = s.get("pattern"), s.get("format")
        if isinstance(max_len, int):
            def max_len_check(v, path, ctx, n=max_len):
                if type(v) is str and len(v) > n:
                    ctx.err(path, f"Invalid value: {format_value(v)}: must be no more than {n} characters")
            checks.append(max_len_check)
        if isinstance(min_len, int) and min_len > 0:
            def min_len_check(v, path, ctx, n=min_len):
                if type(v) is str and len(v) < n:
                    ctx.err(path, f"Invalid value: {format_value(v)}: {_in_body(path)} should be at least {n} chars long")
            checks.append(min_len_check)
        if isinstance(pattern, str):
            try:
                rx = re.compile(python_pattern(pattern))  # Go RE2 syntax, as the API server reads it
            except re.error as e:
                reason = str(e)

                def bad_pattern(v, path, ctx, p=pattern):
                    if type(v) is str:
                        ctx.err(path, f"cannot check pattern '{p}' offline: {reason}")
                checks.append(bad_pattern)
            else:
                def pattern_check(v, path, ctx, rx=rx, p=pattern):
                    if type(v) is str and rx.search(v) is None:
                        ctx.err(path, f"Invalid value: {format_value(v)}: {_in_body(path)} should match '{p}'")
                checks.append(pattern_check)
        if isinstance(fmt, str):
            fn = FORMATS.get(fmt.replace("-", ""))
            if fn is not None:
                def format_check(v, path, ctx, fn=fn, f=fmt):
                    if type(v) is str and not fn(v):
                        ctx.err(path, f"Invalid value: {format_value(v)}: {_in_body(path)} must be of type {f}: {format_value(v)}")
                checks.append(format_check)
        # numbers
        maximum, minimum = s.get("maximum"), s.get("minimum")
        if isinstance(maximum, (int, float)) and not isinstance(maximum, bool):
            excl = s.get("exclusiveMaximum") is True

            def max_check(v, path, ctx, m=maximum, excl=excl):
                if type(v) in (int, float) and (v >= m if excl else v > m):
                    word = "less than" if excl else "less than or equal to"
                    ctx.err(path, f"Invalid value: {format_value(v)}: {_in_body(path)} should be {word} {_num(m)}")
            checks.append(max_check)
        if isinstance(minimum, (int, float)) and not isinstance(minimum, bool):
            excl = s.get("exclusiveMinimum") is True

            def min_check(v, path, ctx, m=minimum, excl=excl):
                if type(v) in (int, float) and (v <= m if excl else v < m):
                    word = "greater than" if excl else "greater than or equal to"
                    ctx.err(path, f"Invalid value: {format_value(v)}: {_in_body(path)} should be {word} {_num(m)}")
            checks.append(min_check)
        mult = s.get("multipleOf")
        if isinstance(mult, (int, float)) and not isinstance(mult, bool) and mult > 0:
            def mult_check(v, path, ctx, m=mult):
                if type(v) in (int, float):
                    q = v / m
                    if q != int(q):
                        ctx.err(path, f"Invalid value: {format_value(v)}: {_in_body(path)} should be a multiple of {_num(m)}")
            checks.append(mult_check)
        # arrays
        max_items, min_items = s.get("maxItems"), s.get("minItems")
        if isinstance(max_items, int):
            def max_items_check(v, path, ctx, n=max_items):
                if type(v) is list and len(v) > n:
                    ctx.err(path, f"Too many: {len(v)}: must have at most {n} items")
            checks.append(max_items_check)
        if isinstance(min_items, int) and min_items > 0:
            def min_items_check(v, path, ctx, n=min_items):
                if type(v) is list and len(v) < n:
                    ctx.err(path, f"Invalid value: {len(v)}: {_in_body(path)} should have at least {n} items")
            checks.append(min_items_check)
        if s.get("uniqueItems") is True:
            def unique_check(v, path, ctx):
                if type(v) is list and len({_hashable(x) for x in v}) != len(v):
                    ctx.err(path, f"Invalid value: {format_value(v)}: {_in_body(path)} shouldn't contain duplicates")
            checks.append(unique_check)
        # objects
        max_props, min_props = s.get("maxProperties"), s.get("minProperties")
        if isinstance(max_props, int):
            def max_props_check(v, path, ctx, n=max_props):
                if type(v) is dict and len(v) > n:
                    ctx.err(path, f"Too many: {len(v)}: must have at most {n} items")
            checks.append(max_props_check)
        if isinstance(min_props, int) and min_props > 0:
            def min_props_check(v, path, ctx, n=min_props):
                if type(v) is dict and len(v) < n:
                    ctx.err(path, f"Invalid value: {len(v)}: {_in_body(path)} should have at least {n} properties")
            checks.append(min_props_check)
        # junctors (structural schemas allow them for value validation only)
        for kw in ("allOf", "anyOf", "oneOf"):
            subs = s.get(kw)
            if isinstance(subs, list) and subs:
                branches = [self.compile(b, f"{spath}<{kw}[{i}]>", junctor=True) for i, b in enumerate(subs)]
                checks.append(_junctor(kw, branches))
        if isinstance(s.get("not"), dict):
            branch = self.compile(s["not"], f"{spath}<not>", junctor=True)

            def not_check(v, path, ctx, branch=branch):
                if _passes(branch, v, path, ctx):
                    ctx.err(path, f"Invalid value: {format_value(v)}: {_in_body(path)} must not validate the schema (not)")
            checks.append(not_check)
        return checks

    # scalars --------------------------------------------------------------------------------
    def _scalar(self, typ: Any, nullable: bool, checks: list, rules: list, s: dict) -> Checker:
        if typ == "int-or-string":
            norm, fast_type, expected = _norm_int_or_string, str, "integer,string"
        elif typ in _NORMALIZERS:
            norm, fast_type = _NORMALIZERS[typ]
            expected = typ
        elif typ in (None, ""):
            norm, fast_type, expected = None, None, ""
        else:
            bad = str(typ)

            def unknown_type(v, path, ctx):
                ctx.err(path, f"cannot check: the schema declares unknown type {bad!r}")
                return v

            return unknown_type

        run_rules = rule_runner(rules)

        def slow(v, path, ctx):
            if v is None:
                if nullable or norm is None:
                    return v
                _type_error(ctx, path, expected, v)
                return v
            b0 = ctx.blocking
            if norm is not None:
                nv = norm(v)
                if nv is _BAD:
                    _type_error(ctx, path, expected, v)
                    return v
            else:
                nv = v
            for c in checks:
                c(nv, path, ctx)
            if run_rules is not None:
                run_rules(nv, path, ctx, b0)
            return nv

        if not checks and run_rules is None and fast_type is not None:
            def fast(v, path, ctx):
                if type(v) is fast_type:
                    return v
                return slow(v, path, ctx)
            return fast
        return slow

    # arrays ---------------------------------------------------------------------------------
    def _array(self, s: dict, spath: str, nullable: bool, checks: list, rules: list, junctor: bool) -> Checker:
        items_schema = s.get("items")
        item = self.compile(items_schema, f"{spath}[]", junctor=junctor) if isinstance(items_schema, dict) else None
        list_type = s.get("x-kubernetes-list-type")
        map_keys = tuple(s.get("x-kubernetes-list-map-keys") or ())
        run_rules = rule_runner(rules)
        max_items = s.get("maxItems") if isinstance(s.get("maxItems"), int) else None

        def check(v, path, ctx):
            if type(v) is not list:
                if v is None and nullable:
                    return v
                _type_error(ctx, path, "array", v)
                return v
            b0 = ctx.blocking
            out = None
            # Over maxItems, the API server runs no CEL rule on the list or in it (their cost would
            # be unbounded): the "Too many" error stands alone.
            over = max_items is not None and len(v) > max_items
            ctx.over_max_items += over
            if item is not None:
                for i, x in enumerate(v):
                    nx = item(x, f"{path}[{i}]", ctx)
                    if nx is not x:
                        if out is None:
                            out = list(v)
                        out[i] = nx
            cur = v if out is None else out
            for c in checks:
                c(cur, path, ctx)
            if list_type == "set":
                seen: dict = {}
                for i, x in enumerate(cur):
                    h = _hashable(x)
                    if h in seen:
                        ctx.err(f"{path}[{i}]", f"Duplicate value: {format_value(x)}")
                    else:
                        seen[h] = i
            elif list_type == "map" and map_keys:
                seen = {}
                for i, x in enumerate(cur):
                    if type(x) is not dict:
                        continue
                    key = tuple(_hashable(x.get(k)) for k in map_keys)
                    if key in seen:
                        shown = {k: x.get(k) for k in map_keys if k in x}
                        ctx.err(f"{path}[{i}]", f"Duplicate value: {format_value(shown)}")
                    else:
                        seen[key] = i
            if run_rules is not None:
                run_rules(cur, path, ctx, b0)
            ctx.over_max_items -= over
            return cur

        return check

    # objects --------------------------------------------------------------------------------
    def _object(self, s: dict, spath: str, nullable: bool, checks: list, rules: list, *,
                root: bool, junctor: bool, typed: bool = True) -> Checker:
        props_schema = s.get("properties") if isinstance(s.get("properties"), dict) else {}
        embedded = s.get("x-kubernetes-embedded-resource") is True
        preserve = s.get("x-kubernetes-preserve-unknown-fields") is True or junctor
        props: dict[str, Checker] = {}
        nonnull: dict[str, Any] = {}  # non-nullable props -> default (or _MISSING)
        defaults: list[tuple[str, Any, Checker]] = []
        for name, sub in props_schema.items():
            sub = sub if isinstance(sub, dict) else {}
            is_meta = name == "metadata" and (root or embedded) and not junctor
            c = self.compile(sub, f"{spath}.{name}", junctor=junctor, metadata=is_meta,
                             embedded_meta=is_meta and not root)
            props[name] = c
            if junctor:
                continue
            if "default" in sub:
                defaults.append((name, sub["default"], c))
            if sub.get("nullable") is not True:
                nonnull[name] = sub["default"] if "default" in sub else _MISSING
        if (embedded or root) and not junctor:  # implicit at the root and in embedded resources
            for name in ("apiVersion", "kind"):
                props.setdefault(name, self.compile({"type": "string"}, f"{spath}.{name}"))
            props.setdefault("metadata", self.compile({}, f"{spath}.metadata", metadata=True, embedded_meta=not root))
        addl_schema = s.get("additionalProperties")
        addl: Checker | None = None
        addl_default: Any = _MISSING
        addl_nullable = True
        if isinstance(addl_schema, dict):
            addl = self.compile(addl_schema, f"{spath}{{}}", junctor=junctor)
            addl_nullable = addl_schema.get("nullable") is True or junctor
            addl_default = addl_schema.get("default", _MISSING)
        allow_unknown = preserve or addl_schema is True
        required = tuple(r for r in (s.get("required") or ()) if isinstance(r, str))
        embedded_required = ("apiVersion", "kind") if embedded and not junctor else ()
        props_get = props.get
        run_rules = rule_runner(rules)
        defaults_t = tuple(defaults)

        def check(v, path, ctx):
            if type(v) is not dict:
                if not typed:  # an untyped node (e.g. a junctor branch) only checks objects
                    for c in checks:
                        c(v, path, ctx)
                    return v
                if v is None and nullable:
                    return v
                _type_error(ctx, path, "object", v)
                return v
            b0 = ctx.blocking
            prefix = path + "." if path else ""
            out = None
            for k, x in v.items():
                c = props_get(k)
                if c is None:
                    if addl is not None:
                        if x is None and not addl_nullable:
                            if out is None:
                                out = dict(v)
                            if addl_default is not _MISSING and ctx.apply_defaults:
                                out[k] = addl(_copy(addl_default), prefix + k, ctx)
                            else:
                                del out[k]  # the API server prunes non-nullable nulls
                            continue
                        c = addl
                    elif allow_unknown:
                        continue
                    else:
                        ctx.err(prefix + k, f'unknown field "{prefix + k}"')
                        continue
                elif x is None and k in nonnull:
                    if out is None:
                        out = dict(v)
                    d = nonnull[k]
                    if d is not _MISSING and ctx.apply_defaults:
                        out[k] = c(_copy(d), prefix + k, ctx)
                    else:
                        del out[k]  # the API server prunes non-nullable nulls
                    continue
                nx = c(x, prefix + k, ctx)
                if nx is not x:
                    if out is None:
                        out = dict(v)
                    out[k] = nx
            if defaults_t and ctx.apply_defaults:
                for k, d, c in defaults_t:
                    if k not in v:
                        if out is None:
                            out = dict(v)
                        out[k] = c(_copy(d), prefix + k, ctx)
            cur = v if out is None else out
            for r in required:
                if r not in cur:
                    ctx.err(prefix + r, "Required value")
            if embedded_required and cur:
                for r in embedded_required:
                    if r not in cur:
                        ctx.err(prefix + r, "Required value")
            for c in checks:
                c(cur, path, ctx)
            if run_rules is not None:
                run_rules(cur, path, ctx, b0)
            return cur

        return check

    # metadata -------------------------------------------------------------------------------
    def _metadata(self, s: dict, spath: str, *, strict_name: bool) -> Checker:
        props_schema = s.get("properties") if isinstance(s.get("properties"), dict) else {}
        extra = {k: self.compile(props_schema[k], f"{spath}.{k}")
                 for k in ("name", "generateName") if isinstance(props_schema.get(k), dict)}

        def check(v, path, ctx):
            if type(v) is not dict:
                if v is None:
                    return v
                _type_error(ctx, path, "object", v)
                return v
            prefix = path + "."
            for k in v:
                if k not in OBJECT_META_FIELDS:
                    ctx.err(prefix + k, f'unknown field "{prefix + k}"')
            for k, c in extra.items():
                if k in v:
                    c(v[k], prefix + k, ctx)
            _check_object_meta(v, path, ctx, strict_name)
            return v

        return check


def _num(m: Any) -> str:
    return str(int(m)) if isinstance(m, float) and m.is_integer() else str(m)


def _passes(branch: Checker, v: Any, path: str, ctx: _Ctx) -> bool:
    scratch = _Ctx(ctx.apply_defaults, ctx.cel_on_invalid)
    branch(v, path, scratch)
    return not scratch.errors


def _junctor(kw: str, branches: list[Checker]) -> Callable:
    def check(v, path, ctx):
        ok = sum(1 for b in branches if _passes(b, v, path, ctx))
        if kw == "allOf" and ok != len(branches):
            ctx.err(path, f"Invalid value: {format_value(v)}: {_in_body(path)} must validate all the schemas (allOf)")
        elif kw == "anyOf" and ok == 0:
            ctx.err(path, f"Invalid value: {format_value(v)}: {_in_body(path)} must validate at least one schema (anyOf)")
        elif kw == "oneOf" and ok != 1:
            ctx.err(path, f"Invalid value: {format_value(v)}: {_in_body(path)} must validate one and only one schema (oneOf)")

    return check


# ---- ObjectMeta ---------------------------------------------------------------------------


def _check_object_meta(meta: dict, path: str, ctx: _Ctx, strict_name: bool) -> None:
    p = path + "."
    name, gen = meta.get("name"), meta.get("generateName")
    for key in ("name", "generateName", "namespace"):
        val = meta.get(key)
        if val is not None and type(val) is not str:
            _type_error(ctx, p + key, "string", val)
    if strict_name:
        if not name and not gen:
            ctx.err(p + "name", "Required value: name or generateName is required")
        if isinstance(name, str) and name:
            for m in dns1123_subdomain_errors(name):
                ctx.err(p + "name", f"Invalid value: {format_value(name)}: {m}")
        if isinstance(gen, str) and gen:
            for m in dns1123_subdomain_errors(gen.rstrip("-") + "x" if gen.endswith("-") else gen):
                ctx.err(p + "generateName", f"Invalid value: {format_value(gen)}: {m}")
    ns = meta.get("namespace")
    if isinstance(ns, str) and ns:
        for m in dns1123_label_errors(ns):
            ctx.err(p + "namespace", f"Invalid value: {format_value(ns)}: {m}")
    labels = meta.get("labels")
    if labels is not None:
        if type(labels) is not dict:
            _type_error(ctx, p + "labels", "object", labels)
        else:
            for k, val in labels.items():
                for m in qualified_name_errors(str(k)):
                    ctx.err(p + "labels", f"Invalid value: {format_value(k)}: {m}")
                if type(val) is not str:
                    _type_error(ctx, f"{p}labels.{k}", "string", val)
                else:
                    for m in label_value_errors(val):
                        ctx.err(p + "labels", f"Invalid value: {format_value(val)}: {m}")
    annotations = meta.get("annotations")
    if annotations is not None:
        if type(annotations) is not dict:
            _type_error(ctx, p + "annotations", "object", annotations)
        else:
            total = 0
            for k, val in annotations.items():
                for m in qualified_name_errors(str(k).lower()):
                    ctx.err(p + "annotations", f"Invalid value: {format_value(k)}: {m}")
                if type(val) is not str:
                    _type_error(ctx, f"{p}annotations.{k}", "string", val)
                else:
                    total += len(str(k).encode()) + len(val.encode())
            if total > TOTAL_ANNOTATION_SIZE_LIMIT:
                ctx.err(p + "annotations", f"Too long: must have at most {TOTAL_ANNOTATION_SIZE_LIMIT} bytes")
    finalizers = meta.get("finalizers")
    if finalizers is not None:
        if type(finalizers) is not list:
            _type_error(ctx, p + "finalizers", "array", finalizers)
        else:
            for i, f in enumerate(finalizers):
                if type(f) is not str:
                    _type_error(ctx, f"{p}finalizers[{i}]", "string", f)
    for key in ("ownerReferences", "managedFields"):
        val = meta.get(key)
        if val is not None and type(val) is not list:
            _type_error(ctx, p + key, "array", val)
