import pytest
from django.core import mail
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from partners.errors import PartnersError
from partners.models import Document, Event
from partners.services.documents import (
    document_approve,
    document_decline,
    document_delete,
    original_name_clean,
)
from tests.conftest import sign_in
from tests.partners.factories import DocumentFactory, MemberFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
UPLOAD_URL = reverse("partners:document_upload")


@pytest.fixture(autouse=True)
def private_storage(monkeypatch, tmp_path):
    # The model's storage is resolved when the model class is built, so overriding
    # settings.STORAGES in a test does not reach it: point the field at a temporary folder.
    storage = FileSystemStorage(location=str(tmp_path / "private-docs"), base_url=None)
    monkeypatch.setattr(Document._meta.get_field("file"), "storage", storage)
    return storage


def upload(client, *, name="invoice.pdf", content=PDF, title="Company registration", kind="company_registration",
           description="", content_type="application/pdf"):
    file = SimpleUploadedFile(name, content, content_type=content_type)
    return client.post(UPLOAD_URL, {"kind": kind, "title": title, "description": description, "file": file},
                       REMOTE_ADDR="198.51.100.7")


# Upload --------------------------------------------------------------------------------------

def test_an_upload_stores_the_file_creates_a_pending_document_and_logs_it(client, private_storage):
    owner = UserFactory()
    sign_in(client, owner)

    # The browser's content type is ignored: the first bytes decide.
    response = upload(client, description="Extract, 2024", content_type="text/html")

    document = Document.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("partners:document_detail", args=[document.pk])
    assert document.affiliate == owner.affiliate
    assert document.uploaded_by == owner
    assert document.status == Document.Status.PENDING
    assert document.original_name == "invoice.pdf"
    assert document.content_type == "application/pdf"
    assert document.size == len(PDF)
    assert document.description == "Extract, 2024"
    assert private_storage.exists(document.file.name)
    assert "invoice" not in document.file.name  # the stored name is random
    with private_storage.open(document.file.name) as stored:
        assert stored.read() == PDF
    event = Event.objects.get(type=Event.Type.DOCUMENT_UPLOADED)
    assert event.affiliate == owner.affiliate
    assert event.actor == owner
    assert event.ip == "198.51.100.7"
    assert event.data["document_id"] == document.pk


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [("scan.png", PNG, "image/png"), ("photo.JPG", JPEG, "image/jpeg"), ("photo.jpeg", JPEG, "image/jpeg"),
     ("id.webp", WEBP, "image/webp")],
)
def test_images_are_accepted_with_the_content_type_their_bytes_show(client, name, content, content_type):
    sign_in(client, UserFactory())

    response = upload(client, name=name, content=content, content_type="application/octet-stream")

    assert response.status_code == 302
    assert Document.objects.get().content_type == content_type


def test_a_file_above_the_limit_is_refused_with_the_limit_in_megabytes(client, settings):
    settings.DOCUMENT_MAX_BYTES = 1024 * 1024
    sign_in(client, UserFactory())

    response = upload(client, content=PDF + b"0" * (1024 * 1024))

    assert response.status_code == 200
    assert "Upload a file of at most 1 MB" in response.content.decode()
    assert not Document.objects.exists()


def test_the_upload_page_names_the_size_limit(client, settings):
    settings.DOCUMENT_MAX_BYTES = 5 * 1024 * 1024
    sign_in(client, UserFactory())

    html = client.get(UPLOAD_URL).content.decode()

    assert "at most 5 MB" in html


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("setup.exe", b"MZ\x90\x00\x03", ".exe files cannot be uploaded"),
        ("page.html", b"<html></html>", ".html files cannot be uploaded"),
        ("README", PDF, "Files without an extension cannot be uploaded"),
        ("invoice.pdf", b"<html><script>alert(1)</script></html>", "its content is not a PDF, JPG, PNG or WebP"),
        ("setup.pdf", b"MZ\x90\x00\x03\x00\x00\x00", "its content is not a PDF, JPG, PNG or WebP"),
        ("photo.png", JPEG, "named .png but its content is a JPEG image"),
        ("scan.jpg", PDF, "named .jpg but its content is a PDF document"),
    ],
)
def test_a_wrong_extension_or_content_is_refused_with_a_clear_message(client, name, content, message):
    sign_in(client, UserFactory())

    response = upload(client, name=name, content=content)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Document.objects.exists()
    assert not Event.objects.filter(type=Event.Type.DOCUMENT_UPLOADED).exists()


def test_an_empty_file_is_refused(client):
    sign_in(client, UserFactory())

    response = upload(client, content=b"")

    assert response.status_code == 200
    assert "The submitted file is empty." in response.content.decode()
    assert not Document.objects.exists()


