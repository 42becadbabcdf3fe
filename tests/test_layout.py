"""The layout rules of krmfn/, checked on its parsed source (`ast`: a comment or docstring is never
a hit, an import inside a function always is).

- only the CLI (`krmfn/cli.py`, `krmfn/__main__.py`, `krmfn/commands/*`) imports the CLI;
- each constant has one home: `krmfn/constants.py` for API versions, groups, labels, annotations
  (and whatever else it holds), one module for any other shared value, and a collection constant
  is not spelled out again (an inline tuple, a `Literal[...]`);
- those API versions, groups, label and annotation keys are spelled only in constants.py;
- kagent's Agent and AgentTemplate field names (those that are not also names of krmfn's own
  fields) are spelled only by the kagent reader and the expand writers, whole or as a step of a
  field path.

Each check is a function of `modules()` and the helpers below, so another is one more test over the
same scan.
Allow-lists are explicit, say why, and are checked for stale entries.
"""

from __future__ import annotations

import ast
import collections
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import krmfn.constants

ROOT = Path(__file__).resolve().parent.parent
CONSTANTS_PATH = "krmfn/constants.py"


@dataclass(frozen=True)
class Module:
    path: str  # relative to the repository, "/"-separated: "krmfn/render/tree.py"
    name: str  # dotted: "krmfn.render.tree"
    tree: ast.Module

    @property
    def package(self) -> str:
        """What a relative import with one dot is relative to."""
        return self.name if self.path.endswith("/__init__.py") else self.name.rpartition(".")[0]


def parse_module(path: str, source: str) -> Module:
    parts = path[:-len(".py")].split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return Module(path, ".".join(parts), ast.parse(source, filename=path))


@functools.cache
def modules() -> tuple[Module, ...]:
    found = sorted((ROOT / "krmfn").rglob("*.py"))
    return tuple(parse_module(p.relative_to(ROOT).as_posix(), p.read_text(encoding="utf-8")) for p in found)


def outside_constants() -> Iterator[Module]:
    return (m for m in modules() if m.path != CONSTANTS_PATH)


# --- scanning helpers ---------------------------------------------------------------------------


