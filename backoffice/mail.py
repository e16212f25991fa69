"""Transactional e-mail: one helper renders a text template and sends after commit."""
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template import Context
from django.template.loader import get_template


def send_templated_mail(
    *,
    to: Sequence[str],
    subject: str,
    template: str,
    context: dict | None = None,
    attachments: Sequence[tuple[str, bytes, str]] = (),
) -> None:
    """Render `template` (plain text) and send it once the surrounding transaction commits,
    so a rolled-back action never mails anybody."""
    ctx = {"program_name": settings.PROGRAM_NAME, "site_url": settings.SITE_URL, **(context or {})}
    # Plain text: no HTML escaping, so "O'Brien" arrives as typed.
    body = get_template(template).template.render(Context(ctx, autoescape=False))
    message = EmailMessage(
        subject=f"[{settings.PROGRAM_NAME}] {subject}",
        body=body,
        to=list(to),
        attachments=list(attachments),
    )
    transaction.on_commit(lambda: message.send(fail_silently=False))


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"