def test_a_missing_file_and_type_give_field_errors(client):
    sign_in(client, UserFactory())

    response = client.post(UPLOAD_URL, {"kind": "", "title": "Passport"})

    assert response.status_code == 200
    assert response.content.decode().count("This field is required.") == 2


@pytest.mark.parametrize(
    ("title", "error"),
    [
        ("", "This field is required."),
        ("x" * 5000, "Ensure this value has at most 150 characters"),
        ("Zoë Ångström 测试 🚀", None),
        ("<script>alert(1)</script>", None),
        ("' OR 1=1 --", None),
    ],
)
def test_bad_input_in_the_title(client, title, error):
    sign_in(client, UserFactory())

    response = upload(client, title=title)

    if error:
        assert response.status_code == 200
        assert error in response.content.decode()
        assert not Document.objects.exists()
    else:
        assert response.status_code == 302
        document = Document.objects.get()
        assert document.title == title
        html = client.get(reverse("partners:document_detail", args=[document.pk])).content.decode()
        assert "<script>alert(1)</script>" not in html
        if title.startswith("<script>"):
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_an_overlong_description_is_refused(client):
    sign_in(client, UserFactory())

    response = upload(client, description="d" * 5000)

    assert response.status_code == 200
    assert "at most 1000 characters" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("invoice.pdf", "invoice.pdf"),
        ("C:\\Users\\me\\scan.PDF", "scan.pdf"),
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("rep\u202eort.pdf", "rep_ort.pdf"),
        ('a"b<c>.pdf', "a_b_c_.pdf"),
        ("....pdf", "document.pdf"),
        ("Zoë 测试 🚀.pdf", "Zoë 测试 🚀.pdf"),
        ("n" * 400 + ".pdf", "n" * 251 + ".pdf"),
    ],
)
def test_the_original_name_is_a_sanitised_basename(name, expected):
    assert original_name_clean(name, extension="pdf") == expected


# List, detail, download ------------------------------------------------------------------------

def test_the_list_shows_the_documents_with_delete_only_for_pending_and_declined(client):
    owner = UserFactory()
    DocumentFactory(affiliate=owner.affiliate, title="Pending one", uploaded_by=owner)
    approved = DocumentFactory(affiliate=owner.affiliate, title="Approved one", status=Document.Status.APPROVED)
    declined = DocumentFactory(affiliate=owner.affiliate, title="Declined one", status=Document.Status.DECLINED)
    DocumentFactory(title="Somebody else's")
    sign_in(client, owner)

    html = client.get(reverse("partners:documents")).content.decode()

    assert "Pending one" in html and "Approved one" in html and "Declined one" in html
    assert "Somebody else" not in html
    assert 'badge badge-approved' in html
    assert "Upload new document" in html
    assert reverse("partners:document_delete", args=[declined.pk]) in html
    assert reverse("partners:document_delete", args=[approved.pk]) not in html
    assert "cannot be deleted" in html
    assert owner.email in html


def test_the_detail_shows_the_managers_comment(client):
    owner = UserFactory()
    document = DocumentFactory(affiliate=owner.affiliate, status=Document.Status.DECLINED,
                               review_comment="The scan is blurred <b>please</b> rescan")
    sign_in(client, owner)

    html = client.get(reverse("partners:document_detail", args=[document.pk])).content.decode()

    assert "The scan is blurred &lt;b&gt;please&lt;/b&gt; rescan" in html
    assert "Declined" in html


