"""A small validator for krmfn's model classes, in pydantic's class syntax (no pydantic).

The API types (`krmfn.api`, the kagent input schemas) are written as pydantic models were:
annotated class attributes, `Field(...)`, `Literal`, `X | None`, `list`/`dict`, nested models,
`Annotated[..., AfterValidator(f)]`, `StrictBool`/`StrictInt`, `field_validator`,
`model_validator(mode="after")`. This module validates them with the same behaviour and the same
error records (type, loc, msg, input) as pydantic 2's lax mode for those features, because
`krmfn.runtime.typed` turns those records into the messages tests pin. Importing it and creating
classes is cheap: a class's validator is compiled on its first use (annotations, which are
strings under `from __future__ import annotations`, are resolved in the class's module then).
"""

from __future__ import annotations

import sys
import types
import typing
from typing import Annotated, Any, Literal

_MISSING = object()
_FAIL = object()  # a validation step failed; its errors are recorded


class ValidationError(ValueError):
    """Every problem of one `model_validate`, as pydantic's error records."""

    def __init__(self, title: str, errors: list[dict]):
        super().__init__(f"{len(errors)} validation error(s) for {title}")
        self.title = title
        self._errors = errors

    def errors(self, include_url: bool = False) -> list[dict]:  # noqa: ARG002  (pydantic's signature)
        return [dict(e) for e in self._errors]

    def __str__(self) -> str:
        lines = [super().__str__()]
        for e in self._errors:
            lines.append(".".join(map(str, e["loc"])) or "<root>")
            lines.append(f"  {e['msg']} [type={e['type']}]")
        return "\n".join(lines)


def ConfigDict(**settings: Any) -> dict[str, Any]:  # noqa: N802  (pydantic's name)
    return dict(settings)


# --- field declarations ----------------------------------------------------------------------------


class FieldInfo:
    """What `Field(...)` declares, and (after the class compiles) the field's resolved annotation."""

    __slots__ = ("default", "default_factory", "alias", "description", "constraints", "strict",
                 "annotation", "metadata", "_tp")

    def __init__(self, default: Any = _MISSING, *, default_factory: Any = None, alias: str | None = None,
                 description: str | None = None, strict: bool | None = None, **constraints: Any):
        self.default = _MISSING if default is Ellipsis else default
        self.default_factory = default_factory
        self.alias = alias
        self.description = description
        self.strict = strict
        self.constraints = {k: v for k, v in constraints.items() if v is not None and k in _CONSTRAINTS}
        self.annotation: Any = None
        self.metadata: list[Any] = []
        self._tp: Any = None  # the full resolved annotation (with Annotated metadata)

    def is_required(self) -> bool:
        return self.default is _MISSING and self.default_factory is None

    def get_default(self) -> Any:
        if self.default_factory is not None:
            return self.default_factory()
        return self.default

    def __repr__(self) -> str:
        return (f"FieldInfo(annotation={self.annotation!r}, required={self.is_required()}"
                + (f", alias={self.alias!r}" if self.alias else "") + ")")


_CONSTRAINTS = ("min_length", "max_length", "ge", "le", "gt", "lt", "pattern", "examples", "title")


def Field(default: Any = _MISSING, **kwargs: Any) -> Any:  # noqa: N802  (pydantic's name)
    return FieldInfo(default, **kwargs)


class AfterValidator:
    __slots__ = ("func",)

    def __init__(self, func):
        self.func = func


class BeforeValidator(AfterValidator):
    __slots__ = ()


class Strict:
    __slots__ = ("strict",)

    def __init__(self, strict: bool = True):
        self.strict = strict


StrictBool = Annotated[bool, Strict()]
StrictInt = Annotated[int, Strict()]
StrictStr = Annotated[str, Strict()]


def constr(*, min_length: int | None = None, max_length: int | None = None, pattern: str | None = None,
           strict: bool | None = None) -> Any:
    return Annotated[str, FieldInfo(min_length=min_length, max_length=max_length, pattern=pattern, strict=strict)]


def conint(*, ge: int | None = None, le: int | None = None, gt: int | None = None, lt: int | None = None,
           strict: bool | None = None) -> Any:
    return Annotated[int, FieldInfo(ge=ge, le=le, gt=gt, lt=lt, strict=strict)]


