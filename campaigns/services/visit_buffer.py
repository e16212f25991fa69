"""Buffered visit writes (settings.TRACKING_BUFFERED_WRITES): a click takes its visit id from
a block reserved in advance and leaves the row in a buffer of its process, which a background
thread writes in bulk. The request itself makes no database round trip, except one per
ID_BLOCK_SIZE clicks to reserve the next block of ids.

How it works:
- Ids are reserved in blocks of ID_BLOCK_SIZE from the visits table's own sequence (nextval,
  one round trip per block), so a click knows its id, hence its tag, at once, and these ids
  never collide with rows inserted directly (by other processes, by the fallback below, by
  the demo seeder). Ids stay unique but are not in click order across processes (each has its
  own block), and a process that stops leaves the rest of its block unused: gaps, which a
  sequence never promised to avoid anyway.
- The Visit, with that id, waits in the buffer. A daemon thread writes the buffer with one
  multi-row INSERT every FLUSH_INTERVAL_SECONDS, or as soon as FLUSH_ROWS rows are waiting,
  on its own database connection (one more per process), with synchronous_commit off when
  TRACKING_ASYNC_COMMIT is on (as a direct click's INSERT). If that INSERT fails (say, one
  visit of a promo deleted meanwhile fails its foreign key), the rows are retried one by one,
  so only the failing ones are lost, each logged. Nothing is ever raised into a request.
- The buffer is bounded (MAX_BUFFERED_ROWS): while it is full (the writer is behind or the
  database slow), clicks are inserted directly, as without the setting.
- At exit (atexit: gunicorn workers get there on a graceful stop, restart or max-requests
  recycle) the buffer is written before the process ends. visits_flush() writes it now and
  returns once done.
- Per process: gunicorn forks its workers after importing the application, and a fork copies
  memory but not threads. The buffer, its thread and the reserved ids belong to the process
  that made them: a child (detected through os.getpid(), and reset by os.register_at_fork)
  starts afresh, and never writes its parent's rows nor uses its parent's ids.
- PostgreSQL only. On any other database (SQLite in development and tests), or inside a
  caller's transaction, visit_buffer_add() declines and the visit is inserted directly,
  silently, as without the setting.

The trade-off: a process that dies without running its exit handlers (SIGKILL, out of memory,
a gunicorn worker timeout, a power cut) loses the visits it had not yet written, at most the
last ~FLUSH_INTERVAL_SECONDS of its clicks. Those visitors were already sent on with their
tags, so their players arrive organic. It is the same kind of trade as TRACKING_ASYNC_COMMIT
(a database crash loses its last fraction of a second of visits): a fraction of a second of
attribution in a crash, for a click that waits on no database at all. Also, a visit row
appears up to FLUSH_INTERVAL_SECONDS after its redirect; nobody registers at a casino faster.
"""
import atexit
import logging
import os
import threading
from collections import deque

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections, transaction

from campaigns.models import Visit

logger = logging.getLogger(__name__)

ID_BLOCK_SIZE = 200
FLUSH_INTERVAL_SECONDS = 0.5
FLUSH_ROWS = 200
MAX_BUFFERED_ROWS = 10_000
# How long visits_flush() and the exit handler wait for the writer thread.
FLUSH_TIMEOUT_SECONDS = 30.0

# Values of one block of ids, in one round trip. pg_get_serial_sequence parses its first
# argument as an identifier (so it is quoted) and takes the column name literally.
_RESERVE_IDS_SQL = "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)"


