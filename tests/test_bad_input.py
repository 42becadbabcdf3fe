"""Bad input, for every function and every command: one clear line per problem, exit 1, no traceback.

Every failing case checks the same contract (`assert_refused`):
  - exit code 1;
  - exactly the expected number of stderr lines (usually one), each `[error] ...`, each naming
    the object (or the file) and the field (or the line and column);
  - no traceback and no `internal error` (a bug) anywhere;
  - never an empty success: in KRM mode stdout is a complete ResourceList whose items equal the
    input items (no items when the input could not be parsed); plain modes print nothing on stdout.

The cases run in-process through `krmfn.cli.main` (fast); the resource bounds (a 50 MB input and an
alias bomb refused within 2 s and under 300 MB) are measured in fresh subprocesses.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

import support
from krmfn import __version__
from krmfn.runtime import yamlio

ROOT = Path(__file__).resolve().parents[1]
CRDS = ROOT.parent / "shared" / "kagent-crds" / "v0.9.12"
API = "krmfn.dev/v1alpha1"
NS = "team-a"
SECRET = "sk-proj-" + "Zq8xV2mN4pL6kJ9hG3fD5sA7"  # looks like an OpenAI key; must never be shown
AWS_KEY = "AKIA" + "QWERTYUIOPASDFGH"

# --- the inputs every case starts from (each is valid on its own: see test_the_baselines_pass) ----

CATALOG = {
    "apiVersion": API, "kind": "ToolCatalog", "metadata": {"name": "tools", "namespace": NS},
    "spec": {"servers": [{"name": "kagent-tools", "toolsFrom": "kagent-tool-server",
                          "remote": {"url": "http://kagent-tools.kagent.svc:8084/mcp"}}]},
}
AGENT = {
    "apiVersion": API, "kind": "AgentDescription", "metadata": {"name": "helper", "namespace": NS},
    "spec": {
        "description": "Helps with the cluster.",
        "prompt": {"text": "You are {{ name }} in {{ namespace }}.", "vars": {"team": "a"}},
        "model": "standard",
        "tools": [{"server": "kagent-tools", "allow": ["k8s_get_resources", "k8s_get_pod_logs"],
                   "requireApproval": []}],
        "skills": [{"id": "diagnose", "name": "Diagnose", "examples": ["Why?"]}],
        "memory": {"model": "standard", "ttlDays": 7},
        "deployment": {"replicas": 1},
    },
}
OTHER = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "keep", "namespace": NS}, "data": {"a": "b"}}
EXPAND = {"apiVersion": API, "kind": "AgentExpansion", "metadata": {"name": "expand"}, "spec": {"environment": "dev"}}
ENVIRONMENT = {
    "apiVersion": API, "kind": "ModelEnvironment", "metadata": {"name": "dev"},
    "spec": {"tiers": {"standard": {"provider": "Ollama", "model": "llama3.2",
                                    "ollama": {"host": "http://ollama.ollama.svc:11434"}}}},
}
POLICY = {
    "apiVersion": API, "kind": "ToolPolicy", "metadata": {"name": "policy"},
    "spec": {"environment": "dev", "rules": [{"name": "read-only", "allowedRisks": ["read"]}]},
}
CONFORMANCE = {
    "apiVersion": API, "kind": "KagentConformance", "metadata": {"name": "conformance"},
    "spec": {"crds": [str(CRDS)], "external": ["Secret/*/openai-api-key"]},
}
CONFIGS = {"AgentExpansion": EXPAND, "ModelEnvironment": ENVIRONMENT, "ToolPolicy": POLICY,
           "KagentConformance": CONFORMANCE}


# --- running krmfn ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    code: int
    stdout: bytes
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stderr.splitlines()


def krmfn(*args: str, stdin: bytes | str = b"", cwd: Path | None = None) -> Outcome:
    """`krmfn ARGS` in-process, as the console script runs it; an escaping exception fails the test."""
    return Outcome(*support.cli(*args, stdin=stdin, cwd=cwd))


def resource_list(items: list[dict], config: dict | None) -> str:
    doc = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items}
    if config is not None:
        doc["functionConfig"] = config
    return yaml.safe_dump(doc, sort_keys=False)


def krm(items: list[dict], config: dict | None) -> Outcome:
    return krmfn(stdin=resource_list(items, config))


def assert_refused(outcome: Outcome, *fragments: str | tuple[str, ...], lines: int = 1,
                   items: list[dict] | None = None, krm_mode: bool = True) -> list[str]:
    """The failure contract. Each fragment must be in a line (a tuple: all of it in the same line)."""
    err = outcome.stderr
    assert outcome.code == 1, f"exit {outcome.code}; stderr:\n{err}"
    assert "Traceback" not in err and "internal error" not in err, err
    assert len(outcome.lines) == lines, f"expected {lines} stderr line(s), got:\n{err}"
    for line in outcome.lines:
        assert line.startswith("[error] "), line
    for fragment in fragments:
        group = fragment if isinstance(fragment, tuple) else (fragment,)
        assert any(all(f in line for f in group) for line in outcome.lines), f"{group} not in:\n{err}"
    if krm_mode:
        out = yamlio.load_one(outcome.stdout, "stdout")
        assert out["kind"] == "ResourceList" and out["apiVersion"] == "config.kubernetes.io/v1"
        assert out["items"] == (items if items is not None else []), "items must come back unchanged"
        assert any(r["severity"] == "error" for r in out["results"])
        assert "internal error" not in json.dumps(out["results"])
    else:
        assert outcome.stdout == b"", "a failed plain-mode run must print nothing on stdout"
    return outcome.lines


def assert_passes(outcome: Outcome) -> dict:
    assert outcome.code == 0 and outcome.stderr == "", outcome.stderr
    return yamlio.load_one(outcome.stdout, "stdout")


def changed(obj: dict, path: str, value: object) -> dict:
    """A deep copy of `obj` with the value at `path` (`spec.tools[0].allow`) replaced, or removed
    when `value` is DELETE."""
    out = copy.deepcopy(obj)
    parts: list[str | int] = []
    for part in path.split("."):
        name, _, rest = part.partition("[")
        if name:
            parts.append(name)
        for index in filter(None, rest.replace("]", "").split("[")):
            parts.append(int(index))
    parent = out
    for part in parts[:-1]:
        parent = parent.setdefault(part, {}) if isinstance(part, str) else parent[part]
    if value is DELETE:
        del parent[parts[-1]]
    else:
        parent[parts[-1]] = value
    return out


DELETE = object()


def conformance_required():
    if not CRDS.is_dir():
        pytest.skip(f"{CRDS} is absent: the kagent CRDs live in ../shared")


# --- the baselines --------------------------------------------------------------------------------------


def rendered_agents() -> list[dict]:
    """AGENT expanded, then given its environment: what the policy and validate functions see."""
    expanded = assert_passes(krm([CATALOG, AGENT, OTHER], EXPAND))["items"]
    return assert_passes(krm(expanded, ENVIRONMENT))["items"]


def test_the_baselines_pass():
    """Every case below breaks one thing in an input that is otherwise valid."""
    rendered = rendered_agents()
    assert {i["kind"] for i in rendered} == {"Agent", "ModelConfig", "RemoteMCPServer", "ConfigMap", "ToolCatalog"}
    # the catalog goes on to the policy, as local config: kustomize leaves it out of the build
    [catalog] = [i for i in rendered if i["kind"] == "ToolCatalog"]
    assert catalog["metadata"]["annotations"]["config.kubernetes.io/local-config"] == "true"
    assert_passes(krm(rendered, POLICY))
    assert_passes(krm([CATALOG, AGENT], POLICY))
    if CRDS.is_dir():
        assert_passes(krm(rendered, CONFORMANCE))


# --- unreadable input, in every command -------------------------------------------------------------------

MALFORMED = {
    "unclosed flow": (b"a: [1, 2\n", "line 2 column 1"),
    "bad indentation": (b"a:\n  b: 1\n c: 2\n", "line 3 column 2"),
    "tab indentation": (b"a:\n\tb: 1\n", "line 2 column 1"),
    "duplicate key": (b"a: 1\nb: 2\na: 3\n", "duplicate key 'a'"),
    "duplicate nested key": (b"a:\n  x: 1\n  x: 2\n", "line 3 column 3: duplicate key 'x'"),
    "non-UTF-8 bytes": (b"a: caf\xe9\n", "not UTF-8 (byte 6"),
    "UTF-16 with BOM": ("a: 1\n".encode("utf-16"), "not UTF-8 (byte 0"),
    "NUL byte": (b"a: \x00\n", "line 1 column 4"),
    "deep nesting (flow)": (b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n", "line 1 column"),
    "deep nesting under the parser's limit": (b"a: " + b"[" * 500 + b"]" * 500 + b"\n", "nesting deeper than 200 levels"),
    "deep nesting (block)": ("".join("  " * i + f"k{i}:\n" for i in range(300)).encode() + b"  " * 300 + b"v\n",
                             "nesting deeper than 200 levels"),
    "alias bomb": (
        b"a: &a [x, x, x, x, x, x, x, x, x, x]\n" + b"".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join('*' + chr(97 + i) for _ in range(10))}]\n".encode()
            for i in range(9)), "more nodes than the input holds, more than 100,000 (an alias bomb?)"),
    "recursive alias": (b"a: &a [x, *a]\n", "an alias refers to a node that contains it (a recursive alias)"),
    "python object tag": (b"a: !!python/object/apply:os.system [id]\n",
                          "line 1 column 4: the YAML tag '!!python/object/apply:os.system' is not supported"),
    "unknown local tag": (b"a: !vault secret/x\n", "line 1 column 4: the YAML tag '!vault' is not supported"),
    # tags PyYAML's safe loader would construct: a set's order depends on the hash seed
    "set tag": (b"a: !!set {x, y, z}\n", "line 1 column 4: the YAML tag '!!set' is not supported"),
    "binary tag": (b"a:\n  b: !!binary aGVsbG8=\n", "line 2 column 6: the YAML tag '!!binary' is not supported"),
    "omap tag": (b"a: !!omap [x: 1]\n", "the YAML tag '!!omap' is not supported"),
    "pairs tag": (b"- !!pairs [x: 1]\n", "the YAML tag '!!pairs' is not supported"),
    "tag on a key": (b"!!set {k}: 1\n", "the YAML tag '!!set' is not supported"),
    "verbatim tag": (b"a: !<tag:example.com,2000:x> 1\n", "the YAML tag 'tag:example.com,2000:x' is not supported"),
    # work bounded while composing, before the whole input is parsed (bytes alone do not bound it)
    "too many nodes (dense scalars)": (b"a: [" + b"1," * 500_000 + b"1]\n", "more than 419,430 YAML nodes"),
    "too many nodes (a wide map)": (b"a: {" + b"".join(b"k%d: 1, " % i for i in range(220_000)) + b"z: 1}\n",
                                    "more than 419,430 YAML nodes"),
    "too many deep nodes": (b"a:\n" + (b"- " + b"[" * 190 + b"]" * 190 + b"\n") * 400,
                            "nodes counted by depth (too many nodes nested too deep)"),
    "unhashable key": (b"? [a, b]\n: 1\n", "found unhashable key"),
    "huge integer": (b"a: " + b"9" * 5000 + b"\n", "Exceeds the limit"),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_stdin_in_krm_mode(name):
    data, fragment = MALFORMED[name]
    assert_refused(krmfn(stdin=data), ("[error] <stdin>: ", fragment))


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_input_file_in_run_and_validate(name, tmp_path):
    data, fragment = MALFORMED[name]
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(POLICY))
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(data)
    assert_refused(krmfn("run", str(config), str(bad)), (f"[error] {bad}: ", fragment), krm_mode=False)
    assert_refused(krmfn("validate", "--crds", str(CRDS), str(bad)), (f"[error] {bad}: ", fragment),
                   krm_mode=False)


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_config_file_in_run_and_legacy(name, tmp_path):
    data, fragment = MALFORMED[name]
    config = tmp_path / "config.yaml"
    config.write_bytes(data)
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(OTHER))
    assert_refused(krmfn("run", str(config), str(good)), (f"[error] {config}: ", fragment), krm_mode=False)
    assert_refused(krmfn("legacy", str(config), stdin=yaml.safe_dump(OTHER)), (f"[error] {config}: ", fragment),
                   krm_mode=False)


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_stdin_in_legacy_mode(name, tmp_path):
    data, fragment = MALFORMED[name]
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(POLICY))
    assert_refused(krmfn("legacy", str(config), stdin=data), ("[error] <stdin>: ", fragment), krm_mode=False)


def test_a_utf8_bom_is_read_like_no_bom(tmp_path):
    """A UTF-8 BOM is legal YAML (editors on Windows write it): dropped, in every way in."""
    plain = resource_list([OTHER], POLICY).encode()
    assert krmfn(stdin=b"\xef\xbb\xbf" + plain).stdout == krmfn(stdin=plain).stdout
    config, items = tmp_path / "config.yaml", tmp_path / "items.yaml"
    config.write_bytes(b"\xef\xbb\xbf" + yaml.safe_dump(POLICY).encode())
    items.write_bytes(b"\xef\xbb\xbf" + yaml.safe_dump(OTHER).encode())
    run = krmfn("run", str(config), str(items))
    assert run.code == 0 and yamlio.load_all(run.stdout) == [OTHER], run.stderr
    legacy = krmfn("legacy", str(config), stdin=items.read_bytes())
    assert legacy.code == 0 and yamlio.load_all(legacy.stdout) == [OTHER], legacy.stderr


@pytest.mark.parametrize("document,fragment", [
    ("- just\n- a list\n", "expected a ResourceList mapping, found a list"),
    ("just a string\n", "expected a ResourceList mapping, found a string"),
    ("apiVersion: config.kubernetes.io/v2\nkind: ResourceList\nitems: []\n", "ResourceList apiVersion"),
    ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: {}\n", "items: expected a list"),
    ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig: [1]\n",
     "functionConfig: expected an object"),
])
def test_resource_lists_of_the_wrong_shape(document, fragment):
    assert_refused(krmfn(stdin=document), ("[error] <stdin>: ", fragment))


# --- YAML 1.1 surprises: krmfn reads YAML as kustomize does ----------------------------------------------

# What each plain scalar is, for kustomize (kyaml / go-yaml v3) and so for krmfn, in every way in.
SCALARS = {
    "on": "on", "off": "off", "yes": "yes", "no": "no", "No": "No", "Y": "Y", "y": "y",
    "true": True, "False": False, "~": None, "null": None, "": None,
    "0755": 493, "0o755": 493, "08": 8, "0x1F": 31, "0b101": 5, "1_000": 1000, "+12": 12, "-7": -7,
    "1e3": 1000.0, "1.5e3": 1500.0, "3.": 3.0, ".5": 0.5, "-.inf": float("-inf"),
    "1:30": "1:30", "=": "=", "<<x": "<<x", "2001-12-14": "2001-12-14", "0b_": "0b_", "1.2.3": "1.2.3",
}


def test_plain_scalars_are_typed_as_kustomize_types_them():
    loaded = yamlio.load_one("".join(f"k{i}: {text}\n" for i, text in enumerate(SCALARS)), "scalars")
    assert list(loaded.values()) == list(SCALARS.values())


def test_strings_that_any_reader_would_type_otherwise_are_quoted():
    """Output strings such as `on` (a boolean for YAML 1.1, so for the API server) or `1e3` (a
    number for kustomize) are quoted, so no reader downstream changes their type."""
    strings = [text for text in SCALARS if text] + ["1:30:00", "0o17", "0X1F", "1E5", "+.5", "null", "NULL", "y"]
    dumped = yamlio.dump({"values": strings})
    assert yaml.safe_load(dumped) == {"values": strings}  # PyYAML's YAML 1.1 reading
    assert yamlio.load_one(dumped, "out") == {"values": strings}  # kustomize's YAML 1.2 reading


def test_kustomize_reads_krmfn_output_and_krmfn_reads_kustomize_output_the_same(tmp_path):
    """Through the real kustomize: a ConfigMap passed through krmfn keeps every value's type."""
    kubectl = shutil.which("kubectl") or ("/usr/bin/kubectl" if Path("/usr/bin/kubectl").exists() else None)
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    source = "".join(f"  k{i}: {text}\n" for i, text in enumerate(SCALARS) if text not in ("-.inf", "2001-12-14"))
    (tmp_path / "thing.yaml").write_text(f"apiVersion: v1\nkind: Thing\nmetadata:\n  name: x\nspec:\n{source}")
    (tmp_path / "kustomization.yaml").write_text("resources: [thing.yaml]\n")
    rendered = subprocess.run([kubectl, "kustomize", str(tmp_path)], capture_output=True, timeout=60)
    assert rendered.returncode == 0, rendered.stderr
    as_kustomize_typed = yamlio.load_one(rendered.stdout, "kustomize")["spec"]
    assert as_kustomize_typed == yamlio.load_one((tmp_path / "thing.yaml").read_bytes(), "source")["spec"]
    # and krmfn's output, read back by kustomize, is unchanged
    (tmp_path / "thing.yaml").write_text(yamlio.dump({"apiVersion": "v1", "kind": "Thing", "metadata": {"name": "x"},
                                                      "spec": {"strings": [t for t in SCALARS if t]}}))
    again = subprocess.run([kubectl, "kustomize", str(tmp_path)], capture_output=True, timeout=60)
    assert yamlio.load_one(again.stdout, "kustomize")["spec"] == {"strings": [t for t in SCALARS if t]}


