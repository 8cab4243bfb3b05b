"""PAdES signatures on generated PDFs with the unit's document certificate (单位文书签章证书).

Each fonds (组织部门) has one PKCS#12 file ``DOCUMENT_CERT_DIR/<fonds>.p12`` protected by
``DOCUMENT_CERT_PASSPHRASE``. Production installs the certificate its CA issued (``documents cert-import``);
``make run`` creates a self-signed demonstration certificate (``documents cert-create``). Validation takes
the units' certificates as trust roots, so a reader can check a report offline.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.conf import settings
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from jishi.core.exceptions import ApplicationError

FIELD_NAME = "JishiUnitSeal"


def cert_path(fonds: str) -> Path:
    if not fonds.isalnum():
        raise ApplicationError("全宗号格式不正确。", code="invalid_fonds")
    return Path(settings.DOCUMENT_CERT_DIR) / f"{fonds}.p12"


def _passphrase() -> bytes:
    return str(settings.DOCUMENT_CERT_PASSPHRASE).encode()


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def certificate_create(*, fonds: str, unit_name: str, years: int = 5, replace: bool = False) -> x509.Certificate:
    """A self-signed document certificate for the unit (demonstration and closed intranets)."""
    path = cert_path(fonds)
    if path.exists() and not replace:
        raise ApplicationError(f"全宗 {fonds} 已有文书签章证书：{path}", code="cert_exists")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, unit_name),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, fonds),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{unit_name} 文书签章"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    data = pkcs12.serialize_key_and_certificates(
        fonds.encode(), key, cert, None, serialization.BestAvailableEncryption(_passphrase())
    )
    _write_private(path, data)
    return cert


def certificate_import(*, fonds: str, data: bytes, passphrase: bytes) -> x509.Certificate:
    """Install a CA-issued PKCS#12 for the unit, re-protected with the configured passphrase."""
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(data, passphrase)
    except ValueError as exc:
        raise ApplicationError(f"无法读取证书文件（口令错误或格式不对）：{exc}", code="bad_p12") from exc
    if key is None or cert is None:
        raise ApplicationError("证书文件中缺少私钥或证书。", code="bad_p12")
    out = pkcs12.serialize_key_and_certificates(
        fonds.encode(),
        key,  # type: ignore[arg-type]
        cert,
        chain or None,
        serialization.BestAvailableEncryption(_passphrase()),
    )
    _write_private(cert_path(fonds), out)
    return cert


def certificate(fonds: str) -> x509.Certificate | None:
    path = cert_path(fonds)
    if not path.exists():
        return None
    _, cert, _ = pkcs12.load_key_and_certificates(path.read_bytes(), _passphrase())
    return cert


def _signer(fonds: str) -> signers.SimpleSigner:
    path = cert_path(fonds)
    if not path.exists():
        raise ApplicationError(
            f"全宗 {fonds} 没有文书签章证书，无法签署 PDF。请运行 "
            f"python manage.py documents cert-create --fonds {fonds}（演示用自签名证书）"
            "或 documents cert-import 安装正式证书。",
            code="no_document_cert",
        )
    signer = signers.SimpleSigner.load_pkcs12(str(path), passphrase=_passphrase())
    if signer is None:
        raise ApplicationError(f"文书签章证书 {path} 无法打开（口令不符）。", code="bad_document_cert")
    return signer


def sign_pdf(pdf: bytes, *, fonds: str, reason: str, location: str) -> bytes:
    """Add a PAdES baseline signature covering the whole document."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        md_algorithm="sha256",
    )
    out = signers.sign_pdf(writer, meta, signer=_signer(fonds))
    return out.getvalue()


@dataclass(frozen=True)
class PdfCheck:
    signed: bool
    intact: bool
    trusted: bool
    whole_file: bool
    signer: str
    message: str

    @property
    def ok(self) -> bool:
        return self.signed and self.intact and self.trusted and self.whole_file


def trust_roots() -> list[asn1_x509.Certificate]:
    roots = []
    directory = Path(settings.DOCUMENT_CERT_DIR)
    for path in sorted(directory.glob("*.p12")) if directory.exists() else []:
        cert = certificate(path.stem)
        if cert is not None:
            roots.append(asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)))
    return roots


def check_pdf(pdf: bytes, roots: list[asn1_x509.Certificate] | None = None) -> PdfCheck:
    """Validate the PDF's signature against the units' certificates (or the roots given)."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf))
        signatures = reader.embedded_signatures
    except Exception as exc:  # pyHanko raises several types for damaged files
        return PdfCheck(False, False, False, False, "", f"无法解析 PDF：{exc}")
    if not signatures:
        return PdfCheck(False, False, False, False, "", "PDF 没有电子签章。")
    context = ValidationContext(trust_roots=roots if roots is not None else trust_roots())
    try:
        status = validate_pdf_signature(signatures[0], context)
    except Exception as exc:
        return PdfCheck(True, False, False, False, "", f"签章无法验证：{exc}")
    whole = status.coverage is not None and status.coverage.name == "ENTIRE_FILE"
    signer = status.signing_cert.subject.human_friendly if status.signing_cert else ""
    if not status.intact or not status.valid:
        message = "签章无效：签名后文件内容被改动。"
    elif not status.trusted:
        message = "签章完整，但签章证书不是本系统登记的单位证书。"
    elif not whole:
        message = "签章有效，但签名后文件又被追加了内容。"
    else:
        message = "签章有效，文件自签署后未被改动。"
    return PdfCheck(True, bool(status.intact and status.valid), bool(status.trusted), whole, signer, message)
