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
    meta = obj.get("metadata")
    labels = meta.get("labels") if isinstance(meta, dict) else None
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
            data = {key: value for key, value in data.items() if isinstance(key, str)}
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


# A rendered prompt goes into the Agent (or a ConfigMap); the API server refuses objects over ~1.5 MiB.
MAX_RENDERED_BYTES = 1024 * 1024
# Far above any real prompt (milliseconds); stops a runaway loop in a template.
RENDER_SECONDS = 5.0
# The largest string or list a template may build with `*`, a padding method or a filter argument.
MAX_BUILT_ITEMS = MAX_RENDERED_BYTES
MAX_FILTER_INT = 100_000
# Address space a render may add to the process. Operator and filter checks cannot see every way
# to grow a value (`~` and `+` in a loop over a namespace, chained `replace`s); this bounds them
# all, and with them the time a single C-level string operation can take, which no timer stops.
RENDER_MEMORY_BYTES = 256 * 1024 * 1024


class PromptRenderer:
    """One sandboxed Jinja2 environment per run; templates cannot reach Python internals, include
    other templates, or exhaust memory or time (the sandbox alone bounds only `range`)."""

    def __init__(self) -> None:
        from jinja2 import StrictUndefined

        self._sources: dict[str, str] = {}
        self._env = _bounded_sandbox()(
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            trim_blocks=True,  # block tags do not leave blank lines in prompts
            lstrip_blocks=True,
            loader=_DictLoader(self._sources),
            cache_size=0,  # each prompt is rendered once; sources may share an origin name
        )
        self._env.globals.pop("lipsum", None)  # lipsum(n=10**9) is a memory bomb, and no prompt needs it
        for filter_name in _SIZED_FILTERS:
            self._env.filters[filter_name] = _bounded_filter(filter_name, self._env.filters[filter_name])

    def render(self, source: PromptSource, variables: dict[str, Any]) -> str:
        from jinja2 import TemplateError, TemplateSyntaxError
        from jinja2.exceptions import SecurityError, UndefinedError

        name = source.origin
        self._sources.clear()  # a template sees only itself: no include/import/extends of others
        self._sources[name] = source.text
        try:
            with _deadline(RENDER_SECONDS), _memory_budget(RENDER_MEMORY_BYTES):
                size, parts = 0, []
                for part in self._env.get_template(name).generate(variables):
                    size += len(part)
                    if size > MAX_RENDERED_BYTES:
                        raise SecurityError(f"the rendered prompt is larger than {MAX_RENDERED_BYTES // 1024} KiB")
                    parts.append(part)
                return "".join(parts)
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
        except _OverBudget:
            line = _template_line(name)
            raise PromptError(f"{name}{' line ' + str(line) if line else ''}: rendering needed more than "
                              f"{RENDER_MEMORY_BYTES // (1024 * 1024)} MiB of memory (a runaway template?)") from None
        except _RenderTimeout:
            line = _template_line(name)
            raise PromptError(f"{name}{' line ' + str(line) if line else ''}: rendering took more than "
                              f"{RENDER_SECONDS:g} s (a runaway loop?)") from None
        except (OverflowError, MemoryError, RecursionError, ValueError, TypeError, ZeroDivisionError) as err:
            line = _template_line(name)
            raise PromptError(f"{name}{' line ' + str(line) if line else ''}: {type(err).__name__}: {err}") from None


class _RenderTimeout(Exception):
    pass


class _OverBudget(Exception):
    pass


class _memory_budget:
    """Let the block grow the process's address space by at most `extra` bytes (RLIMIT_AS, soft
    limit only, restored afterwards); a MemoryError inside becomes `_OverBudget`."""

    def __init__(self, extra: int):
        self.extra = extra
        self.previous = None

    def __enter__(self) -> None:
        try:
            import resource

            with open("/proc/self/statm") as handle:
                in_use = int(handle.read().split()[0]) * resource.getpagesize()
            soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            limit = in_use + self.extra
            if hard != resource.RLIM_INFINITY:
                limit = min(limit, hard)
            if soft != resource.RLIM_INFINITY and soft <= limit:
                return  # a tighter limit is already in place
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
            self.previous = (soft, hard)
        except (ImportError, OSError, ValueError):
            pass  # not Linux: the operator and filter checks still apply

    def __exit__(self, kind, value, traceback) -> bool:
        if self.previous is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, self.previous)
        if kind is not None and issubclass(kind, MemoryError):
            raise _OverBudget() from None
        return False


