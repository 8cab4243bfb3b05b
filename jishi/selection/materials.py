"""Content-addressed storage of uploaded material files (path = sha256), with upload checks.

The type is sniffed from the content (magic bytes, and for ZIP containers the part that defines the
format); the name's extension must agree, so a renamed executable or a mislabeled scan is refused. A ZIP
container (DOCX, XLSX, OFD) is first checked by ``jishi.core.safe_zip`` (bombs, zip slip, links, macros).
The file is written to a temporary file, fsynced and renamed into place (or uploaded to the object
store) before the caller's database row commits: a crash can leave an unreferenced file (never shown
anywhere), never a row without a file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from jishi.core import safe_zip, storage
from jishi.core.exceptions import ApplicationError

# Sniffed type → (extensions it may carry, MIME type for downloads).
TYPES = {
    "pdf": ((".pdf",), "application/pdf"),
    "ofd": ((".ofd",), "application/ofd"),
    "docx": ((".docx",), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ((".xlsx",), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "jpeg": ((".jpg", ".jpeg"), "image/jpeg"),
    "png": ((".png",), "image/png"),
}
ACCEPTED = "只接受 PDF、OFD、Word（docx）、Excel（xlsx）、JPG、PNG 格式的文件。"


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    name: str
    kind: str


def zip_limits() -> safe_zip.ZipLimits:
    return safe_zip.ZipLimits(
        max_entries=settings.ZIP_MAX_ENTRIES,
        max_total_bytes=settings.ZIP_MAX_UNCOMPRESSED_BYTES,
        max_ratio=settings.ZIP_MAX_RATIO,
    )


def sniff(path: Path) -> str | None:
    """The file's real type from its content, or None when it is none of the accepted ones.

    Raises ``ApplicationError`` for a ZIP that is unsafe to keep (``jishi.core.safe_zip``)."""
    with path.open("rb") as fh:
        head = fh.read(16)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"PK\x03\x04"):
        try:
            return safe_zip.inspect(path, limits=zip_limits())
        except safe_zip.UnsafeZip as exc:
            raise ApplicationError(f"文件未接收：{exc.message}", code=exc.code) from None
    return None


def content_type(kind: str) -> str:
    return TYPES.get(kind, ((), "application/octet-stream"))[1]


def store(upload: Any) -> StoredFile:
    name = os.path.basename(str(getattr(upload, "name", "") or "")).strip()[:200]
    suffix = Path(name).suffix.lower()
    if not any(suffix in exts for exts, _ in TYPES.values()):
        raise ApplicationError(ACCEPTED, code="file_type", extra={"name": name})
    if int(getattr(upload, "size", 0) or 0) > settings.MATERIAL_MAX_BYTES:
        raise ApplicationError(
            f"文件超过 {settings.MATERIAL_MAX_BYTES // (1024 * 1024)} MB 的上限。", code="file_too_large"
        )
    # Same directory as the stored files, so the final rename is atomic; object stores upload from here.
    root = storage.local_root() or Path(settings.MEDIA_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with tempfile.NamedTemporaryFile(dir=root, prefix=".upload-", delete=False) as tmp:
        tmp_path = Path(tmp.name)
        try:
            for chunk in upload.chunks():
                size += len(chunk)
                if size > settings.MATERIAL_MAX_BYTES:
                    raise ApplicationError(
                        f"文件超过 {settings.MATERIAL_MAX_BYTES // (1024 * 1024)} MB 的上限。", code="file_too_large"
                    )
                digest.update(chunk)
                tmp.write(chunk)
            tmp.flush()
            os.fsync(tmp.fileno())
        except BaseException:
            tmp_path.unlink(missing_ok=True)
            raise
    try:
        if size == 0:
            raise ApplicationError("上传的文件是空的。", code="file_empty")
        kind = sniff(tmp_path)
        if kind is None:
            raise ApplicationError(f"无法识别文件内容。{ACCEPTED}", code="file_type")
        if suffix not in TYPES[kind][0]:
            raise ApplicationError(
                f"文件内容是 {kind.upper()}，与扩展名“{suffix}”不符，请上传真实的文件。", code="file_mismatch"
            )
    except ApplicationError:
        tmp_path.unlink(missing_ok=True)
        raise
    sha = digest.hexdigest()
    storage.put(sha, tmp_path)
    return StoredFile(sha256=sha, size=size, name=name, kind=kind)
