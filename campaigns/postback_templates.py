"""Postback URL templates: the variables, the lint run on save, and rendering.

A template is a URL with `${variable}` placeholders. Built-in variables come from the player
event; any other name is looked up among the custom parameters of the player's visit (the
query parameters of the tracking link click, e.g. `?clickID=...` feeds `${clickID}`). A
built-in name always means the built-in value: a click cannot override `${amount}` by adding
`?amount=` to the link. A placeholder with no value is sent verbatim, as the partner manual
says. Every substituted value is URL-encoded.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import quote, urlsplit

from backoffice.money import quantize
from backoffice.outbound import UnsafeURL, check_url

# name -> what it is (shown beside the chips on the form)
BUILTIN_VARIABLES: dict[str, str] = {
    "promo_id": "promo (tracking link) id",
    "promo_code": "promo code (bonus code) of the promo",
    "campaign_id": "campaign id",
    "campaign_name": "campaign name",
    "brand": "brand name",
    "tag": "tracking tag <affiliate id>_<visit id>",
    "visit_id": "visit (click) id",
    "player_id": "player id in this program (never the casino's user id)",
    "action": "registration, first_deposit, deposit or qualification",
    "amount": "deposit amount, e.g. 10.00",
    "currency": "deposit currency, e.g. EUR",
    "country": "player's country (ISO code)",
    "event_id": "event id, the same on every retry",
    "timestamp": "when the event happened (Unix seconds)",
}

PLACEHOLDER = re.compile(r"\$\{([^{}]*)\}")
VARIABLE_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")
_MISSING_DOLLAR = re.compile(r"(?<!\$)\{([A-Za-z0-9_.\-]+)\}")
_WRONG_BRACKETS = re.compile(r"\$(?:\[([A-Za-z0-9_.\-]+)\]|\(([A-Za-z0-9_.\-]+)\))")
_PARAM_IN_PATH = re.compile(r"[/&]([A-Za-z0-9_.\-\[\]]+)=")


@dataclass
class Lint:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def lint(template: str) -> Lint:
    """Check a URL template as typed; each error says what to write instead."""
    result = Lint()
    url = (template or "").strip()
    if not url:
        result.errors.append("Enter the postback URL of your tracker.")
        return result

    fixed = _MISSING_DOLLAR.sub(lambda m: "${" + m.group(1) + "}", url)
    if fixed != url:
        found = ", ".join(sorted({"{" + m.group(1) + "}" for m in _MISSING_DOLLAR.finditer(url)}))
        result.errors.append(f"Variables need a $ before the braces: {found}. Write: {fixed}")
    wrong = list(_WRONG_BRACKETS.finditer(url))
    if wrong:
        fixed = _WRONG_BRACKETS.sub(lambda m: "${" + (m.group(1) or m.group(2)) + "}", url)
        found = ", ".join(sorted({m.group(0) for m in wrong}))
        result.errors.append(f"Variables are written ${{name}}, not {found}. Write: {fixed}")
    if url.count("${") != len(PLACEHOLDER.findall(url)):
        result.errors.append("A ${ is not closed with }: write each variable as ${name}.")
    bad_names = [n for n in PLACEHOLDER.findall(url) if not VARIABLE_NAME.match(n)]
    if bad_names:
        result.errors.append(
            f"Variable names may contain letters, digits, _ . and - only: {', '.join('${' + n + '}' for n in bad_names)}."
        )
    if any(c.isspace() for c in url):
        result.errors.append("The URL contains spaces; remove them or write them as %20.")

    parts = _split(url, result)
    if parts is None:
        return result
    if "?" not in url:
        # The manual's ".../affiliate/c=${clickID}" and ".../pb&a=1": the first key=value of
        # the path is where the query should have started.
        match = _PARAM_IN_PATH.search(parts.path)
        if match:
            at = len(parts.scheme) + len("://") + len(parts.netloc) + match.start()
            result.errors.append(f"Parameters must follow a ?: write {url[:at]}?{url[at + 1:]}")
    if "$" in parts.netloc or "{" in parts.netloc:
        result.errors.append("The host cannot contain variables; put them in the path or the query.")
    elif not result.errors:
        try:
            check_url(PLACEHOLDER.sub("x", url))
        except UnsafeURL as exc:
            result.errors.append(exc.message)
    if parts.fragment:
        result.warnings.append("The part after # is never sent to your tracker.")

    unknown = sorted({n for n in PLACEHOLDER.findall(url) if VARIABLE_NAME.match(n)} - BUILTIN_VARIABLES.keys())
    for name in unknown:
        result.warnings.append(
            f"${{{name}}} is not a built-in variable: it is filled from the tracking link's custom "
            f"parameter {name} (e.g. ?{name}=...) and sent as typed when the visit has none."
        )
    return result


def _split(url: str, result: Lint):
    try:
        parts = urlsplit(url)
    except ValueError:
        result.errors.append("This is not a valid URL.")
        return None
    if parts.scheme.lower() not in ("http", "https"):
        result.errors.append("The postback URL must start with http:// or https://.")
        return None
    if not parts.netloc:
        result.errors.append("The postback URL has no host, e.g. https://tracker.example.com/postback?...")
        return None
    return parts


# --- values ---------------------------------------------------------------------------------


def event_variables(event) -> dict[str, str | None]:
    """The built-in values of a PlayerEvent, as strings; None where there is no value."""
    promo = event.promo
    campaign = event.campaign or (promo.campaign if promo else None)
    player = event.player
    visit = event.visit
    brand = promo.brand if promo else (campaign.brand if campaign else player.brand)
    return {
        "promo_id": _text(event.promo_id),
        "promo_code": _text(promo.promo_code if promo else None),
        "campaign_id": _text(campaign.pk if campaign else None),
        "campaign_name": _text(campaign.name if campaign else None),
        "brand": _text(brand.name if brand else None),
        "tag": _text(player.tag or (visit.tag if visit else None)),
        "visit_id": _text(event.visit_id),
        "player_id": _text(player.pk),
        "action": event.type,
        "amount": _text(quantize(event.amount, event.currency) if event.amount is not None else None),
        "currency": _text(event.currency),
        "country": _text(player.country),
        "event_id": str(event.public_id),
        "timestamp": _text(int(event.occurred_at.timestamp())),
    }


def sample_variables(*, promo=None, campaign=None, action: str) -> dict[str, str | None]:
    """Values for "Send test": a fake event, recognisable as such (player 0, tag 0_0)."""
    campaign = campaign or (promo.campaign if promo else None)
    brand = promo.brand if promo else (campaign.brand if campaign else None)
    now = dt.datetime.now(tz=dt.UTC)
    return {
        "promo_id": _text(promo.pk if promo else 0),
        "promo_code": _text(promo.promo_code if promo else "TEST"),
        "campaign_id": _text(campaign.pk if campaign else 0),
        "campaign_name": campaign.name if campaign else "Test campaign",
        "brand": brand.name if brand else "Test brand",
        "tag": "0_0",
        "visit_id": "0",
        "player_id": "0",
        "action": action,
        "amount": "10.00",
        "currency": "EUR",
        "country": "MT",
        "event_id": "00000000-0000-0000-0000-000000000000",
        "timestamp": str(int(now.timestamp())),
    }


def custom_params(visit) -> dict[str, str]:
    """A visit's custom parameters by name (the last value where a parameter repeats)."""
    params = getattr(visit, "params", None) or {}
    out = {}
    for name, value in params.items():
        if isinstance(value, list | tuple):
            value = value[-1] if value else ""
        if value is None:
            continue
        out[str(name)] = str(value)
    return out


def all_variables(builtins: dict[str, str | None], params: dict[str, str]) -> dict[str, str | None]:
    return {**params, **builtins}


def _text(value) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


# --- rendering ------------------------------------------------------------------------------


def render(template: str, variables: dict[str, str | None]) -> str:
    """The URL to call: each known value URL-encoded, each unknown placeholder verbatim."""

    def substitute(match: re.Match) -> str:
        value = variables.get(match.group(1))
        if value is None:
            return match.group(0)
        return quote(value, safe="")

    return PLACEHOLDER.sub(substitute, template.strip())


def json_body(variables: dict[str, str | None]) -> str:
    """The body of a POST postback: every variable (built-in and custom), strings or null."""
    return json.dumps(variables, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
