"""Files of a backup directory: hashing while copying, the material store's files, and ``MANIFEST.json``.

The manifest lists every file of the backup with its sha256 and size, so a restore can refuse a backup
that lost, gained or changed a file (a bad USB disk, a half copy) before it touches the target.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError

MANIFEST = "MANIFEST.json"
FORMAT = "jishi-backup-1"
_MATERIAL = re.compile(r"([0-9a-f]{2})/(\1[0-9a-f]{62})")


def jishi_version() -> str:
    try:
        with (Path(settings.BASE_DIR) / "pyproject.toml").open("rb") as fh:
            return str(tomllib.load(fh)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def is_material(relative: str) -> bool:
    """``ab/ab…`` (64 hex): a stored material, not an in-flight ``.upload-…`` temporary file."""
    return _MATERIAL.fullmatch(relative) is not None


def material_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(``xx/sha``, path) of every stored material under a filesystem store's root."""
    if not root.is_dir():
        return
    for folder in sorted(root.iterdir()):
        if folder.is_dir() and len(folder.name) == 2:
            for path in sorted(folder.iterdir()):
                relative = f"{folder.name}/{path.name}"
                if path.is_file() and is_material(relative):
                    yield relative, path


def sha256_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def copy_hashing(source: Path, target: Path) -> tuple[str, int]:
    """Copy a file (fsynced) and return the sha256 and size of what was written."""
    digest, size = hashlib.sha256(), 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as src, target.open("wb") as dst:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    shutil.copymode(source, target)
    return digest.hexdigest(), size


def backup_files(directory: Path) -> list[str]:
    """Every file of a backup directory (posix relative paths), the manifest excluded."""
    found = []
    for folder, _dirs, files in os.walk(directory):
        for name in files:
            relative = (Path(folder) / name).relative_to(directory).as_posix()
            if relative != MANIFEST:
                found.append(relative)
    return sorted(found)


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    """Written last, atomically: a directory without it is an unfinished backup."""
    tmp = directory / f".{MANIFEST}.tmp"
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(manifest, fh, ensure_ascii=False, indent=2, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.rename(directory / MANIFEST)
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not directory.is_dir():
        raise CommandError(f"备份目录 {directory} 不存在。")
    if not path.is_file():
        raise CommandError(f"{MANIFEST} 不存在：{directory} 不是完整的纪实备份（备份可能未完成）。")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CommandError(f"{MANIFEST} 已损坏，无法读取：{exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CommandError(f"{MANIFEST} 不是 {FORMAT} 格式的纪实备份清单。")
    shape = {"files": dict, "database": dict, "keys": dict, "materials": dict, "chains": list}
    wrong = [key for key, kind in shape.items() if not isinstance(manifest.get(key), kind)]
    if not wrong:
        # Every file the restore opens must be one the manifest vouches for.
        opened = [manifest["database"].get("file"), manifest["keys"].get("file")]
        opened += [c.get("witness") for c in manifest["chains"] if isinstance(c, dict) and c.get("witness")]
        wrong = [str(name) for name in opened if name not in manifest["files"]]
        if manifest["database"].get("vendor") not in ("sqlite", "postgresql"):
            wrong.append("database.vendor")
        if not all(isinstance(c, dict) and {"fonds", "seq", "head_hash"} <= c.keys() for c in manifest["chains"]):
            wrong.append("chains")
    if wrong:
        raise CommandError(f"{MANIFEST} 已损坏：{', '.join(wrong)} 缺失或不合法。")
    return manifest


def check_files(directory: Path, manifest: dict[str, Any], progress: Callable[[int, int], None]) -> None:
    """Refuse (naming the files) when a listed file is missing or changed, or an unlisted one is present."""
    listed: dict[str, dict[str, Any]] = manifest.get("files", {})
    present = set(backup_files(directory))
    problems = [f"多出的文件 {name}（清单中没有）" for name in sorted(present - set(listed))]
    for done, (name, expected) in enumerate(sorted(listed.items()), start=1):
        path = directory / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            problems.append(f"清单中的路径 {name} 不合法")
        elif name not in present:
            problems.append(f"缺少文件 {name}")
        elif path.stat().st_size != expected.get("size"):
            problems.append(f"文件 {name} 的大小与清单不符（已被改动或截断）")
        elif sha256_file(path)[0] != expected.get("sha256"):
            problems.append(f"文件 {name} 的 sha256 与清单不符（已被改动）")
        progress(done, len(listed))
    if problems:
        shown = "；".join(problems[:10]) + (f"；另有 {len(problems) - 10} 处" if len(problems) > 10 else "")
        raise CommandError(f"备份未通过完整性检查，未恢复任何内容：{shown}")