class _Decorated:
    """A `field_validator`/`model_validator` function, collected when its class is created."""

    __slots__ = ("func", "kind", "fields", "mode")

    def __init__(self, func, kind: str, fields: tuple[str, ...], mode: str):
        self.func = func.__func__ if isinstance(func, (classmethod, staticmethod)) else func
        self.kind, self.fields, self.mode = kind, fields, mode

    def __get__(self, obj, owner=None):
        return self.func.__get__(obj if obj is not None else owner, owner)


def field_validator(*fields: str, mode: str = "after"):
    if mode not in ("after", "before"):
        raise ValueError(f"field_validator mode {mode!r} is not supported")
    return lambda func: _Decorated(func, "field", fields, mode)


def model_validator(*, mode: str):
    if mode not in ("after", "before"):
        raise ValueError(f"model_validator mode {mode!r} is not supported")
    return lambda func: _Decorated(func, "model", (), mode)


def _call_field_validator(func, cls, value):
    # pydantic calls `(cls, value)` when the first parameter is `cls`, else `(value)`.
    code = getattr(func, "__code__", None)
    if code is not None and code.co_argcount and code.co_varnames[0] == "cls":
        return func(cls, value)
    return func(value)


# --- models ------------------------------------------------------------------------------------------


class _ModelMeta(type):
    @property
    def model_fields(cls) -> dict[str, FieldInfo]:
        return _compiled(cls).fields


class BaseModel(metaclass=_ModelMeta):
    """A validated object: attributes are its fields. Create with `model_validate(dict)` or keywords."""

    model_config: dict[str, Any] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own: dict[str, tuple[Any, FieldInfo]] = {}
        namespace = cls.__dict__
        for name, annotation in namespace.get("__annotations__", {}).items():
            if name == "model_config" or (isinstance(annotation, str) and "ClassVar" in annotation):
                continue
            value = namespace.get(name, _MISSING)
            info = value if isinstance(value, FieldInfo) else FieldInfo(value)
            if value is not _MISSING:
                delattr(cls, name)  # the field's value lives on the instance, as in pydantic
            own[name] = (annotation, info)
        cls.__krm_own__ = own
        cls.__krm_validators__ = [v for v in namespace.values() if isinstance(v, _Decorated)]
        cls.__krm_compiled__ = None

    def __init__(self, **data: Any):
        validated = type(self)._validate_or_raise(data)
        self.__dict__.update(validated.__dict__)

    @classmethod
    def model_validate(cls, obj: Any):
        return cls._validate_or_raise(obj)

    @classmethod
    def _validate_or_raise(cls, obj: Any):
        errors: list[dict] = []
        value = _compiled(cls).validate(obj, (), errors)
        if errors:
            raise ValidationError(cls.__name__, errors)
        return value

    @property
    def model_fields(self) -> dict[str, FieldInfo]:
        return type(self).model_fields

    def model_dump(self, *, mode: str = "python", by_alias: bool = False, exclude_none: bool = False) -> dict:
        out = {}
        for name, info in type(self).model_fields.items():
            value = self.__dict__.get(name)
            if exclude_none and value is None:
                continue
            out[(info.alias or name) if by_alias else name] = _dump(value, by_alias, exclude_none)
        return out

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.__dict__ == self.__dict__

    __hash__ = None  # type: ignore[assignment]  (mutable, as pydantic's)

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={self.__dict__.get(n)!r}" for n in type(self).model_fields)
        return f"{type(self).__name__}({inner})"


def _dump(value: Any, by_alias: bool, exclude_none: bool) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=by_alias, exclude_none=exclude_none)
    if isinstance(value, list):
        return [_dump(v, by_alias, exclude_none) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v, by_alias, exclude_none) for k, v in value.items()}
    return value


# --- compiling a class ---------------------------------------------------------------------------


class _Compiled:
    __slots__ = ("fields", "validate")


def _compiled(cls) -> _Compiled:
    compiled = cls.__dict__.get("__krm_compiled__")
    if compiled is None:
        try:
            compiled = _compile_model(cls)
        except BaseException:
            cls.__krm_compiled__ = None  # a class that failed to compile fails the same way next time
            raise
    return compiled


