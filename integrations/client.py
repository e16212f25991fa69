"""The one base client every network connector talks through (CONVENTIONS §5).

- Every call has a (connect, read) timeout; no call can skip it.
- 429 and 5xx are retried with exponential backoff, honouring `Retry-After` (capped, so a
  network asking for an hour does not pin a worker): GET/PUT/DELETE always, POST only when the
  caller says the call is idempotent (e.g. an upsert keyed by our external id).
- Failures are typed and always raised `from` their cause:
  IntegrationError → AuthError (401/403), RateLimited (429 after the retries), RejectedError
  (another 4xx: the request itself is wrong — an item error, never retried), RemoteError (5xx,
  malformed JSON, connection refused), RemoteTimeout (the timeout).
- Secrets go only into request headers; nothing here logs headers, bodies or full URLs with
  query strings, and error messages quote at most a short excerpt of the response body.
"""
from __future__ import annotations

import json
import logging
from decimal import Decimal
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError
from urllib3.util.retry import Retry

from backoffice.errors import ApplicationError

log = logging.getLogger(__name__)

RETRY_STATUSES = (429, 500, 502, 503, 504)


class IntegrationError(ApplicationError):
    """Something went wrong talking to a network; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None, body=None):
        super().__init__(message, code="integration")
        self.status = status
        self.body = body


class AuthError(IntegrationError):
    pass


class RateLimited(IntegrationError):
    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class RejectedError(IntegrationError):
    """The network refused this request (400/404/409/422 ...): retrying would not help."""


class RemoteError(IntegrationError):
    pass


class RemoteTimeout(IntegrationError):
    pass


class _CappedRetry(Retry):
    """urllib3's Retry, but a Retry-After longer than `max_retry_after` seconds is cut to it."""

    max_retry_after = 30.0

    def parse_retry_after(self, retry_after: str) -> float:
        # Networks send "2", "0.5" or an HTTP date; a value we cannot read means "use the backoff".
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            try:
                return super().parse_retry_after(retry_after)
            except Exception:  # urllib3 raises InvalidHeader
                return 0.0

    def get_retry_after(self, response):
        value = super().get_retry_after(response)
        return None if value is None else min(value, self.max_retry_after)

    def new(self, **kw):
        retry = super().new(**kw)
        retry.max_retry_after = self.max_retry_after
        return retry


def _excerpt(text: str, limit: int = 200) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit] + "…"


