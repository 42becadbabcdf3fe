"""System prompts: found in prompt-library ConfigMaps, rendered in a Jinja2 sandbox.

Prompts reach the function as ConfigMaps (usually from a kustomize `configMapGenerator`), never
from the disk, so a containerised run (no repository files visible) and an exec run agree. A
prompt without template syntax is copied as it is (Jinja2 is not even imported for it); a template
is checked for hostile shapes before Jinja2 compiles it, and all templates of a run share one
render-time budget.
"""

from __future__ import annotations

import functools
import re
import sys
from typing import Any

from ..api.common import LABEL_PROMPT_LIBRARY, meta_name, meta_namespace
from ..runtime.record import record

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


@record(frozen=True)
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


def inline(text: Any) -> PromptSource:
    """`spec.prompt.text`, with the bounds of a prompt file."""
    return PromptSource(_text(text, "spec.prompt.text"), "spec.prompt.text")


def is_template(text: str) -> bool:
    """Whether Jinja2 would see anything but plain text in `text` (no line statements are enabled)."""
    return "{{" in text or "{%" in text or "{#" in text


def credential_variables(variables: Any, path: str = "") -> list[str]:
    """The paths (`dbPassword`, `db.password`) of template variables named like a credential: a
    prompt goes to the model provider with every request, so a credential rendered into it leaks."""
    from ..runtime.secrets import is_credential_key

    found = []
    if isinstance(variables, dict):
        for key, value in variables.items():
            where = f"{path}.{key}" if path else str(key)
            if is_credential_key(str(key)):
                found.append(where)
            else:
                found.extend(credential_variables(value, where))
    elif isinstance(variables, list):
        for index, value in enumerate(variables):
            found.extend(credential_variables(value, f"{path}[{index}]"))
    return found


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise PromptError(f"prompt {key!r} is not text")
    if len(value.encode()) > MAX_PROMPT_BYTES:
        raise PromptError(f"prompt {key!r} is larger than {MAX_PROMPT_BYTES // 1024} KiB")
    return value


# A rendered prompt goes into the Agent (or a ConfigMap); the API server refuses objects over ~1.5 MiB.
MAX_RENDERED_BYTES = 1024 * 1024
# All templates of one run together, compiling and rendering: far above any real prompt set
# (milliseconds each), far below Argo CD's 90 s plugin timeout however many prompts run away.
RENDER_SECONDS = 10.0
# Shapes Jinja2 and Python's compiler handle badly, refused before compiling (a 300-term `+` chain
# took 5 s to fail; 120 nested blocks overflow Python's indentation limit): no prompt comes near.
MAX_BLOCK_NESTING = 40
MAX_EXPRESSION_OPERATORS = 100
MAX_BRACKET_NESTING = 30
# The largest string or list a template may build with `*`, a padding method or a filter argument.
MAX_BUILT_ITEMS = MAX_RENDERED_BYTES
MAX_FILTER_INT = 100_000
# Address space a render may add to the process. Operator and filter checks cannot see every way
# to grow a value (`~` and `+` in a loop over a namespace, chained `replace`s); this bounds them
# all, and with them the time a single C-level string operation can take, which no timer stops.
RENDER_MEMORY_BYTES = 256 * 1024 * 1024


