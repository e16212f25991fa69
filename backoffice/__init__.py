"""The project: settings, URLs, the Celery app, and the small shared kernel."""
from .celery import app as celery_app

__all__ = ["celery_app"]
