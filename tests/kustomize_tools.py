"""Running the example repository through the real kustomize builds, in every function mode.

Modes:
  container  the function configs as written (container image); a `docker` first on PATH serves
             the image: `krmfn container-run` (a native stand-in, named as such) or podman
  exec       the annotation rewritten to an exec function (`krmfn` from PATH); needs the
             standalone kustomize and --enable-exec
  legacy     the annotation removed; kustomize finds the legacy exec plugins that
             `krmfn install-plugins` wrote under KUSTOMIZE_PLUGIN_HOME
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from krmfn.runtime import yamlio

ROOT = Path(__file__).resolve().parents[1]
FUNCTION_ANNOTATION = "config.kubernetes.io/function"
VENV_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Kustomize:
    name: str
    argv: tuple[str, ...]
    exec_capable: bool

    def build(self, directory: Path, *, exec_functions: bool = False) -> list[str]:
        flags = ["--enable-alpha-plugins"] + (["--enable-exec"] if exec_functions else [])
        if self.exec_capable:
            return [*self.argv, "build", *flags, str(directory)]
        return [*self.argv, "kustomize", *flags, str(directory)]


def kubectl_builds() -> list[Kustomize]:
    """The kubectl kustomize builds of TEST-ENVIRONMENT.md: v5.5 (system) and v5.8.1 (pip)."""
    found = []
    system = Path("/usr/bin/kubectl")
    if system.exists():
        found.append(Kustomize("kubectl-v5.5", (str(system),), False))
    pinned = VENV_BIN / "kubectl"
    if pinned.exists() and pinned.resolve() != system.resolve():
        found.append(Kustomize("kubectl-v5.8", (str(pinned),), False))
    return found


def standalone_kustomize() -> Kustomize | None:
    for candidate in (ROOT / ".tools" / "bin" / "kustomize", shutil.which("kustomize")):
        if candidate and Path(candidate).exists():
            return Kustomize("kustomize-v4.5.4", (str(candidate),), True)
    return None


def require(tool):
    if tool is None or tool == []:
        pytest.skip("the kustomize builds are missing: run scripts/setup (it installs them)")
    return tool


def krmfn_bin(tmp: Path) -> Path:
    """A directory with a `krmfn` executable that runs this checkout's krmfn."""
    installed = VENV_BIN / "krmfn"
    bindir = tmp / "krmfn-bin"
    bindir.mkdir(exist_ok=True)
    script = bindir / "krmfn"
    if script.exists():
        return bindir
    if installed.exists():
        script.symlink_to(installed)
    else:
        script.write_text(f"#!/bin/sh\nPYTHONPATH={ROOT} exec {sys.executable} -P -m krmfn \"$@\"\n")
        script.chmod(0o755)
    return bindir


def docker_standin(tmp: Path) -> Path:
    """A `docker` that serves krmfn's image natively (`krmfn container-run`): a stand-in for a
    container engine on the fast tier; the container tier uses podman instead."""
    bindir = tmp / "docker-standin"
    bindir.mkdir(exist_ok=True)
    script = bindir / "docker"
    if script.exists():
        return bindir
    script.write_text(f"#!/bin/sh\nPYTHONPATH={ROOT} exec {sys.executable} -P -m krmfn container-run \"$@\"\n")
    script.chmod(0o755)
    return bindir


def prepare_tree(tmp: Path, mode: str) -> Path:
    """A copy of base/ and overlays/ whose function configs use `mode`."""
    tree = tmp / f"repo-{mode}"
    for folder in ("base", "overlays", "vendor"):
        if (ROOT / folder).exists():
            shutil.copytree(ROOT / folder, tree / folder)
    if mode == "container":
        return tree
    for path in sorted(tree.rglob("*.yaml")):
        text = path.read_text()
        if FUNCTION_ANNOTATION not in text:
            continue
        docs = yamlio.load_all(text, str(path))
        for doc in docs:
            annotations = doc.get("metadata", {}).get("annotations", {})
            if FUNCTION_ANNOTATION in annotations:
                if mode == "exec":
                    annotations[FUNCTION_ANNOTATION] = "exec:\n  path: krmfn\n"
                else:
                    del annotations[FUNCTION_ANNOTATION]
                    if not annotations:
                        del doc["metadata"]["annotations"]
        path.write_text(yamlio.dump_all(docs))
    return tree


LOCAL_CONFIG = "config.kubernetes.io/local-config"


