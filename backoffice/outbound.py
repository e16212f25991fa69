"""The one HTTP sender for URLs that affiliates supply (postbacks), guarded against SSRF.

An affiliate types a URL; our servers call it. Without a guard that URL could reach the
cloud metadata service (169.254.169.254), the database on 10.x, or an admin port on
127.0.0.1. So, for every request:

- only http and https, no user:password@ in the URL;
- the host is resolved ONCE (`resolve`, module-level so tests can replace it) and EVERY
  address must be public: loopback, private, link-local, CGNAT, multicast, reserved,
  unspecified, unique-local and site-local IPv6, and IPv6 forms that embed such an IPv4
  (IPv4-mapped, NAT64, 6to4, Teredo) are refused; numeric host spellings that resolvers
  accept (2130706433, 0x7f000001, 0177.0.0.1, 127.1) are normalised first and refused;
- the connection goes to THAT validated address (a pool pinned to the IP), so a DNS answer
  that changes between the check and the connect (rebinding) cannot redirect it; the Host
  header, TLS SNI and certificate check still use the host name;
- redirects are never followed (a 3xx is returned as is; callers treat it as a failure);
- a (connect, read) timeout always applies, plus an overall deadline on reading the body,
  and the body is read up to MAX_BODY_BYTES only.

settings.POSTBACK_ALLOW_PRIVATE_TARGETS=True (development and tests only) lets private and
loopback addresses through; everything else still applies.
"""
from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import SplitResult, quote, urlsplit

import certifi
import urllib3
from django.conf import settings
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from backoffice.errors import ApplicationError

CONNECT_TIMEOUT_SECONDS = 3.05  # just over a multiple of 3 s, the TCP SYN retransmit interval
MAX_BODY_BYTES = 64 * 1024
USER_AGENT = "AffiliateBackoffice-Postback/1.0"
_MAX_POOLS = 64
_POOL_CONNECTIONS = 10

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
# Percent-encode what may not travel raw (spaces, non-ASCII, quotes, <>) and keep the rest as
# typed, "%XX" and a verbatim "${var}" included.
_TARGET_SAFE = "!$&'()*+,/:;=?@[]~%{}|^`"
_NUMERIC_PART = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


