import pytest

from backoffice.celery import app


@pytest.mark.django_db  # django-celery-beat's module import touches the database
def test_every_beat_entry_names_a_registered_task():
    from django.conf import settings

    app.loader.import_default_modules()  # what a worker does at start: autodiscovery
    registered = set(app.tasks)
    missing = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} - registered
    assert not missing, f"beat would send tasks no worker knows: {missing}"
