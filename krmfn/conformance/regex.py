"""CRD `pattern`s are Go (RE2) regular expressions; the API server matches them with Go's regexp.
`python_pattern` rewrites the RE2 syntax whose meaning differs in Python's `re`:

- POSIX classes inside brackets (`[[:space:]]`, `[^[:alnum:]_]`, `[[:^digit:]]`): Python reads
  them as a set of the letters, so `^[^[:space:]]+$` refused "a" (found by kubectl-validate);
- `$` outside brackets, without the `m` flag, is the end of the text in Go, while Python's also
  matches before a final newline: it becomes `\\Z`; Go's `\\z` (end of text) is Python's `\\Z`.
"""

from __future__ import annotations

_POSIX = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7f", "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f", "digit": "0-9", "graph": "!-~", "lower": "a-z", "print": " -~",
    "punct": "!-/:-@\\[-`{-~", "space": "\\t\\n\\v\\f\\r ", "upper": "A-Z", "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}


def python_pattern(pattern: str) -> str:
    """The Python `re` spelling of a Go RE2 pattern (unchanged when nothing differs)."""
    if "[:" not in pattern and "$" not in pattern and "\\z" not in pattern:
        return pattern
    flags_end = pattern.find(")")
    multiline = pattern.startswith("(?") and flags_end != -1 and "m" in pattern[2:flags_end]
    out: list[str] = []
    i, n, in_class = 0, len(pattern), False
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            out.append("\\Z" if nxt == "z" and not in_class else c + nxt)
            i += 2
            continue
        if in_class:
            if c == "[" and pattern.startswith("[:", i):
                end = pattern.find(":]", i + 2)
                name = pattern[i + 2:end] if end != -1 else ""
                negated = name.startswith("^")
                chars = _POSIX.get(name.lstrip("^"))
                if chars is not None and not negated:
                    out.append(chars)
                    i = end + 2
                    continue
                # a negated POSIX class inside a larger class has no Python spelling: left as is
            elif c == "]":
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            if pattern.startswith("[^", i):
                out.append("[^")
                i += 2
            else:
                out.append("[")
                i += 1
            if i < n and pattern[i] == "]":  # a leading ] is a literal
                out.append("\\]")
                i += 1
            continue
        out.append("\\Z" if c == "$" and not multiline else c)
        i += 1
    return "".join(out)
