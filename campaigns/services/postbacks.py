"""Postbacks: saving an affiliate's postbacks, and the outbox of deliveries.

Flow: player_event_raise -> postback_deliveries_enqueue (same transaction: one outbox row per
matching postback) -> on commit, task deliver_postback(id) -> postback_delivery_attempt
(services/postback_delivery.py). A failed attempt is rescheduled in the row (next_attempt_at,
settings.POSTBACK_RETRY_SCHEDULE); the beat task deliver_due_postbacks picks due rows.
"""
from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial

from django.db import transaction
from django.utils import timezone

from backoffice import crypto
from campaigns import postback_templates
from campaigns.errors import CampaignsError
from campaigns.models import (
    Campaign,
    PlayerEvent,
    Postback,
    PostbackAttempt,
    PostbackDelivery,
    Promo,
)
from campaigns.services.bulk import chunks
from campaigns.services.postback_delivery import (  # noqa: F401 - the public names live here too
    SECRET_PREFIX,
    postback_attempt_record,
    postback_deliveries_send_due,
    postback_delivery_attempt,
    webhook_signature,
)

SECRET_BYTES = 24
URL_MAX_LENGTH = PostbackDelivery._meta.get_field("url").max_length


# --- saving postbacks -----------------------------------------------------------------------


@dataclass
class PostbackSaved:
    postback: Postback
    secret: str | None = None  # a newly generated signing secret: show it once
    warnings: list[str] = field(default_factory=list)


def _campaign_ensure_editable(campaign: Campaign) -> None:
    try:
        from campaigns.services.campaigns import campaign_ensure_editable
    except ImportError:  # pragma: no cover - the campaigns service ships with this app
        if campaign.is_archived:
            raise CampaignsError(
                f"Campaign {campaign.pk} is archived; unarchive it to add or change promos and postbacks",
                code="archived",
            ) from None
        return
    campaign_ensure_editable(campaign)


def _target_campaign(postback: Postback) -> Campaign | None:
    if postback.scope == Postback.Scope.PROMO and postback.promo_id:
        return postback.promo.campaign
    if postback.scope == Postback.Scope.CAMPAIGN and postback.campaign_id:
        return postback.campaign
    return None


def postback_ensure_editable(postback: Postback) -> None:
    """Raise CampaignsError when the postback belongs to an archived campaign."""
    campaign = _target_campaign(postback)
    if campaign is not None:
        _campaign_ensure_editable(campaign)


def _new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _apply(
    postback: Postback,
    *,
    scope: str,
    action: str,
    url_template: str,
    method: str,
    campaign: Campaign | None,
    promo: Promo | None,
    is_active: bool,
) -> list[str]:
    """Validate and set the fields; returns the lint warnings."""
    affiliate_id = postback.affiliate_id
    if scope not in Postback.Scope.values:
        raise CampaignsError("Choose the scope: account, campaign or promo.", field="scope")
    if action not in PlayerEvent.Type.values:
        raise CampaignsError("Choose the action the postback reports.", field="action")
    if method not in Postback.Method.values:
        raise CampaignsError("Choose GET or POST.", field="method")
    if scope == Postback.Scope.CAMPAIGN:
        if campaign is None or campaign.affiliate_id != affiliate_id:
            raise CampaignsError("Choose one of your campaigns.", field="campaign")
        promo = None
        _campaign_ensure_editable(campaign)
    elif scope == Postback.Scope.PROMO:
        if promo is None or promo.affiliate_id != affiliate_id:
            raise CampaignsError("Choose one of your promos.", field="promo")
        campaign = promo.campaign  # kept beside the promo: log filters and the archive rule
        _campaign_ensure_editable(campaign)
    else:
        campaign = promo = None
    url_template = (url_template or "").strip()
    result = postback_templates.lint(url_template)
    if result.errors:
        raise CampaignsError(" ".join(result.errors), field="url_template")
    postback.scope, postback.action, postback.method = scope, action, method
    postback.campaign, postback.promo = campaign, promo
    postback.url_template = url_template
    if is_active and not postback.is_active:
        postback.consecutive_failures = 0
        postback.disabled_at = None
        postback.disabled_reason = ""
    postback.is_active = is_active
    postback.updated_at = timezone.now()
    return result.warnings