def test_yaml_11_words_are_names_in_every_way_in(tmp_path):
    """An agent named `on` in namespace `yes` on tier `no`: strings, as kustomize hands them over."""
    source = textwrap.dedent("""\
        apiVersion: krmfn.dev/v1alpha1
        kind: AgentDescription
        metadata: {name: on, namespace: yes}
        spec:
          description: The on agent.
          prompt: {text: "I am {{ name }}."}
          model: no
        """)
    config = tmp_path / "expand.yaml"
    config.write_text(yaml.safe_dump(EXPAND))
    (tmp_path / "agent.yaml").write_text(source)
    run = krmfn("run", str(config), str(tmp_path / "agent.yaml"))
    assert run.code == 0, run.stderr
    agent = yamlio.load_one(run.stdout, "out")
    assert (agent["metadata"]["name"], agent["metadata"]["namespace"]) == ("on", "yes")
    assert agent["spec"]["declarative"]["modelConfig"] == "model-no"
    legacy = krmfn("legacy", str(config), stdin=source)
    assert legacy.stdout == run.stdout
    assert "'on'" in run.stdout.decode() and "'no'" in run.stdout.decode()  # quoted for YAML 1.1 readers
    # the environment's tier `no` (a mapping key), unquoted too
    environment = tmp_path / "environment.yaml"
    environment.write_text("apiVersion: krmfn.dev/v1alpha1\nkind: ModelEnvironment\nmetadata: {name: off}\n"
                           "spec:\n  tiers:\n    no: {provider: Ollama, model: llama3.2}\n")
    (tmp_path / "expanded.yaml").write_bytes(run.stdout)
    rendered = krmfn("run", str(environment), str(tmp_path / "expanded.yaml"))
    assert rendered.code == 0, rendered.stderr
    model_config = next(i for i in yamlio.load_all(rendered.stdout) if i["kind"] == "ModelConfig")
    assert model_config["metadata"] == {"name": "model-no", "namespace": "yes", "annotations": {"krmfn.dev/environment": "off"},
                                      "labels": {"app.kubernetes.io/managed-by": "krmfn", "krmfn.dev/model-tier": "no"}}


@pytest.mark.parametrize("field,text,fragment", [
    ("metadata.name", "0755", "(got 493: YAML reads it unquoted as a number; quote it)"),
    ("metadata.namespace", "1e3", "(got 1000.0: YAML reads it unquoted as a number; quote it)"),
    ("spec.description", "true", "(got True: YAML reads it unquoted as a boolean; quote it)"),
    ("spec.description", "~", "Input should be a valid string (got None)"),
    ("spec.model", "0x1F", "(got 31: YAML reads it unquoted as a number; quote it)"),
    ("spec.deployment.replicas", "1.5e3", "Input should be a valid integer (got 1500.0)"),
    ("spec.memory.ttlDays", "0", "greater than or equal to 1"),
    ("spec.skills[0].id", "false", "(got False: YAML reads it unquoted as a boolean; quote it)"),
    ("spec.effort", "hihg", "effort 'hihg' is not a level; did you mean 'high'? (levels: low, medium, high)"),
])
def test_yaml_scalars_of_the_wrong_type_name_the_field(field, text, fragment, tmp_path):
    agent = changed(AGENT, field, "PLACEHOLDER")
    source = yaml.safe_dump(agent).replace("PLACEHOLDER", text)
    config = tmp_path / "expand.yaml"
    config.write_text(yaml.safe_dump(EXPAND))
    (tmp_path / "agent.yaml").write_text(source)
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(CATALOG))
    ref = "krmfn.dev/v1alpha1/AgentDescription/"
    assert_refused(krmfn("run", str(config), str(tmp_path)), (ref, f" {field}: ", fragment, "(agent.yaml)"),
                   krm_mode=False)


# --- wrong types, everywhere ----------------------------------------------------------------------------------

AGENT_REF = "krmfn.dev/v1alpha1/AgentDescription/team-a/helper"
WRONG_DESCRIPTION_FIELDS = [
    ("metadata.name", 5), ("metadata.name", None), ("metadata.namespace", ["team-a"]), ("metadata.labels", "x"),
    ("metadata.labels.team", 5), ("metadata.annotations", ["x"]), ("metadata", "helper"), ("spec", "x"),
    ("spec", None), ("spec.description", 5), ("spec.description", ["x"]), ("spec.description", ""),
    ("spec.description", DELETE), ("spec.prompt", "x"), ("spec.prompt", DELETE), ("spec.prompt.text", 5),
    ("spec.prompt.text", {"a": 1}), ("spec.prompt.vars", ["x"]), ("spec.prompt.vars", "x"), ("spec.prompt.mode", "Files"),
    ("spec.prompt.mode", 1), ("spec.model", 5), ("spec.model", "Standard"), ("spec.model", ["standard"]),
    ("spec.model", "a" * 51), ("spec.tools", "kagent-tools"), ("spec.tools", {"server": "kagent-tools"}),
    ("spec.tools[0]", "kagent-tools"), ("spec.tools[0].server", 5), ("spec.tools[0].server", ""),
    ("spec.tools[0].server", DELETE), ("spec.tools[0].allow", "k8s_get_resources"), ("spec.tools[0].allow", [5]),
    ("spec.tools[0].allow", DELETE), ("spec.tools[0].requireApproval", "k8s_get_resources"),
    ("spec.delegates", "other"), ("spec.delegates", [5]), ("spec.delegates", ["a/b/c"]), ("spec.skills", "x"),
    ("spec.skills", [5]), ("spec.skills[0].name", DELETE), ("spec.skills[0].examples", "Why?"),
    ("spec.memory", "standard"), ("spec.memory.ttlDays", 0), ("spec.memory.ttlDays", "a week"),
    ("spec.memory.model", 5), ("spec.deployment", "big"), ("spec.deployment.replicas", "three"),
    ("spec.effort", "hgih"), ("spec.effort", 5), ("spec.effort", ["high"]), ("spec.effort", "HIGH"),
    ("spec.deployment.replicas", 1.5), ("spec.deployment.resources", "lots"), ("spec.stream", "maybe"), ("spec.stream", [True]), ("spec.byo", "image"), ("spec.byo", {"image": 5}),
]


