"""Kernel tasks."""
from celery import shared_task


@shared_task(name="backoffice.ping")
def ping(payload: str) -> str:
    """Round-trip check for a worker: returns what it was given."""
    return f"pong:{payload}"