def _resolve(annotation: Any, owner: type) -> Any:
    if not isinstance(annotation, str):
        return annotation
    module = sys.modules.get(owner.__module__)
    namespace = vars(module) if module is not None else {}
    # the class's own annotation, in its own module (as typing.get_type_hints would, later)
    return eval(annotation, namespace, {owner.__name__: owner})  # noqa: S307


def _compile_model(cls) -> _Compiled:
    compiled = _Compiled()
    cls.__krm_compiled__ = compiled  # before the fields: a model may refer to itself
    fields: dict[str, FieldInfo] = {}
    field_validators: dict[str, list[_Decorated]] = {}
    model_after: list[_Decorated] = []
    model_before: list[_Decorated] = []
    for klass in reversed(cls.__mro__):
        for name, (annotation, info) in klass.__dict__.get("__krm_own__", {}).items():
            tp = _resolve(annotation, klass)
            field = FieldInfo(info.default, default_factory=info.default_factory, alias=info.alias,
                              description=info.description, strict=info.strict, **info.constraints)
            if typing.get_origin(tp) is Annotated:
                field.annotation, *field.metadata = typing.get_args(tp)
            else:
                field.annotation = tp
            field._tp = tp
            fields[name] = field
        for decorated in klass.__dict__.get("__krm_validators__", ()):
            if decorated.kind == "model":
                (model_after if decorated.mode == "after" else model_before).append(decorated)
            else:
                for name in decorated.fields:
                    field_validators.setdefault(name, []).append(decorated)
    unknown = sorted(set(field_validators) - set(fields))
    if unknown:
        raise TypeError(f"{cls.__name__}: field_validator for unknown field(s) {', '.join(unknown)}")
    config = {}
    for klass in reversed(cls.__mro__):
        config.update(klass.__dict__.get("model_config", {}) or {})
    extra = config.get("extra", "ignore")
    by_name = bool(config.get("populate_by_name"))

    plan = []
    for name, field in fields.items():
        checks = _type_validator(field._tp, field.strict, field.constraints)
        validators = field_validators.get(name, [])
        after = [v.func for v in validators if v.mode == "after"] or None
        before = [v.func for v in validators if v.mode == "before"] or None
        key = field.alias or name
        other = name if (field.alias and by_name) else None  # populate_by_name: the name works too
        plan.append((name, key, other, field.default, field.default_factory, field.is_required(), checks,
                     before, after))
    title = cls.__name__

    def validate(obj: Any, loc: tuple, errors: list) -> Any:
        if isinstance(obj, cls):
            return obj
        for decorated in model_before:
            obj = decorated.func(cls, obj)
        if not isinstance(obj, dict):
            errors.append(_error("model_type", loc, f"Input should be a valid dictionary or instance of {title}",
                                 obj))
            return _FAIL
        start = len(errors)
        values: dict[str, Any] = {}
        found = 0
        for name, key, other, default, factory, required, checks, before, after in plan:
            if key not in obj:
                if other is not None and other in obj:
                    key = other
                else:
                    if required:
                        errors.append(_error("missing", loc + (key,), "Field required", obj))
                    else:
                        values[name] = factory() if factory is not None else default
                    continue
            found += 1
            value = obj[key]
            where = loc + (key,)
            if before is not None:
                value = _run_validators(before, cls, value, where, errors)
                if value is _FAIL:
                    continue
            value = checks(value, where, errors)
            if value is _FAIL:
                continue
            if after is not None:
                value = _run_validators(after, cls, value, where, errors)
                if value is _FAIL:
                    continue
            values[name] = value
        if extra == "forbid" and found != len(obj):
            used = {key if key in obj else other for _, key, other, *_ in plan if key in obj or other in obj}
            for key, value in obj.items():
                if not isinstance(key, str):
                    errors.append(_error("invalid_key", loc + (key,), "Keys should be strings", key))
                elif key not in used:  # unknown, or a field's name beside its alias (the alias is read)
                    errors.append(_error("extra_forbidden", loc + (key,), "Extra inputs are not permitted", value))
        if len(errors) != start:
            return _FAIL
        instance = cls.__new__(cls)
        instance.__dict__.update(values)
        for decorated in model_after:
            try:
                result = decorated.func(instance)
            except (ValueError, AssertionError) as err:
                errors.append(_value_error(err, loc, obj))
                return _FAIL
            if result is not None:
                instance = result
        return instance

    compiled.fields = fields
    compiled.validate = validate
    return compiled


