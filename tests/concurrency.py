"""Running calls at the same moment, each in its own thread with its own database connection:
the harness of the PostgreSQL concurrency tests."""
import threading

import pytest
from django.db import connection, connections

# Row locks only mean something on PostgreSQL; the threads need committed data to see.
POSTGRES_ONLY = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL (set DATABASE_URL)"),
    pytest.mark.django_db(transaction=True),
]


def race(calls, *, refused: tuple[type[BaseException], ...] = ()):
    """Run every callable in its own thread, all released at once by a barrier.

    Returns (results, refusals): return values, and the exceptions of the `refused` types.
    Any other exception fails the test."""
    barrier = threading.Barrier(len(calls))
    results, refusals, errors = [], [], []
    lock = threading.Lock()

    def run(call):
        try:
            barrier.wait()
            result = call()
            with lock:
                results.append(result)
        except refused as exc:
            with lock:
                refusals.append(exc)
        except BaseException as exc:  # noqa: BLE001 - reported below
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results, refusals
