"""A small HTTP load generator for the benchmarks: N threads, each opening a new connection per
request (`Connection: close`, as a visitor's browser clicking a link from another site does
and as gunicorn's sync workers serve anyway), sending one GET and reading to EOF.

Raw sockets rather than http.client or requests: the client must cost far less than the
server it measures, and on a small machine it shares the CPU with it. Both sides of a
comparison are driven by the same generator with the same settings, so its own overhead
weighs on both alike.

    python -m benchmarks.loadgen http://127.0.0.1:8000/lhaurora01?sub_id=1 --seconds 5
"""
import argparse
import socket
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36 loadgen"


@dataclass
class LoadResult:
    seconds: float
    concurrency: int
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def completed(self) -> int:
        return sum(self.statuses.values())

    @property
    def requests_per_second(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]

    def add(self, other: "LoadResult") -> "LoadResult":
        """This result and `other` as one run (for measurements taken in slices)."""
        self.seconds += other.seconds
        self.statuses.update(other.statuses)
        self.errors.update(other.errors)
        self.latencies_ms.extend(other.latencies_ms)
        return self

    def summary(self) -> str:
        median = statistics.median(self.latencies_ms) if self.latencies_ms else 0.0
        return (f"{self.completed} responses in {self.seconds:.1f}s = {self.requests_per_second:.0f}/s, "
                f"p50 {median:.2f} ms, p99 {self.percentile(99):.2f} ms, statuses {dict(self.statuses)}, "
                f"errors {dict(self.errors)}")


def _request_bytes(host: str, port: int, target: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {target} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in {"User-Agent": USER_AGENT, **headers}.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _one(address: tuple[str, int], request: bytes, timeout: float) -> int:
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.sendall(request)
        head = sock.recv(65536)
        while sock.recv(65536):  # the body, until the server closes
            pass
    if not head.startswith(b"HTTP/1."):
        raise ConnectionError("not an HTTP response")
    return int(head[9:12])


def run_load(url: str, *, seconds: float = 5.0, concurrency: int = 12, headers: dict[str, str] | None = None,
             timeout: float = 10.0) -> LoadResult:
    """Hammer `url` with `concurrency` threads for `seconds`; every response is counted by
    status, every failure by exception type, every latency kept (ms)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    request = _request_bytes(host, port, target, headers or {})
    result = LoadResult(seconds=seconds, concurrency=concurrency)
    lock = threading.Lock()
    start = threading.Barrier(concurrency + 1)
    deadline = [0.0]

    def worker():
        statuses: Counter = Counter()
        errors: Counter = Counter()
        latencies: list[float] = []
        start.wait()
        clock = time.perf_counter
        while True:
            began = clock()
            if began >= deadline[0]:
                break
            try:
                status = _one((host, port), request, timeout)
            except OSError as exc:
                errors[type(exc).__name__] += 1
                continue
            latencies.append((clock() - began) * 1000)
            statuses[status] += 1
        with lock:
            result.statuses.update(statuses)
            result.errors.update(errors)
            result.latencies_ms.extend(latencies)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join(seconds + timeout + 5)
    result.seconds = time.perf_counter() - began
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=12)
    args = parser.parse_args()
    print(run_load(args.url, seconds=args.seconds, concurrency=args.concurrency).summary())


if __name__ == "__main__":
    main()
