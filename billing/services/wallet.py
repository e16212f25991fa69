"""Payment methods of the wallet: adding and deleting them.

The clear details are validated by billing.payment_details, stored only encrypted, and never
leave this module: the events log and every page get the masked values.
"""
import json

from django.db import IntegrityError, transaction

from backoffice.crypto import decrypt, encrypt
from billing.errors import BillingError
from billing.models import Cashout, CashoutSchedule, PaymentMethod
from billing.payment_details import details_clean, details_mask
from partners.models import Event
from partners.services.events import event_record


def _duplicate_error(method_type: str) -> BillingError:
    label = PaymentMethod.Type(method_type).label
    return BillingError(
        f"You already have a {label} payment method; only one per payment system is allowed. "
        f"Delete the existing one first to replace it.",
        field="type", code="duplicate",
    )


def payment_method_add(*, affiliate, actor, type: str, details: dict, ip: str | None = None) -> PaymentMethod:
    """Validate and store one payment method of `type` (one per type per affiliate). Raises
    BillingError (PaymentDetailsInvalid with every field's message for invalid details)."""
    if type not in PaymentMethod.Type.values:
        raise BillingError("Choose one of the listed payment systems.", field="type")
    cleaned = details_clean(type, details)
    if PaymentMethod.objects.filter(affiliate=affiliate, type=type).exists():
        raise _duplicate_error(type)
    masked = details_mask(type, cleaned)
    try:
        with transaction.atomic():
            method = PaymentMethod.objects.create(
                affiliate=affiliate, type=type,
                details_encrypted=encrypt(json.dumps(cleaned, sort_keys=True)),
                masked=masked,
            )
            event_record(
                affiliate=affiliate, type=Event.Type.PAYMENT_METHOD_ADDED, actor=actor, ip=ip,
                data={"payment_method": method.get_type_display(), "type": type, "details": masked},
            )
    except IntegrityError:
        # Two adds of the same type at once: the unique constraint let one through.
        raise _duplicate_error(type) from None
    return method


def payment_method_details(*, payment_method: PaymentMethod) -> dict[str, str]:
    """The clear details, for the payout itself (never for a page or an event)."""
    return json.loads(decrypt(payment_method.details_encrypted))


def payment_method_delete(*, payment_method: PaymentMethod, actor, ip: str | None = None) -> None:
    """Delete a payment method. Refused while a cashout to it is pending (it would be paid to
    details that no longer exist) or while a cash-out schedule uses it (the schedule would
    silently disappear with it). Cashouts made earlier keep their masked snapshot."""
    with transaction.atomic():
        # Locked so that a cashout requested at the same moment either sees the method gone or
        # is seen here as pending.
        method = PaymentMethod.objects.select_for_update().filter(pk=payment_method.pk).first()
        if method is None:
            return  # already deleted: deleting twice changes nothing
        label = method.get_type_display()
        pending = (Cashout.objects.filter(payment_method=method, status=Cashout.Status.PENDING)
                   .order_by("pk").values_list("pk", flat=True).first())
        if pending is not None:
            raise BillingError(
                f"{label} cannot be deleted while cashout #{pending} to it is pending. "
                f"Wait until it is paid, or cancel it first.",
                field="payment_method", code="in_use",
            )
        schedule = CashoutSchedule.objects.filter(payment_method=method).order_by("pk").first()
        if schedule is not None:
            raise BillingError(
                f"{label} is used by an automatic cash-out schedule ({schedule.currency}, "
                f"{schedule.get_plan_display().lower()}). Delete that schedule first.",
                field="payment_method", code="in_use",
            )
        event_record(
            affiliate=method.affiliate, type=Event.Type.PAYMENT_METHOD_DELETED, actor=actor, ip=ip,
            data={"payment_method": label, "type": method.type, "details": method.masked},
        )
        method.delete()
