"""Content-addressed material files: name = ``<first two hex>/<sha256>`` in the ``materials`` storage.

The storage is a Django storage backend (``settings.STORAGES["materials"]``): the local filesystem under
MEDIA_ROOT by default, or an S3-compatible object store through django-storages. Files are never
overwritten — the same content has the same name, so a second upload of it is simply not written.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import IO

from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages


def name_for(sha256: str) -> str:
    if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        raise ValueError("not a sha256 hex digest")
    return f"{sha256[:2]}/{sha256}"


def material_storage() -> Storage:
    return storages["materials"]


def local_root() -> Path | None:
    """The directory of a filesystem storage (None for object stores)."""
    storage = material_storage()
    return Path(storage.location) if isinstance(storage, FileSystemStorage) else None


def path_for(sha256: str) -> Path:
    """Filesystem path of a stored file (filesystem storage only)."""
    root = local_root()
    if root is None:
        raise ValueError("materials storage is not a local filesystem")
    return root / name_for(sha256)


def exists(sha256: str) -> bool:
    return material_storage().exists(name_for(sha256))


def open_material(sha256: str) -> IO[bytes]:
    return material_storage().open(name_for(sha256), "rb")


def put(sha256: str, tmp_path: Path) -> None:
    """Move a verified, fsynced temporary file into the storage under its digest, never overwriting."""
    root = local_root()
    if root is not None:
        target = root / name_for(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            tmp_path.unlink()
            return
        os.replace(tmp_path, target)
        target.chmod(0o440)
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a crash
        finally:
            os.close(directory)
        return
    storage = material_storage()
    name = name_for(sha256)
    try:
        if not storage.exists(name):
            with tmp_path.open("rb") as fh:
                saved = storage.save(name, File(fh, name=name))
            if saved != name:  # a backend that renames on collision would break content addressing
                storage.delete(saved)
                raise RuntimeError(f"materials storage renamed {name} to {saved}; set file_overwrite=False")
    finally:
        tmp_path.unlink(missing_ok=True)


def file_problem(sha256: str) -> str | None:
    """None if the stored file exists and still hashes to its name; else what is wrong, in Chinese."""
    try:
        name = name_for(sha256)
    except ValueError:
        return f"材料摘要 {sha256[:16]}… 格式错误"
    storage = material_storage()
    if not storage.exists(name):
        return f"材料文件 {sha256[:16]}… 不存在"
    digest = hashlib.sha256()
    with storage.open(name, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != sha256:
        return f"材料文件 {sha256[:16]}… 内容已被改动（摘要不符）"
    return None
