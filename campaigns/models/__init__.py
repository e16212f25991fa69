"""TRAFFIC models, one module per area; everything is importable from campaigns.models."""
from campaigns.models.players import (
    Deposit,
    Player,
    PlayerActivity,
    PlayerEvent,
    SyncedVisits,
    Visit,
)
from campaigns.models.postbacks import Postback, PostbackAttempt, PostbackDelivery
from campaigns.models.program import (
    Brand,
    BrandContact,
    Landing,
    Media,
    OperatorCredential,
    TrafficSource,
    _media_path,
    _new_operator_key,
)
from campaigns.models.promos import Campaign, PartnerConnection, Promo, _new_tracking_code

__all__ = [
    "Brand", "BrandContact", "Campaign", "Deposit", "Landing", "Media", "OperatorCredential",
    "PartnerConnection", "Player", "PlayerActivity", "PlayerEvent", "Postback", "PostbackAttempt",
    "PostbackDelivery", "Promo", "SyncedVisits", "TrafficSource", "Visit",
    "_media_path", "_new_operator_key", "_new_tracking_code",
]