def _error(kind: str, loc: tuple, msg: str, value: Any) -> dict:
    return {"type": kind, "loc": loc, "msg": msg, "input": value}


def _value_error(err: Exception, loc: tuple, value: Any) -> dict:
    if isinstance(err, AssertionError):
        return _error("assertion_error", loc, f"Assertion failed, {err}", value)
    return _error("value_error", loc, f"Value error, {err}", value)


def _run_validators(funcs: list, cls: type, value: Any, loc: tuple, errors: list) -> Any:
    for func in funcs:
        try:
            value = _call_field_validator(func, cls, value)
        except (ValueError, AssertionError) as err:
            errors.append(_value_error(err, loc, value))
            return _FAIL
    return value


# --- compiling a type ------------------------------------------------------------------------------


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _type_validator(tp: Any, strict: bool | None = None, constraints: dict | None = None):
    """`check(value, loc, errors) -> value or _FAIL` for annotation `tp` (pydantic's lax mode
    unless `strict`). `constraints` (Field's min_length, ge, ...) apply where their type is."""
    constraints = constraints or {}
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return _annotated(tp, strict, constraints)
    if origin is typing.Union or origin is types.UnionType:
        return _union(typing.get_args(tp), strict, constraints)
    if origin is Literal:
        return _literal(typing.get_args(tp))
    if tp is Any or tp is object:
        return lambda value, loc, errors: value
    if tp is None or tp is type(None):
        def none(value, loc, errors):
            if value is None:
                return None
            errors.append(_error("none_required", loc, "Input should be None", value))
            return _FAIL
        return none
    if tp is str:
        return _string(bool(strict), constraints)
    if tp is bool:
        return _boolean(bool(strict))
    if tp is int:
        return _integer(bool(strict), constraints)
    if tp is float:
        return _number(bool(strict), constraints)
    if tp is list or origin is list:
        args = typing.get_args(tp)
        return _list(_type_validator(args[0], strict) if args else None, bool(strict), constraints)
    if tp is dict or origin is dict:
        args = typing.get_args(tp)
        keys, values = (_type_validator(args[0], strict), _type_validator(args[1], strict)) if args else (None, None)
        return _dict(keys, values, constraints)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        compiled = _compiled(tp)  # nested models compile with their first user
        if hasattr(compiled, "validate"):
            return compiled.validate
        return lambda value, loc, errors: compiled.validate(value, loc, errors)  # a model of itself
    raise TypeError(f"krmfn.runtime.model: annotation {tp!r} is not supported")


def _annotated(tp: Any, strict: bool | None, constraints: dict):
    base, *metadata = typing.get_args(tp)
    before, after = [], []
    constraints = dict(constraints)
    inner_strict = strict
    for meta in metadata:
        if isinstance(meta, Strict):
            inner_strict = meta.strict if strict is None else strict
        elif isinstance(meta, BeforeValidator):
            before.append(meta.func)
        elif isinstance(meta, AfterValidator):
            after.append(meta.func)
        elif isinstance(meta, FieldInfo):
            constraints.update(meta.constraints)
            if meta.strict is not None and strict is None:
                inner_strict = meta.strict
    inner = _type_validator(base, inner_strict, constraints)
    if not before and not after:
        return inner

    def check(value, loc, errors):
        for func in before:
            try:
                value = func(value)
            except (ValueError, AssertionError) as err:
                errors.append(_value_error(err, loc, value))
                return _FAIL
        value = inner(value, loc, errors)
        if value is _FAIL:
            return _FAIL
        for func in after:
            try:
                value = func(value)
            except (ValueError, AssertionError) as err:
                errors.append(_value_error(err, loc, value))
                return _FAIL
        return value
    return check


