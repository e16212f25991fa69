"""Per-token rate limit of the Partner Report API: a fixed window counted in the Django cache.

settings.REPORT_API_RATE_LIMIT requests (default 60) per REPORT_API_RATE_WINDOW seconds
(default 60) per token; over it the API answers 429 with Retry-After (clients back off). The
key is the token's digest, so unknown tokens are counted too (and never stored in clear).
With the default local-memory cache the limit is per process; a shared cache (CACHE_URL,
Redis) makes it global.
"""
import hashlib
import time

from django.conf import settings
from django.core.cache import cache


def rate_limit() -> tuple[int, int]:
    return (int(getattr(settings, "REPORT_API_RATE_LIMIT", 60)),
            int(getattr(settings, "REPORT_API_RATE_WINDOW", 60)))


def throttle_check(token: str) -> int | None:
    """None if this call is allowed, else the seconds to wait before the next one."""
    limit, window = rate_limit()
    if limit <= 0 or not token:
        return None
    now = time.time()
    window_start = int(now // window)
    key = f"report_api:rate:{hashlib.sha256(token.encode('utf-8', 'replace')).hexdigest()}:{window_start}"
    cache.add(key, 0, timeout=window + 1)
    try:
        calls = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 1)
        calls = 1
    if calls > limit:
        return max(1, int((window_start + 1) * window - now) + 1)
    return None
