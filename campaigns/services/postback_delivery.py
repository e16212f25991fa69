"""Sending postback deliveries: claiming a due outbox row, one guarded HTTP request, the
attempt logged, and the outcome (success, a retry scheduled in the row, or failure with
e-mails and, after too many, the postback disabled). Also the due loop the beat task runs.

A row is claimed by one conditional UPDATE (pending -> sending), so a task that runs twice,
or the beat loop next to a fast-path task, sends it once; parallel loops take disjoint rows
(select_for_update(skip_locked=True) on PostgreSQL); a row left in "sending" by a crashed
worker goes back to the queue after STALE_SENDING_AFTER.

Every request goes through backoffice.outbound.safe_request (SSRF guard, no redirects,
timeouts). With a signing secret, requests carry Standard Webhooks headers.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import threading
import time
from contextlib import contextmanager

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from backoffice import crypto
from backoffice.mail import absolute_url, send_templated_mail
from backoffice.outbound import OutboundError, UnsafeURL, safe_request
from campaigns.models import Postback, PostbackAttempt, PostbackDelivery

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
STALE_SENDING_AFTER = dt.timedelta(minutes=5)  # far above connect + read timeout + body deadline
SEND_BATCH = 50
SEND_THREADS = 8  # per beat run on PostgreSQL; a dead tracker's timeouts must not serialise all
ERROR_MAX_LENGTH = PostbackAttempt._meta.get_field("error").max_length
BODY_LOG_LENGTH = PostbackAttempt._meta.get_field("response_body").max_length


def webhook_signature(*, secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """Standard Webhooks: "v1,<base64 HMAC-SHA256 of '{id}.{timestamp}.{body}'>", keyed by
    the base64 part of the "whsec_..." secret."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@contextmanager
