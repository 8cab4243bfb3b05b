"""Where content-addressed files live: MEDIA_ROOT/<first two hex>/<sha256>."""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.conf import settings


def path_for(sha256: str) -> Path:
    if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        raise ValueError("not a sha256 hex digest")
    return Path(settings.MEDIA_ROOT) / sha256[:2] / sha256


def file_problem(sha256: str) -> str | None:
    """None if the stored file exists and still hashes to its name; else what is wrong, in Chinese."""
    try:
        path = path_for(sha256)
    except ValueError:
        return f"材料摘要 {sha256[:16]}… 格式错误"
    if not path.exists():
        return f"材料文件 {sha256[:16]}… 不存在"
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != sha256:
        return f"材料文件 {sha256[:16]}… 内容已被改动（摘要不符）"
    return None
