"""Factories of the reports app. Shared by every reports test module: add new factories at the
end, never change existing ones."""
import datetime as dt

import factory

from reports.models import DailyStat, ExchangeRate
from tests.campaigns.factories import PromoFactory


class DailyStatFactory(factory.django.DjangoModelFactory):
    """One day × promo × currency of rollups; dimensions follow the promo (pass promo=...)."""

    class Meta:
        model = DailyStat

    date = dt.date(2026, 3, 2)
    promo = factory.SubFactory(PromoFactory)
    currency = "EUR"
    affiliate = factory.SelfAttribute("promo.affiliate")
    brand = factory.SelfAttribute("promo.brand")
    campaign = factory.SelfAttribute("promo.campaign")
    plan = factory.SelfAttribute("promo.campaign.commission_plan")


class ExchangeRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExchangeRate

    date = dt.date(2026, 3, 31)
    base = "USD"
    quote = "EUR"
    rate = "0.5"
