"""Ed25519 signing, PIN-sealed private keys and the exact signed messages.

Standard library and ``cryptography`` only — the standalone verifier imports this module without Django.

Sealed private key token (all text, ``$``-separated, base64 is URL-safe with ``=`` padding)::

    v1$scrypt$<n_log2>$<r>$<p>$<b64(salt)>$<b64(nonce + ciphertext + tag)>

The key-encryption key is scrypt(NFC(pin) as UTF-8, salt, N=2**n_log2, r, p, 32 bytes); the private key is
encrypted with AES-256-GCM under a random 12-byte nonce, associated data ``b"jishi-signing-key-v1"``.
``open_private_key`` uses the parameters written in the token, so the cost can be raised later.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass, field
from itertools import pairwise

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

__all__ = [
    "KeyPair",
    "WrongPin",
    "checkpoint_message",
    "event_signature_message",
    "generate_keypair",
    "key_id",
    "open_private_key",
    "public_key_for",
    "seal_private_key",
    "sign",
    "validate_pin",
    "verify",
]

PUBLIC_KEY_SIZE = 32
PRIVATE_KEY_SIZE = 32
SIGNATURE_SIZE = 64
KEY_ID_LENGTH = 16

TOKEN_VERSION = "v1"
TOKEN_KDF = "scrypt"
SEAL_AAD = b"jishi-signing-key-v1"
SALT_SIZE = 16
NONCE_SIZE = 12
TAG_SIZE = 16
DERIVED_KEY_SIZE = 32
DEFAULT_N_LOG2 = 15
MIN_N_LOG2 = 10
MAX_N_LOG2 = 20
SCRYPT_R = 8
SCRYPT_P = 1
# Bounds for parameters read back from a token (a hostile token must not be able to exhaust the server).
MAX_SCRYPT_R = 32
MAX_SCRYPT_P = 16
MAX_SCRYPT_MEMORY = 2**30  # bytes: 128 * r * N, i.e. n_log2=20 with r=8

PIN_MIN_LENGTH = 6
PIN_MAX_LENGTH = 12
PIN_RULE_MESSAGE = "签名口令须为6至12位，且不能是连续或重复的数字。"

EVENT_SIGNATURE_DOMAIN = "jishi-sign-v1"
CHECKPOINT_DOMAIN = "jishi-checkpoint-v1"

_B64_FIELD = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_PARAM_FIELD = re.compile(r"[1-9][0-9]{0,2}")


class WrongPin(Exception):
    """The PIN does not open the sealed private key."""


@dataclass(frozen=True)
class KeyPair:
    """Raw Ed25519 key pair: 32-byte public key and 32-byte private seed (kept out of ``repr``)."""

    public_key: bytes
    private_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _require_bytes("public_key", self.public_key, PUBLIC_KEY_SIZE)
        _require_bytes("private_key", self.private_key, PRIVATE_KEY_SIZE)


# Keys and signatures ---------------------------------------------------------------------------------


def generate_keypair() -> KeyPair:
    private = Ed25519PrivateKey.generate()
    return KeyPair(public_key=private.public_key().public_bytes_raw(), private_key=private.private_bytes_raw())


def public_key_for(private_key: bytes) -> bytes:
    """The raw public key belonging to a raw private key (e.g. to check an opened key against the enrolled one)."""
    _require_bytes("private_key", private_key, PRIVATE_KEY_SIZE)
    return Ed25519PrivateKey.from_private_bytes(private_key).public_key().public_bytes_raw()


def key_id(public_key: bytes) -> str:
    """First 16 hex characters of SHA-256 over the raw 32-byte public key."""
    _require_bytes("public_key", public_key, PUBLIC_KEY_SIZE)
    return hashlib.sha256(public_key).hexdigest()[:KEY_ID_LENGTH]


def sign(private_key: bytes, message: bytes) -> bytes:
    _require_bytes("private_key", private_key, PRIVATE_KEY_SIZE)
    _require_bytes("message", message)
    return Ed25519PrivateKey.from_private_bytes(private_key).sign(message)


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True only for a valid signature; any malformed key, message or signature gives False, never an error."""
    if not (isinstance(public_key, bytes) and isinstance(message, bytes) and isinstance(signature, bytes)):
        return False
    if len(public_key) != PUBLIC_KEY_SIZE or len(signature) != SIGNATURE_SIZE:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


# PIN-sealed private keys -----------------------------------------------------------------------------


def validate_pin(pin: str) -> None:
    """Raise ValueError (Chinese message) unless the PIN has 6–12 characters and is not a trivial digit pattern.

    Length is counted after NFC normalization. Trivial patterns: one digit repeated (111111) and runs stepping
    by one, up or down, wrapping 9↔0 (123456, 654321, 7890123, 1234567890). Any Unicode decimal digits count
    (so full-width １２３４５６ is refused too).
    """
    if not isinstance(pin, str):
        raise TypeError("pin must be a str")
    normalized = unicodedata.normalize("NFC", pin)
    if not PIN_MIN_LENGTH <= len(normalized) <= PIN_MAX_LENGTH:
        raise ValueError(PIN_RULE_MESSAGE)
    digits = [unicodedata.decimal(ch, -1) for ch in normalized]
    if -1 in digits:
        return
    steps = {(b - a) % 10 for a, b in pairwise(digits)}
    if steps in ({0}, {1}, {9}):
        raise ValueError(PIN_RULE_MESSAGE)


