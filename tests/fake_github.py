"""A STAND-IN for the GitHub REST API (GitHub cannot run here): a small http.server on loopback
that serves the few endpoints `krmfn review-gate` calls, from state the test sets, and records
every request. Behaviour copied from GitHub's documentation: reviews listed oldest first and
paginated with a Link header, reviewers leave `requested_reviewers` once they have reviewed,
team memberships answer 404 for non-members, every call needs `Authorization: Bearer TOKEN`.

Use it as a context manager; the server thread is stopped on exit (nothing outlives the test).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class PullRequest:
    author: str
    head: str
    merge: str = "m" * 40  # merge_commit_sha: the test merge Actions checks out
    reviews: list[dict] = field(default_factory=list)  # oldest first
    requested_users: list[str] = field(default_factory=list)
    requested_teams: list[str] = field(default_factory=list)

    def review(self, login: str, state: str, commit: str | None = None) -> None:
        self.reviews.append({"id": len(self.reviews) + 1, "user": {"login": login}, "state": state,
                             "commit_id": commit or self.head, "submitted_at": f"2026-12-01T00:00:{len(self.reviews):02d}Z"})
        if login in self.requested_users:
            self.requested_users.remove(login)


@dataclass
class Request:
    method: str
    path: str
    body: Any
    authorized: bool


class FakeGitHub:
    def __init__(self, token: str = "ghp_fake-token-for-the-stand-in", page_size: int = 2):
        self.token = token
        self.page_size = page_size  # GitHub pages by 30/100; small here so tests cross pages
        self.pulls: dict[tuple[str, int], PullRequest] = {}
        self.teams: dict[str, set[str]] = {}  # "org/slug" -> active member logins
        self.requests: list[Request] = []
        self.fail_with: int | None = None  # answer every call with this status
        self.next_link_host: str | None = None  # put pagination links on another host
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "FakeGitHub":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def posts(self) -> list[Request]:
        return [r for r in self.requests if r.method == "POST"]

    # --- serving -------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        authorized = handler.headers.get("Authorization") == f"Bearer {self.token}"
        self.requests.append(Request(method, handler.path, body, authorized))
        if self.fail_with:
            return self._send(handler, self.fail_with, {"message": "Service Unavailable"})
        if not authorized:
            return self._send(handler, 401, {"message": "Bad credentials"})
        parts = urlsplit(handler.path)
        query = parse_qs(parts.query)
        segments = parts.path.strip("/").split("/")
        if segments[:1] == ["repos"] and len(segments) >= 5 and segments[3] == "pulls":
            pr = self.pulls.get((f"{segments[1]}/{segments[2]}", int(segments[4])))
            if pr is None:
                return self._send(handler, 404, {"message": "Not Found"})
            rest = segments[5:]
            if not rest and method == "GET":
                return self._send(handler, 200, {"number": int(segments[4]), "user": {"login": pr.author},
                                                 "head": {"sha": pr.head}, "merge_commit_sha": pr.merge})
            if rest == ["requested_reviewers"] and method == "GET":
                return self._send(handler, 200, {"users": [{"login": u} for u in pr.requested_users],
                                                 "teams": [{"slug": t} for t in pr.requested_teams]})
            if rest == ["requested_reviewers"] and method == "POST":
                for user in body.get("reviewers", []):
                    if user.lower() == pr.author.lower():
                        return self._send(handler, 422, {"message": "Review cannot be requested from pull request author."})
                    if user not in pr.requested_users:
                        pr.requested_users.append(user)
                for team in body.get("team_reviewers", []):
                    if team not in pr.requested_teams:
                        pr.requested_teams.append(team)
                return self._send(handler, 201, {})
            if rest == ["reviews"] and method == "GET":
                page = int(query.get("page", ["1"])[0])
                items = pr.reviews[(page - 1) * self.page_size: page * self.page_size]
                headers = {}
                if page * self.page_size < len(pr.reviews):
                    host = self.next_link_host or self.url
                    headers["Link"] = f'<{host}{parts.path}?per_page=100&page={page + 1}>; rel="next"'
                return self._send(handler, 200, items, headers)
        if segments[:1] == ["orgs"] and len(segments) == 6 and segments[2] == "teams" and segments[4] == "memberships":
            team = f"{segments[1]}/{segments[3]}"
            if segments[5] in self.teams.get(team, set()):
                return self._send(handler, 200, {"state": "active", "role": "member"})
            return self._send(handler, 404, {"message": "Not Found"})
        return self._send(handler, 404, {"message": "Not Found"})

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: Any, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)