def _union(args: tuple, strict: bool | None, constraints: dict):
    members = [a for a in args if a is not type(None)]
    if len(members) == 1:
        inner = _type_validator(members[0], strict, constraints)
    else:
        choices = [_type_validator(m, strict, constraints) for m in members]

        def inner(value, loc, errors):
            # Left to right, the first member that accepts the value; otherwise every member's
            # errors (typed.parse says once what the field may be).
            collected: list = []
            for choice in choices:
                attempt: list = []
                result = choice(value, loc, attempt)
                if result is not _FAIL:
                    return result
                collected += attempt
            errors += collected
            return _FAIL
    if len(members) == len(args):
        return inner
    return lambda value, loc, errors: None if value is None else inner(value, loc, errors)


def _literal(expected: tuple):
    allowed = {(type(e), e) for e in expected}
    shown = [repr(e) for e in expected]
    message = "Input should be " + (shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}")

    def check(value, loc, errors):
        try:
            if (type(value), value) in allowed:
                return value
        except TypeError:  # unhashable: a list or a mapping
            pass
        errors.append(_error("literal_error", loc, message, value))
        return _FAIL
    return check


def _string(strict: bool, constraints: dict):
    low, high = constraints.get("min_length"), constraints.get("max_length")
    pattern = constraints.get("pattern")
    if pattern is not None:
        import re

        regex = re.compile(pattern)

    def check(value, loc, errors):
        if not isinstance(value, str):
            if not strict and isinstance(value, (bytes, bytearray)):
                try:
                    value = bytes(value).decode()
                except UnicodeDecodeError:
                    errors.append(_error("string_unicode", loc, "Input should be a valid string, unable to parse "
                                                                "raw data as a unicode string", value))
                    return _FAIL
            else:
                errors.append(_error("string_type", loc, "Input should be a valid string", value))
                return _FAIL
        if low is not None and len(value) < low:
            errors.append(_error("string_too_short", loc, f"String should have at least {_plural(low, 'character')}",
                                 value))
            return _FAIL
        if high is not None and len(value) > high:
            errors.append(_error("string_too_long", loc, f"String should have at most {_plural(high, 'character')}",
                                 value))
            return _FAIL
        if pattern is not None and not regex.search(value):
            errors.append(_error("string_pattern_mismatch", loc, f"String should match pattern '{pattern}'", value))
            return _FAIL
        return value
    return check


_TRUE = frozenset(("1", "on", "t", "true", "y", "yes"))
_FALSE = frozenset(("0", "off", "f", "false", "n", "no"))


def _boolean(strict: bool):
    def check(value, loc, errors):
        if value is True or value is False:
            return value
        if not strict:
            if isinstance(value, (bytes, bytearray)):
                value = bytes(value).decode(errors="replace")
            if isinstance(value, str):
                text = value.lower()
                if text in _TRUE or text in _FALSE:
                    return text in _TRUE
                errors.append(_error("bool_parsing", loc, "Input should be a valid boolean, unable to interpret input",
                                     value))
                return _FAIL
            if (isinstance(value, int) or (isinstance(value, float) and value.is_integer())) \
                    and -2 ** 63 <= value < 2 ** 63:  # pydantic reads numbers as 64-bit here
                if value in (0, 1):
                    return value == 1
                errors.append(_error("bool_parsing", loc, "Input should be a valid boolean, unable to interpret input",
                                     value))
                return _FAIL
        errors.append(_error("bool_type", loc, "Input should be a valid boolean", value))
        return _FAIL
    return check


_INT_TEXT = None


def _parse_int(text: str) -> int | None:
    global _INT_TEXT
    if _INT_TEXT is None:
        import re

        _INT_TEXT = re.compile(r"[+-]?[0-9]+(?:_[0-9]+)*(?:\.0*)?")
    text = text.strip()
    if not _INT_TEXT.fullmatch(text):
        return None
    return int(text.split(".")[0])


def _bounds(constraints: dict):
    checks = []
    for key, kind, word, test in (("gt", "greater_than", "greater than", lambda v, b: v > b),
                                  ("ge", "greater_than_equal", "greater than or equal to", lambda v, b: v >= b),
                                  ("lt", "less_than", "less than", lambda v, b: v < b),
                                  ("le", "less_than_equal", "less than or equal to", lambda v, b: v <= b)):
        if constraints.get(key) is not None:
            checks.append((constraints[key], kind, f"Input should be {word} {constraints[key]}", test))
    return checks


