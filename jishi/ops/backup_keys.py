"""The encrypted key archive of a backup (``keys.enc``): secrets, unit certificates, production env secrets.

Why encrypted: these files open the unit's system signing keys, personal data at rest and the PDF-signing
certificates, so a backup copied onto a USB disk must not hand them over. The archive is a tar in memory,
sealed with AES-256-GCM under a key derived from the operator's passphrase with scrypt; the header (format,
scrypt cost, salt, nonce) is authenticated as associated data, so a wrong passphrase and a changed byte
fail the same way — before anything is written.
"""

from __future__ import annotations

import getpass
import io
import os
import secrets
import struct
import sys
import tarfile
from pathlib import Path, PurePosixPath

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.core.management.base import CommandError

MAGIC = b"JISHIKEY1"
SCRYPT_N_LOG2 = 17  # 128 MiB, under a second; tests lower it
SCRYPT_R, SCRYPT_P = 8, 1
MIN_PASSPHRASE = 12
_HEADER = struct.Struct(f">{len(MAGIC)}sBBB16s12s")  # magic, log2 n, r, p, salt, nonce
# Secrets that production takes from the environment (settings.secret); without JISHI_FIELD_KEY a
# restored installation can neither sign checkpoints nor read ID numbers.
ENV_SECRETS = ("JISHI_SECRET_KEY", "JISHI_FIELD_KEY", "JISHI_DOCUMENT_CERT_PASSPHRASE")
SECTIONS = ("secrets", "certs", "env")


def passphrase(env_name: str, *, new: bool) -> str:
    """The passphrase from ``env_name``, else asked on the terminal without echo (twice for a new backup)."""
    value = os.environ.get(env_name)
    source = f"（环境变量 {env_name} 中的口令太短）" if value is not None else ""
    if value is None:
        if not sys.stdin.isatty():
            raise CommandError(f"未设置环境变量 {env_name}，又不在终端中运行，无法询问备份口令。")
        value = getpass.getpass("备份口令：")
        if new and getpass.getpass("再输入一次备份口令：") != value:
            raise CommandError("两次输入的备份口令不一致，未做任何备份。")
    if new and len(value) < MIN_PASSPHRASE:
        raise CommandError(f"备份口令至少 {MIN_PASSPHRASE} 个字符{source}，未做任何备份。")
    return value


def _key(phrase: str, salt: bytes, n_log2: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=2**n_log2, r=r, p=p).derive(phrase.encode("utf-8"))


def collect(secrets_dir: Path, cert_dir: Path) -> dict[str, bytes]:
    """Archive members: ``secrets/…``, ``certs/…`` and ``env/NAME`` for env-provided production secrets."""
    members: dict[str, bytes] = {}
    for section, root in (("secrets", secrets_dir), ("certs", cert_dir)):
        if root.is_dir():
            # Files an earlier restore set aside (``install``) are not keys in use.
            for path in sorted(p for p in root.rglob("*") if p.is_file() and ".before-restore-" not in p.name):
                members[f"{section}/{path.relative_to(root).as_posix()}"] = path.read_bytes()
    for name in ENV_SECRETS:
        if os.environ.get(name):
            members[f"env/{name}"] = os.environ[name].encode("utf-8")
    return members


def seal(members: dict[str, bytes], phrase: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o600
            tar.addfile(info, io.BytesIO(data))
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    header = _HEADER.pack(MAGIC, SCRYPT_N_LOG2, SCRYPT_R, SCRYPT_P, salt, nonce)
    key = _key(phrase, salt, SCRYPT_N_LOG2, SCRYPT_R, SCRYPT_P)
    return header + AESGCM(key).encrypt(nonce, buffer.getvalue(), header)


def unseal(blob: bytes, phrase: str) -> dict[str, bytes]:
    """The archive's members; CommandError on a wrong passphrase or a damaged or foreign file."""
    try:
        magic, n_log2, r, p, salt, nonce = _HEADER.unpack_from(blob)
    except struct.error:
        raise CommandError("keys.enc 不是纪实密钥包（文件太短）。") from None
    # Bounded so that a doctored header cannot make scrypt exhaust memory.
    if magic != MAGIC or not (14 <= n_log2 <= 22 and 1 <= r <= 32 and 1 <= p <= 16):
        raise CommandError("keys.enc 不是纪实密钥包或格式版本不支持。")
    header = blob[: _HEADER.size]
    try:
        plain = AESGCM(_key(phrase, salt, n_log2, r, p)).decrypt(nonce, blob[_HEADER.size :], header)
    except InvalidTag:
        raise CommandError("备份口令错误（或 keys.enc 已损坏）：未恢复任何内容。") from None
    members: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(plain), mode="r") as tar:
        for info in tar.getmembers():
            path = PurePosixPath(info.name)
            if not info.isfile() or path.is_absolute() or ".." in path.parts or path.parts[0] not in SECTIONS:
                raise CommandError(f"keys.enc 含有不允许的条目 {info.name}：未恢复任何内容。")
            extracted = tar.extractfile(info)
            members[info.name] = extracted.read() if extracted else b""
    return members


def install(members: dict[str, bytes], secrets_dir: Path, cert_dir: Path, stamp: str) -> list[str]:
    """Write the members into place; a different file already there is kept as ``<name>.before-restore-…``."""
    notes: list[str] = []
    env_lines = []
    for name, data in members.items():
        section, _, rest = name.partition("/")
        if section == "env":
            env_lines.append(f"{rest}={data.decode('utf-8')}\n")
            continue
        target = (secrets_dir if section == "secrets" else cert_dir) / rest
        _write(target, data, stamp)
    if env_lines:
        target = secrets_dir / "restored.env"
        _write(target, "".join(env_lines).encode("utf-8"), stamp)
        notes.append(
            f"生产环境的密钥（{', '.join(line.split('=', 1)[0] for line in env_lines)}）已写入 {target}："
            "请放入服务的环境配置，然后删除该文件。"
        )
    return notes


def _write(target: Path, data: bytes, stamp: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if target.exists():
        if target.read_bytes() == data:
            return
        target.rename(target.with_name(f"{target.name}.before-restore-{stamp}"))
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
