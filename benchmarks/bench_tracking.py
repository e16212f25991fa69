"""The tracking redirect under gunicorn (2 sync workers): requests/s and p99 latency of
GET /<code>?sub_id=..&utm_source=.. (one visit INSERT each, promo cached per process) against
a bare Django view returning the same 302 without the database (benchmarks/bare_redirect.py:
same settings and middleware), both driven by benchmarks/loadgen.py in the same run, in
alternating slices.

Ours runs with TRACKING_BUFFERED_WRITES (BENCH_TRACKING_BUFFERED, default true: the
recommended production setting), so on PostgreSQL a click's visit is written in bulk by a
background thread of the worker; on SQLite that setting falls back to one INSERT per click.
The benchmark's name says which mode ran. Either way every redirect must have stored its
visit: they are counted once the servers have stopped (a worker writes its buffer at exit).

Target: at least 0.5x the bare throughput. The database is the harness's (a temporary SQLite
file, or BENCH_DATABASE_URL for PostgreSQL, which production runs); the gunicorn processes
inherit DATABASE_URL. Everything shares one machine: the database server's CPU and the load
generator's count against both sides, and the database's against ours only.

On SQLite the figure depends on two settings, not on the view: without CONN_MAX_AGE every
request opens a connection and, being the last one to close it, checkpoints the WAL; and
synchronous=FULL (the default) flushes the disk on every commit. Both are backoffice settings.

Knobs: BENCH_TRACKING_SECONDS (default 5 per side), BENCH_TRACKING_CONCURRENCY (default 12),
BENCH_TRACKING_WORKER_CLASS (sync; or gthread with BENCH_TRACKING_THREADS, default 8),
BENCH_TRACKING_BUFFERED (true; false = one direct INSERT per click).
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.db import connection, connections
from django.utils import timezone

from benchmarks.loadgen import LoadResult, run_load
from campaigns.models import Brand, Campaign, Landing, Promo, Visit
from partners.models import Affiliate

BASE_DIR = Path(__file__).resolve().parent.parent
CODE = "benchclick1"
QUERY = "sub_id=banner-42&utm_source=bench"
SECONDS = float(os.environ.get("BENCH_TRACKING_SECONDS", "5"))
CONCURRENCY = int(os.environ.get("BENCH_TRACKING_CONCURRENCY", "12"))
ROUNDS = 5
WORKERS = 2
WORKER_CLASS = os.environ.get("BENCH_TRACKING_WORKER_CLASS", "sync")
THREADS = int(os.environ.get("BENCH_TRACKING_THREADS", "8"))
BUFFERED = os.environ.get("BENCH_TRACKING_BUFFERED", "true").lower() in {"1", "true", "yes", "on"}


def _promo() -> Promo:
    brand, _ = Brand.objects.get_or_create(name="Tracking Bench Casino", defaults={
        "base_currency": "EUR", "site_url": "https://casino.example"})
    plan_model = Campaign._meta.get_field("commission_plan").related_model
    plan, _ = plan_model.objects.get_or_create(name="Bench RevShare", brand=brand, defaults={"currency": "EUR"})
    affiliate, _ = Affiliate.objects.get_or_create(name="Tracking Bench Media", defaults={"status": Affiliate.Status.ACTIVE})
    campaign, _ = Campaign.objects.get_or_create(affiliate=affiliate, name="Bench campaign",
                                                 defaults={"brand": brand, "commission_plan": plan})
    landing, _ = Landing.objects.get_or_create(brand=brand, name="Bench welcome", defaults={
        "url": "https://casino.example/welcome?lang=en"})
    promo, _ = Promo.objects.get_or_create(code=CODE, defaults={
        "campaign": campaign, "affiliate": affiliate, "brand": brand, "title": "Bench promo", "landing": landing})
    return promo


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """One gunicorn master + WORKERS sync workers in their own process group, always stopped."""

    def __init__(self, settings_module: str, log_dir: str, label: str, env_extra: dict[str, str] | None = None):
        self.port = _free_port()
        self.log_path = Path(log_dir) / f"gunicorn-{label}.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": settings_module,
            # Production shape: no DEBUG (no query log, no debug pages), plain http on loopback.
            "DEBUG": "false",
            "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789"),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
            **(env_extra or {}),
        }
        self.log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--worker-class", WORKER_CLASS,
             # gunicorn turns a sync worker with --threads > 1 into gthread: pass it only then.
             *(["--threads", str(THREADS)] if WORKER_CLASS == "gthread" else []),
             "--bind", f"127.0.0.1:{self.port}", "--backlog", "2048", "--log-level", "warning",
             "--chdir", str(BASE_DIR), "backoffice.wsgi:application"],
            cwd=BASE_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_ready(self, path: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                    sock.sendall(f"HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
                    if sock.recv(64).startswith(b"HTTP/1.1 302"):
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not serve {path} on port {self.port}; log:\n{self.tail()}")

    def tail(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)  # the group we started: master + workers
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
            except ProcessLookupError:
                pass
        self.log.close()


def run():
    promo = _promo()
    vendor = connection.vendor
    mode = "buffered writes" if BUFFERED and vendor == "postgresql" else "direct INSERT"
    connections.close_all()  # SQLite: leave the file to the servers
    path = f"/{CODE}?{QUERY}"
    servers: list[Gunicorn] = []
    with tempfile.TemporaryDirectory(prefix="bench-tracking-") as log_dir:
        try:
            ours = Gunicorn("backoffice.settings", log_dir, "ours",
                            {"TRACKING_BUFFERED_WRITES": "true" if BUFFERED else "false"})
            servers.append(ours)
            bare = Gunicorn("benchmarks.bare_redirect", log_dir, "bare")
            servers.append(bare)
            ours.wait_ready(f"/{CODE}")  # HEAD: no visit
            bare.wait_ready(f"/{CODE}")
            for server in (bare, ours):  # warm up: imports, URL resolver, connections, cache
                run_load(server.url(path), seconds=1, concurrency=CONCURRENCY)

            # Alternating slices, so that a change in the machine's load (other processes,
            # a checkpoint) weighs on both sides alike rather than on whichever ran second.
            bare_result = LoadResult(0.0, CONCURRENCY)
            ours_result = LoadResult(0.0, CONCURRENCY)
            # The warm-up's clicks were all answered, so stamped, before this instant; they
            # may still sit in a worker's buffer, hence a time window rather than a count.
            measured_from = timezone.now()
            for round_ in range(ROUNDS):
                sides = [(bare, bare_result), (ours, ours_result)]
                for server, total in sides if round_ % 2 == 0 else reversed(sides):
                    total.add(run_load(server.url(path), seconds=SECONDS / ROUNDS, concurrency=CONCURRENCY))
        except BaseException:
            for server in servers:
                print(f"--- gunicorn log ({server.log_path.name}) ---\n{server.tail()}", file=sys.stderr)
            raise
        finally:
            for server in servers:
                server.stop()  # SIGTERM: graceful, each worker writes its buffer at exit

    # Counted once the workers have exited: every buffered visit is written by then.
    visits = Visit.objects.filter(promo=promo, created_at__gte=measured_from).count()
    connections.close_all()

    for label, result in (("bare", bare_result), ("ours", ours_result)):
        print(f"  tracking {label}: {result.summary()}", file=sys.stderr)
    print(f"  tracking ours: {visits} visits stored for {ours_result.statuses.get(302, 0)} redirects",
          file=sys.stderr)
    for label, result in (("bare", bare_result), ("ours", ours_result)):
        if result.errors or set(result.statuses) != {302}:
            raise RuntimeError(f"tracking benchmark: {label} answered {dict(result.statuses)}, "
                               f"errors {dict(result.errors)}")
    if visits != ours_result.statuses[302]:
        raise RuntimeError(f"tracking benchmark: {visits} visits stored for {ours_result.statuses[302]} redirects")

    workers = f"{WORKERS} {WORKER_CLASS} workers" + (f" x {THREADS} threads" if WORKER_CLASS == "gthread" else "")
    setup = f"gunicorn {workers}, {CONCURRENCY} connections, {vendor}, {mode}"
    return [
        {"name": f"tracking redirect vs bare 302 ({setup}), throughput",
         "ours": ours_result.requests_per_second, "baseline": bare_result.requests_per_second,
         "unit": "req/s", "lower_is_better": False},
        {"name": f"tracking redirect vs bare 302 ({setup}), p99 latency",
         "ours": ours_result.percentile(99), "baseline": bare_result.percentile(99), "unit": "ms"},
    ]
