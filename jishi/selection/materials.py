"""Content-addressed storage of uploaded material files (path = sha256), with upload checks."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from jishi.core.exceptions import ApplicationError
from jishi.core.storage import path_for

# Extension → leading bytes a genuine file of that type starts with.
ALLOWED = {
    ".pdf": (b"%PDF-",),
    ".ofd": (b"PK\x03\x04",),
    ".docx": (b"PK\x03\x04",),
    ".xlsx": (b"PK\x03\x04",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
}


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    name: str


def store(upload: Any) -> StoredFile:
    name = os.path.basename(str(getattr(upload, "name", "") or ""))[:200]
    suffix = Path(name).suffix.lower()
    if suffix not in ALLOWED:
        raise ApplicationError(
            "只接受 PDF、OFD、Word（docx）、Excel（xlsx）、JPG、PNG 格式的文件。",
            code="file_type",
            extra={"name": name},
        )
    size = int(getattr(upload, "size", 0) or 0)
    if size == 0:
        raise ApplicationError("上传的文件是空的。", code="file_empty")
    if size > settings.MATERIAL_MAX_BYTES:
        limit = settings.MATERIAL_MAX_BYTES // (1024 * 1024)
        raise ApplicationError(f"文件超过 {limit} MB 的上限。", code="file_too_large")
    digest = hashlib.sha256()
    root = Path(settings.MEDIA_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    head = b""
    with tempfile.NamedTemporaryFile(dir=root, delete=False) as tmp:
        for chunk in upload.chunks():
            if len(head) < 16:
                head += chunk[:16]
            digest.update(chunk)
            tmp.write(chunk)
    if not any(head.startswith(magic) for magic in ALLOWED[suffix]):
        os.unlink(tmp.name)
        raise ApplicationError("文件内容与扩展名不符，请上传真实的文件。", code="file_mismatch")
    sha = digest.hexdigest()
    target = path_for(sha)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        os.unlink(tmp.name)
    else:
        os.replace(tmp.name, target)
        target.chmod(0o440)
    return StoredFile(sha256=sha, size=size, name=name)
