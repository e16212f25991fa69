"""Payment details per payment method type: which fields each type asks for, how each is
validated, and how it is masked for display.

The clear details are only ever stored encrypted (PaymentMethod.details_encrypted); pages,
events and cashout snapshots carry the masked values made here, never the clear ones.

Validation is pure (no database): `details_clean(type, data)` returns the normalised values
or raises PaymentDetailsInvalid with one message per field, so a form can show them all.
"""
import hashlib
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from billing.errors import BillingError
from billing.models.wallet import PaymentMethodType as T

MASK = "\u2022"  # •

# --- IBAN -------------------------------------------------------------------------------------

# Length of the IBAN per country (ISO 13616 registry). A country not listed is checked for the
# general shape and the checksum only.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}
_IBAN_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")


def iban_normalize(value: str) -> str:
    """Upper case without spaces (people paste "de89 3704 0044 ...")."""
    return "".join((value or "").split()).replace("-", "").upper()


def iban_error(value: str) -> str | None:
    """Why `value` (normalised) is not a valid IBAN, or None if it is."""
    if not _IBAN_SHAPE.match(value):
        return "Enter an IBAN: a country code, two check digits and the account number, e.g. DE89 3704 0044 0532 0130 00."
    expected = IBAN_LENGTHS.get(value[:2])
    if expected is not None and len(value) != expected:
        return f"An IBAN from {value[:2]} has {expected} characters; this one has {len(value)}."
    rearranged = value[4:] + value[:4]
    number = int("".join(str(int(ch, 36)) for ch in rearranged))
    if number % 97 != 1:
        return "This IBAN is not valid: its check digits do not match. Check it for a typo."
    return None


# --- SWIFT / BIC ------------------------------------------------------------------------------

_BIC = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")


def bic_normalize(value: str) -> str:
    return "".join((value or "").split()).upper()


def bic_error(value: str) -> str | None:
    if not _BIC.match(value):
        return "Enter a SWIFT/BIC code of 8 or 11 characters: bank (4 letters), country (2 letters), location (2) and optionally branch (3), e.g. DEUTDEFF."
    return None


# --- Crypto addresses ---------------------------------------------------------------------------

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def base58check_decode(value: str) -> bytes | None:
    """The payload (version byte included) of a Base58Check string, or None if it is not one."""
    number = 0
    for ch in value:
        index = _B58_ALPHABET.find(ch)
        if index < 0:
            return None
        number = number * 58 + index
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    raw = b"\x00" * (len(value) - len(value.lstrip("1"))) + raw
    if len(raw) < 5:
        return None
    payload, checksum = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        return None
    return payload


def base58check_encode(payload: bytes) -> str:
    raw = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    number = int.from_bytes(raw, "big")
    out = ""
    while number:
        number, rem = divmod(number, 58)
        out = _B58_ALPHABET[rem] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\x00"))) + out


def _bech32_polymod(values) -> int:
    generator = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            chk ^= generator[i] if ((top >> i) & 1) else 0
    return chk


def bech32_valid(value: str, hrp: str) -> bool:
    """A segwit address of human-readable part `hrp` with a valid bech32 (v0) or bech32m
    (v1+) checksum (BIP 173 / BIP 350)."""
    if value.lower() != value and value.upper() != value:
        return False  # mixed case is never valid
    value = value.lower()
    if not value.startswith(hrp + "1") or not (14 <= len(value) <= 90):
        return False
    data_part = value[len(hrp) + 1:]
    if len(data_part) < 7 or any(ch not in _BECH32_CHARSET for ch in data_part):
        return False
    data = [_BECH32_CHARSET.find(ch) for ch in data_part]
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    const = _bech32_polymod(expanded + data)
    witness_version = data[0]
    if witness_version == 0:
        return const == 1
    return witness_version <= 16 and const == 0x2BC830A3


def _base58_with_version(value: str, versions: set[int], length: int = 21) -> bool:
    payload = base58check_decode(value)
    return payload is not None and len(payload) == length and payload[0] in versions


def _btc_address_ok(value: str) -> bool:
    if value[:3].lower() == "bc1":
        return bech32_valid(value, "bc")
    # P2PKH ("1...", version 0) or P2SH ("3...", version 5)
    return value[:1] in "13" and 26 <= len(value) <= 35 and _base58_with_version(value, {0x00, 0x05})


def _ltc_address_ok(value: str) -> bool:
    if value[:4].lower() == "ltc1":
        return bech32_valid(value, "ltc")
    # "L..." (P2PKH, 0x30), "M..." (P2SH, 0x32) or legacy "3..." (P2SH, 0x05)
    return value[:1] in "LM3" and 26 <= len(value) <= 35 and _base58_with_version(value, {0x30, 0x32, 0x05})


_ETH = re.compile(r"^0x[0-9a-fA-F]{40}$")


def _eth_address_ok(value: str) -> bool:
    return bool(_ETH.match(value))


def _tron_address_ok(value: str) -> bool:
    return value.startswith("T") and len(value) == 34 and _base58_with_version(value, {0x41})