def _message_of(body) -> str:
    """The human part of a network's error body, whatever its shape (Affilae {statusCode, error,
    message}, ASP.NET ProblemDetails {title, detail, errors}, Affili {status: error, message})."""
    if isinstance(body, dict):
        for key in ("message", "detail", "title", "error"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return _excerpt(value)
        if isinstance(body.get("errors"), dict):
            return _excerpt("; ".join(f"{k}: {v}" for k, v in body["errors"].items()))
    if isinstance(body, str):
        return _excerpt(body)
    return ""


class BaseClient:
    """Subclasses set `network`, `default_base_url` and `auth_headers()`; endpoint paths are
    module constants in the subclass's module, next to a link to the network's docs."""

    network = "network"
    credential_name = "API key"  # how the network calls its secret, in messages to the manager
    default_base_url = ""
    timeout = (5.0, 30.0)
    retries = 3
    backoff_factor = 0.5
    max_retry_after = 30.0

    def __init__(self, *, secret: str, base_url: str = "", timeout=None, retries=None, backoff_factor=None,
                 max_retry_after=None):
        self.secret = secret
        self.base_url = (base_url or self.default_base_url).rstrip("/") + "/"
        self.timeout = timeout or self.timeout
        if retries is not None:
            self.retries = retries
        if backoff_factor is not None:
            self.backoff_factor = backoff_factor
        if max_retry_after is not None:
            self.max_retry_after = max_retry_after
        self._sessions: dict[bool, requests.Session] = {}

    @classmethod
    def for_connection(cls, connection, **kwargs):
        return cls(secret=connection.secret, base_url=connection.base_url, **kwargs)

    # --- to override ---------------------------------------------------------------------------

    def auth_headers(self) -> dict[str, str]:
        raise NotImplementedError

    # --- transport -----------------------------------------------------------------------------

    def _session(self, *, retry_posts: bool) -> requests.Session:
        session = self._sessions.get(retry_posts)
        if session is None:
            methods = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"} | ({"POST", "PATCH"} if retry_posts else set())
            retry = _CappedRetry(
                total=self.retries, connect=self.retries, read=0 if not retry_posts else self.retries,
                status=self.retries, backoff_factor=self.backoff_factor, status_forcelist=RETRY_STATUSES,
                allowed_methods=frozenset(methods), respect_retry_after_header=True, raise_on_status=False,
            )
            retry.max_retry_after = self.max_retry_after
            session = requests.Session()
            adapter = HTTPAdapter(max_retries=retry, pool_maxsize=4)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._sessions[retry_posts] = session
        return session

    def close(self) -> None:
        for session in self._sessions.values():
            session.close()
        self._sessions.clear()

    def request(self, method: str, path: str, *, params=None, json_body=None, idempotent: bool = False,
                expect_json: bool = True):
        """One call; returns the decoded JSON (numbers with a fraction as Decimal) or raises a
        typed IntegrationError. `idempotent=True` lets a POST be retried on 429/5xx."""
        url = urljoin(self.base_url, path.lstrip("/"))
        headers = {"Accept": "application/json", **self.auth_headers()}
        data = None
        if json_body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(json_body, default=str)
        session = self._session(retry_posts=idempotent)
        label = f"{self.network} {method} {path.split('?')[0]}"
        try:
            response = session.request(method, url, params=params, data=data, headers=headers, timeout=self.timeout)
        except requests.Timeout as exc:
            raise RemoteTimeout(f"{label}: no answer within {self.timeout[1]:g} s") from exc
        except requests.ConnectionError as exc:
            # With retries exhausted, requests reports a read timeout as a ConnectionError
            # wrapping urllib3's MaxRetryError(reason=ReadTimeoutError).
            reason = getattr(exc.args[0], "reason", None) if exc.args else None
            # (NewConnectionError subclasses ConnectTimeoutError: a refused connection is not a timeout.)
            if isinstance(reason, (ReadTimeoutError, ConnectTimeoutError)) and not isinstance(reason, NewConnectionError):
                raise RemoteTimeout(f"{label}: no answer within {self.timeout[1]:g} s") from exc
            raise RemoteError(f"{label}: could not connect ({type(reason or exc).__name__})") from exc
        except requests.exceptions.RetryError as exc:
            raise RemoteError(f"{label}: gave up after {self.retries} retries") from exc
        except requests.RequestException as exc:
            raise RemoteError(f"{label}: could not connect ({type(exc).__name__})") from exc
        log.debug("%s → %s", label, response.status_code)
        return self._decode(response, label=label, expect_json=expect_json)

    def _decode(self, response: requests.Response, *, label: str, expect_json: bool):
        status = response.status_code
        try:
            body = response.json(parse_float=Decimal) if response.content else None
            malformed = False
        except ValueError:
            body, malformed = response.text, True
        if status >= 400:
            detail = _message_of(body)
            suffix = f": {detail}" if detail else ""
            if status == 401:
                raise AuthError(f"{self.network} rejected the {self.credential_name} (401){suffix}", status=status, body=body)
            if status == 403:
                raise AuthError(f"{self.network}: the {self.credential_name} lacks permission (403){suffix}", status=status, body=body)
            if status == 429:
                retry_after = response.headers.get("Retry-After")
                raise RateLimited(
                    f"{self.network} is rate limiting us (429) after {self.retries} retries{suffix}",
                    status=status, body=body, retry_after=float(retry_after) if retry_after and
                    retry_after.replace(".", "", 1).isdigit() else None,
                )
            if status >= 500:
                raise RemoteError(f"{label}: server error {status}{suffix}", status=status, body=body)
            raise RejectedError(f"{label}: rejected ({status}){suffix}", status=status, body=body)
        if malformed and expect_json:
            raise RemoteError(f"{label}: the answer is not JSON ({_excerpt(response.text, 80)!r})", status=status)
        return body
