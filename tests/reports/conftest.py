"""Fixtures of the reports tests."""
import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The Report API's per-token throttle counts in the cache: every test starts at zero."""
    cache.clear()
    yield
    cache.clear()