@pytest.mark.parametrize("function,path,value", [
    (function, path, value) for function in ("AgentExpansion", "ToolPolicy") for path, value in WRONG_DESCRIPTION_FIELDS
    # the policy reads the tool grants; the deployment is checked (against kagent's schema) by expand
    if not (function == "ToolPolicy" and path.startswith("spec.deployment"))
], ids=lambda v: repr(v)[:30])
def test_wrong_types_in_agent_descriptions(function, path, value):
    agent = changed(AGENT, path, value)
    items = [CATALOG, agent]
    ref = "krmfn.dev/v1alpha1/AgentDescription" if path.startswith("metadata") else AGENT_REF
    field = path
    if value is DELETE and path in ("spec.prompt",):
        field = "spec"  # "prompt is required": a rule of the spec as a whole
    assert_refused(krm(items, CONFIGS[function]), (ref, f" {field}"), items=items)


CATALOG_REF = "krmfn.dev/v1alpha1/ToolCatalog/team-a/tools"
WRONG_CATALOG_FIELDS = [
    ("spec.servers", "kagent-tools", "spec.servers"), ("spec.servers", [], "spec.servers"),
    ("spec.servers", [5], "spec.servers[0]"), ("spec.servers[0].name", "Kagent_Tools", "spec.servers[0].name"),
    ("spec.servers[0].name", 5, "spec.servers[0].name"), ("spec.servers[0].namespace", "Team A", "spec.servers[0].namespace"),
    ("spec.servers[0].tools", {"k8s_get_resources": "dangerous"}, "spec.servers[0].tools.k8s_get_resources"),
    ("spec.servers[0].tools", ["k8s_get_resources"], "spec.servers[0].tools"),
    ("spec.servers[0].toolsFrom", "github", "spec.servers[0].toolsFrom"),
    ("spec.servers[0].remote", "http://x", "spec.servers[0].remote"),
    ("spec.servers[0].remote", {"url": 5}, "spec.servers[0].remote.url"),
    ("spec.servers[0].remote", {"url": "http://x", "protocol": "GRPC"}, "spec.servers[0].remote.protocol"),
    ("spec.servers[0].remote", DELETE, "spec.servers[0]"),
    ("spec.servers[0].mcpServer", {"image": "x", "port": 0}, "spec.servers[0].mcpServer.port"),
    ("spec.servers[0].allowedNamespaces", "Some", "spec.servers[0].allowedNamespaces"),
]


@pytest.mark.parametrize("function", ["AgentExpansion", "ToolPolicy"])
@pytest.mark.parametrize("path,value,field", WRONG_CATALOG_FIELDS, ids=lambda v: repr(v)[:30])
def test_wrong_types_in_tool_catalogs(function, path, value, field):
    items = [changed(CATALOG, path, value), OTHER]  # no agent: the catalog alone is checked
    assert_refused(krm(items, CONFIGS[function]), (CATALOG_REF, f" {field}"), items=items)


CONFIG_CASES = {
    "AgentExpansion": [
        ("spec", "x", "spec"), ("spec.promptMode", "Files", "spec.promptMode"), ("spec.runtime", "rust", "spec.runtime"),
        ("spec.keepPromptLibrary", "maybe", "spec.keepPromptLibrary"), ("spec.environment", 5, "spec.environment"),
        ("spec.environment", "", "spec.environment"), ("metadata", "expand", "metadata"), ("metadata.name", 5, "metadata.name"),
    ],
    "ModelEnvironment": [
        ("spec", "x", "spec"), ("spec", DELETE, "spec"), ("spec.tiers", [], "spec.tiers"), ("spec.tiers", {}, "spec.tiers"),
        ("spec.tiers.standard", "llama3.2", "spec.tiers.standard"),
        ("spec.tiers.standard.provider", "Llama", "spec.tiers.standard.provider"),
        ("spec.tiers.standard.provider", 5, "spec.tiers.standard.provider"),
        ("spec.tiers.standard.model", 5, "spec.tiers.standard.model"),
        ("spec.tiers.standard.model", DELETE, "spec.tiers.standard.model"),
        ("spec.tiers.standard.apiKeySecret", "ollama-key", "spec.tiers.standard.apiKeySecret"),
        ("spec.tiers.standard.apiKeySecret", {"name": "Bad_Name", "key": "k"}, "spec.tiers.standard.apiKeySecret.name"),
        ("spec.tiers.standard.ollama", "http://ollama", "spec.tiers.standard.ollama"),
        ("spec.tiers.standard.ollama.host", 5, "spec.tiers.standard.ollama.host"),
        ("spec.tiers.standard.openAI", {"baseUrl": "http://x"}, "spec.tiers.standard.openAI"),
        ("spec.tiers.standard.defaultHeaders", "x", "spec.tiers.standard.defaultHeaders"),
        ("spec.tiers.standard.tls", "on", "spec.tiers.standard.tls"),
        ("spec.tiers.standard.efforts", "high", "spec.tiers.standard.efforts"),
        ("spec.tiers.standard.efforts", {"high": "x"}, "spec.tiers.standard.efforts.high"),
        ("spec.tiers.standard.efforts", {"hihg": {}}, "spec.tiers.standard.efforts.hihg"),
        ("spec.tiers.standard.efforts", {"high": {"openAI": {}}}, "spec.tiers.standard.efforts.high.openAI"),
        ("spec.tiers.standard.efforts", {"high": {"ollama": {"options": {"think": True}}}},
         "spec.tiers.standard.efforts.high.ollama.options.think"),
        ("spec.tiers.standard.tls", {"disableVerify": "yes"}, "spec.tiers.standard.tls.disableVerify"),
        ("spec.defaultTier", 5, "spec.defaultTier"), ("spec.defaultTier", "premium", "spec.defaultTier"),
        ("spec.kagentVersion", "v1.0", "spec.kagentVersion"), ("spec.kagentVersion", 0.9, "spec.kagentVersion"),
        ("spec.environment", "Prod", "spec.environment"), ("spec.canaries", "x", "spec.canaries"),
        ("spec.canaries", [5], "spec.canaries[0]"), ("spec.canaries", [{"name": "c", "tier": "standard"}], "spec.canaries[0]"),
        ("spec.canaries", [{"name": "c", "tier": "premium", "agents": ["helper"]}], "spec.canaries[0].tier"),
        ("metadata.name", 5, "metadata.name"),
    ],
    "ToolPolicy": [
        ("spec", "x", "spec"), ("spec.rules", "x", "spec.rules"), ("spec.rules", [5], "spec.rules[0]"),
        ("spec.rules", [{"name": "r"}], "spec.rules[0]"), ("spec.rules[0].name", "Read Only", "spec.rules[0].name"),
        ("spec.rules[0].name", "delegation-cycle", "spec"), ("spec.rules[0].severity", "fatal", "spec.rules[0].severity"),
        ("spec.rules[0].match", "all", "spec.rules[0].match"),
        ("spec.rules[0].match", {"namespaces": [5]}, "spec.rules[0].match.namespaces[0]"),
        ("spec.rules[0].match", {"namespaces": ["Team A"]}, "spec.rules[0].match.namespaces"),
        ("spec.rules[0].match", {"agentSelector": {}}, "spec.rules[0].match.agentSelector"),
        ("spec.rules[0].allowedRisks", ["dangerous"], "spec.rules[0].allowedRisks[0]"),
        ("spec.rules[0].allowedRisks", "read", "spec.rules[0].allowedRisks"),
        ("spec.rules[0].maxTools", -1, "spec.rules[0].maxTools"), ("spec.rules[0].maxTools", "many", "spec.rules[0].maxTools"),
        ("spec.rules[0].explicitTools", "maybe", "spec.rules[0].explicitTools"),
        ("spec.rules[0].models", {}, "spec.rules[0].models"),
        ("spec.maxDelegationDepth", 0, "spec.maxDelegationDepth"), ("spec.maxDelegationDepth", 11, "spec.maxDelegationDepth"),
        ("spec.unverifiable", "panic", "spec.unverifiable"), ("spec.catalog", "x", "spec.catalog"),
        ("spec.catalog", [{"name": "s", "namespace": "x"}], "spec.catalog[0]"),
        ("spec.namespaceLabels", {"Bad NS": {}}, "spec.namespaceLabels.Bad NS"), ("spec.namespaceLabels", "x", "spec.namespaceLabels"),
        ("spec.environment", "", "spec.environment"),
    ],
    "KagentConformance": [
        ("spec", "x", "spec"), ("spec.crds", "crds", "spec.crds"), ("spec.crds", [5], "spec.crds[0]"),
        ("spec.crds", ["/nonexistent/kagent-crds"], "spec.crds"), ("spec.crds", [], "spec.crds"),
        ("spec.external", ["Secret/x"], "spec.external[0]"), ("spec.external", "x", "spec.external"),
        ("spec.checkReferences", "maybe", "spec.checkReferences"),
        ("spec.warningsAsErrors", "maybe", "spec.warningsAsErrors"),
    ],
}


@pytest.mark.parametrize("function,path,value,field",
                         [(f, *case) for f, cases in CONFIG_CASES.items() for case in cases],
                         ids=lambda v: repr(v)[:30])
def test_wrong_types_in_function_configs(function, path, value, field):
    if function == "KagentConformance":
        conformance_required()
    items = [OTHER]
    config = changed(CONFIGS[function], path, value)
    name = "" if path.startswith("metadata") else "/" + config["metadata"]["name"]
    assert_refused(krm(items, config), (f"{API}/{function}{name} {field}",), items=items)


@pytest.mark.parametrize("kind", [5, ["AgentExpansion"], {"a": 1}, None, "agentexpansion", ""])
def test_function_config_kinds_that_are_not_kinds(kind):
    items = [OTHER]
    assert_refused(krm(items, dict(EXPAND, kind=kind)), ("unknown function config", " kind: "), items=items)


