"""Shared fixtures. Factories live per app in tests/<app>/factories.py."""
import pytest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "Corr3ct-horse-battery"


def _private_file_fields():
    from django.apps import apps
    from django.core.files.storage import storages
    from django.db.models import FileField

    private = storages["private"]  # every app's private FileFields resolve to this one instance
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, FileField) and field.storage is private:
                yield field


@pytest.fixture(autouse=True)
def _private_files_in_tmp(tmp_path):
    """A FileField resolves its storage once, at import; point private ones at tmp_path so no
    test writes under var/."""
    from django.core.files.storage import FileSystemStorage

    storage = FileSystemStorage(location=str(tmp_path / "private"))
    fields = list(_private_file_fields())
    saved = [f.storage for f in fields]
    for f in fields:
        f.storage = storage
    yield storage
    for f, old in zip(fields, saved, strict=True):
        f.storage = old


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path):
    # The real hasher is deliberately slow; tests need only a working one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.SITE_URL = "http://testserver"


@pytest.fixture(autouse=True)
def _celery_eager(request):
    """Tasks run in-process in tests, even when CI sets CELERY_BROKER_URL for the suite;
    tests marked celery_worker talk to a real worker instead."""
    from backoffice.celery import app

    if request.node.get_closest_marker("celery_worker"):
        yield
        return
    old = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = old


@pytest.fixture
def password():
    return PASSWORD


def confirmed_totp(user) -> TOTPDevice:
    """A confirmed TOTP device for `user` (2FA enabled)."""
    return TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=True)


def sign_in(client, user, *, verified: bool = False):
    """Sign `user` in on the test client, as the login page would (a UserSession row is
    opened by the user_logged_in signal). verified=True also marks the session as having
    passed 2FA with the user's confirmed device (created if missing)."""
    client.force_login(user)
    if verified:
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or confirmed_totp(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client