@dataclass(frozen=True)
class Coin:
    code: str
    label: str
    check: object
    example: str


COINS = {
    c.code: c
    for c in (
        Coin("BTC", "Bitcoin (BTC)", _btc_address_ok, "bc1q… or 1… / 3…"),
        Coin("ETH", "Ethereum (ETH)", _eth_address_ok, "0x followed by 40 hex digits"),
        Coin("LTC", "Litecoin (LTC)", _ltc_address_ok, "ltc1… or L… / M…"),
        Coin("USDT_ERC20", "Tether USDT (ERC-20)", _eth_address_ok, "0x followed by 40 hex digits"),
        Coin("USDT_TRC20", "Tether USDT (TRC-20)", _tron_address_ok, "T followed by 33 characters"),
    )
}
COIN_CHOICES = [(c.code, c.label) for c in COINS.values()]


def crypto_address_error(coin: str, address: str) -> str | None:
    spec = COINS.get(coin)
    if spec is None:
        return None  # the coin field reports its own error
    if not spec.check(address):
        return f"This is not a valid {spec.label} address (expected {spec.example}). Copy it again from your wallet."
    return None


# --- E-wallet accounts ------------------------------------------------------------------------

_ACCOUNT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+\-]{2,63}$")
# A WebMoney purse: one letter for its currency (Z = USD, E = EUR, R = RUB ...) and 12 digits;
# a WMID (12 digits) identifies the keeper.
_WEBMONEY_PURSE = re.compile(r"^[A-Z][0-9]{12}$")
_WMID = re.compile(r"^[0-9]{12}$")


def account_id_error(method_type: str, value: str) -> str | None:
    if method_type == T.WEBMONEY:
        if not (_WEBMONEY_PURSE.match(value.upper()) or _WMID.match(value)):
            return "Enter a WebMoney purse (a letter and 12 digits, e.g. Z123456789012) or your 12-digit WMID."
        return None
    if not _ACCOUNT_ID.match(value):
        return "Enter the account ID as shown by the payment system: 3 to 64 letters, digits or . _ @ + -, no spaces."
    return None


# --- Masking ----------------------------------------------------------------------------------

def mask_tail(value: str, visible: int = 4) -> str:
    """"•••• 1234": only the last characters, and only when enough stays hidden."""
    if len(value) <= visible * 2:
        return MASK * 4
    return f"{MASK * 4} {value[-visible:]}"


