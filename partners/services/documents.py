"""Verification documents: upload and delete (the affiliate), approve and decline (a manager).

Files live in the "private" storage, which has no URL: the only way out is the portal's
download view, which checks the affiliate. What a file is comes from its first bytes, never
from the name or the Content-Type the browser sent.
"""
import os
import unicodedata

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from backoffice.mail import absolute_url, send_templated_mail
from partners.errors import PartnersError
from partners.models import Affiliate, Document, Event, User
from partners.services.events import event_record

# extension -> the content type its first bytes must show
ALLOWED_EXTENSIONS = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
}
KIND_LABELS = {
    "application/pdf": "a PDF document",
    "image/jpeg": "a JPEG image",
    "image/png": "a PNG image",
    "image/webp": "a WebP image",
}
ORIGINAL_NAME_MAX = 255
SNIFF_BYTES = 16


def sniff_content_type(head: bytes) -> str | None:
    """The content type the leading bytes of a file show, among those we accept."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def original_name_clean(name: str, *, extension: str) -> str:
    """The name to show and to offer on download: basename only, no control or path
    characters, at most 255 characters with the extension kept."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(
        "_" if unicodedata.category(ch).startswith("C") or ch in '<>:"|?*' else ch
        for ch in unicodedata.normalize("NFC", base)
    )
    suffix = f".{extension}"
    stem = base[: -len(suffix)] if base.lower().endswith(suffix) else base
    stem = stem.strip().lstrip(".").strip() or "document"
    return stem[: ORIGINAL_NAME_MAX - len(suffix)] + suffix


def document_file_check(uploaded_file: UploadedFile) -> tuple[str, str]:
    """Validate an upload; returns (extension, sniffed content type) or raises PartnersError."""
    limit = settings.DOCUMENT_MAX_BYTES
    size = uploaded_file.size or 0
    if size == 0:
        raise PartnersError("The file is empty. Choose the scan or photo of your document.", field="file")
    if size > limit:
        raise PartnersError(
            f"The file is too big ({_megabytes(size)} MB). Upload a file of at most "
            f"{_megabytes(limit)} MB: scan at a lower resolution or save it as a compressed PDF.",
            field="file",
        )
    name = os.path.basename((uploaded_file.name or "").replace("\\", "/"))
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in ALLOWED_EXTENSIONS:
        shown = f".{extension} files" if extension else "Files without an extension"
        raise PartnersError(
            f"{shown} cannot be uploaded. Upload a PDF, JPG, PNG or WebP file.", field="file"
        )
    uploaded_file.seek(0)
    head = uploaded_file.read(SNIFF_BYTES)
    uploaded_file.seek(0)
    sniffed = sniff_content_type(head)
    if sniffed is None:
        raise PartnersError(
            f"The file is named .{extension} but its content is not a PDF, JPG, PNG or WebP "
            "file (it may have been renamed). Export or scan the document as one of those.",
            field="file",
        )
    if sniffed != ALLOWED_EXTENSIONS[extension]:
        raise PartnersError(
            f"The file is named .{extension} but its content is {KIND_LABELS[sniffed]}. "
            "Rename it with the right extension, or upload the intended file.",
            field="file",
        )
    return extension, sniffed


def _megabytes(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.1f}".rstrip("0").rstrip(".") if value < 10 else str(round(value))


