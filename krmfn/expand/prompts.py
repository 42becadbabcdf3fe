"""System prompts: found in prompt-library ConfigMaps, rendered in a Jinja2 sandbox.

Prompts reach the function as ConfigMaps (usually from a kustomize `configMapGenerator`), never
from the disk, so a containerised run (no repository files visible) and an exec run agree.
"""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass
from typing import Any

from ..api.common import LABEL_PROMPT_LIBRARY, meta_name, meta_namespace

# kustomize appends "-<10 character hash>" to generated ConfigMap names unless told not to.
_HASH_SUFFIX = re.compile(r"^(?P<base>.+)-[a-z0-9]{10}$")
RESERVED_VARIABLES = ("agent", "name", "namespace", "description", "environment", "model",
                      "tools", "skills", "delegates", "vars")
MAX_PROMPT_BYTES = 256 * 1024


class PromptError(ValueError):
    """A prompt that cannot be found or rendered; the message names the source and line."""


def is_prompt_library(obj: dict) -> bool:
    if obj.get("apiVersion") != "v1" or obj.get("kind") != "ConfigMap":
        return False
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return isinstance(labels, dict) and labels.get(LABEL_PROMPT_LIBRARY) == "true"


@dataclass(frozen=True)
class PromptSource:
    text: str
    origin: str  # what a human calls it in an error: "k8s-readonly.md (ConfigMap platform/agent-prompts)"


class PromptLibrary:
    """Prompt files, indexed by namespace, ConfigMap name (hash suffix dropped) and key."""

    def __init__(self, configmaps: list[dict]):
        self._by_namespace: dict[str, list[tuple[str, str, dict]]] = {}
        for cm in configmaps:
            data = cm.get("data") or {}
            if not isinstance(data, dict):
                continue
            name = meta_name(cm)
            match = _HASH_SUFFIX.match(name)
            base = match.group("base") if match else name
            self._by_namespace.setdefault(meta_namespace(cm), []).append((name, base, data))

    def file(self, namespace: str, key: str) -> PromptSource:
        found = [(name, data[key]) for name, _, data in self._by_namespace.get(namespace, ()) if key in data]
        if not found:
            known = sorted({k for _, _, data in self._by_namespace.get(namespace, ()) for k in data})
            hint = f"; prompt files in namespace {namespace or '(none)'}: {', '.join(known)}" if known else (
                f"; no prompt-library ConfigMap (label {LABEL_PROMPT_LIBRARY}: \"true\") in namespace "
                f"{namespace or '(none)'}: add the file to a configMapGenerator"
            )
            raise PromptError(f"prompt file {key!r} not found{hint}")
        if len(found) > 1:
            raise PromptError(
                f"prompt file {key!r} is in several prompt-library ConfigMaps: {', '.join(n for n, _ in found)}"
            )
        name, text = found[0]
        return PromptSource(_text(text, key), f"{key} (ConfigMap {namespace}/{name})")

    def config_map(self, namespace: str, name: str, key: str) -> PromptSource:
        for actual, base, data in self._by_namespace.get(namespace, ()):
            if name in (actual, base):
                if key not in data:
                    raise PromptError(f"ConfigMap {namespace}/{actual} has no key {key!r}; keys: {', '.join(sorted(data))}")
                return PromptSource(_text(data[key], key), f"{key} (ConfigMap {namespace}/{actual})")
        raise PromptError(
            f"prompt-library ConfigMap {name!r} not found in namespace {namespace or '(none)'} "
            f"(it needs the label {LABEL_PROMPT_LIBRARY}: \"true\")"
        )


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise PromptError(f"prompt {key!r} is not text")
    if len(value.encode()) > MAX_PROMPT_BYTES:
        raise PromptError(f"prompt {key!r} is larger than {MAX_PROMPT_BYTES // 1024} KiB")
    return value


class PromptRenderer:
    """One sandboxed Jinja2 environment per run; templates cannot reach Python internals."""

    def __init__(self) -> None:
        from jinja2 import StrictUndefined
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        self._sources: dict[str, str] = {}
        self._env = ImmutableSandboxedEnvironment(
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            trim_blocks=True,  # block tags do not leave blank lines in prompts
            lstrip_blocks=True,
            loader=_DictLoader(self._sources),
            cache_size=0,  # each prompt is rendered once; sources may share an origin name
        )

    def render(self, source: PromptSource, variables: dict[str, Any]) -> str:
        from jinja2 import TemplateError, TemplateSyntaxError
        from jinja2.exceptions import SecurityError, UndefinedError

        name = source.origin
        self._sources[name] = source.text
        try:
            return self._env.get_template(name).render(variables)
        except TemplateSyntaxError as err:
            raise PromptError(f"{name} line {err.lineno}: template syntax error: {err.message}") from None
        except (UndefinedError, SecurityError) as err:
            line = _template_line(name)
            where = f" line {line}" if line else ""
            message = str(err.message if hasattr(err, "message") and err.message else err)
            if isinstance(err, SecurityError):
                message = f"refused by the template sandbox: {message}"
            raise PromptError(f"{name}{where}: {message}") from None
        except TemplateError as err:
            line = _template_line(name)
            raise PromptError(f"{name}{' line ' + str(line) if line else ''}: {err}") from None
        except (OverflowError, MemoryError, RecursionError, ValueError, TypeError, ZeroDivisionError) as err:
            line = _template_line(name)
            raise PromptError(f"{name}{' line ' + str(line) if line else ''}: {type(err).__name__}: {err}") from None


class _DictLoader:
    """A minimal Jinja2 loader over a dict (no import of jinja2.loaders' filesystem machinery)."""

    def __init__(self, sources: dict[str, str]):
        self._sources = sources

    def load(self, environment, name, globals=None):
        source = self._sources[name]
        code = environment.compile(source, name, name)
        return environment.template_class.from_code(environment, code, globals or {}, lambda: True)


def _template_line(name: str) -> int | None:
    """The template line of the innermost traceback frame that belongs to template `name`."""
    tb = sys.exc_info()[2]
    line = None
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_filename == name:
            # Jinja rewrites tracebacks so template frames carry template line numbers.
            template = frame.f_globals.get("__jinja_template__")
            line = template.get_corresponding_lineno(tb.tb_lineno) if template is not None else tb.tb_lineno
        tb = tb.tb_next
    return line


def digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