def _bookkeeping():
    """The transaction of a claim or of an attempt's outcome.

    On PostgreSQL it commits without waiting for the WAL flush (synchronous_commit off, for
    this transaction only): these commits are most of a delivery's cost. A database crash
    can lose the last moments of them, and the worst outcome is that a postback is sent
    again with the same webhook-id (at-least-once; receivers dedupe on it), never that one
    is lost: the outbox row itself is written by the event's transaction, fully durable.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def _claim_one(delivery_id: int) -> PostbackDelivery | None:
    now = timezone.now()
    with _bookkeeping():
        claimed = PostbackDelivery.objects.filter(
            pk=delivery_id, status=PostbackDelivery.Status.PENDING, next_attempt_at__lte=now,
        ).update(status=PostbackDelivery.Status.SENDING, attempts_count=F("attempts_count") + 1,
                 last_attempt_at=now)
        if not claimed:
            return None
        return PostbackDelivery.objects.select_related("postback").get(pk=delivery_id)


def postback_delivery_attempt(*, delivery_id: int) -> PostbackAttempt | None:
    """Send one due delivery now; None when it is not pending and due (already sent, in
    flight elsewhere, scheduled later, or gone): safe to call twice."""
    delivery = _claim_one(delivery_id)
    if delivery is None:
        return None
    return _send_claimed(delivery)


def _send_claimed(delivery: PostbackDelivery) -> PostbackAttempt | None:
    """Send a delivery this worker has claimed (status sending) and record the outcome."""
    postback = delivery.postback
    now = timezone.now()
    if not delivery.is_test and not postback.is_active:
        # Disabled (by the affiliate, a manager, or after repeated failures) since it was queued.
        PostbackDelivery.objects.filter(pk=delivery.pk, status=PostbackDelivery.Status.SENDING).update(
            status=PostbackDelivery.Status.FAILED, next_attempt_at=None, finished_at=now)
        return None

    is_post = delivery.method == Postback.Method.POST
    body = delivery.body if is_post else ""
    headers = {"Content-Type": "application/json"} if is_post else {}
    status = latency = None
    response_body = error = ""
    ok = False
    try:
        if postback.signing_secret_encrypted:
            headers.update(_signature_headers(postback, delivery.webhook_id, body))
        response = safe_request(delivery.method, delivery.url, data=body if is_post else None, headers=headers)
    except ValueError:  # crypto.decrypt: FIELD_ENCRYPTION_KEY / SECRET_KEY changed
        error = "Not sent: the signing secret can no longer be read; generate a new one on the postback."
    except UnsafeURL as exc:
        error = f"Not sent: {exc.message}"
    except OutboundError as exc:
        error, latency = exc.message, exc.elapsed_ms
    else:
        status, latency, ok = response.status, response.elapsed_ms, response.ok
        response_body = response.body[:BODY_LOG_LENGTH]
        if 300 <= status < 400:
            error = (f"Redirect{' to ' + response.location if response.location else ''} not followed: "
                     "the postback URL must answer 2xx itself.")
        elif not ok:
            error = f"The tracker answered {status}; only 2xx counts as delivered."
    with _bookkeeping():
        attempt = postback_attempt_record(delivery, status=status, latency_ms=latency, body=response_body,
                               ok=ok, error=error)
        if ok:
            _succeeded(delivery)
        else:
            _failed(delivery, attempt)
    return attempt


def _signature_headers(postback: Postback, msg_id: str, body: str) -> dict[str, str]:
    timestamp = int(time.time())
    secret = crypto.decrypt(postback.signing_secret_encrypted)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": webhook_signature(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body),
    }


def postback_attempt_record(delivery: PostbackDelivery, *, status, latency_ms, body: str, ok: bool, error: str) -> PostbackAttempt:
    return PostbackAttempt.objects.create(
        delivery=delivery, postback_id=delivery.postback_id, affiliate_id=delivery.affiliate_id,
        attempted_at=timezone.now(), url=delivery.url, method=delivery.method,
        action=delivery.postback.action, response_status=status, latency_ms=latency_ms,
        response_body=body.replace("\x00", ""), error=error[:ERROR_MAX_LENGTH], succeeded=ok,
    )


def _succeeded(delivery: PostbackDelivery) -> None:
    now = timezone.now()
    PostbackDelivery.objects.filter(pk=delivery.pk).update(
        status=PostbackDelivery.Status.SUCCEEDED, next_attempt_at=None, finished_at=now)
    if not delivery.is_test and delivery.postback.consecutive_failures:
        Postback.objects.filter(pk=delivery.postback_id).update(consecutive_failures=0)


def _failed(delivery: PostbackDelivery, attempt: PostbackAttempt) -> None:
    now = timezone.now()
    schedule = list(settings.POSTBACK_RETRY_SCHEDULE)
    attempts = delivery.attempts_count
    if not delivery.is_test and attempts <= len(schedule):
        PostbackDelivery.objects.filter(pk=delivery.pk).update(
            status=PostbackDelivery.Status.PENDING,
            next_attempt_at=now + dt.timedelta(seconds=int(schedule[attempts - 1])))
        return
    PostbackDelivery.objects.filter(pk=delivery.pk).update(
        status=PostbackDelivery.Status.FAILED, next_attempt_at=None, finished_at=now)
    if delivery.is_test:
        return  # "Send test" shows its result at once; no retries, no e-mails, no counting
    _delivery_failed_for_good(delivery, attempt)


def _delivery_failed_for_good(delivery: PostbackDelivery, attempt: PostbackAttempt) -> None:
    postback_id = delivery.postback_id
    Postback.objects.filter(pk=postback_id).update(consecutive_failures=F("consecutive_failures") + 1)
    postback = Postback.objects.select_related("affiliate").get(pk=postback_id)
    owner = postback.affiliate.owner
    context = {
        "postback": postback, "delivery": delivery, "attempt": attempt,
        "log_url": absolute_url(reverse("campaigns:postbacks_log")),
        "edit_url": absolute_url(reverse("campaigns:postback_edit", args=[postback.pk])),
    }
    if owner is not None:
        send_templated_mail(to=[owner.email], subject="Postback delivery failed",
                            template="emails/campaigns/postback_delivery_failed.txt", context=context)
    limit = settings.POSTBACK_DISABLE_AFTER_FAILURES
    if limit and postback.consecutive_failures >= limit:
        reason = f"Disabled after {postback.consecutive_failures} failed deliveries in a row."
        disabled = Postback.objects.filter(pk=postback_id, is_active=True).update(
            is_active=False, disabled_at=timezone.now(), disabled_reason=reason, updated_at=timezone.now())
        if disabled and owner is not None:
            send_templated_mail(to=[owner.email], subject="Postback disabled after repeated failures",
                                template="emails/campaigns/postback_disabled.txt",
                                context={**context, "reason": reason})


# --- the due loop (beat task and management command) ----------------------------------------


def _requeue_stale() -> None:
    """Rows left in "sending" by a crashed worker go back to the queue (or fail, when they
    were on their last attempt)."""
    now = timezone.now()
    stale = PostbackDelivery.objects.filter(status=PostbackDelivery.Status.SENDING,
                                            last_attempt_at__lt=now - STALE_SENDING_AFTER)
    last = len(settings.POSTBACK_RETRY_SCHEDULE) + 1
    stale.filter(Q(attempts_count__gte=last) | Q(is_test=True)).update(
        status=PostbackDelivery.Status.FAILED, next_attempt_at=None, finished_at=now)
    stale.update(status=PostbackDelivery.Status.PENDING, next_attempt_at=now)


def _claim_due(batch: int) -> list[PostbackDelivery]:
    now = timezone.now()
    with _bookkeeping():
        due = PostbackDelivery.objects.filter(
            status=PostbackDelivery.Status.PENDING, next_attempt_at__lte=now).order_by("next_attempt_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)  # parallel runs take disjoint rows
        ids = list(due.values_list("pk", flat=True)[:batch])
        if ids:
            PostbackDelivery.objects.filter(pk__in=ids).update(
                status=PostbackDelivery.Status.SENDING, attempts_count=F("attempts_count") + 1,
                last_attempt_at=now)
        return list(PostbackDelivery.objects.select_related("postback").filter(pk__in=ids).order_by("pk"))


def _send_many(deliveries: list[PostbackDelivery]) -> None:
    # Threads have their own connections: not on SQLite (one writer), nor inside a caller's
    # transaction, whose rows they could not see.
    if connection.vendor == "sqlite" or connection.in_atomic_block or len(deliveries) < 2:
        for delivery in deliveries:
            _send_safely(delivery)
        return
    chunks = [deliveries[i::SEND_THREADS] for i in range(min(SEND_THREADS, len(deliveries)))]

    def work(chunk: list[PostbackDelivery]) -> None:
        try:
            for delivery in chunk:
                _send_safely(delivery)
        finally:
            connections.close_all()  # this thread's own connections

    threads = [threading.Thread(target=work, args=(chunk,), name="postbacks") for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _send_safely(delivery: PostbackDelivery) -> None:
    try:
        _send_claimed(delivery)
    except Exception:  # one bad row must not stop the batch; it is retried as stale
        logger.exception("postback delivery %s crashed", delivery.pk)


def postback_deliveries_send_due(*, limit: int = 1000, time_budget_seconds: float = 30.0) -> int:
    """Send deliveries whose next attempt is due, in batches, until none is left, `limit`
    were sent or the time budget is spent. Returns how many were sent."""
    _requeue_stale()
    deadline = time.monotonic() + time_budget_seconds
    sent = 0
    while sent < limit and time.monotonic() < deadline:
        deliveries = _claim_due(min(SEND_BATCH, limit - sent))
        if not deliveries:
            break
        _send_many(deliveries)
        sent += len(deliveries)
    return sent
