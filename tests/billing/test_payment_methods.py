"""Payment methods: per-type fields and validation, masking, one per type, events, the wallet
page, deleting, the 2FA guard and scoping."""
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from backoffice.crypto import decrypt
from billing.errors import BillingError
from billing.models import PaymentMethod
from billing.payment_details import (
    PaymentDetailsInvalid,
    base58check_encode,
    details_clean,
    details_mask,
    mask_email,
    mask_iban,
)
from billing.services.cashouts import cashout_cancel, cashout_request
from billing.services.wallet import payment_method_add, payment_method_delete
from partners.models import Event
from tests.billing.factories import BANK_DETAILS, CashoutScheduleFactory, bank_method, fund
from tests.conftest import sign_in
from tests.partners.factories import UserFactory

T = PaymentMethod.Type
CLEAR_BANK_VALUES = ["Johanna Schmidt", "DE89370400440532013000", "DE89 3704 0044 0532 0130 00", "COBADEFFXXX",
                     "Commerzbank", "Sachsenhausen", "0532 0130", "05320130"]


# --- IBAN, BIC and the other formats (pure) --------------------------------------------------

@pytest.mark.parametrize("iban", [
    "DE89370400440532013000",
    "de89 3704 0044 0532 0130 00",       # spaces and lower case are normalised
    "GB82WEST12345698765432",
    "GB29 NWBK 6016 1331 9268 19",
    "FR1420041010050500013M02606",
    "NL91ABNA0417164300",
    "MT84MALT011000012345MTLCAST001S",
    "BE68539007547034",
    "CH9300762011623852957",
    "NO9386011117947",
])
def test_valid_ibans_are_accepted_and_normalised(iban):
    cleaned = details_clean(T.BANK_TRANSFER, {**BANK_DETAILS, "iban": iban})

    assert cleaned["iban"] == "".join(iban.split()).upper()


@pytest.mark.parametrize(("iban", "message"), [
    ("DE88370400440532013000", "check digits do not match"),     # one check digit off
    ("DE89370400440532013001", "check digits do not match"),     # one account digit off
    ("GB82WEST12345698765433", "check digits do not match"),
    ("DE8937040044053201300", "An IBAN from DE has 22 characters; this one has 21"),
    ("GB82WEST123456987654321", "An IBAN from GB has 22 characters; this one has 23"),
    ("12345678901234567890", "Enter an IBAN"),
    ("DEXX370400440532013000", "Enter an IBAN"),
    ("DE89-3704-0044-0532-0130-0!", "Enter an IBAN"),
])
def test_invalid_ibans_are_refused_with_the_reason(iban, message):
    with pytest.raises(PaymentDetailsInvalid) as exc:
        details_clean(T.BANK_TRANSFER, {**BANK_DETAILS, "iban": iban})

    assert message in exc.value.errors["iban"]


@pytest.mark.parametrize(("bic", "ok"), [
    ("DEUTDEFF", True),
    ("deutdeff500", True),
    ("COBADEFFXXX", True),
    ("NWBK GB 2L", True),          # spaces removed
    ("DEUTDEF", False),            # 7 characters
    ("DEUTDEFF5", False),          # 9 characters
    ("DEUTDEFF50", False),         # 10 characters
    ("1EUTDEFF", False),           # bank code must be letters
    ("DEUT1EFF", False),           # country must be letters
    ("DEUTDEFF50!", False),
])
def test_swift_bic_format(bic, ok):
    data = {**BANK_DETAILS, "swift": bic}
    if ok:
        assert details_clean(T.BANK_TRANSFER, data)["swift"] == "".join(bic.split()).upper()
    else:
        with pytest.raises(PaymentDetailsInvalid) as exc:
            details_clean(T.BANK_TRANSFER, data)
        assert "SWIFT/BIC" in exc.value.errors["swift"]


