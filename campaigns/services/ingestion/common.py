"""What the ingestion services take and give (campaigns.api.validation builds the inputs),
and the bulk-write helpers they share."""
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from campaigns.services.bulk import BATCH, IN_CHUNK, OnConflict, chunks, insert_rows  # noqa: F401

NOT_STORED = "could not be stored (the database refused it); nothing of this item was written: post it again"


@dataclass
class ItemError:
    """One refused item (or one refused field of it); the other items are applied."""

    index: int
    field: str  # inside the item: "user_id", "deposits[0].amount_cents"; "" = the item itself
    message: str

    def as_dict(self, collection: str) -> dict:
        path = f"{collection}[{self.index}]" + (f".{self.field}" if self.field else "")
        return {"index": self.index, "field": self.field or None, "path": path, "message": self.message}


@dataclass
class PlayerIn:
    index: int
    user_id: str
    tag: str = ""
    bonus_code: str = ""
    sign_up_at: dt.datetime | None = None
    country: str | None = None
    language: str | None = None
    duplicate: bool | None = None


@dataclass
class DepositIn:
    position: int  # in the item's deposits list, for error paths
    deposit_id: str
    amount: Decimal
    processed_at: dt.datetime


@dataclass
class ActivityIn:
    index: int
    user_id: str
    currency: str
    values: dict = field(default_factory=dict)  # PlayerActivity field -> Decimal | int
    extra: dict = field(default_factory=dict)  # wire name -> Decimal string | int
    deposits: list[DepositIn] = field(default_factory=list)


@dataclass
class SyncedLinkIn:
    index: int
    code: str
    affiliate_email: str
    visits_count: int


@dataclass
class BatchOutcome:
    results: list[dict] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)