class OutboundError(ApplicationError):
    """The request could not be completed (refused, timed out, TLS, broken connection)."""

    def __init__(self, message: str, *, elapsed_ms: int | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.elapsed_ms = elapsed_ms


class UnsafeURL(OutboundError):  # noqa: N818 - the name says what it is; it is an error by base
    """The URL must not be called: wrong scheme, or its host is (or resolves to) a
    non-public address."""


@dataclass(frozen=True)
class SafeResponse:
    status: int
    body: str  # decoded, at most MAX_BODY_BYTES of the body
    elapsed_ms: int
    location: str = ""  # of a 3xx, which is never followed

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to. Module-level so tests can replace it."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


# --- checking -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    scheme: str
    hostname: str  # as in the URL (IDNA-encoded), for Host, SNI and the certificate
    port: int
    address: str  # the validated IP we connect to
    request_target: str  # path?query


def check_url(url: str) -> None:
    """Raise UnsafeURL (with a message for the person who typed the URL) unless `url` may be
    called. Resolves the host; the check is repeated, and pinned, at send time."""
    _target(url)


def _target(url: str) -> _Target:
    parts = _split(url)
    hostname = _hostname(parts)
    port = _port(parts)
    addresses = _addresses(hostname, port)
    path = parts.path or "/"
    target = f"{path}?{parts.query}" if parts.query else path
    return _Target(parts.scheme.lower(), hostname, port, addresses[0], quote(target, safe=_TARGET_SAFE))


def _split(url: str) -> SplitResult:
    if not isinstance(url, str) or not url.strip():
        raise UnsafeURL("Enter a URL.")
    if any(ord(c) < 0x21 or c == "\\" for c in url.strip()):
        raise UnsafeURL("The URL contains spaces, control characters or backslashes.")
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise UnsafeURL(f"The URL cannot be parsed: {exc}.") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise UnsafeURL("Only http:// and https:// URLs can be called.")
    if not parts.netloc:
        raise UnsafeURL("The URL has no host.")
    if "@" in parts.netloc:
        raise UnsafeURL("Remove the user name and password (user:password@) from the URL.")
    return parts


def _hostname(parts: SplitResult) -> str:
    try:
        host = parts.hostname or ""
    except ValueError as exc:
        raise UnsafeURL("The URL's host is not valid.") from exc
    if not host:
        raise UnsafeURL("The URL has no host.")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise UnsafeURL(f"The host name {host!r} is not valid.") from exc
    return host


def _port(parts: SplitResult) -> int:
    try:
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL("The URL's port is not a number from 1 to 65535.") from exc
    if port == 0:
        raise UnsafeURL("The URL's port is not a number from 1 to 65535.")
    return port or (443 if parts.scheme.lower() == "https" else 80)


def _addresses(hostname: str, port: int) -> list[str]:
    """The validated addresses to connect to (the first is used)."""
    literal = _literal_address(hostname)
    if literal is not None:
        _refuse_unless_public(literal, hostname)
        return [str(literal)]
    name = hostname.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        raise UnsafeURL(f"The host {hostname} is this server (localhost); use a public host.")
    try:
        resolved = resolve(hostname, port)
    except (OSError, UnicodeError) as exc:
        raise UnsafeURL(f"The host {hostname} could not be resolved; check its spelling.") from exc
    if not resolved:
        raise UnsafeURL(f"The host {hostname} could not be resolved; check its spelling.")
    validated = []
    for raw in resolved:
        try:
            address = ipaddress.ip_address(raw.split("%", 1)[0])
        except ValueError as exc:
            raise UnsafeURL(f"The host {hostname} resolved to an unusable address.") from exc
        _refuse_unless_public(address, hostname)
        validated.append(str(address))
    return validated


def _literal_address(hostname: str) -> _Address | None:
    """The address a numeric host means, in any spelling a resolver accepts; None for names.

    inet_aton (and so getaddrinfo) reads 2130706433, 0x7f000001, 0177.0.0.1 and 127.1 as
    127.0.0.1: parse those ourselves rather than trust what a stub or platform resolver does.
    A public address spelled that way is refused too: nobody types it by accident.
    """
    host = hostname.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    host = host.rstrip(".").lower()
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_NUMERIC_PART.match(p) for p in parts):
        return None
    try:
        values = [_inet_aton_part(p) for p in parts]
    except ValueError:
        raise UnsafeURL(f"The host {hostname} is not a valid IP address.") from None
    *leading, last = values
    if any(v > 255 for v in leading) or last >= 256 ** (4 - len(leading)):
        raise UnsafeURL(f"The host {hostname} is not a valid IP address.")
    number = 0
    for v in leading:
        number = number * 256 + v
    number = number * 256 ** (4 - len(leading)) + last
    address = ipaddress.IPv4Address(number)
    _refuse_unless_public(address, hostname)
    raise UnsafeURL(f"Write the IP address {hostname} as {address}.")


def _inet_aton_part(part: str) -> int:
    if part.startswith("0x"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8)
    return int(part)


def _refuse_unless_public(address: _Address, hostname: str) -> None:
    problem = address_problem(address)
    if problem is None:
        return
    if settings.POSTBACK_ALLOW_PRIVATE_TARGETS and problem in _ALLOWED_IN_DEVELOPMENT:
        return
    shown = hostname if hostname.strip("[]") == str(address) else f"{hostname} ({address})"
    article = "an" if problem.startswith(("unspecified", "IPv4")) else "a"
    raise UnsafeURL(
        f"The host {shown} is {article} {problem} address; postbacks can only be sent to public "
        "internet addresses."
    )


_ALLOWED_IN_DEVELOPMENT = {"loopback", "private", "unique-local IPv6", "CGNAT (shared)"}


