import pytest
from django.core import mail

from backoffice.mail import send_templated_mail
from tests.partners.factories import AffiliateFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_plain_text_mail_keeps_names_as_typed(django_capture_on_commit_callbacks):
    user = UserFactory(first_name="Seán O'Brien <Ltd>", affiliate=AffiliateFactory(name="O'Brien & Co"))

    with django_capture_on_commit_callbacks(execute=True):
        send_templated_mail(
            to=[user.email], subject="Approved", template="emails/partners/account_approved.txt",
            context={"user": user, "affiliate": user.affiliate, "was_pending": True, "login_url": "http://x/"},
        )

    body = mail.outbox[0].body
    assert "Seán O'Brien <Ltd>" in body
    assert '"O\'Brien & Co"' in body
    assert "&#x27;" not in body and "&amp;" not in body


def test_mail_is_not_sent_when_the_transaction_rolls_back(django_capture_on_commit_callbacks):
    user = UserFactory()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send_templated_mail(to=[user.email], subject="x", template="emails/partners/unlock_instructions.txt",
                            context={"user": user, "unlock_url": "u", "valid_hours": 1})

    assert len(callbacks) == 1
    assert mail.outbox == []