@pytest.mark.parametrize("metadata,problems", [
    ("x", ["metadata"]), (5, ["metadata"]), (["a"], ["metadata"]),
    ({"name": ["a"], "namespace": {"b": 1}}, ["metadata.name", "metadata.namespace"]),
    ({"labels": "x"}, ["metadata.labels", "metadata.name"]),
])
@pytest.mark.parametrize("function", list(CONFIGS))
def test_passthrough_items_with_broken_metadata_are_not_a_crash(function, metadata, problems):
    """Items krmfn does not own pass through, whatever their metadata; krmfn's own kinds are refused."""
    if function == "KagentConformance":
        conformance_required()
    junk = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": {"a": "b"}},
            {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}]
    out = krm(junk, CONFIGS[function])
    assert out.code == 0 and out.stderr == "", out.stderr
    assert yamlio.load_one(out.stdout, "out")["items"] == sorted(junk, key=lambda i: i["kind"])
    if function in ("AgentExpansion", "ToolPolicy"):
        mine = [dict(AGENT, metadata=metadata), CATALOG]
        outcome = krm(mine, CONFIGS[function])
        assert_refused(outcome, *[("krmfn.dev/v1alpha1/AgentDescription", f" {field}: ") for field in problems],
                       lines=len(problems), items=mine)


# --- unknown fields -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("target,path,hint", [
    ("agent", "spec.promt", "did you mean 'prompt'?"), ("agent", "spec.prompt.txt", "did you mean 'text'?"),
    ("agent", "spec.tools[0].alow", "did you mean 'allow'?"), ("agent", "spec.memory.ttl", "did you mean 'ttlDays'?"),
    ("agent", "spec.colour", "known fields:"), ("agent", "metadata.nmae", "did you mean 'name'?"),
    ("agent", "kindd", "did you mean 'kind'?"), ("catalog", "spec.servers[0].remote.urll", "did you mean 'url'?"),
    ("AgentExpansion", "spec.promtMode", "did you mean 'promptMode'?"),
    ("ModelEnvironment", "spec.tiers.standard.modle", "did you mean 'model'?"),
    ("ModelEnvironment", "spec.defaulTier", "did you mean 'defaultTier'?"),
    ("ToolPolicy", "spec.rules[0].allowedRisk", "did you mean 'allowedRisks'?"),
    ("ToolPolicy", "spec.rule", "did you mean 'rules'?"),
    ("KagentConformance", "spec.crd", "did you mean 'crds'?"),
])
def test_unknown_fields_are_named_with_a_suggestion(target, path, hint):
    if target == "KagentConformance":
        conformance_required()
    function = target if target in CONFIGS else "AgentExpansion"
    config, items = CONFIGS[function], [CATALOG, AGENT]
    if target == "agent":
        items = [CATALOG, changed(AGENT, path, "x")]
    elif target == "catalog":
        items = [changed(CATALOG, path, "x"), OTHER]
    else:
        config, items = changed(config, path, "x"), [OTHER]
    assert_refused(krm(items, config), (f" {path}: unknown field", hint), items=items)


# --- missing references ----------------------------------------------------------------------------------------

PROMPTS = {"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "agent-prompts", "namespace": NS, "labels": {"krmfn.dev/prompt-library": "true"}},
           "data": {"helper.md": "You are {{ name }}."}}


@pytest.mark.parametrize("path,value,field,fragment", [
    ("spec.delegates", ["nobody"], "spec.delegates[0]", "agent team-a/nobody does not exist"),
    ("spec.delegates", ["other-ns/helper"], "spec.delegates[0]", "agent other-ns/helper does not exist"),
    ("spec.delegates", ["helper"], "spec.delegates[0]", "cannot delegate to itself"),
    ("spec.tools[0].server", "grafana", "spec.tools[0].server", "server 'grafana' is not in any ToolCatalog"),
    ("spec.tools[0].server", "kagent-tool", "spec.tools[0].server", "did you mean"),
    ("spec.tools[0].allow", ["k8s_get_resource"], "spec.tools[0].allow[0]", "did you mean 'k8s_get_resources'?"),
    ("spec.tools[0].allow", ["*"], "spec.tools[0].allow[0]", "wildcard"),
    ("spec.tools[0].allow", [], "spec.tools[0].allow", "empty allow-list"),
    ("spec.tools[0].requireApproval", ["k8s_delete_resource"], "spec.tools[0].requireApproval[0]", "not in allow"),
    ("spec.prompt", {"file": "missing.md"}, "spec.prompt", "prompt file 'missing.md' not found"),
    ("spec.prompt", {"configMap": {"name": "nope", "key": "helper.md"}}, "spec.prompt", "'nope' not found"),
    ("spec.prompt", {"configMap": {"name": "agent-prompts", "key": "nope.md"}}, "spec.prompt", "has no key 'nope.md'"),
    ("spec.prompt", {"text": "{{ nothing }}"}, "spec.prompt", "'nothing' is undefined"),
])
def test_missing_references_in_expand(path, value, field, fragment):
    items = [CATALOG, PROMPTS, changed(AGENT, path, value)]
    assert_refused(krm(items, EXPAND), (AGENT_REF, f" {field}: ", fragment), items=items)


def test_missing_references_in_environment():
    rendered = [i for i in rendered_agents() if i["kind"] != "ModelConfig"]
    agent = next(i for i in rendered if i["kind"] == "Agent")
    asks_premium = changed(agent, "metadata.annotations", dict(agent["metadata"]["annotations"],
                                                               **{"krmfn.dev/model-tier": "premium"}))
    items = [i if i is not agent else asks_premium for i in rendered]
    assert_refused(krm(items, ENVIRONMENT),
                   ("kagent.dev/v1alpha2/Agent/team-a/helper metadata.annotations[krmfn.dev/model-tier]",
                    "tier 'premium'", "not defined in environment dev"), items=items)


def test_a_policy_that_cannot_check_a_missing_model_config_says_so():
    rendered = [i for i in rendered_agents() if i["kind"] != "ModelConfig"]
    policy = changed(POLICY, "spec.rules", [{"name": "hosted", "models": {"forbiddenProviders": ["Ollama"]}}])
    policy["spec"]["unverifiable"] = "error"
    assert_refused(krm(rendered, policy),
                   ("kagent.dev/v1alpha2/Agent/team-a/helper spec.declarative.modelConfig",
                    "rule hosted: cannot check: ModelConfig model-standard is not in the render"),
                   ("spec.declarative.memory.modelConfig", "rule hosted: cannot check"), lines=2, items=rendered)


def test_validate_names_a_reference_the_render_lacks():
    conformance_required()
    rendered = [i for i in rendered_agents() if i["kind"] != "ModelConfig"]
    lines = assert_refused(krm(rendered, CONFORMANCE), ("kagent.dev/v1alpha2/Agent/team-a/helper", "model-standard"),
                           lines=2, items=rendered)
    assert any("spec.declarative.modelConfig" in line for line in lines)
    assert any("spec.declarative.memory.modelConfig" in line for line in lines)


# --- inline secrets: refused, never shown ------------------------------------------------------------------------

SECRET_PLACES = [  # (function, where, path, value, the field the one error names)
    ("ModelEnvironment", "config", "spec.tiers.standard.apiKey", SECRET, "spec.tiers.standard.apiKey"),
    ("ModelEnvironment", "config", "spec.tiers.standard.apiKeySecret", SECRET, "spec.tiers.standard.apiKeySecret"),
    ("ModelEnvironment", "config", "spec.tiers.standard.model", SECRET, "spec.tiers.standard.model"),
    ("ModelEnvironment", "config", "spec.tiers.standard.defaultHeaders", {"Authorization": f"Bearer {SECRET}"},
     "spec.tiers.standard.defaultHeaders.Authorization"),
    ("ModelEnvironment", "config", "spec.tiers.standard.defaultHeaders", {"X-Api-Key": "hunter2-hunter2"},
     "spec.tiers.standard.defaultHeaders.X-Api-Key"),
    ("ModelEnvironment", "config", "spec.tiers.standard.ollama.host", f"http://admin:{SECRET}@ollama:11434",
     "spec.tiers.standard.ollama.host"),
    ("ModelEnvironment", "config", "spec.tiers.standard.ollama", {"host": "http://o", "token": AWS_KEY},
     "spec.tiers.standard.ollama.token"),
    ("ModelEnvironment", "config", "spec.password", "hunter2-hunter2", "spec.password"),
    ("ModelEnvironment", "config", "metadata.annotations", {"note": AWS_KEY}, "metadata.annotations.note"),
    ("AgentExpansion", "config", "spec.apiKey", SECRET, "spec.apiKey"),
    ("ToolPolicy", "config", "spec.rules[0].name", SECRET, "spec.rules[0].name"),
    ("ToolPolicy", "config", "spec.namespaceLabels", {SECRET: {"a": "b"}}, "spec.namespaceLabels.<redacted>"),
    ("KagentConformance", "config", "spec.external", [f"Secret/team-a/{SECRET}"], "spec.external[0]"),
    ("AgentExpansion", "agent", "spec.model", SECRET, "spec.model"),
    ("AgentExpansion", "agent", "spec.tools[0].server", SECRET, "spec.tools[0].server"),
    ("AgentExpansion", "agent", "spec.tools[0].allow", [SECRET], "spec.tools[0].allow[0]"),
    ("AgentExpansion", "agent", "spec.delegates", [SECRET], "spec.delegates[0]"),
    ("AgentExpansion", "agent", "spec.memory.model", AWS_KEY, "spec.memory.model"),
    ("AgentExpansion", "agent", "spec.deployment.replicas", SECRET, "spec.deployment.replicas"),
    ("AgentExpansion", "agent", "spec.token", SECRET, "spec.token"),
    ("AgentExpansion", "agent", "spec.prompt.mode", SECRET, "spec.prompt.mode"),
    ("ToolPolicy", "agent", "spec.model", SECRET, "spec.model"),
    ("ToolPolicy", "agent", "spec.delegates", [f"x/{SECRET}"], "spec.delegates[0]"),
]


@pytest.mark.parametrize("function,where,path,value,field", SECRET_PLACES, ids=lambda v: repr(v)[:30])
def test_inline_secrets_are_refused_and_never_shown(function, where, path, value, field):
    if function == "KagentConformance":
        conformance_required()
    config, items = CONFIGS[function], [CATALOG, AGENT]
    if where == "config":
        config = changed(config, path, value)
        ref = f"{API}/{function}/{config['metadata']['name']}"
    else:
        items = [CATALOG, changed(AGENT, path, value)]
        ref = AGENT_REF
    outcome = krm(items, config)
    assert_refused(outcome, (f"{ref} {field}: ",), items=items)
    shown = outcome.stderr + json.dumps(yamlio.load_one(outcome.stdout, "out")["results"])
    for secret in (SECRET, AWS_KEY, "hunter2", SECRET[8:20]):
        assert secret not in shown
    if function == "ModelEnvironment":
        # the function config comes back in the output ResourceList: redacted
        assert SECRET not in outcome.stdout.decode() and AWS_KEY not in outcome.stdout.decode()


def test_inline_secrets_in_run_mode_are_not_shown(tmp_path):
    config = tmp_path / "environment.yaml"
    config.write_text(yaml.safe_dump(changed(ENVIRONMENT, "spec.tiers.standard.apiKey", SECRET)))
    (tmp_path / "items.yaml").write_text(yaml.safe_dump(OTHER))
    for args in (("run", str(config), str(tmp_path / "items.yaml")), ("run", "--resource-list", str(config))):
        outcome = krmfn(*args, stdin=yaml.safe_dump(OTHER))
        assert outcome.code == 1 and SECRET not in outcome.stderr and SECRET not in outcome.stdout.decode()
        assert outcome.lines == ["[error] krmfn.dev/v1alpha1/ModelEnvironment/dev spec.tiers.standard.apiKey: "
                                 "literal credential refused: 'apiKey' is a field that holds a credential; "
                                 "credentials are given only by reference: apiKeySecret: {name: <Secret>, key: <key>} "
                                 "(the value is not shown)"]


