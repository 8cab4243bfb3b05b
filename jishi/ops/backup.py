"""``manage.py backup -o DIR``: one directory from which ``manage.py restore`` rebuilds an installation.

What is in a backup (layout of DIR):

- ``database/jishi.sqlite3`` or ``database/jishi.pgdump`` — the whole database as one consistent snapshot
  taken while the service runs (SQLite online backup API; ``pg_dump --format=custom --snapshot``): records,
  ledger events, signatures and checkpoints, users, sealed keys, and Django's sessions, which live there.
- ``materials/xx/<sha256>`` — every material file of the filesystem store (MEDIA_ROOT). Taken after the
  database, so every file the dump refers to is there (files are never overwritten, only added).
- ``keys.enc`` — ``VAR_DIR/secrets``, the unit certificates (DOCUMENT_CERT_DIR) and, when production sets
  them in the environment, JISHI_SECRET_KEY, JISHI_FIELD_KEY and JISHI_DOCUMENT_CERT_PASSPHRASE: one tar,
  AES-256-GCM under a scrypt key from the backup passphrase (``backup_keys``).
- ``witness/<fonds>.txt`` — a checkpoint signed at backup time for every chain (``ledger checkpoint``
  format; like that command, the backup adds the checkpoint to the ledger before the dump): a restore
  proves the restored ledger extends it.
- ``MANIFEST.json`` — sha256 and size of every file, Jishi version, database vendor, time, chain heads.

Not in a backup: materials in an object store (JISHI_MATERIAL_STORAGE=s3 — back the bucket up with the
store's own tools; the manifest says so), the in-memory cache (rebuilt on its own), static files (rebuilt by
``collectstatic``), the code and virtualenv, the rest of the service environment (DATABASE_URL, S3 keys),
PostgreSQL roles and grants (after a restore run ``ledger grant-app-role``), and upload temporaries.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, OutputWrapper
from django.db import connection, transaction

from jishi.core import storage
from jishi.ledger import selectors, services
from jishi.ledger.models import Chain

from . import backup_db, backup_files, backup_keys


def witness_name(fonds: str) -> str:
    return "witness/" + re.sub(r"[^A-Za-z0-9_.-]", "_", fonds) + ".txt"


def refuse_existing(out_dir: Path) -> None:
    """Never write into an earlier backup (or anything else): its files would be mixed with the new ones."""
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise CommandError(f"{out_dir} 已存在且不是空目录：请指定一个新目录，以免覆盖以前的备份。")


def run(out_dir: Path, phrase: str, stdout: OutputWrapper) -> dict[str, Any]:
    """Write the backup into the new directory ``out_dir``; returns the manifest."""
    refuse_existing(out_dir)
    if connection.in_atomic_block:
        # SQLite's backup API refuses (and Python retries forever) while this connection holds a write
        # transaction; PostgreSQL's snapshot must be the start of its own transaction.
        raise CommandError("备份须在事务之外运行（不能在其他操作的事务中调用）。")
    out_dir.mkdir(parents=True, exist_ok=True)
    out_dir.chmod(0o700)  # the dump holds personal data
    hashed: dict[str, dict[str, Any]] = {}

    witnesses = _witnesses(out_dir, stdout)
    stdout.write(f"数据库（{connection.vendor}）导出中 …")
    dump_name = backup_db.DUMP_NAMES.get(connection.vendor, "database/dump")
    heads = backup_db.dump(out_dir / dump_name)
    stdout.write(f"数据库已导出：{dump_name}，{len(heads)} 条链")

    materials = _materials(out_dir, hashed, stdout)

    members = backup_keys.collect(Path(settings.VAR_DIR) / "secrets", Path(settings.DOCUMENT_CERT_DIR))
    (out_dir / "keys.enc").write_bytes(backup_keys.seal(members, phrase))
    sections = {s: sum(1 for m in members if m.startswith(f"{s}/")) for s in backup_keys.SECTIONS}
    stdout.write(
        f"密钥包 keys.enc：密钥 {sections['secrets']} 个，证书文件 {sections['certs']} 个，"
        f"环境变量密钥 {sections['env']} 个（AES-256-GCM，口令派生 scrypt）"
    )

    for name in backup_files.backup_files(out_dir):
        if name not in hashed:
            sha, size = backup_files.sha256_file(out_dir / name)
            hashed[name] = {"sha256": sha, "size": size}
    for head in heads:
        witness = witnesses.get(head["fonds"])
        head["witness"] = witness[0] if witness else None
        head["witness_tree_size"] = witness[1] if witness else None
    manifest = {
        "format": backup_files.FORMAT,
        "jishi_version": backup_files.jishi_version(),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "database": {"vendor": connection.vendor, "file": dump_name},
        "materials": materials,
        "keys": {"file": "keys.enc", "cipher": "AES-256-GCM", "kdf": "scrypt", "entries": sorted(members)},
        "chains": heads,
        "files": hashed,
    }
    backup_files.write_manifest(out_dir, manifest)
    total = sum(f["size"] for f in hashed.values())
    stdout.write(f"清单 MANIFEST.json：{len(hashed)} 个文件，共 {total / 1048576:.1f} MB")
    return manifest


def _witnesses(out_dir: Path, stdout: OutputWrapper) -> dict[str, tuple[str, int]]:
    """Sign a checkpoint of every chain now and keep it as a witness file in the backup."""
    made: dict[str, tuple[str, int]] = {}
    for fonds in Chain.objects.order_by("fonds").values_list("fonds", flat=True):
        with transaction.atomic():
            chain = Chain.objects.select_for_update().get(fonds=fonds)
            checkpoint = services.checkpoint_create(chain=chain)
        name = witness_name(fonds)
        (out_dir / name).parent.mkdir(exist_ok=True)
        (out_dir / name).write_text(selectors.witness_for(checkpoint).to_text(), encoding="utf-8")
        made[fonds] = (name, checkpoint.tree_size)
        stdout.write(f"全宗 {fonds}：见证检查点 树大小 {checkpoint.tree_size}，根 {checkpoint.root[:16]}…")
    return made


def _materials(out_dir: Path, hashed: dict[str, dict[str, Any]], stdout: OutputWrapper) -> dict[str, Any]:
    root = storage.local_root()
    if root is None:
        note = "材料文件在对象存储中，不在本备份内：请用对象存储自身的工具另行备份（恢复时同样）。"
        stdout.write(note)
        return {"storage": settings.MATERIAL_STORAGE, "included": False, "note": note}
    files = list(backup_files.material_files(root))
    size = 0
    for done, (relative, path) in enumerate(files, start=1):
        name = f"materials/{relative}"
        sha, length = backup_files.copy_hashing(path, out_dir / name)
        hashed[name] = {"sha256": sha, "size": length}
        size += length
        if sha != path.name:
            stdout.write(f"\n警告：材料文件 {relative} 的内容与其摘要不符（存储中的文件已被改动），按原样备份。")
        if done % 100 == 0 or done == len(files):
            stdout.write(f"\r材料文件 {done}/{len(files)}", ending="\n" if done == len(files) else "")
            stdout.flush()
    stdout.write(f"材料文件已复制：{len(files)} 个，{size / 1048576:.1f} MB")
    return {"storage": "filesystem", "included": True, "count": len(files), "bytes": size}
