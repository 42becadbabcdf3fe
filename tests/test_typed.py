"""krmfn's own validator (krmfn/runtime/model.py, used through krmfn/runtime/typed.py).

Each feature of pydantic's class syntax that krmfn's models use, with the exact wording `parse`
reports (tests/test_bad_input.py and the golden expected-stderr files pin the messages users see);
class creation that compiles nothing; every krmfn object in the repository validated and
re-validated to the same model; and no runtime path that imports pydantic.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import pytest

import support

from krmfn.runtime import yamlio
from krmfn.runtime.typed import (
    AfterValidator,
    BaseModel,
    Field,
    KrmModel,
    StrictBool,
    StrictInt,
    ValidationError,
    conint,
    constr,
    field_validator,
    model_validator,
    parse,
)

ROOT = Path(__file__).resolve().parents[1]


def _upper_only(value: str) -> str:
    if value != value.upper():
        raise ValueError(f"{value!r} is not upper case")
    return value


Upper = Annotated[str, AfterValidator(_upper_only)]


def _no_z(values: list[str]) -> list[str]:
    if "z" in values:
        raise ValueError("'z' is not allowed")
    return values


class Leaf(KrmModel):
    size: int = Field(1, ge=1, le=10)
    note: Optional[str] = Field(None, min_length=2)


class Tree(KrmModel):
    name: Upper
    kind: Literal["Tree"] = "Tree"
    colour: Literal["red", "green", "blue"] = "red"
    leaves: list[Leaf] = Field(default_factory=list, max_length=3)
    by_name: dict[Upper, Leaf] = Field(default_factory=dict, alias="byName")
    admits: list[str] | Literal["All"] = Field(default_factory=list, alias="allowedNamespaces")
    strict_flag: StrictBool = Field(False, alias="strictFlag", description="only true or false")
    flag: bool = False
    count: StrictInt = 0
    lax_count: int = Field(0, alias="laxCount")
    tags: list[str] = Field(default_factory=list)
    short: constr(max_length=3) = "abc"
    small: conint(le=5) = 0
    vars: dict[str, Any] = Field(default_factory=dict)

    check_tags = field_validator("tags")(_no_z)

    @model_validator(mode="after")
    def _red_trees_have_leaves(self) -> "Tree":
        if self.colour == "red" and not self.leaves:
            raise ValueError("a red tree needs leaves")
        return self


OBJECT = {"kind": "Tree", "metadata": {"name": "t"}}


def messages(model, obj, **kwargs) -> list[str]:
    value, results = parse(model, obj, **kwargs)
    assert (value is None) == bool(results)
    return [f"{r.field}: {r.message}" for r in results]


def tree(**fields) -> dict:
    return {"name": "OAK", "leaves": [{}], **fields}


# --- each feature -----------------------------------------------------------------------------------


def test_a_valid_object_is_an_object_with_attributes_and_defaults():
    value = Tree.model_validate(tree(byName={"A": {"size": 2}}, allowedNamespaces="All", laxCount="7"))
    assert value.name == "OAK" and value.kind == "Tree" and value.colour == "red"
    assert value.leaves[0].size == 1 and value.leaves[0].note is None
    assert value.by_name["A"].size == 2 and value.admits == "All" and value.lax_count == 7
    assert value.tags == [] and value.vars == {}
    other = Tree.model_validate(tree())
    assert other.tags is not value.tags  # default_factory: one list per object
    assert Tree(name="OAK", leaves=[{}]) == other  # keywords validate as well


def test_every_problem_is_reported_at_once_with_its_field_path():
    assert messages(Tree, tree(name="oak", leaves=[{"size": 0}, {"note": "x"}], count="1", colour="pink")) == [
        "name: 'oak' is not upper case",
        "colour: Input should be 'red', 'green' or 'blue' (got 'pink')",
        "leaves[0].size: Input should be greater than or equal to 1 (got 0)",
        "leaves[1].note: String should have at least 2 characters (got 'x')",
        "count: Input should be a valid integer (got '1')",
    ]


def test_unknown_fields_say_what_was_meant():
    assert messages(Tree, tree(colur="red")) == ["colur: unknown field 'colur'; did you mean 'colour'?"]
    assert messages(Tree, tree(leaves=[{"sise": 2}])) == ["leaves[0].sise: unknown field 'sise'; did you mean 'size'?"]
    assert messages(Tree, tree(qqq=1)) == [
        "qqq: unknown field 'qqq'; known fields: allowedNamespaces, byName, colour, count, flag, kind, laxCount, "
        "leaves, name, short, small, strictFlag, tags, vars"]
    assert messages(Tree, tree(byName={"A": {"sizes": 1}})) == [
        "byName.A.sizes: unknown field 'sizes'; did you mean 'size'?"]


def test_camel_case_aliases_and_python_names_both_work_the_alias_wins():
    assert Tree.model_validate(tree(by_name={"A": {}})).by_name["A"].size == 1
    assert messages(Tree, tree(laxCount=1, lax_count=2)) == [
        "lax_count: unknown field 'lax_count'; did you mean 'laxCount'?"]
    assert messages(Tree, tree(lax_count="x")) == [
        "lax_count: Input should be a valid integer, unable to parse string as an integer (got 'x')"]


def test_required_fields():
    assert messages(Tree, {"leaves": [{}]}) == ["name: required field is missing"]
    assert Tree.model_fields["name"].is_required() and not Tree.model_fields["colour"].is_required()


def test_a_union_says_once_what_the_field_may_be():
    assert messages(Tree, tree(allowedNamespaces="Some")) == [
        "allowedNamespaces: Input should be a valid list or 'All' (got 'Some')"]
    assert messages(Tree, tree(allowedNamespaces=[1])) == [
        "allowedNamespaces[0]: Input should be a valid string (got 1: YAML reads it unquoted as a number; quote it)",
        "allowedNamespaces: Input should be 'All' (got a list)"]


def test_unquoted_scalars_are_explained():
    assert messages(Tree, tree(name=True)) == [
        "name: Input should be a valid string (got True: YAML reads it unquoted as a boolean; quote it)"]
    assert messages(Tree, tree(tags=[493])) == [
        "tags[0]: Input should be a valid string (got 493: YAML reads it unquoted as a number; quote it)"]
    assert messages(Tree, tree(name=None)) == ["name: Input should be a valid string (got None)"]


def test_strict_and_lax_scalars_as_pydantic_reads_them():
    ok = Tree.model_validate(tree(flag="yes", laxCount=3.0))
    assert ok.flag is True and ok.lax_count == 3
    assert messages(Tree, tree(strictFlag="true", flag="maybe", laxCount=1.5, count=True)) == [
        "strictFlag: Input should be a valid boolean (got 'true')",
        "flag: Input should be a valid boolean, unable to interpret input (got 'maybe')",
        "count: Input should be a valid integer (got True)",
        "laxCount: Input should be a valid integer, got a number with a fractional part (got 1.5)",
    ]


def test_lengths_and_bounds():
    assert messages(Tree, tree(leaves=[{}] * 4, short="abcd", small=6)) == [
        "leaves: List should have at most 3 items after validation, not 4 (got a list)",
        "short: String should have at most 3 characters (got 'abcd')",
        "small: Input should be less than or equal to 5 (got 6)",
    ]
    assert messages(Leaf, {"size": 11}) == ["size: Input should be less than or equal to 10 (got 11)"]


def test_containers_and_nested_models_of_the_wrong_shape():
    assert messages(Tree, tree(leaves={"a": 1}, byName=["A"], vars="x")) == [
        "leaves: Input should be a valid list (got an object)",
        "byName: Input should be a valid dictionary (got a list)",
        "vars: Input should be a valid dictionary (got 'x')",
    ]
    assert messages(Tree, tree(leaves=["big"])) == [
        "leaves[0]: Input should be a valid dictionary or instance of Leaf (got 'big')"]
    assert messages(Tree, "a tree") == [": Input should be a valid dictionary or instance of Tree (got 'a tree')"]


def test_dict_keys_are_validated_at_their_own_path():
    assert messages(Tree, tree(byName={"a": {"size": 0}, 7: {}})) == [
        "byName.a: 'a' is not upper case",
        "byName.a.size: Input should be greater than or equal to 1 (got 0)",
        "byName[7]: Input should be a valid string (got 7: YAML reads it unquoted as a number; quote it)",
    ]
    assert messages(Leaf, {1: 2}) == ["[1]: Keys should be strings (got 1)"]


def test_field_and_model_validators():
    assert messages(Tree, tree(tags=["a", "z"])) == ["tags: 'z' is not allowed"]
    assert messages(Tree, {"name": "OAK"}) == [": a red tree needs leaves"]
    # a model validator runs only on valid fields: one problem, not two
    assert messages(Tree, {"name": "oak"}) == ["name: 'oak' is not upper case"]


def test_results_are_about_the_whole_object_at_a_path():
    value, results = parse(Leaf, {"size": "x"}, subject=OBJECT, at="spec.leaf")
    assert value is None
    assert [(str(r.resource), r.field) for r in results] == [("Tree/t", "spec.leaf.size")]


def test_credentials_are_never_echoed():
    secret = "sk-proj-" + "a" * 24
    joined = " ".join(messages(Tree, tree(name=secret, tags=[secret], short=secret, apiKey=secret)))
    assert "aaaaaaaa" not in joined and "name:" in joined and "tags: " not in joined


def test_validation_error_records_are_pydantics_shape():
    with pytest.raises(ValidationError) as err:
        Leaf.model_validate({"size": "x", "extra": 1})
    assert err.value.errors(include_url=False) == [
        {"type": "int_parsing", "loc": ("size",), "input": "x",
         "msg": "Input should be a valid integer, unable to parse string as an integer"},
        {"type": "extra_forbidden", "loc": ("extra",), "msg": "Extra inputs are not permitted", "input": 1},
    ]
    assert isinstance(err.value, ValueError)


def test_model_fields_and_model_dump():
    fields = Tree.model_fields
    assert fields["strict_flag"].alias == "strictFlag" and fields["strict_flag"].description == "only true or false"
    assert fields["name"].annotation is str and fields["name"].metadata[0].func is _upper_only
    assert fields["leaves"].annotation == list[Leaf]
    value = Tree.model_validate(tree(leaves=[{"note": "hi"}]))
    assert value.model_dump(by_alias=True, exclude_none=True)["leaves"] == [{"size": 1, "note": "hi"}]
    assert value.model_dump()["leaves"] == [{"size": 1, "note": "hi"}]
    assert value.model_dump()["by_name"] == {} and "byName" in value.model_dump(by_alias=True)
    assert value.model_dump(exclude_none=True)["leaves"][0] == {"size": 1, "note": "hi"}
    assert Leaf.model_validate({}).model_dump() == {"size": 1, "note": None}


def test_class_creation_compiles_nothing_and_names_resolve_on_first_use():
    namespace: dict[str, Any] = {}
    exec(  # a module of its own, with postponed annotations and a name defined after the class
        "from __future__ import annotations\n"
        "from krmfn.runtime.typed import KrmModel\n"
        "class Early(KrmModel):\n"
        "    later: Later\n"
        "class Later(KrmModel):\n"
        "    n: int = 0\n", namespace)
    early = namespace["Early"]
    assert early.__dict__["__krm_compiled__"] is None  # nothing resolved or built on import
    import types

    module = types.ModuleType("typed_forward_refs")
    module.__dict__.update(namespace)
    sys.modules[module.__name__] = module
    try:
        early.__module__ = module.__name__
        assert early.model_validate({"later": {"n": 2}}).later.n == 2
        assert early.__dict__["__krm_compiled__"] is not None
    finally:
        del sys.modules[module.__name__]


def test_an_unsupported_annotation_fails_loudly():
    class Odd(BaseModel):
        pair: tuple[int, int]

    for _ in range(2):  # and again: a class that failed to compile is not left half-built
        with pytest.raises(TypeError, match="not supported"):
            Odd.model_validate({"pair": [1, 2]})

    class Misspelt(KrmModel):
        name: str = ""

        check = field_validator("nmae")(_no_z)

    with pytest.raises(TypeError, match="field_validator for unknown field"):
        Misspelt.model_validate({})


# --- the repository's own objects ---------------------------------------------------------------------


def _repository_objects() -> list[tuple[Path, dict]]:
    kinds = {"AgentDescription", "ToolCatalog", "AgentExpansion", "ModelEnvironment", "ToolPolicy",
             "KagentConformance", "Pipeline"}
    found = []
    for folder in ("base", "overlays", "functions", "docs"):
        for path in sorted((ROOT / folder).rglob("*.yaml")):
            try:
                documents = yamlio.load_all(path.read_bytes())
            except Exception:  # noqa: BLE001  (test inputs that are bad YAML on purpose)
                continue
            stack = list(documents)
            while stack:
                obj = stack.pop()
                if isinstance(obj, dict):
                    if obj.get("kind") in kinds and obj.get("apiVersion") == "krmfn.dev/v1alpha1":
                        found.append((path, obj))
                    stack += list(obj.values())
                elif isinstance(obj, list):
                    stack += obj
    return found


MODELS = {
    "AgentDescription": "krmfn.api.agent", "ToolCatalog": "krmfn.api.catalog",
    "AgentExpansion": "krmfn.api.expansion", "ModelEnvironment": "krmfn.api.environment",
    "ToolPolicy": "krmfn.api.policy", "KagentConformance": "krmfn.api.conformance", "Pipeline": "krmfn.api.pipeline",
}


def test_every_object_of_the_repository_validates_and_its_dump_validates_to_the_same_model():
    """The examples, base/ and overlays/ validate; every valid object (golden inputs included) dumps to
    data that validates to an equal object. Each golden case's output and messages are compared by
    tests/test_golden.py; that the validator reads them as pydantic did was checked differentially."""
    import importlib

    objects = _repository_objects()
    valid = 0
    for path, obj in objects:
        model = getattr(importlib.import_module(MODELS[obj["kind"]]), obj["kind"])
        value, results = parse(model, obj)
        if "testdata" not in path.parts:
            assert results == [], (path, results)
        if value is not None:
            valid += 1
            again, problems = parse(model, value.model_dump(by_alias=True))
            assert problems == [] and again == value, path
    assert valid > 100 and len(objects) > valid  # golden inputs that fail on purpose are among them


# --- no pydantic at run time ------------------------------------------------------------------------

_BLOCK = """
import sys
class _Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("pydantic", "pydantic_core"):
            raise ImportError("pydantic is not a runtime dependency of krmfn")