# --- Jinja2: the sandbox holds, and bounds memory and time ---------------------------------------------------------

SANDBOX = [
    ("{{ ''.__class__ }}", "access to attribute '__class__' of 'str' object is unsafe"),
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "'__class__' of 'str' object is unsafe"),
    ("{{ cycler.__init__.__globals__ }}", "'__init__' of 'type' object is unsafe"),
    ("{{ cycler.__init__.__globals__.os.system('id') }}", "is unsafe"),
    ("{{ joiner.__init__.__globals__ }}", "is unsafe"),
    ("{{ namespace.__init__.__globals__ }}", "is unsafe"),
    ("{{ self._TemplateReference__context }}", "'_TemplateReference__context' of 'TemplateReference' object is unsafe"),
    ("{{ self.__dict__ }}", "is unsafe"),
    ("{% set x = [].append %}{{ x(1) }}", "'append' of 'list' object is unsafe"),
    ("{{ vars.update({'a': 1}) }}", "'update' of 'dict' object is unsafe"),
    ("{{ vars.__class__ }}", "is unsafe"),
    ("{{ tools.__class__.__base__.__subclasses__() }}", "is unsafe"),
    ("{{ ''|attr('__class__') }}", "is unsafe"),
    ("{{ '{0.__class__}'.format(1) }}", "is unsafe"),
    ("{{ (1).__class__.__bases__ }}", "is unsafe"),
    ("{{ request.application.__globals__ }}", "'request' is undefined"),
    ("{{ config.items() }}", "'config' is undefined"),
    ("{{ lipsum.__globals__['os'] }}", "'lipsum' is undefined"),
    ("{{ get_flashed_messages.__globals__ }}", "is undefined"),
    ("{% include '/etc/passwd' %}", "template '/etc/passwd' not found: a prompt cannot include"),
    ("{% import '../../etc/passwd' as p %}", "not found: a prompt cannot include"),
    ("{% extends 'base.md' %}", "not found: a prompt cannot include"),
    ("{{ 'a' * 10**9 }}", "'*' would build a value of 1,000,000,000 items"),
    ("{{ [0] * 10**8 }}", "'*' would build a value"),
    ("{{ 10 ** 1000000 }}", "'**' would build a number"),
    ("{{ 'x'.ljust(10**9) }}", "str.ljust with a width over"),
    ("{{ '{:>999999999}'.format(1) }}", "a format field with a huge or computed width"),
    ("{{ '%999999999d' % 1 }}", "a %-format with a huge or computed width"),
    ("{{ '%*d'|format(999999999, 1) }}", "a %-format with a huge or computed width"),
    ("{{ '%99999999d'|format(1) }}", "a %-format with a huge or computed width"),
    ("{{ 'x'|center(10**9) }}", "filter center with an argument over"),
    ("{{ [1]|batch(10**9, 0)|list }}", "filter batch with an argument over"),
    ("{{ range(10**9)|list }}", "Range too big"),
    ("{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
     "the rendered prompt is larger than 1024 KiB"),
    ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "RecursionError"),
    ("{{ 1 / 0 }}", "ZeroDivisionError"),
    ("{% for %}", "template syntax error"),
]


@pytest.mark.parametrize("template,fragment", SANDBOX, ids=[t for t, _ in SANDBOX])
def test_templates_cannot_escape_the_sandbox(template, fragment):
    items = [CATALOG, changed(AGENT, "spec.prompt.text", template)]
    assert_refused(krm(items, EXPAND), (AGENT_REF, " spec.prompt: spec.prompt.text", fragment), items=items)


def test_a_runaway_template_loop_is_stopped(monkeypatch):
    from krmfn.expand import prompts

    monkeypatch.setattr(prompts, "RENDER_SECONDS", 0.3)
    loop = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    items = [CATALOG, changed(AGENT, "spec.prompt.text", loop)]
    assert_refused(krm(items, EXPAND), (AGENT_REF, " spec.prompt: ", "spec.prompt.text line 1: rendering used up "
                                        "the 0.3 s render budget of all prompts of this run"), items=items)


def test_runaway_templates_share_one_budget_per_run(monkeypatch):
    """Six runaway prompts took six times the deadline (30 s at 5 s each): now one budget per run."""
    import time

    from krmfn.expand import prompts

    monkeypatch.setattr(prompts, "RENDER_SECONDS", 0.5)
    loop = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    agents = [changed(changed(AGENT, "spec.prompt.text", loop), "metadata.name", f"helper-{i}") for i in range(6)]
    items = [CATALOG, *agents]
    start = time.monotonic()
    outcome = krm(items, EXPAND)
    assert time.monotonic() - start < 2.5  # 0.5 s for all, plus a loaded machine's slack (3 s before)
    lines = assert_refused(outcome, lines=6, items=items)
    assert sum("rendering used up the 0.5 s render budget" in line for line in lines) == 1, lines
    assert sum("not rendered: the prompts of this run used up their 0.5 s render budget" in line
               for line in lines) == 5, lines


# Values grown step by step (each step within the operator checks) or by a chain of filters: the
# render's memory budget stops them. (`namespace` is the agent's namespace in a prompt, so Jinja2's
# namespace() loops are out of reach.)
MEMORY_BOMBS = [
    "{% set a = 'x' * 1000000 %}" + "".join(
        f"{{% set {n} = {'~'.join([p] * 10)} %}}" for p, n in zip("abc", "bcd")) + "{{ d|length }}",
    "{% set a = [0] * 1000000 %}" + "".join(
        f"{{% set {n} = {'+'.join([p] * 10)} %}}" for p, n in zip("abc", "bcd")) + "{{ d|length }}",
    "{{ 'aaaa' " + "| replace('a', 'aaaa') " * 20 + "}}",
]


@pytest.mark.parametrize("template", MEMORY_BOMBS, ids=["concat-chain", "list-chain", "replace-chain"])
def test_a_template_cannot_take_more_than_its_memory_budget(template):
    from krmfn.expand import prompts

    items = [CATALOG, changed(AGENT, "spec.prompt.text", template)]
    budget = f"rendering needed more than {prompts.RENDER_MEMORY_BYTES // 2**20} MiB of memory"
    assert_refused(krm(items, EXPAND), (AGENT_REF, " spec.prompt: ", budget), items=items)


def test_template_code_runs_once_at_render_time_never_while_compiling(monkeypatch):
    """Jinja2's optimizer folded constant filter chains while compiling, once per level, and read
    any exception (MemoryError, the render deadline) as "cannot fold": the replace chain above ran
    20 times to the memory budget (10-55 s on a loaded machine, past the run's 10 s budget, which
    was swallowed). Each filter of a chain now runs exactly once, when the prompt renders."""
    import functools

    from jinja2 import defaults

    calls = []
    original = defaults.DEFAULT_FILTERS["replace"]

    @functools.wraps(original)  # keeps jinja_pass_arg: the filter still gets its eval context
    def counted(*args, **kwargs):
        frame, folding = sys._getframe(1), False
        while frame is not None and not folding:
            folding, frame = frame.f_code.co_name == "as_const", frame.f_back  # Jinja2's constant folding
        calls.append(("compiling" if folding else "rendering", *args[-2:]))
        return original(*args, **kwargs)

    monkeypatch.setitem(defaults.DEFAULT_FILTERS, "replace", counted)
    text = "{{ 'x' | replace('x', 'y') | replace('y', 'z') | replace('z', 'w') }}"
    outcome = krm([CATALOG, changed(AGENT, "spec.prompt.text", text)], EXPAND)
    agent = next(i for i in assert_passes(outcome)["items"] if i["kind"] == "Agent")
    assert agent["spec"]["declarative"]["systemMessage"] == "w"
    assert calls == [("rendering", "x", "y"), ("rendering", "y", "z"), ("rendering", "z", "w")]
    from krmfn.expand import prompts

    assert not issubclass(prompts._RenderTimeout, Exception)  # no `except Exception` swallows the deadline


def test_a_memory_bomb_is_stopped_at_the_budget_in_a_fresh_process(tmp_path):
    """Peak RSS of a whole krmfn call stays near its start-up size plus the budget. A hard 3 GiB
    limit on the measuring parent only keeps a broken budget from exhausting the test machine (it
    would then show as a bare MemoryError and a peak near 3 GiB)."""
    items = [CATALOG, changed(AGENT, "spec.prompt.text", MEMORY_BOMBS[0])]
    (tmp_path / "in.yaml").write_bytes(resource_list(items, EXPAND).encode())
    harness = "import resource; resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30)); exec(open(%r).read())"
    measure = tmp_path / "measure.py"
    measure.write_text(MEASURE)
    proc = subprocess.run([sys.executable, "-c", harness % str(measure), str(tmp_path / "in.yaml"),
                           sys.executable, "-m", "krmfn"], capture_output=True, timeout=120, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    import ast

    code, _elapsed, peak, _stdout, stderr = ast.literal_eval(proc.stdout.decode())
    assert code == 1 and "rendering needed more than 256 MiB of memory" in stderr, stderr
    assert peak < 500 * 2**20, f"peak RSS {peak / 2**20:.0f} MiB"


def test_ordinary_template_features_still_work():
    text = ("{{ name|upper }} {{ '%-6s|'|format(namespace) }} {{ '{:>4}'.format(model[:2]) }} {{ 3 * 'ab' }} "
            "{{ 2 ** 8 }} {{ 7 % 3 }} {{ 'x'.ljust(3, '.') }} {% for t in tools %}{{ t.name }},{% endfor %}"
            "{{ '%d'|format(1234567) }} {{ nothing|default(1234567) }} {{ [1, 2]|sum(start=1000000) }}")
    items = [CATALOG, changed(AGENT, "spec.prompt.text", text)]
    agent = next(i for i in assert_passes(krm(items, EXPAND))["items"] if i["kind"] == "Agent")
    assert agent["spec"]["declarative"]["systemMessage"] == (
        "HELPER team-a|   st ababab 256 1 x.. k8s_get_resources,k8s_get_pod_logs,1234567 1234567 1000003")


# --- path traversal in prompt file names: a ConfigMap key, never a file ---------------------------------------------


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "..", "prompts/../../../etc/shadow",
                                  "~root/.ssh/id_rsa", "file:///etc/passwd", "helper.md/../../../etc/hostname"])
def test_prompt_file_names_never_read_the_disk(name, tmp_path):
    items = [CATALOG, PROMPTS, changed(AGENT, "spec.prompt", {"file": name})]
    outcome = krm(items, EXPAND)
    assert_refused(outcome, (AGENT_REF, " spec.prompt: ", f"prompt file {name!r} not found",
                             "prompt files in namespace team-a: helper.md"), items=items)
    assert "root:" not in outcome.stdout.decode()  # /etc/passwd's content is nowhere