def imported_modules(module: Module) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of everything `module` imports, anywhere in it; relative imports resolved,
    and `from X import y` also yields X.y (y may be a submodule)."""
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield node.lineno, target
            for alias in node.names:
                yield node.lineno, f"{target}.{alias.name}"


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                found.add(id(first.value))
    return found


def string_literals(module: Module) -> Iterator[tuple[int, str]]:
    """(line, value) of every str literal in `module` but its docstrings (f-string parts included)."""
    docstrings = _docstrings(module.tree)
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def find_literals(match: Callable[[str], bool], modules: Iterable[Module]) -> dict[str, list[tuple[int, str]]]:
    """File -> [(line, literal)] of each literal of `modules` that `match`es."""
    hits: dict[str, list[tuple[int, str]]] = {}
    for module in modules:
        for line, value in string_literals(module):
            if match(value):
                hits.setdefault(module.path, []).append((line, value))
    return hits


_CONSTANT_NAME = re.compile(r"_?[A-Z][A-Z0-9_]*\Z")


def _literal_value(node: ast.expr) -> Any:
    """The value of a str or tuple literal, or of a set literal or frozenset() of one, as a frozenset;
    None for anything else."""
    frozen = isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "frozenset" \
        and len(node.args) == 1 and not node.keywords
    try:
        value = ast.literal_eval(node.args[0] if frozen else node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if frozen or isinstance(value, set):
        return frozenset(value) if isinstance(value, (set, list, tuple)) else None
    return value if isinstance(value, (str, tuple)) else None


def module_constants(module: Module) -> Iterator[tuple[int, str, Any]]:
    """(line, name, value) of each module-level UPPER_CASE name assigned a str, tuple or frozenset
    literal. Numbers are left out: they coincide by chance, large ones too (16, 40, 50, 100 and 100_000
    each name two unrelated limits in krmfn/ as this is written), so a number's value says nothing of
    its concept; `test_no_constant_of_constants_py_is_redefined` catches a limit redefined by name."""
    for node in module.tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        literal = _literal_value(value)
        if literal is None:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and _CONSTANT_NAME.match(target.id):
                yield node.lineno, target.id, literal


def assigned_names(module: Module) -> Iterator[tuple[int, str]]:
    """(line, name) of each module-level assignment (imports are not assignments)."""
    for node in module.tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else []
        for target in targets:
            for name in ast.walk(target):
                if isinstance(name, ast.Name):
                    yield node.lineno, name.id


# --- what constants.py holds --------------------------------------------------------------------


@functools.cache
def constants_py() -> dict[str, Any]:
    """Name -> value of every module-level name constants.py assigns."""
    module = next(m for m in modules() if m.path == CONSTANTS_PATH)
    return {name: getattr(krmfn.constants, name) for _, name in assigned_names(module)}


# The constants that are API versions, API groups, label or annotation keys (by their names).
_KEY_NAME = re.compile(r"(^|_)(GROUP|API_VERSION|LABEL|ANNOTATION)S?(_|$)|^KAGENT_V1ALPHA\d+\Z")


@functools.cache
def key_values() -> dict[str, str]:
    """Value -> (first) name of constants.py's API versions, groups, label and annotation keys (a
    tuple of them, such as PATH_ANNOTATIONS, gives each member)."""
    found: dict[str, str] = {}
    for name, value in constants_py().items():
        if _KEY_NAME.search(name):
            for member in (value,) if isinstance(value, str) else value if isinstance(value, tuple) else ():
                if isinstance(member, str):
                    found.setdefault(member, name)
    return found


# A label or annotation key (or apiVersion) of krmfn's own group: constants.py is its home even when
# it does not hold it yet.
_KRMFN_KEY = re.compile(r"krmfn\.dev/[a-z0-9]([-a-z0-9.]*[a-z0-9])?\Z")
# Any other prefixed label or annotation key (`config.kubernetes.io/path`): a DNS prefix, one slash,
# a name; an apiVersion (`group/v1...`) is left to the constant-name check above.
_PREFIXED_KEY = re.compile(r"([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?\Z")
_API_VERSION = re.compile(r".*/v\d+((alpha|beta)\d+)?\Z")


def key_problem(literal: str) -> str | None:
    """Why `literal` may not be spelled outside constants.py, or None."""
    if literal in key_values():
        return f"is constants.{key_values()[literal]}"
    if _KRMFN_KEY.match(literal):
        return "is a krmfn.dev key constants.py lacks"
    if _PREFIXED_KEY.match(literal) and not _API_VERSION.match(literal):
        return "is a label or annotation key constants.py lacks"
    return None


def is_key(literal: str) -> bool:
    return key_problem(literal) is not None


# --- the CLI is imported only by the CLI --------------------------------------------------------

# `python -m krmfn` is the command line's entry point: part of the CLI.
CLI_MODULES = re.compile(r"krmfn\.(cli|__main__|commands(\..+)?)\Z")
_CLI_TARGET = re.compile(r"krmfn\.(cli|commands)(\..+)?\Z")


def cli_imports(module: Module) -> list[str]:
    """What of the CLI `module` imports: import statements, and module names given to importlib."""
    hits = [f"{module.path}:{line}: imports {target}" for line, target in imported_modules(module)
            if _CLI_TARGET.match(target)]
    hits += [f"{module.path}:{line}: names {value!r}" for line, value in string_literals(module)
             if _CLI_TARGET.match(value.partition(":")[0])]
    return sorted(set(hits))


def test_libraries_do_not_import_the_cli():
    libraries = [m for m in modules() if not CLI_MODULES.match(m.name)]
    assert len(libraries) > 50 and not any(m.path.startswith("krmfn/commands/") for m in libraries)
    assert [hit for m in libraries for hit in cli_imports(m)] == []


def test_cli_import_scan_sees_every_form():
    """The scan must see relative, absolute, aliased, nested and importlib imports of the CLI."""
    source = (
        "import krmfn.cli as c\n"
        "from .. import commands\n"
        "def later():\n"
        "    from ..commands.build import run\n"
        "    import importlib; importlib.import_module('krmfn.commands.diff')\n"
        "from ..render import tree\n"
        "from . import cli_like\n"
    )
    hits = cli_imports(parse_module("krmfn/review/fake.py", source))
    assert sorted({int(h.split(":")[1]) for h in hits}) == [1, 2, 4, 5], hits
    package = parse_module("krmfn/fake/__init__.py", "from .. import cli\n")
    assert len(cli_imports(package)) == 1
    assert cli_imports(parse_module("krmfn/fake/sub.py", "from . import cli\n")) == []  # krmfn.fake.cli


def test_the_cli_is_seen_importing_itself():
    """The import scan on the real tree: krmfn/cli.py's importlib table names commands."""
    cli = next(m for m in modules() if m.path == "krmfn/cli.py")
    assert any("krmfn.commands." in hit for hit in cli_imports(cli))


