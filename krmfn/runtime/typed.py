"""Typed configs and input objects: validated at the edge, results with field paths out.

Every krmfn kind (function configs such as ModelEnvironment, input resources such as
AgentDescription) is a `KrmModel`, written in pydantic's class syntax and validated by
`krmfn.runtime.model` (pydantic itself costs a cold function call ~150 ms). Import the class
syntax from here (`Field`, `model_validator`, ...). `parse` turns the validation errors into
`Result`s that name the object and the field, and suggests the closest known field for a
misspelt one.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from .model import (  # noqa: F401  (the class syntax of krmfn's models, one import for them)
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    FieldInfo,
    Strict,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    conint,
    constr,
    field_validator,
    model_validator,
)
from .kobject import format_path
from .results import Result

M = TypeVar("M", bound=BaseModel)


class KrmModel(BaseModel):
    """Base of krmfn's own API types: unknown fields are errors, JSON names are camelCase."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def parse(model: type[M], obj: dict[str, Any], *, subject: dict[str, Any] | None = None,
          at: str = "") -> tuple[M | None, list[Result]]:
    """Validate `obj` (or its part at field path `at`) as `model`.

    `subject` is the whole KRM object the results are about (defaults to `obj`).
    """
    subject = obj if subject is None else subject
    try:
        return model.model_validate(obj), []
    except ValidationError as err:
        results = [_result(model, subject, at, e) for e in err.errors(include_url=False)]
        return None, _one_per_typo(_merge_alternatives(results))


def _one_per_typo(results: list[Result]) -> list[Result]:
    """A misspelt required field is one mistake, not two: its "did you mean" line names both
    spellings, so the "required field is missing" line of the field it meant goes."""
    meant = set()
    for result in results:
        hint = _DID_YOU_MEAN.search(result.message)
        if hint and result.message.startswith("unknown field "):
            parent = (result.field or "").rpartition(".")[0]
            meant.add(f"{parent}.{hint.group(1)}" if parent else hint.group(1))
    return [r for r in results if not (r.message == "required field is missing" and r.field in meant)]


_DID_YOU_MEAN = re.compile(r"; did you mean '([^']+)'\?$")


_SHOULD = re.compile(r"^Input should be (?P<what>.+?)(?P<got> \(got .*\))?$")


def _merge_alternatives(results: list[Result]) -> list[Result]:
    """The validator reports each member of a union (`list[str] | Literal["All"]`) as an error of its own
    at the same field; say once what the field may be."""
    out: list[Result] = []
    first: dict[tuple, int] = {}
    for result in results:
        match = _SHOULD.match(result.message)
        key = (result.resource, result.field)
        if match and key in first:
            earlier = _SHOULD.match(out[first[key]].message)
            got = earlier["got"] or match["got"] or ""
            out[first[key]] = out[first[key]].replace(
                message=f"Input should be {earlier['what']} or {match['what']}{got}")
            continue
        if match:
            first[key] = len(out)
        out.append(result)
    return out


field_path = format_path  # a validator's error location is a field path like any other


def _result(model: type[BaseModel], subject: dict[str, Any], prefix: str, error: dict) -> Result:
    loc = tuple(p for p in error["loc"] if not _is_union_tag(p))
    kind = error["type"]
    path = field_path(loc, prefix)
    if kind == "extra_forbidden":
        import difflib

        name = str(loc[-1]) if loc else ""
        known = _known_fields(model, loc[:-1])
        hint = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        message = f"unknown field {name!r}"
        message += f"; did you mean {hint[0]!r}?" if hint else (
            f"; known fields: {', '.join(sorted(known))}" if known else ""
        )
    elif kind == "missing":
        message = "required field is missing"
    else:
        message = error["msg"]
        if "input" in error and kind not in ("value_error", "assertion_error"):
            shown = _short(error["input"], loc)
            if shown is not None:
                message += f" (got {shown}{_unquoted_hint(kind, error['input'])})"
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
    return Result.about(subject, path, message)


def _unquoted_hint(kind: str, value: Any) -> str:
    """Why a text field got a boolean or a number: an unquoted YAML scalar such as 0755 or true."""
    if kind != "string_type" or not isinstance(value, (bool, int, float)):
        return ""
    return f": YAML reads it unquoted as a {'boolean' if isinstance(value, bool) else 'number'}; quote it"


def _is_union_tag(part: Any) -> bool:
    # A dict key's own error is located at (..., key, "[key]"), as pydantic located it.
    return part == "[key]"


def _short(value: Any, loc: tuple[Any, ...]) -> str | None:
    """The offending value, briefly, unless it may be a credential (then nothing is shown)."""
    from .secrets import credential_kind, is_credential_key

    if isinstance(value, (dict, list)):
        return "an object" if isinstance(value, dict) else "a list"
    if any(isinstance(p, str) and (is_credential_key(p) or "key" in p.lower()) for p in loc) \
            or credential_kind(value):
        return None
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _known_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The JSON names valid at `loc` inside `model`, following nested models, lists and dicts."""
    current: Any = model
    for part in loc:
        current = _descend(current, part)
        if current is None:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _descend(tp: Any, part: Any) -> Any:
    import typing

    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        for name, f in tp.model_fields.items():
            if part in (name, f.alias):
                return _unwrap(f.annotation)
        return None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (list, tuple) and isinstance(part, int) and args:
        return _unwrap(args[0])
    if origin is dict and args:
        return _unwrap(args[1])
    return None


def _unwrap(tp: Any) -> Any:
    """Optional[X] / X | None / Annotated[X, ...] -> X (the first model-ish member)."""
    import typing

    for _ in range(5):
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            models = [a for a in members if isinstance(a, type) and issubclass(a, BaseModel)]
            tp = models[0] if models else (members[0] if members else tp)
            continue
        break
    return tp