@transaction.atomic
def postback_create(
    *,
    affiliate,
    scope: str,
    action: str,
    url_template: str,
    method: str = Postback.Method.GET,
    campaign: Campaign | None = None,
    promo: Promo | None = None,
    is_active: bool = True,
    generate_secret: bool = False,
) -> PostbackSaved:
    postback = Postback(affiliate=affiliate, is_active=True)
    warnings = _apply(postback, scope=scope, action=action, url_template=url_template, method=method,
                      campaign=campaign, promo=promo, is_active=is_active)
    secret = _new_secret() if generate_secret else None
    if secret:
        postback.signing_secret_encrypted = crypto.encrypt(secret)
    postback.save()
    return PostbackSaved(postback, secret, warnings)


@transaction.atomic
def postback_update(
    *,
    postback: Postback,
    scope: str,
    action: str,
    url_template: str,
    method: str,
    campaign: Campaign | None = None,
    promo: Promo | None = None,
    is_active: bool = True,
    generate_secret: bool = False,
    remove_secret: bool = False,
) -> PostbackSaved:
    postback_ensure_editable(postback)  # the campaign it belongs to now
    warnings = _apply(postback, scope=scope, action=action, url_template=url_template, method=method,
                      campaign=campaign, promo=promo, is_active=is_active)
    secret = None
    if generate_secret:
        secret = _new_secret()
        postback.signing_secret_encrypted = crypto.encrypt(secret)
    elif remove_secret:
        postback.signing_secret_encrypted = ""
    postback.save(update_fields=[
        "scope", "action", "method", "campaign", "promo", "url_template", "is_active",
        "consecutive_failures", "disabled_at", "disabled_reason", "signing_secret_encrypted", "updated_at",
    ])
    return PostbackSaved(postback, secret, warnings)


def postback_delete(*, postback: Postback) -> None:
    postback_ensure_editable(postback)
    postback.delete()


def postback_set_active(*, postback: Postback, active: bool, reason: str = "") -> Postback:
    """Enable (failures forgotten) or disable a postback; for managers in the admin."""
    now = timezone.now()
    postback.is_active = active
    postback.updated_at = now
    if active:
        postback.consecutive_failures = 0
        postback.disabled_at, postback.disabled_reason = None, ""
    else:
        postback.disabled_at = now
        postback.disabled_reason = reason[:300]
    postback.save(update_fields=["is_active", "consecutive_failures", "disabled_at", "disabled_reason", "updated_at"])
    return postback


# --- the outbox -----------------------------------------------------------------------------


def _queue(delivery_ids: Iterable[int]) -> None:
    from campaigns.tasks import deliver_postback

    for delivery_id in delivery_ids:
        # robust: a broker hiccup must not turn a committed ingestion into a 500; the beat
        # task sends the row anyway.
        transaction.on_commit(partial(deliver_postback.delay, delivery_id), robust=True)


def postback_deliveries_enqueue(*, event: PlayerEvent) -> list[PostbackDelivery]:
    """Queue the deliveries of one event (see postback_deliveries_enqueue_many)."""
    return postback_deliveries_enqueue_many(events=[event])


# Deliveries queued one task each after commit; a larger batch is left to the beat due loop
# (deliver_due_postbacks), which sends in parallel and spares the broker thousands of messages.
FAST_PATH_MAX = 100


def _matches(postback: Postback, event: PlayerEvent) -> bool:
    if postback.scope == Postback.Scope.ACCOUNT:
        return True
    if postback.scope == Postback.Scope.CAMPAIGN:
        return postback.campaign_id is not None and postback.campaign_id == event.campaign_id
    return postback.promo_id is not None and postback.promo_id == event.promo_id


