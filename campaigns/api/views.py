"""The operator ingestion API (/api/v1/): a brand's platform feeds players and activity in.

Each view checks the shape of the body (campaigns.api.validation), calls one service
(campaigns.services.ingestion) and renders JSON. Signing, size limits and methods are
operator_api's (campaigns.api.auth). Everything is scoped to the brand of the credential
that signed the request: another brand's players, promos and tags do not exist here.

Answers: 200 when every item was applied; 422 with "errors" (index, field, path, message)
when some were refused, the valid ones applied all the same; 400/401/405/413/422 with
{"error", "field"} when the request as a whole is refused. Never a 500 for any input.
"""
from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.http import JsonResponse

from campaigns.api import validation
from campaigns.api.auth import operator_api
from campaigns.api.validation import IngestionError
from campaigns.services import ingestion


def _batch_response(body: dict, errors: list, collection: str) -> JsonResponse:
    body["errors"] = [error.as_dict(collection) for error in errors]
    return JsonResponse(body, status=422 if errors else 200)


@operator_api("POST")
def players_view(request, credential, body):
    payload = validation.parse_json_object(body)
    raw = validation.item_list(payload, "players", max_items=settings.INGESTION_MAX_ITEMS)
    items, errors = validation.player_items(raw)
    outcome = ingestion.players_ingest(brand=credential.brand, items=items)
    errors = sorted(errors + outcome.errors, key=lambda error: error.index)
    return _batch_response({"players": outcome.results}, errors, "players")


@operator_api("POST")
def activity_view(request, credential, body):
    payload = validation.parse_json_object(body)
    period_start, period_end = validation.window(payload)
    raw = validation.item_list(payload, "items", max_items=settings.INGESTION_MAX_ITEMS)
    items, errors = validation.activity_items(raw)
    outcome = ingestion.activity_ingest(brand=credential.brand, period_start=period_start,
                                        period_end=period_end, items=items)
    errors = sorted(errors + outcome.errors, key=lambda error: error.index)
    return _batch_response({
        "from": period_start.isoformat(), "to": period_end.isoformat(),
        "stored": outcome.stored,
        "deposits": {"created": outcome.deposits_created, "known": outcome.deposits_known,
                     "first_deposits": outcome.first_deposits},
    }, errors, "items")


@operator_api("PUT")
def player_flags_view(request, credential, body, operation: str):
    match = validation.FLAG_OPERATION_RE.fullmatch(operation)
    if match is None:
        return JsonResponse({"error": f"unknown operation {operation[:60]!r}; use (mark|unmark)_as_"
                                      "(disabled|duplicate|self_excluded)", "field": None}, status=404)
    payload = validation.parse_json_object(body)
    limit = settings.INGESTION_MAX_ITEMS
    tags = validation.text_list(payload, "tags", max_items=limit)
    user_ids = validation.text_list(payload, "user_ids", max_items=limit)
    if not tags and not user_ids:
        raise IngestionError('send "tags" (or "user_ids"): a non-empty list of strings', field="tags")
    result = ingestion.player_flags_set(brand=credential.brand, flag=match[2], value=match[1] == "mark",
                                        tags=tags, user_ids=user_ids)
    return JsonResponse({"operation": operation, **result})


@operator_api("POST")
def synced_visits_view(request, credential, body):
    payload = validation.parse_json_object(body)
    period_start, period_end = validation.window(payload)
    raw = validation.item_list(payload, "links", max_items=settings.INGESTION_MAX_ITEMS)
    links, errors = validation.synced_links(raw)
    outcome = ingestion.synced_visits_store(brand=credential.brand, period_start=period_start,
                                            period_end=period_end, links=links)
    errors = sorted(errors + outcome.errors, key=lambda error: error.index)
    return _batch_response({"links": outcome.results}, errors, "links")


@operator_api("GET")
def partners_view(request, credential, body):
    """GET /api/v1/partners?tags[]=12_345&tags[]=... (the body, empty, is what is signed)."""
    try:
        raw = request.GET.getlist("tags[]") + request.GET.getlist("tags")
    except TooManyFieldsSent:
        raise IngestionError("too many query parameters: ask for fewer tags at once", field="tags",
                             status=413) from None
    tags = list(dict.fromkeys(tag.strip() for tag in raw if tag.strip()))
    if not tags:
        raise IngestionError("pass one or more tags: ?tags[]=<affiliate id>_<visit id>", field="tags")
    if len(tags) > settings.INGESTION_MAX_ITEMS:
        raise IngestionError(f"at most {settings.INGESTION_MAX_ITEMS} tags per request", field="tags", status=413)
    partners, not_found = ingestion.partners_by_tags(brand=credential.brand, tags=tags)
    return JsonResponse({"partners": partners, "not_found": not_found})


def unknown_endpoint_view(request):
    return JsonResponse({"error": f"no such endpoint: {request.path[:100]}", "field": None}, status=404)