def document_upload(
    *,
    affiliate: Affiliate,
    actor: User,
    kind: str,
    title: str,
    description: str = "",
    uploaded_file: UploadedFile,
    ip: str | None = None,
) -> Document:
    """Store a verification document for review (status pending) and log it."""
    if kind not in Document.Kind.values:
        raise PartnersError("Choose the type of document.", field="kind")
    title = (title or "").strip()
    description = (description or "").strip()
    if not title:
        raise PartnersError("Give the document a title.", field="title")
    if len(title) > Document._meta.get_field("title").max_length:
        raise PartnersError("The title is too long (at most 150 characters).", field="title")
    if len(description) > Document._meta.get_field("description").max_length:
        raise PartnersError("The description is too long (at most 1000 characters).", field="description")
    extension, content_type = document_file_check(uploaded_file)

    document = Document(
        affiliate=affiliate,
        uploaded_by=actor,
        kind=kind,
        title=title,
        description=description,
        original_name=original_name_clean(uploaded_file.name, extension=extension),
        content_type=content_type,
        size=uploaded_file.size,
    )
    # The stored name is random (see the model's upload_to); only the extension is ours.
    document.file.save(f"document.{extension}", uploaded_file, save=False)
    try:
        with transaction.atomic():
            document.save()
            event_record(
                affiliate=affiliate,
                type=Event.Type.DOCUMENT_UPLOADED,
                actor=actor,
                ip=ip,
                data={"document_id": document.pk, "title": title, "type": document.get_kind_display()},
            )
    except Exception:
        document.file.storage.delete(document.file.name)
        raise
    return document


@transaction.atomic
def document_delete(*, document: Document, actor: User) -> None:
    """Delete a pending or declined document (row now, file once the deletion commits).

    An approved document is the program's proof of verification, so only a manager (in the
    admin) may remove it.
    """
    if document.status == Document.Status.APPROVED:
        raise PartnersError(
            f"Document {document.pk} is approved, and approved documents stay on file as proof "
            "of your verification. Ask your affiliate manager if it must be replaced."
        )
    is_manager = actor.is_staff and not actor.affiliate_id
    if not is_manager and actor.affiliate_id != document.affiliate_id:
        raise PartnersError(f"Document {document.pk} does not belong to your account.")
    storage, name = document.file.storage, document.file.name
    with transaction.atomic():
        event_record(
            affiliate=document.affiliate, type=Event.Type.DOCUMENT_DELETED, actor=actor,
            data={"document_id": document.pk, "title": document.title,
                  "type": document.get_kind_display(), "file_name": document.original_name},
        )
        document.delete()
    # After commit: a rolled-back deletion must not lose the file.
    transaction.on_commit(lambda: storage.delete(name))


def document_approve(*, document: Document, actor: User, comment: str = "") -> Document:
    return _document_review(document=document, actor=actor, status=Document.Status.APPROVED,
                            comment=comment)


def document_decline(*, document: Document, actor: User, comment: str) -> Document:
    if not (comment or "").strip():
        raise PartnersError(
            "Give the reason for declining, so the affiliate knows what to upload instead.",
            field="comment",
        )
    return _document_review(document=document, actor=actor, status=Document.Status.DECLINED,
                            comment=comment)


@transaction.atomic
def _document_review(*, document: Document, actor: User, status: str, comment: str) -> Document:
    document = Document.objects.select_for_update().select_related("affiliate").get(pk=document.pk)
    if document.status != Document.Status.PENDING:
        raise PartnersError(
            f"Document {document.pk} is already {document.get_status_display().lower()}; "
            "only pending documents can be reviewed."
        )
    comment = (comment or "").strip()
    if len(comment) > Document._meta.get_field("review_comment").max_length:
        raise PartnersError("The comment is too long (at most 1000 characters).", field="comment")
    document.status = status
    document.review_comment = comment
    document.reviewed_by = actor
    document.reviewed_at = timezone.now()
    document.save(update_fields=["status", "review_comment", "reviewed_by", "reviewed_at"])
    affiliate = document.affiliate
    event_record(
        affiliate=affiliate,
        type=Event.Type.DOCUMENT_REVIEWED,
        actor=actor,
        data={"document_id": document.pk, "title": document.title, "status": status,
              **({"comment": comment} if comment else {})},
    )
    owner = affiliate.owner
    if owner is not None:
        send_templated_mail(
            to=[owner.email],
            subject=f"Your document \u201c{document.title}\u201d was {document.get_status_display().lower()}",
            template="emails/partners/document_reviewed.txt",
            context={
                "user": owner,
                "document": document,
                "approved": status == Document.Status.APPROVED,
                "document_url": absolute_url(reverse("partners:document_detail", args=[document.pk])),
                "upload_url": absolute_url(reverse("partners:document_upload")),
            },
        )
    return document