def mask_iban(value: str) -> str:
    """"DE89 •••• •••• •••• 3000": country and check digits, then the last four."""
    groups = max(1, (len(value) - 8) // 4)
    return " ".join([value[:4], *([MASK * 4] * groups), value[-4:]])


def mask_email(value: str) -> str:
    """"j•••@example.com"."""
    local, _, domain = value.partition("@")
    return f"{local[:1]}{MASK * 3}@{domain}"


def mask_text(value: str, visible: int = 1) -> str:
    """Each word's first letter(s): "J••• S•••"."""
    words = value.split()
    return " ".join(f"{w[:visible]}{MASK * 3}" for w in words[:6]) or MASK * 3


def mask_bic(value: str) -> str:
    return value[:4] + MASK * (len(value) - 4)


def mask_address(value: str) -> str:
    if len(value) <= 12:
        return MASK * 4
    return f"{value[:4]}{MASK * 4}{value[-4:]}"


# --- The fields of each type --------------------------------------------------------------------

@dataclass(frozen=True)
class DetailField:
    name: str
    label: str
    required: bool = True
    kind: str = "text"  # text | email | textarea | choice
    max_length: int = 200
    help_text: str = ""
    choices: list = field(default_factory=list)


_EMAIL = DetailField("email", "E-mail", required=False, kind="email", max_length=254,
                     help_text="The e-mail of your account with the payment system.")
_ACCOUNT = DetailField("account_id", "Account ID", required=False, max_length=64,
                       help_text="Or your account ID with the payment system.")
_WALLET_FIELDS = (_EMAIL, _ACCOUNT)

FIELDS: dict[str, tuple[DetailField, ...]] = {
    T.BANK_TRANSFER: (
        DetailField("beneficiary_name", "Beneficiary name", max_length=140,
                    help_text="The account holder's name, as the bank knows it."),
        DetailField("iban", "IBAN", max_length=50, help_text="e.g. DE89 3704 0044 0532 0130 00"),
        DetailField("swift", "SWIFT/BIC", max_length=15, help_text="8 or 11 characters, e.g. DEUTDEFF"),
        DetailField("bank_name", "Bank name", max_length=140),
        DetailField("bank_address", "Bank address", kind="textarea", max_length=300),
    ),
    T.NETELLER: _WALLET_FIELDS,
    T.SKRILL: _WALLET_FIELDS,
    T.CAPITALIST: _WALLET_FIELDS,
    T.PLAYER_ACCOUNT: _WALLET_FIELDS,
    T.WEBMONEY: (
        _EMAIL,
        DetailField("account_id", "Purse or WMID", required=False, max_length=20,
                    help_text="Or your purse (a letter and 12 digits, e.g. Z123456789012) or 12-digit WMID."),
    ),
    T.COINSPAID: (
        DetailField("coin", "Coin", kind="choice", max_length=20, choices=COIN_CHOICES),
        DetailField("address", "Wallet address", max_length=120,
                    help_text="The address of your wallet for the chosen coin."),
    ),
    T.OTHER: (
        DetailField("payment_details", "Payment details", kind="textarea", max_length=1000,
                    help_text="Everything the program needs to pay you."),
    ),
}

# E-wallets: the e-mail or the account ID identifies the account; at least one is needed.
EMAIL_OR_ACCOUNT = frozenset({T.NETELLER, T.SKRILL, T.CAPITALIST, T.PLAYER_ACCOUNT, T.WEBMONEY})

_MASKERS = {
    "beneficiary_name": mask_text,
    "iban": mask_iban,
    "swift": mask_bic,
    "bank_name": mask_text,
    "bank_address": mask_text,
    "email": mask_email,
    "account_id": mask_tail,
    "address": mask_address,
    "payment_details": mask_text,
}


def fields_for(method_type: str) -> tuple[DetailField, ...]:
    try:
        return FIELDS[method_type]
    except KeyError:
        raise BillingError(f"Unknown payment method type {method_type!r}.", field="type") from None


class PaymentDetailsInvalid(BillingError):
    """The details of a payment method are invalid; `errors` maps field name -> message."""

    def __init__(self, errors: dict[str, str]):
        first_field, first_message = next(iter(errors.items()))
        super().__init__(first_message, field=first_field)
        self.errors = errors


def details_clean(method_type: str, data: dict) -> dict[str, str]:
    """Normalise and validate the details of one payment method. Returns the cleaned values
    (only the fields of the type, empty optional ones left out); raises PaymentDetailsInvalid."""
    specs = fields_for(method_type)
    cleaned: dict[str, str] = {}
    errors: dict[str, str] = {}
    for spec in specs:
        raw = data.get(spec.name)
        value = "" if raw is None else str(raw).strip()
        if spec.kind != "textarea":
            value = " ".join(value.split())
        if not value:
            if spec.required:
                errors[spec.name] = "This field is required."
            continue
        if len(value) > spec.max_length:
            errors[spec.name] = f"At most {spec.max_length} characters."
            continue
        error = None
        if spec.name == "iban":
            value = iban_normalize(value)
            error = iban_error(value)
        elif spec.name == "swift":
            value = bic_normalize(value)
            error = bic_error(value)
        elif spec.kind == "email":
            try:
                validate_email(value)
            except ValidationError:
                error = "Enter a valid e-mail address."
            value = value.lower()
        elif spec.name == "account_id":
            if method_type == T.WEBMONEY:
                value = value.upper()
            error = account_id_error(method_type, value)
        elif spec.kind == "choice" and value not in dict(spec.choices):
            error = "Choose one of the listed options."
        if error:
            errors[spec.name] = error
        else:
            cleaned[spec.name] = value
    if method_type == T.COINSPAID and "address" in cleaned and "coin" in cleaned:
        error = crypto_address_error(cleaned["coin"], cleaned["address"])
        if error:
            errors["address"] = error
            del cleaned["address"]
    if method_type in EMAIL_OR_ACCOUNT and not errors and not cleaned:
        errors["email"] = "Enter the e-mail or the account ID of your account (at least one)."
    if errors:
        raise PaymentDetailsInvalid(errors)
    return cleaned


def details_mask(method_type: str, cleaned: dict[str, str]) -> dict[str, str]:
    """Field label -> masked value, for pages, events and cashout snapshots."""
    masked = {}
    for spec in fields_for(method_type):
        value = cleaned.get(spec.name)
        if not value:
            continue
        if spec.kind == "choice":
            masked[spec.label] = dict(spec.choices).get(value, value)  # the coin is not a secret
        else:
            masked[spec.label] = _MASKERS.get(spec.name, mask_text)(value)
    return masked


def masked_rows(method_type: str, masked: dict[str, str]) -> list[tuple[str, str]]:
    """The masked values in the order of the type's fields (a JSON column may not keep the
    order of its keys), followed by any label the fields no longer have."""
    try:
        labels = [spec.label for spec in fields_for(method_type)]
    except BillingError:
        labels = []
    rows = [(label, masked[label]) for label in labels if label in masked]
    rows += [(label, value) for label, value in masked.items() if label not in labels]
    return rows


def masked_summary(method_type: str, masked: dict[str, str]) -> str:
    """One line for lists: the most telling masked field (IBAN, e-mail, address ...)."""
    rows = masked_rows(method_type, masked)
    if method_type == T.BANK_TRANSFER:
        rows = [r for r in rows if r[0] == "IBAN"] or rows
    if method_type == T.COINSPAID:
        coin = masked.get("Coin", "")
        address = masked.get("Wallet address", "")
        return f"{coin} {address}".strip()
    return rows[0][1] if rows else ""