def test_a_bank_transfer_needs_every_field_and_reports_them_all_at_once():
    with pytest.raises(PaymentDetailsInvalid) as exc:
        details_clean(T.BANK_TRANSFER, {"iban": "DE88370400440532013000"})

    assert set(exc.value.errors) == {"beneficiary_name", "iban", "swift", "bank_name", "bank_address"}


@pytest.mark.parametrize("method_type", [T.NETELLER, T.SKRILL, T.CAPITALIST, T.PLAYER_ACCOUNT, T.WEBMONEY])
def test_e_wallets_need_an_e_mail_or_an_account_id(method_type):
    with pytest.raises(PaymentDetailsInvalid) as exc:
        details_clean(method_type, {"email": "", "account_id": " "})
    assert "at least one" in exc.value.errors["email"]

    assert details_clean(method_type, {"email": "John.Doe@Example.com"}) == {"email": "john.doe@example.com"}

    with pytest.raises(PaymentDetailsInvalid) as exc:
        details_clean(method_type, {"email": "not-an-email"})
    assert exc.value.errors["email"] == "Enter a valid e-mail address."


@pytest.mark.parametrize(("method_type", "account", "ok"), [
    (T.SKRILL, "123456789", True),
    (T.NETELLER, "451823761234", True),
    (T.NETELLER, "ab", False),
    (T.SKRILL, "has space", False),
    (T.WEBMONEY, "Z123456789012", True),
    (T.WEBMONEY, "e123456789012", True),     # upper-cased
    (T.WEBMONEY, "R123456789012", True),
    (T.WEBMONEY, "123456789012", True),      # a WMID
    (T.WEBMONEY, "Z12345678901", False),     # 11 digits
    (T.WEBMONEY, "ZZ23456789012", False),
    (T.WEBMONEY, "john", False),
])
def test_account_id_formats(method_type, account, ok):
    if ok:
        assert details_clean(method_type, {"account_id": account})["account_id"] in (account, account.upper())
    else:
        with pytest.raises(PaymentDetailsInvalid) as exc:
            details_clean(method_type, {"account_id": account})
        assert "account_id" in exc.value.errors


TRON = base58check_encode(bytes([0x41]) + bytes(range(20)))
LTC_LEGACY = base58check_encode(bytes([0x30]) + bytes(range(20)))


