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
