"""What reports does when raw data is saved through the ORM: mark the stats cells it touches
dirty, recomputed from the raw tables when the transaction commits (reports.rollups).

Only ORM saves and deletes send these signals; bulk writes (the activity ingestion's INSERT
... ON CONFLICT, visit_record's bulk_create) are found by the watermark pass
(reports.rollups.stats_refresh). The receivers never count anything themselves: a replay must
replace, not add. A row moved to another day or promo (sign_up_at, period_start, processed_at,
qualified_at, the player or the player's promo changed) marks its old cell as well as its new
one.

A commission plan whose terms change (percent, admin fee, deductions, kind, currency) has the
cells of its promos recomputed by a Celery task after commit: the income they accrued follows
the new terms (reports.income).

The old values come from a snapshot taken when the instance is built (post_init, no query:
an ingestion batch updating thousands of players pays nothing for it); only an instance built
with those fields deferred costs one query by primary key in pre_save.
"""
from django.db import transaction
from django.db.models.signals import post_delete, post_init, post_save, pre_save

from backoffice.timeutil import business_date
from billing.models import CommissionPlan, Qualification
from campaigns.models import Deposit, Player, PlayerActivity, Visit
from reports.rollups import stats_cells_mark

# model -> (the moment that decides the cell's day, the attribute that leads to the promo:
# the promo itself, or the player whose promo it is)
_SOURCES = {
    Visit: ("created_at", "promo_id"),
    Player: ("sign_up_at", "promo_id"),
    PlayerActivity: ("period_start", "player_id"),
    Deposit: ("processed_at", "player_id"),
    Qualification: ("qualified_at", "player_id"),
}
_UNKNOWN = object()
_SNAPSHOT = "_stats_snapshot"


def _player_promo(player_id, instance=None):
    if player_id is None:
        return None
    player = instance._state.fields_cache.get("player") if instance is not None else None
    if player is not None and player.pk == player_id:
        return player.promo_id
    return Player.objects.filter(pk=player_id).values_list("promo_id", flat=True).first()


def _cell_of(sender, moment, link, instance=None):
    """(day, promo id) of a row whose moment and link (promo id or player id) are these."""
    if moment is None or link is None:
        return None
    promo_id = link if _SOURCES[sender][1] == "promo_id" else _player_promo(link, instance)
    return None if promo_id is None else (business_date(moment), promo_id)


def _values(sender, instance) -> tuple:
    moment_field, link = _SOURCES[sender]
    return (instance.__dict__.get(moment_field, _UNKNOWN), instance.__dict__.get(link, _UNKNOWN))


def stats_snapshot(sender, instance, **kwargs):
    # __dict__ only: reading a deferred field here would cost a query per instance.
    instance.__dict__[_SNAPSHOT] = _values(sender, instance) if instance.pk is not None else None


def stats_before_save(sender, instance, raw=False, using=None, **kwargs):
    if raw or instance.pk is None:
        return
    old = instance.__dict__.get(_SNAPSHOT)
    if old is None or _UNKNOWN in old:  # built without the fields (deferred) or with a pk set by hand
        moment_field, link = _SOURCES[sender]
        row = sender._default_manager.using(using).filter(pk=instance.pk).values_list(moment_field, link).first()
        instance.__dict__[_SNAPSHOT] = row  # None: the row is new


def stats_after_save(sender, instance, raw=False, using=None, **kwargs):
    if raw:
        return
    new = _values(sender, instance)
    old = instance.__dict__.get(_SNAPSHOT)
    instance.__dict__[_SNAPSHOT] = new  # a second save compares with this one
    cells = {_cell_of(sender, *new, instance)}
    if old is not None and old != new:
        old_cell = _cell_of(sender, *old)
        cells.add(old_cell)
        if sender is Player and old[1] != new[1]:
            # Attributed (or moved): the player's activity, deposits and qualifications change promo.
            for promo_id in {old[1], new[1]} - {None}:
                cells |= _player_cells(instance.pk, promo_id)
    stats_cells_mark(cells - {None}, using=using or "default")


def stats_after_delete(sender, instance, using=None, **kwargs):
    cell = _cell_of(sender, *_values(sender, instance), instance)
    if cell is not None:
        stats_cells_mark({cell}, using=using or "default")


def _player_cells(player_id: int, promo_id: int) -> set:
    """Every cell of a player's activity, deposits and qualifications under `promo_id`."""
    cells = set()
    for model in (PlayerActivity, Deposit, Qualification):
        for moment in model.objects.filter(player_id=player_id).values_list(_SOURCES[model][0], flat=True):
            cells.add((business_date(moment), promo_id))
    return cells


# CommissionPlan fields the accrued income depends on (reports.income).
PLAN_TERMS = ("kind", "currency", "revshare_percent", "admin_fee_percent", "deduct_bonuses", "deduct_chargebacks",
              "deduct_payment_system_fees", "deduct_game_provider_fees", "deduct_jackpot_fees",
              "deduct_additional_deductions", "deduct_taxes")
_PLAN_SNAPSHOT = "_stats_plan_terms"


def _plan_terms(instance) -> tuple:
    return tuple(instance.__dict__.get(name, _UNKNOWN) for name in PLAN_TERMS)


def plan_snapshot(sender, instance, **kwargs):
    instance.__dict__[_PLAN_SNAPSHOT] = _plan_terms(instance) if instance.pk is not None else None


def plan_after_save(sender, instance, created=False, raw=False, using=None, **kwargs):
    if raw:
        return
    old, new = instance.__dict__.get(_PLAN_SNAPSHOT), _plan_terms(instance)
    instance.__dict__[_PLAN_SNAPSHOT] = new
    if created or old == new:
        return
    from reports.tasks_stats import recompute_plan_stats

    plan_id = instance.pk
    transaction.on_commit(lambda: recompute_plan_stats.delay(plan_id), using=using or "default")


def connect() -> None:
    post_init.connect(plan_snapshot, sender=CommissionPlan, dispatch_uid="reports.plan_snapshot")
    post_save.connect(plan_after_save, sender=CommissionPlan, dispatch_uid="reports.plan_after_save")
    for model in _SOURCES:
        label = model._meta.label_lower
        post_init.connect(stats_snapshot, sender=model, dispatch_uid=f"reports.stats_snapshot.{label}")
        pre_save.connect(stats_before_save, sender=model, dispatch_uid=f"reports.stats_before_save.{label}")
        post_save.connect(stats_after_save, sender=model, dispatch_uid=f"reports.stats_after_save.{label}")
        post_delete.connect(stats_after_delete, sender=model, dispatch_uid=f"reports.stats_after_delete.{label}")
