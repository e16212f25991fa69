"""A tiny HTTP server on 127.0.0.1 that records what it receives: a stand-in for an
affiliate's tracker (postbacks) in tests, the browser test and the delivery benchmark.

    with Sink() as sink:
        sink.respond(status=500)             # every following request
        sink.respond(302, location="http://169.254.169.254/")
        sink.respond(200, delay=2.0)         # answer after 2 s
        sink.queue(500, 500, 200)            # next three requests, then the default again
        ... sink.url("/pb?a=1") ...
        sink.requests[0].path, .method, .headers, .body
        sink.wait_for(1)                     # block until one request arrived

Keep-alive (HTTP/1.1) so a benchmark measures the client, not TCP handshakes.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"ok"
    delay: float = 0.0
    location: str = ""


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.time)

    @property
    def query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query, keep_blank_values=True).items()}

    @property
    def raw_query(self) -> str:
        return urlsplit(self.path).query


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else headers and body in two writes wait ~40 ms for an ACK
    server: _Server

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        sink = self.server.sink
        if sink.record:
            with sink._lock:
                sink.requests.append(Received(self.command, self.path, dict(self.headers.items()), body))
                sink._arrived.notify_all()
        answer = sink._next_answer()
        if answer.delay:
            time.sleep(answer.delay)
        try:
            self.send_response(answer.status)
            if answer.location:
                self.send_header("Location", answer.location)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    do_GET = do_POST = do_PUT = do_HEAD = _handle

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sink: Sink

    def handle_error(self, request, client_address):
        pass  # a client that gave up (timeouts, capped bodies) is not news


class Sink:
    def __init__(self, *, record: bool = True):
        self.record = record
        self.requests: list[Received] = []
        self._default = Answer()
        self._queued: deque[Answer] = deque()
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- configuration ---
    def respond(self, status: int = 200, body: bytes | str = b"ok", *, delay: float = 0.0,
                location: str = "") -> Sink:
        with self._lock:
            self._default = Answer(status, body.encode() if isinstance(body, str) else body, delay, location)
        return self

    def queue(self, *statuses: int) -> Sink:
        with self._lock:
            self._queued.extend(Answer(status=s) for s in statuses)
        return self

    def _next_answer(self) -> Answer:
        with self._lock:
            return self._queued.popleft() if self._queued else self._default

    # --- life cycle ---
    def start(self) -> Sink:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.sink = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="sink", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Sink:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- reading ---
    @property
    def port(self) -> int:
        assert self._server is not None, "start the sink first"
        return self._server.server_address[1]

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.requests) >= count, timeout=timeout)
            return list(self.requests)


def main() -> None:
    """`python -m tests.fakes.sink`: serve on a free port in its own process (benchmarks, so
    that the tracker does not share the measured process's GIL); prints the port, stops when
    stdin closes."""
    import sys

    with Sink(record=False) as sink:
        print(sink.port, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
