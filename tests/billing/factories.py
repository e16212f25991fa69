"""Factories of the billing app. Shared: append new factories at the end, never change existing ones."""
import json
from decimal import Decimal

import factory

from backoffice.crypto import encrypt
from billing.models import CashoutLimit, CashoutSchedule, PaymentMethod
from tests.partners.factories import AffiliateFactory


class PaymentMethodFactory(factory.django.DjangoModelFactory):
    """A Skrill account by default (details stored encrypted, shown masked)."""

    class Meta:
        model = PaymentMethod

    affiliate = factory.SubFactory(AffiliateFactory)
    type = PaymentMethod.Type.SKRILL
    details_encrypted = factory.LazyFunction(lambda: encrypt(json.dumps({"email": "payouts@example.net"})))
    masked = factory.LazyFunction(lambda: {"E-mail": "p\u2022\u2022\u2022\u2022@example.net"})


class CashoutLimitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CashoutLimit
        django_get_or_create = ("method_type", "currency")

    method_type = PaymentMethod.Type.SKRILL
    currency = "EUR"
    min_amount = Decimal("10.00")
    max_amount = Decimal("5000.00")


class CashoutScheduleFactory(factory.django.DjangoModelFactory):
    """Daily, EUR, 50.00–1000.00, to a payment method of the same affiliate."""

    class Meta:
        model = CashoutSchedule

    affiliate = factory.SubFactory(AffiliateFactory)
    payment_method = factory.SubFactory(PaymentMethodFactory, affiliate=factory.SelfAttribute("..affiliate"))
    currency = "EUR"
    min_amount = Decimal("50.00")
    max_amount = Decimal("1000.00")
    plan = CashoutSchedule.Plan.DAILY
    weekdays = factory.LazyFunction(list)
    month_days = factory.LazyFunction(list)
    is_active = True


# Commission plan settings and bills (bills, plans pages and admin) ----------------------------
import calendar  # noqa: E402
import datetime as dt  # noqa: E402

from billing.models import (  # noqa: E402
    Bill,
    BillCorrection,
    BillLine,
    BillPlayerLine,
    RevShareTier,
    SubAffiliateLevel,
)
from tests.campaigns.factories import CampaignFactory, CommissionPlanFactory, PlayerFactory  # noqa: E402


def _month(n: int) -> tuple[dt.date, dt.date]:
    year, month = 2020 + n // 12, n % 12 + 1
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


class RevShareTierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RevShareTier

    plan = factory.SubFactory(CommissionPlanFactory)
    threshold = Decimal("0.00")
    percent = Decimal("25")


class SubAffiliateLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SubAffiliateLevel

    plan = factory.SubFactory(CommissionPlanFactory)
    level = 1
    percent = Decimal("5")


class BillFactory(factory.django.DjangoModelFactory):
    """A pending RevShare bill of 100.00 in the plan's currency for one calendar month (each
    new bill a later month, so one affiliate × plan may have many)."""

    class Meta:
        model = Bill

    affiliate = factory.SubFactory(AffiliateFactory)
    plan = factory.SubFactory(CommissionPlanFactory)
    brand = factory.SelfAttribute("plan.brand")
    currency = factory.SelfAttribute("plan.currency")
    period_start = factory.Sequence(lambda n: _month(n)[0])
    period_end = factory.LazyAttribute(
        lambda o: dt.date(o.period_start.year, o.period_start.month,
                          calendar.monthrange(o.period_start.year, o.period_start.month)[1])
    )
    status = Bill.Status.PENDING
    issued_amount = Decimal("100.00")
    revshare_amount = factory.SelfAttribute("issued_amount")


class BillLineFactory(factory.django.DjangoModelFactory):
    """A RevShare line: 25% of 400.00 NGR of a campaign of the bill's affiliate."""

    class Meta:
        model = BillLine

    bill = factory.SubFactory(BillFactory)
    kind = BillLine.Kind.REVSHARE
    campaign = factory.SubFactory(
        CampaignFactory, affiliate=factory.SelfAttribute("..bill.affiliate"),
        brand=factory.SelfAttribute("..bill.brand"), commission_plan=factory.SelfAttribute("..bill.plan"),
    )
    base = Decimal("400.00")
    rate = Decimal("25")
    players_count = 1
    amount = Decimal("100.00")


class BillPlayerLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BillPlayerLine

    bill = factory.SubFactory(BillFactory)
    player = factory.SubFactory(PlayerFactory)
    campaign = factory.SelfAttribute("player.campaign")
    ngr = Decimal("400.00")
    cpa_amount = Decimal("0.00")
    revshare_amount = Decimal("100.00")


class BillCorrectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BillCorrection

    bill = factory.SubFactory(BillFactory)
    amount = Decimal("10.00")
    comment = "Late chargeback"


# Billing run: activity windows, deposits, sub-affiliate connections ---------------------------
from campaigns.models import Deposit, PartnerConnection, PlayerActivity  # noqa: E402


class PlayerActivityFactory(factory.django.DjangoModelFactory):
    """One day of a player's activity in EUR starting 2024-05-01 00:00 UTC, all amounts 0:
    pass bets_sum=..., wins_sum=..., period_start=... as needed."""

    class Meta:
        model = PlayerActivity

    player = factory.SubFactory(PlayerFactory)
    currency = "EUR"
    period_start = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    period_end = factory.LazyAttribute(lambda o: o.period_start + dt.timedelta(days=1))


class DepositFactory(factory.django.DjangoModelFactory):
    """A 100.00 EUR deposit of a player on 2024-05-01 (is_first=True for the FTD)."""

    class Meta:
        model = Deposit

    player = factory.SubFactory(PlayerFactory)
    brand = factory.SelfAttribute("player.brand")
    deposit_id = factory.Sequence(lambda n: f"dep-{n}")
    amount = Decimal("100.00")
    currency = "EUR"
    processed_at = dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)
    is_first = False


class PartnerConnectionFactory(factory.django.DjangoModelFactory):
    """`child` is a level-1 sub-affiliate of `parent`."""

    class Meta:
        model = PartnerConnection

    parent = factory.SubFactory(AffiliateFactory)
    child = factory.SubFactory(AffiliateFactory)
    level = 1


def billing_plan(**kwargs):
    """A monthly (calendar month) EUR RevShare plan that exists from 1 May 2024, UTC: its first
    period is May 2024. Pass kind=..., revshare_percent=..., CPA criteria ... as needed."""
    kwargs.setdefault("period", "monthly")
    kwargs.setdefault("created_at", dt.datetime(2024, 5, 1, tzinfo=dt.UTC))
    return CommissionPlanFactory(**kwargs)


def player_of(campaign, **kwargs):
    """A player attributed to `campaign` (through a promo and a visit), signed up 1 May 2024."""
    from tests.campaigns.factories import PromoFactory, VisitFactory

    kwargs.setdefault("sign_up_at", dt.datetime(2024, 5, 1, tzinfo=dt.UTC))
    return PlayerFactory(visit=VisitFactory(promo=PromoFactory(campaign=campaign)), **kwargs)


# Wallet: balances, payment methods with real details, cashouts ------------------------------
import uuid  # noqa: E402

from billing.models import BalanceTransaction  # noqa: E402

# Valid details (IBAN with a correct checksum, real-format BIC) of a bank transfer method.
BANK_DETAILS = {
    "beneficiary_name": "Johanna Schmidt",
    "iban": "DE89 3704 0044 0532 0130 00",
    "swift": "COBADEFFXXX",
    "bank_name": "Commerzbank Koeln",
    "bank_address": "Unter Sachsenhausen 21, Koeln",
}


def fund(affiliate, amount="100.00", currency="EUR"):
    """Credit `affiliate`'s balance as an approved bill would (through the ledger)."""
    from billing.services.ledger import ledger_post

    return ledger_post(affiliate=affiliate, currency=currency, amount=Decimal(amount),
                       kind=BalanceTransaction.Kind.BILL, idempotency_key=f"test-fund:{uuid.uuid4()}",
                       reference="Bill (test)")


def bank_method(affiliate, actor=None, **details):
    """A bank transfer payment method added through the service (encrypted + masked)."""
    from billing.services.wallet import payment_method_add

    return payment_method_add(affiliate=affiliate, actor=actor, type=PaymentMethod.Type.BANK_TRANSFER,
                              details={**BANK_DETAILS, **details})


def current_code(user) -> str:
    """The current code of `user`'s confirmed authenticator (see tests.conftest.sign_in)."""
    import base64
    import time

    import pyotp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    return pyotp.TOTP(base64.b32encode(device.bin_key).decode()).at(time.time())