def postback_deliveries_enqueue_many(*, events: list[PlayerEvent]) -> list[PostbackDelivery]:
    """Write one pending delivery per (event, active postback of its affiliate whose action
    and scope match); call inside the events' transaction. Raising the same event twice
    creates nothing new (unique per postback and event). A fixed number of queries however
    many events: postbacks in one query, events with what rendering needs in one per chunk."""
    events = [event for event in events if event.affiliate_id]
    if not events:
        return []
    by_owner: dict[tuple[int, str], list[Postback]] = {}
    for chunk in chunks({event.affiliate_id for event in events}):
        for postback in Postback.objects.filter(
            affiliate_id__in=chunk, action__in={event.type for event in events}, is_active=True,
        ).only("pk", "affiliate_id", "action", "scope", "campaign_id", "promo_id", "url_template", "method"):
            by_owner.setdefault((postback.affiliate_id, postback.action), []).append(postback)
    wanted = [event.pk for event in events if (event.affiliate_id, event.type) in by_owner]
    if not wanted:
        return []
    now = timezone.now()
    rows, too_long = [], set()
    for chunk in chunks(wanted):
        for event in PlayerEvent.objects.filter(pk__in=chunk).select_related(
            "player__brand", "promo__brand", "promo__campaign", "campaign__brand", "visit",
        ):
            postbacks = [p for p in by_owner[(event.affiliate_id, event.type)] if _matches(p, event)]
            if not postbacks:
                continue
            variables = postback_templates.all_variables(
                postback_templates.event_variables(event), postback_templates.custom_params(event.visit)
            )
            body = None
            for postback in postbacks:
                url = postback_templates.render(postback.url_template, variables)
                if postback.method == Postback.Method.POST and body is None:
                    body = postback_templates.json_body(variables)
                row = PostbackDelivery(
                    postback=postback, affiliate_id=event.affiliate_id, event=event, url=url[:URL_MAX_LENGTH],
                    method=postback.method, body=body if postback.method == Postback.Method.POST else "",
                    webhook_id=f"msg_{event.public_id.hex}_{postback.pk}",
                    status=PostbackDelivery.Status.PENDING, next_attempt_at=now, created_at=now,
                )
                if len(url) > URL_MAX_LENGTH:
                    row.status, row.next_attempt_at, row.finished_at = PostbackDelivery.Status.FAILED, None, now
                    too_long.add((event.pk, postback.pk))
                rows.append(row)
    PostbackDelivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    deliveries = []
    for chunk in chunks(wanted):
        deliveries.extend(PostbackDelivery.objects.filter(event_id__in=chunk, created_at=now))
    for delivery in deliveries:
        if (delivery.event_id, delivery.postback_id) in too_long:
            postback_attempt_record(delivery, status=None, latency_ms=None, body="", ok=False,
                                    error=f"Not sent: the URL is longer than {URL_MAX_LENGTH} characters "
                                          "once the variables are filled in.")
    pending = [d.pk for d in deliveries if d.status == PostbackDelivery.Status.PENDING]
    if len(pending) <= FAST_PATH_MAX:
        _queue(pending)
    return deliveries


def postback_deliveries_resend(*, delivery_ids: Iterable[int]) -> tuple[int, int]:
    """Put failed deliveries back in the queue with a fresh retry schedule (attempts reset:
    a manager re-sends when the tracker is fixed). Returns (re-queued, skipped because their
    postback is disabled)."""
    now = timezone.now()
    failed = PostbackDelivery.objects.filter(pk__in=list(delivery_ids), status=PostbackDelivery.Status.FAILED,
                                             is_test=False)
    skipped = failed.filter(postback__is_active=False).count()
    with transaction.atomic():
        ids = list(failed.filter(postback__is_active=True).values_list("pk", flat=True))
        PostbackDelivery.objects.filter(pk__in=ids, status=PostbackDelivery.Status.FAILED).update(
            status=PostbackDelivery.Status.PENDING, next_attempt_at=now, attempts_count=0, finished_at=None,
        )
        _queue(ids)
    return len(ids), skipped


# --- "Send test" ----------------------------------------------------------------------------


def postback_test_send(*, postback: Postback) -> PostbackAttempt:
    """Send the postback once, now, with sample values (player 0, tag 0_0, 10.00 EUR ...);
    the attempt appears in the log like any other."""
    variables = postback_templates.sample_variables(
        promo=postback.promo, campaign=postback.campaign, action=postback.action)
    url = postback_templates.render(postback.url_template, variables)
    delivery = PostbackDelivery.objects.create(
        postback=postback, affiliate_id=postback.affiliate_id, is_test=True, url=url[:URL_MAX_LENGTH],
        method=postback.method,
        body=postback_templates.json_body(variables) if postback.method == Postback.Method.POST else "",
        webhook_id=f"msg_test_{uuid.uuid4().hex}", status=PostbackDelivery.Status.PENDING,
        next_attempt_at=timezone.now(),
    )
    attempt = postback_delivery_attempt(delivery_id=delivery.pk)
    if attempt is None:  # pragma: no cover - a fresh row is always due
        raise CampaignsError("The test could not be sent; try again.")
    return attempt