class PromptRenderer:
    """One sandboxed Jinja2 environment per run (built on the first template); templates cannot
    reach Python internals, include other templates, or exhaust memory or the run's time budget
    (the sandbox alone bounds only `range`)."""

    def __init__(self) -> None:
        self._sources: dict[str, str] = {}
        self._env = None
        self._remaining = RENDER_SECONDS

    def _environment(self):
        if self._env is None:
            self._env = _bounded_sandbox()(
                undefined=_strict_undefined(),
                autoescape=False,
                keep_trailing_newline=True,
                trim_blocks=True,  # block tags do not leave blank lines in prompts
                lstrip_blocks=True,
                loader=_DictLoader(self._sources),
                cache_size=0,  # each prompt is rendered once; sources may share an origin name
                # No template code while compiling: Jinja2 folds constant expressions (the optimizer
                # once per level of a filter chain, the output step once more) and reads any
                # exception as "cannot fold": 20 chained replaces ran 21 times to the memory budget,
                # 10-55 s, past the run's time budget. A context-taking finalize (the identity)
                # keeps output constants for render time; the deadline and budgets then see them.
                optimized=False,
                finalize=_render_time_finalize(),
            )
            self._env.globals.pop("lipsum", None)  # lipsum(n=10**9) is a memory bomb, and no prompt needs it
            for filter_name in _SIZED_FILTERS:
                self._env.filters[filter_name] = _bounded_filter(filter_name, self._env.filters[filter_name])
        return self._env

    def render(self, source: PromptSource, variables: dict[str, Any]) -> str:
        """The rendered prompt, or PromptError (one line, naming the source and line; never a
        variable's value)."""
        if not is_template(source.text):
            return _NEWLINES.sub("\n", source.text)  # what Jinja2 makes of plain text, byte for byte
        try:
            return self._render(source, variables)
        except PromptError as err:
            raise PromptError(_scrub(str(err), variables)) from None

    def _parts(self, template, variables: dict[str, Any]):
        """The rendered pieces in order: the one place `krmfn.expand.provenance` hooks into to learn
        which template line each piece came from (the output is the same either way)."""
        return template.generate(variables)

    def _render(self, source: PromptSource, variables: dict[str, Any]) -> str:
        import time

        from jinja2 import TemplateError, TemplateSyntaxError
        from jinja2.exceptions import SecurityError, UndefinedError

        name = source.origin
        if self._remaining <= 0:
            raise PromptError(f"{name}: not rendered: the prompts of this run used up their {RENDER_SECONDS:g} s "
                              "render budget (a runaway template above?)")
        env = self._environment()
        _check_shape(env, source.text, name)
        self._sources.clear()  # a template sees only itself: no include/import/extends of others
        self._sources[name] = source.text
        started = time.monotonic()
        try:
            with _deadline(self._remaining), _memory_budget(RENDER_MEMORY_BYTES):
                size, parts = 0, []
                for part in self._parts(env.get_template(name), variables):
                    size += len(part)
                    if size > MAX_RENDERED_BYTES:
                        raise SecurityError(f"the rendered prompt is larger than {MAX_RENDERED_BYTES // 1024} KiB")
                    parts.append(part)
                return "".join(parts)
        except TemplateSyntaxError as err:
            raise PromptError(f"{name} line {err.lineno}: template syntax error: {err.message}") from None
        except (UndefinedError, SecurityError) as err:
            message = str(err.message if hasattr(err, "message") and err.message else err)
            if isinstance(err, SecurityError):
                message = f"refused by the template sandbox: {message}"
            raise PromptError(f"{_where(name)}: {message}") from None
        except TemplateError as err:
            raise PromptError(f"{_where(name)}: {err}") from None
        except _OverBudget:
            raise PromptError(f"{_where(name)}: rendering needed more than "
                              f"{RENDER_MEMORY_BYTES // (1024 * 1024)} MiB of memory (a runaway template?)") from None
        except _RenderTimeout:
            raise PromptError(f"{_where(name)}: rendering used up the {RENDER_SECONDS:g} s render budget of all "
                              "prompts of this run (a runaway loop?)") from None
        except (SyntaxError, RecursionError) as err:  # Python's compiler on what Jinja2 generated
            raise PromptError(f"{name}: the template is nested too deeply to compile ({type(err).__name__}: "
                              f"{getattr(err, 'msg', None) or err})") from None
        except Exception as err:  # noqa: BLE001 - any error of template code ('{}'.format(), .encode('bad'), ...)
            raise PromptError(f"{_where(name)}: {type(err).__name__}: {err}") from None
        finally:
            self._remaining -= time.monotonic() - started


_NEWLINES = re.compile(r"\r\n|\r")


def _where(name: str) -> str:
    line = _template_line(name)
    return f"{name} line {line}" if line else name