def _bounded(bounds, number, value, loc, errors):
    """`number` when it is within every bound (pydantic reports the first one broken), else _FAIL."""
    for bound, name, message, test in bounds:
        if not test(number, bound):
            errors.append(_error(name, loc, message, value))
            return _FAIL
    return number


def _integer(strict: bool, constraints: dict):
    bounds = _bounds(constraints)

    def check(value, loc, errors):
        kind = type(value)
        if kind is int:
            number = value
        elif strict:
            errors.append(_error("int_type", loc, "Input should be a valid integer", value))
            return _FAIL
        elif kind is bool:
            number = int(value)
        elif kind is float:
            if value != value or value in (float("inf"), float("-inf")):
                errors.append(_error("finite_number", loc, "Input should be a finite number", value))
                return _FAIL
            if value != int(value):
                errors.append(_error("int_from_float", loc,
                                     "Input should be a valid integer, got a number with a fractional part", value))
                return _FAIL
            if abs(value) >= 2 ** 63:
                errors.append(_error("int_parsing_size", loc,
                                     "Unable to parse input string as an integer, exceeded maximum size", value))
                return _FAIL
            number = int(value)
        elif isinstance(value, (str, bytes, bytearray)):
            text = value if isinstance(value, str) else bytes(value).decode(errors="replace")
            number = _parse_int(text)
            if number is None:
                errors.append(_error("int_parsing", loc,
                                     "Input should be a valid integer, unable to parse string as an integer", value))
                return _FAIL
        elif isinstance(value, int):
            number = int(value)
        else:
            errors.append(_error("int_type", loc, "Input should be a valid integer", value))
            return _FAIL
        return _bounded(bounds, number, value, loc, errors)
    return check


def _number(strict: bool, constraints: dict):
    bounds = _bounds(constraints)

    def check(value, loc, errors):
        if isinstance(value, (int, float)) and not (strict and isinstance(value, bool)):
            number = float(value)
        elif not strict and isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                errors.append(_error("float_parsing", loc, "Input should be a valid number, unable to parse string "
                                                           "as a number", value))
                return _FAIL
        else:
            errors.append(_error("float_type", loc, "Input should be a valid number", value))
            return _FAIL
        return _bounded(bounds, number, value, loc, errors)
    return check


def _list(item, strict: bool, constraints: dict):
    low, high = constraints.get("min_length"), constraints.get("max_length")
    accepted = list if strict else (list, tuple)

    def check(value, loc, errors):
        if not isinstance(value, accepted):
            errors.append(_error("list_type", loc, "Input should be a valid list", value))
            return _FAIL
        if high is not None and len(value) > high:
            errors.append(_error("too_long", loc, f"List should have at most {_plural(high, 'item')} after "
                                                  f"validation, not {len(value)}", value))
            return _FAIL
        if item is None:
            out = list(value)
        else:
            start = len(errors)
            out = [item(v, loc + (i,), errors) for i, v in enumerate(value)]
            if len(errors) != start:
                return _FAIL
        if low is not None and len(out) < low:
            errors.append(_error("too_short", loc, f"List should have at least {_plural(low, 'item')} after "
                                                   f"validation, not {len(out)}", value))
            return _FAIL
        return out
    return check


def _dict(keys, values, constraints: dict):
    low, high = constraints.get("min_length"), constraints.get("max_length")

    def check(value, loc, errors):
        if not isinstance(value, dict):
            errors.append(_error("dict_type", loc, "Input should be a valid dictionary", value))
            return _FAIL
        if keys is None:
            out = dict(value)
        else:
            start = len(errors)
            out = {}
            for key, item in value.items():
                new_key = keys(key, loc + (key, "[key]"), errors)
                new_item = values(item, loc + (key,), errors)
                if new_key is not _FAIL and new_item is not _FAIL:
                    out[new_key] = new_item
            if len(errors) != start:
                return _FAIL
        for bound, word, test in ((low, "least", lambda n, b: n < b), (high, "most", lambda n, b: n > b)):
            if bound is not None and test(len(out), bound):
                errors.append(_error("too_short" if word == "least" else "too_long", loc,
                                     f"Dictionary should have at {word} {_plural(bound, 'item')} after validation, "
                                     f"not {len(out)}", value))
                return _FAIL
        return out
    return check
