"""The base of the fake affiliate networks (Affilae, Affelios, Affili): a threaded HTTP server
on 127.0.0.1 with routes, an auth check and scripted failure modes, so contract tests run the
real connectors against the documented wire format, and `manage.py run_fake_networks` lets a
person try a connection from the admin.

    class FakeAffili(FakeNetwork):
        name = "affili"
        def authenticate(self, request): ...            # None if fine, else a Reply (401/403)
        @route("GET", r"/api/merchants/conversions")
        def conversions(self, request): return Reply(200, {...})

    with FakeAffili(keys={"good"}) as fake:
        fake.url                                         # http://127.0.0.1:<port>
        fake.fail_next(503, times=2)                     # the next two requests answer 503
        fake.fail_next(429, retry_after=1)               # then one 429 with Retry-After: 1
        fake.fail_next(200, malformed=True)              # a body that is not JSON
        fake.fail_next(500, times=99, when="page=3")     # only requests whose path+query contain it
        fake.requests                                    # what arrived (method, path, query, headers, json)

Data lives in memory (dicts on the instance) behind one lock; handlers may mutate it.
"""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    status: int = 200
    body: object = None  # JSON-able, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str  # without the query string
    raw_query: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # named groups of the route

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self):
        return json.loads(self.body or b"null", parse_float=Decimal)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass
class _Failure:
    status: int
    times: int
    retry_after: float | None
    body: object
    malformed: bool
    when: str | None


def route(method: str, pattern: str):
    def mark(func):
        func._route = (method.upper(), re.compile(pattern + r"\Z"))
        return func
    return mark


def _default(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(type(value).__name__)


class FakeNetwork:
    name = "network"

    def __init__(self, *, keys=("good-key",), forbidden_keys=(), port: int = 0, record: bool = True):
        self.keys = set(keys)
        self.forbidden_keys = set(forbidden_keys)
        self.port = port
        self.record = record
        self.requests: list[Request] = []
        self.lock = threading.RLock()
        self._failures: list[_Failure] = []
        self._server = None
        self._thread = None
        self._routes = []
        for attr in dir(type(self)):
            func = getattr(type(self), attr)
            if callable(func) and hasattr(func, "_route"):
                self._routes.append((*func._route, getattr(self, attr)))

    # --- to override ---------------------------------------------------------------------------

    def authenticate(self, request: Request) -> Reply | None:
        return None

    def not_found(self, request: Request) -> Reply:
        return Reply(404, {"message": f"no route {request.method} {request.path}"})

    # --- failure modes -------------------------------------------------------------------------

    def fail_next(self, status: int, *, times: int = 1, retry_after: float | None = None, body=None,
                  malformed: bool = False, when: str | None = None) -> None:
        with self.lock:
            self._failures.append(_Failure(status, times, retry_after, body, malformed, when))

    def clear_failures(self) -> None:
        with self.lock:
            self._failures.clear()

    def _scripted(self, request: Request) -> Reply | None:
        target = request.path + ("?" + request.raw_query if request.raw_query else "")
        with self.lock:
            for failure in self._failures:
                if failure.when and failure.when not in target:
                    continue
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                headers = {"Retry-After": f"{failure.retry_after:g}"} if failure.retry_after is not None else {}
                if failure.malformed:
                    return Reply(failure.status, b"<html>upstream hiccup</html>", {**headers, "Content-Type": "text/html"})
                body = failure.body if failure.body is not None else {"message": f"scripted failure {failure.status}"}
                return Reply(failure.status, body, headers)
        return None

    # --- dispatch ------------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        scripted = self._scripted(request)
        if scripted is not None:
            return scripted
        denied = self.authenticate(request)
        if denied is not None:
            return denied
        for method, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                request.params = match.groupdict()
                try:
                    return handler(request)
                except (ValueError, KeyError, TypeError) as exc:
                    return Reply(400, {"message": f"bad request: {exc}"})
        return self.not_found(request)

    # --- server --------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeNetwork:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Request(
                    method=self.command, path=parts.path, raw_query=parts.query,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()}, body=body,
                )
                if fake.record:
                    with fake.lock:
                        fake.requests.append(request)
                reply = fake.handle(request)
                if isinstance(reply.body, bytes):
                    payload = reply.body
                    content_type = reply.headers.pop("Content-Type", "application/octet-stream")
                elif reply.body is None and reply.status in (202, 204):
                    payload, content_type = b"", "application/json"
                else:
                    payload = json.dumps(reply.body, default=_default).encode()
                    content_type = "application/json"
                self.send_response(reply.status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"fake-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