def _scrub(message: str, variables: dict[str, Any]) -> str:
    """`message` without the values of the user's template variables, nor anything that looks like
    a credential: an error may quote a value (`'dict object' has no attribute '<value>'`)."""
    from ..runtime.secrets import redact

    values: list[str] = []

    def collect(value: Any) -> None:
        if isinstance(value, str):
            if len(value) >= 4:
                values.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                collect(item)

    collect(variables.get("vars"))
    for value in sorted(set(values), key=lambda v: (-len(v), v)):
        message = message.replace(value, "<value>")
    return redact(message)


_OPENING_BLOCKS = frozenset(("if", "for", "macro", "call", "filter", "with", "autoescape", "block", "raw"))


def _check_shape(env, text: str, name: str) -> None:
    """Refuse templates Jinja2 or Python's compiler would take seconds over or fail on inside:
    deep block nesting, long operator chains, deep brackets. One pass over Jinja2's tokens."""
    from jinja2 import TemplateSyntaxError

    depth, operators, brackets = 0, 0, 0
    first_in_tag = False
    opened_set = False
    try:
        for line, kind, value in env.lex(text):
            if kind == "whitespace":
                continue
            if kind in ("block_begin", "variable_begin"):
                operators, brackets, first_in_tag, opened_set = 0, 0, kind == "block_begin", False
                continue
            if kind == "block_end" and opened_set:
                depth += 1  # `{% set x %}...{% endset %}` is a block; `{% set x = 1 %}` is not
                if depth > MAX_BLOCK_NESTING:
                    raise PromptError(f"{name} line {line}: blocks nest more than {MAX_BLOCK_NESTING} deep")
            if first_in_tag and kind == "name":
                first_in_tag = False
                if value in _OPENING_BLOCKS:
                    depth += 1
                elif value == "set":
                    opened_set = True
                elif value.startswith("end"):
                    depth -= 1
                if depth > MAX_BLOCK_NESTING:
                    raise PromptError(f"{name} line {line}: blocks nest more than {MAX_BLOCK_NESTING} deep")
                continue
            first_in_tag = False
            if kind == "operator":
                if value == "=" and opened_set:
                    opened_set = False
                if value in "([{":
                    brackets += 1
                    if brackets > MAX_BRACKET_NESTING:
                        raise PromptError(f"{name} line {line}: brackets nest more than {MAX_BRACKET_NESTING} deep")
                elif value in ")]}":
                    brackets -= 1
                elif value not in (",", ":"):
                    operators += 1
            elif kind == "name" and value in ("and", "or", "not", "in", "is", "if", "else"):
                operators += 1
            if operators > MAX_EXPRESSION_OPERATORS:
                raise PromptError(f"{name} line {line}: an expression with more than {MAX_EXPRESSION_OPERATORS} "
                                  "operators (split it, or compute the value outside the prompt)")
    except TemplateSyntaxError as err:
        raise PromptError(f"{name} line {err.lineno}: template syntax error: {err.message}") from None


_UNDEFINED = None


def _strict_undefined():
    """StrictUndefined that also fails in repr(): `{{ [missing] }}` rendered `[Undefined]`."""
    global _UNDEFINED
    if _UNDEFINED is None:
        from jinja2 import StrictUndefined

        class StrictestUndefined(StrictUndefined):
            __slots__ = ()
            __repr__ = StrictUndefined._fail_with_undefined_error

        _UNDEFINED = StrictestUndefined
    return _UNDEFINED


def _render_time_finalize():
    from jinja2 import pass_context

    @pass_context
    def finalize(context, value):
        return value

    return finalize


class _RenderTimeout(BaseException):
    """Not an Exception: no `except Exception` in Jinja2 or in a filter may swallow the deadline."""


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
    return "sha256:" + _sha256()(text.encode()).hexdigest()


@functools.cache
def _sha256():
    """CPython's built-in SHA-256 (the same digest): `hashlib` loads OpenSSL, ~3 ms of a cold call."""
    try:
        from _sha256 import sha256  # Python 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # Python 3.12+
        except ImportError:
            from hashlib import sha256
    return sha256