@pytest.mark.parametrize(("coin", "address", "ok"), [
    ("BTC", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", True),             # BIP 173 vector
    ("BTC", "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", True),
    ("BTC", "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297", True),  # taproot
    ("BTC", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", True),
    ("BTC", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", True),
    ("BTC", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", False),                    # checksum
    ("BTC", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", False),            # checksum
    ("BTC", "0x52908400098527886E0F7030069857D2E4169EE7", False),
    ("ETH", "0x52908400098527886E0F7030069857D2E4169EE7", True),
    ("ETH", "0x52908400098527886e0f7030069857d2e4169ee", False),             # 39 hex digits
    ("ETH", "52908400098527886E0F7030069857D2E4169EE7", False),
    ("USDT_ERC20", "0xde709f2102306220921060314715629080e2fb77", True),
    ("USDT_TRC20", TRON, True),
    ("USDT_TRC20", TRON[:-1] + ("A" if TRON[-1] != "A" else "B"), False),
    ("LTC", LTC_LEGACY, True),
    ("LTC", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", False),
])
def test_coinspaid_addresses_are_checked_per_coin(coin, address, ok):
    data = {"coin": coin, "address": address}
    if ok:
        assert details_clean(T.COINSPAID, data) == data
    else:
        with pytest.raises(PaymentDetailsInvalid) as exc:
            details_clean(T.COINSPAID, data)
        assert "not a valid" in exc.value.errors["address"]


def test_coinspaid_needs_a_listed_coin():
    with pytest.raises(PaymentDetailsInvalid) as exc:
        details_clean(T.COINSPAID, {"coin": "DOGE", "address": "D" * 34})
    assert exc.value.errors["coin"] == "Choose one of the listed options."


def test_other_takes_free_text_details():
    text = "PayPal: me@example.org\nReference: affiliate 42"
    assert details_clean(T.OTHER, {"payment_details": text}) == {"payment_details": text}
    with pytest.raises(PaymentDetailsInvalid):
        details_clean(T.OTHER, {"payment_details": "  "})


def test_masks():
    assert mask_iban("DE89370400440532013000") == "DE89 •••• •••• •••• 3000"
    assert mask_email("john@example.com") == "j•••@example.com"
    masked = details_mask(T.BANK_TRANSFER, details_clean(T.BANK_TRANSFER, BANK_DETAILS))
    assert masked["IBAN"] == "DE89 •••• •••• •••• 3000"
    assert masked["SWIFT/BIC"] == "COBA•••••••"
    dumped = json.dumps(masked, ensure_ascii=False)
    for clear in CLEAR_BANK_VALUES:
        assert clear not in dumped
    assert details_mask(T.SKRILL, {"account_id": "451823761234"}) == {"Account ID": "•••• 1234"}


# --- The service --------------------------------------------------------------------------


@pytest.mark.django_db
def test_adding_stores_details_encrypted_and_logs_only_masked_values():
    owner = UserFactory()

    method = bank_method(owner.affiliate, actor=owner)

    assert "DE89370400440532013000" not in method.details_encrypted
    assert json.loads(decrypt(method.details_encrypted))["iban"] == "DE89370400440532013000"
    assert method.masked["IBAN"] == "DE89 •••• •••• •••• 3000"
    event = Event.objects.get(affiliate=owner.affiliate, type=Event.Type.PAYMENT_METHOD_ADDED)
    assert event.actor == owner
    assert event.data["type"] == "bank_transfer"
    assert event.data["details"]["IBAN"] == "DE89 •••• •••• •••• 3000"
    dumped = json.dumps(event.data, ensure_ascii=False)
    for clear in CLEAR_BANK_VALUES:
        assert clear not in dumped


@pytest.mark.django_db
def test_one_method_per_type_per_affiliate():
    owner = UserFactory()
    payment_method_add(affiliate=owner.affiliate, actor=owner, type=T.SKRILL, details={"email": "a@example.com"})

    with pytest.raises(BillingError, match="You already have a Skrill payment method") as exc:
        payment_method_add(affiliate=owner.affiliate, actor=owner, type=T.SKRILL, details={"email": "b@example.com"})

    assert exc.value.field == "type"
    # another affiliate, or another type, is fine
    payment_method_add(affiliate=owner.affiliate, actor=owner, type=T.NETELLER, details={"account_id": "451823761234"})
    other = UserFactory()
    payment_method_add(affiliate=other.affiliate, actor=other, type=T.SKRILL, details={"email": "c@example.com"})
    assert PaymentMethod.objects.count() == 3


@pytest.mark.django_db
def test_deleting_logs_the_masked_details_and_keeps_old_cashouts_snapshot():
    owner = UserFactory()
    method = bank_method(owner.affiliate, actor=owner)
    fund(owner.affiliate, "100.00")
    cashout = cashout_request(affiliate=owner.affiliate, actor=owner, currency="EUR", amount=Decimal("10.00"),
                              payment_method=method, idempotency_key="k1")
    cashout_cancel(cashout=cashout, actor=owner)

    payment_method_delete(payment_method=method, actor=owner)

    assert not PaymentMethod.objects.exists()
    event = Event.objects.get(type=Event.Type.PAYMENT_METHOD_DELETED)
    assert event.data["details"]["IBAN"] == "DE89 •••• •••• •••• 3000"
    cashout.refresh_from_db()
    assert cashout.payment_method is None
    assert cashout.payment_method_type == T.BANK_TRANSFER
    assert cashout.payment_details_masked["IBAN"] == "DE89 •••• •••• •••• 3000"


@pytest.mark.django_db
def test_a_method_with_a_pending_cashout_cannot_be_deleted():
    owner = UserFactory()
    method = bank_method(owner.affiliate, actor=owner)
    fund(owner.affiliate, "100.00")
    cashout = cashout_request(affiliate=owner.affiliate, actor=owner, currency="EUR", amount=Decimal("10.00"),
                              payment_method=method, idempotency_key="k1")

    with pytest.raises(BillingError, match=f"cannot be deleted while cashout #{cashout.pk} to it is pending"):
        payment_method_delete(payment_method=method, actor=owner)

    assert PaymentMethod.objects.filter(pk=method.pk).exists()
    assert not Event.objects.filter(type=Event.Type.PAYMENT_METHOD_DELETED).exists()


@pytest.mark.django_db
def test_a_method_used_by_a_schedule_cannot_be_deleted():
    owner = UserFactory()
    method = bank_method(owner.affiliate, actor=owner)
    CashoutScheduleFactory(affiliate=owner.affiliate, payment_method=method)

    with pytest.raises(BillingError, match="used by an automatic cash-out schedule"):
        payment_method_delete(payment_method=method, actor=owner)

    assert PaymentMethod.objects.filter(pk=method.pk).exists()


# --- Portal pages ---------------------------------------------------------------------------

@pytest.fixture
def owner(client):
    user = UserFactory()
    sign_in(client, user, verified=True)
    return user


@pytest.mark.django_db
def test_adding_a_bank_transfer_on_the_portal(client, owner):
    url = reverse("billing:payment_method_create") + "?type=bank_transfer"
    assert "Beneficiary name" in client.get(url).content.decode()

    response = client.post(url, {"type": "bank_transfer", **BANK_DETAILS}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("billing:wallet")
    html = response.content.decode()
    assert "Bank transfer has been added to your payment methods." in html
    assert "DE89 •••• •••• •••• 3000" in html
    assert "Show more" in html
    assert "COBA•••••••" in html  # revealed by "Show more", still masked
    for clear in CLEAR_BANK_VALUES:
        assert clear not in html


@pytest.mark.django_db
def test_the_add_form_shows_each_invalid_field(client, owner):
    url = reverse("billing:payment_method_create") + "?type=bank_transfer"

    response = client.post(url, {"type": "bank_transfer", **BANK_DETAILS, "iban": "DE88370400440532013000",
                                 "swift": "DEUT"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "This IBAN is not valid: its check digits do not match." in html
    assert "Enter a SWIFT/BIC code of 8 or 11 characters" in html
    assert not PaymentMethod.objects.exists()


@pytest.mark.django_db
def test_a_second_method_of_the_same_type_gets_a_friendly_error(client, owner):
    payment_method_add(affiliate=owner.affiliate, actor=owner, type=T.SKRILL, details={"email": "a@example.com"})
    url = reverse("billing:payment_method_create") + "?type=skrill"

    assert "You already have a Skrill payment method" in client.get(url).content.decode()
    response = client.post(url, {"type": "skrill", "email": "b@example.com"})

    assert response.status_code == 200
    assert "You already have a Skrill payment method" in response.content.decode()
    assert PaymentMethod.objects.count() == 1


@pytest.mark.django_db
def test_the_e_wallet_form_needs_one_of_the_two_fields(client, owner):
    url = reverse("billing:payment_method_create") + "?type=neteller"

    response = client.post(url, {"type": "neteller", "email": "", "account_id": ""})

    assert "Enter the e-mail or the account ID of your account (at least one)." in response.content.decode()


@pytest.mark.django_db
def test_choosing_the_type_first(client, owner):
    payment_method_add(affiliate=owner.affiliate, actor=owner, type=T.SKRILL, details={"email": "a@example.com"})

    html = client.get(reverse("billing:payment_method_create")).content.decode()

    assert "?type=coinspaid" in html
    assert "?type=skrill" not in html  # already added


@pytest.mark.django_db
def test_deleting_on_the_portal(client, owner):
    method = payment_method_add(affiliate=owner.affiliate, actor=owner, type=T.SKRILL,
                                details={"email": "john@example.com"})

    response = client.post(reverse("billing:payment_method_delete", args=[method.pk]), follow=True)

    assert "Skrill has been deleted from your payment methods." in response.content.decode()
    assert not PaymentMethod.objects.exists()


@pytest.mark.django_db
def test_deleting_a_method_with_a_pending_cashout_shows_why_on_the_portal(client, owner):
    method = bank_method(owner.affiliate, actor=owner)
    fund(owner.affiliate)
    cashout_request(affiliate=owner.affiliate, actor=owner, currency="EUR", amount=Decimal("5.00"),
                    payment_method=method, idempotency_key="k")

    response = client.post(reverse("billing:payment_method_delete", args=[method.pk]), follow=True)

    assert "cannot be deleted while cashout" in response.content.decode()
    assert PaymentMethod.objects.filter(pk=method.pk).exists()


@pytest.mark.django_db
def test_another_affiliates_method_is_404(client, owner):
    other = UserFactory()
    method = payment_method_add(affiliate=other.affiliate, actor=other, type=T.SKRILL,
                                details={"email": "x@example.com"})

    response = client.post(reverse("billing:payment_method_delete", args=[method.pk]))

    assert response.status_code == 404
    assert PaymentMethod.objects.filter(pk=method.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["payment_method_create", "withdraw"])
def test_financial_pages_need_2fa(client, name):
    user = UserFactory()
    sign_in(client, user)  # no 2FA

    response = client.get(reverse(f"billing:{name}"), follow=True)

    assert response.redirect_chain[0][0].startswith(reverse("partners:two_factor_enable"))
    assert "Financial actions require two-factor authentication." in response.content.decode()


@pytest.mark.django_db
def test_deleting_needs_2fa(client):
    user = UserFactory()
    method = payment_method_add(affiliate=user.affiliate, actor=user, type=T.SKRILL,
                                details={"email": "x@example.com"})
    sign_in(client, user)

    response = client.post(reverse("billing:payment_method_delete", args=[method.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("partners:two_factor_enable"))
    assert PaymentMethod.objects.filter(pk=method.pk).exists()


@pytest.mark.django_db
def test_the_wallet_page_is_open_without_2fa_and_says_what_it_needs(client):
    user = UserFactory()
    fund(user.affiliate, "1234.5")
    sign_in(client, user)

    html = client.get(reverse("billing:wallet")).content.decode()

    assert "1,234.50" in html
    assert "require two-factor authentication" in html
    assert reverse("billing:withdraw") + "?currency=EUR" in html


@pytest.mark.django_db
def test_the_wallet_page_offers_withdraw_only_for_a_positive_balance(client, owner):
    fund(owner.affiliate, "5.00", "USD")
    entry = fund(owner.affiliate, "3.00", "GBP")
    from billing.services.corrections import balance_correction_make

    balance_correction_make(affiliate=owner.affiliate, currency="GBP", amount=-entry.amount, comment="zero",
                            actor=None, idempotency_key="zero-gbp")

    html = client.get(reverse("billing:wallet")).content.decode()

    assert 'id="balance-GBP"' in html and 'id="balance-USD"' in html
    assert reverse("billing:withdraw") + "?currency=USD" in html
    assert reverse("billing:withdraw") + "?currency=GBP" not in html


@pytest.mark.django_db
def test_the_wallet_page_includes_the_schedules_section_when_it_exists(client, owner, monkeypatch):
    from billing.views import wallet as views

    assert "Automatic cash-out schedules" in client.get(reverse("billing:wallet")).content.decode()

    monkeypatch.setattr(views, "SCHEDULES_TEMPLATE", "billing/wallet/_no_such_template.html")
    response = client.get(reverse("billing:wallet"))

    assert response.status_code == 200
    assert "Automatic cash-out schedules" not in response.content.decode()
