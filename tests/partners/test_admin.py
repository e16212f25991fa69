"""The admin: 2FA at the door, the staff groups, and the account actions going through the
services (events, e-mails, ended sessions)."""
import base64
import html
from io import StringIO

import pyotp
import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from campaigns.models import Brand, BrandContact, OperatorCredential
from partners.management.commands.setup_groups import (
    AFFILIATE_MANAGER,
    AFFILIATE_MANAGER_PERMISSIONS,
    FINANCE,
    FINANCE_PERMISSIONS,
)
from partners.models import Affiliate, Event, User, UserSession
from tests.conftest import PASSWORD, confirmed_totp, sign_in
from tests.partners.factories import (
    AffiliateFactory,
    DocumentFactory,
    EventFactory,
    MemberFactory,
    NewsArticleFactory,
    StaffFactory,
    TermsVersionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def changelist(model: str) -> str:
    app = "campaigns" if model in {"brand", "operatorcredential"} else "partners"
    return reverse(f"admin:{app}_{model}_changelist")


@pytest.fixture
def superuser():
    return StaffFactory(is_superuser=True, first_name="Marta", last_name="Keller")


@pytest.fixture
def admin_client(client, superuser):
    return sign_in(client, superuser, verified=True)


def manager_in(group_name: str) -> User:
    call_command("setup_groups", stdout=StringIO())
    staff = StaffFactory()
    staff.groups.add(Group.objects.get(name=group_name))
    return staff


def run_action(client, model: str, action: str, objects, **extra):
    data = {"action": action, "_selected_action": [o.pk for o in objects], **extra}
    return client.post(changelist(model), data, follow=True)


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def totp_code(device: TOTPDevice) -> str:
    return pyotp.TOTP(base64.b32encode(device.bin_key).decode()).now()


# 2FA at the door ----------------------------------------------------------------------------

def test_a_staff_user_without_a_verified_second_factor_is_sent_to_the_admin_login(client):
    staff = StaffFactory(is_superuser=True)
    confirmed_totp(staff)
    sign_in(client, staff, verified=False)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_signing_in_with_email_password_and_a_valid_code_reaches_the_admin_index(client):
    staff = StaffFactory(is_superuser=True, email="marta@program.example")
    device = confirmed_totp(staff)

    response = client.post(
        reverse("admin:login"),
        {"username": "Marta@Program.example", "password": PASSWORD, "otp_token": totp_code(device),
         "next": reverse("admin:index")},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert "Program administration" in index.content.decode()
    # The admin sign-in is listed like any other session.
    assert UserSession.objects.filter(user=staff).count() == 1


@pytest.mark.django_db(transaction=True)
def test_admin_sign_in_works_in_autocommit_mode_as_in_production(client):
    # No test transaction around the request: the device row lock must bring its own
    # (select_for_update outside a transaction is an error on PostgreSQL).
    staff = StaffFactory(is_superuser=True, email="autocommit@program.example")
    device = confirmed_totp(staff)

    response = client.post(
        reverse("admin:login"),
        {"username": staff.email, "password": PASSWORD, "otp_token": totp_code(device),
         "next": reverse("admin:index")},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_a_wrong_code_keeps_the_manager_on_the_login_page(client):
    staff = StaffFactory(is_superuser=True)
    device = confirmed_totp(staff)
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"

    response = client.post(
        reverse("admin:login"),
        {"username": staff.email, "password": PASSWORD, "otp_token": wrong, "next": "/admin/"},
    )

    assert response.status_code == 200
    assert "Invalid token" in response.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302


def test_a_portal_user_cannot_enter_the_admin_even_with_a_verified_code(client):
    owner = UserFactory()
    sign_in(client, owner, verified=True)

    response = client.get(changelist("affiliate"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# Groups -------------------------------------------------------------------------------------

def perm_names(group: Group) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_setup_groups_gives_each_group_exactly_its_permissions_and_is_idempotent():
    call_command("setup_groups", stdout=StringIO())
    manager_group = Group.objects.get(name=AFFILIATE_MANAGER)
    # A permission added by hand is taken away on the next run.
    manager_group.permissions.add(Permission.objects.get(codename="delete_user"))

    call_command("setup_groups", stdout=StringIO())
    out = StringIO()
    call_command("setup_groups", stdout=out)

    assert perm_names(Group.objects.get(name=AFFILIATE_MANAGER)) == set(AFFILIATE_MANAGER_PERMISSIONS)
    assert perm_names(Group.objects.get(name=FINANCE)) == set(FINANCE_PERMISSIONS)
    assert "partners.delete_user" not in perm_names(manager_group)
    assert "partners.change_user" in perm_names(manager_group)
    assert "partners.view_event" in perm_names(manager_group)
    assert "partners.change_event" not in perm_names(manager_group)
    assert "partners.change_affiliate" not in perm_names(Group.objects.get(name=FINANCE))
    assert Group.objects.filter(name__in=[AFFILIATE_MANAGER, FINANCE]).count() == 2
    assert out.getvalue().count("up to date") == 2


def test_an_affiliate_manager_opens_affiliates_but_not_the_group_admin(client):
    staff = manager_in(AFFILIATE_MANAGER)
    AffiliateFactory(name="Lighthouse Media")
    sign_in(client, staff, verified=True)

    assert client.get(changelist("affiliate")).status_code == 200
    assert "Lighthouse Media" in client.get(changelist("affiliate")).content.decode()
    assert client.get(reverse("admin:auth_group_changelist")).status_code == 403
    assert client.get(reverse("admin:partners_event_changelist")).status_code == 200
    assert client.get(reverse("admin:campaigns_operatorcredential_changelist")).status_code == 403


def test_finance_sees_affiliates_read_only_and_no_documents(client):
    staff = manager_in(FINANCE)
    affiliate = AffiliateFactory(status=Affiliate.Status.PENDING)
    document = DocumentFactory()
    sign_in(client, staff, verified=True)

    page = client.get(reverse("admin:partners_affiliate_change", args=[affiliate.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    # The approve action needs the change permission.
    response = run_action(client, "affiliate", "approve_selected", [affiliate])
    affiliate.refresh_from_db()
    assert affiliate.status == Affiliate.Status.PENDING
    assert response.status_code == 200
    assert client.get(reverse("admin:partners_document_file", args=[document.pk])).status_code == 403


def test_a_non_superuser_manager_cannot_change_a_superuser_or_grant_rights(client, superuser):
    staff = manager_in(AFFILIATE_MANAGER)
    owner = UserFactory()
    sign_in(client, staff, verified=True)

    assert client.get(reverse("admin:partners_user_change", args=[superuser.pk])).status_code == 200
    response = client.post(
        reverse("admin:auth_user_password_change", args=[superuser.pk]),
        {"password1": "N3w-password-here", "password2": "N3w-password-here", "usable_password": "true"},
    )
    assert response.status_code == 403
    page = client.get(reverse("admin:partners_user_change", args=[owner.pk])).content.decode()
    assert 'name="is_superuser"' not in page
    assert 'name="groups"' not in page


# Affiliate actions --------------------------------------------------------------------------

def test_approving_a_pending_affiliate_activates_it_logs_it_and_mails_the_owner(
    admin_client, superuser, django_capture_on_commit_callbacks
):
    owner = UserFactory(affiliate__status=Affiliate.Status.PENDING, affiliate__approved_at=None,
                        email="owner@lighthouse.example")
    already_active = AffiliateFactory(name="Already Active Ltd")

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(admin_client, "affiliate", "approve_selected", [owner.affiliate, already_active])

    affiliate = Affiliate.objects.get(pk=owner.affiliate_id)
    assert affiliate.status == Affiliate.Status.ACTIVE
    assert affiliate.approved_at is not None
    assert [m.to for m in mail.outbox] == [["owner@lighthouse.example"]]
    assert "approved" in mail.outbox[0].subject
    event = Event.objects.get(affiliate=affiliate, type=Event.Type.ACCOUNT_APPROVED)
    assert event.actor == superuser
    texts = page_messages(response)
    assert any("Approved 1 affiliate" in t for t in texts)
    assert any("Already Active Ltd" in t and "already active" in t for t in texts)


def test_blocking_an_affiliate_ends_its_users_sessions(admin_client):
    from django.test import Client

    owner = UserFactory()
    member = MemberFactory(affiliate=owner.affiliate)
    browsers = [sign_in(Client(), owner), sign_in(Client(), member)]
    keys = [b.session.session_key for b in browsers]

    response = run_action(admin_client, "affiliate", "block_selected", [owner.affiliate])

    owner.affiliate.refresh_from_db()
    assert owner.affiliate.status == Affiliate.Status.BLOCKED
    assert not UserSession.objects.filter(user__in=[owner, member]).exists()
    assert not Session.objects.filter(session_key__in=keys).exists()
    assert Event.objects.filter(affiliate=owner.affiliate, type=Event.Type.ACCOUNT_BLOCKED).exists()
    assert any("Blocked 1 affiliate" in t for t in page_messages(response))
    dashboard = browsers[0].get(reverse("reports:dashboard"))
    assert dashboard.status_code == 302


def test_an_affiliate_is_approved_from_its_own_page(admin_client, django_capture_on_commit_callbacks):
    owner = UserFactory(affiliate__status=Affiliate.Status.PENDING, affiliate__approved_at=None)
    url = reverse("admin:partners_affiliate_change", args=[owner.affiliate_id])
    assert 'value="approve_selected"' in admin_client.get(url).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {
            "CHANGE_FORM-action": "approve_selected", "CHANGE_FORM-select_across": "0",
            "_selected_action": [owner.affiliate_id],
        }, follow=True)

    owner.affiliate.refresh_from_db()
    assert owner.affiliate.status == Affiliate.Status.ACTIVE
    assert len(mail.outbox) == 1
    assert any("Approved 1 affiliate" in t for t in page_messages(response))


def test_the_status_field_cannot_be_changed_in_the_form(admin_client):
    affiliate = AffiliateFactory(status=Affiliate.Status.PENDING, name="Pending Co")
    url = reverse("admin:partners_affiliate_change", args=[affiliate.pk])
    page = admin_client.get(url).content.decode()
    assert 'name="status"' not in page

    admin_client.post(url, {
        "name": "Pending Co", "status": "active", "default_report_currency": "EUR",
        "users-TOTAL_FORMS": "0", "users-INITIAL_FORMS": "0",
    })

    affiliate.refresh_from_db()
    assert affiliate.status == Affiliate.Status.PENDING


def test_affiliate_list_and_page_show_owner_users_and_their_2fa(admin_client):
    owner = UserFactory(email="owner@aff.example", affiliate__name="Lighthouse Media")
    confirmed_totp(owner)
    MemberFactory(affiliate=owner.affiliate, email="member@aff.example")

    listing = admin_client.get(changelist("affiliate"), {"q": "member@aff.example"}).content.decode()
    page = admin_client.get(reverse("admin:partners_affiliate_change", args=[owner.affiliate_id])).content.decode()

    assert "Lighthouse Media" in listing
    assert "owner@aff.example" in listing
    assert "member@aff.example" in page and "owner@aff.example" in page
    assert "Team member" in page


@pytest.mark.parametrize("query", ["", "x" * 5000, "Zoë Ångström 测试 🚀", "<script>alert(1)</script>", "' OR 1=1 --"])
def test_searching_the_admin_lists_with_odd_input_is_safe(admin_client, query):
    UserFactory(affiliate__name="Lighthouse Media")

    for model in ("affiliate", "user", "event", "document", "usersession"):
        response = admin_client.get(changelist(model), {"q": query})
        assert response.status_code == 200, model
        assert "<script>alert(1)</script>" not in response.content.decode()


# User actions -------------------------------------------------------------------------------

def test_unlocking_a_locked_user(admin_client, superuser):
    from django.utils import timezone

    user = UserFactory(locked_at=timezone.now(), failed_login_attempts=5)

    response = run_action(admin_client, "user", "unlock_selected", [user])

    user.refresh_from_db()
    assert user.locked_at is None and user.failed_login_attempts == 0
    assert Event.objects.filter(type=Event.Type.UNLOCKED, user=user, actor=superuser).exists()
    assert any("Unlocked 1 user" in t for t in page_messages(response))


def test_resetting_two_factor_removes_the_devices_logs_and_mails(
    admin_client, superuser, django_capture_on_commit_callbacks
):
    user = UserFactory(email="lost.phone@aff.example")
    confirmed_totp(user)
    no_2fa = UserFactory(email="never@aff.example")

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(admin_client, "user", "reset_two_factor", [user, no_2fa])

    assert not TOTPDevice.objects.filter(user=user).exists()
    event = Event.objects.get(type=Event.Type.TWO_FACTOR_DISABLED, user=user)
    assert event.actor == superuser
    assert [m.to for m in mail.outbox] == [["lost.phone@aff.example"]]
    texts = page_messages(response)
    assert any("never@aff.example" in t and "no two-factor" in t for t in texts)


def test_blocking_and_unblocking_a_user(admin_client):
    from django.test import Client

    user = UserFactory()
    browser = sign_in(Client(), user)

    run_action(admin_client, "user", "block_selected", [user])
    user.refresh_from_db()
    assert user.is_blocked
    assert not UserSession.objects.filter(user=user).exists()
    assert browser.get(reverse("reports:dashboard")).status_code == 302

    run_action(admin_client, "user", "unblock_selected", [user])
    user.refresh_from_db()
    assert not user.is_blocked
    assert list(Event.objects.filter(user=user).values_list("type", flat=True).order_by("pk")) == [
        Event.Type.USER_BLOCKED, Event.Type.USER_UNBLOCKED,
    ]


def test_a_manager_cannot_block_themselves(admin_client, superuser):
    response = run_action(admin_client, "user", "block_selected", [superuser])

    superuser.refresh_from_db()
    assert not superuser.is_blocked
    assert any("cannot block yourself" in t for t in page_messages(response))


def test_the_user_page_never_shows_token_or_session_salt(admin_client):
    from partners.services.tokens import statistic_token_issue

    user = UserFactory()
    token = statistic_token_issue(user=user, actor=None)
    user.refresh_from_db()

    page = admin_client.get(reverse("admin:partners_user_change", args=[user.pk])).content.decode()
    listing = admin_client.get(changelist("user")).content.decode()

    for secret in (token, user.statistic_token_digest, user.statistic_token_encrypted, user.session_salt):
        assert secret not in page
        assert secret not in listing


def test_adding_a_user_with_email_and_password(admin_client):
    response = admin_client.post(
        reverse("admin:partners_user_add"),
        {"email": "  New.Manager@Program.example ", "password1": "Str0ng-passw0rd!", "password2": "Str0ng-passw0rd!"},
    )

    user = User.objects.get(email="new.manager@program.example")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:partners_user_change", args=[user.pk])
    assert user.check_password("Str0ng-passw0rd!")


@pytest.mark.parametrize("email", ["", "x" * 5000 + "@example.com", "Zoë Ångström 测试 🚀", "<script>alert(1)</script>", "' OR 1=1 --"])
def test_the_add_user_form_rejects_bad_emails_with_a_field_error(admin_client, email):
    response = admin_client.post(
        reverse("admin:partners_user_add"),
        {"email": email, "password1": "Str0ng-passw0rd!", "password2": "Str0ng-passw0rd!"},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["email"]
    body = response.content.decode()
    assert "<script>alert(1)</script>" not in body
    assert User.objects.count() == 1  # the signed-in superuser only


def test_the_add_user_form_refuses_an_existing_email_in_another_case(admin_client):
    UserFactory(email="taken@aff.example")

    response = admin_client.post(
        reverse("admin:partners_user_add"),
        {"email": "TAKEN@aff.example", "password1": "Str0ng-passw0rd!", "password2": "Str0ng-passw0rd!"},
    )

    assert response.status_code == 200
    assert "already exists" in response.content.decode()


def test_a_user_of_an_affiliate_needs_a_role(admin_client):
    user = StaffFactory(is_staff=False)
    affiliate = AffiliateFactory()
    url = reverse("admin:partners_user_change", args=[user.pk])

    response = admin_client.post(url, {
        "email": user.email, "affiliate": affiliate.pk, "role": "", "is_active": "on",
        "date_joined_0": "2024-01-01", "date_joined_1": "10:00:00",
    })

    assert response.status_code == 200
    assert "needs a role" in response.content.decode()
    user.refresh_from_db()
    assert user.affiliate_id is None


# Sessions and the events log ----------------------------------------------------------------

def test_terminating_a_session_signs_that_browser_out(admin_client):
    from django.test import Client

    user = UserFactory()
    browser = sign_in(Client(), user)
    session = UserSession.objects.get(user=user)

    response = run_action(admin_client, "usersession", "terminate_selected", [session])

    assert not UserSession.objects.filter(pk=session.pk).exists()
    assert not Session.objects.filter(session_key=session.session_key).exists()
    assert any("Terminated 1 session" in t for t in page_messages(response))
    assert browser.get(reverse("reports:dashboard")).status_code == 302


def test_the_events_log_is_read_only_even_for_a_superuser(admin_client):
    event = EventFactory(type=Event.Type.ACCOUNT_APPROVED, data={"note": "<b>hi</b>"})

    assert admin_client.get(reverse("admin:partners_event_add")).status_code == 403
    assert admin_client.post(reverse("admin:partners_event_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    page = admin_client.get(reverse("admin:partners_event_change", args=[event.pk])).content.decode()
    assert 'name="_save"' not in page
    assert "&lt;b&gt;hi&lt;/b&gt;" in page
    listing = admin_client.get(changelist("event"), {"type__exact": "account_approved"}).content.decode()
    assert event.affiliate.name in html.unescape(listing)
    assert Event.objects.filter(pk=event.pk).exists()


def test_every_admin_list_and_form_opens(admin_client):
    owner = UserFactory()
    EventFactory(affiliate=owner.affiliate)
    DocumentFactory(affiliate=owner.affiliate)
    NewsArticleFactory()
    TermsVersionFactory()
    brand = Brand.objects.create(name="Aurora Casino", base_currency="EUR", site_url="https://aurora-casino.example")
    BrandContact.objects.create(brand=brand, kind="email", value="aff@aurora-casino.example")

    for model in ("affiliate", "user", "usersession", "event", "document", "newsarticle",
                  "termsversion", "brand", "operatorcredential"):
        assert admin_client.get(changelist(model)).status_code == 200, model
    for name in ("partners_affiliate", "partners_user", "partners_newsarticle",
                 "partners_termsversion", "campaigns_brand", "campaigns_operatorcredential"):
        assert admin_client.get(reverse(f"admin:{name}_add")).status_code == 200, name
    for name, obj in (("partners_affiliate", owner.affiliate), ("partners_user", owner),
                      ("campaigns_brand", brand)):
        assert admin_client.get(reverse(f"admin:{name}_change", args=[obj.pk])).status_code == 200, name


# Documents ----------------------------------------------------------------------------------

def test_a_manager_downloads_a_document_file_as_an_attachment(admin_client, client):
    document = DocumentFactory(original_name="passport scan.pdf")

    listing = admin_client.get(changelist("document")).content.decode()
    url = reverse("admin:partners_document_file", args=[document.pk])
    response = admin_client.get(url)

    assert url in listing
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-1.4")
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "application/pdf"
    assert admin_client.get(reverse("admin:partners_document_file", args=[999999])).status_code == 404


def test_a_portal_user_cannot_download_documents_through_the_admin(client):
    owner = UserFactory()
    document = DocumentFactory(affiliate=owner.affiliate)
    sign_in(client, owner, verified=True)

    response = client.get(reverse("admin:partners_document_file", args=[document.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# Brands and operator credentials ------------------------------------------------------------

def test_an_operator_secret_is_shown_once_after_creation(admin_client):
    brand = Brand.objects.create(name="Aurora Casino", base_currency="EUR", site_url="https://aurora-casino.example")

    response = admin_client.post(
        reverse("admin:campaigns_operatorcredential_add"),
        {"brand": brand.pk, "name": "Platform", "is_active": "on"},
        follow=True,
    )

    credential = OperatorCredential.objects.get(brand=brand)
    secret = credential.secret
    assert len(secret) == 64
    assert any(secret in t and "not shown again" in t for t in page_messages(response))
    change = admin_client.get(reverse("admin:campaigns_operatorcredential_change", args=[credential.pk]))
    listing = admin_client.get(changelist("operatorcredential"))
    assert secret not in change.content.decode()
    assert secret not in listing.content.decode()
    assert credential.key in listing.content.decode()


def test_rotating_an_operator_secret_shows_the_new_one_once(admin_client):
    brand = Brand.objects.create(name="Polar Spins", base_currency="USD", site_url="https://polar-spins.example")
    credential = OperatorCredential(brand=brand)
    credential.set_secret("old-secret")
    credential.save()

    response = run_action(admin_client, "operatorcredential", "rotate_secret", [credential])

    credential.refresh_from_db()
    assert credential.secret != "old-secret"
    assert any(credential.secret in t for t in page_messages(response))
    assert credential.secret not in admin_client.get(changelist("operatorcredential")).content.decode()


def test_brand_contacts_are_edited_inline(admin_client):
    response = admin_client.post(reverse("admin:campaigns_brand_add"), {
        "name": "Polar Spins", "base_currency": "USD", "site_url": "https://polar-spins.example",
        "is_active": "on",
        "contacts-TOTAL_FORMS": "1", "contacts-INITIAL_FORMS": "0",
        "contacts-0-kind": "telegram", "contacts-0-value": "@polar_affiliates",
        "contacts-0-label": "Affiliate support", "contacts-0-position": "0",
    })

    assert response.status_code == 302
    brand = Brand.objects.get(name="Polar Spins")
    assert list(brand.contacts.values_list("value", flat=True)) == ["@polar_affiliates"]


# Document review (partners.services.documents) ----------------------------------------------

def test_approving_documents_from_the_list_marks_them_logs_and_mails_the_owner(
    admin_client, superuser, django_capture_on_commit_callbacks
):
    owner = UserFactory(email="owner@docs.example")
    document = DocumentFactory(affiliate=owner.affiliate, title="Passport scan")

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(admin_client, "document", "approve_selected", [document])

    document.refresh_from_db()
    assert document.status == "approved"
    assert document.reviewed_by == superuser
    assert Event.objects.filter(affiliate=owner.affiliate, type=Event.Type.DOCUMENT_REVIEWED).exists()
    assert [m.to for m in mail.outbox] == [["owner@docs.example"]]
    assert any("Approved 1 document" in t for t in page_messages(response))


def test_declining_from_the_list_needs_a_saved_review_comment(admin_client):
    without_reason = DocumentFactory(title="Blurry passport")
    with_reason = DocumentFactory(title="Old utility bill", review_comment="Older than 3 months.")

    response = run_action(admin_client, "document", "decline_selected", [without_reason, with_reason])

    without_reason.refresh_from_db()
    with_reason.refresh_from_db()
    assert without_reason.status == "pending"
    assert with_reason.status == "declined"
    assert with_reason.review_comment == "Older than 3 months."
    texts = page_messages(response)
    assert any("Blurry passport" in t and "no reason given" in t for t in texts)
    assert any("Declined 1 document" in t for t in texts)


def test_declining_on_the_document_page_uses_the_reason_typed_there(
    admin_client, django_capture_on_commit_callbacks
):
    owner = UserFactory(email="owner@docs.example")
    document = DocumentFactory(affiliate=owner.affiliate)
    url = reverse("admin:partners_document_change", args=[document.pk])

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {
            "CHANGE_FORM-action": "decline_selected", "CHANGE_FORM-select_across": "0",
            "_selected_action": [document.pk], "review_comment": "The photo is cut off <b>at the edge</b>.",
        }, follow=True)

    document.refresh_from_db()
    assert document.status == "declined"
    assert document.review_comment == "The photo is cut off <b>at the edge</b>."
    assert "cut off" in mail.outbox[0].body
    assert "&lt;b&gt;at the edge&lt;/b&gt;" in response.content.decode()


def test_reviewing_an_already_reviewed_document_is_refused_with_a_message(admin_client):
    document = DocumentFactory(status="approved")

    response = run_action(admin_client, "document", "approve_selected", [document])

    assert any("already approved" in t for t in page_messages(response))
