"""Money: Decimal amounts with a currency code beside them. Defined once, used by every app.

Fiat amounts have 2 decimal places, crypto 8 (CONVENTIONS §2). Floats never carry money.
"""
from decimal import ROUND_HALF_UP, Decimal

from django.db import models

FIAT_CURRENCIES = (
    "EUR", "USD", "GBP", "CAD", "AUD", "NZD", "NOK", "SEK", "DKK", "CHF", "PLN", "CZK",
    "HUF", "JPY", "BRL", "MXN", "INR", "TRY", "ZAR", "KZT", "UAH",
)
# Codes are 3 letters (CharField(3) everywhere), so tokens such as USDT are not listed.
CRYPTO_CURRENCIES = ("BTC", "ETH", "LTC")
CURRENCIES = FIAT_CURRENCIES + CRYPTO_CURRENCIES
CURRENCY_CHOICES = [(c, c) for c in CURRENCIES]
DEFAULT_CURRENCY = "EUR"

FIAT_PLACES = 2
CRYPTO_PLACES = 8


def currency_field(**kwargs) -> models.CharField:
    kwargs.setdefault("max_length", 3)
    kwargs.setdefault("choices", CURRENCY_CHOICES)
    kwargs.setdefault("default", DEFAULT_CURRENCY)
    return models.CharField(**kwargs)


def money_field(*, crypto: bool = False, **kwargs) -> models.DecimalField:
    """A DecimalField sized for money: (20, 2), or (28, 8) where a crypto amount may land."""
    return models.DecimalField(
        max_digits=28 if crypto else 20,
        decimal_places=CRYPTO_PLACES if crypto else FIAT_PLACES,
        **kwargs,
    )


def places(currency: str) -> int:
    return CRYPTO_PLACES if currency in CRYPTO_CURRENCIES else FIAT_PLACES


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's places. Refuses floats: they cannot carry money."""
    if isinstance(amount, float):
        raise TypeError("money must be Decimal, not float")
    return Decimal(amount).quantize(Decimal(1).scaleb(-places(currency)), rounding=ROUND_HALF_UP)


def from_minor_units(minor: int, currency: str) -> Decimal:
    return quantize(Decimal(int(minor)).scaleb(-places(currency)), currency)