sys.meta_path.insert(0, _Refuse())
from krmfn.cli import main
code = main(sys.argv[1:])
assert "pydantic" not in sys.modules
sys.exit(code)
"""


@pytest.mark.parametrize("function, config, inputs", [
    ("pipeline", "config.yaml", ["input.yaml"]),
    ("expand", "expand.yaml", ["agents.yaml"]),
    ("environment", "dev.yaml", ["agents.yaml"]),
    ("policy", "policy.yaml", ["agents.yaml"]),
    ("validate", "conformance.yaml", ["agents.yaml"]),
])
def test_every_function_runs_with_pydantic_unimportable(function, config, inputs):
    folder = ROOT / "functions" / function / "example"
    args = ["run", str(folder / config), *(str(folder / i) for i in inputs)]
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0"}
    blocked = subprocess.run([sys.executable, "-c", _BLOCK, *args], capture_output=True, text=True, cwd=ROOT,
                             env=env, timeout=120)
    plain = subprocess.run([sys.executable, "-m", "krmfn", *args], capture_output=True, text=True, cwd=ROOT,
                           env=env, timeout=120)
    assert "pydantic" not in blocked.stderr, blocked.stderr
    assert (blocked.returncode, blocked.stdout, blocked.stderr) == (plain.returncode, plain.stdout, plain.stderr)
    assert blocked.stdout or "[error] " in blocked.stderr, blocked.stderr  # the policy example fails on purpose


# --- the same records as pydantic, where pydantic is installed ------------------------------------------
#
# pydantic is no dependency of krmfn (nor of its tests); where it is installed (a development venv
# made before it left pyproject.toml), this builds a pydantic twin of every krmfn model from the
# same declarations and checks that both read every repository object, and many mutations of each,
# with the same messages and the same values.

_REPLACEMENTS = (None, True, 0, -1, 1.5, 1500.0, "", "x", "All", "12", [], {}, [1], {"a": 1}, 10 ** 30,
                 "sk-proj-" + "a" * 24)


def _pydantic_twins():
    pydantic = pytest.importorskip("pydantic", reason="pydantic is not installed: the differential check "
                                                      "needs it as the reference (it is no dependency)")
    import typing

    from krmfn.runtime import model as ours

    twins: dict[type, type] = {}

    def convert(tp):
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin is Annotated:
            metadata = []
            for meta in args[1:]:
                if isinstance(meta, ours.Strict):
                    metadata.append(pydantic.Strict(meta.strict))
                elif isinstance(meta, ours.BeforeValidator):
                    metadata.append(pydantic.BeforeValidator(meta.func))
                elif isinstance(meta, ours.AfterValidator):
                    metadata.append(pydantic.AfterValidator(meta.func))
                elif isinstance(meta, ours.FieldInfo):
                    metadata.append(pydantic.Field(strict=meta.strict, **meta.constraints))
            return Annotated[(convert(args[0]), *metadata)]
        if origin is typing.Union or origin is __import__("types").UnionType:
            return typing.Union[tuple(convert(a) for a in args)]
        if origin in (list, dict):
            return origin[tuple(convert(a) for a in args)] if args else origin
        if isinstance(tp, type) and issubclass(tp, ours.BaseModel):
            return twin(tp)
        return tp

    def twin(cls):
        if cls in twins:
            return twins[cls]
        fields = {}
        for name, info in cls.model_fields.items():
            factory = info.default_factory
            if isinstance(factory, type) and issubclass(factory, ours.BaseModel):
                factory = twin(factory)
            kwargs = dict(alias=info.alias, description=info.description, strict=info.strict, **info.constraints)
            if factory is not None:
                kwargs["default_factory"] = factory
            elif not info.is_required():
                kwargs["default"] = info.default
            fields[name] = (convert(info._tp), pydantic.Field(**kwargs))
        validators = {}
        for klass in reversed(cls.__mro__):
            for index, decorated in enumerate(klass.__dict__.get("__krm_validators__", ())):
                key = f"v_{klass.__name__}_{index}"
                if decorated.kind == "model":
                    validators[key] = pydantic.model_validator(mode=decorated.mode)(decorated.func)
                else:
                    validators[key] = pydantic.field_validator(*decorated.fields, mode=decorated.mode)(decorated.func)
        config = pydantic.ConfigDict(extra="forbid", populate_by_name=True)
        twins[cls] = pydantic.create_model(cls.__name__, __config__=config, __validators__=validators, **fields)
        return twins[cls]

    return pydantic, twin


def _mutations(obj):
    import copy

    yield obj
    stack: list[tuple] = [()]
    while stack:
        path = stack.pop()
        node = obj
        for part in path:
            node = node[part]
        if isinstance(node, dict):
            stack += [path + (k,) for k in node]
        elif isinstance(node, list):
            stack += [path + (i,) for i in range(len(node))]
        if not path or path == ("kind",):
            continue
        for replacement in _REPLACEMENTS:
            changed = copy.deepcopy(obj)
            target = changed
            for part in path[:-1]:
                target = target[part]
            target[path[-1]] = replacement
            yield changed
        changed = copy.deepcopy(obj)
        target = changed
        for part in path[:-1]:
            target = target[part]
        if isinstance(target, dict):
            target[str(path[-1]) + "x"] = target.pop(path[-1])  # a misspelt field
        else:
            del target[path[-1]]
        yield changed


def test_the_validator_reads_every_repository_object_as_pydantic_did():
    import importlib

    from krmfn.runtime import typed

    pydantic, twin = _pydantic_twins()
    compared = 0
    seen: set[str] = set()
    for _, obj in _repository_objects():
        key = repr(obj)
        if key in seen:
            continue
        seen.add(key)
        model = getattr(importlib.import_module(MODELS[obj["kind"]]), obj["kind"])
        reference = twin(model)
        for variant in _mutations(obj):
            ours, results = parse(model, variant)
            try:
                theirs, errors = reference.model_validate(variant), []
            except pydantic.ValidationError as err:
                theirs, errors = None, err.errors(include_url=False)
            # pydantic names union members in the location ("list[str]", "function-after[...]")
            for error in errors:
                error["loc"] = tuple(p for p in error["loc"] if p == "[key]" or not (
                    isinstance(p, str) and ("[" in p or p in ("str", "int", "float", "bool", "list", "dict"))))
            # the same shaping of the validator's errors into results (unions and typos said once)
            expected = typed._one_per_typo(typed._merge_alternatives(
                [typed._result(model, variant, "", e) for e in errors]))
            assert [(r.field, r.message) for r in results] == [(r.field, r.message) for r in expected], variant
            if theirs is not None:
                assert ours.model_dump(by_alias=True) == theirs.model_dump(by_alias=True), variant
            compared += 1
    assert compared > 10_000


def test_a_misspelt_required_field_is_one_line():
    """`descripton` is one mistake: the did-you-mean line says it, with no second line saying that
    `description` is missing; a required field that is simply missing is still reported."""
    from krmfn.api.agent import AgentDescription

    meta = {"name": "x", "namespace": "n"}
    typo = {"apiVersion": "krmfn.dev/v1alpha1", "kind": "AgentDescription", "metadata": meta,
            "spec": {"descripton": "hi", "prompt": {"text": "hi"}}}
    _, results = parse(AgentDescription, typo)
    assert [(r.field, r.message) for r in results] == [
        ("spec.descripton", "unknown field 'descripton'; did you mean 'description'?")]
    missing = {**typo, "spec": {"prompt": {"text": "hi"}, "vars": {}}}
    _, results = parse(AgentDescription, missing)
    assert ("spec.description", "required field is missing") in [(r.field, r.message) for r in results]


@pytest.mark.parametrize("example,config", [
    ("environment", "dev.yaml"), ("policy", "policy.yaml"), ("validate", "conformance.yaml")])
def test_a_cold_function_call_never_imports_dataclasses(example, config):
    """`import dataclasses` costs a cold process about 10 ms of CPU (it imports `inspect`, `ast`,
    `dis`, `tokenize`): the environment, policy and validate functions, and the reader they share,
    use `runtime.record` instead. Checked on the real call, as kustomize makes it (a fresh
    `python -m krmfn` on the function's example), through Python's own import log."""
    from krmfn.runtime import yamlio

    folder = support.ROOT / "functions" / example / "example"
    items = yamlio.load_all((folder / "agents.yaml").read_bytes(), "agents.yaml")
    function_config = yamlio.load_one((folder / config).read_bytes(), config)
    proc = support.module(stdin=yamlio.dump(support.resource_list(items, function_config)),
                          env={"PYTHONPROFILEIMPORTTIME": "1"})
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "krmfn.runtime.engine" in imported, proc.stderr[-2000:]  # the log is there, and the function ran
    assert "yaml" in imported
    assert {"dataclasses", "inspect"} & imported == set()