def test_prompt_file_names_in_run_mode_from_a_kustomization_directory(tmp_path):
    """`krmfn run` in a directory holding ../../etc/passwd-like names: still only ConfigMap keys."""
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (tmp_path / "agents").mkdir()
    (tmp_path / "agents" / "agent.yaml").write_text(yaml.safe_dump(changed(AGENT, "spec.prompt", {"file": "../etc/passwd"})))
    (tmp_path / "agents" / "catalog.yaml").write_text(yaml.safe_dump(CATALOG))
    (tmp_path / "expand.yaml").write_text(yaml.safe_dump(EXPAND))
    outcome = krmfn("run", "expand.yaml", "agents", cwd=tmp_path)
    assert_refused(outcome, (AGENT_REF, "prompt file '../etc/passwd' not found", "(agent.yaml)"), krm_mode=False)
    assert "root:x" not in outcome.stderr


# --- names that are not Kubernetes names ------------------------------------------------------------------------------

BAD_NAMES = ["Helper", "my_agent", "-helper", "helper-", "h" * 64, "helper.v2", "agënt", "a b", "helper\n"]


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
@pytest.mark.parametrize("target,path", [
    ("agent", "metadata.name"), ("agent", "metadata.namespace"), ("agent", "spec.delegates[0]"),
    ("agent", "spec.model"), ("agent", "spec.memory.model"), ("catalog", "spec.servers[0].name"),
    ("ModelEnvironment", "spec.canaries[0].name"), ("ModelEnvironment", "spec.environment"),
    ("ToolPolicy", "spec.rules[0].name"), ("ModelEnvironment", "metadata.name"),
])
def test_names_that_are_not_kubernetes_names(target, path, name):
    if path == "spec.delegates[0]":
        agent = changed(AGENT, "spec.delegates", [name])
        items, config = [CATALOG, agent], EXPAND
    elif target == "agent":
        items, config = [CATALOG, changed(AGENT, path, name)], EXPAND
    elif target == "catalog":
        items, config = [changed(CATALOG, path, name), OTHER], EXPAND
    else:
        base = CONFIGS[target]
        if path.startswith("spec.canaries"):
            base = changed(base, "spec.canaries", [{"name": "c", "tier": "standard", "agents": ["helper"]}])
        items, config = [OTHER], changed(base, path, name)
    outcome = krm(items, config)
    [line] = assert_refused(outcome, (f" {path}: ",), items=items)
    assert "is not a valid name" in line or (path.endswith("model") and "is longer than 50 characters" in line)


def test_tier_names_that_are_not_kubernetes_names():
    for name in ("Premium", "pre mium", "p" * 51, "-p"):
        config = changed(ENVIRONMENT, "spec.tiers", {name: ENVIRONMENT["spec"]["tiers"]["standard"]})
        assert_refused(krm([OTHER], config), ("ModelEnvironment/dev spec.tiers", name.strip()[:20]), items=[OTHER])


# --- every command, broken in its own ways --------------------------------------------------------------------------


def test_run_command_errors(tmp_path):
    config = tmp_path / "policy.yaml"
    config.write_text(yaml.safe_dump(POLICY))
    items = tmp_path / "items.yaml"
    items.write_text(yaml.safe_dump(OTHER))
    cases = [
        (("run", str(tmp_path / "missing.yaml"), str(items)), f"{tmp_path / 'missing.yaml'}: No such file or directory"),
        (("run", str(tmp_path), str(items)), f"{tmp_path}: Is a directory"),
        (("run", str(config), str(tmp_path / "nowhere")), f"{tmp_path / 'nowhere'}: no such file or directory"),
    ]
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    cases.append((("run", str(tmp_path / "list.yaml"), str(items)), "expected a function config object"))
    (tmp_path / "two.yaml").write_text("a: 1\n---\nb: 2\n")
    cases.append((("run", str(tmp_path / "two.yaml"), str(items)), "expected one YAML document, found 2"))
    (tmp_path / "objs").mkdir()
    (tmp_path / "objs" / "x.yaml").write_text("kind: ConfigMap\nmetadata: {name: x}\n")
    cases.append((("run", str(config), str(tmp_path / "objs")), "document 1: not a Kubernetes object"))
    (tmp_path / "meta").mkdir()
    (tmp_path / "meta" / "x.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: [x]\n")
    cases.append((("run", str(config), str(tmp_path / "meta")), "metadata: expected an object"))
    for args, fragment in cases:
        assert_refused(krmfn(*args), fragment, krm_mode=False)
    # a function failure: the errors, nothing on stdout, in both output forms
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump_all([CATALOG, changed(AGENT, "spec.tools[0].allow", ["k8s_delete_resource"])]))
    assert_refused(krmfn("run", str(config), str(bad)), ("rule read-only", "(bad.yaml)"), krm_mode=False)
    listed = krmfn("run", "--resource-list", str(config), str(bad))
    assert listed.code == 1 and yamlio.load_one(listed.stdout, "out")["results"]


def test_legacy_command_errors(tmp_path):
    config = tmp_path / "policy.yaml"
    config.write_text(yaml.safe_dump(POLICY))
    assert_refused(krmfn("legacy"), "expected the plugin config file", krm_mode=False)
    assert_refused(krmfn("legacy", str(tmp_path / "missing.yaml")), "No such file or directory", krm_mode=False)
    assert_refused(krmfn("legacy", str(config), stdin="- a\n"), "<stdin>: document 1: not a Kubernetes object",
                   krm_mode=False)
    assert_refused(krmfn("legacy", str(config), stdin=yaml.safe_dump(OTHER) + "---\n42\n"),
                   "<stdin>: document 2: not a Kubernetes object", krm_mode=False)
    bad = yaml.safe_dump_all([CATALOG, changed(AGENT, "spec.tools[0].allow", ["k8s_delete_resource"])])
    assert_refused(krmfn("legacy", str(config), stdin=bad), (AGENT_REF, "rule read-only"), krm_mode=False)
    (tmp_path / "list.yaml").write_text("[1, 2]\n")
    assert_refused(krmfn("legacy", str(tmp_path / "list.yaml")), "expected a function config object", krm_mode=False)


def test_validate_command_errors(tmp_path):
    conformance_required()
    rendered = tmp_path / "render.yaml"
    rendered.write_text(yamlio.dump_all(rendered_agents()))
    cases = [
        (("validate", "--crds", str(tmp_path / "nope"), str(rendered)), "spec.crds"),
        (("validate", "--crds", str(CRDS), str(tmp_path / "nope.yaml")), "no such file or directory"),
        (("validate", "--crds", str(CRDS), "--external", "Secret/x", str(rendered)), "--external 'Secret/x'"),
    ]
    for args, fragment in cases:
        assert_refused(krmfn(*args), fragment, krm_mode=False)
    # a render with a broken Agent: schema errors name the object and the field
    broken = [changed(i, "spec.declarative.deployment.replicas", "three") if i["kind"] == "Agent" else i
              for i in rendered_agents()]
    rendered.write_text(yamlio.dump_all(broken))
    assert_refused(krmfn("validate", "--crds", str(CRDS), "--external", "Secret/*/x", str(rendered)),
                   ("kagent.dev/v1alpha2/Agent/team-a/helper spec.declarative.deployment.replicas", "(render.yaml)"),
                   krm_mode=False)
    ok = tmp_path / "ok.yaml"
    ok.write_text(yamlio.dump_all(rendered_agents()))
    passed = krmfn("validate", "--crds", str(CRDS), str(ok))
    assert passed.code == 0 and passed.lines[-1].startswith("ok: ")


def _kubectl() -> str:
    found = shutil.which("kubectl") or ("/usr/bin/kubectl" if Path("/usr/bin/kubectl").exists() else None)
    if found is None:
        pytest.skip("kubectl is not installed")
    return found


def _build(directory: Path) -> Outcome:
    """`krmfn build` in a subprocess (it runs kustomize, which runs krmfn as a function)."""
    proc = support.module("build", "--kustomize", _kubectl(), str(directory), timeout=120, text=False)
    return Outcome(proc.returncode, proc.stdout, proc.stderr.decode())


FUNCTION_ANNOTATION = {"config.kubernetes.io/function": "container:\n  image: ghcr.io/krmfn-dev/krmfn:0.1.0\n"}


def test_build_of_broken_kustomizations(tmp_path):
    _kubectl()
    assert_refused(krmfn("build", str(tmp_path / "nowhere")), "no such directory", krm_mode=False)
    missing = tmp_path / "missing"
    missing.mkdir()
    (missing / "kustomization.yaml").write_text("resources: [agents.yaml]\n")
    # one line naming the kustomization and the field, before kustomize's accumulation trace
    assert_refused(_build(missing), ("[error] ", "missing/kustomization.yaml resources[0]: agents.yaml does not exist"),
                   lines=1, krm_mode=False)
    unreadable = tmp_path / "unreadable"
    unreadable.mkdir()
    (unreadable / "kustomization.yaml").write_text("resources: [\n")
    assert_refused(_build(unreadable), ("[error] kustomize: ", "invalid Kustomization"), "failed (exit 1)",
                   lines=2, krm_mode=False)
    # a krmfn function that fails inside kustomize: its own line, then the summary
    failing = tmp_path / "failing"
    failing.mkdir()
    (failing / "agents.yaml").write_text(yaml.safe_dump_all([CATALOG, changed(AGENT, "spec.tools[0].allow", ["nope"])]))
    expand = changed(EXPAND, "metadata.annotations", FUNCTION_ANNOTATION)
    (failing / "expand.yaml").write_text(yaml.safe_dump(expand))
    (failing / "kustomization.yaml").write_text("resources: [agents.yaml]\ntransformers: [expand.yaml]\n")
    assert_refused(_build(failing), (AGENT_REF, "spec.tools[0].allow[0]", "tool 'nope' is not in the catalog"),
                   "[error] kustomize build", lines=2, krm_mode=False)
    # a broken function config
    (failing / "agents.yaml").write_text(yaml.safe_dump_all([CATALOG, AGENT]))
    (failing / "expand.yaml").write_text(yaml.safe_dump(changed(expand, "spec.promptMode", "Files")))
    assert_refused(_build(failing), ("AgentExpansion/expand spec.promptMode",), "[error] kustomize build", lines=2,
                   krm_mode=False)


DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize("image,served,fragment", [
    (f"ghcr.io/krmfn-dev/krmfn:{__version__}@{DIGEST}", True, ""),
    (f"localhost:5000/krmfn:v{__version__}@{DIGEST}", True, ""),
    (f"ghcr.io/krmfn-dev/krmfn@{DIGEST}", False, "is krmfn's pinned by digest only, which does not say which "
     f"krmfn version it is, so it cannot be served natively: pin the version as well "
     f"(ghcr.io/krmfn-dev/krmfn:{__version__}@{DIGEST}), and there is no container engine to run it"),
    ("localhost:5000/krmfn@sha512:" + "ab" * 64, False, "is krmfn's pinned by digest only"),
    (f"ghcr.io/krmfn-dev/krmfn:9.9.9@{DIGEST}", False, f"the kustomization pins ghcr.io/krmfn-dev/krmfn:9.9.9@{DIGEST}, "
     f"but this krmfn is {__version__}"),
    ("ghcr.io/krmfn-dev/krmfn@sha256:abc", False, "invalid digest 'sha256:abc' (expected sha256: and 64 lower-case"),
    (f"ghcr.io/krmfn-dev/krmfn:{__version__}@sha256:" + "AB" * 32, False, "invalid digest"),
    (f"example.com/other-fn@{DIGEST}", False, f"image example.com/other-fn@{DIGEST} is not krmfn's, and there is "
     "no container engine"),
])
def test_digest_pinned_images_are_krmfns_where_they_are(image, served, fragment, monkeypatch):
    """The docker stand-in (`krmfn container-run`, what `krmfn build` puts first on PATH) reads a
    digest-pinned reference as one: krmfn's image with a version is served, one with a digest only
    names no version (a true message, never "is not krmfn's"), a malformed digest is refused."""
    monkeypatch.delenv("KRMFN_CONTAINER_ENGINE", raising=False)
    outcome = krmfn("container-run", "run", "--rm", "-i", "--network", "none", image,
                    stdin=resource_list([CATALOG, AGENT], EXPAND))
    if served:
        kinds = [item["kind"] for item in assert_passes(outcome)["items"]]
        assert "Agent" in kinds and "AgentDescription" not in kinds
    else:
        assert_refused(outcome, fragment, krm_mode=False)
        assert "is not krmfn's" not in outcome.stderr or "other-fn" in image


