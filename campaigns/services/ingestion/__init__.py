"""Writes of the operator ingestion API (/api/v1/): players and their attribution, activity
windows and deposits, player flags, synced visits; and the tag lookup the API answers.

Rules an operator can rely on (docs/ingestion-api.md repeats them):

- Players upsert by (brand, user_id). Attribution is first touch: a player attributed to a
  visit (or a promo, by bonus code) keeps it forever; an organic player (blank, unknown,
  malformed or another brand's tag) is kept, never dropped, and is attributed by the first
  valid tag or bonus code that arrives later. Becoming attributed raises `registration`
  (occurred_at = sign_up_at); an organic player raises no registration (its deposits raise
  events without an affiliate: no postbacks).
- Activity upserts by (player, currency, from, to): posting a window again replaces it.
  Deposits are unique per brand by deposit_id: a replayed deposit changes and raises
  nothing. A player's FTD is the earliest (processed_at, then deposit_id) of the deposits in
  the first batch that brings it any; once recorded it never moves, even if a later batch
  reports an earlier deposit. An FTD raises `first_deposit` and `deposit`, any other new
  deposit `deposit`.
- Each item is all or nothing: the batch is applied in bulk inside a savepoint, and should
  the database refuse it, item by item, each in its own savepoint, so one item's failure
  reports that item and nothing of it stays written.
"""
from campaigns.services.ingestion.activity import (
    ActivityOutcome,
    activity_ingest,
)
from campaigns.services.ingestion.common import (
    ActivityIn,
    BatchOutcome,
    DepositIn,
    ItemError,
    PlayerIn,
    SyncedLinkIn,
)
from campaigns.services.ingestion.lookups import (
    partners_by_tags,
    player_flags_set,
    synced_visits_store,
)
from campaigns.services.ingestion.players import players_ingest, visits_by_tag

__all__ = [
    "ActivityIn", "ActivityOutcome", "BatchOutcome", "DepositIn", "ItemError", "PlayerIn", "SyncedLinkIn",
    "activity_ingest", "partners_by_tags", "player_flags_set", "players_ingest",
    "synced_visits_store", "visits_by_tag",
]