class _deadline:
    """Raise `_RenderTimeout` in the block after `seconds` (a real-time timer; main thread only, where
    every krmfn command runs). An outer timer (e.g. a test runner's) is restored afterwards."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.armed = False

    def __enter__(self) -> None:
        import signal
        import threading
        import time

        if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
            return

        def expire(signum, frame):
            if self.armed:
                raise _RenderTimeout()

        self.started = time.monotonic()
        self.previous_handler = signal.signal(signal.SIGALRM, expire)
        self.armed = True
        self.previous_timer = signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc: object) -> None:
        import signal
        import time

        if not self.armed:
            return
        try:
            self.armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
        finally:
            signal.signal(signal.SIGALRM, self.previous_handler)
            remaining, interval = self.previous_timer
            if remaining:
                signal.setitimer(signal.ITIMER_REAL, max(remaining - (time.monotonic() - self.started), 0.001),
                                 interval)


_SANDBOX = None
_PADDING = {"ljust", "rjust", "center", "zfill", "expandtabs"}
# Filters whose integer arguments size what they build (a width, a count), and `format` (a %-format).
_SIZED_FILTERS = ("center", "indent", "batch", "slice", "format")
# A %-format or str.format field with a huge or computed width or precision: '%999999999d', '{:>{}}'.
_HUGE_PERCENT = re.compile(r"%[-#0 +]*(\*|[0-9]{7,})|%[-#0 +0-9]*\.(\*|[0-9]{7,})")
_HUGE_FORMAT = re.compile(r"\{[^{}]*:[^{}]*(\{|[0-9]{7,})")


def _refuse(message: str) -> None:
    from jinja2.exceptions import SecurityError

    raise SecurityError(message)


def _bounded_sandbox():
    """The sandbox class, with `*`, `**`, `%` and padding bounded (built on first use: jinja2 loads lazily)."""
    global _SANDBOX
    if _SANDBOX is not None:
        return _SANDBOX
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class BoundedSandbox(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset(["*", "**", "%"])

        def call_binop(self, context, operator, left, right):
            if operator == "*":
                for sequence, count in ((left, right), (right, left)):
                    if isinstance(sequence, (str, list, tuple)) and isinstance(count, int) \
                            and len(sequence) * count > MAX_BUILT_ITEMS:
                        _refuse(f"'*' would build a value of {len(sequence) * count:,} items")
            elif operator == "**":
                if isinstance(left, int) and isinstance(right, int) and right > 0 \
                        and left.bit_length() * right > 64 * 1024:
                    _refuse("'**' would build a number of more than 64 Kibit")
            elif operator == "%" and isinstance(left, str) and _HUGE_PERCENT.search(left):
                _refuse("a %-format with a huge or computed width or precision")
            return super().call_binop(context, operator, left, right)

        def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - jinja2's signature
            target = getattr(__obj, "__wrapped__", __obj)  # the sandbox wraps str.format
            owner, method = getattr(target, "__self__", None), getattr(target, "__name__", "")
            if isinstance(owner, str):
                if method in _PADDING and any(isinstance(a, int) and a > MAX_BUILT_ITEMS for a in args):
                    _refuse(f"str.{method} with a width over {MAX_BUILT_ITEMS:,}")
                if method in ("format", "format_map") and _HUGE_FORMAT.search(owner):
                    _refuse("a format field with a huge or computed width or precision")
            return super().call(__context, __obj, *args, **kwargs)

    _SANDBOX = BoundedSandbox
    return _SANDBOX


def _bounded_filter(name: str, function):
    """The filter, with its integer arguments (widths, counts) bounded; `format` checks its format."""
    import functools

    @functools.wraps(function)
    def bounded(*args, **kwargs):
        if name != "format" and any(isinstance(a, int) and not isinstance(a, bool) and abs(a) > MAX_FILTER_INT
                                    for a in (*args[1:], *kwargs.values())):
            _refuse(f"filter {name} with an argument over {MAX_FILTER_INT:,}")
        if name == "format" and any(isinstance(a, str) and _HUGE_PERCENT.search(a) for a in args[:2]):
            _refuse("a %-format with a huge or computed width or precision")
        return function(*args, **kwargs)

    return bounded


class _DictLoader:
    """A minimal Jinja2 loader over a dict (no import of jinja2.loaders' filesystem machinery)."""

    def __init__(self, sources: dict[str, str]):
        self._sources = sources

    def load(self, environment, name, globals=None):
        from jinja2 import TemplateNotFound

        if name not in self._sources:
            raise TemplateNotFound(name, f"template {name!r} not found: a prompt cannot include, import or "
                                         "extend other templates")
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