def test_a_digest_pinned_krmfn_image_renders_through_krmfn_build(tmp_path):
    _kubectl()
    (tmp_path / "agents.yaml").write_text(yaml.safe_dump_all([CATALOG, AGENT]))
    pinned = {"config.kubernetes.io/function": f"container:\n  image: ghcr.io/krmfn-dev/krmfn:{__version__}@{DIGEST}\n"}
    (tmp_path / "expand.yaml").write_text(yaml.safe_dump(changed(EXPAND, "metadata.annotations", pinned)))
    (tmp_path / "kustomization.yaml").write_text("resources: [agents.yaml]\ntransformers: [expand.yaml]\n")
    proc = support.module("build", "--native", "--kustomize", _kubectl(), str(tmp_path), timeout=120, text=False)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"kind: Agent\n" in proc.stdout
    # digest only: the same true line through kustomize, exit 1, nothing on stdout
    bare = {"config.kubernetes.io/function": f"container:\n  image: ghcr.io/krmfn-dev/krmfn@{DIGEST}\n"}
    (tmp_path / "expand.yaml").write_text(yaml.safe_dump(changed(EXPAND, "metadata.annotations", bare)))
    proc = support.module("build", "--native", "--kustomize", _kubectl(), str(tmp_path), timeout=120, text=False,
                          unset=("KRMFN_CONTAINER_ENGINE",))  # no engine to forward to
    assert proc.returncode == 1 and proc.stdout == b""
    assert "is krmfn's pinned by digest only" in proc.stderr.decode() and "not krmfn's" not in proc.stderr.decode()


# --- the bounds: a huge input and an alias bomb, refused within 2 s and under 300 MB -------------------------------

MEASURE = """
import resource, subprocess, sys, time
stdin = open(sys.argv[1], "rb") if sys.argv[1] != "-" else subprocess.DEVNULL
proc = subprocess.run(sys.argv[2:], stdin=stdin, capture_output=True)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu, peak = usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024
sys.stdout.write(repr((proc.returncode, cpu, peak, proc.stdout[:2000], proc.stderr.decode(errors="replace"))))
"""


def measured(args: list[str], stdin: Path | None, tmp_path: Path) -> tuple[int, float, int, bytes, str]:
    """Run `krmfn ARGS` from a fresh parent, so RUSAGE_CHILDREN is this run's alone: (exit code, CPU
    seconds, peak RSS, stdout, stderr). CPU time, not wall time: the work a refusal does is what is
    bounded, and eight test runs on two cores stretch wall time threefold (the 2 s wall-clock target
    is bench/hostile_input.py's); a hang that does no work is caught by the timeout."""
    proc = subprocess.run([sys.executable, "-c", MEASURE, str(stdin) if stdin else "-",
                           sys.executable, "-m", "krmfn", *args],
                          capture_output=True, timeout=120, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    import ast

    return ast.literal_eval(proc.stdout.decode())


def _huge(tmp_path: Path, megabytes: int = 50) -> Path:
    item = yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
                           "data": {"k": "v" * 1000}}, default_flow_style=True).strip()
    line = f"- {item}\n".encode()
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as handle:
        handle.write(b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n")
        handle.write(line * (megabytes * 1024 * 1024 // len(line) + 1))
    return path


def _bomb(tmp_path: Path, resource_list: bool) -> Path:
    levels = "".join(f"    {chr(98 + i)}: &{chr(98 + i)} [{', '.join('*' + chr(97 + i) for _ in range(10))}]\n"
                     for i in range(9))
    body = "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: lol}\n  data:\n    a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + levels
    text = ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + body) if resource_list else \
        body.replace("- apiVersion", "apiVersion").replace("\n  ", "\n")
    path = tmp_path / "bomb.yaml"
    path.write_text(text)
    return path


# The target is 2 s of wall time (bench/hostile_input.py measures it); a test allows three times as
# much CPU time, so only a refusal that is not bounded at all fails it.
SECONDS = 6.0


def _within_bounds(result, fragment: str, *, krm_mode: bool) -> None:
    code, elapsed, peak, stdout, stderr = result
    assert code == 1, stderr
    assert elapsed < SECONDS, f"took {elapsed:.2f} s of CPU"
    assert peak < 300 * 1024 * 1024, f"peak RSS {peak / 1048576:.0f} MB"
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("[error] ") and fragment in lines[0], stderr
    assert "Traceback" not in stderr
    if krm_mode:
        out = yamlio.load_one(stdout, "stdout")
        assert out["kind"] == "ResourceList" and out["items"] == [] and out["results"]
    else:
        assert stdout == b""


@pytest.mark.parametrize("mode", ["krm", "run", "legacy", "validate", "run-directory"])
def test_a_50_mb_input_is_refused_quickly_and_in_bounded_memory(mode, tmp_path):
    huge = _huge(tmp_path)
    config = tmp_path / "policy.yaml"
    config.write_text(yaml.safe_dump(POLICY))
    if mode == "krm":
        result = measured([], huge, tmp_path)
    elif mode == "run":
        result = measured(["run", str(config), str(huge)], None, tmp_path)
    elif mode == "legacy":
        result = measured(["legacy", str(config)], huge, tmp_path)
    elif mode == "validate":
        result = measured(["validate", "--crds", str(CRDS), str(huge)], None, tmp_path)
    else:  # five files under the limit each, over it together
        folder = tmp_path / "many"
        folder.mkdir()
        small = _huge(tmp_path, 11)
        for index in range(5):
            os.link(small, folder / f"part-{index}.yaml")
        result = measured(["run", str(config), str(folder)], None, tmp_path)
        _within_bounds(result, "inputs together are more than the 16 MiB limit (raise it with KRMFN_MAX_INPUT_MB)",
                       krm_mode=False)
        return
    _within_bounds(result, "input is more than the 16 MiB limit (raise it with KRMFN_MAX_INPUT_MB)",
                   krm_mode=mode == "krm")


@pytest.mark.parametrize("mode", ["krm", "run", "legacy", "validate"])
def test_an_alias_bomb_is_refused_quickly_and_in_bounded_memory(mode, tmp_path):
    config = tmp_path / "policy.yaml"
    config.write_text(yaml.safe_dump(POLICY))
    if mode == "krm":
        result = measured([], _bomb(tmp_path, True), tmp_path)
    elif mode == "legacy":
        result = measured(["legacy", str(config)], _bomb(tmp_path, False), tmp_path)
    else:
        bomb = _bomb(tmp_path, False)
        args = ["run", str(config), str(bomb)] if mode == "run" else ["validate", "--crds", str(CRDS), str(bomb)]
        result = measured(args, None, tmp_path)
    _within_bounds(result, "more than 100,000 (an alias bomb?)", krm_mode=mode == "krm")


def test_anchors_just_under_the_alias_limit_stay_within_bounds(tmp_path):
    """What the alias limit lets through (100,000 added nodes) still runs in bounded time and memory."""
    stdin = tmp_path / "anchors.yaml"
    stdin.write_text(resource_list([], POLICY).replace("items: []\n", "") + textwrap.dedent("""\
        items:
        - apiVersion: v1
          kind: ConfigMap
          metadata: {name: anchors}
          data:
            a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]
            b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
            c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
            d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
            e: [*d, *d, *d, *d, *d, *d, *d]
        """))
    code, elapsed, peak, stdout, stderr = measured([], stdin, tmp_path)
    assert code == 0, stderr
    assert elapsed < 5.0 and peak < 300 * 1024 * 1024, (elapsed, peak)


HOSTILE = {  # inputs under the size limit that cost far more than their size to load
    "2 MB of dense scalars": lambda: b"a: [" + b"1," * 1_000_000 + b"1]\n",
    "15 MB of dense scalars": lambda: b"a: [" + b"1," * 7_500_000 + b"1]\n",
    "760 KB of deeply nested lists": lambda: b"a:\n" + (b"- " + b"[" * 190 + b"]" * 190 + b"\n") * 1980,
    "4 MB of wide maps": lambda: b"a: {" + b"".join(b"key%d: v, " % i for i in range(400_000)) + b"z: 1}\n",
}


@pytest.mark.parametrize("name", list(HOSTILE))
@pytest.mark.parametrize("mode", ["krm", "run"])
def test_input_that_is_costly_to_load_is_refused_quickly_and_in_bounded_memory(name, mode, tmp_path):
    """The work of loading is bounded (nodes, nodes by depth) while libyaml composes, not only bytes."""
    body = HOSTILE[name]()
    path = tmp_path / "hostile.yaml"
    if mode == "krm":
        path.write_bytes(b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n  "
                         + body.replace(b"\n", b"\n  ").rstrip() + b"\n")
        result = measured([], path, tmp_path)
    else:
        path.write_bytes(body)
        config = tmp_path / "policy.yaml"
        config.write_text(yaml.safe_dump(POLICY))
        result = measured(["run", str(config), str(path)], None, tmp_path)
    _within_bounds(result, "refused before doing more work (raise the limit with KRMFN_MAX_INPUT_MB)",
                   krm_mode=mode == "krm")


@pytest.mark.parametrize("name", ["4 MB of wide maps", "2 MB of dense scalars"])
def test_a_costly_input_is_refused_before_anything_is_composed(name, tmp_path):
    """The nodes are counted on libyaml's events, so a refusal holds no node tree: its peak memory is
    the interpreter's and the text's (composing the 419,430 nodes first peaked at ~175 MB)."""
    path = tmp_path / "hostile.yaml"
    path.write_bytes(HOSTILE[name]())
    config = tmp_path / "policy.yaml"
    config.write_text(yaml.safe_dump(POLICY))
    code, _, peak, _, stderr = measured(["run", str(config), str(path)], None, tmp_path)
    assert code == 1 and "refused before doing more work" in stderr, stderr
    assert peak < 100 * 1024 * 1024, f"peak RSS {peak / 1048576:.0f} MB"


def test_the_event_count_is_the_node_count_the_composer_sees():
    """What Budget.count adds is exactly what composing builds: nodes, and nodes by their depth."""
    text = "a: [1, {b: [x, y]}, 2]\nz: q\n---\n- [[], {}]\n"
    budget = yamlio.Budget()
    assert budget.count(text) is False
    def walk(node, depth):
        children = node.value if isinstance(node, yaml.SequenceNode) else \
            [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else []
        return [(1, depth)] + [c for child in children for c in walk(child, depth + 1)]
    counted = [c for doc in yaml.compose_all(text, Loader=yaml.SafeLoader) for c in walk(doc, 1)]
    assert (budget.nodes, budget.weight) == (len(counted), sum(d for _, d in counted))
    assert yamlio.Budget().count("a: &x [1]\nb: *x\n") is True


def test_the_node_budget_is_shared_by_the_files_of_a_run(tmp_path):
    """Three files, each under the node budget, over it together."""
    folder = tmp_path / "parts"
    folder.mkdir()
    for index in range(3):
        (folder / f"part-{index}.yaml").write_bytes(b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x%d}\n"
                                                   b"data: {k: [" % index + b"1," * 150_000 + b"1]}\n")
    config = tmp_path / "policy.yaml"
    config.write_text(yaml.safe_dump(POLICY))
    assert_refused(krmfn("run", str(config), str(folder)), (f"{folder}/part-2.yaml: ", "more than 419,430 YAML nodes"),
                   krm_mode=False)


def test_a_render_of_2000_agents_is_within_the_budget():
    """The budget leaves room for what krmfn is for: a 2,000-agent render has about 200,000 nodes."""
    agent = yamlio.dump({"apiVersion": "kagent.dev/v1alpha2", "kind": "Agent", "metadata": {
        "name": "agent", "namespace": "team", "labels": {"app.kubernetes.io/managed-by": "krmfn"}},
        "spec": {"type": "Declarative", "description": "An agent.", "declarative": {
            "modelConfig": "model-standard", "systemMessage": "You are an agent.",
            "tools": [{"type": "McpServer", "mcpServer": {"name": "tools", "kind": "RemoteMCPServer",
                                                          "toolNames": ["a", "b", "c"]}}] * 3}}})
    docs = yamlio.load_all("---\n".join([agent] * 2000), "render")
    assert len(docs) == 2000


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "0", "-3", "lots", "", "1e400"])
def test_a_bad_input_limit_is_one_line(value, monkeypatch, tmp_path):
    config = tmp_path / "policy.yaml"
    config.write_text(yaml.safe_dump(POLICY))
    (tmp_path / "in.yaml").write_text(yaml.safe_dump(OTHER))
    monkeypatch.setenv("KRMFN_MAX_INPUT_MB", value)
    outcomes = (krm([OTHER], POLICY), krmfn("run", str(config), str(tmp_path / "in.yaml")),
                krmfn("legacy", str(config), stdin=yaml.safe_dump(OTHER)))
    monkeypatch.delenv("KRMFN_MAX_INPUT_MB")  # so that the checks can read the output
    fragment = (f"KRMFN_MAX_INPUT_MB={value!r}: expected a positive number of MiB",)
    assert_refused(outcomes[0], fragment)
    assert_refused(outcomes[1], fragment, krm_mode=False)
    assert_refused(outcomes[2], fragment, krm_mode=False)


