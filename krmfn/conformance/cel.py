"""A small CEL compiler for the `x-kubernetes-validations` rules of CRDs.

It parses a CEL expression once and turns it into a tree of Python closures, so evaluating a rule
costs a handful of function calls instead of an interpreter walk (cel-python takes ~160 ms to
import and is far slower per evaluation). It covers the CEL subset that Kubernetes CRD rules use
in practice, with Kubernetes' semantics:

- literals (int, uint, double, string incl. raw/triple-quoted, bytes, bool, null), lists, maps;
- `self` (and, for transition rules, `oldSelf`), field selection, indexing;
- `!`, `-`, `* / %`, `+ -`, `< <= > >= == != in`, `&&`, `||` (commutative, error-absorbing, as in
  CEL), `? :`;
- macros `has()`, `all`, `exists`, `exists_one`, `map`, `filter`;
- functions `size`, `int`, `uint`, `double`, `string`, `bool`, `dyn`, `matches`, `startsWith`,
  `endsWith`, `contains`, and the Kubernetes extension string/list functions `lowerAscii`,
  `upperAscii`, `trim`, `split`, `join`, `replace`, `indexOf`, `lastIndexOf`, `substring`,
  `charAt`, `isSorted`, `sum`, `min`, `max`.

Anything else is refused at compile time with `CELUnsupported` (never silently accepted), so a
CRD that needs more is reported loudly by the schema compiler.

Values are the plain Python values of a decoded JSON document: dict, list, str, int, float,
bool, None. A missing field read with `self.x` raises `CELError("no such key: x")`, like the
API server; errors are absorbed by `&&`/`||`/`all`/`exists` exactly as CEL specifies.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable

__all__ = ["CELError", "CELUnsupported", "CELSyntaxError", "Program", "compile_rule"]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
UINT64_MAX = 2**64 - 1


class CELError(Exception):
    """A runtime evaluation error (no such key, no matching overload, division by zero, ...)."""


class CELUnsupported(Exception):
    """The rule uses CEL this compiler does not implement (refused at compile time)."""


class CELSyntaxError(CELUnsupported):
    """The rule does not parse."""


Evaluator = Callable[[dict], Any]


class CELCostExceeded(Exception):
    """An evaluation went over its cost limit (not a CELError: no `||`, `&&` or macro absorbs it)."""


# The API server's limits (k8s.io/apiserver/pkg/apis/cel: PerCallLimit, RuntimeCELCostBudget):
# one rule evaluation may cost 1,000,000, all rules of one object together 10,000,000.
PER_CALL_LIMIT = 1_000_000
PER_OBJECT_BUDGET = 10_000_000
_UNMETERED = 2**62
# What is left of the running evaluation's limit. One evaluation runs at a time (single-threaded).
_meter = [_UNMETERED]


def _charge(cost: int) -> None:
    _meter[0] -= cost
    if _meter[0] < 0:
        raise CELCostExceeded()


class Program:
    """A compiled rule: `run({'self': value}, limit)` (metered), or `evaluate(...)` (not)."""

    __slots__ = ("source", "evaluate", "uses_old_self", "size")

    def __init__(self, source: str, evaluate: Evaluator, uses_old_self: bool, size: int = 1):
        self.source = source
        self.evaluate = evaluate
        self.uses_old_self = uses_old_self
        self.size = size

    def run(self, activation: dict, limit: int) -> tuple[Any, int]:
        """(result, cost). The cost is modelled on cel-go's: one per expression node evaluated,
        each macro iteration its body's size, `in` on a list and list or string concatenation
        their length. Raises CELCostExceeded once it passes `limit`, as soon as it does."""
        _meter[0] = limit - self.size
        try:
            if _meter[0] < 0:
                raise CELCostExceeded()
            result = self.evaluate(activation)
            return result, limit - _meter[0]
        finally:
            _meter[0] = _UNMETERED

    def __repr__(self) -> str:
        return f"Program({self.source!r})"


def compile_rule(source: str) -> Program:
    """Parse and compile one CEL expression (raises CELUnsupported / CELSyntaxError)."""
    if not isinstance(source, str) or not source.strip():
        raise CELSyntaxError("empty rule")
    ast = _Parser(source).parse()
    compiler = _Compiler()
    fn = compiler.compile(ast, frozenset(("self", "oldSelf")))
    return Program(source, fn, compiler.uses_old_self, _ast_size(ast))


def _ast_size(node: Any) -> int:
    """Expression nodes in an AST (tuples whose head is the node kind; lists hold children)."""
    if isinstance(node, list):
        return sum(_ast_size(x) for x in node)
    if isinstance(node, tuple):
        if node and isinstance(node[0], str) and node[0] in _NODE_KINDS:
            return 1 + sum(_ast_size(x) for x in node[1:])
        return sum(_ast_size(x) for x in node)
    return 0


# --------------------------------------------------------------------------------------------
# Lexer

_PUNCT = (
    "||", "&&", "==", "!=", "<=", ">=",
    "<", ">", "!", "+", "-", "*", "/", "%", "?", ":", ".", ",", "(", ")", "[", "]", "{", "}",
)
_RESERVED = frozenset(
    "as break const continue else for function if import let loop package namespace return var "
    "void while".split()
)
_NUM_RE = re.compile(
    r"0[xX][0-9a-fA-F]+[uU]?"
    r"|(?:\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\.\d+(?:[eE][+-]?\d+)?)"
    r"|\d+[uU]?"
)
_IDENT_RE = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
_WS_RE = re.compile(r"(?:\s+|//[^\n]*)+")
_ESCAPES = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
    "\\": "\\", "'": "'", '"': '"', "`": "`", "?": "?",
}


class _Tok:
    __slots__ = ("kind", "value", "pos")

    def __init__(self, kind: str, value: Any, pos: int):
        self.kind, self.value, self.pos = kind, value, pos  # kind: num str bytes ident punct eof

    def __repr__(self) -> str:
        return f"{self.kind}:{self.value!r}@{self.pos}"


def _tokenize(src: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(src)
    while i < n:
        m = _WS_RE.match(src, i)
        if m:
            i = m.end()
            continue
        c = src[i]
        # string / bytes literals with optional r/b prefixes
        j = i
        while j < n and j - i < 2 and src[j] in "rRbB":
            j += 1
        prefix = src[i:j].lower()
        if j < n and src[j] in "'\"" and prefix in ("", "r", "b", "rb", "br"):
            value, i = _read_string(src, j, "r" in prefix)
            if "b" in prefix:
                toks.append(_Tok("bytes", value.encode("utf-8"), j))
            else:
                toks.append(_Tok("str", value, j))
            continue
        if c.isdigit() or (c == "." and i + 1 < n and src[i + 1].isdigit()):
            m = _NUM_RE.match(src, i)
            text = m.group(0)
            toks.append(_Tok("num", _number(text), i))
            i = m.end()
            continue
        m = _IDENT_RE.match(src, i)
        if m:
            toks.append(_Tok("ident", m.group(0), i))
            i = m.end()
            continue
        if src.startswith(".?", i) or src.startswith("[?", i):
            raise CELUnsupported("optional field syntax (.? / [?]) is not supported")
        for p in _PUNCT:
            if src.startswith(p, i):
                toks.append(_Tok("punct", p, i))
                i += len(p)
                break
        else:
            raise CELSyntaxError(f"unexpected character {c!r} at {i}")
    toks.append(_Tok("eof", None, n))
    return toks


def _number(text: str) -> Any:
    low = text.lower()
    if low.startswith("0x"):
        if low.endswith("u"):
            return _UInt(int(low[2:-1], 16))
        return int(low[2:], 16)
    if low.endswith("u"):
        return _UInt(int(low[:-1]))
    if "." in low or "e" in low:
        return float(text)
    return int(text)


class _UInt(int):
    """Marks a uint literal in the AST; evaluated as a plain int."""


def _read_string(src: str, i: int, raw: bool) -> tuple[str, int]:
    q = src[i]
    triple = src.startswith(q * 3, i)
    delim = q * 3 if triple else q
    i += len(delim)
    out: list[str] = []
    n = len(src)
    while True:
        if i >= n:
            raise CELSyntaxError("unterminated string literal")
        if src.startswith(delim, i):
            return "".join(out), i + len(delim)
        c = src[i]
        if c == "\n" and not triple:
            raise CELSyntaxError("newline in string literal")
        if c == "\\" and not raw:
            if i + 1 >= n:
                raise CELSyntaxError("bad escape")
            e = src[i + 1]
            if e in _ESCAPES:
                out.append(_ESCAPES[e])
                i += 2
            elif e in "xX":
                out.append(chr(int(src[i + 2:i + 4], 16)))
                i += 4
            elif e == "u":
                out.append(chr(int(src[i + 2:i + 6], 16)))
                i += 6
            elif e == "U":
                out.append(chr(int(src[i + 2:i + 10], 16)))
                i += 10
            elif e in "01234567":
                out.append(chr(int(src[i + 1:i + 4], 8)))
                i += 4
            else:
                raise CELSyntaxError(f"bad escape \\{e}")
            continue
        out.append(c)
        i += 1


# --------------------------------------------------------------------------------------------
# Parser: produces tuples
#   ("lit", v) ("ident", name) ("select", operand, field) ("has", operand, field)
#   ("index", operand, idx) ("call", name, target|None, [args]) ("list", [e]) ("map", [(k, v)])
#   ("not", e) ("neg", e) ("bin", op, l, r) ("and", l, r) ("or", l, r) ("cond", c, t, f)
#   ("comp", macro, range, var, [args])

_MACROS = {"all": 2, "exists": 2, "exists_one": 2, "filter": 2, "map": (2, 3)}


class _Parser:
    def __init__(self, src: str):
        self.src = src
        self.toks = _tokenize(src)
        self.i = 0

    def parse(self):
        e = self.expr()
        if self.peek().kind != "eof":
            raise CELSyntaxError(f"unexpected {self.peek().value!r} at {self.peek().pos}")
        return e

    # helpers
    def peek(self) -> _Tok:
        return self.toks[self.i]

    def next(self) -> _Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def accept(self, p: str) -> bool:
        t = self.toks[self.i]
        if t.kind == "punct" and t.value == p:
            self.i += 1
            return True
        return False

    def expect(self, p: str) -> None:
        if not self.accept(p):
            t = self.peek()
            raise CELSyntaxError(f"expected {p!r} at {t.pos}, found {t.value!r}")

    # grammar
    def expr(self):
        c = self.or_()
        if self.accept("?"):
            t = self.or_()
            self.expect(":")
            f = self.expr()
            return ("cond", c, t, f)
        return c

    def or_(self):
        e = self.and_()
        while self.accept("||"):
            e = ("or", e, self.and_())
        return e

    def and_(self):
        e = self.rel()
        while self.accept("&&"):
            e = ("and", e, self.rel())
        return e

    def rel(self):
        e = self.add()
        while True:
            t = self.peek()
            if t.kind == "punct" and t.value in ("<", "<=", ">", ">=", "==", "!="):
                self.i += 1
                e = ("bin", t.value, e, self.add())
            elif t.kind == "ident" and t.value == "in":
                self.i += 1
                e = ("bin", "in", e, self.add())
            else:
                return e

    def add(self):
        e = self.mul()
        while True:
            t = self.peek()
            if t.kind == "punct" and t.value in ("+", "-"):
                self.i += 1
                e = ("bin", t.value, e, self.mul())
            else:
                return e

    def mul(self):
        e = self.unary()
        while True:
            t = self.peek()
            if t.kind == "punct" and t.value in ("*", "/", "%"):
                self.i += 1
                e = ("bin", t.value, e, self.unary())
            else:
                return e

    def unary(self):
        if self.accept("!"):
            return ("not", self.unary())
        if self.accept("-"):
            t = self.peek()
            if t.kind == "num" and not isinstance(t.value, _UInt):
                # fold negative literals so that -9223372036854775808 is representable
                nxt = self.toks[self.i + 1]
                if not (nxt.kind == "punct" and nxt.value in (".", "[")):
                    self.i += 1
                    return ("lit", -t.value)
            return ("neg", self.unary())
        return self.member()

    def member(self):
        e = self.primary()
        while True:
            if self.accept("."):
                t = self.next()
                if t.kind != "ident":
                    raise CELSyntaxError(f"expected field name at {t.pos}")
                name = t.value
                if self.accept("("):
                    args = self.args(")")
                    e = self.member_call(e, name, args)
                else:
                    e = ("select", e, name)
            elif self.accept("["):
                idx = self.expr()
                self.expect("]")
                e = ("index", e, idx)
            else:
                return e

    def member_call(self, target, name, args):
        if name in _MACROS:
            arity = _MACROS[name]
            ok = len(args) in (arity if isinstance(arity, tuple) else (arity,))
            if not ok:
                raise CELSyntaxError(f"macro {name} takes {arity} arguments")
            var = args[0]
            if var[0] != "ident":
                raise CELSyntaxError(f"macro {name}: first argument must be an identifier")
            return ("comp", name, target, var[1], args[1:])
        return ("call", name, target, args)

    def args(self, close: str) -> list:
        out: list = []
        if self.accept(close):
            return out
        while True:
            out.append(self.expr())
            if self.accept(close):
                return out
            self.expect(",")
            if self.accept(close):  # trailing comma
                return out

    def primary(self):
        t = self.next()
        if t.kind == "num":
            return ("lit", int(t.value) if isinstance(t.value, _UInt) else t.value)
        if t.kind in ("str", "bytes"):
            return ("lit", t.value)
        if t.kind == "ident":
            name = t.value
            if name == "true":
                return ("lit", True)
            if name == "false":
                return ("lit", False)
            if name == "null":
                return ("lit", None)
            if name in _RESERVED or name == "in":
                raise CELSyntaxError(f"reserved word {name!r}")
            if self.accept("("):
                args = self.args(")")
                if name == "has":
                    if len(args) != 1 or args[0][0] != "select":
                        raise CELSyntaxError("has() requires a field selection argument")
                    return ("has", args[0][1], args[0][2])
                return ("call", name, None, args)
            if self.peek().kind == "punct" and self.peek().value == "{":
                raise CELUnsupported("message construction (Type{...}) is not supported")
            return ("ident", name)
        if t.kind == "punct":
            if t.value == "(":
                e = self.expr()
                self.expect(")")
                return e
            if t.value == "[":
                return ("list", self.args("]"))
            if t.value == "{":
                entries = []
                if not self.accept("}"):
                    while True:
                        k = self.expr()
                        self.expect(":")
                        v = self.expr()
                        entries.append((k, v))
                        if self.accept("}"):
                            break
                        self.expect(",")
                        if self.accept("}"):
                            break
                return ("map", entries)
            if t.value == ".":
                raise CELUnsupported("leading-dot qualified identifiers are not supported")
        raise CELSyntaxError(f"unexpected {t.value!r} at {t.pos}")


# --------------------------------------------------------------------------------------------
# Runtime helpers

_NUM = (int, float)


def _type_name(v: Any) -> str:
    t = type(v)
    if t is bool:
        return "bool"
    if t is int:
        return "int"
    if t is float:
        return "double"
    if t is str:
        return "string"
    if t is bytes:
        return "bytes"
    if t is list:
        return "list"
    if t is dict:
        return "map"
    if v is None:
        return "null_type"
    return t.__name__


def _overload(op: str, *vals: Any) -> CELError:
    types = ", ".join(_type_name(v) for v in vals)
    return CELError(f"no such overload: {op}({types})")


def _check_int(v: int) -> int:
    if v < INT64_MIN or v > INT64_MAX:
        raise CELError("integer overflow")
    return v


def cel_equals(a: Any, b: Any) -> bool:
    ta, tb = type(a), type(b)
    if ta is tb:
        if ta is list:
            return len(a) == len(b) and all(cel_equals(x, y) for x, y in zip(a, b))
        if ta is dict:
            if len(a) != len(b):
                return False
            for k, v in a.items():
                if k not in b or not cel_equals(v, b[k]):
                    return False
            return True
        return a == b
    if ta is bool or tb is bool:
        return False
    if ta in _NUM and tb in _NUM:
        return a == b
    return False


def _less(a: Any, b: Any, op: str) -> bool:
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        pass
    elif ta is tb and ta in (str, bytes, bool):
        pass
    else:
        raise _overload(op, a, b)
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def _add(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return _check_int(a + b)
    if ta is tb and ta in (float, str, bytes, list):
        if ta is list:
            _charge(len(a) + len(b))
        elif ta is not float:
            _charge((len(a) + len(b)) // 10)  # cel-go: a tenth per byte or character copied
        return a + b
    raise _overload("_+_", a, b)


def _sub(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return _check_int(a - b)
    if ta is float and tb is float:
        return a - b
    raise _overload("_-_", a, b)


def _mul(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return _check_int(a * b)
    if ta is float and tb is float:
        return a * b
    raise _overload("_*_", a, b)


def _div(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        if b == 0:
            raise CELError("division by zero")
        q = abs(a) // abs(b)
        return _check_int(q if (a >= 0) == (b >= 0) else -q)
    if ta is float and tb is float:
        if b == 0.0:
            if a == 0.0 or a != a:
                return float("nan")
            return math.copysign(math.inf, a) * math.copysign(1.0, b)
        return a / b
    raise _overload("_/_", a, b)


def _mod(a: Any, b: Any) -> Any:
    if type(a) is int and type(b) is int:
        if b == 0:
            raise CELError("modulus by zero")
        r = abs(a) % abs(b)
        return r if a >= 0 else -r
    raise _overload("_%_", a, b)


def _in(a: Any, b: Any) -> bool:
    tb = type(b)
    if tb is list:
        _charge(len(b))
        for x in b:
            if cel_equals(a, x):
                return True
        return False
    if tb is dict:
        try:
            if a in b:
                return True
        except TypeError:
            return False
        if type(a) in _NUM:  # heterogeneous numeric keys
            return any(type(k) in _NUM and k == a for k in b)
        return False
    raise _overload("@in", a, b)


def _size(v: Any) -> int:
    t = type(v)
    if t is str or t is bytes or t is list or t is dict:
        return len(v)
    raise _overload("size", v)


_REGEX_CACHE: dict[str, re.Pattern] = {}


def _regex(pattern: str) -> re.Pattern:
    r = _REGEX_CACHE.get(pattern)
    if r is None:
        try:
            r = re.compile(pattern)
        except re.error as e:
            raise CELError(f"invalid regular expression {pattern!r}: {e}") from None
        _REGEX_CACHE[pattern] = r
    return r


def _str_args(name: str, target: Any, *args: Any) -> None:
    if type(target) is not str or any(type(a) is not str for a in args):
        raise _overload(name, target, *args)


def _f_starts_with(t, p):
    _str_args("startsWith", t, p)
    return t.startswith(p)


def _f_ends_with(t, p):
    _str_args("endsWith", t, p)
    return t.endswith(p)


def _f_contains(t, p):
    _str_args("contains", t, p)
    return p in t


def _f_matches(t, p):
    _str_args("matches", t, p)
    return _regex(p).search(t) is not None


def _f_lower_ascii(t):
    _str_args("lowerAscii", t)
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in t)


def _f_upper_ascii(t):
    _str_args("upperAscii", t)
    return "".join(chr(ord(c) - 32) if "a" <= c <= "z" else c for c in t)


def _f_trim(t):
    _str_args("trim", t)
    return t.strip()


def _f_split(t, sep, n=-1):
    _str_args("split", t, sep)
    if type(n) is not int:
        raise _overload("split", t, sep, n)
    if n == 0:
        return []
    if sep == "":
        chars = list(t)
        if n > 0 and len(chars) > n:
            chars = chars[: n - 1] + ["".join(chars[n - 1:])]
        return chars
    return t.split(sep, n - 1) if n > 0 else t.split(sep)


def _f_join(lst, sep=""):
    if type(lst) is not list or type(sep) is not str or any(type(x) is not str for x in lst):
        raise _overload("join", lst, sep)
    return sep.join(lst)


def _f_replace(t, old, new, n=-1):
    _str_args("replace", t, old, new)
    if type(n) is not int:
        raise _overload("replace", t, old, new, n)
    return t.replace(old, new, n if n >= 0 else -1)


def _f_index_of(t, x, offset=0):
    if type(t) is list:
        for i, v in enumerate(t):
            if cel_equals(v, x):
                return i
        return -1
    _str_args("indexOf", t, x)
    if type(offset) is not int or offset < 0 or offset > len(t):
        raise CELError(f"index out of range: {offset}")
    return t.find(x, offset)


def _f_last_index_of(t, x, offset=None):
    if type(t) is list:
        for i in range(len(t) - 1, -1, -1):
            if cel_equals(t[i], x):
                return i
        return -1
    _str_args("lastIndexOf", t, x)
    if offset is None:
        return t.rfind(x)
    if type(offset) is not int or offset < 0 or offset >= max(len(t), 1):
        raise CELError(f"index out of range: {offset}")
    return t.rfind(x, 0, offset + len(x))


def _f_substring(t, start, end=None):
    if type(t) is not str or type(start) is not int or (end is not None and type(end) is not int):
        raise _overload("substring", t, start, end)
    e = len(t) if end is None else end
    if start < 0 or start > len(t) or e < start or e > len(t):
        raise CELError(f"index out of range: {start if start < 0 or start > len(t) else e}")
    return t[start:e]


def _f_char_at(t, i):
    if type(t) is not str or type(i) is not int:
        raise _overload("charAt", t, i)
    if i < 0 or i > len(t):
        raise CELError(f"index out of range: {i}")
    return t[i] if i < len(t) else ""


def _f_is_sorted(lst):
    if type(lst) is not list:
        raise _overload("isSorted", lst)
    return all(not _less(lst[i + 1], lst[i], "<") for i in range(len(lst) - 1))


def _f_sum(lst):
    if type(lst) is not list:
        raise _overload("sum", lst)
    total: Any = 0
    for i, x in enumerate(lst):
        total = x if i == 0 else _add(total, x)
    return total


def _extreme(lst, name: str, replaces):
    """min/max of a CEL list: `replaces(candidate, current)` says when a later element wins."""
    if type(lst) is not list or not lst:
        raise CELError(f"{name} called on empty list") if type(lst) is list else _overload(name, lst)
    m = lst[0]
    for x in lst[1:]:
        if replaces(x, m):
            m = x
    return m


def _f_min(lst):
    return _extreme(lst, "min", lambda x, m: _less(x, m, "<"))


def _f_max(lst):
    return _extreme(lst, "max", lambda x, m: _less(m, x, "<"))


def _f_int(v):
    t = type(v)
    if t is int:
        return v
    if t is float:
        if v != v or v >= 2.0**63 or v < -(2.0**63):
            raise CELError("integer overflow")
        return int(v)
    if t is str:
        try:
            return _check_int(int(v, 10))
        except ValueError:
            raise CELError(f"cannot convert {v!r} to int") from None
    raise _overload("int", v)


def _f_uint(v):
    r = _f_int(v) if type(v) is not int else v
    if r < 0 or r > UINT64_MAX:
        raise CELError("unsigned integer overflow")
    return r


def _f_double(v):
    t = type(v)
    if t is float:
        return v
    if t is int:
        return float(v)
    if t is str:
        try:
            return float(v)
        except ValueError:
            raise CELError(f"cannot convert {v!r} to double") from None
    raise _overload("double", v)


def _f_string(v):
    t = type(v)
    if t is str:
        return v
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return str(v)
    if t is float:
        return repr(v)
    if t is bytes:
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            raise CELError("invalid UTF-8 in bytes") from None
    raise _overload("string", v)


_BOOL_STRINGS = {"1": True, "t": True, "true": True, "TRUE": True, "True": True,
                 "0": False, "f": False, "false": False, "FALSE": False, "False": False}


def _f_bool(v):
    if type(v) is bool:
        return v
    if type(v) is str and v in _BOOL_STRINGS:
        return _BOOL_STRINGS[v]
    raise _overload("bool", v)


def _f_dyn(v):
    return v


# name -> (callable, allowed arities, receiver style: "member", "global" or "both")
_FUNCTIONS: dict[str, tuple[Callable, tuple[int, ...], str]] = {
    "size": (_size, (1,), "both"),
    "startsWith": (_f_starts_with, (2,), "member"),
    "endsWith": (_f_ends_with, (2,), "member"),
    "contains": (_f_contains, (2,), "member"),
    "matches": (_f_matches, (2,), "both"),
    "lowerAscii": (_f_lower_ascii, (1,), "member"),
    "upperAscii": (_f_upper_ascii, (1,), "member"),
    "trim": (_f_trim, (1,), "member"),
    "split": (_f_split, (2, 3), "member"),
    "join": (_f_join, (1, 2), "member"),
    "replace": (_f_replace, (3, 4), "member"),
    "indexOf": (_f_index_of, (2, 3), "member"),
    "lastIndexOf": (_f_last_index_of, (2, 3), "member"),
    "substring": (_f_substring, (2, 3), "member"),
    "charAt": (_f_char_at, (2,), "member"),
    "isSorted": (_f_is_sorted, (1,), "member"),
    "sum": (_f_sum, (1,), "member"),
    "min": (_f_min, (1,), "member"),
    "max": (_f_max, (1,), "member"),
    "int": (_f_int, (1,), "global"),
    "uint": (_f_uint, (1,), "global"),
    "double": (_f_double, (1,), "global"),
    "string": (_f_string, (1,), "global"),
    "bool": (_f_bool, (1,), "global"),
    "dyn": (_f_dyn, (1,), "global"),
}


def _as_bool(v: Any, what: str) -> bool:
    if type(v) is bool:
        return v
    raise _overload(what, v)


# --------------------------------------------------------------------------------------------
# Compiler: AST -> closure(activation) -> value


class _Compiler:
    def __init__(self):
        self.uses_old_self = False

    def compile(self, node, scope: frozenset) -> Evaluator:
        kind = node[0]
        method = getattr(self, "c_" + kind)
        return method(node, scope)

    def c_lit(self, node, scope):
        v = node[1]
        return lambda a: v

    def c_ident(self, node, scope):
        name = node[1]
        if name not in scope:
            raise CELUnsupported(f"undeclared reference to {name!r}")
        if name == "oldSelf":
            self.uses_old_self = True

        def ident(a, name=name):
            return a[name]

        return ident

    def c_select(self, node, scope):
        operand = self.compile(node[1], scope)
        field = node[2]
        missing = f"no such key: {field}"

        def select(a):
            v = operand(a)
            if type(v) is dict:
                try:
                    return v[field]
                except KeyError:
                    raise CELError(missing) from None
            raise CELError(f"no such overload: field selection .{field} on {_type_name(v)}")

        return select

    def c_has(self, node, scope):
        operand = self.compile(node[1], scope)
        field = node[2]

        def has(a):
            v = operand(a)
            if type(v) is dict:
                return field in v
            raise CELError(f"invalid type for field selection: has(.{field}) on {_type_name(v)}")

        return has

    def c_index(self, node, scope):
        operand = self.compile(node[1], scope)
        index = self.compile(node[2], scope)

        def idx(a):
            v = operand(a)
            i = index(a)
            tv = type(v)
            if tv is list:
                if type(i) is float and i == int(i):
                    i = int(i)
                if type(i) is not int:
                    raise _overload("_[_]", v, i)
                if i < 0 or i >= len(v):
                    raise CELError(f"index out of bounds: {i}")
                return v[i]
            if tv is dict:
                try:
                    return v[i]
                except (KeyError, TypeError):
                    raise CELError(f"no such key: {i}") from None
            raise _overload("_[_]", v, i)

        return idx

    def c_list(self, node, scope):
        elems = [self.compile(e, scope) for e in node[1]]
        return lambda a: [e(a) for e in elems]

    def c_map(self, node, scope):
        entries = [(self.compile(k, scope), self.compile(v, scope)) for k, v in node[1]]

        def mk(a):
            out = {}
            for k, v in entries:
                key = k(a)
                if type(key) not in (str, int, bool):
                    raise CELError(f"unsupported key type: {_type_name(key)}")
                if key in out:
                    raise CELError(f"Failed with repeated key: {key}")
                out[key] = v(a)
            return out

        return mk

    def c_not(self, node, scope):
        operand = self.compile(node[1], scope)

        def not_(a):
            v = operand(a)
            if v is True:
                return False
            if v is False:
                return True
            raise _overload("!_", v)

        return not_

    def c_neg(self, node, scope):
        operand = self.compile(node[1], scope)

        def neg(a):
            v = operand(a)
            if type(v) is int:
                return _check_int(-v)
            if type(v) is float:
                return -v
            raise _overload("-_", v)

        return neg

    def c_and(self, node, scope):
        return self._logical(node, scope, absorbing=False, op="_&&_")

    def c_or(self, node, scope):
        return self._logical(node, scope, absorbing=True, op="_||_")

    def _logical(self, node, scope, absorbing: bool, op: str):
        """CEL's commutative `&&` (absorbing false) and `||` (absorbing true): the absorbing value on
        either side wins even over an error on the other; otherwise the first error is raised."""
        sides = (self.compile(node[1], scope), self.compile(node[2], scope))

        def logical(a):
            errors = []
            for side in sides:
                try:
                    value = side(a)
                except CELError as e:
                    errors.append(e)
                    continue
                if type(value) is not bool:
                    errors.append(_overload(op, value))
                elif value is absorbing:
                    return absorbing
            if errors:
                raise errors[0]
            return not absorbing

        return logical

    def c_cond(self, node, scope):
        c = self.compile(node[1], scope)
        t = self.compile(node[2], scope)
        f = self.compile(node[3], scope)

        def cond(a):
            v = c(a)
            if v is True:
                return t(a)
            if v is False:
                return f(a)
            raise _overload("_?_:_", v)

        return cond

    def c_bin(self, node, scope):
        op = node[1]
        left = self.compile(node[2], scope)
        right = self.compile(node[3], scope)
        r_lit = node[3][1] if node[3][0] == "lit" else _NOLIT
        if op == "==":
            if type(r_lit) is str:
                # fast path for `self.x == 'literal'`
                def eq_lit(a):
                    v = left(a)
                    return v == r_lit if type(v) is str else cel_equals(v, r_lit)

                return eq_lit
            return lambda a: cel_equals(left(a), right(a))
        if op == "!=":
            if type(r_lit) is str:
                def ne_lit(a):
                    v = left(a)
                    return v != r_lit if type(v) is str else not cel_equals(v, r_lit)

                return ne_lit
            return lambda a: not cel_equals(left(a), right(a))
        if op in ("<", "<=", ">", ">="):
            return lambda a: _less(left(a), right(a), op)
        fn = {"+": _add, "-": _sub, "*": _mul, "/": _div, "%": _mod, "in": _in}[op]
        return lambda a: fn(left(a), right(a))

    def c_call(self, node, scope):
        name, target, args = node[1], node[2], node[3]
        spec = _FUNCTIONS.get(name)
        if spec is None:
            raise CELUnsupported(f"function {name}() is not supported")
        fn, arities, style = spec
        if target is not None and style == "global":
            raise CELUnsupported(f"{name}() is not a member function")
        if target is None and style == "member":
            raise CELUnsupported(f"{name}() must be called as a member function")
        compiled = ([self.compile(target, scope)] if target is not None else []) + [
            self.compile(x, scope) for x in args
        ]
        if len(compiled) not in arities:
            raise CELUnsupported(f"{name}() does not take {len(compiled)} argument(s)")
        if name == "matches" and len(args) >= 1 and args[-1][0] == "lit" and type(args[-1][1]) is str:
            pattern = args[-1][1]
            try:
                rx = re.compile(pattern)
            except re.error as e:
                raise CELUnsupported(f"regular expression {pattern!r} does not compile: {e}") from None
            subject = compiled[0]

            def matches(a):
                s = subject(a)
                if type(s) is not str:
                    raise _overload("matches", s, pattern)
                return rx.search(s) is not None

            return matches
        if len(compiled) == 1:
            (x,) = compiled
            return lambda a: fn(x(a))
        if len(compiled) == 2:
            x, y = compiled
            return lambda a: fn(x(a), y(a))
        return lambda a: fn(*[c(a) for c in compiled])

    def c_comp(self, node, scope):
        macro, rng, var, args = node[1], node[2], node[3], node[4]
        if var in ("self", "oldSelf"):
            raise CELUnsupported(f"comprehension variable may not be named {var!r}")
        rng_fn = self.compile(rng, scope)
        inner = scope | {var}
        body = [self.compile(x, inner) for x in args]
        weight = 1 + _ast_size(list(args))  # what one iteration costs, before its body's own charges

        def items(a):
            r = rng_fn(a)
            if type(r) is list:
                pass
            elif type(r) is dict:
                r = list(r.keys())
            else:
                raise _overload(macro, r)
            return _metered(r, weight)

        if macro in ("all", "exists"):
            (pred,) = body
            # `all` stops at the first false, `exists` at the first true; errors elsewhere count
            # only when no element decides (CEL's commutative semantics, as for && and ||).
            absorbing = macro == "exists"

            def quantifier(a):
                err = None
                sub = dict(a)
                for x in items(a):
                    sub[var] = x
                    try:
                        v = pred(sub)
                    except CELError as e:
                        err = err or e
                        continue
                    if v is absorbing:
                        return absorbing
                    if type(v) is not bool:
                        err = err or _overload(macro, v)
                if err is not None:
                    raise err
                return not absorbing

            return quantifier
        if macro == "exists_one":
            (pred,) = body

            def exists_one(a):
                n = 0
                sub = dict(a)
                for x in items(a):
                    sub[var] = x
                    if _as_bool(pred(sub), "exists_one"):
                        n += 1
                return n == 1

            return exists_one
        if macro == "filter":
            (pred,) = body

            def filter_(a):
                out = []
                sub = dict(a)
                for x in items(a):
                    sub[var] = x
                    if _as_bool(pred(sub), "filter"):
                        out.append(x)
                return out

            return filter_
        # map
        if len(body) == 1:
            (transform,) = body

            def map_(a):
                out = []
                sub = dict(a)
                for x in items(a):
                    sub[var] = x
                    out.append(transform(sub))
                return out

            return map_
        pred, transform = body

        def map_filter(a):
            out = []
            sub = dict(a)
            for x in items(a):
                sub[var] = x
                if _as_bool(pred(sub), "map"):
                    out.append(transform(sub))
            return out

        return map_filter


_NOLIT = object()
_NODE_KINDS = frozenset(name[2:] for name in dir(_Compiler) if name.startswith("c_"))


def _metered(values: list, weight: int):
    """The values, each charged `weight` as the macro reaches it (an `all` that stops early pays
    only for what it looked at)."""
    for x in values:
        _charge(weight)
        yield x