def seal_private_key(private_key: bytes, pin: str, *, n_log2: int = DEFAULT_N_LOG2) -> str:
    """Encrypt a raw private key under a PIN; returns the ``v1$scrypt$…`` token.

    Does not judge PIN strength — call ``validate_pin`` when the PIN is chosen.
    """
    _require_bytes("private_key", private_key, PRIVATE_KEY_SIZE)
    _require_pin(pin)
    if isinstance(n_log2, bool) or not isinstance(n_log2, int) or not MIN_N_LOG2 <= n_log2 <= MAX_N_LOG2:
        raise ValueError(f"n_log2 must be an int from {MIN_N_LOG2} to {MAX_N_LOG2}")
    salt = os.urandom(SALT_SIZE)
    nonce = os.urandom(NONCE_SIZE)
    kek = _derive(pin, salt, n_log2, SCRYPT_R, SCRYPT_P)
    ciphertext = AESGCM(kek).encrypt(nonce, private_key, SEAL_AAD)
    return "$".join(
        [
            TOKEN_VERSION,
            TOKEN_KDF,
            str(n_log2),
            str(SCRYPT_R),
            str(SCRYPT_P),
            _b64encode(salt),
            _b64encode(nonce + ciphertext),
        ]
    )


def open_private_key(sealed: str, pin: str) -> bytes:
    """Decrypt a token from ``seal_private_key``. Wrong PIN (or tampered contents): WrongPin; malformed: ValueError."""
    _require_pin(pin)
    n_log2, r, p, salt, blob = _parse_token(sealed)
    nonce, ciphertext = blob[:NONCE_SIZE], blob[NONCE_SIZE:]
    kek = _derive(pin, salt, n_log2, r, p)
    try:
        return AESGCM(kek).decrypt(nonce, ciphertext, SEAL_AAD)
    except InvalidTag:
        raise WrongPin("签名口令不正确。") from None


def _parse_token(sealed: str) -> tuple[int, int, int, bytes, bytes]:
    if not isinstance(sealed, str):
        raise ValueError("sealed key must be a str token")
    parts = sealed.split("$")
    if len(parts) != 7:
        raise ValueError("malformed sealed key: expected 7 '$'-separated fields")
    version, kdf, n_text, r_text, p_text, salt_text, blob_text = parts
    if version != TOKEN_VERSION:
        raise ValueError(f"malformed sealed key: unsupported version {version!r}")
    if kdf != TOKEN_KDF:
        raise ValueError(f"malformed sealed key: unsupported KDF {kdf!r}")
    n_log2, r, p = (_parse_param(text) for text in (n_text, r_text, p_text))
    if not MIN_N_LOG2 <= n_log2 <= MAX_N_LOG2:
        raise ValueError(f"malformed sealed key: n_log2 must be {MIN_N_LOG2}–{MAX_N_LOG2}")
    if not 1 <= r <= MAX_SCRYPT_R or not 1 <= p <= MAX_SCRYPT_P or 128 * r * 2**n_log2 > MAX_SCRYPT_MEMORY:
        raise ValueError("malformed sealed key: scrypt parameters out of range")
    salt = _b64decode(salt_text)
    blob = _b64decode(blob_text)
    if len(salt) != SALT_SIZE:
        raise ValueError("malformed sealed key: wrong salt length")
    if len(blob) != NONCE_SIZE + PRIVATE_KEY_SIZE + TAG_SIZE:
        raise ValueError("malformed sealed key: wrong ciphertext length")
    return n_log2, r, p, salt, blob


def _parse_param(text: str) -> int:
    if not _PARAM_FIELD.fullmatch(text):
        raise ValueError(f"malformed sealed key: bad parameter {text!r}")
    return int(text)


def _derive(pin: str, salt: bytes, n_log2: int, r: int, p: int) -> bytes:
    secret = unicodedata.normalize("NFC", pin).encode("utf-8")
    return Scrypt(salt=salt, length=DERIVED_KEY_SIZE, n=2**n_log2, r=r, p=p).derive(secret)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def _b64decode(text: str) -> bytes:
    """Strict padded URL-safe base64: only the canonical encoding of some bytes is accepted."""
    if not _B64_FIELD.fullmatch(text) or len(text) % 4:
        raise ValueError("malformed sealed key: bad base64")
    try:
        data = base64.urlsafe_b64decode(text)
    except (binascii.Error, ValueError):
        raise ValueError("malformed sealed key: bad base64") from None
    if _b64encode(data) != text:
        raise ValueError("malformed sealed key: non-canonical base64")
    return data


# Signed messages -------------------------------------------------------------------------------------
# Deliberately plain formatting: the verifier rebuilds these from possibly tampered rows and must get bytes
# (and a failed signature check), never an exception.


def event_signature_message(*, fonds: str, seq: int, event_hash: str, role: str) -> bytes:
    """The bytes signed when someone confirms an event: ``jishi-sign-v1\\n{fonds}\\n{seq}\\n{event_hash}\\n{role}``."""
    return f"{EVENT_SIGNATURE_DOMAIN}\n{fonds}\n{seq}\n{event_hash}\n{role}".encode()


def checkpoint_message(*, fonds: str, tree_size: int, root_hex: str, timestamp: str, algorithm: str) -> bytes:
    """The bytes a checkpoint signs.

    ``jishi-checkpoint-v1\\n{fonds}\\n{tree_size}\\n{algorithm}\\n{root_hex}\\n{timestamp}``
    """
    return f"{CHECKPOINT_DOMAIN}\n{fonds}\n{tree_size}\n{algorithm}\n{root_hex}\n{timestamp}".encode()


# Argument checks -------------------------------------------------------------------------------------


def _require_bytes(name: str, value: object, size: int | None = None) -> None:
    if not isinstance(value, bytes):
        raise TypeError(f"{name} must be bytes, not {type(value).__name__}")
    if size is not None and len(value) != size:
        raise ValueError(f"{name} must be {size} bytes, got {len(value)}")


def _require_pin(pin: object) -> None:
    if not isinstance(pin, str):
        raise TypeError("pin must be a str")