def test_a_fifo_under_a_directory_is_refused_not_waited_for(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.yaml").write_text(yaml.safe_dump(OTHER))
    os.mkfifo(folder / "b.yaml")  # nobody ever writes to it: reading it would block forever
    config = tmp_path / "policy.yaml"
    config.write_text(yaml.safe_dump(POLICY))
    proc = subprocess.run([sys.executable, "-m", "krmfn", "run", str(config), str(folder)], capture_output=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT), "KRMFN_WORKER": "0"})
    assert proc.returncode == 1 and proc.stdout == b"", proc.stderr
    assert proc.stderr.decode().splitlines() == [f"[error] {folder}/b.yaml: not a regular file (a FIFO, socket or "
                                                 "device under a directory is never read)"]



# --- prompts: plain text is copied, templates are bounded, errors name the field ---------------------------

PLAIN_PROMPTS = ["You help.", "Line one\r\nline two\rthree\n", "Braces } and { and %} and }} alone.\n",
                 "Ünïcode — and emoji 🚀\n\n", "# a heading\n\n- a list\n", "50% off {not a tag}"]


@pytest.mark.parametrize("text", PLAIN_PROMPTS)
def test_plain_prompts_are_copied_as_jinja2_would_render_them(text):
    from krmfn.expand import prompts

    renderer = prompts.PromptRenderer()
    source = prompts.PromptSource(text, "spec.prompt.text")
    assert not prompts.is_template(text)
    copied = renderer.render(source, {"vars": {}})
    assert copied == renderer._render(source, {"vars": {}})  # what Jinja2 makes of it: same text, same digest
    assert prompts.digest(copied) == prompts.digest(renderer._render(source, {"vars": {}}))


@pytest.mark.parametrize("text,imported", [("You are a plain helper.", False), ("You are {{ name }}.", True),
                                           ("You help. {# a comment #}", True)])
def test_jinja2_is_imported_only_for_templates(text, imported, tmp_path):
    stdin = tmp_path / "in.yaml"
    stdin.write_text(resource_list([CATALOG, changed(AGENT, "spec.prompt.text", text)], EXPAND))
    probe = ("import sys; from krmfn import cli; code = cli.main([]); "
             "sys.stderr.write('jinja2 imported: %s' % ('jinja2' in sys.modules)); sys.exit(code)")
    proc = subprocess.run([sys.executable, "-c", probe], stdin=open(stdin, "rb"), capture_output=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "KRMFN_WORKER": "0"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.decode() == f"jinja2 imported: {imported}"


@pytest.mark.parametrize("text,fragment", [
    ("x" * (256 * 1024 + 1), "prompt 'spec.prompt.text' is larger than 256 KiB"),
    ("Use the key " + SECRET + " for billing.", "contains what looks like an API key (sk-...)"),
])
def test_plain_inline_prompts_have_the_bounds_of_files(text, fragment):
    items = [CATALOG, changed(AGENT, "spec.prompt.text", text)]
    lines = assert_refused(krm(items, EXPAND), (AGENT_REF, " spec.prompt: ", fragment), items=items)
    assert SECRET not in "\n".join(lines)


TEMPLATE_ERRORS = {  # each was an `internal error` without object or field, or rendered with exit 0
    "format without arguments": ("{{ '{}'.format() }}", "line 1: IndexError: tuple index out of range"),
    "unknown encoding": ("{{ 'x'.encode('bad') }}", "line 1: LookupError: unknown encoding: bad"),
    "division by zero": ("{{ 1 // 0 }}", "line 1: ZeroDivisionError"),
    "too many nested blocks": ("{% if true %}" * 120 + "x" + "{% endif %}" * 120, "blocks nest more than 40 deep"),
    "deeply nested loops": ("{% for x in [1] %}" * 30 + "x" + "{% endfor %}" * 30,
                            "the template is nested too deeply to compile"),
    "a 300-term + chain": ("{{ " + " + ".join(["name"] * 300) + " }}", "an expression with more than 100 operators"),
    "a 300-term and chain": ("{{ " + " and ".join(["name"] * 300) + " }}", "an expression with more than 100 operators"),
    "deep brackets": ("{{ " + "(" * 300 + "1" + ")" * 300 + " }}", "brackets nest more than 30 deep"),
    "undefined in a list": ("{{ [missing] }}", "'missing' is undefined"),
    "undefined in a dict": ("{{ {'a': missing} }}", "'missing' is undefined"),
    "undefined in a tuple": ("{{ (name, missing) }}", "'missing' is undefined"),
    "undefined attribute in a list": ("{{ [vars.nope] }}", "has no attribute 'nope'"),
}


@pytest.mark.parametrize("name", list(TEMPLATE_ERRORS))
def test_template_errors_name_the_description_and_field(name):
    import time

    text, fragment = TEMPLATE_ERRORS[name]
    items = [CATALOG, changed(AGENT, "spec.prompt.text", text)]
    start = time.monotonic()
    assert_refused(krm(items, EXPAND), (AGENT_REF, " spec.prompt: spec.prompt.text", fragment), items=items)
    assert time.monotonic() - start < 3.0  # refused up front: the + chain took 5 s to fail before


@pytest.mark.parametrize("variables,paths", [
    ({"dbPassword": "hunter2"}, ["dbPassword"]),
    ({"db": {"password": "hunter2", "host": "db"}}, ["db.password"]),
    ({"keys": [{"apiKey": "hunter2"}], "api_token": "hunter2"}, ["keys[0].apiKey", "api_token"]),
])
def test_template_variables_named_like_credentials_are_refused(variables, paths):
    agent = changed(AGENT, "spec.prompt", {"text": "Connect with {{ vars }}.", "vars": variables})
    items = [CATALOG, agent]
    lines = assert_refused(krm(items, EXPAND), *[(AGENT_REF, f" spec.prompt.vars.{p}: ", "named like a credential")
                                                  for p in paths], lines=len(paths), items=items)
    assert "hunter2" not in "\n".join(lines)


@pytest.mark.parametrize("template", ["{{ {'a': 1}[vars.note] }}", "{{ {'a': 1}[vars.note ~ '-x'] }}",
                                      "{{ vars[vars.note] }}", "{{ vars.note.missing_method() }}"])
def test_template_errors_never_echo_a_variable_value(template):
    agent = changed(AGENT, "spec.prompt", {"text": template, "vars": {"note": "confidential-note-value"}})
    items = [CATALOG, agent]
    lines = assert_refused(krm(items, EXPAND), (AGENT_REF, " spec.prompt: spec.prompt.text line 1: "), items=items)
    results = yamlio.load_one(krm(items, EXPAND).stdout, "stdout")["results"]
    assert "confidential-note-value" not in "\n".join(lines) + json.dumps(results)  # the items come back as they were


@pytest.mark.parametrize("character,shown", [("\u202e", "\\u202e"), ("\u2066", "\\u2066"), ("\u2069", "\\u2069"),
                                             ("\u200f", "\\u200f"), ("\u061c", "\\u061c"), ("\x9b", "\\x9b"),
                                             ("\x80", "\\x80"), ("\x1b", "\\x1b")])
def test_stderr_escapes_bidirectional_and_c1_controls(character, shown):
    """A name that reorders (Trojan Source) or drives a terminal (C1 CSI) is shown escaped."""
    items = [CATALOG, changed(AGENT, "metadata.name", f"help{character}er")]
    outcome = krm(items, EXPAND)
    assert outcome.code == 1
    assert character not in outcome.stderr, outcome.stderr
    assert f"AgentDescription/team-a/help{shown}er " in outcome.stderr, outcome.stderr


@pytest.mark.parametrize("value", [True, "7", 7.5])
def test_ttl_days_is_a_whole_number_not_a_boolean(value):
    items = [CATALOG, changed(AGENT, "spec.memory.ttlDays", value)]
    assert_refused(krm(items, EXPAND), (AGENT_REF, " spec.memory.ttlDays: "), items=items)


def test_a_credential_named_field_in_a_description_is_refused_as_a_credential_not_echoed():
    """`spec.apiKey: <value>` is not just an unknown field: its value is a credential, refused by name."""
    items = [CATALOG, changed(AGENT, "spec.apiKey", "s3cr3t-v4lue-s3cr3t")]
    outcome = krm(items, EXPAND)
    assert_refused(outcome, (AGENT_REF, " spec.apiKey: literal credential refused"), items=items)
    assert "s3cr3t-v4lue" not in outcome.stderr
