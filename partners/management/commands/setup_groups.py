"""`manage.py setup_groups`: the staff permission groups, created or brought back to exactly
the permissions listed here (idempotent: run it after every deploy).

Later features add their models' permissions to these lists (billing: bills, cashouts ...).
Permissions are named "app_label.codename"; the apps are named as strings only, so this module
imports none of them.
"""
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

AFFILIATE_MANAGER = "Affiliate manager"
FINANCE = "Finance"


def _perms(app_label: str, model: str, *actions: str) -> list[str]:
    return [f"{app_label}.{action}_{model}" for action in actions]


AFFILIATE_MANAGER_PERMISSIONS = [
    *_perms("partners", "affiliate", "view", "change"),
    *_perms("partners", "user", "view", "change"),  # never delete: block instead
    *_perms("partners", "document", "view", "change"),
    # Managers write the program news and terms, so they also add them.
    *_perms("partners", "newsarticle", "view", "change", "add"),
    *_perms("partners", "termsversion", "view", "change", "add"),
    *_perms("campaigns", "brand", "view", "change"),
    *_perms("campaigns", "brandcontact", "view", "change", "add"),
    *_perms("partners", "event", "view"),
    *_perms("partners", "usersession", "view"),
    # Program setup and the affiliates' campaigns
    *_perms("campaigns", "landing", "view", "change", "add"),
    *_perms("campaigns", "media", "view", "change", "add"),
    *_perms("campaigns", "trafficsource", "view", "change", "add"),
    *_perms("billing", "commissionplan", "view", "change", "add"),
    *_perms("billing", "revsharetier", "view", "change", "add", "delete"),
    *_perms("billing", "subaffiliatelevel", "view", "change", "add", "delete"),
    *_perms("billing", "bill", "view"),
    *_perms("campaigns", "campaign", "view", "change"),
    *_perms("campaigns", "promo", "view", "change"),
    *_perms("campaigns", "partnerconnection", "view"),
    # Traffic and players are the platform's record: read-only
    *_perms("campaigns", "visit", "view"),
    *_perms("campaigns", "player", "view"),
    *_perms("campaigns", "playeractivity", "view"),
    *_perms("campaigns", "deposit", "view"),
    *_perms("campaigns", "playerevent", "view"),
    # Postbacks: disable/enable, and re-send failed deliveries
    *_perms("campaigns", "postback", "view", "change"),
    *_perms("campaigns", "postbackdelivery", "view", "change"),
    *_perms("campaigns", "postbackattempt", "view"),
    # Reports: the rollups are computed, requested reports are the affiliates' own
    *_perms("reports", "dailystat", "view"),
    *_perms("reports", "requestedreport", "view"),
    *_perms("reports", "exchangerate", "view"),
    # Integrations: managers run the network connections (Save & Test, Sync now need "change")
    *_perms("integrations", "connection", "view", "change", "add"),
    *_perms("integrations", "syncrun", "view"),
    *_perms("integrations", "syncitemerror", "view"),
    *_perms("affilae", "affiliateprofile", "view"),
    *_perms("affilae", "partnershipsnapshot", "view"),
    *_perms("affilae", "commissionday", "view"),
    *_perms("affelios", "affelioscustomer", "view"),
    *_perms("affelios", "affeliostransaction", "view"),
    *_perms("affili", "affilireferral", "view"),
    *_perms("affili", "affiliconversion", "view"),
]

FINANCE_PERMISSIONS = [
    *_perms("partners", "affiliate", "view"),
    *_perms("partners", "user", "view"),
    *_perms("partners", "event", "view"),
    *_perms("billing", "commissionplan", "view"),
    # Bills: approve, hold, cancel, correct (the admin's actions check "change")
    *_perms("billing", "bill", "view", "change"),
    *_perms("billing", "billcorrection", "view", "add"),
    *_perms("billing", "billingrun", "view"),
    *_perms("billing", "qualification", "view"),
    # Money: the ledger is read-only; corrections are a service behind "add"
    *_perms("billing", "balancetransaction", "view", "add"),
    *_perms("billing", "balance", "view"),
    *_perms("billing", "paymentmethod", "view"),
    *_perms("billing", "cashoutlimit", "view", "change", "add"),
    *_perms("billing", "cashout", "view", "change"),
    *_perms("billing", "cashoutschedule", "view"),
    *_perms("campaigns", "campaign", "view"),
    *_perms("campaigns", "player", "view"),
    *_perms("campaigns", "deposit", "view"),
    # Exchange rates convert reports and the dashboard; finance keeps them (or imports a CSV)
    *_perms("reports", "exchangerate", "view", "change", "add"),
    *_perms("reports", "dailystat", "view"),
    # What the networks computed (Affelios commissions, Affili wages) is read, never edited here
    *_perms("integrations", "syncrun", "view"),
    *_perms("affilae", "commissionday", "view"),
    *_perms("affelios", "affelioscustomer", "view"),
    *_perms("affelios", "affeliostransaction", "view"),
    *_perms("affili", "affiliconversion", "view"),
]

GROUP_PERMISSIONS: dict[str, list[str]] = {
    AFFILIATE_MANAGER: AFFILIATE_MANAGER_PERMISSIONS,
    FINANCE: FINANCE_PERMISSIONS,
}


def _resolve(names: list[str]) -> list[Permission]:
    wanted = {tuple(name.split(".", 1)) for name in names}
    found = {
        (p.content_type.app_label, p.codename): p
        for p in Permission.objects.select_related("content_type").filter(
            codename__in=[codename for _, codename in wanted]
        )
        if (p.content_type.app_label, p.codename) in wanted
    }
    missing = sorted(f"{app}.{code}" for app, code in wanted - found.keys())
    if missing:
        raise CommandError(
            "Permissions not found (run `manage.py migrate` first): " + ", ".join(missing)
        )
    return list(found.values())


@transaction.atomic
def groups_setup() -> list[tuple[str, bool]]:
    """Create or update each group to exactly its listed permissions.

    Returns (group name, changed) pairs; changed is False when the group was already right.
    """
    result = []
    for name, permission_names in GROUP_PERMISSIONS.items():
        permissions = _resolve(permission_names)
        group, created = Group.objects.get_or_create(name=name)
        current = set(group.permissions.values_list("pk", flat=True))
        wanted = {p.pk for p in permissions}
        if current != wanted:
            group.permissions.set(permissions)
        result.append((name, created or current != wanted))
    return result


class Command(BaseCommand):
    help = "Create or update the staff permission groups (Affiliate manager, Finance)."

    def handle(self, *args, **options):
        for name, changed in groups_setup():
            state = "updated" if changed else "up to date"
            self.stdout.write(f"{name}: {state} ({len(GROUP_PERMISSIONS[name])} permissions)")
