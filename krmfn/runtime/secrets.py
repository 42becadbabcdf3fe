"""What a literal credential looks like, so no error message ever echoes one."""

from __future__ import annotations

import re
from typing import Any

# Keys whose value is a credential when it is a literal (normalised: lowercase, letters and digits).
CREDENTIAL_KEY = re.compile(
    r"(apikey|accesskey|secretkey|privatekey|clientsecret|secret|password|passwd|passphrase|"
    r"credentials?|token|bearer|authorization|auth|cookie|signature)$"
)
# Values that are credentials whatever field holds them. Only the description is ever shown.
CREDENTIAL_VALUES = (
    (re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"), "an API key (sk-...)"),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b|\bASIA[0-9A-Z]{16}\b"), "an AWS access key"),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{30,}"), "a Google API key"),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"), "a GitHub token"),
    (re.compile(r"\bhf_[A-Za-z0-9]{20,}"), "a Hugging Face token"),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), "a Slack token"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\."), "a JSON web token"),
    (re.compile(r"(?i)^\s*(bearer|basic|token|apikey)\s+\S{6,}"), "an Authorization header value"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
    (re.compile(r"://[^/\s:@]+:[^/\s@]+@"), "a URL with a password"),
)


def is_credential_key(name: str) -> bool:
    return bool(CREDENTIAL_KEY.search(re.sub(r"[^a-z0-9]", "", name.lower())))


def credential_kind(value: Any) -> str | None:
    """What kind of credential `value` looks like (e.g. "an AWS access key"), or None."""
    if not isinstance(value, str):
        return None
    return next((kind for pattern, kind in CREDENTIAL_VALUES if pattern.search(value)), None)


# What `redact` removes from messages: every credential-looking value (the Authorization-header
# pattern above is anchored to a whole value; inside a message only `Bearer x`/`Basic x` count).
_IN_TEXT = tuple(pattern for pattern, _ in CREDENTIAL_VALUES if not pattern.pattern.startswith("(?i)^")) + (
    re.compile(r"(?i)\b(?:bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"),
)
REDACTED = "<redacted>"


def redact(text: str) -> str:
    """`text` with every credential-looking value replaced by <redacted> (messages quote values)."""
    for pattern in _IN_TEXT:
        if pattern.search(text):
            text = pattern.sub(lambda m: "://" + REDACTED + "@" if m.group(0).startswith("://") else REDACTED, text)
    return text


# --- literal credentials in a function config: refused for every kind by the engine -----------

# HTTP headers are judged more broadly: any *key, auth, token, session... header carries a credential
# (X-Goog-Api-Key, Ocp-Apim-Subscription-Key, Proxy-Authorization, X-Auth-Token, Cookie, ...).
_CREDENTIAL_HEADER = re.compile(r"(key|auth|token|secret|signature|cookie|session|password|credential)")
# Fields that hold the *name* of a Secret or of a key in it, never the value.
_REFERENCE_KEYS = {"apikeysecret", "apikeysecretkey", "cacertsecret", "cacertsecretref", "cacertsecretkey"}

_ADVICE = ("credentials are given only by reference: apiKeySecret: {name: <Secret>, key: <key>} "
           "(the value is not shown)")


def find_inline_secrets(obj: Any) -> list[tuple[str, str]]:
    """(field path, message) for every literal credential in `obj`. Messages never hold the value."""
    from .typed import field_path

    return [(field_path(loc), message) for loc, message, _ in scan(obj)]


def scan(value: Any, loc: tuple = (), found: list | None = None) -> list[tuple[tuple, str, bool]]:
    """(location, message, found by its key) of each literal credential."""
    found = [] if found is None else found
    if isinstance(value, dict) and isinstance(value.get("name"), str) and is_credential_key(value["name"]) \
            and isinstance(value.get("value"), (str, int, float)) and not isinstance(value.get("value"), bool) \
            and value.get("value") != "":
        # an environment variable (`{name: DB_PASSWORD, value: ...}`): the name says what the value is
        found.append((loc + ("value",), f"literal credential refused: environment variable "
                                       f"{value['name']!r} holds a credential; give it by reference "
                                       "(valueFrom.secretKeyRef, or the server's secretRefs), the value is not shown",
                      True))
        value = {k: v for k, v in value.items() if k != "value"}
    if isinstance(value, dict):
        for key, item in value.items():
            here = loc + (str(key),)
            normal = re.sub(r"[^a-z0-9]", "", str(key).lower())
            literal = isinstance(item, (str, int, float)) and not isinstance(item, bool) and item != ""
            header = bool(loc) and loc[-1] == "defaultHeaders"
            credential = (_CREDENTIAL_HEADER.search(normal) if header
                          else normal not in _REFERENCE_KEYS and CREDENTIAL_KEY.search(normal))
            if literal and credential:
                where = "an HTTP header" if header else "a field"
                found.append((here, f"literal credential refused: {key!r} is {where} that holds a "
                                    f"credential; {_ADVICE}", True))
            else:
                scan(item, here, found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            scan(item, loc + (index,), found)
    elif isinstance(value, str):
        for pattern, what in CREDENTIAL_VALUES:
            if pattern.search(value):
                found.append((loc, f"literal credential refused: the value looks like {what}; {_ADVICE}", False))
                break
    return found


def redacted(obj: Any, secrets: list[tuple[tuple, str, bool]], *, for_parsing: bool) -> Any:
    """A copy of `obj` without the secrets' values: replaced by a marker, or (for parsing) a field
    found by its credential-like key is dropped, since its error already stands for it."""
    import copy

    out = copy.deepcopy(obj)
    for loc, _, by_key in secrets:
        parent = out
        for part in loc[:-1]:
            parent = parent[part]
        if for_parsing and by_key:
            del parent[loc[-1]]
        else:
            parent[loc[-1]] = REDACTED
    return out