# --- one home for each constant -----------------------------------------------------------------

# Module-level constants outside constants.py that equal one of its values, or each other, and are
# another concept all the same.
COINCIDENCES: dict[Any, set[tuple[str, str]]] = {
    # the tier an agent gets when it names none, and the review route of a finding no route matched
    "default": {("krmfn/api/agent.py", "DEFAULT_TIER"), ("krmfn/review/routing.py", "DEFAULT_ROUTE")},
}
# Constants equal to a constants.py value in files being edited elsewhere: owned by the lead: to fix
# after merge.
OWNED_CONSTANTS: set[tuple[str, str]] = set()


def _constant_definitions() -> dict[Any, list[tuple[str, int, str]]]:
    """(type, value) -> [(path, line, name)] of the module constants outside constants.py."""
    found = collections.defaultdict(list)
    for module in outside_constants():
        for line, name, value in module_constants(module):
            found[(type(value), value)].append((module.path, line, name))
    return found


def test_no_constant_repeats_a_value_of_constants_py():
    homes = collections.defaultdict(list)
    for name, value in constants_py().items():
        if isinstance(value, (str, tuple, frozenset)):
            homes[(type(value), value)].append(name)
    hits = [f"{path}:{line}: {name} = {value!r} is constants.{'/'.join(homes[(kind, value)])}"
            for (kind, value), defs in _constant_definitions().items() if (kind, value) in homes
            for path, line, name in defs
            if (path, name) not in OWNED_CONSTANTS | COINCIDENCES.get(value, set())]
    assert hits == []


def test_no_value_is_a_constant_of_two_modules():
    hits = []
    for (_, value), defs in _constant_definitions().items():
        coincidence = {(path, name) for path, _, name in defs} <= COINCIDENCES.get(value, set())
        if len({path for path, _, _ in defs}) > 1 and not coincidence:
            hits.append(f"{value!r}: " + ", ".join(f"{p}:{line} {n}" for p, line, n in defs))
    assert hits == []


def test_no_constant_of_constants_py_is_redefined():
    """Under its own name, whatever its value (numbers too): `from ..constants import X` instead."""
    names = set(constants_py())
    hits = [f"{m.path}:{line}: {name}" for m in outside_constants() for line, name in assigned_names(m)
            if name in names]
    assert hits == []


def test_allow_lists_are_not_stale():
    """An entry whose constant or literal is gone (fixed, renamed) must go too, or it would excuse
    the next one."""
    defined = {(path, name): value for (_, value), defs in _constant_definitions().items()
               for path, _, name in defs}
    for value, entries in COINCIDENCES.items():
        for entry in sorted(entries):
            assert defined.get(entry) == value, f"stale in COINCIDENCES: {entry} = {value!r}"
    homes = [v for v in constants_py().values() if isinstance(v, (str, tuple, frozenset))]
    for entry in sorted(OWNED_CONSTANTS):
        assert entry in defined and defined[entry] in homes, f"stale in OWNED_CONSTANTS: {entry}"
    spelled = {(m.path, members) for m in modules() for _, members in spelled_collections(m)}
    for entry in sorted(SPELLED_OUT, key=str):
        assert entry in spelled, f"stale in SPELLED_OUT: {entry}"
    literals = find_literals(is_key, outside_constants())
    for path, allowed in OWNED_LITERALS.items():
        found = collections.Counter(value for _, value in literals.get(path, []))
        for value, count in allowed.items():
            assert found[value] >= count, f"stale in OWNED_LITERALS: {path}: {value!r} x{count}, found {found[value]}"


# Collections spelled out again on purpose, by file and members.
SPELLED_OUT: set[tuple[str, frozenset[str]]] = set()


def _definition_nodes(module: Module) -> set[int]:
    """The value nodes of `module`'s module-level constants (a frozenset's argument too)."""
    found = set()
    for node in module.tree.body:
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        while value is not None:
            found.add(id(value))
            value = value.args[0] if isinstance(value, ast.Call) and value.args else None
    return found