def step_by_step_tree(tmp: Path, mode: str) -> Path:
    """A copy of the `mode` tree in which every Pipeline is undone into its functions: each stage's
    config file becomes a transformer of its own (the Pipeline's function annotation, local-config
    dropped), in stage order, where the Pipeline was. The reference a Pipeline render must equal."""
    tree = tmp / f"repo-{mode}-steps"
    if tree.exists():
        return tree
    source = tmp / f"repo-{mode}" if (tmp / f"repo-{mode}").exists() else prepare_tree(tmp, mode)
    shutil.copytree(source, tree)
    for kustomization_path in sorted(tree.rglob("kustomization.yaml")):
        directory = kustomization_path.parent
        kustomization = yamlio.load_one(kustomization_path.read_bytes(), str(kustomization_path))
        transformers = []
        for entry in kustomization.get("transformers") or []:
            files = [entry]
            if (directory / entry).is_dir():
                inner = yamlio.load_one((directory / entry / "kustomization.yaml").read_bytes(), entry)
                files = [f"{entry}/{name}" for name in inner.get("resources") or []]
            pipelines = [(f, d) for f in files for d in yamlio.load_all((directory / f).read_bytes(), f)
                         if d.get("kind") == "Pipeline"]
            if not pipelines:
                transformers.append(entry)
                continue
            (_, pipeline_doc), = pipelines
            function = (pipeline_doc["metadata"].get("annotations") or {}).get(FUNCTION_ANNOTATION)
            for stage in pipeline_doc["spec"]["stages"]:
                ref = stage["configRef"]
                resources = kustomization["resources"]
                match = [r for r in resources if (directory / r).is_file() and any(
                    d.get("kind") == ref["kind"] and d["metadata"]["name"] == ref["name"]
                    for d in yamlio.load_all((directory / r).read_bytes(), r))]
                assert len(match) == 1, (kustomization_path, ref, match)
                resources.remove(match[0])
                docs = yamlio.load_all((directory / match[0]).read_bytes(), match[0])
                for doc in docs:
                    annotations = doc["metadata"].setdefault("annotations", {})
                    annotations.pop(LOCAL_CONFIG, None)
                    if function is not None:
                        annotations[FUNCTION_ANNOTATION] = function
                    if not annotations:
                        del doc["metadata"]["annotations"]
                (directory / match[0]).write_text(yamlio.dump_all(docs))
                transformers.append(match[0])
        kustomization["transformers"] = transformers
        kustomization_path.write_text(yamlio.dump(kustomization))
    return tree


def require_vendored_crds(target: str) -> None:
    """The prod overlays list vendor/kagent-crds/<version>, whose CRD files scripts/setup copies
    from ../shared (test data, never in git): without them the render cannot run, so skip."""
    kustomization = ROOT / target / "kustomization.yaml"
    text = kustomization.read_text() if kustomization.exists() else ""
    for line in text.splitlines():
        if "vendor/kagent-crds/" in line and line.lstrip().startswith("- "):
            folder = (ROOT / target / line.split("#")[0].strip()[2:].strip()).resolve()
            listed = yamlio.load_one((folder / "kustomization.yaml").read_bytes(), str(folder))
            missing = [name for name in listed.get("resources") or [] if not (folder / name).exists()]
            if missing:
                pytest.skip(f"{folder.relative_to(ROOT)}/{missing[0]} is missing: scripts/setup copies the kagent "
                            "CRDs from ../shared/kagent-crds (absent here)")


def render(tmp: Path, kustomize: Kustomize, mode: str, target: str, *, path_prefix: list[Path] = (),
           tree: Path | None = None) -> bytes:
    require_vendored_crds(target)
    if tree is None:
        tree = prepare_tree(tmp, mode) if not (tmp / f"repo-{mode}").exists() else tmp / f"repo-{mode}"
    env = dict(os.environ)
    prefix = [str(p) for p in path_prefix]
    if mode == "container" and not path_prefix:
        prefix.append(str(docker_standin(tmp)))
    if mode in ("exec", "legacy"):
        prefix.append(str(krmfn_bin(tmp)))
    if mode == "legacy":
        plugins = tmp / "plugins"
        if not plugins.exists():
            subprocess.run([str(krmfn_bin(tmp) / "krmfn"), "install-plugins", str(plugins)], check=True,
                           capture_output=True)
        env["KUSTOMIZE_PLUGIN_HOME"] = str(plugins)
    env["PATH"] = os.pathsep.join(prefix + [env.get("PATH", "")])
    proc = subprocess.run(kustomize.build(tree / target, exec_functions=(mode == "exec")),
                          capture_output=True, env=env, timeout=300)
    if proc.returncode != 0:
        raise AssertionError(f"{kustomize.name} {mode} {target} failed:\n{proc.stderr.decode()}")
    return proc.stdout


def build_failure(tmp: Path, kustomize: Kustomize, mode: str, target: str) -> subprocess.CompletedProcess:
    try:
        render(tmp, kustomize, mode, target)
    except AssertionError as err:
        return err
    raise AssertionError(f"{kustomize.name} {mode} {target} succeeded but should have failed")


def transformer_configs(target: str) -> list[dict]:
    """The function configs of a target's kustomization (its transformers), in kustomize's order."""

    def configs_in(path: Path, field: str) -> list[dict]:
        if path.is_dir():
            kustomization = yamlio.load_one((path / "kustomization.yaml").read_bytes(), str(path)) or {}
            return [c for entry in kustomization.get(field) or [] for c in configs_in(path / entry, "resources")]
        docs = yamlio.load_all(path.read_bytes(), str(path))
        return [d for d in docs if FUNCTION_ANNOTATION in (d.get("metadata", {}).get("annotations") or {})]

    return configs_in(ROOT / target, "transformers")


def pipeline(target: str) -> list[dict]:
    """The function configs a target runs, in order: a Pipeline stands for its stages (inline
    configs, or the target's local-config files its configRefs name)."""
    out = []
    for config in transformer_configs(target):
        if config.get("kind") != "Pipeline":
            out.append(config)
            continue
        candidates = [d for path in sorted((ROOT / target).rglob("*.yaml"))
                      for d in yamlio.load_all(path.read_bytes(), str(path)) if isinstance(d, dict)]
        for stage in config["spec"]["stages"]:
            if "config" in stage:
                out.append(stage["config"])
                continue
            ref = stage["configRef"]
            out.append(next(d for d in candidates if d.get("kind") == ref["kind"]
                            and (d.get("metadata") or {}).get("name") == ref["name"]))
    return out
