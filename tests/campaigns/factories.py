"""Factories of the campaigns app (and the billing CommissionPlan skeleton campaigns need).

Shared by every campaigns test module: add new factories at the end, never change existing ones.
"""
import factory
from django.utils import timezone

from billing.models import CommissionPlan
from campaigns.models import (
    Brand,
    Campaign,
    Landing,
    Media,
    OperatorCredential,
    Player,
    Promo,
    TrafficSource,
    Visit,
)
from tests.partners.factories import AffiliateFactory

# A valid 1x1 transparent GIF: enough for a FileField and for reading dimensions from a header.
GIF_1X1 = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Brand {n}")
    base_currency = "EUR"
    site_url = factory.LazyAttribute(lambda o: f"https://{o.name.lower().replace(' ', '-')}.example")


class TrafficSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrafficSource
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Source {n}")


class LandingFactory(factory.django.DjangoModelFactory):
    """A players' landing of a brand; audience=Landing.Audience.SUB_AFFILIATES for sub-affiliates."""

    class Meta:
        model = Landing

    brand = factory.SubFactory(BrandFactory)
    name = factory.Sequence(lambda n: f"Landing {n}")
    url = factory.LazyAttribute(lambda o: f"{o.brand.site_url}/welcome-{o.name.split()[-1]}")
    audience = Landing.Audience.PLAYERS
    language = "en"


class MediaFactory(factory.django.DjangoModelFactory):
    """A public 300x250 PNG-titled banner (the file is a tiny GIF; only the fields matter)."""

    class Meta:
        model = Media

    brand = factory.SubFactory(BrandFactory)
    title = factory.Sequence(lambda n: f"Banner {n}")
    language = "en"
    file_format = Media.Format.PNG
    width = 300
    height = 250
    orientation = Media.Orientation.HORIZONTAL
    tags = "slots, welcome bonus"
    privacy = Media.Privacy.PUBLIC
    file = factory.django.FileField(filename="banner.gif", data=GIF_1X1)


class CommissionPlanFactory(factory.django.DjangoModelFactory):
    """A default (available to all) plan of a brand; is_default=False + affiliates for individual."""

    class Meta:
        model = CommissionPlan
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"RevShare {n}")
    brand = factory.SubFactory(BrandFactory)
    currency = factory.LazyAttribute(lambda o: o.brand.base_currency)
    is_default = True
    allows_sub_affiliates = False

    @factory.post_generation
    def affiliates(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.affiliates.set(extracted)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    affiliate = factory.SubFactory(AffiliateFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    brand = factory.SubFactory(BrandFactory)
    commission_plan = factory.SubFactory(CommissionPlanFactory, brand=factory.SelfAttribute("..brand"))


class PromoFactory(factory.django.DjangoModelFactory):
    """A promo (tracking link) of a campaign, to a players' landing of its brand."""

    class Meta:
        model = Promo

    campaign = factory.SubFactory(CampaignFactory)
    affiliate = factory.SelfAttribute("campaign.affiliate")
    brand = factory.SelfAttribute("campaign.brand")
    title = factory.Sequence(lambda n: f"Promo {n}")
    landing = factory.SubFactory(LandingFactory, brand=factory.SelfAttribute("..brand"))


class VisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visit

    promo = factory.SubFactory(PromoFactory)
    affiliate = factory.SelfAttribute("promo.affiliate")
    ip = "203.0.113.7"
    user_agent = "Mozilla/5.0 (test)"


class PlayerFactory(factory.django.DjangoModelFactory):
    """A player attributed to a visit (pass visit=None, promo=None ... for an organic one)."""

    class Meta:
        model = Player

    visit = factory.SubFactory(VisitFactory)
    promo = factory.LazyAttribute(lambda o: o.visit.promo if o.visit else None)
    campaign = factory.LazyAttribute(lambda o: o.promo.campaign if o.promo else None)
    affiliate = factory.LazyAttribute(lambda o: o.visit.affiliate if o.visit else None)
    brand = factory.LazyAttribute(lambda o: o.promo.brand if o.promo else BrandFactory())
    tag = factory.LazyAttribute(lambda o: o.visit.tag if o.visit else "")
    user_id = factory.Sequence(lambda n: f"player-{n}")
    country = "DE"
    sign_up_at = factory.LazyFunction(timezone.now)


class OperatorCredentialFactory(factory.django.DjangoModelFactory):
    """An active ingestion API key of a brand; the secret in clear is `.raw_secret`."""

    class Meta:
        model = OperatorCredential
        skip_postgeneration_save = True

    brand = factory.SubFactory(BrandFactory)

    @factory.post_generation
    def raw_secret(obj, create, extracted, **kwargs):
        obj.raw_secret = extracted or f"operator-secret-{obj.key}"
        obj.set_secret(obj.raw_secret)
        if create:
            obj.save(update_fields=["secret_encrypted"])