def spelled_collections(module: Module) -> Iterator[tuple[int, frozenset[str]]]:
    """(line, members) of each tuple, list or set of two or more str literals in `module`'s code
    (a `Literal[...]` subscript is one) but its constants' own definitions."""
    definitions = _definition_nodes(module)
    for node in ast.walk(module.tree):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and id(node) not in definitions \
                and len(node.elts) >= 2 \
                and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
            yield node.lineno, frozenset(e.value for e in node.elts)


def test_no_collection_constant_is_spelled_out_again():
    """A Literal[...] of the providers, an inline tuple of the kustomization names: `Literal[X]` of
    the constant (a tuple subscript is one value per member) or the constant itself."""
    homes: dict[frozenset, list[str]] = collections.defaultdict(list)
    for name, value in constants_py().items():
        if isinstance(value, (tuple, frozenset)) and len(value) >= 2:
            homes[frozenset(value)].append(f"constants.{name}")
    for (_, value), defs in _constant_definitions().items():
        if isinstance(value, (tuple, frozenset)) and len(value) >= 2:
            homes[frozenset(value)] += [f"{path}:{line} {name}" for path, line, name in defs]
    hits = [f"{m.path}:{line}: {sorted(members)} is {', '.join(homes[members])}"
            for m in modules() for line, members in spelled_collections(m)
            if members in homes and (m.path, members) not in SPELLED_OUT]
    assert hits == []


def test_constant_scans_see_the_forms_and_skip_numbers():
    source = (
        '"""doc: krmfn.dev/agent"""\n'
        'A = "x"\n'
        '_B: tuple = ("y", "z")\n'
        'C = frozenset({"q"})\n'
        'S = {"t"}\n'
        'T = frozenset("no")\n'
        'D = E = "r"\n'
        'N = 10\n'
        'lower = "s"\n'
        'F = f"{A}"\n'
        'def f():\n'
        '    G = "inner"\n'
        '    return "krmfn.dev/agent"\n'
    )
    module = parse_module("krmfn/fake.py", source)
    assert [(n, v) for _, n, v in module_constants(module)] == [
        ("A", "x"), ("_B", ("y", "z")), ("C", frozenset({"q"})), ("S", frozenset({"t"})), ("D", "r"), ("E", "r")]
    assert [(line, v) for line, v in string_literals(module) if v.startswith("krmfn")] == [(13, "krmfn.dev/agent")]
    assigned = {name for _, name in assigned_names(module)}
    assert "N" in assigned and "G" not in assigned


def test_collection_scan_skips_definitions_only():
    source = (
        'from typing import Literal\n'
        'KINDS = ("A", "B")\n'
        'FROZEN = frozenset(("C", "D"))\n'
        'Kind = Literal["B", "A"]\n'
        'def f(x):\n'
        '    return x in ["C", "D"] or x in ("E",)\n'
    )
    module = parse_module("krmfn/fake.py", source)
    assert list(spelled_collections(module)) == [(4, frozenset("AB")), (6, frozenset("CD"))]


# --- API versions, groups, labels and annotations are spelled in constants.py only -------------

# Literals in files being edited elsewhere right now: owned by the lead: to fix after merge.
# File -> literal -> how many times it may appear there (one more, or a new file, fails).
OWNED_LITERALS: dict[str, dict[str, int]] = {}


def test_key_constants_are_recognised():
    """The check below is only as good as this selection of constants.py's names."""
    assert {
        "krmfn.dev", "krmfn.dev/v1alpha1", "kagent.dev", "kagent.dev/v1alpha1", "kagent.dev/v1alpha2",
        "api.kagent.dev", "api.kagent.dev/v1alpha3", "apiextensions.k8s.io/v1", "app.kubernetes.io/managed-by",
        "kubernetes.io/metadata.name", "config.kubernetes.io/local-config", "krmfn.dev/agent",
        "krmfn.dev/source", "krmfn.dev/source-field", "krmfn.dev/model-tier", "krmfn.dev/prompt-library",
    } <= set(key_values())
    assert not {"krmfn", "Agent", "python", "kagent-0.10"} & set(key_values())  # values, kinds, targets


