"""Who calls the Partner Report API: the user behind a statistic token.

Affilka clients send the raw token in ``Authorization`` (no ``Bearer`` prefix, api-facts §1);
a prefix ("Bearer", "Token") is tolerated. JSON/XML feed links carry it as the ``token``
query parameter instead. The lookup (digest + constant-time compare, refusing blocked,
locked or inactive users) is partners.services.tokens.user_by_statistic_token; a regenerated
token stops working at once because its digest is gone.
"""
from rest_framework.authentication import BaseAuthentication

from partners.services.tokens import user_by_statistic_token
from reports.errors import ReportsError

TOKEN_QUERY_PARAM = "token"
WWW_AUTHENTICATE = 'Token realm="partner report api"'
_PREFIXES = ("bearer ", "token ")


def presented_token(request) -> str:
    """The token the request carries (header first, then ?token=), or ""."""
    header = request.headers.get("Authorization", "").strip()
    for prefix in _PREFIXES:
        if header.lower().startswith(prefix):
            header = header[len(prefix):].strip()
    return header or request.GET.get(TOKEN_QUERY_PARAM, "").strip()


def report_api_user(token: str):
    """The active user of a token; ReportsError (401) when there is none."""
    if not token:
        raise ReportsError("send your statistic token in the Authorization header (Account Info page)",
                           field="Authorization", code="unauthenticated")
    if not token.isascii() or not token.isprintable():
        user = None
    else:
        user = user_by_statistic_token(token)
    if user is None:
        raise ReportsError("the statistic token is unknown, was regenerated, or its user cannot sign in",
                           field="Authorization", code="unauthenticated")
    return user


class StatisticTokenAuthentication(BaseAuthentication):
    """DRF authentication of the Report API views (and their OpenAPI security scheme, see
    reports.api.schema). Raises ReportsError (401 JSON) rather than DRF's errors: the views
    answer every error in one shape."""

    def authenticate(self, request):
        token = presented_token(request)
        return report_api_user(token), token

    def authenticate_header(self, request):
        return WWW_AUTHENTICATE
