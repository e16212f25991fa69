"""Postbacks (built by the postbacks work): enqueue deliveries for an event."""
from campaigns.models import PlayerEvent, PostbackDelivery


def postback_deliveries_enqueue(*, event: PlayerEvent) -> list[PostbackDelivery]:
    return []
