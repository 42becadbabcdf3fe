"""String formats the API server checks (kube-openapi strfmt, restricted to the set apiextensions keeps),
and how field errors show a value."""

from __future__ import annotations

import base64
import datetime as _dt
import ipaddress
import re
import json
from typing import Any, Callable


_CTL = re.compile(r"[\x00-\x1f\x7f]")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_HOST_CHARS = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=%:\[\]]*\Z")


def _is_request_uri(s: str) -> bool:
    """Go's url.ParseRequestURI accepts it (what strfmt's "uri" checks)."""
    if not s or _CTL.search(s):
        return False
    rest = s
    m = _SCHEME.match(s)
    if m:
        rest = s[m.end():]
        if not rest.startswith("/"):
            return True  # rootless: opaque
    elif not s.startswith("/"):
        return False
    if rest.startswith("//"):
        auth_end = len(rest)
        for ch in "/?":
            i = rest.find(ch, 2)
            if i != -1:
                auth_end = min(auth_end, i)
        authority = rest[2:auth_end]
        host = authority.rpartition("@")[2]
        if not _HOST_CHARS.match(host) or " " in host:
            return False
        if host.startswith("["):
            end = host.find("]")
            if end == -1:
                return False
            port = host[end + 1:]
            if port and (not port.startswith(":") or not port[1:].isdigit() and port != ":"):
                return False
        elif host.count(":") == 1:
            port = host.split(":", 1)[1]
            if port and not port.isdigit():
                return False
        elif host.count(":") > 1:
            return False
        rest = rest[auth_end:]
    path = rest.split("?", 1)[0]
    return not _BAD_ESCAPE.search(path)


_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:?\d{2})?\Z"
)


def _is_date_time(s: str) -> bool:
    m = _DATE_TIME.match(s)
    if not m:
        return False
    y, mo, d, h, mi = (int(m.group(i)) for i in range(1, 6))
    sec = int(m.group(6) or 0)
    try:
        _dt.datetime(y, mo, d, h, mi, min(sec, 59))
    except ValueError:
        return False
    return sec <= 60


def _is_date(s: str) -> bool:
    try:
        return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", s)) and bool(_dt.date.fromisoformat(s))
    except ValueError:
        return False


def _is_byte(s: str) -> bool:
    try:
        base64.b64decode(s, validate=True)
        return True
    except (ValueError, TypeError):
        return False


def _is_ipv4(s: str) -> bool:
    try:
        ipaddress.IPv4Address(s)
        return True
    except ValueError:
        return False


def _is_ipv6(s: str) -> bool:
    try:
        ipaddress.IPv6Address(s)
        return True
    except ValueError:
        return False


def _is_cidr(s: str) -> bool:
    try:
        ipaddress.ip_network(s, strict=False)
        return "/" in s
    except ValueError:
        return False


FORMATS: dict[str, Callable[[str], bool]] = {
    "uri": _is_request_uri,
    "datetime": _is_date_time,
    "date": _is_date,
    "byte": _is_byte,
    "ipv4": _is_ipv4,
    "ipv6": _is_ipv6,
    "cidr": _is_cidr,
    "uuid": re.compile(r"(?i)[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\Z").match,
    "uuid3": re.compile(r"(?i)[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}\Z").match,
    "uuid4": re.compile(r"(?i)[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}\Z").match,
    "uuid5": re.compile(r"(?i)[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}\Z").match,
    "mac": re.compile(r"(?i)([0-9a-f]{2}[:-]){5}[0-9a-f]{2}\Z|([0-9a-f]{4}\.){2}[0-9a-f]{4}\Z").match,
    "hostname": re.compile(
        r"(?i)(?=.{1,255}\Z)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*\.?\Z"
    ).match,
    "email": re.compile(r"[^@\s]+@[^@\s]+\Z").match,
    "duration": re.compile(
        r"(?i)(\s*[-+]?\d+(\.\d+)?\s*(ns|us|µs|ms|s|m|h|d|w|"
        r"nanoseconds?|microseconds?|milliseconds?|seconds?|minutes?|hours?|days?|weeks?))+\s*\Z"
    ).match,
    "bsonobjectid": re.compile(r"(?i)[0-9a-f]{24}\Z").match,
    "hexcolor": re.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})\Z").match,
    "rgbcolor": re.compile(r"rgb\(\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*\)\Z").match,
    "password": lambda s: True,
    # isbn, isbn10, isbn13, creditcard, ssn: kept by the API server, not checked here
}


def format_value(v: Any, limit: int = 200) -> str:
    """A value as field errors show it: strings quoted, scalars bare, the rest as JSON."""
    if isinstance(v, str):
        text = v if len(v) <= limit else v[:limit] + "..."
        return json.dumps(text, ensure_ascii=False)
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return repr(v)
    try:
        text = json.dumps(v, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        text = repr(v)
    return text if len(text) <= limit else text[:limit] + "..."