def test_keys_are_spelled_only_in_constants_py():
    hits = []
    for path, found in sorted(find_literals(is_key, outside_constants()).items()):
        allowed = collections.Counter(OWNED_LITERALS.get(path, {}))
        for line, value in sorted(found):
            if allowed[value] > 0:
                allowed[value] -= 1
            else:
                hits.append(f"{path}:{line}: {value!r} {key_problem(value)}")
    assert hits == []


def test_a_prefixed_key_is_a_key_and_an_api_version_or_image_is_not():
    assert key_problem("config.kubernetes.io/path") == "is constants.PATH_ANNOTATIONS"  # a member of a tuple
    assert key_problem("example.com/team") == "is a label or annotation key constants.py lacks"
    assert key_problem("apps.example.com/v1beta2") is None and key_problem("ghcr.io/krmfn-dev/krmfn") is None
    assert key_problem("spec.tools") is None and key_problem("a/b") is None


def test_key_scan_skips_docstrings_and_comments_only():
    source = (
        '"""kagent.dev/v1alpha2 in a docstring."""\n'
        '# api.kagent.dev/v1alpha3 in a comment\n'
        'def f(obj):\n'
        '    """krmfn.dev/agent in a docstring."""\n'
        '    x = "kagent.dev/v1alpha2"\n'
        '    return obj["metadata"]["labels"].get("krmfn.dev/new-key"), f"{x}", "krmfn.dev/"\n'
    )
    found = find_literals(is_key, [parse_module("krmfn/fake.py", source)])
    assert found == {"krmfn/fake.py": [(5, "kagent.dev/v1alpha2"), (6, "krmfn.dev/new-key")]}


# --- kagent's field names are spelled only by the reader and the expand writers ------------------

# Names of kagent Agent / AgentTemplate fields that are not also names of krmfn's own fields (a
# description's `requireApproval`, a catalog's `mcpServer` and `allowedNamespaces` are both).
KAGENT_FIELDS = frozenset({
    "declarative", "toolNames", "systemMessage", "systemMessageFrom", "promptTemplate", "a2aConfig",
    "dataSources", "templateRef", "harnessRef", "subAgent", "systemPrompt", "systemPromptFrom",
})
# The reader reads kagent objects; the writers build them (krmfn's output); the kagent input schemas
# describe the kagent sections a catalog or environment passes through; constants.py declares, as
# data, the fields only kagent v0.10's CRDs have (tests/test_kagent_models.py checks each).
READER_AND_WRITERS = re.compile(r"krmfn/(reader/.+|expand/build(_v1)?\.py|kagent/models\.py|constants\.py)\Z")
_PATH_STEP = re.compile(r"[.\[\]]")


def names_kagent_field(literal: str) -> bool:
    """A literal that is, or holds as a step of a field path (`spec.declarative.tools`, the
    `.templateRef.name` of an f-string), one of kagent's field names."""
    return not KAGENT_FIELDS.isdisjoint(_PATH_STEP.split(literal))


def test_kagent_field_names_are_spelled_only_by_the_reader_and_the_writers():
    """Any other module reading an Agent's fields by name is a second reader that the next kagent
    version would have to be taught again (issue 13)."""
    hits = find_literals(names_kagent_field, (m for m in modules() if not READER_AND_WRITERS.match(m.path)))
    assert {path: sorted(found) for path, found in hits.items()} == {}


def test_kagent_field_scan_sees_a_second_reader():
    source = (
        'def tools(agent):\n'
        '    """Reads spec.declarative.tools, as a docstring may say."""\n'
        '    return agent["spec"]["declarative"].get("tools"), f"{agent}.templateRef.name", "spec.toolNames[0]"\n'
        'ALLOW = "allow"  # a name of krmfn\'s own\n'
    )
    found = find_literals(names_kagent_field, [parse_module("krmfn/review/fake.py", source)])
    assert sorted(found["krmfn/review/fake.py"]) == [(3, ".templateRef.name"), (3, "declarative"), (3, "spec.toolNames[0]")]
    assert set(found) == {"krmfn/review/fake.py"}
    assert READER_AND_WRITERS.match("krmfn/reader/v1alpha2.py") and READER_AND_WRITERS.match("krmfn/expand/build_v1.py")
    assert not READER_AND_WRITERS.match("krmfn/review/drift.py") and not READER_AND_WRITERS.match("krmfn/reader.py")
