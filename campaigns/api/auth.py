"""Who is calling the ingestion API: the operator credential behind an HMAC-signed request.

Every request carries two headers (api-facts §2):

- ``X-Authorization-Key``: the key of an active OperatorCredential (one brand's platform);
- ``X-Authorization-Sign``: hex HMAC-SHA512 of the exact raw request body, keyed with that
  credential's secret. A request without a body (GET /api/v1/partners) signs the empty
  string: the query string is not signed.

The body is read here, by us, up to settings.INGESTION_MAX_BODY_BYTES (a 10,000-item
activity batch is far beyond DATA_UPLOAD_MAX_MEMORY_SIZE, which guards form posts), and a
Content-Length over the limit is refused before a byte is read.
"""
import datetime as dt
import hashlib
import hmac
import logging
from functools import wraps

from django.conf import settings
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from campaigns.api.validation import IngestionError
from campaigns.errors import CampaignsError
from campaigns.models import OperatorCredential

logger = logging.getLogger(__name__)

KEY_HEADER = "X-Authorization-Key"
SIGN_HEADER = "X-Authorization-Sign"
# Refresh last_used_at at most this often: one UPDATE a minute, not one per request.
LAST_USED_RESOLUTION = dt.timedelta(seconds=60)
_READ_CHUNK = 64 * 1024


def body_sign(secret: str, body: bytes) -> str:
    """The X-Authorization-Sign value for `body` (what the operator's platform computes)."""
    return hmac.new(secret.encode(), body, hashlib.sha512).hexdigest()


def read_body(request, *, limit: int) -> bytes:
    """The raw body, at most `limit` bytes, else IngestionError 413 (checked on the declared
    Content-Length first, then on what actually arrives)."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    try:
        length = int(declared)
    except ValueError:
        raise IngestionError("Content-Length is not a number", field="Content-Length", status=400) from None
    if length > limit:
        raise IngestionError(f"the request body is larger than {limit} bytes: split the batch",
                             field="Content-Length", status=413)
    chunks, size = [], 0
    while True:
        # request.read() streams from wsgi.input bounded by Content-Length; request.body would
        # apply DATA_UPLOAD_MAX_MEMORY_SIZE instead of our limit.
        chunk = request.read(_READ_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise IngestionError(f"the request body is larger than {limit} bytes: split the batch",
                                 field="Content-Length", status=413)
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # so request.body still works for anything after us (error pages)
    return body


def operator_authenticate(request) -> tuple[OperatorCredential, bytes]:
    """The active credential that signed this request, and the body it signed.

    Raises IngestionError 401 naming the header at fault, 413 for a body over the limit.
    """
    key = request.headers.get(KEY_HEADER, "").strip()
    if not key:
        raise IngestionError(f"the {KEY_HEADER} header is missing", field=KEY_HEADER, status=401)
    credential = None
    # Printable ASCII only: a NUL would make PostgreSQL refuse the query itself.
    if len(key) <= OperatorCredential._meta.get_field("key").max_length and key.isascii() and key.isprintable():
        credential = (
            OperatorCredential.objects.select_related("brand").filter(key=key, is_active=True).first()
        )
    if credential is None:
        raise IngestionError(f"the {KEY_HEADER} is not an active operator key", field=KEY_HEADER, status=401)
    body = read_body(request, limit=settings.INGESTION_MAX_BODY_BYTES)
    sign = request.headers.get(SIGN_HEADER, "").strip().lower()
    if not sign:
        raise IngestionError(f"the {SIGN_HEADER} header is missing", field=SIGN_HEADER, status=401)
    try:
        secret = credential.secret
    except ValueError:
        # The secret was encrypted under a key this server no longer has: a server problem
        # the operator cannot fix by re-signing, but still not theirs to see as a 500.
        logger.error("operator credential %s: secret cannot be decrypted", credential.pk)
        raise IngestionError("this operator key cannot be verified; ask the program team to issue a new one",
                             field=KEY_HEADER, status=401) from None
    expected = body_sign(secret, body)
    if not hmac.compare_digest(expected.encode(), sign.encode("utf-8", "replace")):
        raise IngestionError(
            f"the {SIGN_HEADER} does not match the body: send the hex HMAC-SHA512 of the exact "
            "request body (of an empty string when there is none), keyed with the operator secret",
            field=SIGN_HEADER, status=401,
        )
    now = timezone.now()
    if credential.last_used_at is None or now - credential.last_used_at > LAST_USED_RESOLUTION:
        OperatorCredential.objects.filter(pk=credential.pk).update(last_used_at=now)
        credential.last_used_at = now
    return credential, body


def error_response(exc: IngestionError) -> JsonResponse:
    return JsonResponse(exc.as_dict(), status=exc.status)


def operator_api(*methods: str):
    """Decorate an ingestion view: allowed methods (else 405), a valid signature (else 401),
    the body within the limit (else 413); domain errors become JSON. The view is called as
    view(request, credential, body, *args, **kwargs)."""

    def decorate(view):
        @csrf_exempt  # machine-to-machine; authenticated by the signature, not a cookie
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in methods:
                response = JsonResponse(
                    {"error": f"{request.method} is not allowed here; use {' or '.join(methods)}", "field": None},
                    status=405,
                )
                response["Allow"] = ", ".join(methods)
                return response
            try:
                credential, body = operator_authenticate(request)
                return view(request, credential, body, *args, **kwargs)
            except IngestionError as exc:
                return error_response(exc)
            except CampaignsError as exc:
                return JsonResponse({"error": exc.message, "field": exc.field}, status=422)

        return wrapper

    return decorate
