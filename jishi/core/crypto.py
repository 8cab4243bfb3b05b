"""Field encryption for personal data at rest: AES-256-GCM plus a keyed hash for lookups."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings


def _master() -> bytes:
    raw = settings.FIELD_ENCRYPTION_KEY.encode()
    # Derive separate keys for encryption and lookup hashing so one never doubles as the other.
    return hashlib.sha256(b"jishi-field-key:" + raw).digest()


def _enc_key() -> bytes:
    return hmac.new(_master(), b"encrypt", hashlib.sha256).digest()


def encrypt(plaintext: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_enc_key()).encrypt(nonce, plaintext.encode("utf-8"), b"jishi")
    return "v1:" + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    version, _, body = token.partition(":")
    if version != "v1":
        raise ValueError("unknown ciphertext version")
    blob = base64.urlsafe_b64decode(body)
    return AESGCM(_enc_key()).decrypt(blob[:12], blob[12:], b"jishi").decode("utf-8")


def lookup_hash(value: str) -> str:
    key = hmac.new(_master(), b"lookup", hashlib.sha256).digest()
    return hmac.new(key, value.strip().upper().encode(), hashlib.sha256).hexdigest()