def test_the_download_returns_the_bytes_as_an_attachment_with_the_stored_type(client):
    owner = UserFactory()
    sign_in(client, owner)
    upload(client, name="Zoë invoice.pdf")
    document = Document.objects.get()

    response = client.get(reverse("partners:document_file", args=[document.pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''Zo%C3%AB%20invoice.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_team_member_sees_and_downloads_the_accounts_documents(client):
    owner = UserFactory()
    member = MemberFactory(affiliate=owner.affiliate)
    document = DocumentFactory(affiliate=owner.affiliate)
    sign_in(client, member)

    response = client.get(reverse("partners:document_file", args=[document.pk]))

    assert response.status_code == 200


def test_a_document_whose_file_is_gone_gives_404_not_500(client, private_storage):
    owner = UserFactory()
    document = DocumentFactory(affiliate=owner.affiliate)
    private_storage.delete(document.file.name)
    sign_in(client, owner)

    assert client.get(reverse("partners:document_file", args=[document.pk])).status_code == 404


@pytest.mark.parametrize(("url_name", "method"), [
    ("partners:document_detail", "get"),
    ("partners:document_file", "get"),
    ("partners:document_delete", "post"),
])
def test_another_affiliates_document_is_404(client, url_name, method):
    other = DocumentFactory(title="Their passport")
    sign_in(client, UserFactory())

    response = getattr(client, method)(reverse(url_name, args=[other.pk]))

    assert response.status_code == 404
    assert Document.objects.filter(pk=other.pk).exists()


def test_the_documents_pages_need_a_signed_in_user(client):
    document = DocumentFactory()

    response = client.get(reverse("partners:document_file", args=[document.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("partners:login"))


# Delete --------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [Document.Status.PENDING, Document.Status.DECLINED])
def test_deleting_removes_the_row_and_the_file(client, private_storage, django_capture_on_commit_callbacks, status):
    owner = UserFactory()
    document = DocumentFactory(affiliate=owner.affiliate, status=status, title="Old scan")
    name = document.file.name
    assert private_storage.exists(name)
    sign_in(client, owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("partners:document_delete", args=[document.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("partners:documents")
    assert "“Old scan” has been deleted" in response.content.decode()
    assert not Document.objects.filter(pk=document.pk).exists()
    assert not private_storage.exists(name)
    event = Event.objects.get(affiliate=owner.affiliate, type=Event.Type.DOCUMENT_DELETED)
    assert event.actor == owner
    assert event.data["title"] == "Old scan"


def test_an_approved_document_cannot_be_deleted(client, private_storage, django_capture_on_commit_callbacks):
    owner = UserFactory()
    document = DocumentFactory(affiliate=owner.affiliate, status=Document.Status.APPROVED)
    sign_in(client, owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("partners:document_delete", args=[document.pk]), follow=True)

    assert "approved documents stay on file" in response.content.decode()
    assert Document.objects.filter(pk=document.pk).exists()
    assert private_storage.exists(document.file.name)
    with pytest.raises(PartnersError, match="is approved"):
        document_delete(document=document, actor=owner)


def test_delete_is_post_only(client):
    owner = UserFactory()
    document = DocumentFactory(affiliate=owner.affiliate)
    sign_in(client, owner)

    response = client.get(reverse("partners:document_delete", args=[document.pk]))

    assert response.status_code == 405
    assert Document.objects.filter(pk=document.pk).exists()


# Review by a manager -------------------------------------------------------------------------

def test_approving_sets_the_status_logs_it_and_emails_the_owner(django_capture_on_commit_callbacks):
    owner = UserFactory(email="owner@acme.example")
    MemberFactory(affiliate=owner.affiliate)
    document = DocumentFactory(affiliate=owner.affiliate, title="Passport of the director")
    manager = StaffFactory()

    with django_capture_on_commit_callbacks(execute=True):
        document_approve(document=document, actor=manager)

    document.refresh_from_db()
    assert document.status == Document.Status.APPROVED
    assert document.reviewed_by == manager
    assert document.reviewed_at is not None
    event = Event.objects.get(type=Event.Type.DOCUMENT_REVIEWED)
    assert event.data["status"] == "approved"
    assert event.actor == manager
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["owner@acme.example"]
    assert "approved" in mail.outbox[0].subject
    assert "Passport of the director" in mail.outbox[0].body
    assert f"/partner/documents/{document.pk}" in mail.outbox[0].body


def test_declining_needs_a_comment(django_capture_on_commit_callbacks):
    document = DocumentFactory(affiliate=UserFactory().affiliate)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(PartnersError, match="reason for declining"):
        document_decline(document=document, actor=StaffFactory(), comment="   ")

    document.refresh_from_db()
    assert document.status == Document.Status.PENDING
    assert not Event.objects.exists()
    assert mail.outbox == []


def test_declining_with_a_comment_mails_the_comment_unescaped(django_capture_on_commit_callbacks):
    owner = UserFactory()
    document = DocumentFactory(affiliate=owner.affiliate)

    with django_capture_on_commit_callbacks(execute=True):
        document_decline(document=document, actor=StaffFactory(), comment="Blurred & cut off; rescan it")

    document.refresh_from_db()
    assert document.status == Document.Status.DECLINED
    assert document.review_comment == "Blurred & cut off; rescan it"
    assert Event.objects.get(type=Event.Type.DOCUMENT_REVIEWED).data["comment"] == "Blurred & cut off; rescan it"
    assert mail.outbox[0].to == [owner.email]
    assert "declined" in mail.outbox[0].subject
    assert "Blurred & cut off; rescan it" in mail.outbox[0].body
    assert "/partner/documents/new" in mail.outbox[0].body


def test_a_reviewed_document_cannot_be_reviewed_again():
    document = DocumentFactory(status=Document.Status.APPROVED)

    with pytest.raises(PartnersError, match="already approved"):
        document_decline(document=document, actor=StaffFactory(), comment="changed my mind")
