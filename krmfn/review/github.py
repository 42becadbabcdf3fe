"""The few GitHub REST calls review routing needs, with the standard library only.

The API's base URL is GITHUB_API_URL (as Actions sets it; https://api.github.com otherwise), so the
tests run against a local stand-in. The token is sent as a header and nowhere else: never in a
message, and never to another origin (no redirects are followed, pagination links must stay on the
API's origin). Every failure is a `GitHubError` of one line.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

DEFAULT_API_URL = "https://api.github.com"
MAX_PAGES = 100
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


class GitHubError(Exception):
    """A GitHub call that failed; the message is one line without the token."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # the token must not travel on
        raise GitHubError(f"GitHub API {req.get_method()} {_path(req.full_url)}: redirected (HTTP {code}); "
                          "check GITHUB_API_URL")


class GitHub:
    def __init__(self, api_url: str, token: str, timeout: float = 30.0):
        parts = urllib.parse.urlsplit(api_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise GitHubError("GITHUB_API_URL is not an http(s) URL")  # not shown: it may hold credentials
        if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "::1", "localhost"):
            raise GitHubError("GITHUB_API_URL: plain http only on loopback (the token would travel in clear)")
        self.base = api_url.rstrip("/")
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self._token = token
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirects)

    def call(self, method: str, path: str, body: Any = None, *, missing_ok: bool = False) -> Any:
        status, data, _ = self._request(method, self.base + path, body, missing_ok=missing_ok)
        return None if status == 404 else data

    def pages(self, path: str) -> list[Any]:
        """Every item of a list endpoint, following the Link header's `next` (on the API's origin only)."""
        url = self.base + path
        items: list[Any] = []
        for _ in range(MAX_PAGES):
            _, data, headers = self._request("GET", url, None)
            if not isinstance(data, list):
                raise GitHubError(f"GitHub API GET {_path(url)}: expected a list")
            items.extend(data)
            match = _NEXT.search(headers.get("Link") or "")
            if not match:
                return items
            url = urllib.parse.urljoin(url, match.group(1))
            if not (url + "/").startswith(self.origin + "/"):
                raise GitHubError(f"GitHub API GET {_path(url)}: a pagination link to another host; not followed")
        raise GitHubError(f"GitHub API GET {_path(url)}: more than {MAX_PAGES} pages")

    def _request(self, method: str, url: str, body: Any, *, missing_ok: bool = False) -> tuple[int, Any, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method, headers={
            "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "krmfn-review-gate", "Authorization": f"Bearer {self._token}",
            **({"Content-Type": "application/json"} if data is not None else {})})
        where = f"GitHub API {method} {_path(url)}"
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                raw = response.read()
                status, headers = response.status, response.headers
        except urllib.error.HTTPError as err:
            if err.code == 404 and missing_ok:
                return 404, None, err.headers
            raise GitHubError(self._clean(f"{where}: HTTP {err.code}{_message(err)}")) from None
        except GitHubError:
            raise
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise GitHubError(self._clean(f"{where}: {reason}")) from None
        try:
            return status, (json.loads(raw) if raw.strip() else None), headers
        except ValueError:
            raise GitHubError(f"{where}: the answer is not JSON") from None

    def _clean(self, text: str) -> str:
        from ..runtime.secrets import redact

        text = text.replace(self._token, "***") if self._token else text
        return " ".join(redact(text).split())


def _path(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _message(err: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(err.read(4096) or b"{}")
    except (ValueError, OSError):
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return f": {str(message)[:200]}" if message else ""
