"""Ed25519 signing, PIN-sealed keys and signed-message bytes — pure, no database."""

from __future__ import annotations

import ast
import base64
import dataclasses
import hashlib
import inspect
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from jishi.ledger import signing
from jishi.ledger.signing import (
    KeyPair,
    WrongPin,
    checkpoint_message,
    event_signature_message,
    generate_keypair,
    key_id,
    open_private_key,
    seal_private_key,
    sign,
    validate_pin,
    verify,
)

FAST = 10  # scrypt n_log2 for tests
PIN = "839201"
MESSAGE = b"jishi-sign-v1\nJ001\n7\n" + b"ab" * 32 + b"\ninspector"
TOKEN_SHAPE = re.compile(r"v1\$scrypt\$(\d+)\$8\$1\$([A-Za-z0-9_-]{22}(?:==)?)\$([A-Za-z0-9_-]{80})")

# RFC 8032 §7.1, test 1 (empty message).
RFC_PRIVATE = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC_SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)


@pytest.fixture(scope="module")
def pair() -> KeyPair:
    return generate_keypair()


@pytest.fixture(scope="module")
def sealed(pair: KeyPair) -> str:
    return seal_private_key(pair.private_key, PIN, n_log2=FAST)


def public_key_for(private_key: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(private_key).public_key().public_bytes_raw()


def flip_bit(data: bytes, index: int = 0, bit: int = 0) -> bytes:
    out = bytearray(data)
    out[index] ^= 1 << bit
    return bytes(out)


def b64(data: bytes, *, padded: bool = False) -> str:
    text = base64.urlsafe_b64encode(data).decode()
    return text if padded else text.rstrip("=")


def uses_padding(token: str) -> bool:
    """Whether the module pads its base64 (the spec leaves it open); hand-made tokens follow suit."""
    return token.split("$")[5].endswith("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def replace_field(token: str, index: int, value: str) -> str:
    parts = token.split("$")
    parts[index] = value
    return "$".join(parts)


def change_char(text: str, position: int) -> str:
    """Replace one base64 character by another valid one."""
    old = text[position]
    new = "A" if old != "A" else "B"
    return text[:position] + new + text[position + 1 :]


def hand_made_token(private_key: bytes, pin: str, *, n_log2: int, r: int, p: int, padded: bool) -> str:
    """Build a token from the documented recipe, independently of the module."""
    salt, nonce = os.urandom(16), os.urandom(12)
    kek = Scrypt(salt=salt, length=32, n=2**n_log2, r=r, p=p).derive(unicodedata.normalize("NFC", pin).encode())
    blob = nonce + AESGCM(kek).encrypt(nonce, private_key, b"jishi-signing-key-v1")
    return f"v1$scrypt${n_log2}${r}${p}${b64(salt, padded=padded)}${b64(blob, padded=padded)}"


# Key pairs and key ids -------------------------------------------------------------------------------


def test_a_generated_key_pair_has_32_byte_halves_that_belong_together(pair: KeyPair) -> None:
    assert len(pair.public_key) == 32
    assert len(pair.private_key) == 32
    assert public_key_for(pair.private_key) == pair.public_key


def test_two_generated_key_pairs_differ(pair: KeyPair) -> None:
    other = generate_keypair()
    assert other.private_key != pair.private_key
    assert other.public_key != pair.public_key


def test_a_key_pair_is_frozen(pair: KeyPair) -> None:
    assert dataclasses.is_dataclass(pair)
    with pytest.raises(dataclasses.FrozenInstanceError):
        pair.private_key = b"\0" * 32  # type: ignore[misc]


def test_a_key_id_is_the_first_16_hex_chars_of_sha256_over_the_raw_public_key(pair: KeyPair) -> None:
    kid = key_id(pair.public_key)
    assert re.fullmatch(r"[0-9a-f]{16}", kid)
    assert kid == hashlib.sha256(pair.public_key).hexdigest()[:16]
    assert key_id(pair.public_key) == kid
    assert key_id(RFC_PUBLIC) == hashlib.sha256(RFC_PUBLIC).hexdigest()[:16]


def test_different_public_keys_have_different_key_ids(pair: KeyPair) -> None:
    assert key_id(pair.public_key) != key_id(generate_keypair().public_key)


# Signing and verifying -------------------------------------------------------------------------------


def test_signing_matches_the_rfc_8032_test_vector() -> None:
    assert public_key_for(RFC_PRIVATE) == RFC_PUBLIC
    assert sign(RFC_PRIVATE, b"") == RFC_SIGNATURE
    assert verify(RFC_PUBLIC, b"", RFC_SIGNATURE)


def test_a_signature_verifies_with_the_signers_public_key(pair: KeyPair) -> None:
    signature = sign(pair.private_key, MESSAGE)
    assert len(signature) == 64
    assert verify(pair.public_key, MESSAGE, signature) is True


def test_a_signature_does_not_verify_under_another_public_key(pair: KeyPair) -> None:
    signature = sign(pair.private_key, MESSAGE)
    assert verify(generate_keypair().public_key, MESSAGE, signature) is False


@pytest.mark.parametrize(("index", "bit"), [(0, 0), (20, 3), (-1, 7)])
def test_a_flipped_bit_in_the_message_fails_verification(pair: KeyPair, index: int, bit: int) -> None:
    signature = sign(pair.private_key, MESSAGE)
    assert verify(pair.public_key, flip_bit(MESSAGE, index, bit), signature) is False


@pytest.mark.parametrize(("index", "bit"), [(0, 0), (31, 5), (32, 0), (63, 2)])
def test_a_flipped_bit_in_the_signature_fails_verification(pair: KeyPair, index: int, bit: int) -> None:
    signature = sign(pair.private_key, MESSAGE)
    assert verify(pair.public_key, MESSAGE, flip_bit(signature, index, bit)) is False


@pytest.mark.parametrize(("index", "bit"), [(0, 0), (15, 4), (31, 1)])
def test_a_flipped_bit_in_the_public_key_fails_verification(pair: KeyPair, index: int, bit: int) -> None:
    signature = sign(pair.private_key, MESSAGE)
    assert verify(flip_bit(pair.public_key, index, bit), MESSAGE, signature) is False


def test_an_appended_byte_fails_verification(pair: KeyPair) -> None:
    signature = sign(pair.private_key, MESSAGE)
    assert verify(pair.public_key, MESSAGE + b"\n", signature) is False


@pytest.mark.parametrize(
    ("public_key", "signature"),
    [
        (b"", b""),
        (b"", "good"),
        ("good", b""),
        (b"\0" * 31, "good"),
        (b"\0" * 33, "good"),
        ("good", b"\0" * 63),
        ("good", b"\0" * 65),
        ("good", b"\0" * 64),
        ("good", b"\xff" * 64),
        (b"\0" * 32, "good"),
        (b"\xff" * 32, "good"),
        ("hex", "good"),
        ("good", "hex"),
        (None, "good"),
        ("good", None),
    ],
)
def test_verify_says_false_rather_than_raising_on_garbage(pair: KeyPair, public_key: object, signature: object) -> None:
    good_signature = sign(pair.private_key, MESSAGE)
    if public_key == "good":
        public_key = pair.public_key
    elif public_key == "hex":
        public_key = pair.public_key.hex()
    if signature == "good":
        signature = good_signature
    elif signature == "hex":
        signature = good_signature.hex()
    assert verify(public_key, MESSAGE, signature) is False  # type: ignore[arg-type]


def test_verify_says_false_for_a_message_that_is_not_bytes(pair: KeyPair) -> None:
    signature = sign(pair.private_key, MESSAGE)
    assert verify(pair.public_key, MESSAGE.decode(), signature) is False  # type: ignore[arg-type]


def test_signing_refuses_a_private_key_of_the_wrong_size() -> None:
    with pytest.raises(ValueError):
        sign(b"\1" * 31, MESSAGE)
    with pytest.raises(ValueError):
        sign(b"", MESSAGE)


# Sealing private keys under a PIN --------------------------------------------------------------------


def test_a_sealed_key_opens_with_its_pin(pair: KeyPair, sealed: str) -> None:
    assert open_private_key(sealed, PIN) == pair.private_key


def test_a_sealed_key_is_a_compact_token_with_its_parameters(sealed: str) -> None:
    match = TOKEN_SHAPE.fullmatch(sealed)
    assert match, sealed
    assert match.group(1) == "10"
    assert len(unb64(match.group(2))) == 16
    assert len(unb64(match.group(3))) == 12 + 32 + 16


def test_the_default_scrypt_cost_is_2_to_the_15(pair: KeyPair) -> None:
    assert inspect.signature(seal_private_key).parameters["n_log2"].default == 15
    token = seal_private_key(pair.private_key, PIN)
    assert token.startswith("v1$scrypt$15$8$1$")
    assert open_private_key(token, PIN) == pair.private_key


def test_the_token_follows_the_documented_recipe(pair: KeyPair, sealed: str) -> None:
    _, _, n, r, p, salt, blob = sealed.split("$")
    data = unb64(blob)
    kek = Scrypt(salt=unb64(salt), length=32, n=2 ** int(n), r=int(r), p=int(p)).derive(PIN.encode())
    assert AESGCM(kek).decrypt(data[:12], data[12:], b"jishi-signing-key-v1") == pair.private_key


def test_a_hand_made_token_with_the_default_parameters_opens(pair: KeyPair, sealed: str) -> None:
    token = hand_made_token(pair.private_key, PIN, n_log2=FAST, r=8, p=1, padded=uses_padding(sealed))
    assert open_private_key(token, PIN) == pair.private_key


def test_a_hand_made_token_with_other_scrypt_parameters_opens(pair: KeyPair, sealed: str) -> None:
    token = hand_made_token(pair.private_key, PIN, n_log2=11, r=4, p=2, padded=uses_padding(sealed))
    assert open_private_key(token, PIN) == pair.private_key


def test_a_token_sealed_under_other_associated_data_is_refused(pair: KeyPair, sealed: str) -> None:
    salt, nonce = os.urandom(16), os.urandom(12)
    kek = Scrypt(salt=salt, length=32, n=2**FAST, r=8, p=1).derive(PIN.encode())
    blob = nonce + AESGCM(kek).encrypt(nonce, pair.private_key, b"some-other-purpose")
    with pytest.raises(WrongPin):
        padded = uses_padding(sealed)
        open_private_key(f"v1$scrypt${FAST}$8$1${b64(salt, padded=padded)}${b64(blob, padded=padded)}", PIN)


@pytest.mark.parametrize("wrong", ["839202", "83920", "8392011", "", " 839201", "839201 ", "８３９２０１"])
def test_a_wrong_pin_is_refused(sealed: str, wrong: str) -> None:
    with pytest.raises(WrongPin):
        open_private_key(sealed, wrong)


def test_a_wrong_pin_is_not_a_value_error(sealed: str) -> None:
    with pytest.raises(WrongPin) as caught:
        open_private_key(sealed, "000001")
    assert not isinstance(caught.value, ValueError)


def test_two_seals_of_the_same_key_and_pin_differ(pair: KeyPair, sealed: str) -> None:
    again = seal_private_key(pair.private_key, PIN, n_log2=FAST)
    assert again != sealed
    salt_a, blob_a = sealed.split("$")[5:]
    salt_b, blob_b = again.split("$")[5:]
    assert salt_a != salt_b
    assert unb64(blob_a)[:12] != unb64(blob_b)[:12]
    assert open_private_key(again, PIN) == open_private_key(sealed, PIN)


def test_the_pin_is_nfc_normalized_before_deriving_the_key(pair: KeyPair) -> None:
    composed = "caf\u00e9\u00e91"
    decomposed = "cafe\u0301e\u03011"
    assert composed != decomposed
    assert unicodedata.normalize("NFC", decomposed) == composed
    assert open_private_key(seal_private_key(pair.private_key, composed, n_log2=FAST), decomposed) == pair.private_key
    assert open_private_key(seal_private_key(pair.private_key, decomposed, n_log2=FAST), composed) == pair.private_key


def test_a_chinese_pin_round_trips(pair: KeyPair) -> None:
    token = seal_private_key(pair.private_key, "纪实签名口令", n_log2=FAST)
    assert open_private_key(token, "纪实签名口令") == pair.private_key
    with pytest.raises(WrongPin):
        open_private_key(token, "纪实签名口今")


@pytest.mark.parametrize("position", [0, 11, 40, 79])
def test_a_changed_character_in_the_ciphertext_is_refused(sealed: str, position: int) -> None:
    blob = sealed.split("$")[6]
    tampered = replace_field(sealed, 6, change_char(blob, position))
    with pytest.raises((WrongPin, ValueError)):
        open_private_key(tampered, PIN)


@pytest.mark.parametrize("position", [0, 11, 20])
def test_a_changed_character_in_the_salt_means_the_pin_no_longer_opens_it(sealed: str, position: int) -> None:
    salt = sealed.split("$")[5]
    with pytest.raises(WrongPin):
        open_private_key(replace_field(sealed, 5, change_char(salt, position)), PIN)


def test_non_canonical_base64_in_the_salt_is_refused(sealed: str) -> None:
    # 16 bytes take 22 characters; the last one carries 4 unused bits, which must be zero.
    salt = sealed.split("$")[5]
    body, padding = salt.rstrip("="), salt[len(salt.rstrip("=")) :]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    sloppy = body[:-1] + alphabet[alphabet.index(body[-1]) | 1] + padding
    assert unb64(sloppy) == unb64(salt)
    with pytest.raises(ValueError):
        open_private_key(replace_field(sealed, 5, sloppy), PIN)


@pytest.mark.parametrize(("index", "value"), [(2, "11"), (3, "4"), (4, "2")])
def test_a_changed_scrypt_parameter_means_the_pin_no_longer_opens_it(sealed: str, index: int, value: str) -> None:
    with pytest.raises(WrongPin):
        open_private_key(replace_field(sealed, index, value), PIN)


@pytest.mark.parametrize("n", ["9", "21", "0", "", "010", "+10", "1_0", "١٠", "10 ", "99999"])
def test_a_token_with_an_out_of_range_or_odd_cost_is_malformed(sealed: str, n: str) -> None:
    with pytest.raises(ValueError):
        open_private_key(replace_field(sealed, 2, n), PIN)


@pytest.mark.parametrize(("r", "p"), [("0", "1"), ("33", "1"), ("16", "1"), ("8", "0"), ("8", "17")])
def test_a_token_with_out_of_range_r_or_p_is_malformed(sealed: str, r: str, p: str) -> None:
    # r=16 with N=2**10 is fine for memory, so raise N to 2**20 to exceed the 1 GiB cap.
    token = replace_field(replace_field(sealed, 3, r), 4, p)
    if r == "16":
        token = replace_field(token, 2, "20")
    with pytest.raises(ValueError):
        open_private_key(token, PIN)


def malformed_tokens(sealed: str) -> list[str]:
    salt, blob = sealed.split("$")[5:]
    return [
        "",
        "v1",
        sealed + "$",
        sealed.replace("$", "$$", 1),
        replace_field(sealed, 0, "v2"),
        replace_field(sealed, 0, "V1"),
        replace_field(sealed, 1, "pbkdf2"),
        replace_field(sealed, 5, ""),
        replace_field(sealed, 5, salt[:-1]),
        replace_field(sealed, 5, salt + "AA"),
        replace_field(sealed, 5, salt + "===="),
        replace_field(sealed, 5, salt[:3] + "+" + salt[4:]),
        replace_field(sealed, 6, blob[:-4]),
        replace_field(sealed, 6, blob + "AAAA"),
        replace_field(sealed, 6, blob[:40] + "/" + blob[41:]),
        replace_field(sealed, 6, blob[:40] + "é" + blob[41:]),
        sealed + "\n",
        " " + sealed,
    ]


def test_malformed_tokens_are_value_errors(sealed: str) -> None:
    for token in malformed_tokens(sealed):
        with pytest.raises(ValueError):
            open_private_key(token, PIN)


def test_a_token_that_is_not_a_string_is_a_value_error(sealed: str) -> None:
    with pytest.raises(ValueError):
        open_private_key(sealed.encode(), PIN)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        open_private_key(None, PIN)  # type: ignore[arg-type]


@pytest.mark.parametrize("n_log2", [9, 21, 0, -1])
def test_sealing_refuses_a_cost_outside_2_to_the_10_through_2_to_the_20(pair: KeyPair, n_log2: int) -> None:
    with pytest.raises(ValueError):
        seal_private_key(pair.private_key, PIN, n_log2=n_log2)


def test_sealing_refuses_a_private_key_of_the_wrong_size() -> None:
    with pytest.raises(ValueError):
        seal_private_key(b"\1" * 31, PIN, n_log2=FAST)
    with pytest.raises(ValueError):
        seal_private_key(b"\1" * 64, PIN, n_log2=FAST)


# PIN rules -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pin", ["839201", "802931", "123457", "112233", "abcdef", "纪实签名口令", "839201839201", "1234a6", "135791"]
)
def test_a_reasonable_pin_is_accepted(pin: str) -> None:
    assert validate_pin(pin) is None


@pytest.mark.parametrize(
    "pin",
    [
        "111111",
        "000000000000",
        "123456",
        "654321",
        "234567",
        "456789",
        "987654",
        "890123",
        "1234567890",
        "0987654321",
        "１２３４５６",
        "１１１１１１",
    ],
)
def test_a_repeated_or_sequential_digit_pin_is_refused(pin: str) -> None:
    with pytest.raises(ValueError, match="签名口令"):
        validate_pin(pin)


@pytest.mark.parametrize("pin", ["", "8", "83920", "8392018392018", "ab", "a" * 13])
def test_a_pin_shorter_than_6_or_longer_than_12_is_refused(pin: str) -> None:
    with pytest.raises(ValueError, match="6至12位"):
        validate_pin(pin)


def test_pin_length_is_counted_after_nfc_normalization() -> None:
    decomposed = "e\u0301" * 6  # 12 code points, 6 after NFC
    validate_pin(decomposed)
    with pytest.raises(ValueError):
        validate_pin("e\u0301" * 5)  # 10 code points, but only 5 characters


def test_the_pin_rule_message_is_chinese() -> None:
    with pytest.raises(ValueError) as caught:
        validate_pin("12345")
    assert str(caught.value) == "签名口令须为6至12位，且不能是连续或重复的数字。"


# Signed message bytes --------------------------------------------------------------------------------


def test_the_event_signature_message_is_exactly_the_documented_bytes() -> None:
    h = "0f" * 32
    message = event_signature_message(fonds="J001", seq=42, event_hash=h, role="纪检监察")
    assert message == f"jishi-sign-v1\nJ001\n42\n{h}\n纪检监察".encode()
    assert message == b"jishi-sign-v1\nJ001\n42\n" + h.encode() + b"\n" + bytes.fromhex("e7baaa e6a380 e79b91 e5af9f")


def test_the_checkpoint_message_is_exactly_the_documented_bytes() -> None:
    root = "a1" * 32
    message = checkpoint_message(
        fonds="J001", tree_size=7, root_hex=root, timestamp="2026-11-27T09:00:00+08:00", algorithm="sm3"
    )
    assert message == (b"jishi-checkpoint-v1\nJ001\n7\nsm3\n" + root.encode() + b"\n2026-11-27T09:00:00+08:00")


def test_each_field_changes_the_event_signature_message() -> None:
    base = {"fonds": "J001", "seq": 1, "event_hash": "ab" * 32, "role": "system"}
    changes = {"fonds": "J002", "seq": 2, "event_hash": "ac" * 32, "role": "inspector"}
    original = event_signature_message(**base)  # type: ignore[arg-type]
    for name, value in changes.items():
        assert event_signature_message(**{**base, name: value}) != original  # type: ignore[arg-type]


def test_a_signed_event_message_verifies_and_a_checkpoint_message_for_the_same_data_does_not(pair: KeyPair) -> None:
    h = "cd" * 32
    event_message = event_signature_message(fonds="J001", seq=3, event_hash=h, role="system")
    signature = sign(pair.private_key, event_message)
    assert verify(pair.public_key, event_message, signature)
    other = checkpoint_message(fonds="J001", tree_size=3, root_hex=h, timestamp="system", algorithm="sha256")
    assert not verify(pair.public_key, other, signature)


def test_the_message_builders_format_odd_fields_verbatim_rather_than_raising() -> None:
    # The verifier rebuilds messages from possibly tampered rows: it needs bytes (and a failed check), not an error.
    assert (
        event_signature_message(fonds="", seq=-1, event_hash="AB\n", role="a\nb") == b"jishi-sign-v1\n\n-1\nAB\n\na\nb"
    )
    assert checkpoint_message(fonds="J", tree_size=0, root_hex="", timestamp="", algorithm="x") == (
        b"jishi-checkpoint-v1\nJ\n0\nx\n\n"
    )


# Standalone --------------------------------------------------------------------------------------------


def test_the_module_imports_only_the_standard_library_and_cryptography() -> None:
    tree = ast.parse(Path(signing.__file__).read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports"
            assert node.module is not None
            roots.add(node.module.split(".")[0])
    assert "cryptography" in roots
    assert {root for root in roots if root not in sys.stdlib_module_names} == {"cryptography"}


def test_the_module_runs_without_django() -> None:
    script = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('standalone_signing', {signing.__file__!r})\n"
        "mod = importlib.util.module_from_spec(spec)\n"
        "sys.modules[spec.name] = mod\n"
        "spec.loader.exec_module(mod)\n"
        "pair = mod.generate_keypair()\n"
        "token = mod.seal_private_key(pair.private_key, '839201', n_log2=10)\n"
        "key = mod.open_private_key(token, '839201')\n"
        "assert mod.verify(pair.public_key, b'x', mod.sign(key, b'x'))\n"
        "assert not any(name == 'django' or name.startswith(('django.', 'jishi')) for name in sys.modules)\n"
        "print('ok')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
