"""Profile editing: the affiliate's details (owner only) and each user's personal details."""
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from backoffice.money import CURRENCIES
from partners.errors import PartnersError
from partners.models import Affiliate, Event, User
from partners.services.events import event_record

# ISO 3166-1 alpha-2, the officially assigned codes, plus XK (user-assigned, but what the
# EU, SWIFT and most payment providers use for Kosovo).
_COUNTRY_CODES = """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
VN VU WF WS XK YE YT ZA ZM ZW
"""
COUNTRY_CODES = frozenset(_COUNTRY_CODES.split())

# What the profile form may change on the Affiliate (owner or manager only) ...
AFFILIATE_FIELDS = (
    "name", "company_name", "phone", "messenger", "messenger_id", "website", "country",
    "city", "address", "default_report_currency",
    "subscribe_news", "subscribe_payments", "subscribe_reports",
)
# ... and on the user's own row. The keys are prefixed because Affiliate and User both have
# a phone and a messenger; the same names appear in the event's "changed" list.
USER_FIELDS = {
    "user_first_name": "first_name",
    "user_last_name": "last_name",
    "user_phone": "phone",
    "user_messenger": "messenger",
}


def country_normalize(value: str) -> str:
    """'mt ' -> 'MT'; raises PartnersError for anything that is not an ISO 3166-1 code."""
    code = (value or "").strip().upper()
    if code and code not in COUNTRY_CODES:
        raise PartnersError(
            "Enter the two-letter ISO 3166-1 code of your country, e.g. DE, GB or MT.",
            field="country",
        )
    return code


@transaction.atomic
def profile_update(
    *,
    affiliate: Affiliate,
    user: User,
    actor: User,
    ip: str | None = None,
    **fields: Any,
) -> list[str]:
    """Change the affiliate's details and/or `user`'s personal details.

    Only the account owner (or a program manager) may change affiliate fields; anybody may
    change their own personal fields. Saves only what changed and logs PROFILE_UPDATED with
    the names of the changed fields (not their values: the log is visible to the whole team).
    Returns those names; empty when nothing changed (then nothing is saved or logged).
    """
    unknown = set(fields) - set(AFFILIATE_FIELDS) - set(USER_FIELDS)
    if unknown:
        raise PartnersError(f"These profile fields do not exist: {', '.join(sorted(unknown))}.")
    if user.affiliate_id != affiliate.pk:
        raise PartnersError(f"{user.email} is not a user of affiliate {affiliate.pk}.")
    is_manager = actor.is_staff and not actor.affiliate_id
    if actor.pk != user.pk and not is_manager:
        raise PartnersError("You can only change your own personal details.")

    affiliate_values = {k: v for k, v in fields.items() if k in AFFILIATE_FIELDS}
    if "country" in affiliate_values:
        affiliate_values["country"] = country_normalize(affiliate_values["country"])
    if "default_report_currency" in affiliate_values and affiliate_values["default_report_currency"] not in CURRENCIES:
        raise PartnersError("Choose one of the listed currencies.", field="default_report_currency")
    for key, value in affiliate_values.items():
        if isinstance(value, str):
            affiliate_values[key] = value.strip()

    affiliate_changed = [k for k, v in affiliate_values.items() if getattr(affiliate, k) != v]
    if affiliate_changed and not (is_manager or (actor.is_owner and actor.affiliate_id == affiliate.pk)):
        raise PartnersError("Only the account owner can change the affiliate's details.")

    user_values = {USER_FIELDS[k]: (v.strip() if isinstance(v, str) else v)
                   for k, v in fields.items() if k in USER_FIELDS}
    user_changed = [k for k in USER_FIELDS if USER_FIELDS[k] in user_values
                    and getattr(user, USER_FIELDS[k]) != user_values[USER_FIELDS[k]]]

    if affiliate_changed:
        for key in affiliate_changed:
            setattr(affiliate, key, affiliate_values[key])
        _clean(affiliate, affiliate_changed, lambda name: name)
        affiliate.save(update_fields=affiliate_changed)
    if user_changed:
        model_names = [USER_FIELDS[k] for k in user_changed]
        for name in model_names:
            setattr(user, name, user_values[name])
        _clean(user, model_names, lambda name: f"user_{name}")
        user.save(update_fields=model_names)

    changed = affiliate_changed + user_changed
    if changed:
        event_record(
            affiliate=affiliate,
            type=Event.Type.PROFILE_UPDATED,
            actor=actor,
            user=user if user_changed else None,
            ip=ip,
            data={"changed": changed},
        )
    return changed


def _clean(instance, model_fields: list[str], form_name) -> None:
    """Model-level validation (lengths, choices, URL) of just the fields being saved."""
    exclude = [f.name for f in instance._meta.fields if f.name not in model_fields]
    try:
        instance.clean_fields(exclude=exclude)
    except ValidationError as exc:
        name, errors = next(iter(exc.message_dict.items()))
        raise PartnersError(f"{name.replace('_', ' ').capitalize()}: {errors[0]}",
                            field=form_name(name)) from exc
