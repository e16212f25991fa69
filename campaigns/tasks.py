"""Celery tasks of the campaigns app: thin wrappers that take ids and call one service.

Both are safe to run twice: a delivery is claimed by one conditional UPDATE, so a duplicate
task (a broker re-delivery, the beat loop next to the fast path) finds nothing to do.
"""
from celery import shared_task

from campaigns.services.postback_delivery import (
    postback_deliveries_send_due,
    postback_delivery_attempt,
)


@shared_task(name="campaigns.deliver_postback", ignore_result=True)
def deliver_postback(delivery_id: int) -> None:
    """The fast path: queued on commit of the event that created the delivery."""
    postback_delivery_attempt(delivery_id=delivery_id)


@shared_task(name="campaigns.deliver_due_postbacks", ignore_result=True)
def deliver_due_postbacks() -> int:
    """Beat, every few seconds: retries that came due, and anything the fast path missed."""
    return postback_deliveries_send_due()