def address_problem(address: _Address) -> str | None:
    """Why `address` is not a public internet address, or None when it is."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            problem = address_problem(embedded)
            if problem is not None:
                return problem
        if int(address) >> 32 == 0 and int(address) > 1:
            return "IPv4-compatible IPv6 (deprecated)"
        if address in _UNIQUE_LOCAL:
            return "unique-local IPv6"
        if address.is_site_local:
            return "site-local IPv6"
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "CGNAT (shared)"
    if isinstance(address, ipaddress.IPv4Address) and address in ipaddress.ip_network("0.0.0.0/8"):
        return "\"this network\" (0.0.0.0/8)"
    if address.is_private:
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "non-public"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in net for net in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


# --- sending --------------------------------------------------------------------------------

_pools: OrderedDict[tuple, urllib3.HTTPConnectionPool] = OrderedDict()
_pools_lock = threading.Lock()


def _pool(target: _Target) -> urllib3.HTTPConnectionPool:
    """A keep-alive pool pinned to the validated address (never to the host name)."""
    key = (target.scheme, target.address, target.port, target.hostname)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is not None:
            _pools.move_to_end(key)
            return pool
        common = {"maxsize": _POOL_CONNECTIONS, "block": False, "retries": False}
        if target.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                target.address, target.port,
                server_hostname=target.hostname, assert_hostname=target.hostname,
                cert_reqs="CERT_REQUIRED", ca_certs=certifi.where(), **common,
            )
        else:
            pool = urllib3.HTTPConnectionPool(target.address, target.port, **common)
        _pools[key] = pool
        while len(_pools) > _MAX_POOLS:
            _, old = _pools.popitem(last=False)
            old.close()
        return pool


def close_pools() -> None:
    """Drop every kept-alive connection (tests, and after a fork)."""
    with _pools_lock:
        while _pools:
            _, pool = _pools.popitem()
            pool.close()


def _host_header(target: _Target) -> str:
    host = f"[{target.hostname}]" if ":" in target.hostname else target.hostname
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


def safe_request(
    method: str,
    url: str,
    *,
    data: str | bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: tuple[float, float] | None = None,
) -> SafeResponse:
    """Send one request to an affiliate-supplied URL; never follows redirects.

    Returns the response whatever its status (see SafeResponse.ok). Raises UnsafeURL when the
    URL must not be called, OutboundError when no response came (refused, timed out, TLS).
    `timeout` is (connect, read) seconds; by default (3.05, POSTBACK_TIMEOUT_SECONDS). The
    read timeout is also the deadline for the whole body.
    """
    connect_timeout, read_timeout = timeout or (CONNECT_TIMEOUT_SECONDS, settings.POSTBACK_TIMEOUT_SECONDS)
    target = _target(url)
    all_headers = {"User-Agent": USER_AGENT, **(headers or {}), "Host": _host_header(target)}
    body = data.encode() if isinstance(data, str) else data
    started = time.perf_counter()

    def elapsed() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        response = _pool(target).urlopen(
            method.upper(), target.request_target, body=body, headers=all_headers,
            redirect=False, retries=False, preload_content=False, assert_same_host=False,
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
        )
    except NewConnectionError as exc:  # before its base class ConnectTimeoutError
        raise OutboundError(f"Could not connect: {_reason(exc)}.", elapsed_ms=elapsed()) from exc
    except ConnectTimeoutError as exc:
        raise OutboundError(f"Could not connect within {connect_timeout:g} s.", elapsed_ms=elapsed()) from exc
    except ReadTimeoutError as exc:
        raise OutboundError(f"No response within {read_timeout:g} s.", elapsed_ms=elapsed()) from exc
    except SSLError as exc:
        raise OutboundError(f"TLS error: {_reason(exc)}.", elapsed_ms=elapsed()) from exc
    except (HTTPError, OSError) as exc:
        raise OutboundError(f"Request failed: {_reason(exc)}.", elapsed_ms=elapsed()) from exc

    try:
        content = _read_capped(response, deadline=started + read_timeout)
    except (ReadTimeoutError, TimeoutError) as exc:
        raise OutboundError(f"The response was not complete within {read_timeout:g} s.",
                            elapsed_ms=elapsed()) from exc
    except (HTTPError, ProtocolError, OSError) as exc:
        raise OutboundError(f"The connection broke while reading the response: {_reason(exc)}.",
                            elapsed_ms=elapsed()) from exc
    finally:
        response.release_conn()
    return SafeResponse(
        status=response.status,
        body=content.decode("utf-8", errors="replace"),
        elapsed_ms=elapsed(),
        location=response.headers.get("Location", "")[:1000] if 300 <= response.status < 400 else "",
    )


def _read_capped(response, *, deadline: float) -> bytes:
    """At most MAX_BODY_BYTES of the body, before `deadline`; a longer or slower body closes
    the connection instead of being drained."""
    chunks: list[bytes] = []
    size = 0
    while size < MAX_BODY_BYTES:
        if time.perf_counter() > deadline:
            response.close()
            raise TimeoutError("body read deadline passed")
        chunk = response.read1(min(16384, MAX_BODY_BYTES - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    if not response.isclosed() and response.length_remaining != 0:
        response.close()  # more than we keep: do not read the rest into memory
    return b"".join(chunks)


def _reason(exc: BaseException) -> str:
    reason = exc
    while getattr(reason, "reason", None) is not None and reason.reason is not reason:
        reason = reason.reason
    text = str(reason)
    # urllib3 prefixes "<urllib3.connection.HTTPConnection object at 0x...>: "; drop it.
    text = re.sub(r"^<[^>]+>: ", "", text)
    errno = re.search(r"\[Errno -?\d+\] .*", text)  # "HTTPConnection(...): Failed ...: [Errno 111] ..."
    if errno:
        text = errno.group(0)
    return text[:300] or exc.__class__.__name__
