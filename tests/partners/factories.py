import factory
from django.utils import timezone

from partners.models import Affiliate, Document, Event, NewsArticle, TermsVersion, User

PASSWORD = "Corr3ct-horse-battery"


class AffiliateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Affiliate

    name = factory.Faker("name")
    company_name = factory.Faker("company")
    status = Affiliate.Status.ACTIVE
    approved_at = factory.LazyFunction(timezone.now)
    country = "MT"


class UserFactory(factory.django.DjangoModelFactory):
    """An affiliate owner by default; password is PASSWORD."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"partner{n}@example.net")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    affiliate = factory.SubFactory(AffiliateFactory)
    role = User.Role.OWNER

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])


class MemberFactory(UserFactory):
    role = User.Role.MEMBER


class StaffFactory(UserFactory):
    email = factory.Sequence(lambda n: f"manager{n}@program.example")
    affiliate = None
    role = ""
    is_staff = True


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    affiliate = factory.SubFactory(AffiliateFactory)
    type = Event.Type.SIGNED_IN
    actor_label = "system"


class DocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Document

    affiliate = factory.SubFactory(AffiliateFactory)
    kind = Document.Kind.PASSPORT
    title = "Passport scan"
    file = factory.django.FileField(filename="passport.pdf", data=b"%PDF-1.4\n%test\n")
    original_name = "passport.pdf"
    content_type = "application/pdf"
    size = 15


class NewsArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NewsArticle

    title = factory.Faker("sentence", nb_words=5)
    summary = factory.Faker("sentence")
    body = factory.Faker("paragraph")
    is_published = True


class TermsVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TermsVersion

    body = "1. Definitions\nThe Program means ..."
    is_published = True
