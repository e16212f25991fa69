"""Encryption at rest for secrets we must read back (statistic tokens, operator secrets,
integration credentials), and digests for looking them up without decrypting.

Fernet (AES-128-CBC + HMAC-SHA256) keyed by settings.FIELD_ENCRYPTION_KEY, or, when that is
empty, by a key derived from SECRET_KEY. Several comma-separated keys may be given: the first
encrypts, all decrypt (key rotation).
"""
import base64
import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@cache
def _fernet(field_key: str, secret_key: str) -> MultiFernet:
    keys = [k.strip() for k in field_key.split(",") if k.strip()]
    if not keys:
        derived = hashlib.sha256(b"backoffice.crypto:" + secret_key.encode()).digest()
        keys = [base64.urlsafe_b64encode(derived).decode()]
    return MultiFernet([Fernet(k.encode()) for k in keys])


def _active() -> MultiFernet:
    return _fernet(settings.FIELD_ENCRYPTION_KEY, settings.SECRET_KEY)


def encrypt(plaintext: str) -> str:
    return _active().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _active().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise ValueError(
            "stored secret cannot be decrypted: FIELD_ENCRYPTION_KEY (or SECRET_KEY) changed"
        ) from exc


def digest(value: str) -> str:
    """SHA-256 hex of a high-entropy secret, for an indexed lookup.

    Only for random tokens of 128+ bits: they need no salt or slow hash, and the digest
    reveals nothing usable. Never use it for passwords.
    """
    return hashlib.sha256(value.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