class _VisitBuffer:
    """The buffered visits of one database alias in one process, and their writer thread."""

    def __init__(self, alias: str):
        self.pid = os.getpid()
        self.alias = alias
        self.ids: deque[int] = deque()
        self.rows: list[Visit] = []
        self.rows_lock = threading.Lock()
        self.write_lock = threading.Lock()  # one write at a time
        self.wake = threading.Event()
        self.stopping = False
        # visits_flush(): a caller takes a ticket and waits until a write begun after it is done.
        self.flushes = threading.Condition()
        self.flush_requested = 0
        self.flush_done = 0
        self.thread = threading.Thread(target=self._run, name=f"visit-buffer-{alias}", daemon=True)
        self.thread.start()

    # In a request thread.

    def add(self, visit: Visit, connection) -> bool:
        if self.stopping or len(self.rows) >= MAX_BUFFERED_ROWS:  # unlocked read: a bound, not a count
            return False
        visit.pk = self._next_id(connection)
        with self.rows_lock:
            self.rows.append(visit)
            full = len(self.rows) >= FLUSH_ROWS
        if full:
            self.wake.set()
        return True

    def _next_id(self, connection) -> int:
        try:
            return self.ids.popleft()  # deque.popleft is atomic: no lock on the common path
        except IndexError:
            pass
        # Out of ids: reserve a block on the request's connection. Two threads arriving here at
        # once both reserve one, which merely makes a bigger stock.
        with connection.cursor() as cursor:
            cursor.execute(_RESERVE_IDS_SQL, [connection.ops.quote_name(Visit._meta.db_table),
                                              Visit._meta.pk.column, ID_BLOCK_SIZE])
            block = [row[0] for row in cursor.fetchall()]
        self.ids.extend(block[1:])
        return block[0]

    # In any thread.

    def flush(self, timeout: float = FLUSH_TIMEOUT_SECONDS) -> None:
        """Write everything added so far; return once written (or logged as lost)."""
        if threading.current_thread() is not self.thread and self.thread.is_alive():
            with self.flushes:
                self.flush_requested += 1
                ticket = self.flush_requested
            self.wake.set()
            with self.flushes:
                done = self.flushes.wait_for(
                    lambda: self.flush_done >= ticket or not self.thread.is_alive(), timeout)
            if done and self.flush_done >= ticket:
                return
        # The writer is gone (or this is it): write here, on this thread's connection.
        self.write_pending()

    def write_pending(self) -> int:
        with self.write_lock:
            with self.rows_lock:
                rows, self.rows = self.rows, []
            if rows:
                self._write(rows)
            return len(rows)

    def _write(self, rows: list[Visit]) -> None:
        """One INSERT for all rows; if it fails, one per row, so that only the failing rows
        are lost. Logs, never raises."""
        try:
            self._insert(rows)
            return
        except Exception:
            if len(rows) == 1:
                logger.exception("tracking: buffered visit %s (promo %s) could not be stored; lost",
                                 rows[0].pk, rows[0].promo_id)
                return
            logger.warning("tracking: bulk insert of %d buffered visits failed; retrying them one by one",
                           len(rows), exc_info=True)
        connection = connections[self.alias]
        for index, row in enumerate(rows):
            try:
                self._insert([row])
            except (OperationalError, InterfaceError):
                if connection.connection is None or not connection.is_usable():
                    # The database is unreachable: trying each of the rest would wait on it each time.
                    lost = [r.pk for r in rows[index:]]
                    logger.exception("tracking: database unreachable; %d buffered visits lost (ids %s to %s)",
                                     len(lost), min(lost), max(lost))
                    return
                logger.exception("tracking: buffered visit %s (promo %s) could not be stored; lost",
                                 row.pk, row.promo_id)
            except Exception:
                logger.exception("tracking: buffered visit %s (promo %s) could not be stored; lost",
                                 row.pk, row.promo_id)

    def _insert(self, rows: list[Visit]) -> None:
        with transaction.atomic(using=self.alias):
            if settings.TRACKING_ASYNC_COMMIT:
                # This transaction only: see visits._insert_with_async_commit for why.
                with connections[self.alias].cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO off")
            Visit.objects.using(self.alias).bulk_create(rows)

    # In the writer thread.

    def _run(self) -> None:
        connection = connections[self.alias]  # this thread's own connection
        try:
            while not self.stopping:
                self.wake.wait(FLUSH_INTERVAL_SECONDS)
                self.wake.clear()
                if self.pid != os.getpid():
                    return  # abandoned (a fork, simulated: real forks copy no thread)
                self._write_and_report(connection)
            self._write_and_report(connection)
        finally:
            connection.close()

    def _write_and_report(self, connection) -> None:
        with self.flushes:
            ticket = self.flush_requested
        try:
            # As Django does around a request: drop a broken or expired connection first.
            connection.close_if_unusable_or_obsolete()
            self.write_pending()
        except Exception:  # _write logs its own failures; this is anything else. The thread must live.
            logger.exception("tracking: the visit buffer writer failed")
        finally:
            with self.flushes:
                self.flush_done = max(self.flush_done, ticket)
                self.flushes.notify_all()

    def stop(self, timeout: float = FLUSH_TIMEOUT_SECONDS) -> None:
        """Write what is left and end the writer thread (which closes its connection)."""
        self.stopping = True
        self.wake.set()
        if threading.current_thread() is not self.thread:
            self.thread.join(timeout)
        self.write_pending()  # whatever the thread could not write


_buffers: dict[str, _VisitBuffer] = {}
_buffers_lock = threading.Lock()
_exiting = False


def _buffer(alias: str) -> _VisitBuffer:
    buffer = _buffers.get(alias)
    if buffer is not None and buffer.pid == os.getpid():
        return buffer
    with _buffers_lock:
        buffer = _buffers.get(alias)
        if buffer is None or buffer.pid != os.getpid():
            # First click of this process, or the buffer is a forked parent's: its rows and
            # ids are the parent's to write and use, and its thread did not survive the fork.
            buffer = _buffers[alias] = _VisitBuffer(alias)
    return buffer


def visit_buffer_add(*, visit: Visit, connection) -> bool:
    """Give `visit` its id (visit.pk) and buffer it for the writer thread. False, with
    nothing done, when buffering does not apply and the caller must insert it directly: not
    PostgreSQL (SQLite falls back silently), inside a transaction (the visit must join it),
    the buffer full, or the process exiting."""
    if _exiting or connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    return _buffer(connection.alias).add(visit, connection)


def visits_flush() -> None:
    """Write every visit buffered in this process so far and return once they are stored
    (or logged as lost). Any thread, any time; nothing to do when nothing is buffered."""
    pid = os.getpid()
    for buffer in list(_buffers.values()):
        if buffer.pid == pid:
            buffer.flush()


def visits_buffer_stop() -> None:
    """Write what is buffered and stop the writer threads of this process (their connections
    closed). The next buffered click starts afresh. Called at exit, and by tests."""
    pid = os.getpid()
    with _buffers_lock:
        buffers = [b for b in _buffers.values() if b.pid == pid]
        _buffers.clear()
    for buffer in buffers:
        buffer.stop()


@atexit.register
def _at_exit() -> None:
    global _exiting
    _exiting = True  # a click arriving now is inserted directly
    if any(b.pid == os.getpid() for b in _buffers.values()):
        visits_buffer_stop()


def _after_fork_in_child() -> None:
    global _buffers_lock
    _buffers_lock = threading.Lock()  # the parent may have held it at the fork
    _buffers.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)
