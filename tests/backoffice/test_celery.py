"""Celery: a real worker answers over the broker (when CI provides one), and beat's database
scheduler (django-celery-beat, installed with --no-deps) works on this Django."""
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from backoffice.celery import app

REPO_ROOT = Path(__file__).resolve().parents[2]
RESULT_TIMEOUT = 30


@pytest.fixture
def broker_url():
    url = os.environ.get("CELERY_BROKER_URL")
    if not url:
        pytest.skip("CELERY_BROKER_URL is not set: the real-worker test needs a broker")
    return url


@pytest.fixture
def worker(broker_url):
    """A worker in its own process, consuming only a queue made for this test."""
    queue = f"test-ping-{uuid.uuid4().hex}"
    env = {
        **os.environ,
        "CELERY_BROKER_URL": broker_url,
        "CELERY_RESULT_BACKEND": broker_url,
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
    }
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "backoffice", "worker",
            "--pool=solo", "--concurrency=1", "-Q", queue, "--loglevel=INFO",
            "--without-heartbeat", "--without-gossip", "--without-mingle",
        ],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        yield queue, process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        _forget_queue(queue)


def _forget_queue(queue: str) -> None:
    """Leave the broker as we found it: the queue and kombu's bindings of it (Redis keeps
    those as keys naming the queue)."""
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        channel.queue_delete(queue)
        client = getattr(channel, "client", None)
        if client is not None and hasattr(client, "scan_iter"):
            for key in list(client.scan_iter(match=f"*{queue}*")):
                client.delete(key)


@pytest.mark.celery_worker
def test_a_real_worker_runs_a_task_sent_through_the_broker(worker):
    queue, process = worker
    assert not app.conf.task_always_eager, "the test process must send through the broker"

    result = app.send_task("backoffice.ping", args=["through-redis"], queue=queue)
    try:
        value = result.get(timeout=RESULT_TIMEOUT)
    except Exception:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=15)[0]
        pytest.fail(f"no answer from the worker within {RESULT_TIMEOUT}s; its output:\n{output}")

    assert value == "pong:through-redis"
    assert result.status == "SUCCESS"
    result.forget()


# transaction=True: beat calls close_old_connections(), which closes a connection inside a
# test's wrapping transaction (on PostgreSQL); beat itself never runs inside one.
@pytest.mark.django_db(transaction=True)
def test_the_database_scheduler_picks_up_a_periodic_task_and_dispatches_it():
    import backoffice.tasks  # noqa: F401  (registers backoffice.ping)

    every_ten_seconds = IntervalSchedule.objects.create(every=10, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="ping every 10 seconds", task="backoffice.ping", interval=every_ten_seconds,
        args='["beat"]',
    )

    scheduler = DatabaseScheduler(app=app)
    entry = scheduler.schedule["ping every 10 seconds"]

    assert entry.task == "backoffice.ping"
    assert entry.schedule.run_every.total_seconds() == 10
    # Beat counts a new task's interval from when it first sees it: due within 10 s.
    assert 0 < entry.is_due().next <= 10
    # Eager in tests: dispatching the entry runs the task in-process.
    result = scheduler.apply_async(entry)
    assert result.get() == "pong:beat"
    assert PeriodicTask.objects.get(name="ping every 10 seconds").total_run_count == 1


@pytest.mark.django_db(transaction=True)
def test_a_disabled_periodic_task_is_not_scheduled():
    schedule = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.HOURS)
    PeriodicTask.objects.create(name="off", task="backoffice.ping", interval=schedule, enabled=False)

    assert "off" not in DatabaseScheduler(app=app).schedule
